// Usage reads for the current billing period: totals from the per-period rollup, series and breakdowns from
// the per-day rollup. Their cost does not grow with the number of events: whole UTC days of the period come
// from the daily rollup, and only the partial days at the period's edges (a period starting at 14:00, say)
// are summed from the events of those hours (an index range on account and start time).

import type { SubscriptionStatus } from "@minutely/db";
import {
  type BillingPeriod,
  type CallDirection,
  dayKey,
  daysInPeriod,
  type Money,
  MS_PER_DAY,
  overageCost,
  overageMinutes,
  overCapMinutes,
  startOfUtcDay,
  summarizeUsage,
  type UsageSummary,
} from "@minutely/domain";
import type { Ports } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { type AccountPeriod, loadAccountPeriod } from "./periods.ts";
import type { MeteringSubscription } from "./subscription.ts";
import { LATE_WINDOW_MS } from "./usage-ingest.ts";

export interface CurrentUsage extends UsageSummary {
  period: BillingPeriod;
  /** The account's now the usage was read at (its test clock's time, if ahead of Minutely's clock). */
  asOf: Date;
  plan: { id: string; name: string };
  status: SubscriptionStatus;
  accessGranted: boolean;
  calls: number;
  /** Minutes held by authorized calls not reported yet. */
  minutesReserved: number;
  overage: {
    policy: "billed" | "hard_cap";
    pricePerMinute: Money | null;
    minutes: number;
    cost: Money;
    /** Overage minutes already handed to Stripe for the next invoice. */
    reportedMinutes: number;
    /** Minutes beyond a hard cap (`overCapMinutes` of the domain): recorded and shown, never billed. */
    overCapMinutes: number;
  };
  /** Events for closed periods received during this period (counted in their own period). */
  lateEvents: { calls: number; minutes: number };
}

async function requireSubscription(
  ports: Pick<Ports, "db" | "clock">,
  accountId: string,
): Promise<{ subscription: MeteringSubscription; period: BillingPeriod; now: Date }> {
  const current = await loadAccountPeriod(ports, accountId);
  if (!current) {
    throw new AppError(
      "PRECONDITION_FAILED",
      "This account has no subscription yet: choose a package first.",
    );
  }
  return current;
}

/** The current period's usage (the seed's usage shape plus period, plan and overage), or null when unsubscribed. */
export async function currentUsage(
  ports: Pick<Ports, "db" | "clock">,
  accountId: string,
): Promise<CurrentUsage | null> {
  const current = await loadAccountPeriod(ports, accountId);
  if (!current) return null;
  const { now, period } = current;
  const [rollup, held, late] = await Promise.all([
    ports.db.usagePeriodRollup.findUnique({
      where: { accountId_periodStart: { accountId, periodStart: period.start } },
    }),
    ports.db.callReservation.aggregate({
      where: { accountId, status: "held", expiresAt: { gt: now } },
      _sum: { minutes: true },
    }),
    ports.db.usageEvent.aggregate({
      // A late call started at most LATE_WINDOW_MS before it was received: the bound on started_at changes
      // nothing counted and lets PostgreSQL read only the partitions of those months.
      where: {
        accountId,
        late: true,
        receivedAt: { gte: period.start },
        startedAt: { gte: new Date(period.start.getTime() - LATE_WINDOW_MS) },
      },
      _count: { _all: true },
      _sum: { billableMinutes: true },
    }),
  ]);
  return currentUsageOf(current, {
    rollup,
    minutesReserved: held._sum.minutes ?? 0,
    lateEvents: { calls: late._count._all, minutes: late._sum.billableMinutes ?? 0 },
  });
}

/** The current usage from the account's period and what was read for it (the rollup absent: nothing yet). */
export function currentUsageOf(
  { subscription, now, period }: AccountPeriod,
  read: {
    rollup: { minutes: number; calls: number; overageReported: number } | null;
    minutesReserved: number;
    lateEvents: { calls: number; minutes: number };
  },
): CurrentUsage {
  const { rollup } = read;
  const plan = subscription.plan;
  const used = rollup?.minutes ?? 0;
  const limit = plan.callMinutesLimit;
  return {
    ...summarizeUsage(used, limit),
    period,
    asOf: now,
    plan: { id: plan.id, name: plan.name },
    status: subscription.status,
    accessGranted: subscription.accessGranted,
    calls: rollup?.calls ?? 0,
    minutesReserved: read.minutesReserved,
    overage: {
      policy: plan.overagePrice === null ? "hard_cap" : "billed",
      pricePerMinute: plan.overagePrice,
      minutes: plan.overagePrice === null ? 0 : overageMinutes(used, limit),
      cost: overageCost(used, limit, plan.overagePrice, plan.currency),
      reportedMinutes: rollup?.overageReported ?? 0,
      overCapMinutes: overCapMinutes(used, limit, plan.overagePrice !== null),
    },
    lateEvents: read.lateEvents,
  };
}

export interface BreakdownRow {
  day: string;
  agent_key: string;
  direction: CallDirection;
  minutes: number;
  calls: number;
}

/**
 * The whole UTC days of a period: from `firstFullDay` to `endOfFullDays` (none when the first is not before
 * the second). They come from the daily rollup; the hours before and after from the events.
 */
