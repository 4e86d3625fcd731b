import { zodResolver } from "@hookform/resolvers/zod";
import { formatMoney } from "@minutely/domain";
import {
  Badge,
  Button,
  Card,
  EmptyState,
  ErrorState,
  Field,
  httpStatusOf,
  Link,
  LiveStatus,
  Spinner,
  UsageAlertList,
  useDocumentTitle,
  useIntentMutation,
} from "@minutely/ui";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useForm } from "react-hook-form";
import { z } from "zod";
import { DailyChart } from "../components/daily-chart.tsx";
import { MinutePacksCard } from "../components/minute-packs.tsx";
import { SpendCapCard } from "../components/spend-cap.tsx";
import { formatDate, formatNumber } from "../lib/format.ts";
import { trpc } from "../lib/trpc.ts";

function Alerts() {
  const queryClient = useQueryClient();
  const alerts = useQuery(trpc.alerts.list.queryOptions());
  const dismiss = useIntentMutation(
    trpc.alerts.dismiss.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.alerts.list.queryKey() }),
    }),
  );
  return <UsageAlertList alerts={alerts.data ?? []} dismiss={dismiss} />;
}

function DailyUsage() {
  const daily = useQuery(trpc.usage.daily.queryOptions());
  if (daily.isPending) return <Spinner label="Loading the daily series" />;
  if (daily.isError) return <ErrorState error={daily.error} onRetry={() => daily.refetch()} />;
  return (
    <Card>
      <DailyChart days={daily.data.days} byDirection today={daily.data.asOf.toISOString().slice(0, 10)} />
    </Card>
  );
}

