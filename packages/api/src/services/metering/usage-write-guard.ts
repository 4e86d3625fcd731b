// A group of usage reports is written in one autocommit statement when nothing has to follow the write in
// its transaction. Most groups are like that: new calls of accounts under their next threshold, whose period
// already records the plan that governs it. The transaction `writeBatch` runs otherwise (BEGIN, the write,
// whatever follows it, COMMIT) is four round trips with the context read; alone, the statement is two.
//
// What can follow the write, and how the statement checks that none of it is needed (see writeBatch):
// - a replayed or conflicting call (a key already recorded): its recorded call is read back; the statement
//   requires every event of the group to be inserted;
// - the period's plan to record (a new period, a plan change): the statement requires the period row to
//   record exactly the plan the subscription offers (then `settlePeriodPlans` writes nothing);
// - alerts: the statement requires that no trigger count (`alertTriggerMinutes`: every usage and spend cap
//   threshold) lies in (minutes before, minutes after] of the period, and that the account's budget those
//   counts were computed with is still its budget once the period rows are held (`minutely_spend_caps`);
// - overage to report: the statement queues the period's report-overage job itself (the same job, key and
//   payload `overageReportJob` gives, through the queue's `recordAndEnqueue`), for each period whose billable
//   overage exceeds what is reported;
// - pack draws and auto top-up, paused events' read-back, late or closed periods: such a group is not
//   tried alone (known before writing).
// When a check fails, `minutely_write_guard` (migration 20261207200000) raises and the whole statement is
// rolled back (it is one statement: nothing of it stays); the group is then written in its transaction.
import { alertTriggerMinutes, type SpendCap, spendCapMinutes } from "@minutely/domain";
import { overageReportJob, reportOverageJobKey } from "./overage.ts";
import { isCurrentPeriodOf } from "./periods.ts";
import type { MeteringSubscription } from "./subscription.ts";
import { alertThresholds } from "./usage-alerts.ts";

/** The SQLSTATE `minutely_write_guard` raises: the group needs its transaction. */
export const WRITE_NEEDS_TRANSACTION = "MN001";

/** What the statement checks of one period the group writes to (one JSON object of its guard parameter). */
export interface PeriodGuard {
  account_id: string;
  period_start: string;
  plan_id: string;
  call_minutes_limit: number;
  overage_price: number | null;
  currency: string;
  ticket: string;
  /** Minute counts that fire an alert when reached (ascending). */
  triggers: number[];
  /** Overage minutes the budget pays for (null: no budget); only read when there is an overage price. */
  cap_minutes: number | null;
  /** The budget the triggers and cap_minutes assume (null: none): the statement requires it still holds. */
  cap_cents: number | null;
  cap_currency: string | null;
  /** The period's report-overage job (`overageReportJob`), queued by the statement when overage is due. */
  overage_job: { payload: unknown; job_key: string };
}

/** One event of a group, as far as the guard is concerned. */
export interface GuardedEvent {
  accountId: string;
  minutes: number;
  periodStart: Date;
  late: boolean;
  subscription: MeteringSubscription;
}

/**
 * The minutes of the periods this process wrote to lately, as it last saw them: a hint of whether a group
 * would cross an alert trigger, so that such a group goes to its transaction at once instead of paying for
 * a statement that is rolled back. Never a rule: the minutes may be behind (other processes write too), and
 * a group the hint lets through is checked by the statement anyway. Bounded: forgotten all at once when full.
 */
const periodsSeen = new Map<string, number>();
const MAX_REMEMBERED_PERIODS = 20_000;

function periodKey(accountId: string, periodStart: Date): string {
  return `${accountId} ${periodStart.getTime()}`;
}

/** Records the minutes a write found a period's row at. */
export function rememberPeriod(accountId: string, periodStart: Date, minutes: number): void {
  const periodOf = periodKey(accountId, periodStart);
  if (!periodsSeen.has(periodOf) && periodsSeen.size >= MAX_REMEMBERED_PERIODS) periodsSeen.clear();
  periodsSeen.set(periodOf, minutes);
}

/** Forgets every period seen (tests that want the statement's own checks to decide). */
export function forgetPeriodsSeen(): void {
  periodsSeen.clear();
}

/**
 * Groups of more events than this are written in their transaction: the more events, the likelier one of
 * them crosses a trigger, and a statement rolled back wastes all its work (a batch of 500's is heavy).
 */
export const MAX_EVENTS_WRITTEN_ALONE = 64;

/**
 * The checks of a group that may be written alone, one per period it writes to; null when it is known
 * before writing that something must follow the write (so it is written in its transaction at once).
 */
export function periodGuards(
  events: readonly GuardedEvent[],
  context: {
    /** Paused events whose recorded calls are read back after the write. */
    readBack: number;
    thresholds: readonly { accountId: string; percent: number }[];
    spendCaps: ReadonlyMap<string, SpendCap>;
    packAccounts: ReadonlySet<string>;
    autoTopUpAccounts: ReadonlySet<string>;
  },
): PeriodGuard[] | null {
  if (events.length === 0 || events.length > MAX_EVENTS_WRITTEN_ALONE || context.readBack > 0) return null;
  const guards = new Map<string, PeriodGuard>();
  const groupMinutes = new Map<string, number>();
  for (const event of events) {
    const { accountId, periodStart, subscription } = event;
    const periodOf = periodKey(accountId, periodStart);
    groupMinutes.set(periodOf, (groupMinutes.get(periodOf) ?? 0) + event.minutes);
    if (guards.has(periodOf)) continue;
    if (event.late || !isCurrentPeriodOf(subscription, periodStart)) return null;
    if (context.packAccounts.has(accountId) || context.autoTopUpAccounts.has(accountId)) return null;
    const { plan } = subscription;
    // The terms the period must record for `settlePeriodPlans` to keep them: those it would write.
    if (plan.overagePrice !== null && plan.overagePrice.currency !== plan.currency) return null;
    const cap = context.spendCaps.get(accountId) ?? null;
    const custom = context.thresholds.filter((t) => t.accountId === accountId).map((t) => t.percent);
    guards.set(periodOf, {
      account_id: accountId,
      period_start: periodStart.toISOString(),
      plan_id: plan.id,
      call_minutes_limit: plan.callMinutesLimit,
      overage_price: plan.overagePrice?.amount ?? null,
      currency: plan.currency,
      ticket: subscription.syncTicket.toString(),
      triggers: alertTriggerMinutes({
        limit: plan.callMinutesLimit,
        thresholds: alertThresholds(custom),
        price: plan.overagePrice,
        cap,
      }),
      cap_minutes: spendCapMinutes(cap, plan.overagePrice),
      cap_cents: cap?.amountCents ?? null,
      cap_currency: cap?.currency ?? null,
      overage_job: {
        payload: overageReportJob(accountId, periodStart).payload,
        job_key: reportOverageJobKey(accountId, periodStart),
      },
    });
  }
  // What this process saw of the periods says the checks would fail: the transaction at once.
  for (const [periodOf, guard] of guards) {
    const seen = periodsSeen.get(periodOf);
    if (seen === undefined) continue;
    const after = seen + (groupMinutes.get(periodOf) ?? 0);
    if (guard.triggers.some((m) => seen < m && m <= after)) return null;
  }
  return [...guards.values()];
}
