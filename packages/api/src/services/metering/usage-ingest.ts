// Usage ingestion: the calling platform reports finished calls; each call_id counts once, in the billing
// period that contains its start, and the per-period and per-day rollups move in the same transaction.
//
// Rules (see README "Metering"):
// - Billable minutes: per started minute of each call (`billableMinutes` / `callDurationSeconds` of
//   @minutely/domain): 0 s -> 0, 1..60 s -> 1, 61 s -> 2; fractions of a second round up; > 24 h rejected.
// - Idempotent per key, (account_id, call_id): the same call_id of another account is another call. An
//   event whose key is already recorded (or earlier in the same batch) is `duplicate` when it is the same
//   call (agent, direction, started_at and duration in whole seconds all equal), and rejected as
//   `call_id_conflict` when it differs: the recorded call stands and the difference is reported, never
//   dropped silently.
// - The period is the one of the account's subscription containing `started_at`; an event before the
//   current period start belongs to a closed period: recorded with `late: true`, counted in that period's
//   rollup (never the current one) and reported back as accepted and late. No alerts fire for it.
// - The period's rollup records the plan that governs it (`settlePeriodPlans`): the subscription's plan
//   while the period is current, kept once it has closed. Alert thresholds and the decision to report
//   overage use that plan, so a late event of a closed period is measured against the period's own plan.
// - Rejected (per event, with a reason): started more than 5 minutes in the future, more than 35 days ago
//   (LATE_WINDOW_DAYS) or before the account's first subscription, unknown account, agent_id not an agent
//   of that account, account that never had a subscription, started at or after the end of the account's
//   last subscription (`no_active_subscription`, as authorization denies it: never stored nor billed),
//   started while the subscription was paused (`subscription_paused`: inside a span of
//   subscription_pause_span, a collection pause in effect or Stripe's status `paused`, or from the end of a
//   trial without a card, which Stripe pauses before the sync has recorded it; also reported after
//   the pause ended; nothing was charged for it and authorization denied it: never stored nor billed; a
//   call recorded under its key before the span was opened is answered as recorded instead: duplicate or
//   call_id_conflict),
//   invalid duration. A call that started before that end counts, late, in the subscription's last period.
//   These checks run before anything is written, so every date that reaches the database lies in that window.
//
// The batch is written with set-based SQL in one transaction: one statement that inserts the calls' keys
// into usage_call_key (ON CONFLICT DO NOTHING RETURNING) and the events of exactly the
// keys it inserted into usage_event (what was really inserted counts; a concurrent batch with the same key
// waits on the key's unique index and then skips it, and the row it skipped for is read back to tell a
// duplicate from a conflict), then one upsert per rollup table aggregated per key. usage_event is
// partitioned by started_at, so it cannot have a unique index on the key alone: usage_call_key is that
// index, and a foreign key from each event to its key row (with its started_at) lets no call have two
// events, even reported with two started_at in two partitions (docs/usage-partitions.md).
// Every statement touches rows in key order, so concurrent batches cannot deadlock.
import { Prisma, sqlStateOf } from "@minutely/db";
import {
  billableMinutes,
  billableOverageMinutes,
  type CallDirection,
  callDurationSeconds,
  MS_PER_DAY,
  MS_PER_MINUTE,
  pauseSpanAt,
  spendCapMinutes,
  trialPauseFrom,
} from "@minutely/domain";
import type { Ports } from "../../context.ts";
import type { QueuedJob } from "../../ports/queue.ts";
import { type SqlTransaction, withSqlTransaction } from "../../sql-transaction.ts";
import { isUuid } from "../ids.ts";
import { date, int, intOrNull, rows, text, textOrNull } from "../json-rows.ts";
import { overageReportJob } from "./overage.ts";
import { drawFromPacks } from "./pack-draws.ts";
import {
  PERIOD_PLAN_COLUMNS,
  type PeriodPlan,
  type PeriodPlanColumns,
  recordedPeriodPlan,
  settlePeriodPlans,
} from "./period-plans.ts";
import { nowFor, periodContaining } from "./periods.ts";
import {
  endedBy,
  loadMeteringContext,
  METERING_TX_OPTIONS,
  type MeteringSubscription,
  spendCapsOf,
} from "./subscription.ts";
import { type PeriodUsageChange, recordCrossedAlerts } from "./usage-alerts.ts";
import {
  type PeriodGuard,
  periodGuards,
  rememberPeriod,
  WRITE_NEEDS_TRANSACTION,
} from "./usage-write-guard.ts";

/** Events per request, at most. */
export const MAX_EVENTS_PER_BATCH = 1000;
/**
 * Events per transaction, at most: reports written together (group commit, usage-coalescer.ts) may hold two
 * full requests. On the bench's two cores 2,000 wrote more events a second than 1,000 or 4,000 (the
 * transactions of concurrent batches of many accounts wait on the same period rows: fewer, larger ones
 * wait less in all).
 */
export const MAX_EVENTS_PER_TRANSACTION = 2 * MAX_EVENTS_PER_BATCH;
/** Clock skew tolerated for `started_at` in the future. */
export const FUTURE_TOLERANCE_MS = 5 * MS_PER_MINUTE;
/**
 * How far back a late event is still accepted: 35 days, as Stripe's meter events. Older calls are rejected
 * (`too_old`): their periods have been invoiced long ago, and no date outside the window, however absurd
 * (year 1, 1582), ever reaches the period arithmetic or the database.
 */
export const LATE_WINDOW_DAYS = 35;
export const LATE_WINDOW_MS = LATE_WINDOW_DAYS * MS_PER_DAY;

