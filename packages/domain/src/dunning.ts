/**
 * Dunning (failed renewal payment recovery) as a pure state machine.
 *
 * Default schedule, measured from the first failed renewal payment (`failedAt`, day 0):
 * - day 0: `retrying`, attempt 1 -> effect `notify_payment_failed`.
 * - days 1, 3 and 5: the payment processor retries. Each failure it reports
 *   ({@link recordPaymentFailed}) bumps `attempt` and emits another `notify_payment_failed`.
 * - when the last retry's failure is reported (attempt 4), or at day 6 at the latest if no report
 *   arrives: `final_notice` -> effect `notify_final_notice` (access ends on day 7).
 * - day 7: `suspended` -> effect `suspend_access`. This is purely time-driven and fails closed: if
 *   no successful payment has been recorded by then, access is suspended. When the machine jumps
 *   straight from `retrying` to `suspended` (e.g. the worker did not run for days) the stale final
 *   notice is skipped and only `suspend_access` is emitted.
 * - {@link recordPaymentSucceeded} returns to `ok` from any stage; when leaving `suspended` the
 *   caller must restore access.
 *
 * Effects are produced only by {@link advance}; the state remembers which notifications were
 * emitted, so calling `advance` again with the same (or an earlier) `now` yields no new effects.
 * States are immutable; `advance` returns the same object when nothing changes.
 */
import { addDays } from "./time";

export interface DunningSchedule {
  /** Days after `failedAt` at which retries happen; strictly increasing, > 0. */
  readonly retryAfterDays: readonly number[];
  /** Days after `failedAt` at which the final notice goes out if retries were not all reported. */
  readonly finalNoticeAfterDays: number;
  /** Days after `failedAt` at which access is suspended; greater than `finalNoticeAfterDays`. */
  readonly suspendAfterDays: number;
}

export const DEFAULT_DUNNING_SCHEDULE: DunningSchedule = Object.freeze({
  retryAfterDays: Object.freeze([1, 3, 5]),
  finalNoticeAfterDays: 6,
  suspendAfterDays: 7,
});

export type DunningEffect = "notify_payment_failed" | "notify_final_notice" | "suspend_access";

export type DunningState =
  | { readonly stage: "ok" }
  | {
      readonly stage: "retrying";
      /** The first failed renewal payment of this dunning cycle. */
      readonly failedAt: Date;
      /** Failed payment attempts so far (1 = the original renewal). */
      readonly attempt: number;
      readonly nextRetryAt: Date;
      /** Highest attempt for which `notify_payment_failed` was emitted (0 = none yet). */
      readonly notifiedAttempt: number;
    }
  | {
      readonly stage: "final_notice";
      readonly failedAt: Date;
      readonly attempt: number;
      readonly suspendAt: Date;
      readonly noticeSent: boolean;
    }
  | { readonly stage: "suspended"; readonly failedAt: Date; readonly attempt: number; readonly since: Date };

export interface DunningStep {
  state: DunningState;
  effects: DunningEffect[];
}

export const DUNNING_OK: DunningState = Object.freeze({ stage: "ok" });

/** Throws a `RangeError` for an inconsistent schedule. */
export function assertValidSchedule(schedule: DunningSchedule): void {
  let previous = 0;
  for (const day of schedule.retryAfterDays) {
    if (!Number.isFinite(day) || day <= previous) {
      throw new RangeError("retryAfterDays must be positive and strictly increasing");
    }
    previous = day;
  }
  if (!Number.isFinite(schedule.finalNoticeAfterDays) || schedule.finalNoticeAfterDays < previous) {
    throw new RangeError("finalNoticeAfterDays must not be before the last retry");
  }
  if (
    !Number.isFinite(schedule.suspendAfterDays) ||
    schedule.suspendAfterDays <= schedule.finalNoticeAfterDays
  ) {
    throw new RangeError("suspendAfterDays must be after finalNoticeAfterDays");
  }
}

function retryingOrFinal(
  failedAt: Date,
  attempt: number,
  notifiedAttempt: number,
  schedule: DunningSchedule,
): DunningState {
  const retryDay = schedule.retryAfterDays[attempt - 1];
  if (retryDay === undefined) {
    return finalNotice(failedAt, attempt, schedule, false);
  }
  const state: DunningState = {
    stage: "retrying",
    failedAt,
    attempt,
    nextRetryAt: addDays(failedAt, retryDay),
    notifiedAttempt,
  };
  return state;
}

function finalNotice(
  failedAt: Date,
  attempt: number,
  schedule: DunningSchedule,
  noticeSent: boolean,
): DunningState {
  const state: DunningState = {
    stage: "final_notice",
    failedAt,
    attempt,
    suspendAt: addDays(failedAt, schedule.suspendAfterDays),
    noticeSent,
  };
  return state;
}

