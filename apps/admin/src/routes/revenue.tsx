import { Card, EmptyState, ErrorState, messageOf, SelectField, Spinner } from "@minutely/ui";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { HorizontalBars, MovementsChart } from "../components/charts.tsx";
import { type Column, DataTable } from "../components/list.tsx";
import { PageHeader, Section, td } from "../components/ui-bits.tsx";
import { useDocumentTitle } from "../lib/document-title.ts";
import { formatAmount, formatDateTime, formatMonth, formatNumber } from "../lib/format.ts";
import type { RevenueSearch } from "../lib/search.ts";
import { trpc } from "../lib/trpc.ts";

const MONTH_OPTIONS = [
  { value: "6", label: "Last 6 months" },
  { value: "12", label: "Last 12 months" },
  { value: "24", label: "Last 24 months" },
];
const MONTH_COLUMNS: Column[] = [
  { label: "Month" },
  { label: "New", className: "text-right" },
  { label: "Upgraded", className: "text-right" },
  { label: "Downgraded", className: "text-right" },
  { label: "Churned", className: "text-right" },
  { label: "Trials started", className: "text-right" },
  { label: "Trial conversion", className: "text-right" },
  { label: "New MRR", className: "text-right" },
  { label: "Expansion", className: "text-right" },
  { label: "Contraction", className: "text-right" },
  { label: "Churned MRR", className: "text-right" },
  { label: "Net", className: "text-right" },
  { label: "Refunded", className: "text-right" },
  { label: "Credited", className: "text-right" },
];

function Kpi({ label, value, detail }: { label: string; value: string; detail?: string }) {
  return (
    <Card className="flex flex-col gap-1 p-4">
      <p className="text-sm text-slate-500">{label}</p>
      <p className="text-2xl font-semibold tabular-nums" data-kpi={label}>
        {value}
      </p>
      {detail ? <p className="text-xs text-slate-500">{detail}</p> : null}
    </Card>
  );
}

