// The admin's customers: a searchable, server-side paginated list and one customer's whole picture
// (subscription, usage, invoices, alerts, agents, Stripe ids). Reads only.

import { Prisma, type Subscription as SubscriptionRow, type SubscriptionStatus } from "@minutely/db";
import {
  accountNow,
  countsTowardsMrr,
  currentSubscriptionOf,
  isPausedAt,
  parseCurrency,
  type SpendCap,
  spendCapStatus,
  usagePercentage,
} from "@minutely/domain";
import type { Ports } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { accountTeam, type TeamMember, type TeamView } from "../accounts/index.ts";
import { duplicateSubscriptionsOf } from "../billing/index.ts";
import {
  type CurrentUsage,
  collectionPauseOf,
  currentUsage,
  type DailyUsagePoint,
  dailyUsage,
} from "../metering/index.ts";
import { INVOICE_ORDER } from "../subscriptions/index.ts";
import {
  ACCESS_STATUSES,
  accountsMatching,
  chosenSubscriptionOf,
  currentPeriodOf,
  mrrAmount,
  overagePriceSql,
  PRICE_CURRENCY,
  pausedSql,
} from "./sql.ts";

/** An amount of money in integer minor units (cents) and its lowercase ISO currency. */
export interface Amount {
  amount: number;
  currency: string;
}

/** Filters of the customer list: everyone, access-granting subscriptions, one status, or never subscribed. */
export const CUSTOMER_STATUS_FILTERS = [
  "all",
  "access",
  "active",
  "trialing",
  "past_due",
  "unpaid",
  "incomplete",
  "incomplete_expired",
  "canceled",
  "paused",
  "unknown",
  "none",
] as const;
export type CustomerStatusFilter = (typeof CUSTOMER_STATUS_FILTERS)[number];

/** Filters by overage budget: everyone, accounts that set one, or those whose current period reached it. */
export const CUSTOMER_SPEND_CAP_FILTERS = ["all", "set", "reached"] as const;
export type CustomerSpendCapFilter = (typeof CUSTOMER_SPEND_CAP_FILTERS)[number];

export interface CustomerListInput {
  search?: string | undefined;
  status: CustomerStatusFilter;
  spendCap?: CustomerSpendCapFilter | undefined;
  page: number;
  pageSize: number;
}

export interface CustomerListItem {
  accountId: string;
  name: string;
  createdAt: Date;
  ownerEmail: string | null;
  /** When the owner deleted the account (docs/accounts.md); null: a live account. */
  deletedAt: Date | null;
  status: SubscriptionStatus | "none";
  planName: string | null;
  cancelAtPeriodEnd: boolean;
  /** The collection pause: when it starts and ends (null: until resumed), and whether it is in effect. */
  pause: { startsAt: Date; resumesAt: Date | null; paused: boolean } | null;
  /** While the subscription is in its free trial (trialing): when the trial ends. Not in MRR meanwhile. */
  trial: { endsAt: Date } | null;
  /** The current period's minutes against the package's limit; null without a subscription. */
  usage: { minutesUsed: number; minutesLimit: number; percentage: number } | null;
  /** What the account adds to MRR: its monthly price while its subscription pays (not in a trial), else null. */
  mrr: Amount | null;
  /** The overage budget and whether the current period reached it (outbound calls denied); null: none. */
  spendCap: (SpendCap & { reached: boolean }) | null;
}

export interface CustomerList {
  items: CustomerListItem[];
  total: number;
  page: number;
  pageSize: number;
}

interface ListRow {
  id: string;
  name: string;
  created_at: Date;
  deleted_at: Date | null;
  owner_email: string | null;
  status: SubscriptionStatus | null;
  plan_name: string | null;
  cancel_at_period_end: boolean | null;
  pause_behavior: string | null;
  pause_starts_at: Date | null;
  pause_resumes_at: Date | null;
  paused: boolean | null;
  trial_end: Date | null;
  minutes_used: number | null;
  minutes_limit: number | null;
  /** What the subscription adds to MRR: its price after a recurring discount (mrrAmount). */
  mrr_cents: number | null;
  currency: string | null;
  cap_cents: number | null;
  cap_currency: string | null;
  overage_price_cents: number | null;
}

