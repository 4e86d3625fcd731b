/**
 * Proration, per second of the period, in integer cents.
 *
 * For an item changed at time `t` inside the period [start, end):
 *   credit = -roundHalfAwayFromZero(oldAmount * (end - t) / (end - start))
 *   charge = +roundHalfAwayFromZero(newAmount * (end - t) / (end - start))
 * where amounts are unit_amount × quantity. Each line is rounded on its own, half away from zero
 * (0.5 → 1, -0.5 → -1). The computation uses integers (BigInt) so no float error creeps in.
 */
export function roundHalfAwayFromZero(numerator: bigint, denominator: bigint): number {
  if (denominator <= 0n) throw new Error("denominator must be positive");
  const negative = numerator < 0n;
  const abs = negative ? -numerator : numerator;
  const quotient = abs / denominator;
  const remainder = abs % denominator;
  const rounded = remainder * 2n >= denominator ? quotient + 1n : quotient;
  return Number(negative ? -rounded : rounded);
}

/** `amount * (end - t) / (end - start)`, rounded half away from zero. */
export function prorate(amount: number, start: number, end: number, t: number): number {
  if (end <= start) return 0;
  const remaining = Math.min(Math.max(end - t, 0), end - start);
  return roundHalfAwayFromZero(BigInt(amount) * BigInt(remaining), BigInt(end - start));
}

export interface ProrationPair {
  credit: number;
  charge: number;
}

/** The credit for the old amount and the charge for the new amount at time `t`. */
export function prorationFor(
  oldAmount: number,
  newAmount: number,
  start: number,
  end: number,
  t: number,
): ProrationPair {
  return { credit: 0 - prorate(oldAmount, start, end, t), charge: prorate(newAmount, start, end, t) };
}
