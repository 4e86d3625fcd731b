// Call authorization: before a call starts, the calling platform asks whether it may, and Minutely reserves
// minutes for it. The decision itself is the domain's `authorizeCall`; this service supplies the facts under
// a lock so that concurrent calls cannot together overshoot a hard cap.
//
// Rules (see README "Metering"):
// - Every allowed call reserves RESERVATION_MINUTES minutes, held until the usage event with the same
//   call_id settles it (in the ingestion transaction) or until it expires after RESERVATION_TTL_MS.
//   Expired reservations no longer count.
// - Hard-cap packages allow a call while used + held + this reservation <= included minutes; beyond that
//   the direction's over-cap rule decides (DEFAULT_OVER_CAP_POLICY: inbound answered, outbound denied).
//   Packages with an overage price allow (the minutes beyond the limit are billed) unless the customer set a
//   spend cap: then the same rule applies at included + the minutes the budget pays for (the domain's
//   spendCapMinutes), and outbound calls beyond it are denied with spend_cap_reached. The cap is read, with
//   used and held minutes, under the period lock, which a change of the budget takes too: concurrent
//   authorizations cannot together overshoot the budget, and one racing a lowering is decided by the lowered
//   budget (no extra round trip: it rides on the statement that reads the held minutes).
// - During a free trial (`trialing`, before `trial_end` at the account's now) every package stops at its
//   included minutes: outbound calls beyond them are denied trial_allowance_reached (no overage is billed).
// - Prepaid pack minutes extend the included ones (allowance -> packs -> overage or the hard cap): the
//   period's minutes drawn from packs and the minutes the account's unexpired packs hold, read under the
//   period lock with the held minutes, so 50 parallel authorizations never together overdraw a pack.
// - A paused subscription (a collection pause in effect at the account's now, or Stripe's status paused) is
//   denied with subscription_paused (the domain's isPausedAt; failing closed until the resume is synced).
// - Per account, authorizations and ingestion serialize on the current period's rollup row
//   (SELECT ... FOR UPDATE), so the check and the reservation are one atomic step.
// - An allowed call is told the most it may last (maxDurationSeconds, the domain's callMinutesAllowed), so
//   the calling platform can end it at a hard cap; minutes a call still runs beyond the cap (an inbound
//   call, calls sharing what was left, a platform that did not end it) are recorded as over-cap usage,
//   shown to the customer and the admins, and never billed.
// - Idempotent per (account_id, call_id), the key of a call here as in ingestion: authorizing the same call
//   again returns its reservation; the same key with another agent or direction is a call_id_conflict.
//   Another account's call with the same call_id is another call.

import { sqlStateOf } from "@minutely/db";
import {
  authorizeCall,
  type CallDenialReason,
  type CallDirection,
  callMinutesAllowed,
  DEFAULT_OVER_CAP_POLICY,
  isInTrial,
  isPausedAt,
  MS_PER_MINUTE,
  type SpendCap,
  spendCapMinutes,
  trialPauseFrom,
} from "@minutely/domain";
import type { Ports } from "../../context.ts";
import { isUuid } from "../ids.ts";
import { date, int, type Json, text, textOrNull } from "../json-rows.ts";
import { enqueuePackTopUp } from "./pack-draws.ts";
import { lockPeriod, recordPeriodSpendCapSql } from "./period-plans.ts";
import { currentPeriod, nowFor } from "./periods.ts";
import {
  endedBy,
  loadMeteringContext,
  METERING_TX_OPTIONS,
  type MeteringSubscription,
  spendCapsOf,
} from "./subscription.ts";

/** Minutes held for every authorized call until its usage event arrives. */
export const RESERVATION_MINUTES = 5;
/** A reservation no usage event settled stops counting after this long. */
export const RESERVATION_TTL_MS = 30 * MS_PER_MINUTE;

export interface AuthorizeCallInput {
  callId: string;
  accountId: string;
  agentId: string;
  direction: CallDirection;
}

