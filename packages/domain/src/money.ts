/**
 * Money as integer minor units (cents/pence) tagged with a currency.
 *
 * Rules:
 * - `amount` is always a safe integer; negative amounts represent credits.
 * - Arithmetic between different currencies is a programming error and throws
 *   {@link CurrencyMismatchError}; there is no implicit conversion.
 * - Every value is created through {@link money}, which validates and normalises `-0` to `0`.
 */
import { DomainError } from "./errors";
import { assertNever } from "./exhaustive";
import { numberFormat } from "./numbers";
import { decimalToFraction, divideAndRound, type RoundingMode, toSafeInteger } from "./rounding";

/** ISO 4217 codes we bill in, lowercase like Stripe. */
export type Currency = "usd" | "eur" | "gbp";

export const CURRENCIES: readonly Currency[] = ["usd", "eur", "gbp"];

export interface Money {
  /** Integer minor units (e.g. cents). Negative for credits. */
  readonly amount: number;
  readonly currency: Currency;
}

/** Thrown when two amounts in different currencies are combined. */
export class CurrencyMismatchError extends DomainError {
  constructor(a: Currency, b: Currency) {
    super("CURRENCY_MISMATCH", `Cannot combine ${a.toUpperCase()} and ${b.toUpperCase()} amounts`);
    this.name = "CurrencyMismatchError";
  }
}

/** Type guard for supported currency codes (lowercase only: `"usd"`, not `"USD"`). */
export function isCurrency(value: unknown): value is Currency {
  return typeof value === "string" && (CURRENCIES as readonly string[]).includes(value);
}

/** Parses a currency code case-insensitively (`"USD"` -> `"usd"`); `null` when unsupported. */
export function parseCurrency(value: string): Currency | null {
  const lower = value.trim().toLowerCase();
  return isCurrency(lower) ? lower : null;
}

/** Number of minor-unit digits for a currency (2 for all supported currencies). */
export function minorUnitDigits(currency: Currency): number {
  switch (currency) {
    case "usd":
    case "eur":
    case "gbp":
      return 2;
    default:
      return assertNever(currency, "currency");
  }
}

function minorUnitFactor(currency: Currency): number {
  return 10 ** minorUnitDigits(currency);
}

/**
 * Creates a {@link Money} value.
 * @throws RangeError when `amount` is not a safe integer or `currency` is unsupported.
 */
export function money(amount: number, currency: Currency): Money {
  if (!Number.isSafeInteger(amount)) {
    throw new RangeError(`Money amount must be a safe integer of minor units, got ${amount}`);
  }
  if (!isCurrency(currency)) {
    throw new RangeError(`Unsupported currency: ${String(currency)}`);
  }
  return Object.freeze({ amount: amount + 0, currency });
}

/** Zero in the given currency. */
export function zeroMoney(currency: Currency): Money {
  return money(0, currency);
}

/** Throws {@link CurrencyMismatchError} unless both values share a currency. */
export function assertSameCurrency(a: Money, b: Money): void {
  if (a.currency !== b.currency) {
    throw new CurrencyMismatchError(a.currency, b.currency);
  }
}

/** `a + b`. Throws on currency mismatch or when the result leaves the safe integer range. */
export function addMoney(a: Money, b: Money): Money {
  assertSameCurrency(a, b);
  return money(a.amount + b.amount, a.currency);
}

/** `a - b`. Throws on currency mismatch or when the result leaves the safe integer range. */
export function subtractMoney(a: Money, b: Money): Money {
  assertSameCurrency(a, b);
  return money(a.amount - b.amount, a.currency);
}

/** `-m` (turns a charge into a credit and vice versa). */
export function negateMoney(m: Money): Money {
  return money(-m.amount, m.currency);
}

/**
 * `m * factor`, rounded to whole minor units.
 *
 * The factor is read as the decimal it prints as (see `decimalToFraction`), and the product is
 * computed exactly before a single rounding step, so `multiplyMoney(usd(5), 0.5)` is exactly a tie
 * and `multiplyMoney(usd(2900), 1.15)` is exactly 3335 with no binary floating-point drift.
 *
 * @param rounding defaults to `"half-even"` (banker's rounding) to avoid bias across many lines.
 * @throws RangeError for non-finite factors or results outside the safe integer range.
 */
export function multiplyMoney(m: Money, factor: number, rounding: RoundingMode = "half-even"): Money {
  const { numerator, denominator } = decimalToFraction(factor);
  const product = divideAndRound(BigInt(m.amount) * numerator, denominator, rounding);
  return money(toSafeInteger(product, "Money amount"), m.currency);
}

/**
 * Sums a list of amounts. `currency` fixes the result currency (and is returned as zero for an
 * empty list); any element in another currency throws {@link CurrencyMismatchError}.
 */
export function sumMoney(list: readonly Money[], currency: Currency): Money {
  return list.reduce<Money>((total, item) => addMoney(total, item), zeroMoney(currency));
}

/** Compares two amounts of the same currency: negative, zero or positive like a sort comparator. */
export function compareMoney(a: Money, b: Money): number {
  assertSameCurrency(a, b);
  return Math.sign(a.amount - b.amount);
}

/** Structural equality (same currency and amount). Never throws. */
export function moneyEquals(a: Money, b: Money): boolean {
  return a.currency === b.currency && a.amount === b.amount;
}

export function isZeroMoney(m: Money): boolean {
  return m.amount === 0;
}

/** The larger of two amounts of the same currency. */
export function maxMoney(a: Money, b: Money): Money {
  return compareMoney(a, b) >= 0 ? a : b;
}

/**
 * Formats with `Intl.NumberFormat` currency style, e.g. `$29.00` for 2900 usd in `en-US`.
 * Negative amounts format with the locale's minus sign (`-$5.00`).
 */
export function formatMoney(m: Money, options: { locale?: string } = {}): string {
  const formatter = numberFormat(options.locale ?? "en-US", {
    style: "currency",
    currency: m.currency.toUpperCase(),
    minimumFractionDigits: minorUnitDigits(m.currency),
    maximumFractionDigits: minorUnitDigits(m.currency),
  });
  return formatter.format(toMajorUnits(m));
}

/**
 * Major units as a JS number (2900 usd -> 29, 1999 usd -> 19.99), for the seed contract's REST payloads that
 * expose dollars. The division is correctly rounded, so the result is the double nearest to the
 * decimal value (it prints as `19.99`). Do not do further arithmetic on the result.
 */
export function toMajorUnits(m: Money): number {
  return m.amount / minorUnitFactor(m.currency) + 0;
}

/**
 * Converts a major-unit number (e.g. dollars from a form or the seed contract's JSON) into {@link Money}.
 *
 * The input is read as the decimal it prints as, so `19.99` -> 1999 and `0.1 + 0.2`
 * (`0.30000000000000004`) -> 30. Extra precision is rounded to whole minor units with `rounding`
 * (default `"half-up"`, i.e. ties away from zero: `1.005` -> 101, `-1.005` -> -101).
 * @throws RangeError for non-finite input or results outside the safe integer range.
 */
export function fromMajorUnits(value: number, currency: Currency, rounding: RoundingMode = "half-up"): Money {
  if (!isCurrency(currency)) {
    throw new RangeError(`Unsupported currency: ${String(currency)}`);
  }
  const { numerator, denominator } = decimalToFraction(value);
  const minor = divideAndRound(numerator * BigInt(minorUnitFactor(currency)), denominator, rounding);
  return money(toSafeInteger(minor, "Money amount"), currency);
}