export interface UsageEventInput {
  callId: string;
  accountId: string;
  agentId?: string | null | undefined;
  direction: CallDirection;
  startedAt: Date;
  /** Either the end of the call or its duration in seconds. */
  endedAt?: Date | undefined;
  durationSeconds?: number | undefined;
}

/** Why an event is rejected, as the API names it (the metering route's documented enum is this list). */
export const USAGE_REJECTION_REASONS = [
  "invalid_timestamp",
  "invalid_duration",
  "ended_before_started",
  "too_long",
  "started_in_future",
  "too_old",
  "before_subscription",
  "unknown_account",
  "account_deleted",
  "unknown_agent",
  "no_subscription",
  "no_active_subscription",
  "subscription_paused",
  "call_id_conflict",
] as const;

const ACCOUNT_DELETED = "This account was deleted; its usage is no longer accepted.";

export type UsageRejectionReason = (typeof USAGE_REJECTION_REASONS)[number];

export type UsageEventResult =
  | {
      callId: string;
      status: "accepted";
      billableMinutes: number;
      durationSeconds: number;
      periodStart: Date;
      late: boolean;
    }
  | { callId: string; status: "duplicate" }
  | { callId: string; status: "rejected"; reason: UsageRejectionReason; message: string };

export interface IngestResult {
  results: UsageEventResult[];
  accepted: number;
  duplicates: number;
  rejected: number;
  late: number;
}

interface Candidate {
  index: number;
  callId: string;
  accountId: string;
  agentId: string | null;
  direction: CallDirection;
  startedAt: Date;
  seconds: number;
  minutes: number;
  periodStart: Date;
  periodEnd: Date;
  late: boolean;
  /** The account's now when the event arrived (received_at; its test clock's time, if ahead). */
  receivedAt: Date;
  subscription: MeteringSubscription;
}

function durationOf(event: UsageEventInput) {
  if (event.endedAt !== undefined) {
    return callDurationSeconds({ startedAt: event.startedAt, endedAt: event.endedAt });
  }
  if (event.durationSeconds === undefined) {
    return {
      ok: false as const,
      reason: "INVALID_DURATION" as const,
      message: "Give ended_at or duration_seconds",
    };
  }
  return callDurationSeconds({ startedAt: event.startedAt, durationSeconds: event.durationSeconds });
}

function rejection(callId: string, reason: UsageRejectionReason, message: string): UsageEventResult {
  return { callId, status: "rejected", reason, message };
}

const DURATION_REASONS = {
  INVALID_TIMESTAMP: "invalid_timestamp",
  INVALID_DURATION: "invalid_duration",
  ENDED_BEFORE_STARTED: "ended_before_started",
  TOO_LONG: "too_long",
} as const satisfies Record<string, UsageRejectionReason>;

function key(...parts: (string | number)[]): string {
  return parts.join("|");
}

/** What identifies a recorded call beyond its key: an event with the same key and these is the same call. */
interface StoredCall {
  agentId: string | null;
  direction: CallDirection;
  startedAt: Date;
  seconds: number;
  /** The call's key is kept but its event is not: its month was detached for retention (archived). */
  archived?: true;
}

/** The fields of `reported` that differ from `recorded`, as "name: recorded, reported" phrases. */
function differences(recorded: StoredCall, reported: StoredCall): string[] {
  const out: string[] = [];
  const agent = (id: string | null) => (id === null ? "none" : id.toLowerCase());
  if (agent(recorded.agentId) !== agent(reported.agentId))
    out.push(`agent_id ${agent(recorded.agentId)} recorded, ${agent(reported.agentId)} reported`);
  if (recorded.direction !== reported.direction)
    out.push(`direction ${recorded.direction} recorded, ${reported.direction} reported`);
  if (recorded.startedAt.getTime() !== reported.startedAt.getTime())
    out.push(
      `started_at ${recorded.startedAt.toISOString()} recorded, ${reported.startedAt.toISOString()} reported`,
    );
  if (recorded.seconds !== reported.seconds)
    out.push(`duration_seconds ${recorded.seconds} recorded, ${reported.seconds} reported`);
  return out;
}

/** `duplicate` when `reported` is the call recorded under its key, else a `call_id_conflict` saying how. */
function sameCallOrConflict(callId: string, recorded: StoredCall, reported: StoredCall): UsageEventResult {
  if (recorded.archived) {
    return rejection(
      callId,
      "call_id_conflict",
      `This account already has a call with this call_id, started at ${recorded.startedAt.toISOString()}, ` +
        "whose month is archived; the recorded call stands. Report a different call under a new call_id.",
    );
  }
  const diff = differences(recorded, reported);
  if (diff.length === 0) return { callId, status: "duplicate" };
  return rejection(
    callId,
    "call_id_conflict",
    `This account already has a call with this call_id, with other details (${diff.join("; ")}); the ` +
      "recorded call stands. Report a different call under a new call_id.",
  );
}

/**
 * The calls recorded under `keys` (account, call_id), by key: to compare a replay or a conflict with what
 * is recorded. A key whose month was detached (docs/usage-partitions.md) comes back `archived`.
 */