/** Why a call is denied, as the API names it (the metering route's documented enum is this list). */
export const CALL_DENIALS = [
  "no_active_subscription",
  "subscription_paused",
  "agent_inactive",
  "minutes_exhausted",
  "spend_cap_reached",
  "trial_allowance_reached",
  "unknown_account",
  "account_deleted",
  "unknown_agent",
  "call_id_conflict",
] as const;

export type CallDenial = (typeof CALL_DENIALS)[number];

// Every denial of the domain's rule is in the list (a new one added there fails to compile here).
const _everyDenialListed: readonly CallDenial[] = [] as Lowercase<
  Exclude<CallDenialReason, "INVALID_REQUEST">
>[];

export type CallAuthorizationResult =
  | {
      decision: "allow";
      callId: string;
      reservedMinutes: number;
      expiresAt: Date;
      /** Allowed beyond a hard cap by the direction's over-cap rule (inbound, by default). */
      overCap: boolean;
      /** The call was authorized before: this is that reservation (overCap is not recorded, so false). */
      replayed: boolean;
      /**
       * The most the call may last, in seconds, so the calling platform can end it at a hard cap: what is
       * left of the included minutes after those used and those held by other calls (with an overage
       * budget set, of the included minutes plus those the budget pays for). Null when no cap ends the call
       * (an overage package without a budget, or an inbound call, answered beyond the cap). Computed afresh
       * on a replay.
       */
      maxDurationSeconds: number | null;
    }
  | { decision: "deny"; callId: string; reason: CallDenial; message: string };

function deny(callId: string, reason: CallDenial, message: string): CallAuthorizationResult {
  return { decision: "deny", callId, reason, message };
}

/** Decides whether a call may start and, if so, reserves minutes for it. */
export async function authorizeCallRequest(
  ports: Pick<Ports, "db" | "clock" | "queue">,
  input: AuthorizeCallInput,
): Promise<CallAuthorizationResult> {
  const { callId, accountId, agentId } = input;
  const wallNow = ports.clock.now();
  // One statement: the account, the agent (of this account) and the subscription with its package.
  const context = isUuid(accountId)
    ? await loadMeteringContext(ports.db, [accountId], isUuid(agentId) ? [agentId] : [])
    : null;
  // The database spells ids in lower case; a UUID is the same id in either case.
  const accountKey = accountId.toLowerCase();
  if (!context?.accounts.has(accountKey)) {
    return deny(callId, "unknown_account", "No account has this account_id.");
  }
  if (context.deletedAccounts.has(accountKey)) {
    return deny(callId, "account_deleted", "This account was deleted; it can make no calls.");
  }
  const agent = context.agents.get(agentId.toLowerCase());
  if (agent?.accountId !== accountKey) {
    return deny(callId, "unknown_agent", "agent_id is not an agent of this account.");
  }
  const subscription = context.subscriptions.get(accountKey);
  if (!subscription) {
    return deny(callId, "no_active_subscription", "Calls require an active subscription.");
  }
  // Reservations, their expiry and the period are all on the account's time (its test clock's, if ahead).
  const now = nowFor(subscription, wallNow);
  // The account's subscriptions have ended: no period covers a call now (none is made up, no row written).
  if (endedBy(subscription, now)) {
    return deny(callId, "no_active_subscription", "Calls require an active subscription.");
  }
  const period = currentPeriod(subscription, now);

  try {
    const result = await authorizeInTransaction(ports, input, { agent, subscription, now, period });
    // Out of minutes with auto top-up on: a hard cap (or a spent budget) stops the calls that would use
    // minutes, so no draw would ever ask for the top-up (an empty or expired balance, a new month after the
    // monthly maximum). The denial asks; the job decides (threshold, monthly maximum, stop).
    if (
      result.decision === "deny" &&
      (result.reason === "minutes_exhausted" || result.reason === "spend_cap_reached") &&
      context.autoTopUpAccounts.has(accountKey)
    ) {
      await enqueuePackTopUp(ports.queue, accountKey);
    }
    return result;
  } catch (error) {
    // The account (or the agent) was deleted between the read and the transaction: its foreign key broke.
    if (sqlStateOf(error) === "23503") {
      return deny(callId, "unknown_account", "No account has this account_id.");
    }
    throw error;
  }
}

