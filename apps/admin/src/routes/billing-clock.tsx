import {
  Banner,
  Button,
  EmptyState,
  ErrorState,
  Field,
  fieldErrorsOf,
  Link,
  messageOf,
  Spinner,
  useIntentMutation,
} from "@minutely/ui";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { type Column, DataTable, QueryList } from "../components/list.tsx";
import {
  Facts,
  linkClass,
  PageHeader,
  Section,
  SubscriptionStatusBadge,
  ToneBadge,
  td,
  useUrlSearchTerm,
} from "../components/ui-bits.tsx";
import { useDocumentTitle } from "../lib/document-title.ts";
import {
  billingReasonLabel,
  formatAmount,
  formatDate,
  formatDateTime,
  fromUtcInputValue,
  invoiceStatusTone,
  subscriptionStatusLabel,
  toUtcInputValue,
} from "../lib/format.ts";
import type { ClockSearch } from "../lib/search.ts";
import { type AdminOutputs, queryClient, trpc } from "../lib/trpc.ts";

type ClockState = AdminOutputs["billingClock"]["get"];

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const INVOICE_COLUMNS: Column[] = [
  { label: "Issued (Stripe time)" },
  { label: "Reason" },
  { label: "Status" },
  { label: "Total", className: "text-right" },
];

export function BillingClockPage({
  search,
  onSearch,
}: {
  search: ClockSearch;
  onSearch: (next: ClockSearch) => void;
}) {
  useDocumentTitle("Billing clock");
  const me = useQuery({ ...trpc.session.me.queryOptions(), retry: false });
  const header = (
    <PageHeader
      title="Billing clock"
      description="With the Stripe emulator, each customer's billing runs on a Stripe test clock. Move an account's clock forward to watch renewals, scheduled downgrades and failed payments happen; Minutely syncs the result at once. Minutely's own time does not move."
    />
  );
  if (me.isPending) return <Spinner label="Loading" />;
  if (!me.data?.stripeEmulator) {
    return (
      <div className="flex flex-col gap-4">
        {header}
        <Banner tone="warning" title="Not available here">
          <p>
            The billing clock only works while Minutely runs on the Stripe emulator: real Stripe accounts are
            billed in real time.
          </p>
        </Banner>
      </div>
    );
  }
  return (
    <div className="flex flex-col gap-4">
      {header}
      <div className="grid gap-4 lg:grid-cols-[20rem_minmax(0,1fr)]">
        <AccountPicker search={search} onSearch={onSearch} />
        {search.account ? (
          <ClockPanel key={search.account} accountId={search.account} />
        ) : (
          <EmptyState title="Choose an account">
            <p>Pick a subscribed account on the left to see and move its clock.</p>
          </EmptyState>
        )}
      </div>
    </div>
  );
}

function AccountPicker({ search, onSearch }: { search: ClockSearch; onSearch: (next: ClockSearch) => void }) {
  const [term, setTerm] = useUrlSearchTerm(search.q ?? "", (q) => onSearch({ ...search, q: q || undefined }));
  const accounts = useQuery({
    ...trpc.billingClock.accounts.queryOptions({ search: search.q || undefined, limit: 20 }),
    placeholderData: keepPreviousData,
  });
  return (
    <Section id="clock-accounts-heading" title="Accounts on a test clock" className="self-start">
      <search>
        <Field
          label="Find an account"
          type="search"
          value={term}
          placeholder="Name or email"
          autoComplete="off"
          onChange={(event) => setTerm(event.target.value)}
        />
      </search>
      <QueryList
        query={accounts}
        loadingLabel="Loading accounts"
        isEmpty={(data) => data.length === 0}
        empty={
          <p className="text-sm text-slate-600">
            {search.q
              ? "No subscribed account on a test clock matches."
              : "No subscribed account runs on a test clock yet."}
          </p>
        }
      >
        {(data) => (
          <ul className="flex flex-col gap-1" aria-label="Accounts">
            {data.map((a) => (
              <li key={a.accountId}>
                <Link
                  to="/billing-clock"
                  search={{ ...search, account: a.accountId }}
                  aria-current={search.account === a.accountId ? "true" : undefined}
                  className="flex flex-col rounded-lg px-3 py-2 text-sm ring-1 ring-transparent hover:bg-slate-50 aria-[current=true]:bg-brand-50 aria-[current=true]:ring-brand-100"
                >
                  <span className="font-medium text-slate-900">{a.name}</span>
                  <span className="text-xs break-all text-slate-500">{a.ownerEmail ?? "no owner"}</span>
                  <span className="text-xs text-slate-500">
                    {a.planName} · {subscriptionStatusLabel(a.status)} · period ends{" "}
                    {formatDate(a.currentPeriodEnd)}
                  </span>
                </Link>
              </li>
            ))}
          </ul>
        )}
      </QueryList>
    </Section>
  );
}