/** The budget of a list row, and whether its current period reached it. */
function spendCapOfRow(r: ListRow): CustomerListItem["spendCap"] {
  const currency = r.cap_currency ? parseCurrency(r.cap_currency) : null;
  if (r.cap_cents === null || currency === null) return null;
  const cap = { amountCents: r.cap_cents, currency };
  const reached =
    r.overage_price_cents !== null && r.minutes_used !== null && r.minutes_limit !== null
      ? spendCapStatus({
          minutesUsed: r.minutes_used,
          limit: r.minutes_limit,
          price: { amount: r.overage_price_cents, currency },
          cap,
        }).reached
      : false;
  return { ...cap, reached };
}

function spendCapCondition(filter: CustomerSpendCapFilter, now: Date): Prisma.Sql {
  switch (filter) {
    case "all":
      return Prisma.empty;
    case "set":
      return Prisma.sql`AND a.overage_cap_cents IS NOT NULL`;
    case "reached":
      // The current period's minutes reach the included ones plus what the budget pays for (spendCapStatus).
      return Prisma.sql`AND a.overage_cap_cents IS NOT NULL AND EXISTS (
        SELECT 1 FROM (${chosenSubscriptionOf(Prisma.sql`a.id`)}) s
        JOIN subscription_plan pl ON pl.id = s.plan_id
        CROSS JOIN LATERAL (${currentPeriodOf("s", now)}) cp
        JOIN usage_period_rollup r ON r.account_id = a.id AND r.period_start = cp.period_start
        CROSS JOIN LATERAL (SELECT ${overagePriceSql("s", "pl")} AS price) op
        WHERE op.price > 0 AND lower(a.overage_cap_currency) = lower(s.currency)
          AND r.minutes >= pl.call_minutes_limit + a.overage_cap_cents / op.price)`;
    default:
      return Prisma.empty;
  }
}

function statusCondition(status: CustomerStatusFilter): Prisma.Sql {
  switch (status) {
    case "all":
      return Prisma.empty;
    case "paused":
      // Stripe's status paused, or a collection pause set (in effect, or starting at the end of the period).
      return Prisma.sql`AND a.id IN (
          SELECT account_id FROM subscription WHERE status = 'paused' OR pause_behavior IS NOT NULL)
        AND EXISTS (SELECT 1 FROM (${chosenSubscriptionOf(Prisma.sql`a.id`)}) c
          WHERE c.status = 'paused' OR c.pause_behavior IS NOT NULL)`;
    case "access":
      // The chosen subscription grants access exactly when any of the account's subscriptions does.
      return Prisma.sql`AND a.id IN (
        SELECT account_id FROM subscription WHERE status::text = ANY(${ACCESS_STATUSES}::text[]))`;
    case "none":
      return Prisma.sql`AND NOT EXISTS (SELECT 1 FROM subscription s WHERE s.account_id = a.id)`;
    default:
      // Candidates through the index on subscription(status, ...), then the chosen subscription's status.
      return Prisma.sql`AND a.id IN (SELECT account_id FROM subscription WHERE status = ${status}::"SubscriptionStatus")
        AND (SELECT c.status FROM (${chosenSubscriptionOf(Prisma.sql`a.id`)}) c) = ${status}::"SubscriptionStatus"`;
  }
}

/**
 * Accounts newest first (index account(created_at, id)), optionally narrowed by a search term (name or
 * user email substring, or an exact id) and by the status of the account's subscription.
 */