async function storedCalls(
  sql: SqlTransaction,
  keys: readonly { accountId: string; callId: string }[],
): Promise<Map<string, StoredCall>> {
  const stored = new Map<string, StoredCall>();
  if (keys.length === 0) return stored;
  const recorded = await sql.$queryRaw<
    {
      account_id: string;
      call_id: string;
      agent_id: string | null;
      direction: CallDirection | null;
      started_at: Date;
      duration_seconds: number | null;
    }[]
  >`
    SELECT c.account_id::text AS account_id, c.call_id, e.agent_id::text AS agent_id, e.direction,
      c.started_at, e.duration_seconds
    FROM unnest(${keys.map((c) => c.accountId)}::uuid[], ${keys.map((c) => c.callId)}::text[])
      AS k(account_id, call_id)
    JOIN usage_call_key c ON c.account_id = k.account_id AND c.call_id = k.call_id
    LEFT JOIN usage_event e
      ON e.account_id = c.account_id AND e.call_id = c.call_id AND e.started_at = c.started_at`;
  for (const r of recorded) {
    // No event for a kept key: its month was detached (docs/usage-partitions.md), the call still counted.
    stored.set(
      key(r.account_id, r.call_id),
      r.direction === null || r.duration_seconds === null
        ? { agentId: null, direction: "outbound", startedAt: r.started_at, seconds: 0, archived: true }
        : {
            agentId: r.agent_id,
            direction: r.direction,
            startedAt: r.started_at,
            seconds: r.duration_seconds,
          },
    );
  }
  return stored;
}

/** Records a batch of usage events; see the module comment for the rules. */
export async function ingestUsageEvents(
  ports: Pick<Ports, "db" | "clock" | "queue">,
  events: readonly UsageEventInput[],
): Promise<IngestResult> {
  if (events.length > MAX_EVENTS_PER_TRANSACTION) {
    throw new RangeError(
      `at most ${MAX_EVENTS_PER_TRANSACTION} events per transaction, got ${events.length}`,
    );
  }
  // The database spells ids in lower case; a UUID is the same id in either case.
  const normalized = events.map((e) => ({
    ...e,
    accountId: e.accountId.toLowerCase(),
    agentId: typeof e.agentId === "string" ? e.agentId.toLowerCase() : e.agentId,
  }));
  try {
    return await ingestBatch(ports, normalized);
  } catch (error) {
    // An account or agent deleted between the batch's read and its write breaks a foreign key and rolls the
    // whole transaction back: read again and write once more, so that account's events are rejected as
    // unknown and every other event of the batch still counts (a second failure is a real error).
    if (sqlStateOf(error) === "23503") return await ingestBatch(ports, normalized);
    throw error;
  }
}

