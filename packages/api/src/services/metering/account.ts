// What metering needs to know about an account: its subscription (the domain's currentSubscriptionOf, the
// same rule every other service uses), the package's limits, the billing period a moment falls in and the
// package that governs a period (recorded on its rollup row). Shared by ingestion, call authorization,
// usage reads, alerts, overage and agents.
import { Prisma, type SubscriptionPlan, type SubscriptionStatus } from "@minutely/db";
import {
  accountNow,
  type BillingPeriod,
  type Currency,
  currentBillingPeriod,
  currentSubscriptionOf,
  grantsAccess,
  isCurrency,
  type Money,
  monthlyPeriodContaining,
  type PeriodPlanTerms,
  shouldRecordPeriodPlan,
  type VersionedPeriodPlan,
} from "@minutely/domain";
import type { Db } from "../../ports/queue.ts";

/** Interactive transactions of metering: waiting for a pooled connection under load is normal. */
export const METERING_TX_OPTIONS = { maxWait: 30_000, timeout: 60_000 } as const;

const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a value can be an id of ours (ids are UUIDs); anything else is unknown without a query. */
export function isUuid(value: string): boolean {
  return UUID_SHAPE.test(value);
}

export interface MeteringPlan {
  id: string;
  name: string;
  callMinutesLimit: number;
  agentsAllowed: number;
  /** Price of a minute beyond the limit; null means a hard cap. */
  overagePrice: Money | null;
  currency: Currency;
}

export interface MeteringSubscription {
  id: string;
  accountId: string;
  status: SubscriptionStatus;
  stripeSubscriptionId: string;
  currentPeriodStart: Date;
  currentPeriodEnd: Date;
  createdAt: Date;
  accessGranted: boolean;
  plan: MeteringPlan;
  /** The sync ticket of the Stripe read this row was written from; grows with every newer read. */
  syncTicket: bigint;
  /** The Stripe test clock's time as last read (test mode and the emulator only), else null. */
  testClockTime: Date | null;
  /**
   * When the account's first subscription began: the earliest start of a period or creation of any of its
   * subscriptions (Stripe's start is the first period's start; after renewals the row's creation, written
   * when the customer subscribed, is the earliest trace). No call, usage or overage is dated before it.
   */
  firstStartedAt: Date;
  /**
   * When the account's subscriptions ended, or null while one is live (`isLiveSubscription`: active,
   * trialing, past due, unpaid, incomplete, paused; `unknown` too, failing open for usage that is recorded).
   * Set only when every subscription of the account is terminal: the latest end among them (a canceled
   * one's `ended_at`, else its period end; an expired checkout never covered anything past its creation).
   * No call that started at or after it is recorded, and nothing is billed on an ended subscription.
   */
  endedAt: Date | null;
}

export function toMeteringPlan(row: SubscriptionPlan): MeteringPlan {
  const code = row.currency.trim().toLowerCase();
  if (!isCurrency(code)) throw new Error(`package ${row.id} has an unsupported currency "${row.currency}"`);
  return {
    id: row.id,
    name: row.name,
    callMinutesLimit: row.callMinutesLimit,
    agentsAllowed: row.agentsAllowed,
    overagePrice:
      row.overagePriceCentsPerMinute === null
        ? null
        : { amount: row.overagePriceCentsPerMinute, currency: code },
    currency: code,
  };
}

type SubscriptionWithPlan = Prisma.SubscriptionGetPayload<{ include: { plan: true } }>;

function toMeteringSubscription(
  row: SubscriptionWithPlan,
  firstStartedAt: Date,
  endedAt: Date | null,
): MeteringSubscription {
  return {
    firstStartedAt,
    endedAt,
    id: row.id,
    accountId: row.accountId,
    status: row.status,
    stripeSubscriptionId: row.stripeSubscriptionId,
    currentPeriodStart: row.currentPeriodStart,
    currentPeriodEnd: row.currentPeriodEnd,
    createdAt: row.createdAt,
    accessGranted: grantsAccess(row.status),
    plan: toMeteringPlan(row.plan),
    syncTicket: row.syncTicket,
    testClockTime: row.testClockTime,
  };
}

