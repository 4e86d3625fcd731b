/**
 * Pausing a subscription (Stripe's `pause_collection`), pure rules.
 *
 * Decisions (documented contract, README "Pausing a subscription"):
 * - A customer (or an admin) pauses for 1, 2 or 3 billing periods, or until resumed (`periods: null`).
 * - The period already paid is kept: the pause **starts at the end of the current period** and covers the
 *   next `periods` monthly periods (`resumesAt` = that end plus `periods` months, clamped like every period);
 *   until resumed when `periods` is null. Stripe is told at once (`pause_collection: {behavior: "void",
 *   resumes_at}`), so every invoice the subscription makes while collection is paused is voided: nothing is
 *   charged for the paused periods.
 * - While paused, no call is authorized (`subscription_paused`) and no agent counts as allowed; a pause
 *   whose `resumesAt` has passed still denies until Stripe's update (collection resumed) has been synced:
 *   a paused subscription never grants calls (failing closed). A Stripe status `paused` (a trial that
 *   ended without a card) is paused too.
 * - Pausing needs an `active` subscription with no cancellation pending, no scheduled change and no pause
 *   already set (`ALREADY_PAUSED`); resuming needs a pause (`NOT_PAUSED`). Resuming early clears the pause:
 *   access returns at once, and the next renewal is charged as usual (the rest of the current period is not
 *   charged: Stripe does not prorate a resumed collection).
 * - Plan changes while a pause is set are refused (`PAUSED`: an upgrade's prorated charge would be voided):
 *   resume first. Cancelling while paused is allowed (docs/billing.md, "Pausing a subscription").
 */
import { addMonthsClamped } from "./periods";
import type { AccountSubscriptionStatus } from "./subscription-status";

/** How long a pause may be, in billing periods; null means until resumed. */
export const PAUSE_PERIODS = [1, 2, 3] as const;
export type PausePeriods = (typeof PAUSE_PERIODS)[number];

export function isPausePeriods(value: unknown): value is PausePeriods {
  return typeof value === "number" && (PAUSE_PERIODS as readonly number[]).includes(value);
}

/** A subscription's collection pause as Minutely mirrors it. */
export interface CollectionPause {
  /** When the pause takes effect (the end of the period paid when it was set). */
  startsAt: Date;
  /** When collection resumes by itself; null: until resumed. */
  resumesAt: Date | null;
}

/** The window of a pause set now on a subscription whose current period ends at `currentPeriodEnd`. */
export function pauseWindow(currentPeriodEnd: Date, periods: PausePeriods | null): CollectionPause {
  return {
    startsAt: currentPeriodEnd,
    resumesAt: periods === null ? null : addMonthsClamped(currentPeriodEnd, periods),
  };
}

/**
 * Whether the subscription is paused at `now` (the account's now): Stripe's status `paused`, or a collection
 * pause that has taken effect. A pause past its `resumesAt` still counts until the sync clears it.
 */
export function isPausedAt(
  status: AccountSubscriptionStatus,
  pause: CollectionPause | null,
  now: Date,
): boolean {
  if (status === "paused") return true;
  return pause !== null && now.getTime() >= pause.startsAt.getTime();
}

export type PauseDenialCode =
  | "NO_SUBSCRIPTION"
  | "NOT_ACTIVE"
  | "ALREADY_PAUSED"
  | "NOT_PAUSED"
  | "CANCELLATION_PENDING"
  | "CHANGE_ALREADY_SCHEDULED";

export type PauseCheck = { ok: true } | { ok: false; code: PauseDenialCode; message: string };

export interface PauseSnapshot {
  status: AccountSubscriptionStatus;
  cancelAtPeriodEnd: boolean;
  scheduledChange: boolean;
  pause: CollectionPause | null;
}

/** Whether the subscription may be paused now. */
export function checkPause(s: PauseSnapshot): PauseCheck {
  if (s.status === "none" || s.status === "canceled" || s.status === "incomplete_expired") {
    return { ok: false, code: "NO_SUBSCRIPTION", message: "You do not have a subscription to pause." };
  }
  if (s.pause !== null || s.status === "paused") {
    return { ok: false, code: "ALREADY_PAUSED", message: "Your subscription is already paused." };
  }
  if (s.status !== "active") {
    return {
      ok: false,
      code: "NOT_ACTIVE",
      message: "Only an active subscription can be paused (not during a trial or while a payment is due).",
    };
  }
  if (s.cancelAtPeriodEnd) {
    return {
      ok: false,
      code: "CANCELLATION_PENDING",
      message: "Your subscription is set to end; resume it before pausing.",
    };
  }
  if (s.scheduledChange) {
    return {
      ok: false,
      code: "CHANGE_ALREADY_SCHEDULED",
      message: "A package change is scheduled; cancel it before pausing.",
    };
  }
  return { ok: true };
}

/** Whether the pause may be lifted now (before it ends by itself). */
export function checkResumePause(s: PauseSnapshot): PauseCheck {
  if (s.status === "none" || s.status === "canceled" || s.status === "incomplete_expired") {
    return { ok: false, code: "NO_SUBSCRIPTION", message: "You do not have a subscription to resume." };
  }
  if (s.pause === null) {
    return { ok: false, code: "NOT_PAUSED", message: "Your subscription is not paused." };
  }
  return { ok: true };
}