async function ingestBatch(
  ports: Pick<Ports, "db" | "clock" | "queue">,
  events: readonly UsageEventInput[],
): Promise<IngestResult> {
  const wallNow = ports.clock.now();
  const results: (UsageEventResult | undefined)[] = new Array(events.length);

  const accountIds = [...new Set(events.map((e) => e.accountId).filter(isUuid))];
  const agentIds = [
    ...new Set(
      events.map((e) => e.agentId).filter((id): id is string => typeof id === "string" && isUuid(id)),
    ),
  ];
  // One statement: the accounts, their agents named, subscriptions with packages, alert thresholds.
  const {
    accounts: knownAccounts,
    deletedAccounts,
    agents,
    subscriptions,
    thresholds,
    spendCaps,
    packAccounts,
    autoTopUpAccounts,
    pauseSpans,
  } = await loadMeteringContext(
    ports.db,
    accountIds,
    agentIds,
    // An account's now is never behind the wall clock: a span ended before this is outside every late window.
    new Date(wallNow.getTime() - LATE_WINDOW_MS),
  );

  const candidates: Candidate[] = [];
  const firstValid = new Map<string, Candidate>();
  /** Later events of a key already in this batch: compared, after the write, with what is recorded. */
  const repeats: Candidate[] = [];
  /** Events rejected `subscription_paused`: compared, after the write, with a call recorded under their key. */
  const pausedEvents: (StoredCall & { index: number; callId: string; accountId: string })[] = [];
  for (const [index, event] of events.entries()) {
    const { callId } = event;
    // The account's now (its test clock's time, if ahead of ours): the time checks and placement use it.
    const now = nowFor(
      isUuid(event.accountId) ? (subscriptions.get(event.accountId) ?? null) : null,
      wallNow,
    );
    const duration = durationOf(event);
    if (!duration.ok) {
      results[index] = rejection(callId, DURATION_REASONS[duration.reason], duration.message);
      continue;
    }
    // The account before the time window: a deleted account's events are refused as such whatever their
    // dates (its clock, a test clock, may have run far ahead of the platform's), so the platform learns
    // the one thing that matters, that the account is gone.
    if (!knownAccounts.has(event.accountId)) {
      results[index] = rejection(callId, "unknown_account", "No account has this account_id.");
      continue;
    }
    if (deletedAccounts.has(event.accountId)) {
      results[index] = rejection(callId, "account_deleted", ACCOUNT_DELETED);
      continue;
    }
    if (event.startedAt.getTime() > now.getTime() + FUTURE_TOLERANCE_MS) {
      results[index] = rejection(
        callId,
        "started_in_future",
        "started_at is more than 5 minutes in the future; check the caller's clock.",
      );
      continue;
    }
    if (!(event.startedAt.getTime() >= now.getTime() - LATE_WINDOW_MS)) {
      results[index] = rejection(
        callId,
        "too_old",
        `started_at is more than ${LATE_WINDOW_DAYS} days ago (before ${new Date(now.getTime() - LATE_WINDOW_MS).toISOString()}); late calls are accepted for ${LATE_WINDOW_DAYS} days.`,
      );
      continue;
    }
    const agentId = event.agentId ?? null;
    if (agentId !== null && agents.get(agentId)?.accountId !== event.accountId) {
      results[index] = rejection(callId, "unknown_agent", "agent_id is not an agent of this account.");
      continue;
    }
    const subscription = subscriptions.get(event.accountId);
    if (!subscription) {
      results[index] = rejection(
        callId,
        "no_subscription",
        "This account has never had a subscription; calls should have been denied at authorization.",
      );
      continue;
    }
    if (event.startedAt.getTime() < subscription.firstStartedAt.getTime()) {
      results[index] = rejection(
        callId,
        "before_subscription",
        `started_at is before the account's first subscription began (${subscription.firstStartedAt.toISOString()}).`,
      );
      continue;
    }
    if (endedBy(subscription, event.startedAt)) {
      results[index] = rejection(
        callId,
        "no_active_subscription",
        `started_at is at or after the end of the account's last subscription (${subscription.endedAt?.toISOString()}); calls should have been denied at authorization.`,
      );
      continue;
    }
    // A trial without a card is paused from its end before the sync records that span (trialPauseFrom).
    const trialPause = trialPauseFrom(subscription.status, subscription.trialEnd, subscription.cardOnFile);
    const paused =
      pauseSpanAt(pauseSpans.get(event.accountId) ?? [], event.startedAt) ??
      pauseSpanAt(trialPause ? [{ startsAt: trialPause, endsAt: null }] : [], event.startedAt);
    const call = {
      index,
      callId,
      accountId: event.accountId,
      agentId,
      direction: event.direction,
      startedAt: event.startedAt,
      seconds: duration.seconds,
    };
    if (paused) {
      // A call recorded before its pause was (a started_at in the future tolerance, read before the span
      // opened) is answered as recorded on a retry (duplicate or call_id_conflict), after the write.
      pausedEvents.push(call);
      results[index] = rejection(
        callId,
        "subscription_paused",
        `started_at is while the subscription was paused (from ${paused.startsAt.toISOString()}${paused.endsAt ? ` until ${paused.endsAt.toISOString()}` : ", until resumed"}): nothing is charged for a pause and calls should have been denied at authorization, so the call is neither recorded nor billed.`,
      );
      continue;
    }
    const placement = periodContaining(subscription, event.startedAt);
    const { period } = placement;
    // Once the subscription has ended its last period is closed: a call of it is late (no alerts fire).
    const late = placement.late || subscription.endedAt !== null;
    const candidate: Candidate = {
      ...call,
      minutes: billableMinutes(duration.seconds),
      periodStart: period.start,
      periodEnd: period.end,
      late,
      receivedAt: now,
      subscription,
    };
    const eventKey = key(event.accountId, callId);
    if (firstValid.has(eventKey)) {
      repeats.push(candidate);
      continue;
    }
    firstValid.set(eventKey, candidate);
    candidates.push(candidate);
  }

  // The keys of paused events that no candidate has: the calls recorded under them are read in the write's
  // transaction, so that nothing can fail once it has committed (a group failing then would be split and
  // written again, and its events, recorded, answered as duplicates).
  const pausedKeys = pausedEvents.filter((p) => !firstValid.has(key(p.accountId, p.callId)));
  // A group that needs nothing after its write is written alone (one autocommit statement, which checks
  // that); any other, or one whose statement found otherwise, in its transaction.
  const guards = periodGuards(candidates, {
    readBack: pausedKeys.length,
    thresholds,
    spendCaps,
    packAccounts,
    autoTopUpAccounts,
  });
  // The write's input (the candidates sorted, as JSON), built once for either way of writing it.
  const input = candidates.length === 0 ? null : writeInput(candidates);
  const written =
    input === null
      ? // Nothing to write: nothing is lost if this read fails.
        { inserted: new Set<string>(), stored: await storedCalls(ports.db, pausedKeys) }
      : ((guards && (await writeAlone(ports, input, guards, wallNow))) ??
        (await withSqlTransaction(ports.db, METERING_TX_OPTIONS, (tx) =>
          writeBatch(
            tx,
            ports.queue,
            input,
            pausedKeys,
            thresholds,
            { packAccounts, autoTopUpAccounts },
            wallNow,
          ),
        )));

  for (const c of candidates) {
    const eventKey = key(c.accountId, c.callId);
    if (written.inserted.has(eventKey)) {
      results[c.index] = {
        callId: c.callId,
        status: "accepted",
        billableMinutes: c.minutes,
        durationSeconds: c.seconds,
        periodStart: c.periodStart,
        late: c.late,
      };
      continue;
    }
    const stored = written.stored.get(eventKey);
    // Not inserted and not found: the account, there when the batch was read, was deleted meanwhile.
    results[c.index] = stored
      ? sameCallOrConflict(c.callId, stored, c)
      : rejection(c.callId, "account_deleted", ACCOUNT_DELETED);
  }
  // A repeat is compared with the call recorded under its key: the batch's first event of that key if it
  // was inserted, else the row it was skipped for (the first event may itself be a conflict).
  for (const c of repeats) {
    const eventKey = key(c.accountId, c.callId);
    const recorded = written.inserted.has(eventKey) ? firstValid.get(eventKey) : written.stored.get(eventKey);
    results[c.index] = recorded
      ? sameCallOrConflict(c.callId, recorded, c)
      : rejection(c.callId, "account_deleted", ACCOUNT_DELETED);
  }
  if (pausedEvents.length > 0) {
    for (const p of pausedEvents) {
      const eventKey = key(p.accountId, p.callId);
      // The call this batch recorded under the key counts only if it came before the paused event: a report
      // later in the batch (or in a later report of its group) was not recorded yet when this one came, and
      // alone, one after the other, this event would have been refused as paused.
      const first = firstValid.get(eventKey);
      const recorded = written.inserted.has(eventKey)
        ? first && first.index < p.index
          ? first
          : undefined
        : written.stored.get(eventKey);
      if (recorded) results[p.index] = sameCallOrConflict(p.callId, recorded, p);
    }
  }
  const final = results.map((r, i) => {
    if (!r) throw new Error(`usage event ${i} was not processed`);
    return r;
  });
  return {
    results: final,
    accepted: final.filter((r) => r.status === "accepted").length,
    duplicates: final.filter((r) => r.status === "duplicate").length,
    rejected: final.filter((r) => r.status === "rejected").length,
    late: final.filter((r) => r.status === "accepted" && r.late).length,
  };
}