/** The metered subscription of each of the accounts (accounts that never subscribed are absent). */
export async function loadMeteringSubscriptions(
  db: Db,
  accountIds: readonly string[],
): Promise<Map<string, MeteringSubscription>> {
  const result = new Map<string, MeteringSubscription>();
  if (accountIds.length === 0) return result;
  const rows = await db.subscription.findMany({
    where: { accountId: { in: [...accountIds] } },
    include: { plan: true },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
  });
  const byAccount = new Map<string, SubscriptionWithPlan[]>();
  for (const row of rows) {
    const list = byAccount.get(row.accountId) ?? [];
    list.push(row);
    byAccount.set(row.accountId, list);
  }
  for (const [accountId, list] of byAccount) {
    const chosen = currentSubscriptionOf(list);
    const firstStartedAt = new Date(
      Math.min(...list.flatMap((r) => [r.createdAt.getTime(), r.currentPeriodStart.getTime()])),
    );
    if (chosen) result.set(accountId, toMeteringSubscription(chosen, firstStartedAt, coverageEnd(list)));
  }
  return result;
}

/** A subscription that ended: Stripe never bills or revives it (a new subscription is another row). */
function hasEnded(status: SubscriptionStatus): boolean {
  return status === "canceled" || status === "incomplete_expired";
}

/** When the account's subscriptions stopped covering calls: null while any has not ended (see `endedAt`). */
function coverageEnd(rows: readonly SubscriptionWithPlan[]): Date | null {
  if (rows.length === 0 || rows.some((r) => !hasEnded(r.status))) return null;
  const ends = rows.map((r) =>
    r.status === "canceled" ? (r.endedAt ?? r.currentPeriodEnd) : (r.endedAt ?? r.createdAt),
  );
  return new Date(Math.max(...ends.map((d) => d.getTime())));
}

/** Whether the account's subscriptions had all ended by `at` (a call starting then is not covered). */
export function endedBy(subscription: Pick<MeteringSubscription, "endedAt">, at: Date): boolean {
  return subscription.endedAt !== null && at.getTime() >= subscription.endedAt.getTime();
}

export async function loadMeteringSubscription(
  db: Db,
  accountId: string,
): Promise<MeteringSubscription | null> {
  return (await loadMeteringSubscriptions(db, [accountId])).get(accountId) ?? null;
}

export interface PeriodPlacement {
  period: BillingPeriod;
  /** The moment lies before the current period: its period is closed (a late event). */
  late: boolean;
}

/**
 * The billing period containing `at`. The subscription's current period is authoritative; earlier
 * moments fall in the monthly periods before it (anchored at its start, so they are closed), later ones
 * in the monthly periods after it (anchored at its end; the subscription has not been synced yet).
 */
export function periodContaining(
  subscription: Pick<MeteringSubscription, "currentPeriodStart" | "currentPeriodEnd">,
  at: Date,
): PeriodPlacement {
  const start = subscription.currentPeriodStart;
  const end = subscription.currentPeriodEnd;
  if (at.getTime() < start.getTime()) {
    return { period: monthlyPeriodContaining(start, at), late: true };
  }
  if (at.getTime() < end.getTime()) return { period: { start, end }, late: false };
  return { period: monthlyPeriodContaining(end, at), late: false };
}

/**
 * The period usage is shown and limits are enforced for, at the account's `now` (see {@link nowFor}):
 * the domain's `currentBillingPeriod`, the one definition every reader uses.
 */
export function currentPeriod(
  subscription: Pick<MeteringSubscription, "currentPeriodStart" | "currentPeriodEnd"> &
    Partial<Pick<MeteringSubscription, "endedAt">>,
  now: Date,
): BillingPeriod {
  // An ended subscription has no period after its last one: that stays the period shown, never one made up.
  if (subscription.endedAt)
    return { start: subscription.currentPeriodStart, end: subscription.currentPeriodEnd };
  return currentBillingPeriod(subscription, now);
}

/**
 * The account's now: its test clock's time when that is ahead of Minutely's clock (`accountNow` of the
 * domain, from the time stored on the subscription row when the clock was advanced or the row synced).
 */
export function nowFor(
  subscription: Pick<MeteringSubscription, "testClockTime"> | null,
  wallNow: Date,
): Date {
  return accountNow(wallNow, subscription?.testClockTime ?? null);
}

/** An account's subscription, its now and its current period: what every current-period reader starts from. */
export interface AccountPeriod {
  subscription: MeteringSubscription;
  now: Date;
  period: BillingPeriod;
}

