/**
 * Exact rational rounding on `bigint`s, shared by money, proration and usage maths.
 */
import { assertNever } from "./exhaustive";

/**
 * Rounding modes:
 * - `"half-even"`: ties go to the even neighbour (banker's rounding): 2.5 -> 2, 3.5 -> 4, -2.5 -> -2.
 * - `"half-up"`: ties go away from zero ("commercial" rounding, like Java's `HALF_UP`):
 *   2.5 -> 3, -2.5 -> -3. Note this differs from `Math.round`, which sends -2.5 to -2.
 * - `"floor"`: towards negative infinity.
 * - `"ceil"`: towards positive infinity.
 */
export type RoundingMode = "half-even" | "half-up" | "floor" | "ceil";

export const ROUNDING_MODES: readonly RoundingMode[] = ["half-even", "half-up", "floor", "ceil"];

/** Rounds the exact quotient `numerator / denominator` to an integer using `mode`. */
export function divideAndRound(numerator: bigint, denominator: bigint, mode: RoundingMode): bigint {
  if (denominator === 0n) {
    throw new RangeError("Division by zero");
  }
  const num = denominator < 0n ? -numerator : numerator;
  const den = denominator < 0n ? -denominator : denominator;
  const quotient = num / den; // truncates towards zero
  const remainder = num % den; // same sign as num
  if (remainder === 0n) {
    return quotient;
  }
  const awayFromZero = num < 0n ? quotient - 1n : quotient + 1n;
  switch (mode) {
    case "floor":
      return num < 0n ? quotient - 1n : quotient;
    case "ceil":
      return num > 0n ? quotient + 1n : quotient;
    case "half-up":
    case "half-even": {
      const twiceRemainder = 2n * (remainder < 0n ? -remainder : remainder);
      if (twiceRemainder > den) {
        return awayFromZero;
      }
      if (twiceRemainder < den) {
        return quotient;
      }
      if (mode === "half-up") {
        return awayFromZero;
      }
      return quotient % 2n === 0n ? quotient : awayFromZero;
    }
    default:
      return assertNever(mode);
  }
}

/**
 * Converts a finite JS number into an exact decimal fraction, reading it the way it prints
 * (`String(x)`), i.e. the shortest decimal that round-trips. `0.1` becomes 1/10 rather than the
 * binary value 0.1000000000000000055511151231257827..., so user-entered factors such as `1.1`
 * and dollar amounts such as `19.99` behave like the decimals people meant.
 */
export function decimalToFraction(value: number): { numerator: bigint; denominator: bigint } {
  if (!Number.isFinite(value)) {
    throw new RangeError(`Expected a finite number, got ${value}`);
  }
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(value));
  if (match === null) {
    throw new RangeError(`Cannot read ${value} as a decimal`);
  }
  const [, sign = "", integerPart = "0", fractionPart = "", exponentPart = "0"] = match;
  const digits = BigInt(`${integerPart}${fractionPart}`);
  const exponent = Number(exponentPart) - fractionPart.length;
  const signed = sign === "-" ? -digits : digits;
  if (exponent >= 0) {
    return { numerator: signed * 10n ** BigInt(exponent), denominator: 1n };
  }
  return { numerator: signed, denominator: 10n ** BigInt(-exponent) };
}

/** Converts a `bigint` to a number, throwing a `RangeError` when it is not a safe integer. */
export function toSafeInteger(value: bigint, what = "value"): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`${what} ${value} is outside the safe integer range`);
  }
  return Number(value);
}