async function authorizeInTransaction(
  ports: Pick<Ports, "db" | "clock">,
  input: AuthorizeCallInput,
  {
    agent,
    subscription,
    now,
    period,
  }: {
    agent: { active: boolean };
    subscription: MeteringSubscription;
    now: Date;
    period: { start: Date; end: Date };
  },
): Promise<CallAuthorizationResult> {
  const { callId, accountId, agentId } = input;
  return await ports.db.$transaction(async (tx) => {
    // The lock: this account's rollup row of the current period (created empty if needed).
    await tx.$executeRaw`
      INSERT INTO usage_period_rollup (account_id, period_start, period_end, updated_at)
      VALUES (${accountId}::uuid, ${period.start}, ${period.end}, ${now})
      ON CONFLICT (account_id, period_start) DO NOTHING`;
    // The period records the plan that governs it (as ingestion and overage do), so a period whose usage
    // all arrives after a plan change is still measured and billed by the plan it was used under.
    const rollup = await lockPeriod(tx, accountId, period.start, subscription);
    const plan = rollup?.plan ?? subscription.plan;

    // One statement, under the lock: this call's reservation if it was authorized before, expiring the
    // account's reservations past their time, the minutes held by its other calls (a replay's own
    // reservation is not counted against it; the expired ones are not held: same snapshot, same test), and
    // the budget in force, recorded on the period's row (a change of the budget takes the same lock, so this
    // statement, which starts once the lock is held, sees any change that committed before: a lowering
    // racing this authorization decides it; the budget read with the context may be older).
    const [state] = await tx.$queryRaw<
      { existing: Json | null; held: number; cap: Json | null; packs: number }[]
    >`
      WITH expired AS (
        -- A data-modifying WITH runs whether or not the query reads it.
        UPDATE call_reservation SET status = 'expired'
        WHERE account_id = ${accountId}::uuid AND status = 'held' AND expires_at <= ${now}
      ), recorded AS (${recordPeriodSpendCapSql(accountId, period.start)})
      SELECT
        (SELECT jsonb_build_object('account_id', id, 'cents', overage_cap_cents,
            'currency', overage_cap_currency)
          FROM account WHERE id = ${accountId}::uuid AND overage_cap_cents IS NOT NULL) AS cap,
        (SELECT jsonb_build_object('agent_id', r.agent_id, 'direction', r.direction, 'minutes', r.minutes,
            'expires_at', r.expires_at)
          FROM call_reservation r WHERE r.account_id = ${accountId}::uuid AND r.call_id = ${callId})
          AS existing,
        (SELECT COALESCE(sum(minutes), 0)::int FROM call_reservation
          WHERE account_id = ${accountId}::uuid AND status = 'held' AND expires_at > ${now}
            AND call_id <> ${callId}) AS held,
        (SELECT COALESCE(sum(remaining), 0)::int FROM pack_grant
          WHERE account_id = ${accountId}::uuid AND remaining > 0 AND expires_at > ${now}) AS packs`;
    const existing = state?.existing
      ? {
          agentId: textOrNull(state.existing, "agent_id"),
          direction: text(state.existing, "direction") as CallDirection,
          minutes: int(state.existing, "minutes"),
          expiresAt: date(state.existing, "expires_at"),
        }
      : null;
    const held = { minutes: state?.held ?? 0 };
    const spendCap: SpendCap | null = state?.cap ? ([...spendCapsOf([state.cap]).values()][0] ?? null) : null;
    // The overage minutes the customer's budget pays for at the period's price (null: no cap).
    const budgetMinutes = spendCapMinutes(spendCap, plan.overagePrice);
    if (existing) {
      if (
        existing.agentId?.toLowerCase() !== agentId.toLowerCase() ||
        existing.direction !== input.direction
      ) {
        return deny(
          callId,
          "call_id_conflict",
          `This call_id was authorized for this account with another agent or direction ` +
            `(${existing.agentId ?? "no agent"}, ${existing.direction}); use a new call_id for another call.`,
        );
      }
    }
    const toSeconds = (minutes: number | null) => (minutes === null ? null : minutes * 60);
    // Pack minutes come after the included ones and before overage or the hard cap: those the period drew
    // already and those the account's unexpired packs still hold (read under the period's lock, which the
    // draws of this period take too, so parallel authorizations share them and never overdraw a pack).
    const minutesLimit = plan.callMinutesLimit + (rollup?.packMinutesDrawn ?? 0) + (state?.packs ?? 0);

    if (existing) {
      const maxMinutes = callMinutesAllowed({
        direction: input.direction,
        minutesUsed: rollup?.minutes ?? 0,
        minutesReservedByOthers: held?.minutes ?? 0,
        minutesLimit,
        overageAllowed: plan.overagePrice !== null,
        spendCapMinutes: budgetMinutes,
        policy: DEFAULT_OVER_CAP_POLICY,
        trial: isInTrial(subscription.status, subscription.trialEnd, now),
      });
      return {
        decision: "allow",
        callId,
        reservedMinutes: existing.minutes,
        expiresAt: existing.expiresAt,
        overCap: false,
        replayed: true,
        maxDurationSeconds: toSeconds(maxMinutes),
      } as const;
    }

    const decision = authorizeCall({
      direction: input.direction,
      minutesUsed: rollup?.minutes ?? 0,
      minutesReserved: held?.minutes ?? 0,
      minutesLimit,
      overageAllowed: plan.overagePrice !== null,
      spendCapMinutes: budgetMinutes,
      reserveMinutes: RESERVATION_MINUTES,
      policy: DEFAULT_OVER_CAP_POLICY,
      accessGranted: subscription.accessGranted,
      paused: pausedAt(subscription, now),
      trial: isInTrial(subscription.status, subscription.trialEnd, now),
      agentActive: agent.active,
    });
    if (decision.decision === "deny") {
      if (decision.reason === "INVALID_REQUEST") throw new Error(decision.message);
      return deny(callId, decision.reason.toLowerCase() as CallDenial, decision.message);
    }
    const expiresAt = new Date(now.getTime() + RESERVATION_TTL_MS);
    await tx.callReservation.create({
      data: {
        callId,
        accountId,
        agentId,
        direction: input.direction,
        minutes: decision.reserveMinutes,
        status: "held",
        expiresAt,
        createdAt: now,
      },
    });
    return {
      decision: "allow",
      callId,
      reservedMinutes: decision.reserveMinutes,
      expiresAt,
      overCap: decision.overCap,
      replayed: false,
      maxDurationSeconds: toSeconds(decision.maxMinutes),
    } as const;
  }, METERING_TX_OPTIONS);
}

/**
 * Marks held reservations past their expiry as expired (reads already ignore them; this keeps rows true).
 * By Minutely's clock: a reservation made on an account's test clock ahead of it (see `accountNow`) is left
 * held here, and the account's reads and authorizations, which go by the clock's time, judge it. Run
 * periodically (jobs/registry.ts). Returns how many were expired.
 */
export async function expireCallReservations(ports: Pick<Ports, "db" | "clock">): Promise<number> {
  return await ports.db.$executeRaw`
    UPDATE call_reservation SET status = 'expired'
    WHERE status = 'held' AND expires_at <= ${ports.clock.now()}`;
}

/**
 * Whether the subscription is paused at `now`: a pause as synced (`isPausedAt`), or a trial without a card
 * past its end, which Stripe has paused though its webhook may not be in yet (`trialPauseFrom`).
 */
function pausedAt(subscription: MeteringSubscription, now: Date): boolean {
  if (isPausedAt(subscription.status, subscription.pause, now)) return true;
  const from = trialPauseFrom(subscription.status, subscription.trialEnd, subscription.cardOnFile);
  return from !== null && now.getTime() >= from.getTime();
}