/** The account's current period by the one rule (null when the account never subscribed). */
export async function loadAccountPeriod(
  ports: { db: Db; clock: { now(): Date } },
  accountId: string,
): Promise<AccountPeriod | null> {
  const subscription = await loadMeteringSubscription(ports.db, accountId);
  if (!subscription) return null;
  const now = nowFor(subscription, ports.clock.now());
  return { subscription, now, period: currentPeriod(subscription, now) };
}

/** Whether `periodStart` starts the subscription's current period (not a closed one, nor one after it). */
export function isCurrentPeriodOf(
  subscription: Pick<MeteringSubscription, "currentPeriodStart">,
  periodStart: Date,
): boolean {
  return subscription.currentPeriodStart.getTime() === periodStart.getTime();
}

/** The terms a period records: those of the plan it is metered and billed by. */
export type PeriodPlan = PeriodPlanTerms;

/** The columns of usage_period_rollup that record a period's plan (select them in raw queries). */
export interface PeriodPlanColumns {
  plan_id: string | null;
  call_minutes_limit: number | null;
  overage_price_cents_per_minute: number | null;
  currency: string | null;
  /** As text: BIGINT does not fit a JS number. */
  plan_sync_ticket: string;
}

/** SQL list of {@link PeriodPlanColumns} for a RETURNING or SELECT on usage_period_rollup. */
export const PERIOD_PLAN_COLUMNS = Prisma.sql`plan_id, call_minutes_limit, overage_price_cents_per_minute,
  currency, plan_sync_ticket::text AS plan_sync_ticket`;

/** The plan a rollup row records, or null when none is recorded yet. */
export function recordedPeriodPlan(row: PeriodPlanColumns): VersionedPeriodPlan | null {
  if (row.call_minutes_limit === null || row.currency === null) return null;
  const currency = row.currency.trim().toLowerCase();
  if (!isCurrency(currency))
    throw new Error(`a usage period records an unsupported currency "${row.currency}"`);
  return {
    planId: row.plan_id,
    callMinutesLimit: row.call_minutes_limit,
    overagePrice:
      row.overage_price_cents_per_minute === null
        ? null
        : { amount: row.overage_price_cents_per_minute, currency },
    currency,
    version: BigInt(row.plan_sync_ticket),
  };
}

/** What a read of the subscription offers as the plan of a period. */
function offeredPeriodPlan(subscription: MeteringSubscription): VersionedPeriodPlan {
  const { plan } = subscription;
  return {
    planId: plan.id,
    callMinutesLimit: plan.callMinutesLimit,
    overagePrice: plan.overagePrice,
    currency: plan.currency,
    version: subscription.syncTicket,
  };
}

export interface PeriodPlanSettlement {
  accountId: string;
  periodStart: Date;
  /** What the period's rollup row records, read under this transaction's lock on the row. */
  recorded: VersionedPeriodPlan | null;
  /** The account's subscription as read for this work (null: none, only the record counts). */
  subscription: MeteringSubscription | null;
}

/**
 * Settles which plan governs each period (the domain's `shouldRecordPeriodPlan`: the subscription's plan
 * while the period is current, the record once it has closed) and writes the records that change. The
 * rows must be locked by this transaction already (their upsert, or SELECT … FOR UPDATE), so `recorded`
 * is what they hold and the write cannot deadlock. Returns the governing plan of each, in input order.
 */
export async function settlePeriodPlans(
  tx: Db,
  periods: readonly PeriodPlanSettlement[],
): Promise<(PeriodPlan | null)[]> {
  const changes: { accountId: string; periodStart: Date; plan: VersionedPeriodPlan }[] = [];
  const governing = periods.map(({ accountId, periodStart, recorded, subscription }) => {
    if (!subscription) return recorded;
    const offered = offeredPeriodPlan(subscription);
    const periodIsCurrent = isCurrentPeriodOf(subscription, periodStart);
    if (!shouldRecordPeriodPlan({ recorded, offered, periodIsCurrent })) return recorded;
    changes.push({ accountId, periodStart, plan: offered });
    return offered;
  });
  if (changes.length > 0) await writePeriodPlans(tx, changes);
  return governing.map((plan) => (plan === null ? null : withoutVersion(plan)));
}