function describeResult(before: ClockState, after: ClockState): string {
  const known = new Set(before.invoices.map((i) => i.stripeInvoiceId));
  const fresh = after.invoices.filter((i) => !known.has(i.stripeInvoiceId));
  const time = after.clock ? `Stripe's clock is now ${formatDateTime(after.clock.frozenTime)}.` : "";
  const invoices =
    fresh.length === 0
      ? " No new invoice."
      : ` ${fresh.length === 1 ? "1 new invoice" : `${fresh.length} new invoices`}: ${fresh
          .map(
            (i) =>
              `${billingReasonLabel(i.billingReason)} ${formatAmount(i.total.amount, i.total.currency)} ${i.status}`,
          )
          .join("; ")}.`;
  const status =
    after.subscription && before.subscription
      ? after.subscription.status !== before.subscription.status ||
        after.subscription.planName !== before.subscription.planName
        ? ` The subscription is now ${subscriptionStatusLabel(after.subscription.status)} on ${after.subscription.planName}.`
        : ` The subscription is ${subscriptionStatusLabel(after.subscription.status)} on ${after.subscription.planName}.`
      : "";
  return `${time}${invoices}${status}`;
}

function ClockPanel({ accountId }: { accountId: string }) {
  const stateQuery = useQuery(trpc.billingClock.get.queryOptions({ accountId }));
  const key = trpc.billingClock.get.queryKey({ accountId });
  const [result, setResult] = useState<{ tone: "success" | "warning"; text: string } | null>(null);
  const [custom, setCustom] = useState("");
  const [customError, setCustomError] = useState<string | undefined>();
  const afterChange = async (before: ClockState | undefined, after: ClockState, extra = "") => {
    queryClient.setQueryData(key, after);
    setResult({
      tone:
        after.subscription?.status === "active" || after.subscription?.status === "trialing"
          ? "success"
          : "warning",
      text: `${before ? describeResult(before, after) : ""}${extra}`,
    });
    await Promise.all([
      queryClient.invalidateQueries({ queryKey: trpc.billingClock.accounts.pathKey() }),
      queryClient.invalidateQueries({ queryKey: trpc.customers.pathKey() }),
      queryClient.invalidateQueries({ queryKey: trpc.audit.pathKey() }),
    ]);
  };
  const advance = useIntentMutation(
    trpc.billingClock.advance.mutationOptions({
      onMutate: () => setResult(null),
      onSuccess: (after) => afterChange(stateQuery.data, after),
      onError: (error) => setCustomError(fieldErrorsOf(error).to),
    }),
  );
  const card = useIntentMutation(
    trpc.billingClock.setCard.mutationOptions({
      onMutate: () => setResult(null),
      onSuccess: (after, input) =>
        afterChange(
          stateQuery.data,
          after,
          after.declined
            ? ` ${after.declined}`
            : input.card === "failing"
              ? " From now on every charge is declined: advance past the period end to watch the renewal fail."
              : " Payments succeed again; open invoices were paid with the new card.",
        ),
    }),
  );
  const busy = advance.isPending || card.isPending;

  if (stateQuery.isPending) return <Spinner label="Loading the clock" />;
  if (stateQuery.isError) {
    return (
      <ErrorState error={{ message: messageOf(stateQuery.error) }} onRetry={() => stateQuery.refetch()} />
    );
  }
  const state = stateQuery.data;
  const sub = state.subscription;
  const now = state.clock?.frozenTime ?? null;
  const go = (to: Date) => {
    setCustomError(undefined);
    if (!busy) advance.mutate({ accountId, to });
  };
  const presets: { label: string; to: Date }[] = [];
  if (now && sub) {
    const renewal = new Date(sub.currentPeriodEnd.getTime() + HOUR);
    const changeAtRenewal =
      sub.scheduledChange?.at && sub.scheduledChange.at.getTime() === sub.currentPeriodEnd.getTime()
        ? sub.scheduledChange.planName
        : null;
    if (renewal > now) {
      presets.push({
        label: sub.cancelAtPeriodEnd
          ? "Past the period end (cancels)"
          : changeAtRenewal
            ? `Past the renewal (to ${changeAtRenewal})`
            : "Past the renewal",
        to: renewal,
      });
    }
    if (sub.scheduledChange?.at && sub.scheduledChange.at.getTime() !== sub.currentPeriodEnd.getTime()) {
      const at = new Date(sub.scheduledChange.at.getTime() + HOUR);
      if (at > now) presets.push({ label: `Past the change to ${sub.scheduledChange.planName}`, to: at });
    }
    presets.push({ label: "One day later", to: new Date(now.getTime() + DAY) });
    presets.push({ label: "One week later", to: new Date(now.getTime() + 7 * DAY) });
  }

  return (
    <div className="flex min-w-0 flex-col gap-4">
      <Section
        id="clock-heading"
        title={state.account.name}
        actions={
          <Link to="/customers/:accountId" params={{ accountId }} className={`${linkClass} text-sm`}>
            Customer details
          </Link>
        }
      >
        {!state.clock || !sub ? (
          <p className="text-sm text-slate-600">This account's subscription has no Stripe test clock.</p>
        ) : (
          <>
            <Facts
              items={[
                [
                  "Stripe's time for this customer",
                  <span key="t" className="font-semibold" data-testid="clock-time">
                    {formatDateTime(state.clock.frozenTime)}
                  </span>,
                ],
                [
                  "Subscription",
                  <span key="s" className="flex flex-wrap items-center gap-2">
                    <SubscriptionStatusBadge status={sub.status} /> {sub.planName}
                  </span>,
                ],
                [
                  "Current period",
                  `${formatDateTime(sub.currentPeriodStart)} – ${formatDateTime(sub.currentPeriodEnd)}`,
                ],
                [
                  "Next",
                  sub.cancelAtPeriodEnd
                    ? `Cancels at the period end`
                    : sub.scheduledChange
                      ? `Changes to ${sub.scheduledChange.planName}${sub.scheduledChange.at ? ` on ${formatDate(sub.scheduledChange.at)}` : ""}`
                      : "Renews at the period end",
                ],
              ]}
            />
            {result ? (
              <Banner tone={result.tone} title="Done">
                <p>{result.text}</p>
              </Banner>
            ) : null}
            {advance.isError && !customError ? (
              <Banner tone="danger" title="The clock did not move">
                <p>{messageOf(advance.error)}</p>
              </Banner>
            ) : null}
            <div className="flex flex-col gap-2" aria-busy={busy}>
              <h3 className="text-sm font-medium text-slate-700">Advance the clock</h3>
              <div className="flex flex-wrap gap-2">
                {presets.map((p) => (
                  <Button key={p.label} variant="secondary" disabled={busy} onClick={() => go(p.to)}>
                    <span className="flex flex-col items-start text-left">
                      <span>{p.label}</span>
                      <span className="text-xs font-normal text-slate-500">{formatDateTime(p.to)}</span>
                    </span>
                  </Button>
                ))}
              </div>
              <form
                noValidate
                className="flex flex-wrap items-end gap-2"
                onSubmit={(event) => {
                  event.preventDefault();
                  const to = fromUtcInputValue(custom);
                  const clockTime = state.clock?.frozenTime.getTime() ?? 0;
                  if (!to) setCustomError("Enter a date and time");
                  else if (to.getTime() <= clockTime)
                    setCustomError("Choose a moment after the clock's current time.");
                  else if (to.getTime() - clockTime > state.maxAdvanceDays * DAY) {
                    setCustomError(`Advance at most ${state.maxAdvanceDays} days at a time.`);
                  } else go(to);
                }}
              >
                <Field
                  label="Or to a moment of your choice (UTC)"
                  type="datetime-local"
                  value={custom}
                  min={toUtcInputValue(new Date(state.clock.frozenTime.getTime() + 60_000))}
                  max={toUtcInputValue(
                    new Date(state.clock.frozenTime.getTime() + state.maxAdvanceDays * DAY),
                  )}
                  error={customError}
                  hint={`Later than now on this clock, at most ${state.maxAdvanceDays} days ahead.`}
                  onChange={(event) => setCustom(event.target.value)}
                />
                <Button type="submit" disabled={busy}>
                  Advance
                </Button>
              </form>
              {advance.isPending ? (
                <Spinner label="Advancing: Stripe processes everything due on the way" />
              ) : null}
            </div>
            <div className="flex flex-col gap-2">
              <h3 className="text-sm font-medium text-slate-700">The customer's card</h3>
              <p className="text-sm text-slate-600">
                Give the customer a test card whose charges are declined to watch the next renewal fail (past
                due, a payment-failed email in the outbox), then a working card to recover.
              </p>
              <div className="flex flex-wrap gap-2">
                <Button
                  variant="secondary"
                  disabled={busy}
                  onClick={() => card.mutate({ accountId, card: "failing" })}
                >
                  Make payments fail
                </Button>
                <Button
                  variant="secondary"
                  disabled={busy}
                  onClick={() => card.mutate({ accountId, card: "working" })}
                >
                  Use a working card
                </Button>
              </div>
              {card.isPending ? <Spinner label="Changing the card" /> : null}
              {card.isError ? (
                <Banner tone="danger">
                  <p>{messageOf(card.error)}</p>
                </Banner>
              ) : null}
            </div>
          </>
        )}
      </Section>
      <Section id="clock-invoices-heading" title="Latest invoices">
        {state.invoices.length === 0 ? (
          <p className="text-sm text-slate-600">No invoices yet.</p>
        ) : (
          <DataTable
            caption={`Latest invoices of ${state.account.name}, newest first`}
            columns={INVOICE_COLUMNS}
            minWidth="min-w-[36rem]"
            boxClassName="shadow-none"
          >
            {state.invoices.map((i) => (
              <tr
                key={i.stripeInvoiceId}
                data-invoice={i.billingReason ?? ""}
                className="border-t border-slate-200"
              >
                <td className={`${td} whitespace-nowrap`}>{formatDateTime(i.issuedAt)}</td>
                <td className={td}>
                  {i.hostedInvoiceUrl ? (
                    <a href={i.hostedInvoiceUrl} target="_blank" rel="noreferrer" className={linkClass}>
                      {billingReasonLabel(i.billingReason)}
                      <span className="sr-only"> (opens the invoice in a new tab)</span>
                    </a>
                  ) : (
                    billingReasonLabel(i.billingReason)
                  )}
                </td>
                <td className={td}>
                  <ToneBadge tone={invoiceStatusTone(i.status)}>{i.status}</ToneBadge>
                </td>
                <td className={`${td} text-right tabular-nums`}>
                  {formatAmount(i.total.amount, i.total.currency)}
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </Section>
    </div>
  );
}
