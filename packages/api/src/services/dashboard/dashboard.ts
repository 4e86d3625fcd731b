// The customer dashboard in one read: who and which account, the subscription, the period's usage with its
// daily series, agents, active alerts, recent invoices, entitlements, the forecast with plan advice, and
// the quick actions. Two statements read it all (dashboard-read.ts); the rows are shaped by the functions
// the other groups' services use (so each fact has one definition). The tRPC query dashboard.get and
// GET /api/dashboard/comprehensive/ both serve it.
import {
  type Currency,
  currentSubscriptionOf,
  type Entitlements,
  formatNumber,
  parseCurrency,
  type UsageOutlook,
  usageOutlook,
} from "@minutely/domain";
import type { Ports, Viewer } from "../../context.ts";
import { AppError } from "../../errors.ts";
import {
  type AccountEntitlements,
  type AgentsView,
  agentsViewOf,
  entitlementsOf,
} from "../accounts/index.ts";
import {
  type PackageView,
  type PlanRow,
  packageViewIn,
  toPackageView,
  toPlanDefinition,
} from "../catalog/index.ts";
import {
  ACTIVE_ALERTS_SHOWN,
  accountPeriodOf,
  alertViewOf,
  type CurrentUsage,
  currentUsageOf,
  type DailyUsagePoint,
  dailyPointsOf,
  meteringSubscriptionOf,
  type UsageAlertView,
} from "../metering/index.ts";
import {
  type billingHistory,
  billingHistoryOf,
  type SubscriptionOverview,
  subscriptionOverviewOf,
} from "../subscriptions/index.ts";
import { readDashboardAccount, readDashboardPeriod } from "./dashboard-read.ts";

/** How many invoices the dashboard lists (the billing page has them all). */
export const DASHBOARD_INVOICES = 5;

/** Pages of the customer app a quick action leads to. */
export type QuickActionPath = "/packages" | "/billing" | "/agents" | "/usage" | "/analytics";

export interface QuickAction {
  id: "packages" | "billing" | "agents" | "usage" | "analytics";
  label: string;
  description: string;
  path: QuickActionPath;
  /** Needs the customer's attention (no package yet, a failed payment). */
  urgent: boolean;
}

export type DashboardViewer = Pick<Viewer, "userId" | "email" | "name" | "sessionStartedAt"> & {
  accountId: string;
};

/** How the dashboard greets the customer: "Welcome to Minutely" or "Welcome back". */
export type Greeting = "new" | "returning";

/** Nobody is new for longer than a day after subscribing, even if they never sign out. */
export const NEW_CUSTOMER_MS = 24 * 60 * 60 * 1000;

/**
 * A customer is new from their account's first subscription until they sign in again, for a day at most:
 * the dashboards of the session in which they chose their first package say "Welcome to Minutely"; after
 * signing in again (or a day later) they are returning. An account that never subscribed is new. A viewer
 * without a known session start is greeted as returning.
 */
export function greetingFor(input: {
  /** When the account's first subscription was recorded; null when it never subscribed. */
  firstSubscribedAt: Date | null;
  sessionStartedAt: Date | undefined;
  now: Date;
}): Greeting {
  const { firstSubscribedAt, sessionStartedAt, now } = input;
  if (!sessionStartedAt) return "returning";
  if (!firstSubscribedAt) return "new";
  const subscribedThisSession = sessionStartedAt.getTime() <= firstSubscribedAt.getTime();
  const firstDay = now.getTime() - firstSubscribedAt.getTime() < NEW_CUSTOMER_MS;
  return subscribedThisSession && firstDay ? "new" : "returning";
}

export type DashboardInvoice = Awaited<ReturnType<typeof billingHistory>>[number];

