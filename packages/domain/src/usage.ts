/**
 * Call-minute metering.
 *
 * Billable-minute rounding rule: every call is billed per *started* minute, i.e.
 * `billableMinutes = ceil(durationSeconds / 60)`: 0 s -> 0, 1 s -> 1, 60 s -> 1, 61 s -> 2.
 * Durations are whole seconds, also rounded up: a call lasting 60.2 s counts as 61 s (its 61st
 * second has started) and therefore 2 minutes. Calls are limited to 24 hours; longer or inverted
 * durations are rejected as invalid data rather than billed.
 *
 * Usage percentages and alert thresholds use integer arithmetic only.
 */
import { type Currency, type Money, money, zeroMoney } from "./money";
import { divideAndRound, toSafeInteger } from "./rounding";
import { isValidDate, MS_PER_SECOND } from "./time";

export const SECONDS_PER_MINUTE = 60;
/** Longest accepted call: 24 hours. */
export const MAX_CALL_DURATION_SECONDS = 24 * 60 * 60;

function assertCount(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  }
}

/**
 * Billable minutes for a call of `durationSeconds`: `ceil(seconds / 60)`.
 * @throws RangeError for negative or non-integer durations.
 */
export function billableMinutes(durationSeconds: number): number {
  assertCount(durationSeconds, "durationSeconds");
  const remainder = durationSeconds % SECONDS_PER_MINUTE;
  const whole = (durationSeconds - remainder) / SECONDS_PER_MINUTE;
  return remainder > 0 ? whole + 1 : whole;
}

export type CallTiming = { startedAt: Date; endedAt: Date } | { startedAt: Date; durationSeconds: number };

export type CallDurationError =
  | "INVALID_TIMESTAMP"
  | "INVALID_DURATION"
  | "ENDED_BEFORE_STARTED"
  | "TOO_LONG";

export type CallDurationResult =
  | { ok: true; seconds: number }
  | { ok: false; reason: CallDurationError; message: string };

function durationResult(rawSeconds: number): CallDurationResult {
  const seconds = Math.ceil(rawSeconds);
  if (seconds > MAX_CALL_DURATION_SECONDS) {
    return { ok: false, reason: "TOO_LONG", message: "Calls longer than 24 hours are not accepted" };
  }
  return { ok: true, seconds };
}

/**
 * Whole-second duration of a call (fractions rounded up), from start/end timestamps or from a
 * reported duration. Rejects invalid dates, negative/NaN durations, an end before the start and
 * calls over {@link MAX_CALL_DURATION_SECONDS}.
 */
export function callDurationSeconds(timing: CallTiming): CallDurationResult {
  if (!isValidDate(timing.startedAt)) {
    return { ok: false, reason: "INVALID_TIMESTAMP", message: "startedAt is not a valid date" };
  }
  if ("endedAt" in timing) {
    if (!isValidDate(timing.endedAt)) {
      return { ok: false, reason: "INVALID_TIMESTAMP", message: "endedAt is not a valid date" };
    }
    const ms = timing.endedAt.getTime() - timing.startedAt.getTime();
    if (ms < 0) {
      return { ok: false, reason: "ENDED_BEFORE_STARTED", message: "The call ended before it started" };
    }
    return durationResult(ms / MS_PER_SECOND);
  }
  const { durationSeconds } = timing;
  if (typeof durationSeconds !== "number" || !Number.isFinite(durationSeconds) || durationSeconds < 0) {
    return { ok: false, reason: "INVALID_DURATION", message: "durationSeconds must be a number >= 0" };
  }
  return durationResult(durationSeconds);
}

/** A period's minutes against the package's included minutes. */
export interface UsageSummary {
  minutesUsed: number;
  minutesLimit: number;
  /** `max(0, limit - used)`. */
  minutesRemaining: number;
  /** Percentage with one decimal (half-up), may exceed 100. */
  usagePercentage: number;
}

/**
 * Percentage of `limit` used, rounded to one decimal place (ties away from zero), e.g. 2500/3000
 * -> 83.3 and 50/1000 -> 5. With a zero limit: 0 when nothing is used, otherwise 100 (any usage
 * of a zero allowance counts as fully used; a ratio would be infinite).
 */
export function usagePercentage(used: number, limit: number): number {
  assertCount(used, "minutesUsed");
  assertCount(limit, "minutesLimit");
  if (limit === 0) {
    return used === 0 ? 0 : 100;
  }
  const tenths = divideAndRound(BigInt(used) * 1000n, BigInt(limit), "half-up");
  return toSafeInteger(tenths, "usage percentage") / 10;
}

