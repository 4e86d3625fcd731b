// The dashboard's reads in two statements (issue #20): the account's facts (account, subscriptions with
// every package, agents, recent invoices, refunded duplicates) in one, then, when it has a subscription,
// the current period's (rollup, held reservations, late events, the daily breakdown, active alerts) in
// another, since the period follows from the subscription by the domain's rules. The rows come back as
// JSON and are turned into the rows Prisma would return, so the dashboard shapes them with the same
// functions as the services it used to call (one definition of each fact). Every subquery names the
// account (docs/scaling.md, "Citus"); none reads more of usage_event than the period's partial edge days
// and its late events (an index range on account and start time), whatever the table's size.

import {
  type Agent,
  type BillingHistory,
  type PlanPrice,
  Prisma,
  type SubscriptionPlan,
  type SubscriptionPlanPrice,
  type UsageAlert,
} from "@minutely/db";
import { type BillingPeriod, type CallDirection, dayKey } from "@minutely/domain";
import type { Db } from "../../db.ts";
import { preparedQuery } from "../../prepared.ts";
import {
  bool,
  date,
  dateOrNull,
  int,
  type Json,
  planPriceRow,
  planRow,
  rows,
  stripePriceRow,
  subscriptionRow,
  text,
  textOrNull,
} from "../json-rows.ts";
import { type BreakdownRow, fullDaysOf, LATE_WINDOW_MS } from "../metering/index.ts";

export type DashboardSubscription = Prisma.SubscriptionGetPayload<{
  include: {
    plan: { include: { currencyPrices: true; prices: true } };
    scheduledPlan: { include: { currencyPrices: true; prices: true } };
  };
}>;

type PlanWithPrices = SubscriptionPlan & { currencyPrices: SubscriptionPlanPrice[]; prices: PlanPrice[] };

function subscriptionWithPlans(j: Json, plans: ReadonlyMap<string, PlanWithPrices>): DashboardSubscription {
  const row = subscriptionRow(j);
  const plan = plans.get(row.planId);
  if (!plan) throw new Error(`dashboard read: package ${row.planId} not found`);
  return {
    ...row,
    plan,
    scheduledPlan: row.scheduledPlanId === null ? null : (plans.get(row.scheduledPlanId) ?? null),
  };
}

function agentRow(j: Json): Agent {
  return {
    id: text(j, "id"),
    accountId: text(j, "account_id"),
    name: text(j, "name"),
    active: bool(j, "active"),
    deactivatedAt: dateOrNull(j, "deactivated_at"),
    createdAt: date(j, "created_at"),
    updatedAt: date(j, "updated_at"),
  };
}

function invoiceRow(j: Json): BillingHistory {
  return {
    id: text(j, "id"),
    accountId: text(j, "account_id"),
    subscriptionId: textOrNull(j, "subscription_id"),
    stripeInvoiceId: text(j, "stripe_invoice_id"),
    number: textOrNull(j, "number"),
    status: text(j, "status") as BillingHistory["status"],
    billingReason: textOrNull(j, "billing_reason"),
    currency: text(j, "currency"),
    subtotalCents: int(j, "subtotal_cents"),
    totalCents: int(j, "total_cents"),
    amountDueCents: int(j, "amount_due_cents"),
    amountPaidCents: int(j, "amount_paid_cents"),
    discountCents: int(j, "discount_cents"),
    taxCents: int(j, "tax_cents"),
    refundedCents: int(j, "refunded_cents"),
    creditedCents: int(j, "credited_cents"),
    stripePaymentIntentId: textOrNull(j, "stripe_payment_intent_id"),
    hostedInvoiceUrl: textOrNull(j, "hosted_invoice_url"),
    invoicePdfUrl: textOrNull(j, "invoice_pdf_url"),
    periodStart: dateOrNull(j, "period_start"),
    periodEnd: dateOrNull(j, "period_end"),
    lines: (j.lines ?? []) as Prisma.JsonValue,
    issuedAt: date(j, "issued_at"),
    paidAt: dateOrNull(j, "paid_at"),
    createdAt: date(j, "created_at"),
    updatedAt: date(j, "updated_at"),
  };
}

