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
 * - Usage reported for a call that started during a pause is rejected (`subscription_paused`), also after the
 *   pause ended: the spans are recorded (`PauseSpan`, `pauseSpanOf`, `liftedSpanEnd` below), since the
 *   subscription's pause fields are cleared at the resume.
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

/**
 * Where Stripe's pause of a trial that ends without a card starts, before the sync has seen it: a `trialing`
 * subscription without a card is paused from its `trial_end` (Stripe pauses it then), so calls from then on
 * are denied and their usage rejected (`subscription_paused`) like those of the span the sync will record,
 * failing closed until the sync says otherwise. Null when the subscription is not such a trial.
 */
export function trialPauseFrom(
  status: AccountSubscriptionStatus,
  trialEnd: Date | null,
  cardOnFile: boolean,
): Date | null {
  return status === "trialing" && !cardOnFile && trialEnd !== null ? trialEnd : null;
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

/**
 * A span of time during which a subscription was paused, `[startsAt, endsAt)`; `endsAt` null: no end yet
 * (paused until resumed). Nothing was charged for it and calls were denied, so usage that started inside it
 * is refused (`subscription_paused`), also when reported late, after the pause ended (docs/billing.md,
 * "Pausing a subscription").
 */
export interface PauseSpan {
  startsAt: Date;
  endsAt: Date | null;
}

/** The span among `spans` that contains `at`, or null when `at` lies in none. */
export function pauseSpanAt(spans: readonly PauseSpan[], at: Date): PauseSpan | null {
  const t = at.getTime();
  for (const span of spans) {
    if (t >= span.startsAt.getTime() && (span.endsAt === null || t < span.endsAt.getTime())) return span;
  }
  return null;
}

/** A subscription's pause as Stripe reports it, what the span of the pause is derived from. */
export interface PauseState {
  status: AccountSubscriptionStatus;
  /**
   * The collection pause (`pause_collection`), with its start when Minutely set it (the metadata
   * `minutely_pause_starts_at`); `startsAt` null: set without it (from Stripe's dashboard).
   */
  collection: { startsAt: Date | null; resumesAt: Date | null } | null;
  /** Stripe's `trial_end` (Stripe's status `paused` is a trial that ended without a card). */
  trialEnd: Date | null;
  currentPeriodStart: Date;
  /** Stripe's `ended_at` (a subscription that ended). */
  endedAt: Date | null;
}

function hasEnded(status: AccountSubscriptionStatus): boolean {
  return status === "canceled" || status === "incomplete_expired";
}

/**
 * Whether a pause is in force on the subscription, so that it has an open span: Stripe's status `paused`,
 * or a collection pause set (taken effect or not), on a subscription that has not ended. An unrecognised
 * status keeps its pause (failing closed).
 */
export function pauseInForce(state: PauseState): boolean {
  if (hasEnded(state.status)) return false;
  return state.status === "paused" || state.collection !== null;
}

/**
 * The span of the pause in force (`pauseInForce`), as the sync records it at `now` (the account's now);
 * `open` is the span already recorded for it, if any:
 * - Stripe's status `paused`: from the trial's end (else the period start) until resumed;
 * - a collection pause Minutely set: from its start (the end of the period already paid) until its
 *   `resumes_at` (null: until resumed). The renewal at `resumes_at` is charged, so the span ends there even
 *   while authorization still denies (failing closed) until Stripe's update resuming it is synced;
 * - a collection pause set without Minutely's start (Stripe's dashboard): calls were denied from when
 *   Minutely first saw it, so from then (the current period was paid up to then), kept on later syncs.
 */
export function pauseSpanOf(state: PauseState, now: Date, open: PauseSpan | null): PauseSpan {
  if (state.status === "paused") {
    return { startsAt: state.trialEnd ?? state.currentPeriodStart, endsAt: null };
  }
  const collection = state.collection;
  if (collection === null) throw new Error("pauseSpanOf: no pause in force");
  const startsAt =
    collection.startsAt ??
    open?.startsAt ??
    new Date(Math.max(now.getTime(), state.currentPeriodStart.getTime()));
  return { startsAt, endsAt: collection.resumesAt };
}

/**
 * Where the open span ends once the sync sees its pause lifted (no longer `pauseInForce`) at `now`: at its
 * planned end when that has passed (`resumes_at` reached), at the subscription's end when it ended first,
 * else now (resumed early: calls were denied until then). Null when that is not after its start: the
 * pause was lifted before it took effect and leaves no span.
 */
export function liftedSpanEnd(open: PauseSpan, state: PauseState, now: Date): Date | null {
  let end = now.getTime();
  if (open.endsAt !== null) end = Math.min(end, open.endsAt.getTime());
  if (hasEnded(state.status) && state.endedAt !== null) end = Math.min(end, state.endedAt.getTime());
  return end > open.startsAt.getTime() ? new Date(end) : null;
}
