import Stripe from "stripe";
import { type ApiError, invalidRequest } from "../errors.ts";
import type { PriceRec, TierRec } from "../state.ts";

/** The SDK models decimal strings as Decimal objects; they serialise back to plain strings. */
export function decimal(value: number): Stripe.Decimal {
  return Stripe.Decimal.from(String(value));
}

export function isTiered(rec: PriceRec): boolean {
  return rec.billing_scheme === "tiered";
}

/** The price's per-unit amount in `currency` (its `currency_options` entry for another currency). */
export function unitAmountIn(rec: PriceRec, currency: string): number {
  if (currency === rec.currency) return rec.unit_amount;
  return rec.currency_options?.[currency]?.unit_amount ?? rec.unit_amount;
}

/** Whether the price can be charged in `currency` (its own or one of its `currency_options`). */
export function hasCurrency(rec: PriceRec, currency: string): boolean {
  return rec.currency === currency || rec.currency_options?.[currency] !== undefined;
}

function tiersIn(rec: PriceRec, currency: string): TierRec[] {
  if (currency !== rec.currency) {
    const option = rec.currency_options?.[currency];
    if (option?.tiers) return option.tiers;
  }
  return rec.tiers ?? [];
}

/**
 * Stripe's largest amount, in minor units: 8 digits ($999,999.99). Larger charges, invoice totals, lines and
 * coupons are refused with `amount_too_large`.
 */
export const MAX_AMOUNT = 99_999_999;

/** `amount_too_large` naming `param`. */
export function amountTooLarge(message: string, param?: string): ApiError {
  return invalidRequest(message, param, "amount_too_large");
}

/** Exact `quantity × price` (BigInt), as in `priceAmount`. */
function exactPriceAmount(rec: PriceRec, quantity: number, currency: string): bigint {
  const q = BigInt(quantity);
  if (!isTiered(rec)) return BigInt(unitAmountIn(rec, currency)) * q;
  if (quantity <= 0) return 0n;
  const tiers = tiersIn(rec, currency);
  if (rec.tiers_mode === "volume") {
    const tier = tiers.find((t) => t.up_to === null || quantity <= t.up_to) ?? tiers[tiers.length - 1];
    return tier ? BigInt(tier.unit_amount) * q + BigInt(tier.flat_amount) : 0n;
  }
  let total = 0n;
  let lower = 0;
  for (const tier of tiers) {
    if (quantity <= lower) break;
    const upper = tier.up_to === null ? quantity : Math.min(quantity, tier.up_to);
    total += BigInt(tier.unit_amount) * BigInt(upper - lower) + BigInt(tier.flat_amount);
    if (tier.up_to === null) break;
    lower = tier.up_to;
  }
  return total;
}

/**
 * What `quantity` units of the price cost in `currency`: `unit_amount × quantity`, or by tiers —
 * `graduated`: each tier prices the units that fall into it (plus its flat amount once reached);
 * `volume`: the tier the whole quantity falls into prices every unit (plus its flat amount).
 * A quantity of 0 costs nothing in either mode. Computed exactly; never beyond safe integers (where
 * quantities come from a request, `checkedPriceAmount` refuses anything over `MAX_AMOUNT` first).
 */
export function priceAmount(rec: PriceRec, quantity: number, currency: string = rec.currency): number {
  const exact = exactPriceAmount(rec, quantity, currency);
  if (exact > BigInt(Number.MAX_SAFE_INTEGER)) throw amountTooLarge("The amount is too large.", "quantity");
  return Number(exact);
}

/** `priceAmount`, refusing (`amount_too_large` on `param`) an amount over Stripe's maximum. */
export function checkedPriceAmount(rec: PriceRec, quantity: number, currency: string, param: string): number {
  const exact = exactPriceAmount(rec, quantity, currency);
  if (exact > BigInt(MAX_AMOUNT)) {
    throw amountTooLarge(
      `The amount of ${quantity} × ${rec.id} (${exact} ${currency}) is greater than the maximum amount allowed (${MAX_AMOUNT}).`,
      param,
    );
  }
  return Number(exact);
}

function buildTiers(tiers: TierRec[]): Stripe.Price.Tier[] {
  return tiers.map((tier) => ({
    flat_amount: tier.flat_amount,
    flat_amount_decimal: decimal(tier.flat_amount),
    unit_amount: tier.unit_amount,
    unit_amount_decimal: decimal(tier.unit_amount),
    up_to: tier.up_to,
  }));
}

export function buildPrice(rec: PriceRec): Stripe.Price {
  const tiered = isTiered(rec);
  return {
    id: rec.id,
    object: "price",
    active: rec.active,
    billing_scheme: tiered ? "tiered" : "per_unit",
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
    tiers_mode: tiered ? (rec.tiers_mode ?? "graduated") : null,
    transform_quantity: null,
    type: rec.recurring ? "recurring" : "one_time",
    unit_amount: tiered ? null : rec.unit_amount,
    unit_amount_decimal: tiered ? null : decimal(rec.unit_amount),
  };
}

/** `tiers` and `currency_options`, which Stripe returns only when expanded (`expand[]=tiers`). */
export function priceIncludable(rec: PriceRec, key: string): unknown {
  if (key === "tiers") return isTiered(rec) ? buildTiers(rec.tiers ?? []) : undefined;
  if (key === "currency_options") {
    const options: Record<string, Stripe.Price.CurrencyOptions> = {
      [rec.currency]: {
        custom_unit_amount: null,
        tax_behavior: rec.tax_behavior,
        ...(isTiered(rec) ? { tiers: buildTiers(rec.tiers ?? []) } : {}),
        unit_amount: isTiered(rec) ? null : rec.unit_amount,
        unit_amount_decimal: isTiered(rec) ? null : decimal(rec.unit_amount),
      },
    };
    for (const [currency, option] of Object.entries(rec.currency_options ?? {})) {
      options[currency] = {
        custom_unit_amount: null,
        tax_behavior: option.tax_behavior,
        ...(option.tiers ? { tiers: buildTiers(option.tiers) } : {}),
        unit_amount: option.tiers ? null : option.unit_amount,
        unit_amount_decimal: option.tiers ? null : decimal(option.unit_amount),
      };
    }
    return options;
  }
  return undefined;
}

/** Legacy `plan` view of a recurring price, embedded in subscription items. */
export function buildPlan(rec: PriceRec): Stripe.Plan {
  const tiered = isTiered(rec);
  return {
    id: rec.id,
    object: "plan",
    active: rec.active,
    amount: tiered ? null : rec.unit_amount,
    amount_decimal: tiered ? null : decimal(rec.unit_amount),
    billing_scheme: tiered ? "tiered" : "per_unit",
    created: rec.created,
    currency: rec.currency,
    interval: rec.recurring?.interval ?? "month",
    interval_count: rec.recurring?.interval_count ?? 1,
    livemode: false,
    metadata: rec.metadata,
    meter: rec.recurring?.meter ?? null,
    nickname: rec.nickname,
    product: rec.product,
    tiers_mode: tiered ? (rec.tiers_mode ?? "graduated") : null,
    transform_usage: null,
    trial_period_days: rec.recurring?.trial_period_days ?? null,
    usage_type: rec.recurring?.usage_type ?? "licensed",
  };
}
