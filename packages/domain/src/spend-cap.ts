/**
 * The spend cap: a customer's monthly overage budget (pure rules, no I/O).
 *
 * Rules:
 * - The cap is integer minor units in the account's billing currency, from {@link MIN_SPEND_CAP_CENTS} to
 *   {@link MAX_SPEND_CAP_CENTS}; null means no cap. Only packages with an overage price take one.
 * - It bounds the money billed as overage in one billing period. Overage is billed per whole minute, so the
 *   budget buys `floor(cap / price)` minutes beyond the included ones ({@link spendCapMinutes}); the
 *   period's billable overage is the overage minutes, at most that ({@link billableOverageMinutes}), so
 *   `billed <= cap` always holds.
 * - Call authorization treats `included + capMinutes` as the period's cap: outbound calls are allowed while
 *   `used + held + reservation <= included + capMinutes`, then denied with `SPEND_CAP_REACHED`; inbound
 *   calls follow the over-cap rule (answered by default; their minutes beyond the budget are never billed).
 * - Alerts at 50%, 80% and 100% of the budget ({@link SPEND_CAP_THRESHOLDS}): a percentage below 100 is
 *   reached when the overage would cost at least that share of the cap; 100% when the budget cannot pay
 *   for another minute (`used >= included + capMinutes`), which is when outbound calls stop.
 * - Lowering the cap reverses nothing already billed: the spend shown is then what is billed, above the cap.
 * - Alerts belong to the budget amount: a changed budget is checked at once against the minutes used (a
 *   lowered one already used up alerts 100% there and then), and a raised budget used up again alerts again.
 * - A new period starts at zero spend against the same cap.
 */
import { assertNever } from "./exhaustive";
import type { Currency, Money } from "./money";

export const MIN_SPEND_CAP_CENTS = 0;
/** 10,000,000 minor units: $100,000.00 of overage a month. */
export const MAX_SPEND_CAP_CENTS = 10_000_000;
/** Spend cap alerts, in percent of the budget. */
export const SPEND_CAP_THRESHOLDS: readonly number[] = Object.freeze([50, 80, 100]);

export interface SpendCap {
  /** Integer minor units. */
  amountCents: number;
  currency: Currency;
}

export type SpendCapProblem = "not_integer" | "negative" | "too_large" | "currency_mismatch" | "no_overage";

/** Whether a cap can be set: null when it can, else why not. */
export function spendCapProblem(input: {
  amountCents: number;
  currency: string;
  /** The account's billing currency. */
  billingCurrency: Currency;
  /** Whether the account's package bills overage. */
  overageAllowed: boolean;
}): SpendCapProblem | null {
  if (!Number.isSafeInteger(input.amountCents)) return "not_integer";
  if (input.amountCents < MIN_SPEND_CAP_CENTS) return "negative";
  if (input.amountCents > MAX_SPEND_CAP_CENTS) return "too_large";
  if (input.currency !== input.billingCurrency) return "currency_mismatch";
  if (!input.overageAllowed) return "no_overage";
  return null;
}

/** What a {@link SpendCapProblem} says to the customer. */
export function spendCapProblemMessage(problem: SpendCapProblem, billingCurrency: Currency): string {
  switch (problem) {
    case "not_integer":
      return "Enter the budget as a whole number of cents.";
    case "negative":
      return "The budget cannot be negative.";
    case "too_large":
      return `The budget can be at most ${MAX_SPEND_CAP_CENTS} cents.`;
    case "currency_mismatch":
      return `The budget must be in your billing currency (${billingCurrency.toUpperCase()}).`;
    case "no_overage":
      return "Your package has a hard cap and bills no overage: there is no overage budget to set.";
    default:
      return assertNever(problem, "spend cap problem");
  }
}

/**
 * Overage minutes the budget pays for: `floor(cap / price)`; null when there is no cap (or no price:
 * a hard-cap plan bills no overage). A cap in another currency than the price pays for none (fail closed).
 */
export function spendCapMinutes(cap: SpendCap | null, price: Money | null): number | null {
  if (cap === null || price === null) return null;
  if (cap.currency !== price.currency || price.amount <= 0) return price.amount <= 0 ? null : 0;
  return Math.floor(Math.max(0, cap.amountCents) / price.amount);
}

