import Stripe from "stripe";
import type { PriceRec } from "../state.ts";

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