function withoutVersion({ version: _version, ...terms }: VersionedPeriodPlan): PeriodPlan {
  return terms;
}

async function writePeriodPlans(
  tx: Db,
  changes: readonly { accountId: string; periodStart: Date; plan: VersionedPeriodPlan }[],
): Promise<void> {
  await tx.$executeRaw`
    UPDATE usage_period_rollup r SET
      plan_id = t.plan_id,
      call_minutes_limit = t.call_minutes_limit,
      overage_price_cents_per_minute = t.overage_price,
      currency = t.currency,
      plan_sync_ticket = t.ticket
    FROM unnest(
      ${changes.map((c) => c.accountId)}::uuid[],
      ${changes.map((c) => c.periodStart)}::timestamptz[],
      ${changes.map((c) => c.plan.planId)}::uuid[],
      ${changes.map((c) => c.plan.callMinutesLimit)}::int[],
      ${changes.map((c) => c.plan.overagePrice?.amount ?? null)}::int[],
      ${changes.map((c) => c.plan.currency)}::text[],
      ${changes.map((c) => c.plan.version.toString())}::text[]::bigint[]
    ) AS t(account_id, period_start, plan_id, call_minutes_limit, overage_price, currency, ticket)
    WHERE r.account_id = t.account_id AND r.period_start = t.period_start`;
}

/** A period's rollup row, locked by the transaction, with the plan that governs the period. */
export interface LockedPeriod {
  periodEnd: Date;
  minutes: number;
  overageReported: number;
  /** Bumped when an upgrade withdrew the period's reported overage (bills decided before are void). */
  overageEpoch: number;
  /** Null only when the period records no plan and there is no subscription to take one from. */
  plan: PeriodPlan | null;
}

/**
 * Locks a period's rollup row (SELECT … FOR UPDATE) and settles the plan that governs the period
 * (`settlePeriodPlans`), for the work that reads the row and acts on it in the same transaction: call
 * authorization, overage reports, a plan change. Null when the period has no row yet.
 */
export async function lockPeriod(
  tx: Db,
  accountId: string,
  periodStart: Date,
  subscription: MeteringSubscription | null,
): Promise<LockedPeriod | null> {
  const [row] = await tx.$queryRaw<
    ({
      period_end: Date;
      minutes: number;
      overage_reported: number;
      overage_epoch: number;
    } & PeriodPlanColumns)[]
  >`
    SELECT period_end, minutes, overage_reported, overage_epoch, ${PERIOD_PLAN_COLUMNS} FROM usage_period_rollup
    WHERE account_id = ${accountId}::uuid AND period_start = ${periodStart}
    FOR UPDATE`;
  if (!row) return null;
  const [plan] = await settlePeriodPlans(tx, [
    { accountId, periodStart, recorded: recordedPeriodPlan(row), subscription },
  ]);
  return {
    periodEnd: row.period_end,
    minutes: row.minutes,
    overageReported: row.overage_reported,
    overageEpoch: row.overage_epoch,
    plan: plan ?? null,
  };
}

/**
 * After the account's subscription changed plan: its current period records the new plan at once (an
 * upgrade applies to the whole current period), so usage of that period reported only after it has closed
 * is still measured and billed by it. A period without a row yet records its plan with its first call,
 * usage or overage report. Call inside the transaction that wrote the subscription.
 */
export async function settleCurrentPeriodPlan(tx: Db, accountId: string): Promise<void> {
  const subscription = await loadMeteringSubscription(tx, accountId);
  if (subscription) await lockPeriod(tx, accountId, subscription.currentPeriodStart, subscription);
}

/** Minutes used in a period, from its rollup (0 before the first event). */
export async function periodMinutes(db: Db, accountId: string, periodStart: Date): Promise<number> {
  const row = await db.usagePeriodRollup.findUnique({
    where: { accountId_periodStart: { accountId, periodStart } },
    select: { minutes: true },
  });
  return row?.minutes ?? 0;
}

/** Serializes changes to one account's agents (creation, activation, limit enforcement); inside a transaction. */
export async function lockAccountAgents(tx: Db, accountId: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`minutely:agents:${accountId}`}::text, 0))`;
}

/** Serializes changes to one account's alert thresholds. */
export async function lockAccountThresholds(tx: Db, accountId: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`minutely:thresholds:${accountId}`}::text, 0))`;
}