/** Overage minutes billable under the cap: the overage, at most what the budget pays for. */
export function billableOverageMinutes(overageMinutes: number, capMinutes: number | null): number {
  const overage = Math.max(0, overageMinutes);
  return capMinutes === null ? overage : Math.min(overage, capMinutes);
}

/**
 * The minutes used at which each spend cap threshold is reached, for a plan of `limit` included minutes at
 * `price` a minute with budget `cap` (all in minor units): for p < 100 the first minute count whose overage
 * costs at least p% of the cap, for 100 the count at which the budget pays for no further minute.
 */
export function spendCapThresholdMinutes(input: {
  limit: number;
  pricePerMinuteCents: number;
  capCents: number;
}): { percent: number; minutes: number }[] {
  const { limit, pricePerMinuteCents: price, capCents: cap } = input;
  const full = limit + Math.floor(cap / price);
  return SPEND_CAP_THRESHOLDS.map((percent) => ({
    percent,
    minutes: percent >= 100 ? full : Math.min(full, limit + Math.ceil((percent * cap) / (100 * price))),
  }));
}

/** Spend cap thresholds crossed when usage moves from `before` to `after` minutes (ascending). */
export function crossedSpendCapThresholds(input: {
  before: number;
  after: number;
  limit: number;
  price: Money | null;
  cap: SpendCap | null;
}): number[] {
  const { before, after, limit, price, cap } = input;
  if (price === null || cap === null || price.amount <= 0 || cap.currency !== price.currency) return [];
  return spendCapThresholdMinutes({ limit, pricePerMinuteCents: price.amount, capCents: cap.amountCents })
    .filter((t) => before < t.minutes && after >= t.minutes)
    .map((t) => t.percent);
}

/**
 * Spend cap thresholds a change of the budget from `before` to `after` reaches at once at `used` minutes
 * (ascending): those of the new budget reached there that the old budget had not reached there. A budget
 * lowered below the overage already used reaches 100% at once (outbound calls stop there and then).
 */
export function spendCapThresholdsReachedByChange(input: {
  used: number;
  limit: number;
  price: Money | null;
  before: SpendCap | null;
  after: SpendCap | null;
}): number[] {
  const { used, limit, price, before, after } = input;
  const reached = (cap: SpendCap | null) => {
    if (price === null || cap === null || price.amount <= 0 || cap.currency !== price.currency) return [];
    return spendCapThresholdMinutes({ limit, pricePerMinuteCents: price.amount, capCents: cap.amountCents })
      .filter((t) => used >= t.minutes)
      .map((t) => t.percent);
  };
  const old = new Set(reached(before));
  return reached(after).filter((percent) => !old.has(percent));
}

export interface SpendCapStatus {
  cap: SpendCap;
  /**
   * Overage billed or billable so far this period, in minor units: at most the cap, unless the cap was
   * lowered below what was already billed (nothing billed is reversed: that is what is shown).
   */
  spentCents: number;
  /** `spent / cap` in percent, rounded down (100 once reached; 100 for a zero cap once overage began). */
  percentage: number;
  /** The budget pays for no further minute: outbound calls are denied. */
  reached: boolean;
}

/** Where a period stands against the cap: what its overage costs so far and whether the budget is used up. */
export function spendCapStatus(input: {
  minutesUsed: number;
  limit: number;
  price: Money;
  cap: SpendCap;
  /** Overage minutes of the period already billed (reported), which a lowered cap does not take back. */
  billedOverageMinutes?: number;
}): SpendCapStatus {
  const { minutesUsed, limit, price, cap } = input;
  const capMinutes = spendCapMinutes(cap, price) ?? 0;
  const billable = Math.max(
    billableOverageMinutes(minutesUsed - limit, capMinutes),
    Math.max(0, input.billedOverageMinutes ?? 0),
  );
  const spentCents = billable * price.amount;
  const reached = minutesUsed >= limit + capMinutes;
  const percentage = reached
    ? 100
    : cap.amountCents === 0
      ? 0
      : Math.min(100, Math.floor((spentCents * 100) / cap.amountCents));
  return { cap, spentCents, percentage, reached };
}
