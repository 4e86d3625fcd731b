// Where a period's usage fires alerts, as minute counts: a writer can check "does this change fire
// anything?" with a range test (in SQL too), without running the crossing rules themselves.
import type { Money } from "./money";
import { type SpendCap, spendCapThresholdMinutes } from "./spend-cap";
import { thresholdMinutes } from "./usage";

/**
 * The minute counts at which a period's usage reaches something that alerts: each usage threshold's first
 * count that reaches it (`thresholdMinutes`, what `thresholdReached` compares with)
 * and each spend cap threshold's count (`spendCapThresholdMinutes`, when the budget applies to the price).
 * Usage moving from `before` to `after` crosses a threshold (`crossedThresholds` or
 * `crossedSpendCapThresholds` not empty) exactly when one of these counts `m` has `before < m <= after`.
 * Ascending, once each.
 */
export function alertTriggerMinutes(input: {
  limit: number;
  /** Whole percentages >= 1 (the defaults and the account's own). */
  thresholds: readonly number[];
  price: Money | null;
  cap: SpendCap | null;
}): number[] {
  const { limit, thresholds, price, cap } = input;
  if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`limit must be a count, got ${limit}`);
  const minutes = new Set<number>();
  for (const percent of thresholds) {
    if (!Number.isSafeInteger(percent) || percent < 1) {
      throw new RangeError(`Thresholds must be whole percentages >= 1, got ${percent}`);
    }
    minutes.add(thresholdMinutes(limit, percent));
  }
  if (price !== null && cap !== null && price.amount > 0 && cap.currency === price.currency) {
    for (const t of spendCapThresholdMinutes({
      limit,
      pricePerMinuteCents: price.amount,
      capCents: cap.amountCents,
    })) {
      minutes.add(t.minutes);
    }
  }
  return [...minutes].sort((a, b) => a - b);
}