interface PeriodDelta {
  accountId: string;
  periodStart: Date;
  periodEnd: Date;
  late: boolean;
  minutes: number;
  seconds: number;
  calls: number;
  subscription: MeteringSubscription;
}

type UpdatedRollup = {
  account_id: string;
  period_start: Date;
  minutes: number;
  overage_reported: number;
  pack_minutes_drawn: number;
} & PeriodPlanColumns;

/**
 * The period rollups this batch moved, each with its delta and the plan that governs the period (recorded
 * on the row by `settlePeriodPlans`: the subscription's plan if the period is its current one, else the
 * plan the period already records).
 */
async function governedRollups(
  tx: SqlTransaction,
  updated: readonly UpdatedRollup[],
  periods: ReadonlyMap<string, PeriodDelta>,
): Promise<{ row: UpdatedRollup; delta: PeriodDelta; plan: PeriodPlan }[]> {
  const touched = updated.map((row) => {
    const delta = periods.get(key(row.account_id, row.period_start.getTime()));
    if (!delta)
      throw new Error(`rollup ${row.account_id}/${row.period_start.toISOString()} was not in the batch`);
    return { row, delta };
  });
  const plans = await settlePeriodPlans(
    tx,
    touched.map(({ row, delta }) => ({
      accountId: delta.accountId,
      periodStart: delta.periodStart,
      recorded: recordedPeriodPlan(row),
      subscription: delta.subscription,
    })),
  );
  return touched.map((t, i) => {
    const plan = plans[i];
    // Cannot happen: every delta has a subscription, which offers a plan when none is recorded.
    if (!plan)
      throw new Error(`usage period ${t.delta.accountId}/${t.delta.periodStart.toISOString()} has no plan`);
    return { ...t, plan };
  });
}

/** A group's events as the write statement takes them: in key order, as one JSON document. */
interface WriteInput {
  sorted: Candidate[];
  accountIds: string[];
  eventRows: string;
}

function writeInput(candidates: readonly Candidate[]): WriteInput {
  const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const sorted = [...candidates].sort(
    (a, b) => compare(a.accountId, b.accountId) || compare(a.callId, b.callId),
  );
  // The rows travel as one JSON document rather than one array per column: a 500-event batch is then one
  // parameter to serialize instead of 5,000 array elements (most of the driver's and Prisma's cost).
  const accountIds = [...new Set(sorted.map((c) => c.accountId))];
  const eventRows = JSON.stringify(
    sorted.map((c) => [
      c.callId,
      c.accountId,
      c.agentId,
      c.direction,
      c.startedAt.toISOString(),
      c.seconds,
      c.minutes,
      c.periodStart.toISOString(),
      c.late,
      c.receivedAt.toISOString(),
      c.periodEnd.toISOString(),
    ]),
  );
  return { sorted, accountIds, eventRows };
}

/** What the write statement returns. */
interface WriteRow {
  inserted: unknown;
  periods: unknown;
  settled: number | null;
  /** The accounts' budgets once the period rows were held (`spendCapsOf` rows). */
  spend_caps: unknown;
}

/**
 * The write statement: one round trip writes everything the events move, each table in key order.
 * k: the keys (the dedupe, across partitions); ev: the events of exactly the keys k inserted (what was
 * really inserted counts: a concurrent batch with the same key waits on the key's unique index, then
 * skips it); p: the period rollups by (account, period); d: the daily rollups by (account, UTC day,
 * agent, direction); last, the calls' reservations settled. It returns the keys inserted and the period
 * rows as they are now (their plan columns too), locked by its transaction until it ends. With `guards`
 * it is written alone (autocommit) and ends by checking that nothing has to follow it
 * (usage-write-guard.ts): if something does, it raises and nothing of it stays.
 */
