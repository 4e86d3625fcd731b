/**
 * Mid-period plan change proration, per second (like Stripe).
 *
 * With `remaining = periodEnd - t` and `length = periodEnd - periodStart`, both in whole seconds:
 * - `credit = -round(oldAmount * remaining / length)` — unused time on the old plan, returned;
 * - `charge = +round(newAmount * remaining / length)` — remaining time on the new plan;
 * - `total  = credit + charge` — what the customer pays now (negative = net credit).
 *
 * Each line is rounded on its own, half away from zero (`"half-up"`), computed exactly with
 * integers, so the total can differ from the unrounded difference by at most one minor unit.
 * `t` (the proration date) is clamped into `[periodStart, periodEnd]`. Sub-second parts of the
 * dates are truncated to whole seconds (Unix-timestamp precision).
 */
import { addMoney, assertSameCurrency, type Money, money } from "./money";
import { divideAndRound, toSafeInteger } from "./rounding";
import { assertValidDate, MS_PER_SECOND } from "./time";

export interface ProrationInput {
  oldAmount: Money;
  newAmount: Money;
  periodStart: Date;
  periodEnd: Date;
  prorationDate: Date;
}

export interface Proration {
  /** Credit for the unused part of the old plan (zero or negative for non-negative prices). */
  credit: Money;
  /** Charge for the remaining part of the new plan. */
  charge: Money;
  /** `credit + charge`. */
  total: Money;
  /** Remaining fraction of the period, in [0, 1]. */
  fraction: number;
}

function unixSeconds(date: Date): number {
  return Math.floor(date.getTime() / MS_PER_SECOND);
}

function prorateAmount(amount: Money, remaining: number, length: number): number {
  const exact = divideAndRound(BigInt(amount.amount) * BigInt(remaining), BigInt(length), "half-up");
  return toSafeInteger(exact, "Prorated amount");
}

/**
 * Computes the proration lines for switching from `oldAmount` to `newAmount` at `prorationDate`.
 * @throws CurrencyMismatchError when the amounts use different currencies.
 * @throws RangeError for invalid dates or a period shorter than one second.
 */
export function prorate(input: ProrationInput): Proration {
  const { oldAmount, newAmount, periodStart, periodEnd, prorationDate } = input;
  assertSameCurrency(oldAmount, newAmount);
  assertValidDate(periodStart, "periodStart");
  assertValidDate(periodEnd, "periodEnd");
  assertValidDate(prorationDate, "prorationDate");
  const start = unixSeconds(periodStart);
  const end = unixSeconds(periodEnd);
  const length = end - start;
  if (length <= 0) {
    throw new RangeError("periodEnd must be at least one second after periodStart");
  }
  const t = Math.min(Math.max(unixSeconds(prorationDate), start), end);
  const remaining = end - t;
  const credit = money(-prorateAmount(oldAmount, remaining, length), oldAmount.currency);
  const charge = money(prorateAmount(newAmount, remaining, length), newAmount.currency);
  return { credit, charge, total: addMoney(credit, charge), fraction: remaining / length };
}
