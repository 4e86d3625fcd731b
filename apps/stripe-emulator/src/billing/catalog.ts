import type { EmulatorCore } from "../core.ts";
import { invalidRequest, missingParam } from "../errors.ts";
import { newId } from "../ids.ts";
import { buildPrice } from "../objects/prices.ts";
import { buildProduct } from "../objects/products.ts";
import { Params } from "../params.ts";
import type { Interval, PriceRec, ProductRec } from "../state.ts";

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