export async function listCustomers(
  { db, clock }: Pick<Ports, "db" | "clock">,
  input: CustomerListInput,
): Promise<CustomerList> {
  const term = input.search?.trim() ?? "";
  const where = Prisma.sql`WHERE true
    ${term ? Prisma.sql`AND a.id IN (${accountsMatching(term)})` : Prisma.empty}
    ${statusCondition(input.status)}
    ${spendCapCondition(input.spendCap ?? "all", clock.now())}`;
  const [count] = await db.$queryRaw<
    { total: number }[]
  >`SELECT count(*)::int AS total FROM account a ${where}`;
  const rows = await db.$queryRaw<ListRow[]>`
    WITH page AS (
      SELECT a.id, a.name, a.created_at, a.deleted_at, a.overage_cap_cents, a.overage_cap_currency FROM account a ${where}
      ORDER BY a.created_at DESC, a.id DESC
      LIMIT ${input.pageSize} OFFSET ${(input.page - 1) * input.pageSize}
    )
    SELECT p.id, p.name, p.created_at, p.deleted_at, o.email AS owner_email, s.status, pl.name AS plan_name,
      s.cancel_at_period_end, s.pause_behavior, COALESCE(s.pause_starts_at, s.current_period_start) AS pause_starts_at,
      s.pause_resumes_at, ${pausedSql("s", clock.now())} AS paused, s.trial_end, CASE WHEN s.id IS NULL THEN NULL ELSE COALESCE(r.minutes, 0) END AS minutes_used,
      pl.call_minutes_limit AS minutes_limit, ${mrrAmount(clock.now())}::int AS mrr_cents, ${PRICE_CURRENCY} AS currency,
      p.overage_cap_cents AS cap_cents, p.overage_cap_currency AS cap_currency,
      CASE WHEN s.id IS NULL THEN NULL ELSE ${overagePriceSql("s", "pl")} END AS overage_price_cents
    FROM page p
    LEFT JOIN LATERAL (
      SELECT u.email FROM account_member m JOIN "user" u ON u.id = m.user_id WHERE m.account_id = p.id AND m.role = 'owner'
    ) o ON true
    LEFT JOIN LATERAL (${chosenSubscriptionOf(Prisma.sql`p.id`)}) s ON true
    LEFT JOIN subscription_plan pl ON pl.id = s.plan_id
    LEFT JOIN plan_price pp ON pp.stripe_price_id = s.stripe_price_id
    LEFT JOIN coupon c ON c.id = s.coupon_id
    LEFT JOIN LATERAL (${currentPeriodOf("s", clock.now())}) cp ON s.id IS NOT NULL
    LEFT JOIN usage_period_rollup r ON r.account_id = p.id AND r.period_start = cp.period_start
    ORDER BY p.created_at DESC, p.id DESC`;
  return {
    total: count?.total ?? 0,
    page: input.page,
    pageSize: input.pageSize,
    items: rows.map((r) => {
      const status = r.status ?? "none";
      return {
        accountId: r.id,
        name: r.name,
        createdAt: r.created_at,
        ownerEmail: r.owner_email,
        deletedAt: r.deleted_at,
        status,
        planName: r.plan_name,
        cancelAtPeriodEnd: r.cancel_at_period_end ?? false,
        pause:
          r.pause_behavior !== null && r.pause_starts_at !== null
            ? { startsAt: r.pause_starts_at, resumesAt: r.pause_resumes_at, paused: r.paused === true }
            : null,
        trial: status === "trialing" && r.trial_end !== null ? { endsAt: r.trial_end } : null,
        usage:
          r.minutes_limit !== null && r.minutes_used !== null
            ? {
                minutesUsed: r.minutes_used,
                minutesLimit: r.minutes_limit,
                percentage: usagePercentage(r.minutes_used, r.minutes_limit),
              }
            : null,
        mrr:
          countsTowardsMrr(status) && r.paused !== true && r.mrr_cents !== null && r.currency !== null
            ? { amount: r.mrr_cents, currency: r.currency }
            : null,
        spendCap: spendCapOfRow(r),
      };
    }),
  };
}

