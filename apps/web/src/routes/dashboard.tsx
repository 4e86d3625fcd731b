// The customer dashboard: where the account stands this period and what to do next. Everything comes from
// one query (dashboard.get), batched with the payment banner's overview into one HTTP round trip.
import type { AppRouter } from "@minutely/api";
import { formatMoney } from "@minutely/domain";
import {
  Badge,
  Card,
  cn,
  ErrorState,
  httpStatusOf,
  Link,
  LiveStatus,
  Navigate,
  Spinner,
  UsageAlertList,
  useDocumentTitle,
  useIntentMutation,
} from "@minutely/ui";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { DailyChart } from "../components/daily-chart.tsx";
import { pauseSummary } from "../components/pause-subscription.tsx";
import { UsageGauge } from "../components/usage-gauge.tsx";
import { formatCents, formatCount, formatDate, formatNumber } from "../lib/format.ts";
import { trpc } from "../lib/trpc.ts";

type DashboardData = inferRouterOutputs<AppRouter>["dashboard"]["get"];

/**
 * The dashboard is live: live usage (LiveUpdates in router.tsx) re-reads it within a second of a usage
 * report or call authorization, and every 5 seconds while the stream is down.
 */
export const dashboardQuery = trpc.dashboard.get.queryOptions();

const STATUS_TONE: Record<string, "success" | "danger" | "warning" | "neutral"> = {
  active: "success",
  trialing: "success",
  past_due: "danger",
  unpaid: "danger",
  incomplete: "warning",
  paused: "warning",
};

/** Today by the account's time (its Stripe test clock's, if ahead of the wall clock), as the server says. */
function todayKey(asOf: Date | undefined): string {
  return (asOf ?? new Date()).toISOString().slice(0, 10);
}

function SubscriptionCard({ data }: { data: DashboardData }) {
  const sub = data.subscription;
  return (
    <Card className="flex flex-col gap-3" data-testid="dashboard-subscription">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 className="text-sm font-semibold tracking-wide text-slate-500 uppercase">Subscription</h2>
        <Badge tone={sub.pause?.paused ? "warning" : (STATUS_TONE[sub.status] ?? "neutral")}>
          {sub.statusLabel}
        </Badge>
      </div>
      <p className="text-2xl font-bold">{sub.package ? `${sub.package.name} package` : "No package"}</p>
      {sub.package ? (
        <ul className="space-y-1 text-sm text-slate-600">
          <li>{formatMoney(sub.package.monthlyPrice)} a month</li>
          <li>
            Current period {formatDate(sub.currentPeriodStart)} – {formatDate(sub.currentPeriodEnd)}
          </li>
          {sub.trial ? (
            <li className="font-medium text-slate-800" data-testid="dashboard-trial">
              Free trial until {formatDate(sub.trial.endsAt)}
              {sub.trial.cardOnFile
                ? `, then ${formatMoney(sub.package.monthlyPrice)} a month`
                : ": add a card to continue after it"}
            </li>
          ) : null}
          {sub.pause ? (
            <li className="font-medium text-amber-800" data-testid="dashboard-pause">
              {pauseSummary(sub.pause)}
            </li>
          ) : null}
          {sub.cancelAtPeriodEnd ? (
            <li className="font-medium text-amber-800">Ends on {formatDate(sub.currentPeriodEnd)}</li>
          ) : sub.pause ? null : sub.scheduledChange ? (
            <li className="font-medium text-slate-800">
              Changes to {sub.scheduledChange.packageName} on {formatDate(sub.scheduledChange.effectiveAt)}
            </li>
          ) : sub.trial ? null : (
            <li>Renews on {formatDate(sub.currentPeriodEnd)}</li>
          )}
        </ul>
      ) : null}
      <Link to="/billing" className="mt-auto text-sm font-medium text-brand-700 underline">
        Manage billing
      </Link>
    </Card>
  );
}

function UsageCard({ data }: { data: DashboardData }) {
  const usage = data.usage;
  if (!usage) return null;
  return (
    <Card className="flex flex-col gap-3" data-testid="dashboard-usage">
      <h2 className="text-sm font-semibold tracking-wide text-slate-500 uppercase">Call minutes</h2>
      <div className="flex flex-wrap items-center gap-4">
        <UsageGauge percentage={usage.usagePercentage} used={usage.minutesUsed} limit={usage.minutesLimit} />
        <div className="min-w-0 flex-1 space-y-1">
          <p className="text-2xl font-bold" data-testid="minutes-remaining">
            {formatNumber(usage.minutesRemaining)}
            <span className="text-base font-normal text-slate-600"> minutes remaining</span>
          </p>
          <p className="text-sm text-slate-600" data-testid="minutes-used">
            {formatNumber(usage.minutesUsed)} of {formatNumber(usage.minutesLimit)} used ·{" "}
            {formatCount(usage.calls, "call")}
          </p>
          {usage.minutesReserved > 0 ? (
            <p className="text-sm text-slate-600" data-testid="minutes-reserved">
              {formatNumber(usage.minutesReserved)} minutes held by calls in progress
            </p>
          ) : null}
          {usage.overage.minutes > 0 ? (
            <p className="text-sm font-medium text-red-700">
              {formatNumber(usage.overage.minutes)} minutes over: {formatMoney(usage.overage.cost)} on your
              next invoice
            </p>
          ) : null}
          {usage.overage.overCapMinutes > 0 ? (
            <p className="text-sm font-medium text-amber-800" data-testid="over-cap-minutes">
              {formatNumber(usage.overage.overCapMinutes)} minutes beyond your plan's cap: recorded, not
              billed
            </p>
          ) : null}
        </div>
      </div>
      <Link to="/usage" className="mt-auto text-sm font-medium text-brand-700 underline">
        Usage details
      </Link>
    </Card>
  );
}