function alertRow(j: Json): UsageAlert {
  return {
    id: text(j, "id"),
    accountId: text(j, "account_id"),
    periodStart: date(j, "period_start"),
    thresholdPercent: int(j, "threshold_percent"),
    kind: text(j, "kind") as UsageAlert["kind"],
    minutesUsed: int(j, "minutes_used"),
    minutesLimit: int(j, "minutes_limit"),
    budgetCents: int(j, "budget_cents"),
    message: text(j, "message"),
    emailedAt: dateOrNull(j, "emailed_at"),
    dismissedAt: dateOrNull(j, "dismissed_at"),
    createdAt: date(j, "created_at"),
  };
}

export interface DashboardAccountRows {
  account: { id: string; name: string } | null;
  /** The account's subscriptions, newest first (createdAt, then id), with their packages. */
  subscriptions: DashboardSubscription[];
  /** Every package (active or not), in display order (sort order, then name). */
  plans: SubscriptionPlan[];
  /** Oldest first (createdAt, then id). */
  agents: Agent[];
  /** The `invoiceLimit` newest invoices, in INVOICE_ORDER. */
  invoices: BillingHistory[];
  /** Stripe ids of the second subscriptions Minutely canceled and refunded. */
  refundedStripeSubscriptionIds: string[];
}

/** The account's facts in one statement. */
export async function readDashboardAccount(
  db: Db,
  accountId: string,
  invoiceLimit: number,
): Promise<DashboardAccountRows> {
  // Prepared (planned once a connection): usage_event is partitioned, and planning the period read anew
  // cost more than running it.
  const [row] = await preparedQuery<{
    account: Json | null;
    subscriptions: unknown;
    plans: unknown;
    agents: unknown;
    invoices: unknown;
    refunded: unknown;
  }>(
    db,
    Prisma.sql`
    SELECT
      (SELECT jsonb_build_object('id', account.id, 'name', account.name) FROM account
        WHERE account.id = ${accountId}::uuid)
        AS account,
      (SELECT jsonb_agg(to_jsonb(s) || jsonb_build_object('sync_ticket', s.sync_ticket::text)
          ORDER BY s.created_at DESC, s.id DESC)
        FROM subscription s WHERE s.account_id = ${accountId}::uuid) AS subscriptions,
      (SELECT jsonb_agg(to_jsonb(p) || jsonb_build_object('currency_prices',
          (SELECT COALESCE(jsonb_agg(to_jsonb(pp)), '[]'::jsonb) FROM subscription_plan_price pp WHERE pp.plan_id = p.id),
          'stripe_prices',
          (SELECT COALESCE(jsonb_agg(to_jsonb(sp)), '[]'::jsonb) FROM plan_price sp WHERE sp.plan_id = p.id))
          ORDER BY p.sort_order, p.name) FROM subscription_plan p) AS plans,
      (SELECT jsonb_agg(to_jsonb(g) ORDER BY g.created_at, g.id)
        FROM agent g WHERE g.account_id = ${accountId}::uuid) AS agents,
      (SELECT jsonb_agg(to_jsonb(b)
          ORDER BY b.issued_at DESC, b.number DESC NULLS LAST, b.stripe_invoice_id DESC)
        FROM (SELECT * FROM billing_history WHERE account_id = ${accountId}::uuid
          ORDER BY issued_at DESC, number DESC NULLS LAST, stripe_invoice_id DESC
          LIMIT ${invoiceLimit}) b) AS invoices,
      (SELECT jsonb_agg(d.stripe_subscription_id) FROM duplicate_subscription d
        WHERE d.account_id = ${accountId}::uuid AND d.status = 'resolved') AS refunded`,
  );
  const plans: PlanWithPrices[] = rows(row?.plans).map((j) => ({
    ...planRow(j),
    currencyPrices: rows(j.currency_prices).map(planPriceRow),
    prices: rows(j.stripe_prices).map(stripePriceRow),
  }));
  const byId = new Map(plans.map((p) => [p.id, p]));
  return {
    account: row?.account ? { id: text(row.account, "id"), name: text(row.account, "name") } : null,
    subscriptions: rows(row?.subscriptions).map((j) => subscriptionWithPlans(j, byId)),
    plans,
    agents: rows(row?.agents).map(agentRow),
    invoices: rows(row?.invoices).map(invoiceRow),
    refundedStripeSubscriptionIds: rows(row?.refunded).map(String),
  };
}

export interface DashboardPeriodRows {
  rollup: { minutes: number; calls: number; overageReported: number } | null;
  minutesReserved: number;
  lateEvents: { calls: number; minutes: number };
  breakdown: BreakdownRow[];
  /** Undismissed alerts of the period against `minutesLimit`, newest first, at most `alertLimit`. */
  alerts: UsageAlert[];
}