export interface CustomerSubscriptionView {
  id: string;
  stripeSubscriptionId: string;
  status: SubscriptionStatus;
  stripeStatus: string;
  planId: string;
  planName: string;
  price: Amount;
  stripePriceId: string;
  currentPeriodStart: Date;
  currentPeriodEnd: Date;
  cancelAtPeriodEnd: boolean;
  canceledAt: Date | null;
  endedAt: Date | null;
  scheduledChange: { planName: string; at: Date | null; stripeScheduleId: string | null } | null;
  /** The collection pause: when it starts and ends (null: until resumed), and whether it is in effect. */
  pause: { startsAt: Date; resumesAt: Date | null; paused: boolean } | null;
  stripeTestClockId: string | null;
  syncedAt: Date;
  createdAt: Date;
}

export interface AdminTeamMember extends TeamMember {
  emailVerified: boolean;
  /** The user's platform role: "admin" for Minutely's own staff. */
  platformRole: "admin" | "user";
}

export interface AdminTeamView extends Omit<TeamView, "members"> {
  members: AdminTeamMember[];
}

/** The team as customers see it, plus what only admins see of each member (verification, staff). */
async function adminTeam(ports: Pick<Ports, "db" | "clock">, accountId: string): Promise<AdminTeamView> {
  const team = await accountTeam(ports, accountId);
  const users = await ports.db.user.findMany({
    where: { id: { in: team.members.map((m) => m.userId) } },
    select: { id: true, emailVerified: true, role: true },
  });
  const byId = new Map(users.map((u) => [u.id, u]));
  return {
    ...team,
    members: team.members.map((m) => ({
      ...m,
      emailVerified: byId.get(m.userId)?.emailVerified ?? false,
      platformRole: byId.get(m.userId)?.role === "admin" ? "admin" : "user",
    })),
  };
}

export interface CustomerDetail {
  account: {
    id: string;
    name: string;
    createdAt: Date;
    stripeCustomerId: string | null;
    /** When the owner deleted the account (docs/accounts.md); null: a live account. */
    deletedAt: Date | null;
  };
  /**
   * The account's members, owner first (each with whether their address is verified and whether they are a
   * Minutely admin), and its pending invitations. A deleted account has none.
   */
  team: AdminTeamView;
  /** The subscription metering follows (the newest granting access, else the newest). */
  subscription: CustomerSubscriptionView | null;
  /** Every subscription of the account, newest first. */
  subscriptions: CustomerSubscriptionView[];
  mrr: Amount | null;
  usage: CurrentUsage | null;
  /** One point per UTC day of the current period. */
  daily: DailyUsagePoint[];
  invoices: {
    id: string;
    stripeInvoiceId: string;
    number: string | null;
    status: string;
    billingReason: string | null;
    total: Amount;
    amountDueCents: number;
    amountPaidCents: number;
    /** Refunded of what was paid, as Stripe has it. */
    refundedCents: number;
    /** Credited by credit notes other than by a refund. */
    creditedCents: number;
    hostedInvoiceUrl: string | null;
    invoicePdfUrl: string | null;
    periodStart: Date | null;
    periodEnd: Date | null;
    issuedAt: Date;
    paidAt: Date | null;
  }[];
  alerts: {
    id: string;
    kind: string;
    thresholdPercent: number;
    minutesUsed: number;
    minutesLimit: number;
    message: string;
    periodStart: Date;
    emailedAt: Date | null;
    dismissedAt: Date | null;
    createdAt: Date;
  }[];
  agents: { id: string; name: string; active: boolean; deactivatedAt: Date | null; createdAt: Date }[];
  /** The overage budget and the current period's overage against it (null: none set). */
  spendCap: {
    cap: SpendCap;
    status: { spentCents: number; percentage: number; reached: boolean } | null;
  } | null;
  /**
   * Second live subscriptions Minutely found for this account (two Checkout pages paid), newest first:
   * canceled at once and refunded; `detected` while that is under way (or if it failed half-way).
   */
  duplicateSubscriptions: {
    stripeSubscriptionId: string;
    keptStripeSubscriptionId: string;
    status: "detected" | "resolved";
    refunded: Amount | null;
    stripeRefundIds: string[];
    stripeEventId: string | null;
    detectedAt: Date;
    resolvedAt: Date | null;
  }[];
  stripe: {
    /** Stripe's dashboard, when the account's objects live in real Stripe; null with the emulator (no dashboard). */
    dashboardUrl: string | null;
    customerId: string | null;
    subscriptionId: string | null;
    scheduleId: string | null;
    testClockId: string | null;
  };
}