function ForecastCard({ data }: { data: DashboardData }) {
  const forecast = data.forecast;
  if (!forecast) return null;
  const { advice } = forecast;
  return (
    <Card className="flex flex-col gap-3" data-testid="dashboard-forecast">
      <h2 className="text-sm font-semibold tracking-wide text-slate-500 uppercase">Forecast</h2>
      <p className="text-2xl font-bold" data-testid="forecast-projection">
        {formatNumber(forecast.projectedMinutes)}
        <span className="text-base font-normal text-slate-600">
          {" "}
          of {formatNumber(forecast.minutesLimit)} minutes{" "}
          {forecast.tooEarly ? "so far" : forecast.extrapolated ? "by the period's end" : "this period"}
        </span>
      </p>
      {forecast.capReached ? (
        <p
          className="rounded-md bg-amber-50 px-3 py-2 text-sm font-medium text-amber-900 ring-1 ring-amber-200"
          data-testid="forecast-cap"
        >
          Outbound calls are paused until {formatDate(data.usage?.period.end)}: the{" "}
          {formatNumber(forecast.minutesLimit)} included minutes are used up. Inbound calls are still
          answered.
        </p>
      ) : null}
      <p className="text-sm text-slate-800" data-testid="forecast-advice">
        {advice.message}
      </p>
      <ul className="space-y-1 text-sm text-slate-600">
        {forecast.projectedOverageCost.amount > 0 ? (
          <li>
            Projected overage: {formatMoney(forecast.projectedOverageCost)} (
            {formatNumber(forecast.projectedMinutesOver)} minutes beyond the limit)
          </li>
        ) : null}
        {forecast.tooEarly ? null : (
          <li>Projected bill for this period: {formatMoney(forecast.projectedMonthlyCost)}</li>
        )}
        {forecast.projectedToHitCap && !forecast.capReached ? (
          <li className="text-amber-800">At this pace outbound calls pause before the period ends.</li>
        ) : null}
      </ul>
      {advice.kind === "stay" ? null : (
        <Link to="/packages" className="mt-auto text-sm font-medium text-brand-700 underline">
          {advice.kind === "upgrade" ? "Upgrade" : "Switch"} to {advice.suggestedPlanName}
        </Link>
      )}
    </Card>
  );
}

function Alerts({ data }: { data: DashboardData }) {
  const queryClient = useQueryClient();
  const dismiss = useIntentMutation(
    trpc.alerts.dismiss.mutationOptions({
      onSuccess: () =>
        Promise.all([
          queryClient.invalidateQueries({ queryKey: trpc.dashboard.get.queryKey() }),
          queryClient.invalidateQueries({ queryKey: trpc.alerts.list.queryKey() }),
        ]),
    }),
  );
  return <UsageAlertList alerts={data.alerts} dismiss={dismiss} />;
}

function AgentsCard({ data }: { data: DashboardData }) {
  const { active, allowed, total } = data.agents;
  const share = allowed > 0 ? Math.min(100, (active / allowed) * 100) : 0;
  return (
    <Card className="flex flex-col gap-3" data-testid="dashboard-agents">
      <h2 className="text-sm font-semibold tracking-wide text-slate-500 uppercase">Agents</h2>
      <p className="text-2xl font-bold">
        {active}
        <span className="text-base font-normal text-slate-600"> of {allowed} active</span>
      </p>
      <meter
        className="sr-only"
        aria-label="Active agents of the package's allowance"
        min={0}
        max={Math.max(allowed, 1)}
        value={active}
      >
        {active} of {allowed}
      </meter>
      <div className="h-2 w-full overflow-hidden rounded-full bg-slate-100" aria-hidden>
        <div className="h-full bg-brand-600" style={{ width: `${share}%` }} />
      </div>
      <p className="text-sm text-slate-600">
        {total > active ? `${total - active} inactive. ` : ""}
        {active >= allowed && allowed > 0 ? "Your package's allowance is used." : null}
      </p>
      <Link to="/agents" className="mt-auto text-sm font-medium text-brand-700 underline">
        Manage agents
      </Link>
    </Card>
  );
}