/**
 * The current period's facts in one statement: the same reads as currentUsage, dailyUsage's breakdown and
 * listActiveAlerts, for the period and the account's now they computed.
 */
export async function readDashboardPeriod(
  db: Db,
  input: {
    accountId: string;
    period: BillingPeriod;
    now: Date;
    minutesLimit: number;
    alertLimit: number;
  },
): Promise<DashboardPeriodRows> {
  const { accountId, period, now, minutesLimit, alertLimit } = input;
  const { firstFullDay, endOfFullDays } = fullDaysOf(period);
  // No whole day: every call of the period from the events (periodBreakdown's first form).
  const wholeDays = firstFullDay.getTime() < endOfFullDays.getTime();
  const eventsTo = wholeDays ? firstFullDay : period.end;
  const lateFrom = new Date(period.start.getTime() - LATE_WINDOW_MS);
  const [row] = await preparedQuery<{
    rollup: Json | null;
    held: number;
    late: Json;
    breakdown: unknown;
    alerts: unknown;
  }>(
    db,
    Prisma.sql`
    SELECT
      (SELECT jsonb_build_object('minutes', r.minutes, 'calls', r.calls, 'overage_reported', r.overage_reported)
        FROM usage_period_rollup r
        WHERE r.account_id = ${accountId}::uuid AND r.period_start = ${period.start}) AS rollup,
      (SELECT COALESCE(sum(c.minutes), 0)::int FROM call_reservation c
        WHERE c.account_id = ${accountId}::uuid AND c.status = 'held' AND c.expires_at > ${now}) AS held,
      (SELECT jsonb_build_object('calls', count(*)::int, 'minutes', COALESCE(sum(e.billable_minutes), 0)::int)
        FROM usage_event e
        WHERE e.account_id = ${accountId}::uuid AND e.late AND e.received_at >= ${period.start}
          AND e.started_at >= ${lateFrom}) AS late,
      (SELECT jsonb_agg(jsonb_build_object('day', x.day, 'agent_key', x.agent_key, 'direction', x.direction,
          'minutes', x.minutes, 'calls', x.calls))
        FROM (
          SELECT to_char(d.day, 'YYYY-MM-DD') AS day, d.agent_key, d.direction::text AS direction,
            d.minutes, d.calls
          FROM usage_daily_rollup d
          WHERE ${wholeDays} AND d.account_id = ${accountId}::uuid
            AND d.day >= ${dayKey(firstFullDay)}::date AND d.day < ${dayKey(endOfFullDays)}::date
          UNION ALL
          SELECT to_char(e.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
            COALESCE(e.agent_id::text, ''), e.direction::text, sum(e.billable_minutes)::int, count(*)::int
          FROM usage_event e
          WHERE e.account_id = ${accountId}::uuid
            AND ((e.started_at >= ${period.start} AND e.started_at < ${eventsTo})
              OR (${wholeDays} AND e.started_at >= ${endOfFullDays} AND e.started_at < ${period.end}))
          GROUP BY 1, 2, 3
        ) x) AS breakdown,
      (SELECT jsonb_agg(to_jsonb(u) ORDER BY u.created_at DESC, u.threshold_percent DESC)
        FROM (SELECT * FROM usage_alert
          WHERE account_id = ${accountId}::uuid AND dismissed_at IS NULL
            AND period_start = ${period.start} AND minutes_limit = ${minutesLimit}
          ORDER BY created_at DESC, threshold_percent DESC LIMIT ${alertLimit}) u) AS alerts`,
  );
  const rollup = row?.rollup ?? null;
  const late = row?.late ?? { calls: 0, minutes: 0 };
  return {
    rollup: rollup
      ? {
          minutes: int(rollup, "minutes"),
          calls: int(rollup, "calls"),
          overageReported: int(rollup, "overage_reported"),
        }
      : null,
    minutesReserved: row?.held ?? 0,
    lateEvents: { calls: int(late, "calls"), minutes: int(late, "minutes") },
    breakdown: rows(row?.breakdown).map((j) => ({
      day: text(j, "day"),
      agent_key: text(j, "agent_key"),
      direction: text(j, "direction") as CallDirection,
      minutes: int(j, "minutes"),
      calls: int(j, "calls"),
    })),
    alerts: rows(row?.alerts).map(alertRow),
  };
}