function writeStatement(input: WriteInput, now: Date, alone: WrittenAlone | null): Prisma.Sql {
  const { accountIds, eventRows } = input;
  return Prisma.sql`
    WITH e AS MATERIALIZED (
      SELECT e.v->>0 AS call_id, (e.v->>1)::uuid AS account_id, (e.v->>2)::uuid AS agent_id,
        (e.v->>3)::"CallDirection" AS direction, (e.v->>4)::timestamptz AS started_at,
        (e.v->>5)::int AS duration_seconds, (e.v->>6)::int AS billable_minutes,
        (e.v->>7)::timestamptz AS period_start, (e.v->>8)::bool AS late,
        (e.v->>9)::timestamptz AS received_at, (e.v->>10)::timestamptz AS period_end, e.n
      FROM jsonb_array_elements(${eventRows}::jsonb) WITH ORDINALITY AS e(v, n)
      -- Only accounts not deleted, each locked FOR KEY SHARE (what the foreign keys take anyway): an account
      -- deletion in flight (accounts/deletion.ts locks the row FOR UPDATE) is waited for, and its account
      -- then fails deleted_at IS NULL, so no call is recorded for an account once it is deleted.
      WHERE (e.v->>1)::uuid IN (
        SELECT account.id FROM account
        WHERE account.id = ANY(${accountIds}::uuid[]) AND account.deleted_at IS NULL
        ORDER BY account.id FOR KEY SHARE)
    ), k AS (
      INSERT INTO usage_call_key (account_id, call_id, started_at)
      SELECT account_id, call_id, started_at FROM e ORDER BY n
      -- No conflict target: both unique indexes of the key are arbiters (a concurrent insert of the same
      -- key and started_at would otherwise fail on the second one instead of being skipped).
      ON CONFLICT DO NOTHING
      RETURNING account_id, call_id
    ), ks AS MATERIALIZED (
      -- The keys k inserted as one jsonb object (account id, a space, call id): looking an event up in it is
      -- a binary search, whatever plan the statement gets. A join of e with k was planned as a nested loop
      -- (the planner cannot estimate a CTE's rows), n x n comparisons: a 500-event batch spent most of its
      -- statement there, and 1,000 events four times as long.
      SELECT jsonb_object_agg(k.account_id::text || ' ' || k.call_id, true) AS keys FROM k
    ), fresh AS MATERIALIZED (
      -- The events of exactly the keys k inserted: a concurrent batch with the same key waited on the key's
      -- unique index and then skipped it. Each of them is inserted below (the key it refers to is there), so
      -- the rollups sum these rows.
      SELECT e.* FROM e, ks WHERE ks.keys ? (e.account_id::text || ' ' || e.call_id)
    ), ev AS (
      INSERT INTO usage_event
        (call_id, account_id, agent_id, direction, started_at, duration_seconds, billable_minutes,
         period_start, late, received_at)
      SELECT call_id, account_id, agent_id, direction, started_at, duration_seconds, billable_minutes,
        period_start, late, received_at
      FROM fresh
      ORDER BY n
      RETURNING account_id, call_id
    ), p AS (
      INSERT INTO usage_period_rollup
        (account_id, period_start, period_end, minutes, seconds, calls, overage_reported, updated_at)
      SELECT account_id, period_start, max(period_end), sum(billable_minutes)::int,
        sum(duration_seconds)::bigint, count(*)::int, 0, ${now}
      FROM fresh
      GROUP BY account_id, period_start
      ORDER BY account_id, period_start
      ON CONFLICT (account_id, period_start) DO UPDATE SET
        minutes = usage_period_rollup.minutes + EXCLUDED.minutes,
        seconds = usage_period_rollup.seconds + EXCLUDED.seconds,
        calls = usage_period_rollup.calls + EXCLUDED.calls,
        updated_at = EXCLUDED.updated_at
      RETURNING account_id, period_start, minutes, overage_reported, pack_minutes_drawn, ${PERIOD_PLAN_COLUMNS}
    ), d AS (
      INSERT INTO usage_daily_rollup (account_id, day, agent_key, direction, minutes, calls)
      SELECT account_id, (started_at AT TIME ZONE 'UTC')::date,
        coalesce(agent_id::text, ''), direction, sum(billable_minutes)::int, count(*)::int
      FROM fresh
      GROUP BY 1, 2, 3, 4
      ORDER BY 1, 2, 3, 4
      ON CONFLICT (account_id, day, agent_key, direction) DO UPDATE SET
        minutes = usage_daily_rollup.minutes + EXCLUDED.minutes,
        calls = usage_daily_rollup.calls + EXCLUDED.calls
    ), caps AS MATERIALIZED (
      -- The accounts' budgets once every period row above is held (the one-time filter reads all of p
      -- first), in a snapshot of the function's own: a budget changed while the statement waited for a row
      -- (setSpendCap holds the period's lock while it writes the budget) is the one the alerts and the
      -- overage go by (migration 20261207210000).
      SELECT minutely_spend_caps(${accountIds}::uuid[]) AS j WHERE (SELECT count(*) FROM p) >= 0
    )${alone === null ? Prisma.empty : guardCtes(alone, input.sorted.length)}
    SELECT
      (SELECT jsonb_agg(jsonb_build_array(ev.account_id, ev.call_id)) FROM ev) AS inserted,
      (SELECT jsonb_agg(jsonb_build_object('account_id', p.account_id, 'period_start', p.period_start,
          'minutes', p.minutes, 'overage_reported', p.overage_reported,
          'pack_minutes_drawn', p.pack_minutes_drawn, 'plan_id', p.plan_id,
          'call_minutes_limit', p.call_minutes_limit,
          'overage_price_cents_per_minute', p.overage_price_cents_per_minute, 'currency', p.currency,
          'plan_sync_ticket', p.plan_sync_ticket))
        FROM p) AS periods,
      -- The reported calls settle their reservations once every period row above is held (the one-time
      -- filter reads all of p first): the write may have waited on a period row that a call authorization
      -- held, and the reservation that authorization committed meanwhile is not in this statement's
      -- snapshot; the function is VOLATILE and takes its own (migration 20261207140000).
      (SELECT minutely_settle_reservations(array_agg(ev.account_id), array_agg(ev.call_id)::text[])
        FROM ev WHERE (SELECT count(*) FROM p) >= 0) AS settled,
      (SELECT j FROM caps) AS spend_caps${alone === null ? Prisma.empty : GUARD_COLUMNS}`;
}

/** What a statement written alone adds (usage-write-guard.ts): its checks, and its overage jobs queued. */
interface WrittenAlone {
  guards: readonly PeriodGuard[];
  /** The queue's FROM item that queues a report-overage job per row (JobQueue.recordAndEnqueue). */
  enqueueAll: (rows: Prisma.Sql) => Prisma.Sql;
}

/**
 * The checks of a statement written alone (usage-write-guard.ts), per period row p returned: that it is one
 * of the group's periods, records the plan the subscription offers, and that no alert trigger lies in
 * (minutes before, minutes after]; and that every event was inserted. The overage the period's plan and
 * budget make billable, beyond what is reported, gets the period's report-overage job, as in writeBatch,
 * unless that job is waiting already with no attempt counted (`minutely_job_waiting`, migration
 * 20261207230000): an account in overage reports calls far more often than its job runs, and re-queueing
 * the waiting job (graphile-worker's add_jobs: four statements and a NOTIFY waking every worker) only moved
 * its run_at. A job put back after an outage (its attempt given back, due at the end of its backoff) is
 * such a job too: it is left to its backoff (before, every report made it due at once and reset its outage
 * count). That waiting job reports these minutes too: the check runs once the statement holds the period
 * row (a VOLATILE function, its own snapshot), so a worker taking the job after it waits for this
 * statement's row before deciding (`reportOverage` locks it), and a job taken before it is no longer
 * waiting (locked), so it is queued again as before (add_jobs then adds a new job beside the running one).
 */