function InvoicesCard({ data }: { data: DashboardData }) {
  return (
    <Card className="flex flex-col gap-3">
      <h2 className="text-sm font-semibold tracking-wide text-slate-500 uppercase">Recent invoices</h2>
      {data.invoices.length === 0 ? (
        <p className="text-sm text-slate-500">No invoices yet.</p>
      ) : (
        <ul className="divide-y divide-slate-100 text-sm" aria-label="Recent invoices">
          {data.invoices.map((invoice) => (
            <li key={invoice.id} className="flex flex-wrap items-center justify-between gap-2 py-2">
              <span>
                <span className="font-medium">{formatDate(invoice.date)}</span>
                <span className="text-slate-500"> · {invoice.number ?? "Draft"}</span>
              </span>
              <span className="flex items-center gap-2">
                {formatCents(invoice.amountCents, invoice.currency)}
                <Badge
                  tone={
                    invoice.status === "paid" ? "success" : invoice.status === "open" ? "danger" : "neutral"
                  }
                >
                  {invoice.status}
                </Badge>
              </span>
            </li>
          ))}
        </ul>
      )}
      <Link to="/billing" className="mt-auto text-sm font-medium text-brand-700 underline">
        All invoices
      </Link>
    </Card>
  );
}

function QuickActions({ data }: { data: DashboardData }) {
  return (
    <Card>
      <h2 className="mb-3 text-sm font-semibold tracking-wide text-slate-500 uppercase">Quick actions</h2>
      <nav aria-label="Quick actions">
        <ul className="grid gap-2 sm:grid-cols-2 lg:grid-cols-5">
          {data.quickActions.map((action) => (
            <li key={action.id}>
              <Link
                to={action.path}
                className={cn(
                  "block h-full rounded-lg p-3 ring-1 transition-colors hover:bg-slate-50",
                  action.urgent ? "bg-red-50 ring-red-200" : "ring-slate-200",
                )}
              >
                <span className="block font-medium text-slate-900">{action.label}</span>
                <span className="block text-sm text-slate-600">{action.description}</span>
              </Link>
            </li>
          ))}
        </ul>
      </nav>
    </Card>
  );
}

export function DashboardSkeleton() {
  return (
    <div className="space-y-6" aria-busy="true">
      <Spinner label="Loading your dashboard" />
      <div className="grid gap-4 md:grid-cols-3" aria-hidden>
        {[0, 1, 2].map((i) => (
          <div key={i} className="h-48 animate-pulse rounded-xl bg-slate-200/60" />
        ))}
      </div>
      <div className="h-56 animate-pulse rounded-xl bg-slate-200/60" aria-hidden />
    </div>
  );
}

export function DashboardPage() {
  useDocumentTitle("Dashboard");
  const dashboard = useQuery(dashboardQuery);
  if (dashboard.isPending) return <DashboardSkeleton />;
  if (dashboard.isError) {
    return (
      <div className="space-y-4">
        <h1 className="text-2xl font-bold">Dashboard</h1>
        <ErrorState
          error={
            httpStatusOf(dashboard.error) === undefined
              ? {
                  message:
                    "Minutely did not answer, so your dashboard could not be loaded. Check your connection.",
                }
              : dashboard.error
          }
          onRetry={() => dashboard.refetch()}
        />
      </div>
    );
  }
  const data = dashboard.data;
  if (data.needsPackageSelection) return <Navigate to="/packages" replace />;
  const firstName = data.user.name.split(" ")[0] || data.user.name;
  return (
    <div className="space-y-6">
      <div>
        <div className="flex flex-wrap items-center gap-3">
          <h1 className="text-2xl font-bold">Dashboard</h1>
          <LiveStatus />
        </div>
        <p className="text-slate-600" data-testid="dashboard-greeting">
          {data.greeting === "new" ? `Welcome to Minutely, ${firstName}.` : `Welcome back, ${firstName}.`}{" "}
          Here is where {data.account.name} stands this billing period.
        </p>
      </div>
      <Alerts data={data} />
      {/* The minutes gauge first: on a phone it is what shows above the fold. */}
      <div className="grid gap-4 md:grid-cols-2 xl:grid-cols-3">
        <UsageCard data={data} />
        <SubscriptionCard data={data} />
        <ForecastCard data={data} />
      </div>
      <div className="grid items-start gap-4 lg:grid-cols-3">
        <Card className="lg:col-span-2">
          <DailyChart days={data.daily} today={todayKey(data.usage?.asOf)} />
        </Card>
        <div className="grid gap-4 md:grid-cols-2 lg:grid-cols-1">
          <AgentsCard data={data} />
          <InvoicesCard data={data} />
        </div>
      </div>
      <QuickActions data={data} />
    </div>
  );
}