export function fullDaysOf(period: BillingPeriod): { firstFullDay: Date; endOfFullDays: Date } {
  return {
    firstFullDay: new Date(Math.ceil(period.start.getTime() / MS_PER_DAY) * MS_PER_DAY),
    endOfFullDays: startOfUtcDay(period.end),
  };
}

/** Minutes and calls per UTC day, agent and direction, for exactly the calls started within the period. */
async function periodBreakdown(
  db: Ports["db"],
  accountId: string,
  period: BillingPeriod,
): Promise<BreakdownRow[]> {
  const { firstFullDay, endOfFullDays } = fullDaysOf(period);
  if (firstFullDay.getTime() >= endOfFullDays.getTime()) {
    return await db.$queryRaw<BreakdownRow[]>`
      SELECT to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
        COALESCE(agent_id::text, '') AS agent_key, direction::text AS direction,
        sum(billable_minutes)::int AS minutes, count(*)::int AS calls
      FROM usage_event
      WHERE account_id = ${accountId}::uuid AND started_at >= ${period.start} AND started_at < ${period.end}
      GROUP BY 1, 2, 3`;
  }
  return await db.$queryRaw<BreakdownRow[]>`
    SELECT to_char(day, 'YYYY-MM-DD') AS day, agent_key, direction::text AS direction, minutes, calls
    FROM usage_daily_rollup
    WHERE account_id = ${accountId}::uuid AND day >= ${dayKey(firstFullDay)}::date AND day < ${dayKey(endOfFullDays)}::date
    UNION ALL
    SELECT to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
      COALESCE(agent_id::text, ''), direction::text, sum(billable_minutes)::int, count(*)::int
    FROM usage_event
    WHERE account_id = ${accountId}::uuid
      AND ((started_at >= ${period.start} AND started_at < ${firstFullDay})
        OR (started_at >= ${endOfFullDays} AND started_at < ${period.end}))
    GROUP BY 1, 2, 3`;
}

export interface DailyUsagePoint {
  day: string;
  minutes: number;
  calls: number;
  inboundMinutes: number;
  outboundMinutes: number;
}

/** One point per UTC day of the current period (zero-filled), for charts. */
export async function dailyUsage(
  ports: Pick<Ports, "db" | "clock">,
  accountId: string,
): Promise<{ period: BillingPeriod; days: DailyUsagePoint[]; asOf: Date }> {
  const { period, now } = await requireSubscription(ports, accountId);
  const rows = await periodBreakdown(ports.db, accountId, period);
  return { period, days: dailyPointsOf(period, rows), asOf: now };
}

/** One point per UTC day of the period (zero-filled) from the period's breakdown rows. */
export function dailyPointsOf(period: BillingPeriod, rows: readonly BreakdownRow[]): DailyUsagePoint[] {
  const points = new Map<string, DailyUsagePoint>(
    daysInPeriod(period).map((day) => [
      day,
      { day, minutes: 0, calls: 0, inboundMinutes: 0, outboundMinutes: 0 },
    ]),
  );
  for (const row of rows) {
    const point = points.get(row.day);
    if (!point) continue;
    point.minutes += row.minutes;
    point.calls += row.calls;
    if (row.direction === "inbound") point.inboundMinutes += row.minutes;
    else point.outboundMinutes += row.minutes;
  }
  return [...points.values()];
}

export interface AgentUsage {
  /** null for calls reported without an agent. */
  agentId: string | null;
  name: string;
  active: boolean | null;
  minutes: number;
  calls: number;
}

/** Minutes per agent in the current period: every agent of the account, most minutes first. */
export async function usageByAgent(
  ports: Pick<Ports, "db" | "clock">,
  accountId: string,
): Promise<{ period: BillingPeriod; agents: AgentUsage[] }> {
  const { period } = await requireSubscription(ports, accountId);
  const [rows, agents] = await Promise.all([
    periodBreakdown(ports.db, accountId, period),
    ports.db.agent.findMany({
      where: { accountId },
      select: { id: true, name: true, active: true },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    }),
  ]);
  const byKey = new Map<string, AgentUsage>(
    agents.map((a) => [a.id, { agentId: a.id, name: a.name, active: a.active, minutes: 0, calls: 0 }]),
  );
  for (const row of rows) {
    const entry = byKey.get(row.agent_key) ?? {
      agentId: row.agent_key === "" ? null : row.agent_key,
      name: row.agent_key === "" ? "No agent" : "Deleted agent",
      active: null,
      minutes: 0,
      calls: 0,
    };
    entry.minutes += row.minutes;
    entry.calls += row.calls;
    byKey.set(row.agent_key, entry);
  }
  const list = [...byKey.values()].sort((a, b) => b.minutes - a.minutes || b.calls - a.calls);
  return { period, agents: list };
}

/** Minutes per call direction in the current period. */
export async function usageByDirection(
  ports: Pick<Ports, "db" | "clock">,
  accountId: string,
): Promise<{
  period: BillingPeriod;
  inbound: { minutes: number; calls: number };
  outbound: { minutes: number; calls: number };
}> {
  const { period } = await requireSubscription(ports, accountId);
  const rows = await periodBreakdown(ports.db, accountId, period);
  const totals = { inbound: { minutes: 0, calls: 0 }, outbound: { minutes: 0, calls: 0 } };
  for (const row of rows) {
    totals[row.direction].minutes += row.minutes;
    totals[row.direction].calls += row.calls;
  }
  return { period, ...totals };
}
