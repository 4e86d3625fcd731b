/**
 * Monthly billing periods anchored at a billing cycle anchor, in UTC.
 *
 * Periods are half-open `[start, end)`. Period `n` starts at `addMonthsClamped(anchor, n)`: the
 * anchor's day of month (and time of day) in the month `n` months later, clamped to the last day
 * of shorter months. Each boundary is computed from the anchor, never from the previous boundary,
 * so an anchor on the 31st gives Jan 31 -> Feb 28 (29 in leap years) -> Mar 31 -> Apr 30 -> May 31.
 */
import { assertValidDate, MS_PER_DAY } from "./time";

export interface BillingPeriod {
  /** Inclusive start. */
  start: Date;
  /** Exclusive end. */
  end: Date;
}

/** Days in a month (`month0` is 0-based) of a given year, in the proleptic Gregorian calendar. */
export function daysInMonth(year: number, month0: number): number {
  return new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate();
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * `anchor` plus `months` calendar months (negative goes back), keeping the anchor's UTC time of
 * day and its day of month clamped to the target month's length.
 * @throws RangeError for an invalid date or a non-integer month count.
 */
export function addMonthsClamped(anchor: Date, months: number): Date {
  assertValidDate(anchor, "anchor");
  if (!Number.isSafeInteger(months)) {
    throw new RangeError(`months must be an integer, got ${months}`);
  }
  const totalMonths = anchor.getUTCFullYear() * 12 + anchor.getUTCMonth() + months;
  const year = Math.floor(totalMonths / 12);
  const month0 = totalMonths - year * 12;
  const day = Math.min(anchor.getUTCDate(), daysInMonth(year, month0));
  const result = new Date(0);
  result.setUTCFullYear(year, month0, day);
  result.setUTCHours(
    anchor.getUTCHours(),
    anchor.getUTCMinutes(),
    anchor.getUTCSeconds(),
    anchor.getUTCMilliseconds(),
  );
  return result;
}

/** The `index`-th monthly period from the anchor (0 starts at the anchor; negative is before it). */
export function monthlyPeriodAt(anchor: Date, index: number): BillingPeriod {
  return { start: addMonthsClamped(anchor, index), end: addMonthsClamped(anchor, index + 1) };
}

/** Index of the monthly period (relative to `anchor`) that contains `at`. */
export function monthlyPeriodIndex(anchor: Date, at: Date): number {
  assertValidDate(anchor, "anchor");
  assertValidDate(at, "at");
  // Calendar-month estimate, then correct by at most a step or two in either direction.
  let index =
    (at.getUTCFullYear() - anchor.getUTCFullYear()) * 12 + (at.getUTCMonth() - anchor.getUTCMonth());
  while (addMonthsClamped(anchor, index).getTime() > at.getTime()) {
    index -= 1;
  }
  while (addMonthsClamped(anchor, index + 1).getTime() <= at.getTime()) {
    index += 1;
  }
  return index;
}

/**
 * The monthly period anchored at `anchor` that contains `at` (`start <= at < end`).
 * Works for `at` before the anchor too (periods extend backwards).
 */
export function monthlyPeriodContaining(anchor: Date, at: Date): BillingPeriod {
  return monthlyPeriodAt(anchor, monthlyPeriodIndex(anchor, at));
}

/**
 * The one definition of an account's current billing period at `now` (the account's now, see
 * `accountNow`): the subscription's period as Stripe reports it (`current_period_start`/`end`), unless
 * `now` is at or past its end (the renewal has not been synced yet), then the monthly period after it that
 * contains `now`. A `now` before the subscription's start (Stripe's clock ahead of ours) never falls back
 * to an earlier period: Stripe's period is authoritative.
 */
export function currentBillingPeriod(
  subscription: { currentPeriodStart: Date; currentPeriodEnd: Date },
  now: Date,
): BillingPeriod {
  const start = subscription.currentPeriodStart;
  const end = subscription.currentPeriodEnd;
  if (now.getTime() < end.getTime()) return { start, end };
  return monthlyPeriodContaining(end, now);
}

/** `start <= at < end`. */
export function periodContains(period: BillingPeriod, at: Date): boolean {
  const t = at.getTime();
  return period.start.getTime() <= t && t < period.end.getTime();
}

/** Period length in milliseconds (0 for empty or inverted periods). */
export function periodLengthMs(period: BillingPeriod): number {
  return Math.max(0, period.end.getTime() - period.start.getTime());
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, "0");
}

/** UTC calendar day as `"YYYY-MM-DD"` (years 0..9999). */
export function dayKey(date: Date): string {
  assertValidDate(date);
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) {
    throw new RangeError(`dayKey supports years 0..9999, got ${year}`);
  }
  return `${pad(year, 4)}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)}`;
}

/** Midnight UTC of the day containing `date`. */
export function startOfUtcDay(date: Date): Date {
  assertValidDate(date);
  return new Date(Math.floor(date.getTime() / MS_PER_DAY) * MS_PER_DAY);
}

/**
 * Every UTC calendar day that overlaps the period, as day keys in order. Because the end is
 * exclusive, a period ending exactly at midnight does not include that day; an empty period has
 * no days.
 */
export function daysInPeriod(period: BillingPeriod): string[] {
  assertValidDate(period.start, "period.start");
  assertValidDate(period.end, "period.end");
  const days: string[] = [];
  if (period.end.getTime() <= period.start.getTime()) {
    return days;
  }
  for (let day = startOfUtcDay(period.start).getTime(); day < period.end.getTime(); day += MS_PER_DAY) {
    days.push(dayKey(new Date(day)));
  }
  return days;
}
