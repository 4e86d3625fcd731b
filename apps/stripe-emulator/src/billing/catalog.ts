import type { EmulatorCore } from "../core.ts";
import { invalidRequest, missingParam } from "../errors.ts";
import { newId } from "../ids.ts";
import { buildPrice } from "../objects/prices.ts";
import { buildProduct } from "../objects/products.ts";
import { Params } from "../params.ts";
import type { CurrencyOptionRec, Interval, PriceRec, ProductRec, TierRec } from "../state.ts";

export function createProduct(core: EmulatorCore, p: Params): ProductRec {
  const now = core.realNow();
  const id = p.str("id") ?? newId("prod", 14);
  if (core.state.products[id]) {
    throw invalidRequest(`Product already exists.`, "id", "resource_already_exists");
  }
  const rec: ProductRec = {
    id,
    seq: core.nextSeq(),
    created: now,
    updated: now,
    name: p.reqStr("name"),
    description: p.nullableStr("description") ?? null,
    active: p.bool("active") ?? true,
    metadata: p.metadata("metadata", {}),
    default_price: null,
    images: p.strList("images") ?? [],
    url: p.nullableStr("url") ?? null,
    unit_label: p.nullableStr("unit_label") ?? null,
    statement_descriptor: p.nullableStr("statement_descriptor") ?? null,
    tax_code: p.nullableStr("tax_code") ?? null,
    deleted: false,
  };
  core.state.products[rec.id] = rec;
  core.emit("product.created", buildProduct(rec));
  return rec;
}

const INTERVALS = ["day", "week", "month", "year"] as const satisfies readonly Interval[];

function parseUnitAmount(p: Params): number {
  const amount = p.int("unit_amount");
  if (amount !== undefined) {
    if (amount < 0) throw invalidRequest("Invalid unit_amount: must be at least 0", "unit_amount");
    return amount;
  }
  const dec = p.str("unit_amount_decimal");
  if (dec !== undefined) {
    const value = Number(dec);
    if (!Number.isInteger(value)) {
      throw invalidRequest(
        "The Stripe emulator only supports whole-cent unit_amount_decimal values.",
        "unit_amount_decimal",
      );
    }
    return value;
  }
  throw missingParam("unit_amount");
}

const TAX_BEHAVIORS = ["exclusive", "inclusive", "unspecified"] as const;

/** `tiers[]`: ascending `up_to`, the last one `inf`; each tier needs a unit or a flat amount. */
function parseTiers(list: Params[] | undefined, param: string): TierRec[] {
  if (!list || list.length === 0) throw missingParam(param);
  let previous = 0;
  return list.map((tier, index) => {
    const name = `${param}[${index}]`;
    const upTo = tier.reqStr("up_to");
    const last = index === list.length - 1;
    let bound: number | null = null;
    if (upTo === "inf") {
      if (!last) throw invalidRequest("Only the last tier can have `up_to` set to `inf`.", `${name}[up_to]`);
    } else {
      if (!/^\d+$/.test(upTo)) {
        throw invalidRequest(`Invalid integer: ${upTo}`, `${name}[up_to]`, "parameter_invalid_integer");
      }
      bound = Number(upTo);
      if (last) throw invalidRequest("The last tier must have `up_to` set to `inf`.", `${name}[up_to]`);
      if (bound <= previous) {
        throw invalidRequest(
          "Tiers must be sorted by `up_to`, each greater than the one before.",
          `${name}[up_to]`,
        );
      }
      previous = bound;
    }
    const unit = tier.int("unit_amount") ?? wholeDecimal(tier, "unit_amount_decimal", name);
    const flat = tier.int("flat_amount") ?? wholeDecimal(tier, "flat_amount_decimal", name);
    if (unit === undefined && flat === undefined) {
      throw invalidRequest("Each tier needs a `unit_amount` or a `flat_amount`.", `${name}[unit_amount]`);
    }
    return { up_to: bound, unit_amount: unit ?? 0, flat_amount: flat ?? 0 };
  });
}

function wholeDecimal(p: Params, key: string, prefix: string): number | undefined {
  const value = p.str(key);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw invalidRequest(
      "The Stripe emulator only supports whole-cent decimal amounts.",
      `${prefix}[${key}]`,
    );
  }
  return n;
}