export function RevenuePage({
  search,
  onSearch,
}: {
  search: RevenueSearch;
  onSearch: (next: RevenueSearch) => void;
}) {
  useDocumentTitle("Revenue");
  const months = search.months ?? 12;
  const overview = useQuery({
    ...trpc.revenue.overview.queryOptions({ months }),
    placeholderData: keepPreviousData,
  });
  const [chosenCurrency, setChosenCurrency] = useState<string | null>(null);

  const header = (
    <PageHeader
      title="Revenue"
      description="Computed from Minutely's own records of subscriptions, prices and Stripe webhooks (not from Stripe's reports). Amounts are exact, in each currency; nothing is converted."
      actions={
        <SelectField
          label="Period"
          value={String(months)}
          options={MONTH_OPTIONS}
          onChange={(event) => onSearch({ months: Number(event.target.value) })}
        />
      }
    />
  );
  if (overview.isPending) {
    return (
      <div className="flex flex-col gap-4">
        {header}
        <Spinner label="Computing revenue" />
      </div>
    );
  }
  if (overview.isError) {
    return (
      <div className="flex flex-col gap-4">
        {header}
        <ErrorState error={{ message: messageOf(overview.error) }} onRetry={() => overview.refetch()} />
      </div>
    );
  }
  const data = overview.data;
  const currencies = data.totals.map((t) => t.currency);
  const currency =
    chosenCurrency && currencies.includes(chosenCurrency) ? chosenCurrency : (currencies[0] ?? "usd");
  const total = data.totals.find((t) => t.currency === currency);
  const movements = data.months.map((m) => {
    const x = m.mrr.find((r) => r.currency === currency);
    return {
      month: m.month,
      newCents: x?.newCents ?? 0,
      expansionCents: x?.expansionCents ?? 0,
      contractionCents: x?.contractionCents ?? 0,
      churnCents: x?.churnCents ?? 0,
      netCents: x?.netCents ?? 0,
    };
  });
  const mrr = total?.mrrCents ?? 0;
  const subscribers = total?.subscribers ?? 0;

  return (
    <div className="flex flex-col gap-4">
      {header}
      {currencies.length > 1 ? (
        <div className="max-w-xs">
          <SelectField
            label="Currency"
            value={currency}
            options={currencies.map((c) => ({ value: c, label: c.toUpperCase() }))}
            onChange={(event) => setChosenCurrency(event.target.value)}
          />
        </div>
      ) : null}
      <div className="grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-5" aria-live="polite">
        <Kpi
          label="MRR"
          value={formatAmount(mrr, currency)}
          detail="Monthly price of subscriptions that pay (active, past due; not trials)"
        />
        <Kpi label="ARR" value={formatAmount(mrr * 12, currency)} detail="12 × MRR" />
        <Kpi
          label="Active subscribers"
          value={formatNumber(subscribers)}
          detail={
            currencies.length > 1
              ? `In ${currency.toUpperCase()}; ${formatNumber(data.subscribers)} in all currencies`
              : undefined
          }
        />
        <Kpi
          label="Average per subscriber"
          value={subscribers > 0 ? formatAmount(Math.round(mrr / subscribers), currency) : "—"}
          detail="MRR ÷ active subscribers"
        />
        <Kpi
          label="Trialing subscribers"
          value={formatNumber(data.trialingSubscribers)}
          detail="In their free trial now: not paying, not in MRR"
        />
      </div>

      {data.totals.length === 0 &&
      data.trialingSubscribers === 0 &&
      data.months.every((m) => m.newCount === 0 && m.churnCount === 0 && m.trialStarts === 0) ? (
        <EmptyState title="No revenue yet">
          <p>Revenue appears once customers subscribe.</p>
        </EmptyState>
      ) : null}

      <div className="grid gap-4 lg:grid-cols-[minmax(0,2fr)_minmax(0,1fr)]">
        <Section id="movements-heading" title="MRR movements">
          <MovementsChart months={movements} currency={currency} />
        </Section>
        <Section id="packages-heading" title="Active subscribers per package">
          <HorizontalBars
            title="Paying subscriptions (not trials), by package"
            unit={{ one: "subscriber", other: "subscribers" }}
            items={data.packages.map((p) => {
              const money = p.mrr.find((m) => m.currency === currency) ?? p.mrr[0];
              return {
                label: p.active ? p.name : `${p.name} (archived)`,
                value: p.subscribers,
                detail: money ? `${formatAmount(money.amount, money.currency)} MRR` : undefined,
              };
            })}
          />
        </Section>
      </div>

      <Section id="months-heading" title="Month by month">
        <DataTable
          caption="Subscriptions and MRR movements per month, newest first"
          columns={MONTH_COLUMNS}
          minWidth="min-w-[72rem]"
          boxClassName="shadow-none"
        >
          {[...data.months].reverse().map((m) => {
            const x = movements.find((v) => v.month === m.month);
            const given = m.givenBack.find((g) => g.currency === currency);
            return (
              <tr key={m.month} data-month={m.month} className="border-t border-slate-200">
                <th scope="row" className={`${td} text-left font-medium whitespace-nowrap`}>
                  {formatMonth(m.month, "long")}
                </th>
                <td className={`${td} text-right tabular-nums`}>{formatNumber(m.newCount)}</td>
                <td className={`${td} text-right tabular-nums`}>{formatNumber(m.upgradeCount)}</td>
                <td className={`${td} text-right tabular-nums`}>{formatNumber(m.downgradeCount)}</td>
                <td className={`${td} text-right tabular-nums`}>{formatNumber(m.churnCount)}</td>
                <td className={`${td} text-right tabular-nums`}>{formatNumber(m.trialStarts)}</td>
                <td className={`${td} text-right tabular-nums`} data-trial-conversion={m.month}>
                  {m.trialsEnded > 0
                    ? `${formatNumber(m.trialConversions)} of ${formatNumber(m.trialsEnded)} (${Math.round((100 * m.trialConversions) / m.trialsEnded)}%)`
                    : "—"}
                </td>
                <td className={`${td} text-right tabular-nums`}>
                  {formatAmount(x?.newCents ?? 0, currency)}
                </td>
                <td className={`${td} text-right tabular-nums`}>
                  {formatAmount(x?.expansionCents ?? 0, currency)}
                </td>
                <td className={`${td} text-right tabular-nums`}>
                  {formatAmount(-(x?.contractionCents ?? 0), currency)}
                </td>
                <td className={`${td} text-right tabular-nums`}>
                  {formatAmount(-(x?.churnCents ?? 0), currency)}
                </td>
                <td className={`${td} text-right font-medium tabular-nums`}>
                  {formatAmount(x?.netCents ?? 0, currency)}
                </td>
                <td className={`${td} text-right tabular-nums`}>
                  {formatAmount(-(given?.refundedCents ?? 0), currency)}
                  {given && given.refundedTaxCents > 0 ? (
                    <span className="block text-xs text-slate-500" data-refunded-tax={m.month}>
                      incl. {formatAmount(given.refundedTaxCents, currency)} tax
                    </span>
                  ) : null}
                </td>
                <td className={`${td} text-right tabular-nums`}>
                  {formatAmount(-(given?.creditedCents ?? 0), currency)}
                  {given && given.creditedTaxCents > 0 ? (
                    <span className="block text-xs text-slate-500" data-credited-tax={m.month}>
                      incl. {formatAmount(given.creditedTaxCents, currency)} tax
                    </span>
                  ) : null}
                </td>
              </tr>
            );
          })}
        </DataTable>
        <details className="text-sm text-slate-600">
          <summary className="cursor-pointer font-medium text-brand-700">
            How these numbers are computed
          </summary>
          <ul className="mt-2 list-disc space-y-1 pl-5">
            <li>
              <strong>MRR</strong> is the monthly price each subscriber pays (their own Stripe price: a
              subscriber who kept an older price counts at that price) over subscriptions that pay: active and
              past due, leaving out subscriptions in their free trial (counted apart as trialing subscribers)
              and those whose pause is in effect (a paused subscription pays nothing). ARR is 12 × MRR.
            </li>
            <li>
              <strong>Discounts</strong>: MRR, new and churned count what the subscriber pays after a
              recurring coupon (forever, or repeating until its months are over, on the package it applies
              to): percent off rounded half up to the cent, amount off in the price's currency, never below
              zero. A once-only coupon discounts one invoice and does not lower MRR. Upgrades and downgrades
              are measured on list prices.
            </li>
            <li>
              <strong>Tax</strong> is not revenue: prices are exclusive of tax, so MRR and the movements never
              include the tax Stripe Tax adds to invoices. Every amount stays in its own currency, never
              converted. Refunds and credits give back what was paid, tax included; the tax share given back
              (the invoice's tax over its total) is shown under them, and is no revenue.
            </li>
            <li>
              <strong>New</strong>: subscriptions Minutely recorded in the month that got past the first
              payment, at the price they started on. A subscription that began with a free trial is new in the
              month its trial converted (its trial's end), and never if it did not.
            </li>
            <li>
              <strong>Trials</strong> are counted apart and never in MRR. Trials started: subscriptions whose
              trial began in the month. Trial conversion: of the trials that ended in the month, those that
              went on paying (active, past due or unpaid after the trial, or canceled later than its end); a
              trial that ended without a card (paused) or was canceled by its end did not convert. A trial
              that never converted is not churn either. A trial ended at once because its card had already had
              one on another account is not counted as a trial.
            </li>
            <li>
              <strong>Upgraded / downgraded</strong>: price changes in Stripe's subscription-update webhooks
              received by Minutely, counted in the month of the change with the exact difference. Upgrades
              take effect at once; downgrades when the scheduled change starts at renewal. Changes whose
              webhook never arrived are missing.
            </li>
            <li>
              <strong>Churned</strong>: subscriptions that ended (canceled) in the month, at their last price.
              Access lost without a cancellation (past due becoming unpaid) is not counted as churn, and a
              billing clock moved into the future puts churn in a future month.
            </li>
            <li>
              <strong>Refunded / credited</strong>: money given back in the month (refunds to the card; credit
              notes and balance credits), by admins here or directly in Stripe. It lowers the month's revenue,
              not MRR: a one-off refund does not change what a subscription recurs at, so Net leaves it out.
            </li>
            <li>Months are calendar months in UTC. As of {formatDateTime(data.asOf)}.</li>
          </ul>
        </details>
      </Section>
    </div>
  );
}
