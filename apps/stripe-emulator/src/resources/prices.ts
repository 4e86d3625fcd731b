import Stripe from "stripe";
import { type EmulatorCore, paginate } from "../core.ts";
import { invalidRequest, missingParam } from "../errors.ts";
import { newId } from "../ids.ts";
import { Params } from "../params.ts";
import type { Router } from "../router.ts";
import { searchRecords } from "../search.ts";
import type { Interval, PriceRec } from "../state.ts";
import { createProduct } from "./products.ts";

const INTERVALS = ["day", "week", "month", "year"] as const satisfies readonly Interval[];

/** The SDK models decimal strings as Decimal objects; they serialise back to plain strings. */
export function decimal(value: number): Stripe.Decimal {
  return Stripe.Decimal.from(String(value));
}

export function buildPrice(rec: PriceRec): Stripe.Price {
  return {
    id: rec.id,
    object: "price",
    active: rec.active,
    billing_scheme: "per_unit",
    created: rec.created,
    currency: rec.currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: rec.lookup_key,
    metadata: rec.metadata,
    nickname: rec.nickname,
    product: rec.product,
    recurring: rec.recurring
      ? {
          interval: rec.recurring.interval,
          interval_count: rec.recurring.interval_count,
          meter: rec.recurring.meter,
          trial_period_days: rec.recurring.trial_period_days,
          usage_type: rec.recurring.usage_type,
        }
      : null,
    tax_behavior: rec.tax_behavior,
    tiers_mode: null,
    transform_quantity: null,
    type: rec.recurring ? "recurring" : "one_time",
    unit_amount: rec.unit_amount,
    unit_amount_decimal: decimal(rec.unit_amount),
  };
}

/** Legacy `plan` view of a recurring price, embedded in subscription items. */
export function buildPlan(rec: PriceRec): Stripe.Plan {
  return {
    id: rec.id,
    object: "plan",
    active: rec.active,
    amount: rec.unit_amount,
    amount_decimal: decimal(rec.unit_amount),
    billing_scheme: "per_unit",
    created: rec.created,
    currency: rec.currency,
    interval: rec.recurring?.interval ?? "month",
    interval_count: rec.recurring?.interval_count ?? 1,
    livemode: false,
    metadata: rec.metadata,
    meter: rec.recurring?.meter ?? null,
    nickname: rec.nickname,
    product: rec.product,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: rec.recurring?.trial_period_days ?? null,
    usage_type: rec.recurring?.usage_type ?? "licensed",
  };
}

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
  const billingScheme = p.str("billing_scheme");
  if (billingScheme && billingScheme !== "per_unit") {
    throw invalidRequest("The Stripe emulator only supports per_unit prices.", "billing_scheme");
  }
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
    currency: p.reqStr("currency").toLowerCase(),
    unit_amount: parseUnitAmount(p),
    active: p.bool("active") ?? true,
    nickname: p.str("nickname") ?? null,
    lookup_key: lookupKey,
    metadata: p.metadata("metadata", {}),
    recurring: recurringRec,
    tax_behavior:
      p.oneOf("tax_behavior", ["exclusive", "inclusive", "unspecified"] as const) ?? "unspecified",
  };
  core.state.prices[rec.id] = rec;
  core.emit("price.created", buildPrice(rec));
  return rec;
}

const MUTABLE_PRICE_FIELDS = new Set([
  "active",
  "metadata",
  "nickname",
  "lookup_key",
  "transfer_lookup_key",
  "tax_behavior",
  "expand",
  "currency_options",
]);

export function registerPrices(router: Router): void {
  router.post("/v1/prices", ({ core, p }) => buildPrice(createPrice(core, p)));

  router.get("/v1/prices", ({ core, p, url }) => {
    const product = p.str("product");
    const active = p.bool("active");
    const type = p.str("type");
    const currency = p.str("currency");
    const lookupKeys = p.strList("lookup_keys");
    const interval = p.obj("recurring")?.str("interval");
    const items = Object.values(core.state.prices).filter(
      (price) =>
        (product === undefined || price.product === product) &&
        (active === undefined || price.active === active) &&
        (type === undefined || (type === "recurring") === (price.recurring !== null)) &&
        (currency === undefined || price.currency === currency) &&
        (lookupKeys === undefined || (price.lookup_key !== null && lookupKeys.includes(price.lookup_key))) &&
        (interval === undefined || price.recurring?.interval === interval),
    );
    return paginate(items, p, url, buildPrice);
  });

  router.get("/v1/prices/search", ({ core, p, url }) =>
    searchRecords(
      Object.values(core.state.prices),
      p,
      url,
      (price, field) => {
        if (field === "active") return String(price.active);
        if (field === "lookup_key") return price.lookup_key;
        if (field === "product") return price.product;
        if (field === "currency") return price.currency;
        if (field === "type") return price.recurring ? "recurring" : "one_time";
        return undefined;
      },
      buildPrice,
    ),
  );

  router.get("/v1/prices/:id", ({ core, path }) => buildPrice(core.price(path.id ?? "", "id")));

  router.post("/v1/prices/:id", ({ core, p, path }) => {
    const rec = core.price(path.id ?? "", "id");
    for (const key of p.keys()) {
      if (!MUTABLE_PRICE_FIELDS.has(key)) {
        // Prices are immutable in Stripe: amount, currency, interval and product cannot change.
        throw invalidRequest(`Received unknown parameter: ${key}`, key, "parameter_unknown");
      }
    }
    const before = buildPrice(rec);
    if (p.has("active")) rec.active = p.bool("active") ?? rec.active;
    if (p.has("nickname")) rec.nickname = p.nullableStr("nickname") ?? null;
    if (p.has("lookup_key")) {
      const lookupKey = p.nullableStr("lookup_key") ?? null;
      if (lookupKey !== null) {
        const holder = Object.values(core.state.prices).find(
          (pr) => pr.lookup_key === lookupKey && pr.id !== rec.id,
        );
        if (holder) {
          if (p.bool("transfer_lookup_key")) holder.lookup_key = null;
          else throw invalidRequest(`A price (\`${holder.id}\`) already uses that lookup key.`, "lookup_key");
        }
      }
      rec.lookup_key = lookupKey;
    }
    const taxBehavior = p.oneOf("tax_behavior", ["exclusive", "inclusive", "unspecified"] as const);
    if (taxBehavior) {
      if (rec.tax_behavior !== "unspecified" && rec.tax_behavior !== taxBehavior) {
        throw invalidRequest("tax_behavior cannot be changed once it is set.", "tax_behavior");
      }
      rec.tax_behavior = taxBehavior;
    }
    rec.metadata = p.metadata("metadata", rec.metadata);
    core.emitUpdate("price.updated", before, buildPrice(rec));
    return buildPrice(rec);
  });
}