function parseCurrencyOptions(
  p: Params,
  currency: string,
  tiered: boolean,
): Record<string, CurrencyOptionRec> | undefined {
  const options = p.obj("currency_options");
  if (!options) return undefined;
  const out: Record<string, CurrencyOptionRec> = {};
  for (const key of options.keys()) {
    const code = key.toLowerCase();
    const name = `currency_options[${key}]`;
    const option = options.obj(key);
    if (!option) throw invalidRequest(`Invalid hash: ${name}`, name);
    if (code === currency) {
      throw invalidRequest(`currency_options cannot include the price's own currency (${currency}).`, name);
    }
    const tiers = option.list("tiers");
    if (tiered !== (tiers !== undefined)) {
      throw invalidRequest(
        tiered
          ? `Missing required param: ${name}[tiers].`
          : `${name}[tiers] can only be set when billing_scheme=tiered.`,
        `${name}[tiers]`,
      );
    }
    out[code] = {
      unit_amount: tiered
        ? 0
        : (option.int("unit_amount") ??
          wholeDecimal(option, "unit_amount_decimal", name) ??
          missing(`${name}[unit_amount]`)),
      tiers: tiered ? parseTiers(tiers, `${name}[tiers]`) : null,
      tax_behavior: option.oneOf("tax_behavior", TAX_BEHAVIORS) ?? "unspecified",
    };
  }
  return out;
}

function missing(param: string): never {
  throw missingParam(param);
}

export function createPrice(core: EmulatorCore, p: Params): PriceRec {
  const now = core.realNow();
  let productId = p.str("product");
  const productData = p.obj("product_data");
  if (!productId && productData) {
    productId = createProduct(core, new Params(productData.raw, "product_data")).id;
  }
  if (!productId) throw missingParam("product");
  core.product(productId, "product");
  const recurring = p.obj("recurring");
  let recurringRec: PriceRec["recurring"] = null;
  if (recurring) {
    const interval = recurring.oneOf("interval", INTERVALS);
    if (!interval) throw missingParam("recurring[interval]");
    const usage = recurring.oneOf("usage_type", ["licensed", "metered"] as const) ?? "licensed";
    const meter = recurring.str("meter") ?? null;
    if (usage === "metered" && meter !== null && !core.state.meters[meter]) {
      throw invalidRequest(`No such billing meter: '${meter}'`, "recurring[meter]", "resource_missing");
    }
    recurringRec = {
      interval,
      interval_count: recurring.int("interval_count") ?? 1,
      usage_type: usage,
      meter,
      trial_period_days: recurring.int("trial_period_days") ?? null,
    };
  }
  const tiered = p.oneOf("billing_scheme", ["per_unit", "tiered"] as const) === "tiered";
  const tiersMode = p.oneOf("tiers_mode", ["graduated", "volume"] as const);
  if (tiered) {
    if (!tiersMode) throw missingParam("tiers_mode");
    if (p.has("unit_amount") || p.has("unit_amount_decimal")) {
      throw invalidRequest(
        "You may only specify one of these parameters: unit_amount, tiers (a tiered price takes its amounts from its tiers).",
        p.has("unit_amount") ? "unit_amount" : "unit_amount_decimal",
      );
    }
  } else if (p.has("tiers") || tiersMode) {
    throw invalidRequest(
      "tiers and tiers_mode can only be set when billing_scheme=tiered.",
      p.has("tiers") ? "tiers" : "tiers_mode",
    );
  }
  const currency = p.reqStr("currency").toLowerCase();
  const lookupKey = p.str("lookup_key") ?? null;
  if (lookupKey !== null) {
    const holder = Object.values(core.state.prices).find((pr) => pr.lookup_key === lookupKey);
    if (holder) {
      if (p.bool("transfer_lookup_key")) holder.lookup_key = null;
      else {
        throw invalidRequest(
          `A price (\`${holder.id}\`) already uses that lookup key.`,
          "lookup_key",
          "lookup_key_already_used",
        );
      }
    }
  }
  const rec: PriceRec = {
    id: newId("price"),
    seq: core.nextSeq(),
    created: now,
    product: productId,
    currency,
    unit_amount: tiered ? 0 : parseUnitAmount(p),
    ...(tiered
      ? {
          billing_scheme: "tiered" as const,
          tiers_mode: tiersMode ?? "graduated",
          tiers: parseTiers(p.list("tiers"), "tiers"),
        }
      : {}),
    active: p.bool("active") ?? true,
    nickname: p.str("nickname") ?? null,
    lookup_key: lookupKey,
    metadata: p.metadata("metadata", {}),
    recurring: recurringRec,
    tax_behavior: p.oneOf("tax_behavior", TAX_BEHAVIORS) ?? "unspecified",
  };
  const currencyOptions = parseCurrencyOptions(p, currency, tiered);
  if (currencyOptions) rec.currency_options = currencyOptions;
  core.state.prices[rec.id] = rec;
  core.emit("price.created", buildPrice(rec));
  return rec;
}