function guardCtes({ guards, enqueueAll }: WrittenAlone, events: number): Prisma.Sql {
  return Prisma.sql`, g AS (
      SELECT (x->>'account_id')::uuid AS account_id, (x->>'period_start')::timestamptz AS period_start,
        (x->>'plan_id')::uuid AS plan_id, (x->>'call_minutes_limit')::int AS call_minutes_limit,
        (x->>'overage_price')::int AS overage_price, x->>'currency' AS currency,
        (x->>'ticket')::bigint AS ticket, x->'triggers' AS triggers, (x->>'cap_minutes')::bigint AS cap_minutes,
        (x->>'cap_cents')::int AS cap_cents, x->>'cap_currency' AS cap_currency, x->'overage_job' AS overage_job
      FROM jsonb_array_elements(${JSON.stringify(guards)}::jsonb) AS x
    ), checked AS (
      SELECT p.account_id, p.period_start, p.minutes::bigint AS after,
        p.minutes::bigint - coalesce((SELECT sum(f.billable_minutes) FROM fresh f
          WHERE f.account_id = p.account_id AND f.period_start = p.period_start), 0) AS before,
        g.account_id IS NOT NULL
          AND p.plan_id IS NOT DISTINCT FROM g.plan_id
          AND p.call_minutes_limit IS NOT DISTINCT FROM g.call_minutes_limit
          AND p.overage_price_cents_per_minute IS NOT DISTINCT FROM g.overage_price
          AND lower(btrim(p.currency)) IS NOT DISTINCT FROM g.currency
          AND p.plan_sync_ticket::bigint IS NOT DISTINCT FROM g.ticket AS plan_kept,
        (SELECT c.v->>'cents' FROM caps, jsonb_array_elements(caps.j) AS c(v)
          WHERE (c.v->>'account_id')::uuid = p.account_id)::int IS NOT DISTINCT FROM g.cap_cents
          AND (SELECT lower(btrim(c.v->>'currency')) FROM caps, jsonb_array_elements(caps.j) AS c(v)
            WHERE (c.v->>'account_id')::uuid = p.account_id) IS NOT DISTINCT FROM g.cap_currency AS cap_kept,
        g.triggers,
        g.overage_price IS NOT NULL
          AND least(greatest(0, p.minutes::bigint - g.call_minutes_limit - p.pack_minutes_drawn),
            coalesce(g.cap_minutes, ${Number.MAX_SAFE_INTEGER}::bigint)) > p.overage_reported AS overage,
        g.overage_job
      FROM p LEFT JOIN g ON g.account_id = p.account_id AND g.period_start = p.period_start
    ), verdict AS (
      SELECT (SELECT count(*) FROM ev) = ${events}::int
        AND NOT EXISTS (
          SELECT 1 FROM checked c WHERE c.plan_kept IS NOT TRUE OR c.cap_kept IS NOT TRUE OR EXISTS (
            SELECT 1 FROM jsonb_array_elements_text(c.triggers) AS t(m)
            WHERE c.before < t.m::bigint AND t.m::bigint <= c.after)) AS alone
    ), jobs AS (
      SELECT count(*) AS queued FROM ${enqueueAll(Prisma.sql`
        SELECT (c.overage_job->'payload')::json AS payload, c.overage_job->>'job_key' AS job_key,
          NULL::text AS queue_name
        FROM checked c WHERE c.overage AND c.plan_kept AND c.cap_kept
          AND NOT minutely_job_waiting(c.overage_job->>'job_key')
        ORDER BY c.account_id, c.period_start`)}
    )`;
}

const GUARD_COLUMNS = Prisma.sql`,
      (SELECT minutely_write_guard(v.alone, 'a replay, a plan to record, a budget changed or an alert', NULL)
        FROM verdict v)
        AS guarded,
      (SELECT queued FROM jobs) AS overage_reports`;

/** The keys (account, call) the write statement inserted. */
function insertedKeys(written: WriteRow | undefined): Set<string> {
  return new Set(
    rows(written?.inserted).map((pair) => {
      const [accountId, callId] = pair as unknown as [string, string];
      return key(accountId, callId);
    }),
  );
}

/**
 * Writes a group alone, in one autocommit statement, when nothing has to follow the write but the overage
 * reports it queues itself (usage-write-guard.ts); null when the statement found that something does
 * (nothing of it stays), and the group must be written in its transaction.
 */
async function writeAlone(
  ports: Pick<Ports, "db" | "queue">,
  input: WriteInput,
  guards: readonly PeriodGuard[],
  now: Date,
): Promise<{ inserted: Set<string>; stored: Map<string, StoredCall> } | null> {
  try {
    // On the ports' database, as the transaction (the queue port's may be another client of it).
    const [written] = await ports.queue.recordAndEnqueue<WriteRow, "report-overage">(
      "report-overage",
      (enqueueAll) => writeStatement(input, now, { guards, enqueueAll }),
      { db: ports.db },
    );
    for (const period of rows(written?.periods)) {
      rememberPeriod(text(period, "account_id"), date(period, "period_start"), int(period, "minutes"));
    }
    return { inserted: insertedKeys(written), stored: new Map() };
  } catch (error) {
    if (sqlStateOf(error) === WRITE_NEEDS_TRANSACTION) return null;
    throw error;
  }
}

