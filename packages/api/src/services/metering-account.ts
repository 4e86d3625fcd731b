// What metering needs to know about an account: its subscription (the domain's currentSubscriptionOf, the
// same rule every other service uses), the package's limits and the billing period a moment falls in. Shared by ingestion, call
// authorization, usage reads, alerts and agents.
import type { Prisma, SubscriptionPlan, SubscriptionStatus } from "@minutely/db";
import {
  type BillingPeriod,
  type Currency,
  currentSubscriptionOf,
  grantsAccess,
  isCurrency,
  type Money,
  monthlyPeriodContaining,
} from "@minutely/domain";
import type { Db } from "../ports/queue.ts";

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

function toMeteringSubscription(row: SubscriptionWithPlan): MeteringSubscription {
  return {
    id: row.id,
    accountId: row.accountId,
    status: row.status,
    stripeSubscriptionId: row.stripeSubscriptionId,
    currentPeriodStart: row.currentPeriodStart,
    currentPeriodEnd: row.currentPeriodEnd,
    createdAt: row.createdAt,
    accessGranted: grantsAccess(row.status),
    plan: toMeteringPlan(row.plan),
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
    if (chosen) result.set(accountId, toMeteringSubscription(chosen));
  }
  return result;
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

/** The period usage is shown and limits are enforced for, at `now`. */
export function currentPeriod(
  subscription: Pick<MeteringSubscription, "currentPeriodStart" | "currentPeriodEnd">,
  now: Date,
): BillingPeriod {
  return periodContaining(subscription, now).period;
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