/** Starts a dunning cycle for a renewal payment that failed at `failedAt`. */
export function startDunning(
  failedAt: Date,
  schedule: DunningSchedule = DEFAULT_DUNNING_SCHEDULE,
): DunningState {
  assertValidSchedule(schedule);
  if (Number.isNaN(failedAt.getTime())) {
    throw new RangeError("failedAt must be a valid Date");
  }
  return retryingOrFinal(new Date(failedAt.getTime()), 1, 0, schedule);
}

/**
 * Records another failed payment attempt. From `ok` this starts a new cycle at `at`; while retrying
 * it moves to the next retry, or to `final_notice` once all retries have failed; in later stages it
 * only counts the attempt.
 */
export function recordPaymentFailed(
  state: DunningState,
  at: Date,
  schedule: DunningSchedule = DEFAULT_DUNNING_SCHEDULE,
): DunningState {
  assertValidSchedule(schedule);
  switch (state.stage) {
    case "ok":
      return startDunning(at, schedule);
    case "retrying":
      return retryingOrFinal(state.failedAt, state.attempt + 1, state.notifiedAttempt, schedule);
    case "final_notice":
      return { ...state, attempt: state.attempt + 1 };
    case "suspended":
      return { ...state, attempt: state.attempt + 1 };
    default:
      return assertNeverStage(state);
  }
}

/** A successful payment ends dunning from any stage. Leaving `suspended` means: restore access. */
export function recordPaymentSucceeded(_state: DunningState): DunningState {
  return DUNNING_OK;
}

/** When access is (to be) suspended for a state in dunning; `null` for `ok`. */
export function suspensionDate(
  state: DunningState,
  schedule: DunningSchedule = DEFAULT_DUNNING_SCHEDULE,
): Date | null {
  switch (state.stage) {
    case "ok":
      return null;
    case "retrying":
      return addDays(state.failedAt, schedule.suspendAfterDays);
    case "final_notice":
      return state.suspendAt;
    case "suspended":
      return state.since;
    default:
      return assertNeverStage(state);
  }
}

/**
 * Applies the passage of time up to `now` and returns the effects the caller must perform.
 * Idempotent: a second call with the same `now` returns the same state and no effects.
 */
export function advance(
  state: DunningState,
  now: Date,
  schedule: DunningSchedule = DEFAULT_DUNNING_SCHEDULE,
): DunningStep {
  assertValidSchedule(schedule);
  const t = now.getTime();
  if (Number.isNaN(t)) {
    throw new RangeError("now must be a valid Date");
  }
  switch (state.stage) {
    case "ok":
    case "suspended":
      return { state, effects: [] };
    case "retrying": {
      if (t >= addDays(state.failedAt, schedule.suspendAfterDays).getTime()) {
        return suspend(state.failedAt, state.attempt, now);
      }
      if (t >= addDays(state.failedAt, schedule.finalNoticeAfterDays).getTime()) {
        return {
          state: finalNotice(state.failedAt, state.attempt, schedule, true),
          effects: ["notify_final_notice"],
        };
      }
      if (state.attempt > state.notifiedAttempt) {
        return { state: { ...state, notifiedAttempt: state.attempt }, effects: ["notify_payment_failed"] };
      }
      return { state, effects: [] };
    }
    case "final_notice": {
      if (t >= state.suspendAt.getTime()) {
        return suspend(state.failedAt, state.attempt, now);
      }
      if (!state.noticeSent) {
        return { state: { ...state, noticeSent: true }, effects: ["notify_final_notice"] };
      }
      return { state, effects: [] };
    }
    default:
      return assertNeverStage(state);
  }
}

function suspend(failedAt: Date, attempt: number, now: Date): DunningStep {
  return {
    state: { stage: "suspended", failedAt, attempt, since: new Date(now.getTime()) },
    effects: ["suspend_access"],
  };
}

/** Whether the processor's next retry is due (only meaningful while `retrying`). */
export function isRetryDue(state: DunningState, now: Date): boolean {
  return state.stage === "retrying" && now.getTime() >= state.nextRetryAt.getTime();
}

/** Access is kept throughout dunning (grace period) and removed only once `suspended`. */
export function dunningAllowsAccess(state: DunningState): boolean {
  switch (state.stage) {
    case "ok":
    case "retrying":
    case "final_notice":
      return true;
    case "suspended":
      return false;
    default:
      return assertNeverStage(state);
  }
}

function assertNeverStage(state: never): never {
  throw new Error(`Unexpected dunning stage: ${JSON.stringify(state)}`);
}