async function writeBatch(
  tx: SqlTransaction,
  queue: Ports["queue"],
  input: WriteInput,
  /** More keys whose recorded calls to read back (paused events'), in the same transaction. */
  alsoRead: readonly { accountId: string; callId: string }[],
  thresholds: readonly { accountId: string; percent: number }[],
  packs: { packAccounts: ReadonlySet<string>; autoTopUpAccounts: ReadonlySet<string> },
  now: Date,
): Promise<{ inserted: Set<string>; stored: Map<string, StoredCall> }> {
  // Whatever follows the write statement here is what usage-write-guard.ts checks is not needed when a
  // group is written alone: a step added below needs its check there too.
  const [written] = await tx.$queryRaw<WriteRow[]>(writeStatement(input, now, null));
  const { sorted } = input;
  const inserted = insertedKeys(written);
  // The budgets as they are now that the period rows are held (not as the context read found them): a
  // budget changed meanwhile governs the alerts and the overage below.
  const spendCaps = spendCapsOf(written?.spend_caps);

  // The calls already recorded under the other keys (a replay, or a conflict): read back to compare.
  const skipped = sorted.filter((c) => !inserted.has(key(c.accountId, c.callId)));
  const stored = await storedCalls(tx, [...skipped, ...alsoRead]);
  if (inserted.size === 0) return { inserted, stored };
  const fresh = sorted.filter((c) => inserted.has(key(c.accountId, c.callId)));

  // What the statement added to each period (the same sums, of the same events), for alerts and overage.
  const periods = new Map<string, PeriodDelta>();
  for (const c of fresh) {
    const pk = key(c.accountId, c.periodStart.getTime());
    const p = periods.get(pk) ?? {
      accountId: c.accountId,
      periodStart: c.periodStart,
      periodEnd: c.periodEnd,
      late: c.late,
      minutes: 0,
      seconds: 0,
      calls: 0,
      subscription: c.subscription,
    };
    p.minutes += c.minutes;
    p.seconds += c.seconds;
    p.calls += 1;
    periods.set(pk, p);
  }
  const updated: UpdatedRollup[] = rows(written?.periods).map((j) => ({
    account_id: text(j, "account_id"),
    period_start: date(j, "period_start"),
    minutes: int(j, "minutes"),
    overage_reported: int(j, "overage_reported"),
    pack_minutes_drawn: int(j, "pack_minutes_drawn"),
    plan_id: textOrNull(j, "plan_id"),
    call_minutes_limit: intOrNull(j, "call_minutes_limit"),
    overage_price_cents_per_minute: intOrNull(j, "overage_price_cents_per_minute"),
    currency: textOrNull(j, "currency"),
    plan_sync_ticket: text(j, "plan_sync_ticket"),
  }));

  // The plan of each period, recorded on its (now locked) row; alerts and overage go by it.
  const rollups = await governedRollups(tx, updated, periods);

  // Alerts for the thresholds this transaction crossed (not for closed periods), overage to report.
  const customByAccount = new Map<string, number[]>();
  for (const t of thresholds)
    customByAccount.set(t.accountId, [...(customByAccount.get(t.accountId) ?? []), t.percent]);
  const changes: PeriodUsageChange[] = [];
  for (const { row, delta, plan } of rollups) {
    if (delta.late) continue;
    changes.push({
      accountId: delta.accountId,
      periodStart: delta.periodStart,
      periodEnd: delta.periodEnd,
      before: row.minutes - delta.minutes,
      after: row.minutes,
      plan,
      customThresholds: customByAccount.get(delta.accountId) ?? [],
      spendCap: spendCaps.get(delta.accountId) ?? null,
    });
  }
  await recordCrossedAlerts(tx, queue, changes, now);
  // Minutes beyond the included ones are drawn from the account's packs before any is overage (only for
  // accounts holding pack minutes or with auto top-up on: the others pay no extra statement). What packs
  // cannot cover asks auto top-up for a pack, even when there was nothing left to draw (an empty or expired
  // balance, a new month after the monthly maximum). The rows are locked by the upsert.
  for (const { row, delta, plan } of rollups) {
    const autoTopUp = packs.autoTopUpAccounts.has(delta.accountId);
    if (!packs.packAccounts.has(delta.accountId) && !autoTopUp) continue;
    row.pack_minutes_drawn = await drawFromPacks(
      tx,
      queue,
      {
        accountId: delta.accountId,
        periodStart: delta.periodStart,
        minutesUsed: row.minutes,
        limit: plan.callMinutesLimit,
        drawn: row.pack_minutes_drawn,
        overageReported: row.overage_reported,
        autoTopUp,
      },
      nowFor(delta.subscription, now),
    );
  }
  // The overage reports to make, queued together (one statement for the group's accounts in overage).
  const overageReports: QueuedJob[] = [];
  for (const { row, delta, plan } of rollups) {
    // A hint for the next group of the period (usage-write-guard.ts), even should this transaction fail.
    rememberPeriod(delta.accountId, delta.periodStart, row.minutes);
    if (plan.overagePrice === null) continue;
    // Only what the customer's budget still pays for is reported (a raised budget enqueues its own report),
    // and never a minute drawn from a pack (the same rule in the statement written alone: guardCtes).
    const billable = billableOverageMinutes(
      row.minutes - plan.callMinutesLimit - row.pack_minutes_drawn,
      spendCapMinutes(spendCaps.get(delta.accountId) ?? null, plan.overagePrice),
    );
    if (billable > row.overage_reported) {
      overageReports.push(overageReportJob(delta.accountId, delta.periodStart));
    }
  }
  await queue.enqueueMany(overageReports, tx);
  return { inserted, stored };
}