/** Builds the usage summary. @throws RangeError for negative or non-integer inputs. */
export function summarizeUsage(minutesUsed: number, minutesLimit: number): UsageSummary {
  return {
    minutesUsed,
    minutesLimit,
    minutesRemaining: Math.max(0, minutesLimit - minutesUsed),
    usagePercentage: usagePercentage(minutesUsed, minutesLimit),
  };
}

/** Usage alert thresholds in percent of the limit. */
export const DEFAULT_ALERT_THRESHOLDS: readonly number[] = Object.freeze([80, 100]);

/**
 * The least minute count that reaches `thresholdPercent` of `limit`: the least `used` with
 * `used * 100 >= threshold * limit` (an exact ceiling division), 1 for a zero limit (any usage reaches it).
 * Writers check "does this change fire an alert?" with it as a range test (`alertTriggerMinutes`).
 */
export function thresholdMinutes(limit: number, thresholdPercent: number): number {
  if (limit === 0) {
    return 1;
  }
  return Number((BigInt(thresholdPercent) * BigInt(limit) + 99n) / 100n);
}

/**
 * Whether `used` minutes reach `thresholdPercent` of `limit`: `used * 100 >= threshold * limit`,
 * exact integer arithmetic. A zero limit is reached by any positive usage.
 */
export function thresholdReached(used: number, limit: number, thresholdPercent: number): boolean {
  return used >= thresholdMinutes(limit, thresholdPercent);
}

export interface ThresholdCrossingInput {
  /** Minutes used before the change. */
  before: number;
  /** Minutes used after the change. */
  after: number;
  limit: number;
  /** Whole percentages >= 1; defaults to {@link DEFAULT_ALERT_THRESHOLDS}. */
  thresholds?: readonly number[];
}

/**
 * Thresholds newly reached when usage moves from `before` to `after` (ascending, de-duplicated).
 * A threshold fires only on the step that crosses it, so alerts go out once per period as long as
 * usage is fed in order; a decrease (correction) fires nothing.
 * @throws RangeError for negative/non-integer minutes or thresholds that are not integers >= 1.
 */
export function crossedThresholds(input: ThresholdCrossingInput): number[] {
  const { before, after, limit, thresholds = DEFAULT_ALERT_THRESHOLDS } = input;
  assertCount(before, "before");
  assertCount(after, "after");
  assertCount(limit, "limit");
  for (const threshold of thresholds) {
    if (!Number.isSafeInteger(threshold) || threshold < 1) {
      throw new RangeError(`Thresholds must be whole percentages >= 1, got ${threshold}`);
    }
  }
  const unique = [...new Set(thresholds)].sort((a, b) => a - b);
  return unique.filter(
    (threshold) => !thresholdReached(before, limit, threshold) && thresholdReached(after, limit, threshold),
  );
}

/** Minutes above the included limit (never negative). */
export function overageMinutes(used: number, limit: number): number {
  assertCount(used, "minutesUsed");
  assertCount(limit, "minutesLimit");
  return Math.max(0, used - limit);
}

/**
 * Minutes beyond a hard cap (a plan without an overage price): calls the cap did not stop (inbound calls,
 * answered beyond it; calls that together outran what was left; a call the platform did not end at its
 * max_duration_seconds). Recorded and shown, never billed. 0 for a plan with an overage price, whose
 * minutes beyond the limit are overage (billed) instead.
 */
export function overCapMinutes(used: number, limit: number, hasOveragePrice: boolean): number {
  return hasOveragePrice ? 0 : overageMinutes(used, limit);
}

/**
 * Cost of the minutes above the limit: `overageMinutes * overagePricePerMinute`. Zero when the
 * plan is a hard cap (`null` price) or usage is within the limit. `currency` is only used for the
 * zero result of a hard-cap plan (which has no price to take it from).
 */
export function overageCost(
  used: number,
  limit: number,
  overagePricePerMinute: Money | null,
  currency: Currency = "usd",
): Money {
  const minutes = overageMinutes(used, limit);
  if (overagePricePerMinute === null) {
    return zeroMoney(currency);
  }
  const total = BigInt(minutes) * BigInt(overagePricePerMinute.amount);
  return money(toSafeInteger(total, "Overage cost"), overagePricePerMinute.currency);
}
