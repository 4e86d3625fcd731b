/**
 * Time source abstraction. Domain logic never reads the system time itself: it takes a `now: Date`
 * or a {@link Clock}. {@link systemClock} is the only place that calls `new Date()` without an argument.
 */

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = Object.freeze({
  now: () => new Date(),
});

export interface FixedClock extends Clock {
  /** Moves the clock to `date`. */
  set(date: Date): void;
  /** Moves the clock by `ms` milliseconds (may be negative). */
  advance(ms: number): void;
}

/**
 * A manually controlled clock for tests. `now()` returns a fresh `Date` each time, so callers
 * mutating the returned value cannot move the clock.
 */
export function fixedClock(at: Date): FixedClock {
  let current = toTime(at);
  return {
    now: () => new Date(current),
    set: (date: Date) => {
      current = toTime(date);
    },
    advance: (ms: number) => {
      if (!Number.isFinite(ms)) {
        throw new RangeError(`Cannot advance a clock by ${ms} ms`);
      }
      current = toTime(new Date(current + ms));
    },
  };
}

function toTime(date: Date): number {
  const time = date.getTime();
  if (Number.isNaN(time)) {
    throw new RangeError("Clock time must be a valid Date");
  }
  return time;
}

/**
 * An account's "now": its Stripe test clock's time when it has one and that time is ahead of the wall
 * clock (test mode and the emulator, after the admin Billing clock moved it), else the wall clock. Every
 * rule about an account that depends on time (which period is current, where usage falls, alerts, the
 * forecast, scheduled changes, authorization, reservations) reads this, so a renewal on a test clock looks
 * exactly as a real one will. A clock behind the wall clock (one created at sign-up and never advanced)
 * does not hold time back: Minutely's clock then governs, as it does without a test clock.
 */
export function accountNow(wallNow: Date, testClockTime: Date | null | undefined): Date {
  if (!testClockTime || testClockTime.getTime() <= wallNow.getTime()) return wallNow;
  return new Date(testClockTime.getTime());
}
