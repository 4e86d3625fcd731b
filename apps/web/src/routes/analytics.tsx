// Analytics: minutes by agent, by direction and by day of the current period. The server decides who may
// see them (FORBIDDEN without the package's analytics); everyone else sees what analytics offer and which
// packages include them.
import { formatMoney } from "@minutely/domain";
import {
  Badge,
  Button,
  Card,
  EmptyState,
  ErrorState,
  httpStatusOf,
  Link,
  Spinner,
  useDocumentTitle,
} from "@minutely/ui";
import { useQuery } from "@tanstack/react-query";
import { DailyChart } from "../components/daily-chart.tsx";
import { formatCount, formatDate, formatNumber } from "../lib/format.ts";
import { trpc } from "../lib/trpc.ts";

const calls = (count: number) => formatCount(count, "call");

function share(part: number, whole: number): number {
  return whole > 0 ? Math.round((part / whole) * 1000) / 10 : 0;
}

function UpgradePrompt({ reason }: { reason: string }) {
  // Priced as the account buys: in its billing currency once it has one (the selection says which).
  const catalog = useQuery(trpc.catalog.selection.queryOptions());
  const offering =
    catalog.data?.packages.filter((p) => p.features.analytics && p.availability.available) ?? [];
  return (
    <div className="space-y-6" data-testid="analytics-upgrade">
      <div>
        <h1 className="text-2xl font-bold">Analytics</h1>
        <p className="text-slate-600">{reason}</p>
      </div>
      <Card className="space-y-4">
        <h2 className="text-lg font-semibold">See where your minutes go</h2>
        <ul className="grid gap-3 text-sm sm:grid-cols-3">
          <li className="rounded-lg bg-slate-50 p-3">
            <span className="block font-semibold">Minutes by agent</span>
            Which agents take the most calls and minutes, active or not.
          </li>
          <li className="rounded-lg bg-slate-50 p-3">
            <span className="block font-semibold">Inbound and outbound</span>
            How your minutes split between calls you answer and calls you place.
          </li>
          <li className="rounded-lg bg-slate-50 p-3">
            <span className="block font-semibold">Minutes by day</span>
            Daily minutes of the period, inbound and outbound stacked, with the numbers.
          </li>
        </ul>
        {offering.length > 0 ? (
          <p className="text-sm text-slate-700">
            Included with{" "}
            {offering.map((p, i) => (
              <span key={p.id}>
                {i > 0 ? (i === offering.length - 1 ? " and " : ", ") : ""}
                <strong>{p.name}</strong> ({formatMoney(p.monthlyPrice)}/month)
              </span>
            ))}
            .
          </p>
        ) : null}
        <Button asChild>
          <Link to="/packages">Compare packages</Link>
        </Button>
      </Card>
    </div>
  );
}

export function AnalyticsPage() {
  useDocumentTitle("Analytics");
  const analytics = useQuery(trpc.analytics.overview.queryOptions(undefined, { refetchInterval: 30_000 }));
  if (analytics.isPending) return <Spinner label="Loading analytics" />;
  if (analytics.isError) {
    if (httpStatusOf(analytics.error) === 403) return <UpgradePrompt reason={analytics.error.message} />;
    return (
      <div className="space-y-4">
        <h1 className="text-2xl font-bold">Analytics</h1>
        <ErrorState error={analytics.error} onRetry={() => analytics.refetch()} />
      </div>
    );
  }
  const { period, totals, byAgent, byDirection, daily, asOf } = analytics.data;
  const maxAgent = Math.max(1, ...byAgent.map((a) => a.minutes));
  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-bold">Analytics</h1>
        <p className="text-slate-600">
          Billing period {formatDate(period.start)} – {formatDate(period.end)}: {formatNumber(totals.minutes)}{" "}
          minutes in {calls(totals.calls)}.
        </p>
      </div>
      <div className="grid gap-4 lg:grid-cols-2">
        <Card data-testid="analytics-by-agent">
          <h2 className="mb-3 text-lg font-semibold">Minutes by agent</h2>
          {byAgent.length === 0 ? (
            <EmptyState title="No agents yet">
              <Link to="/agents" className="underline">
                Add an agent
              </Link>
            </EmptyState>
          ) : (
            <table className="w-full text-left text-sm">
              <caption className="sr-only">Minutes by agent</caption>
              <thead>
                <tr className="text-slate-500">
                  <th scope="col" className="py-2 pr-4 font-medium">
                    Agent
                  </th>
                  <th scope="col" className="hidden py-2 pr-4 font-medium sm:table-cell">
                    <span className="sr-only">Share</span>
                  </th>
                  <th scope="col" className="py-2 pr-4 text-right font-medium">
                    Calls
                  </th>
                  <th scope="col" className="py-2 text-right font-medium">
                    Minutes
                  </th>
                </tr>
              </thead>
              <tbody>
                {byAgent.map((agent) => (
                  <tr key={agent.agentId ?? "none"} className="border-t border-slate-100">
                    <th scope="row" className="py-2 pr-4 font-normal">
                      {agent.name} {agent.active === false ? <Badge>Inactive</Badge> : null}
                    </th>
                    <td className="hidden w-1/3 py-2 pr-4 sm:table-cell" aria-hidden>
                      <div className="h-2 rounded-full bg-slate-100">
                        <div
                          className="h-full rounded-full bg-brand-500"
                          style={{ width: `${(agent.minutes / maxAgent) * 100}%` }}
                        />
                      </div>
                    </td>
                    <td className="py-2 pr-4 text-right">{formatNumber(agent.calls)}</td>
                    <td className="py-2 text-right">{formatNumber(agent.minutes)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
        <Card data-testid="analytics-by-direction">
          <h2 className="mb-3 text-lg font-semibold">Inbound and outbound</h2>
          <div className="flex h-3 overflow-hidden rounded-full bg-slate-100" aria-hidden>
            <div
              className="bg-brand-700"
              style={{ width: `${share(byDirection.inbound.minutes, totals.minutes)}%` }}
            />
            <div
              className="bg-sky-400"
              style={{ width: `${share(byDirection.outbound.minutes, totals.minutes)}%` }}
            />
          </div>
          <dl className="mt-4 grid grid-cols-2 gap-4 text-sm">
            {(["inbound", "outbound"] as const).map((direction) => (
              <div key={direction}>
                <dt className="flex items-center gap-1.5 text-slate-600">
                  <span
                    className={`size-2.5 rounded-sm ${direction === "inbound" ? "bg-brand-700" : "bg-sky-400"}`}
                    aria-hidden
                  />
                  {direction === "inbound" ? "Inbound" : "Outbound"}
                </dt>
                <dd className="text-2xl font-bold">{formatNumber(byDirection[direction].minutes)} min</dd>
                <dd className="text-slate-600">
                  {share(byDirection[direction].minutes, totals.minutes)}% ·{" "}
                  {calls(byDirection[direction].calls)}
                </dd>
              </div>
            ))}
          </dl>
        </Card>
      </div>
      <Card>
        <DailyChart days={daily} title="Minutes by day" byDirection today={asOf.toISOString().slice(0, 10)} />
      </Card>
    </div>
  );
}
