/**
 * Coupons and promotion codes: the terms of a discount, what it takes off a price, the ranges an admin may
 * set, the shape of a code customers type, and why a code is refused. Pure: the services gather the facts
 * (the coupon, its code, how often Stripe says they were redeemed, the package) and ask these functions.
 *
 * Rules (the same as Stripe's, which applies them to every invoice):
 * - `percent` off rounds half up on integer minor units (19.5 cents off is 20), per amount discounted;
 * - `amount` off is in one currency and applies only to prices in that currency;
 * - a discount never takes a price below zero.
 */
import { type Currency, type Money, money } from "./money";

export type CouponDuration = "once" | "repeating" | "forever";
export const COUPON_DURATIONS: readonly CouponDuration[] = ["once", "repeating", "forever"];

/** What a coupon takes off: a whole percentage (1-100) or an amount in one currency. */
export type DiscountOff = { kind: "percent"; percent: number } | { kind: "amount"; amount: Money };

export interface CouponTerms {
  off: DiscountOff;
  duration: CouponDuration;
  /** Months of a `repeating` coupon (1-36); null otherwise. */
  durationInMonths: number | null;
}

export const COUPON_LIMITS = {
  percentOff: { min: 1, max: 100 },
  /** Minor units: the most a package may cost (100,000.00), so an amount off is never more than a price. */
  amountOffCents: { min: 1, max: 100_000_00 },
  durationInMonths: { min: 1, max: 36 },
  maxRedemptions: { min: 1, max: 1_000_000 },
  /** An expiry is in the future and at most 5 years away (5 × 366 days). */
  expiryMaxDays: 5 * 366,
  nameMaxLength: 60,
} as const;

/**
 * A promotion code as Stripe accepts it: letters, digits, `-` and `_`. Minutely asks for 3 to 40 of them,
 * so codes are typeable and fit a Checkout page. Codes are case-insensitive: `SPRING-25` and `spring-25` are
 * the same code (Stripe matches them the same way), so no two codes may differ only in case.
 */
export const PROMOTION_CODE_PATTERN = /^[A-Za-z0-9_-]{3,40}$/;

/** The form a code is compared in (trimmed, upper case): unique across every code ever created. */
export function promotionCodeKey(code: string): string {
  return code.trim().toUpperCase();
}

/** What the coupon takes off `price`: never more than the price, nothing in another currency. */
export function discountAmount(price: Money, off: DiscountOff): Money {
  if (price.amount <= 0) return money(0, price.currency);
  if (off.kind === "percent") {
    // price × percent / 100, half up, on integers (exact: both factors are whole).
    const product = price.amount * off.percent;
    const rounded = Math.floor((product + 50) / 100);
    return money(Math.min(price.amount, rounded), price.currency);
  }
  if (off.amount.currency !== price.currency) return money(0, price.currency);
  return money(Math.min(price.amount, off.amount.amount), price.currency);
}

/** The price after the discount (never below zero). */
export function discountedPrice(price: Money, off: DiscountOff): Money {
  return money(price.amount - discountAmount(price, off).amount, price.currency);
}

/** Whether an amount-off coupon can discount a price at all (a percent off applies in any currency). */
export function discountAppliesToCurrency(off: DiscountOff, currency: Currency): boolean {
  return off.kind === "percent" || off.amount.currency === currency;
}

/** "25% off", "$10.00 off"; with the duration: "for 3 months", "once", "forever". */
export function describeDuration(terms: Pick<CouponTerms, "duration" | "durationInMonths">): string {
  switch (terms.duration) {
    case "once":
      return "on the first invoice";
    case "forever":
      return "on every invoice";
    case "repeating":
      return terms.durationInMonths === 1 ? "for 1 month" : `for ${terms.durationInMonths ?? 0} months`;
  }
}

/** Why a code cannot be used; the validate query and the subscribe action answer with it. */
export type CodeRefusal = "invalid" | "inactive" | "expired" | "exhausted" | "not_applicable";
export const CODE_REFUSALS: readonly CodeRefusal[] = [
  "invalid",
  "inactive",
  "expired",
  "exhausted",
  "not_applicable",
];

/** The facts about a typed code, as the service found them; null when no code has this text. */
export interface CodeFacts {
  code: string;
  codeActive: boolean;
  couponActive: boolean;
  /** The earlier of the code's and the coupon's expiry; null when neither expires. */
  expiresAt: Date | null;
  /** Redemptions so far and the limit, of the code and of its coupon (null: no limit). */
  codeRedemptions: { times: number; max: number | null };
  couponRedemptions: { times: number; max: number | null };
  off: DiscountOff;
  /** Package ids the coupon is limited to; empty means every package. */
  packageIds: readonly string[];
}

/** Why `facts` cannot discount `packageId` priced in `currency` at `now`, or null when it can. */
export function codeRefusal(
  facts: CodeFacts | null,
  target: { packageId: string; currency: Currency },
  now: Date,
): CodeRefusal | null {
  if (!facts) return "invalid";
  if (!facts.codeActive || !facts.couponActive) return "inactive";
  if (facts.expiresAt !== null && now.getTime() >= facts.expiresAt.getTime()) return "expired";
  const full = (r: { times: number; max: number | null }) => r.max !== null && r.times >= r.max;
  if (full(facts.codeRedemptions) || full(facts.couponRedemptions)) return "exhausted";
  if (facts.packageIds.length > 0 && !facts.packageIds.includes(target.packageId)) return "not_applicable";
  if (!discountAppliesToCurrency(facts.off, target.currency)) return "not_applicable";
  return null;
}

/** The sentence a customer reads for each refusal (the UI and the API use the same words). */
export function codeRefusalMessage(reason: CodeRefusal, code: string): string {
  const shown = code.trim().slice(0, 40);
  switch (reason) {
    case "invalid":
      return `"${shown}" is not a valid promotion code. Check the spelling.`;
    case "inactive":
      return `The promotion code "${shown}" is no longer offered.`;
    case "expired":
      return `The promotion code "${shown}" has expired.`;
    case "exhausted":
      return `The promotion code "${shown}" has been used the maximum number of times.`;
    case "not_applicable":
      return `The promotion code "${shown}" does not apply to this package.`;
  }
}
