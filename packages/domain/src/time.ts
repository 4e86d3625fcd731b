/** Time constants and validation helpers. All dates are treated as UTC instants. */

export const MS_PER_SECOND = 1000;
export const MS_PER_MINUTE = 60 * MS_PER_SECOND;
export const MS_PER_HOUR = 60 * MS_PER_MINUTE;
export const MS_PER_DAY = 24 * MS_PER_HOUR;

/** Throws a `RangeError` unless `value` is a `Date` holding a valid (non-NaN) time. */
export function assertValidDate(value: Date, name = "date"): void {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new RangeError(`${name} must be a valid Date`);
  }
}

/** Returns `true` when `value` is a `Date` holding a valid time. */
export function isValidDate(value: unknown): value is Date {
  return value instanceof Date && !Number.isNaN(value.getTime());
}

/** Returns a new `Date` `ms` milliseconds after `date` (never mutates its argument). */
export function addMilliseconds(date: Date, ms: number): Date {
  return new Date(date.getTime() + ms);
}

/** Returns a new `Date` `days` whole 24-hour days after `date` (UTC has no DST). */
export function addDays(date: Date, days: number): Date {
  return addMilliseconds(date, days * MS_PER_DAY);
}
