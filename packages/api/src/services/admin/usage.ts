// Admin views of metering: accounts near or over their limits, and the mail outbox.
import { Prisma, type SubscriptionStatus } from "@minutely/db";
import { grantsAccess, overCapMinutes, SUBSCRIPTION_STATUSES, usagePercentage } from "@minutely/domain";
import type { Ports } from "../../context.ts";
import { currentPeriodOf, overagePriceSql } from "./sql.ts";

export interface Page {
  page: number;
  pageSize: number;
}

export interface NearLimitAccount {
  accountId: string;
  accountName: string;
  ownerEmail: string | null;
  planName: string;
  status: SubscriptionStatus;
  periodStart: Date;
  periodEnd: Date;
  minutesUsed: number;
  minutesLimit: number;
  usagePercentage: number;
  overagePolicy: "billed" | "hard_cap";
  /** Minutes beyond a hard cap this period: recorded, never billed. */
  overCapMinutes: number;
  activeAgents: number;
  agentsAllowed: number;
}

interface NearLimitRow {
  account_id: string;
  account_name: string;
  owner_email: string | null;
  plan_name: string;
  status: SubscriptionStatus;
  period_start: Date;
  period_end: Date;
  minutes_used: number;
  minutes_limit: number;
  overage_price: number | null;
  active_agents: number;
  agents_allowed: number;
}

const ACCESS_STATUSES = SUBSCRIPTION_STATUSES.filter((s) => grantsAccess(s));

/**
 * Accounts with an access-granting subscription whose current period's usage is at least `minPercent` of
 * the included minutes, or with more active agents than allowed; most urgent (highest usage share) first.
 */
export async function accountsNearLimit(
  { db, clock }: Pick<Ports, "db" | "clock">,
  input: Page & { minPercent: number },
): Promise<{ items: NearLimitAccount[]; total: number; page: number; pageSize: number }> {
  const candidates = Prisma.sql`
    WITH chosen AS (
      SELECT DISTINCT ON (s.account_id) s.account_id, s.plan_id, s.status, s.current_period_start,
        s.current_period_end, s.test_clock_time, s.currency
      FROM subscription s
      ORDER BY s.account_id, (s.status::text = ANY(${ACCESS_STATUSES}::text[])) DESC, s.created_at DESC, s.id DESC
    ), measured AS (
      SELECT c.account_id, a.name AS account_name, p.name AS plan_name, c.status,
        cp.period_start, cp.period_end,
        COALESCE(r.minutes, 0) AS minutes_used, p.call_minutes_limit AS minutes_limit,
        ${overagePriceSql("c", "p")} AS overage_price, p.agents_allowed,
        (SELECT count(*)::int FROM agent g WHERE g.account_id = c.account_id AND g.active) AS active_agents
      FROM chosen c
      JOIN account a ON a.id = c.account_id
      JOIN subscription_plan p ON p.id = c.plan_id
      CROSS JOIN LATERAL (${currentPeriodOf("c", clock.now())}) cp
      LEFT JOIN usage_period_rollup r
        ON r.account_id = c.account_id AND r.period_start = cp.period_start
      WHERE c.status::text = ANY(${ACCESS_STATUSES}::text[])
    )
    SELECT * FROM measured
    WHERE (minutes_limit = 0 AND minutes_used > 0)
      OR (minutes_used::bigint * 100 >= ${input.minPercent}::bigint * minutes_limit AND minutes_used > 0)
      OR active_agents > agents_allowed`;
  // One pass over the candidates: the page, and the total as a window count over all of them.
  const rows = await db.$queryRaw<(NearLimitRow & { total: number })[]>`
    SELECT y.*, (
      SELECT u.email FROM account_member m JOIN "user" u ON u.id = m.user_id WHERE m.account_id = y.account_id AND m.role = 'owner'
    ) AS owner_email
    FROM (
      SELECT x.*, count(*) OVER ()::int AS total FROM (${candidates}) x
      ORDER BY
        CASE WHEN x.minutes_limit = 0 THEN 1e9 ELSE x.minutes_used::numeric / x.minutes_limit END DESC,
        (x.active_agents - x.agents_allowed) DESC,
        x.account_id
      LIMIT ${input.pageSize} OFFSET ${(input.page - 1) * input.pageSize}
    ) y
    ORDER BY
      CASE WHEN y.minutes_limit = 0 THEN 1e9 ELSE y.minutes_used::numeric / y.minutes_limit END DESC,
      (y.active_agents - y.agents_allowed) DESC,
      y.account_id`;
  // A page past the end has no rows to carry the total: count separately then.
  const total =
    rows[0]?.total ??
    (input.page > 1
      ? ((await db.$queryRaw<{ total: number }[]>`SELECT count(*)::int AS total FROM (${candidates}) x`)[0]
          ?.total ?? 0)
      : 0);
  return {
    total,
    page: input.page,
    pageSize: input.pageSize,
    items: rows.map((r) => ({
      accountId: r.account_id,
      accountName: r.account_name,
      ownerEmail: r.owner_email,
      planName: r.plan_name,
      status: r.status,
      periodStart: r.period_start,
      periodEnd: r.period_end,
      minutesUsed: r.minutes_used,
      minutesLimit: r.minutes_limit,
      usagePercentage: usagePercentage(r.minutes_used, r.minutes_limit),
      overagePolicy: r.overage_price === null ? "hard_cap" : "billed",
      overCapMinutes: overCapMinutes(r.minutes_used, r.minutes_limit, r.overage_price !== null),
      activeAgents: r.active_agents,
      agentsAllowed: r.agents_allowed,
    })),
  };
}

export interface MailView {
  id: string;
  to: string;
  subject: string;
  text: string;
  sentAt: Date | null;
  createdAt: Date;
}

/** The mail outbox, newest first. */
export async function listMail(
  { db }: Pick<Ports, "db">,
  input: Page,
): Promise<{ items: MailView[]; total: number; page: number; pageSize: number }> {
  const [items, total] = await Promise.all([
    db.mailMessage.findMany({
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      skip: (input.page - 1) * input.pageSize,
      take: input.pageSize,
      select: { id: true, to: true, subject: true, text: true, sentAt: true, createdAt: true },
    }),
    db.mailMessage.count(),
  ]);
  return { items, total, page: input.page, pageSize: input.pageSize };
}