export interface Dashboard {
  user: { id: string; email: string; name: string };
  /** "new" in the session of the first subscription (its first day), else "returning": see greetingFor. */
  greeting: Greeting;
  account: { id: string; name: string };
  subscription: SubscriptionOverview;
  /** No subscription granting access: the customer must choose a package. */
  needsPackageSelection: boolean;
  /** The current period's usage, or null when the account never subscribed. */
  usage: CurrentUsage | null;
  /** One point per UTC day of the current period, zero-filled (empty without a subscription). */
  daily: DailyUsagePoint[];
  agents: { active: number; total: number; allowed: number };
  /** Active usage alerts (undismissed, of the current period, against the current package), newest first. */
  alerts: UsageAlertView[];
  /** The most recent invoices, newest first. */
  invoices: DashboardInvoice[];
  entitlements: Entitlements;
  /** Forecast and plan advice, while the subscription grants access. */
  forecast: UsageOutlook | null;
  /** Active packages that include analytics (what an upgrade for analytics could be). */
  analyticsPackages: { id: string; name: string }[];
  quickActions: QuickAction[];
}

function joinNames(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? "";
  return `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

export function quickActions(input: {
  subscription: SubscriptionOverview;
  agents: Dashboard["agents"];
  entitlements: Entitlements;
  analyticsPackages: readonly { name: string }[];
}): QuickAction[] {
  const { subscription, agents, entitlements, analyticsPackages } = input;
  const choose = !subscription.grantsAccess;
  const offered = joinNames(analyticsPackages.map((p) => p.name));
  return [
    {
      id: "packages",
      label: "Subscription & Packages",
      description: choose
        ? "Choose a package to start calling."
        : "Compare packages, upgrade now or downgrade at renewal.",
      path: "/packages",
      urgent: choose,
    },
    {
      id: "billing",
      label: "Billing",
      description: subscription.needsPaymentAttention
        ? "Your last payment failed: update your card."
        : "Invoices, renewal and cancellation.",
      path: "/billing",
      urgent: subscription.needsPaymentAttention,
    },
    {
      id: "agents",
      label: "Agents",
      description: `${formatNumber(agents.active)} of ${formatNumber(agents.allowed)} active agents.`,
      path: "/agents",
      urgent: false,
    },
    {
      id: "usage",
      label: "Usage",
      description: "Minutes this period, alerts and thresholds.",
      path: "/usage",
      urgent: false,
    },
    {
      id: "analytics",
      label: "Analytics",
      description: entitlements.analytics
        ? "Minutes by agent, by direction and by day."
        : offered
          ? `Included with ${offered}.`
          : "Not included in your package.",
      path: "/analytics",
      urgent: false,
    },
  ];
}

/** What the dashboard is made of, read in one place (see `dashboard`) and shaped by `dashboardOf`. */
export interface DashboardFacts {
  account: { id: string; name: string } | null;
  /** When the account's first subscription was recorded; null when it never subscribed. */
  firstSubscribedAt: Date | null;
  subscription: SubscriptionOverview;
  usage: CurrentUsage | null;
  daily: DailyUsagePoint[];
  agents: AgentsView;
  alerts: UsageAlertView[];
  invoices: DashboardInvoice[];
  granted: AccountEntitlements;
  catalog: { packages: PackageView[] };
}

/** The dashboard from its facts: the greeting, the forecast, the agent counts and the quick actions. */
export function dashboardOf(viewer: DashboardViewer, now: Date, facts: DashboardFacts): Dashboard {
  const { account, subscription, usage, daily, agents, alerts, invoices, granted, catalog } = facts;
  if (!account) throw new AppError("NOT_FOUND", "This account does not exist.");
  const greeting = greetingFor({
    firstSubscribedAt: facts.firstSubscribedAt,
    sessionStartedAt: viewer.sessionStartedAt,
    now,
  });

  const plans = catalog.packages.map(toPlanDefinition);
  // A paused period bills nothing and takes no calls: no forecast of it. Nor of a trial's period: it is not
  // billed (calls stop at the allowance), so a projected bill would be wrong.
  const forecast =
    usage?.accessGranted && granted.package && !subscription.pause?.paused && subscription.trial === null
      ? usageOutlook({
          minutesUsed: usage.minutesUsed,
          period: usage.period,
          now: usage.asOf,
          currentPlan: toPlanDefinition(granted.package),
          plans,
        })
      : null;
  const analyticsPackages = catalog.packages
    .filter((p) => p.features.analytics)
    .map((p) => ({ id: p.id, name: p.name }));
  const agentCounts = { active: agents.activeCount, total: agents.agents.length, allowed: agents.allowed };
  return {
    user: { id: viewer.userId, email: viewer.email, name: viewer.name },
    greeting,
    account,
    subscription,
    needsPackageSelection: !subscription.grantsAccess,
    usage,
    daily,
    agents: agentCounts,
    alerts,
    invoices,
    entitlements: granted.entitlements,
    forecast,
    analyticsPackages,
    quickActions: quickActions({
      subscription,
      agents: agentCounts,
      entitlements: granted.entitlements,
      analyticsPackages,
    }),
  };
}

/** The active packages in `currency` (those sold in it), or each in its own currency when there is none. */
function catalogIn(plans: readonly PlanRow[], currency: Currency | null): PackageView[] {
  const active = plans.filter((p) => p.active);
  if (currency === null) return active.map(toPackageView);
  return active.flatMap((p) => {
    const view = packageViewIn(p, currency);
    return view ? [view] : [];
  });
}

/**
 * Everything the dashboard shows, for the viewer's own account, in two statements (dashboard-read.ts): the
 * account's facts, then its current period's (none without a subscription). The rows are shaped by the
 * same functions as the services that serve each fact alone (subscriptionOverview, currentUsage,
 * dailyUsage, listAgents, listActiveAlerts, billingHistory, accountEntitlements, listAvailablePackages).
 */
export async function dashboard(
  ports: Pick<Ports, "db" | "clock">,
  viewer: DashboardViewer,
): Promise<Dashboard> {
  const { accountId } = viewer;
  const wallNow = ports.clock.now();
  const read = await readDashboardAccount(ports.db, accountId, DASHBOARD_INVOICES);
  if (!read.account) throw new AppError("NOT_FOUND", "This account does not exist.");
  const { subscriptions } = read;
  const current = currentSubscriptionOf(subscriptions);
  const resumePlan = current?.resumeScheduledPlanId
    ? (read.plans.find((p) => p.id === current.resumeScheduledPlanId) ?? null)
    : null;
  const metered = meteringSubscriptionOf(subscriptions);
  const accountPeriod = accountPeriodOf(metered, wallNow);
  let usage: CurrentUsage | null = null;
  let daily: DailyUsagePoint[] = [];
  let alerts: UsageAlertView[] = [];
  if (accountPeriod) {
    const period = await readDashboardPeriod(ports.db, {
      accountId,
      period: accountPeriod.period,
      now: accountPeriod.now,
      minutesLimit: accountPeriod.subscription.plan.callMinutesLimit,
      alertLimit: ACTIVE_ALERTS_SHOWN,
    });
    usage = currentUsageOf(accountPeriod, period);
    daily = dailyPointsOf(accountPeriod.period, period.breakdown);
    alerts = period.alerts.map(alertViewOf);
  }
  const firstSubscribedAt = subscriptions.reduce<Date | null>(
    (first, s) => (first === null || s.createdAt.getTime() < first.getTime() ? s.createdAt : first),
    null,
  );
  return dashboardOf(viewer, wallNow, {
    account: read.account,
    firstSubscribedAt,
    subscription: subscriptionOverviewOf(current, resumePlan, wallNow),
    usage,
    daily,
    agents: agentsViewOf(read.agents, metered),
    alerts,
    invoices: billingHistoryOf(read.invoices, subscriptions, read.refundedStripeSubscriptionIds),
    granted: entitlementsOf(subscriptions),
    // The active packages, without the comparison table (availablePackagesOf): the dashboard shows none.
    // Priced in the subscription's currency (those without a price in it are not offered), else their own.
    catalog: { packages: catalogIn(read.plans, current ? parseCurrency(current.currency) : null) },
  });
}