const INVOICES_SHOWN = 24;
const ALERTS_SHOWN = 20;

/** Everything about one account, for the customer detail page. */
/** What a subscription adds to MRR now: its price after a recurring discount, as the revenue page counts it. */
async function mrrOf(
  { db, clock }: Pick<Ports, "db" | "clock">,
  subscription: CustomerSubscriptionView,
): Promise<Amount> {
  const [row] = await db.$queryRaw<{ amount: number }[]>`
    SELECT ${mrrAmount(clock.now())}::int AS amount
    FROM subscription s
    JOIN subscription_plan pl ON pl.id = s.plan_id
    LEFT JOIN plan_price pp ON pp.stripe_price_id = s.stripe_price_id
    LEFT JOIN coupon c ON c.id = s.coupon_id
    WHERE s.id = ${subscription.id}::uuid`;
  return { amount: row?.amount ?? subscription.price.amount, currency: subscription.price.currency };
}

export async function customerDetail(
  ports: Pick<Ports, "db" | "clock" | "settings">,
  accountId: string,
): Promise<CustomerDetail> {
  const { db } = ports;
  const account = await db.account.findUnique({ where: { id: accountId } });
  if (!account) throw new AppError("NOT_FOUND", "No such customer.", "accountId");
  const [team, subscriptionRows, invoices, alerts, agents, duplicateSubscriptions] = await Promise.all([
    adminTeam(ports, accountId),
    db.subscription.findMany({
      where: { accountId },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      include: { plan: true, scheduledPlan: true },
      take: 50,
    }),
    db.billingHistory.findMany({
      where: { accountId },
      orderBy: INVOICE_ORDER,
      take: INVOICES_SHOWN,
    }),
    db.usageAlert.findMany({
      where: { accountId },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: ALERTS_SHOWN,
    }),
    db.agent.findMany({
      where: { accountId },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      select: { id: true, name: true, active: true, deactivatedAt: true, createdAt: true },
    }),
    duplicateSubscriptionsOf(ports, accountId),
  ]);
  const prices = await db.planPrice.findMany({
    where: { stripePriceId: { in: [...new Set(subscriptionRows.map((s) => s.stripePriceId))] } },
    select: { stripePriceId: true, amountCents: true, currency: true },
  });
  const priceOf = new Map(prices.map((p) => [p.stripePriceId, p]));
  const subscriptions: CustomerSubscriptionView[] = subscriptionRows.map((s) => {
    const price = priceOf.get(s.stripePriceId);
    return {
      id: s.id,
      stripeSubscriptionId: s.stripeSubscriptionId,
      status: s.status,
      stripeStatus: s.stripeStatus,
      planId: s.planId,
      planName: s.plan.name,
      price: {
        amount: price?.amountCents ?? s.plan.monthlyPriceCents,
        currency: (price?.currency ?? s.currency).trim().toLowerCase(),
      },
      stripePriceId: s.stripePriceId,
      currentPeriodStart: s.currentPeriodStart,
      currentPeriodEnd: s.currentPeriodEnd,
      cancelAtPeriodEnd: s.cancelAtPeriodEnd,
      canceledAt: s.canceledAt,
      endedAt: s.endedAt,
      scheduledChange: s.scheduledPlan
        ? { planName: s.scheduledPlan.name, at: s.scheduledChangeAt, stripeScheduleId: s.stripeScheduleId }
        : null,
      pause: pauseViewOf(s, ports.clock.now()),
      stripeTestClockId: s.stripeTestClockId,
      syncedAt: s.syncedAt,
      createdAt: s.createdAt,
    };
  });
  const chosen = currentSubscriptionOf(subscriptions);
  const usage = chosen ? await currentUsage(ports, accountId) : null;
  const capCurrency = account.overageCapCurrency ? parseCurrency(account.overageCapCurrency) : null;
  const cap =
    account.overageCapCents !== null && capCurrency
      ? { amountCents: account.overageCapCents, currency: capCurrency }
      : null;
  const price = usage?.overage.pricePerMinute ?? null;
  const daily = usage ? (await dailyUsage(ports, accountId)).days : [];
  return {
    account: {
      id: account.id,
      name: account.name,
      createdAt: account.createdAt,
      stripeCustomerId: account.stripeCustomerId,
      deletedAt: account.deletedAt,
    },
    team,
    subscription: chosen,
    subscriptions,
    mrr:
      chosen && countsTowardsMrr(chosen.status) && !chosen.pause?.paused ? await mrrOf(ports, chosen) : null,
    usage,
    daily,
    invoices: invoices.map((i) => ({
      id: i.id,
      stripeInvoiceId: i.stripeInvoiceId,
      number: i.number,
      status: i.status,
      billingReason: i.billingReason,
      total: { amount: i.totalCents, currency: i.currency.trim().toLowerCase() },
      amountDueCents: i.amountDueCents,
      amountPaidCents: i.amountPaidCents,
      refundedCents: i.refundedCents,
      creditedCents: i.creditedCents,
      hostedInvoiceUrl: i.hostedInvoiceUrl,
      invoicePdfUrl: i.invoicePdfUrl,
      periodStart: i.periodStart,
      periodEnd: i.periodEnd,
      issuedAt: i.issuedAt,
      paidAt: i.paidAt,
    })),
    alerts: alerts.map((a) => ({
      id: a.id,
      kind: a.kind,
      thresholdPercent: a.thresholdPercent,
      minutesUsed: a.minutesUsed,
      minutesLimit: a.minutesLimit,
      message: a.message,
      periodStart: a.periodStart,
      emailedAt: a.emailedAt,
      dismissedAt: a.dismissedAt,
      createdAt: a.createdAt,
    })),
    agents,
    spendCap: cap
      ? {
          cap,
          status:
            usage && price
              ? spendCapStatus({ minutesUsed: usage.minutesUsed, limit: usage.minutesLimit, price, cap })
              : null,
        }
      : null,
    duplicateSubscriptions,
    stripe: {
      dashboardUrl: stripeDashboardUrl(ports.settings),
      customerId: account.stripeCustomerId,
      subscriptionId: chosen?.stripeSubscriptionId ?? null,
      scheduleId: chosen?.scheduledChange?.stripeScheduleId ?? null,
      testClockId: chosen?.stripeTestClockId ?? null,
    },
  };
}

/**
 * Base URL of Stripe's dashboard for this deployment's objects: none with the emulator (it has no
 * dashboard), the test-mode dashboard when Stripe test clocks are in use (test keys), else the live one.
 */
/** A subscription's collection pause for the admin views, and whether it is in effect at the account's now. */
function pauseViewOf(s: SubscriptionRow, wallNow: Date): CustomerSubscriptionView["pause"] {
  const pause = collectionPauseOf(s);
  if (!pause) return null;
  return { ...pause, paused: isPausedAt(s.status, pause, accountNow(wallNow, s.testClockTime)) };
}

export function stripeDashboardUrl(settings: Ports["settings"]): string | null {
  if (settings.stripeEmulator) return null;
  return settings.useTestClocks ? "https://dashboard.stripe.com/test" : "https://dashboard.stripe.com";
}