function ByAgent() {
  // Live usage (router.tsx) re-reads it, except while refused (a package without analytics).
  const byAgent = useQuery(trpc.usage.byAgent.queryOptions());
  if (byAgent.isPending) return <Spinner label="Loading minutes per agent" />;
  if (byAgent.isError && httpStatusOf(byAgent.error) === 403) {
    // Per-agent minutes are analytics: packages without them see where to get them instead.
    return (
      <Card>
        <h2 className="mb-1 text-lg font-semibold">Minutes per agent</h2>
        <p className="text-sm text-slate-600">
          {byAgent.error.message}{" "}
          <Link to="/analytics" className="font-medium text-brand-700 underline">
            What analytics show
          </Link>
        </p>
      </Card>
    );
  }
  if (byAgent.isError) return <ErrorState error={byAgent.error} onRetry={() => byAgent.refetch()} />;
  return (
    <Card>
      <h2 className="mb-3 text-lg font-semibold">Minutes per agent</h2>
      {byAgent.data.agents.length === 0 ? (
        <EmptyState title="No agents yet">
          <Link to="/agents" className="underline">
            Add an agent
          </Link>
        </EmptyState>
      ) : (
        <table className="w-full text-left text-sm">
          <thead>
            <tr>
              <th scope="col" className="py-2 pr-4">
                Agent
              </th>
              <th scope="col" className="py-2 pr-4 text-right">
                Calls
              </th>
              <th scope="col" className="py-2 text-right">
                Minutes
              </th>
            </tr>
          </thead>
          <tbody>
            {byAgent.data.agents.map((agent) => (
              <tr key={agent.agentId ?? "none"} className="border-t border-slate-100">
                <td className="py-2 pr-4">
                  {agent.name} {agent.active === false ? <Badge>Inactive</Badge> : null}
                </td>
                <td className="py-2 pr-4 text-right">{formatNumber(agent.calls)}</td>
                <td className="py-2 text-right">{formatNumber(agent.minutes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}

const ThresholdSchema = z.object({
  percent: z.coerce
    .number({ error: "Enter a percentage." })
    .int("Use a whole percentage.")
    .min(1, "Use at least 1%.")
    .max(200, "Use at most 200%."),
});

function Thresholds() {
  const queryClient = useQueryClient();
  const thresholds = useQuery(trpc.alerts.thresholds.list.queryOptions());
  const refresh = {
    onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.alerts.thresholds.list.queryKey() }),
  };
  const add = useIntentMutation(trpc.alerts.thresholds.set.mutationOptions(refresh));
  const remove = useIntentMutation(trpc.alerts.thresholds.remove.mutationOptions(refresh));
  const form = useForm<z.input<typeof ThresholdSchema>, unknown, z.output<typeof ThresholdSchema>>({
    resolver: zodResolver(ThresholdSchema),
    defaultValues: { percent: "" },
  });
  const submit = form.handleSubmit(async ({ percent }) => {
    try {
      await add.mutateAsync({ percent });
      form.reset({ percent: "" });
    } catch (error) {
      // Focus goes back to the field, which reads out its message (the button was disabled meanwhile).
      form.setError(
        "percent",
        { message: error instanceof Error ? error.message : "Not saved." },
        { shouldFocus: true },
      );
    }
  });
  if (!thresholds.data) return null;
  const { defaults, custom, max } = thresholds.data;
  return (
    <Card>
      <h2 className="mb-1 text-lg font-semibold">Alert thresholds</h2>
      <p className="mb-3 text-sm text-slate-600">
        You are alerted in the app and by email at {defaults.join("% and ")}% of your included minutes, and at
        up to {max} percentages of your own, once per billing period each.
      </p>
      <ul className="mb-3 flex flex-wrap gap-2" aria-label="Your thresholds">
        {custom.map((percent) => (
          <li key={percent} className="flex items-center gap-1 rounded-full bg-slate-100 px-3 py-1 text-sm">
            {percent}%
            <button
              type="button"
              className="ml-1 text-slate-500 hover:text-slate-900"
              aria-label={`Remove the ${percent}% alert`}
              onClick={() => remove.mutate({ percent })}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      <form onSubmit={submit} noValidate className="flex flex-wrap items-end gap-3">
        <div className="w-40">
          <Field
            label="Alert at (%)"
            inputMode="numeric"
            {...form.register("percent")}
            error={form.formState.errors.percent?.message}
          />
        </div>
        <Button
          type="submit"
          variant="secondary"
          disabled={form.formState.isSubmitting || custom.length >= max}
        >
          Add alert
        </Button>
      </form>
    </Card>
  );
}

export function UsagePage() {
  useDocumentTitle("Usage");
  const usage = useQuery(trpc.usage.current.queryOptions());
  // With an overage budget, what is billed is at most the budget (the card below says how much).
  const budget = useQuery(trpc.spendCap.get.queryOptions()).data?.status ?? null;
  if (usage.isPending) return <Spinner label="Loading your usage" />;
  if (usage.isError) return <ErrorState error={usage.error} onRetry={() => usage.refetch()} />;
  const current = usage.data;
  if (!current) {
    return (
      <div className="space-y-6">
        <div>
          <h1 className="text-2xl font-bold">Usage</h1>
          <p className="text-slate-600">
            The call minutes of your billing period, as your agents make calls.
          </p>
        </div>
        <Card data-testid="usage-no-package" className="space-y-3">
          <h2 className="text-lg font-semibold">No package yet</h2>
          <p className="text-sm text-slate-600">
            Once you choose a package, this page shows its included minutes and how many you have used, day by
            day and by agent, with alerts before you reach the limit.
          </p>
          <Button asChild>
            <Link to="/packages">Choose a package</Link>
          </Button>
        </Card>
      </div>
    );
  }
  const share = Math.min(100, current.usagePercentage);
  const tone =
    current.usagePercentage >= 100
      ? "bg-red-500"
      : current.usagePercentage >= 80
        ? "bg-amber-500"
        : "bg-brand-600";
  return (
    <div className="space-y-6">
      <div>
        <div className="flex flex-wrap items-center gap-3">
          <h1 className="text-2xl font-bold">Usage</h1>
          <LiveStatus />
        </div>
        <p className="text-slate-600">
          Billing period {formatDate(current.period.start)} – {formatDate(current.period.end)} (
          {current.plan.name} package)
        </p>
      </div>
      <Alerts />
      <Card data-testid="usage-summary">
        <p className="text-3xl font-bold">
          {formatNumber(current.minutesUsed)}{" "}
          <span className="text-base font-normal text-slate-500">
            of {formatNumber(current.minutesLimit)} minutes ({current.usagePercentage}%)
          </span>
        </p>
        <div
          className="mt-3 h-3 w-full overflow-hidden rounded-full bg-slate-100"
          role="progressbar"
          aria-label="Included minutes used"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={share}
        >
          <div className={`h-full ${tone}`} style={{ width: `${share}%` }} />
        </div>
        <ul className="mt-3 space-y-1 text-sm text-slate-600">
          <li>{formatNumber(current.minutesRemaining)} minutes remaining</li>
          {current.minutesReserved > 0 ? (
            <li>{formatNumber(current.minutesReserved)} minutes held by calls in progress</li>
          ) : null}
          <li>
            {current.overage.policy === "billed" && current.overage.pricePerMinute
              ? `Beyond the limit calls continue at ${formatMoney(current.overage.pricePerMinute)} a minute` +
                (current.overage.minutes > 0
                  ? `: ${formatNumber(current.overage.minutes)} minutes so far, ${formatMoney(budget ? { amount: budget.spentCents, currency: current.overage.cost.currency } : current.overage.cost)} on your next invoice${budget?.reached ? " (your overage budget caps it)" : ""}.`
                  : ".")
              : "Hard cap: at the limit outbound calls pause until the next period; inbound calls are still answered."}
          </li>
          {current.overage.overCapMinutes > 0 ? (
            <li className="font-medium text-amber-800" data-testid="over-cap-minutes">
              {formatNumber(current.overage.overCapMinutes)} minutes ran beyond the cap (inbound calls and
              calls already in progress): recorded here, never billed.
            </li>
          ) : null}
          {current.lateEvents.calls > 0 ? (
            <li>
              {formatNumber(current.lateEvents.calls)} late calls ({formatNumber(current.lateEvents.minutes)}{" "}
              minutes) were counted in earlier periods.
            </li>
          ) : null}
        </ul>
      </Card>
      <MinutePacksCard />
      <SpendCapCard />
      <DailyUsage />
      <ByAgent />
      <Thresholds />
    </div>
  );
}
