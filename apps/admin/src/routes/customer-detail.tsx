import { isCurrency } from "@minutely/domain";
import {
  Badge,
  Button,
  EmptyState,
  ErrorState,
  httpStatusOf,
  Link,
  messageOf,
  Spinner,
  useIntentMutation,
} from "@minutely/ui";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { DailyUsageChart } from "../components/charts.tsx";
import { type Column, DataTable } from "../components/list.tsx";
import {
  CopyableId,
  Facts,
  linkClass,
  PageHeader,
  Section,
  SubscriptionStatusBadge,
  ToneBadge,
  td,
  UsageBar,
} from "../components/ui-bits.tsx";
import { useDocumentTitle } from "../lib/document-title.ts";
import {
  billingReasonLabel,
  formatAmount,
  formatDate,
  formatDateTime,
  formatNumber,
  invoiceStatusTone,
  pauseText,
} from "../lib/format.ts";
import { type AdminOutputs, trpc } from "../lib/trpc.ts";
import { ApplyCouponForm } from "./coupons.tsx";

type Detail = AdminOutputs["customers"]["get"];
const INVOICE_COLUMNS: Column[] = [
  { label: "Issued" },
  { label: "Number" },
  { label: "Reason" },
  { label: "Status" },
  { label: "Total", className: "text-right" },
  { label: "Links", srOnly: true },
];

function BackLink() {
  return (
    <Link to="/customers" className="text-sm font-medium text-brand-700 hover:underline">
      ← All customers
    </Link>
  );
}

export function CustomerDetailPage({ accountId }: { accountId: string }) {
  const detail = useQuery(trpc.customers.get.queryOptions({ accountId }));
  const me = useQuery({ ...trpc.session.me.queryOptions(), retry: false });
  useDocumentTitle(detail.data ? detail.data.account.name : "Customer");
  const heading = useRef<HTMLHeadingElement>(null);
  const loaded = detail.isSuccess;
  useEffect(() => {
    if (loaded) heading.current?.focus();
  }, [loaded]);

  if (detail.isPending) return <Spinner label="Loading customer" />;
  if (detail.isError) {
    return (
      <div className="flex flex-col gap-4">
        <BackLink />
        {httpStatusOf(detail.error) === 404 ? (
          <EmptyState title="No such customer">
            <p>This account does not exist (any more).</p>
          </EmptyState>
        ) : (
          <ErrorState error={{ message: messageOf(detail.error) }} onRetry={() => detail.refetch()} />
        )}
      </div>
    );
  }
  const d = detail.data;
  const sub = d.subscription;
  const owner = d.team.members.find((m) => m.role === "owner");
  return (
    <div className="flex flex-col gap-4">
      <BackLink />
      <PageHeader
        headingRef={heading}
        title={d.account.name}
        description={
          <span className="flex flex-wrap items-center gap-2">
            <SubscriptionStatusBadge status={sub?.status ?? "none"} />
            {sub ? <span>{sub.planName}</span> : null}
            <span>· {owner ? owner.email : "no owner"}</span>
            <span>· customer since {formatDate(d.account.createdAt)}</span>
            {d.account.deletedAt ? (
              <Badge tone="danger">Deleted {formatDate(d.account.deletedAt)}</Badge>
            ) : null}
          </span>
        }
        actions={
          <>
            <Button asChild variant="secondary">
              <Link to="/audit" search={{ entityType: "account", entityId: d.account.id }}>
                Audit log
              </Link>
            </Button>
            {me.data?.stripeEmulator && d.stripe.testClockId ? (
              <Button asChild variant="secondary">
                <Link to="/billing-clock" search={{ account: d.account.id }}>
                  Billing clock
                </Link>
              </Button>
            ) : null}
          </>
        }
      />

      <div className="grid gap-4 lg:grid-cols-2">
        <SubscriptionSection detail={d} />
        <StripeSection detail={d} />
      </div>
      {d.duplicateSubscriptions.length > 0 ? <DuplicatesSection detail={d} /> : null}
      <UsageSection detail={d} />
      <MinutePacksSection accountId={d.account.id} />
      <InvoicesSection detail={d} />
      <AdjustmentsSection detail={d} />
      <div className="grid gap-4 lg:grid-cols-2">
        <AlertsSection detail={d} />
        <AgentsSection detail={d} />
      </div>
      <UsersSection detail={d} />
    </div>
  );
}

const PAUSE_LENGTHS = [
  { value: "1", label: "1 billing period" },
  { value: "2", label: "2 billing periods" },
  { value: "3", label: "3 billing periods" },
  { value: "until", label: "Until resumed" },
] as const;

/** The pause (when it starts, when it resumes) with Resume now, or a form to pause an active subscription. */
function PauseFact({ detail }: { detail: Detail }) {
  const sub = detail.subscription;
  const queryClient = useQueryClient();
  const refresh = { onSuccess: () => queryClient.invalidateQueries() };
  const pause = useIntentMutation(trpc.customers.pause.mutationOptions(refresh));
  const resume = useIntentMutation(trpc.customers.resumePause.mutationOptions(refresh));
  const [length, setLength] = useState<(typeof PAUSE_LENGTHS)[number]["value"]>("1");
  const failure = pause.error ?? resume.error;
  if (!sub) return null;
  const accountId = detail.account.id;
  return (
    <div className="flex flex-col items-start gap-2" data-testid="admin-pause">
      {sub.pause ? (
        <>
          <span>{pauseText(sub.pause)}</span>
          <Button disabled={resume.isPending} onClick={() => resume.mutate({ accountId })}>
            {resume.isPending ? "Resuming…" : "Resume now"}
          </Button>
        </>
      ) : sub.status === "active" && !sub.cancelAtPeriodEnd && !sub.scheduledChange ? (
        <div className="flex flex-wrap items-center gap-2">
          <select
            aria-label="Pause length"
            className="rounded-lg border border-slate-300 bg-white px-2 py-1 text-sm"
            value={length}
            onChange={(event) => setLength(event.target.value as typeof length)}
          >
            {PAUSE_LENGTHS.map((l) => (
              <option key={l.value} value={l.value}>
                {l.label}
              </option>
            ))}
          </select>
          <Button
            variant="secondary"
            disabled={pause.isPending}
            onClick={() =>
              pause.mutate({ accountId, periods: length === "until" ? null : (Number(length) as 1 | 2 | 3) })
            }
          >
            {pause.isPending ? "Pausing…" : "Pause subscription"}
          </Button>
        </div>
      ) : (
        <span>Not paused</span>
      )}
      {failure ? <span className="text-sm text-red-700">{messageOf(failure)}</span> : null}
    </div>
  );
}

function SubscriptionSection({ detail }: { detail: Detail }) {
  const sub = detail.subscription;
  return (
    <Section id="subscription-heading" title="Subscription">
      {!sub ? (
        <p className="text-sm text-slate-600">This account has never subscribed to a package.</p>
      ) : (
        <Facts
          items={[
            ["Status", <SubscriptionStatusBadge key="s" status={sub.status} />],
            ["Package", `${sub.planName} · ${formatAmount(sub.price.amount, sub.price.currency)}/mo`],
            [
              "MRR contribution",
              detail.mrr ? formatAmount(detail.mrr.amount, detail.mrr.currency) : "None (no access)",
            ],
            ["Current period", `${formatDate(sub.currentPeriodStart)} – ${formatDate(sub.currentPeriodEnd)}`],
            [
              "Renewal",
              sub.endedAt
                ? `Ended ${formatDate(sub.endedAt)}`
                : sub.cancelAtPeriodEnd
                  ? `Cancels on ${formatDate(sub.currentPeriodEnd)}`
                  : sub.pause
                    ? `Not charged while paused (${pauseText(sub.pause)})`
                    : `Renews on ${formatDate(sub.currentPeriodEnd)}`,
            ],
            [
              "Scheduled change",
              sub.scheduledChange
                ? `To ${sub.scheduledChange.planName}${sub.scheduledChange.at ? ` on ${formatDate(sub.scheduledChange.at)}` : ""}`
                : "None",
            ],
            ["Pause", <PauseFact key="pause" detail={detail} />],
            ["Overage budget", <SpendCapFact key="cap" detail={detail} />],
            ["Last synced from Stripe", formatDateTime(sub.syncedAt)],
          ]}
        />
      )}
      {sub && !sub.endedAt ? <ApplyCouponForm accountId={detail.account.id} /> : null}
      {detail.subscriptions.length > 1 ? (
        <details className="text-sm">
          <summary className="cursor-pointer font-medium text-brand-700">
            Earlier subscriptions ({detail.subscriptions.length - 1})
          </summary>
          <ul className="mt-2 flex flex-col gap-1">
            {detail.subscriptions
              .filter((s) => s.id !== sub?.id)
              .map((s) => (
                <li key={s.id} className="flex flex-wrap items-center gap-2">
                  <SubscriptionStatusBadge status={s.status} />
                  <span>
                    {s.planName}, started {formatDate(s.createdAt)}
                    {s.endedAt ? `, ended ${formatDate(s.endedAt)}` : ""}
                  </span>
                  <code className="font-mono text-xs text-slate-500">{s.stripeSubscriptionId}</code>
                </li>
              ))}
          </ul>
        </details>
      ) : null}
    </Section>
  );
}

/** The customer's overage budget (spend cap), what the current period's overage uses of it, and "Capped". */
function SpendCapFact({ detail }: { detail: Detail }) {
  const spendCap = detail.spendCap;
  if (!spendCap) return <span data-testid="spend-cap">None</span>;
  const { cap, status } = spendCap;
  return (
    <span data-testid="spend-cap" className="flex flex-wrap items-center gap-2">
      {status
        ? `${formatAmount(status.spentCents, cap.currency)} of ${formatAmount(cap.amountCents, cap.currency)} this period (${status.percentage}%)`
        : `${formatAmount(cap.amountCents, cap.currency)} a period`}
      {status?.reached ? (
        <span className="rounded bg-red-100 px-1.5 py-0.5 text-xs font-medium text-red-800">
          Capped: outbound calls denied
        </span>
      ) : null}
      <Link
        to="/audit"
        search={{ entityType: "account", entityId: detail.account.id }}
        className="text-xs font-medium text-brand-700 underline"
      >
        Changes
      </Link>
    </span>
  );
}

function StripeSection({ detail }: { detail: Detail }) {
  const { stripe } = detail;
  const link = (path: string, id: string | null) =>
    stripe.dashboardUrl && id ? `${stripe.dashboardUrl}/${path}/${id}` : undefined;
  const rows: [string, string | null, string][] = [
    ["Customer", stripe.customerId, "customers"],
    ["Subscription", stripe.subscriptionId, "subscriptions"],
    ["Subscription schedule", stripe.scheduleId, "subscription_schedules"],
    ["Test clock", stripe.testClockId, "test-clocks"],
  ];
  return (
    <Section id="stripe-heading" title="Stripe">
      <Facts
        items={rows.map(([label, id, path]) => [
          label,
          id ? (
            <CopyableId key={label} value={id} href={link(path, id)} label={`${label} id`} />
          ) : (
            <span key={label} className="text-slate-400">
              —
            </span>
          ),
        ])}
      />
      <p className="text-xs text-slate-500">
        {stripe.dashboardUrl
          ? "The ids open these objects in Stripe's dashboard."
          : "Stripe is the project's emulator here, which has no dashboard: use the ids with its API (or the billing clock)."}
      </p>
    </Section>
  );
}

/** The customer's prepaid minute packs: balance, each pack's ledger, minutes drawn per period. */
function MinutePacksSection({ accountId }: { accountId: string }) {
  const ledger = useQuery(trpc.packs.customerLedger.queryOptions({ accountId }));
  const data = ledger.data;
  return (
    <Section id="packs-heading" title="Minute packs">
      {!data || data.grants.length === 0 ? (
        <p className="text-sm text-slate-600">No minute packs bought.</p>
      ) : (
        <>
          <p className="text-sm text-slate-700" data-testid="customer-pack-ledger">
            {formatNumber(data.balance.minutes)} minutes left · bought {formatNumber(data.totals.bought)} ·
            used {formatNumber(data.totals.used)} · expired {formatNumber(data.totals.expired)}
            {data.balance.nextExpiry
              ? ` · next expiry ${formatDate(data.balance.nextExpiry.at)} (${formatNumber(data.balance.nextExpiry.minutes)} minutes)`
              : ""}
          </p>
          <table className="w-full text-sm" aria-label="Minute packs bought">
            <thead>
              <tr className="text-left text-xs text-slate-500 uppercase">
                <th className="px-2 py-1">Pack</th>
                <th className="px-2 py-1">Bought</th>
                <th className="px-2 py-1 text-right">Minutes</th>
                <th className="px-2 py-1 text-right">Used</th>
                <th className="px-2 py-1 text-right">Left</th>
                <th className="px-2 py-1 text-right">Expired</th>
                <th className="px-2 py-1">Expires</th>
              </tr>
            </thead>
            <tbody>
              {data.grants.map((g) => (
                <tr key={g.id} className="border-t border-slate-100">
                  <td className="px-2 py-1">{g.packName ?? "Pack"}</td>
                  <td className="px-2 py-1">{formatDate(g.grantedAt)}</td>
                  <td className="px-2 py-1 text-right tabular-nums">{formatNumber(g.minutes)}</td>
                  <td className="px-2 py-1 text-right tabular-nums">{formatNumber(g.used)}</td>
                  <td className="px-2 py-1 text-right tabular-nums">{formatNumber(g.remaining)}</td>
                  <td className="px-2 py-1 text-right tabular-nums">{formatNumber(g.expired)}</td>
                  <td className="px-2 py-1">{formatDate(g.expiresAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {data.periods.length > 0 ? (
            <p className="text-sm text-slate-600">
              Used per period:{" "}
              {data.periods
                .map((p) => `${formatDate(p.periodStart)}: ${formatNumber(p.minutes)}`)
                .join(" · ")}
            </p>
          ) : null}
        </>
      )}
    </Section>
  );
}

function UsageSection({ detail }: { detail: Detail }) {
  const usage = detail.usage;
  return (
    <Section id="usage-heading" title="Usage">
      {!usage ? (
        <p className="text-sm text-slate-600">No usage: the account has no subscription.</p>
      ) : (
        <>
          <div className="grid gap-4 md:grid-cols-[minmax(0,20rem)_minmax(0,1fr)]">
            <div className="flex flex-col gap-2">
              <p className="text-sm text-slate-600">
                {formatDate(usage.period.start)} – {formatDate(usage.period.end)}
              </p>
              <p className="text-2xl font-semibold tabular-nums">
                {formatNumber(usage.minutesUsed)}{" "}
                <span className="text-base font-normal text-slate-600">
                  of {formatNumber(usage.minutesLimit)} minutes
                </span>
              </p>
              <UsageBar percentage={usage.usagePercentage} label="Minutes used this period" />
            </div>
            <Facts
              items={[
                ["Calls", formatNumber(usage.calls)],
                ["Reserved by calls in progress", `${formatNumber(usage.minutesReserved)} min`],
                [
                  "Beyond the limit",
                  usage.overage.policy === "hard_cap"
                    ? `Hard cap: outbound calls stop at the limit · ${formatNumber(usage.overage.overCapMinutes)} min over the cap (not billed)`
                    : `${formatNumber(usage.overage.minutes)} min · ${formatAmount(usage.overage.cost.amount, usage.overage.cost.currency)} (${formatNumber(usage.overage.reportedMinutes)} min sent to Stripe${detail.spendCap?.status?.reached ? `; the budget caps it at ${formatAmount(detail.spendCap.status.spentCents, detail.spendCap.cap.currency)}` : ""})`,
                ],
                [
                  "Late events",
                  `${formatNumber(usage.lateEvents.calls)} calls, ${formatNumber(usage.lateEvents.minutes)} min`,
                ],
              ]}
            />
          </div>
          <DailyUsageChart days={detail.daily} />
        </>
      )}
    </Section>
  );
}

function InvoicesSection({ detail }: { detail: Detail }) {
  const [openInvoice, setOpenInvoice] = useState<string | null>(null);
  const invoice = detail.invoices.find((i) => i.id === openInvoice);
  return (
    <Section id="invoices-heading" title="Invoices">
      {invoice ? (
        <GiveBackForm accountId={detail.account.id} invoice={invoice} onDone={() => setOpenInvoice(null)} />
      ) : null}
      {detail.invoices.length === 0 ? (
        <p className="text-sm text-slate-600">No invoices yet.</p>
      ) : (
        <DataTable
          caption="Invoices, newest first (the latest 24)"
          columns={INVOICE_COLUMNS}
          minWidth="min-w-[44rem]"
          boxClassName="shadow-none"
        >
          {detail.invoices.map((invoice) => (
            <tr key={invoice.id} className="border-t border-slate-200">
              <td className={`${td} whitespace-nowrap`}>{formatDate(invoice.issuedAt)}</td>
              <td className={td}>
                <span className="font-mono text-xs">{invoice.number ?? invoice.stripeInvoiceId}</span>
              </td>
              <td className={td}>{billingReasonLabel(invoice.billingReason)}</td>
              <td className={td}>
                <ToneBadge tone={invoiceStatusTone(invoice.status)}>{invoice.status}</ToneBadge>
              </td>
              <td className={`${td} text-right whitespace-nowrap tabular-nums`}>
                {formatAmount(invoice.total.amount, invoice.total.currency)}
                {invoice.status === "open" ? (
                  <div className="text-xs text-amber-800">
                    {formatAmount(invoice.amountDueCents, invoice.total.currency)} due
                  </div>
                ) : null}
                {invoice.refundedCents > 0 ? (
                  <div className="text-xs text-slate-600">
                    {formatAmount(invoice.refundedCents, invoice.total.currency)} refunded
                  </div>
                ) : null}
                {invoice.creditedCents > 0 ? (
                  <div className="text-xs text-slate-600">
                    {formatAmount(invoice.creditedCents, invoice.total.currency)} credited
                  </div>
                ) : null}
              </td>
              <td className={`${td} whitespace-nowrap`}>
                {invoice.hostedInvoiceUrl ? (
                  <a href={invoice.hostedInvoiceUrl} target="_blank" rel="noreferrer" className={linkClass}>
                    View
                    <span className="sr-only"> invoice {invoice.number ?? invoice.stripeInvoiceId}</span>
                    <span className="sr-only"> (opens in a new tab)</span>
                  </a>
                ) : (
                  <span className="text-slate-400">No hosted page</span>
                )}
                {invoice.invoicePdfUrl ? (
                  <a
                    href={invoice.invoicePdfUrl}
                    target="_blank"
                    rel="noreferrer"
                    className={`${linkClass} ml-3`}
                  >
                    PDF
                    <span className="sr-only"> of invoice {invoice.number ?? invoice.stripeInvoiceId}</span>
                    <span className="sr-only"> (opens in a new tab)</span>
                  </a>
                ) : null}
                {invoice.status === "paid" &&
                invoice.amountPaidCents - invoice.refundedCents - invoice.creditedCents > 0 ? (
                  <GiveBackButton
                    accountId={detail.account.id}
                    invoice={invoice}
                    open={openInvoice === invoice.id}
                    onToggle={() => setOpenInvoice(openInvoice === invoice.id ? null : invoice.id)}
                  />
                ) : null}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </Section>
  );
}

type DetailInvoice = Detail["invoices"][number];

function GiveBackButton({
  invoice,
  open,
  onToggle,
}: {
  accountId: string;
  invoice: DetailInvoice;
  open: boolean;
  onToggle: () => void;
}) {
  return (
    <button type="button" className={`${linkClass} ml-3`} aria-expanded={open} onClick={onToggle}>
      Refund or credit
      <span className="sr-only"> invoice {invoice.number ?? invoice.stripeInvoiceId}</span>
    </button>
  );
}

/** Whole minor units from what an admin typed ("25", "25.5", "25.50"); null when it is not an amount. */
function centsOf(text: string): number | null {
  const match = /^\s*(\d{1,6})(?:[.,](\d{1,2}))?\s*$/.exec(text);
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] ?? "0").padEnd(2, "0"));
}

/** Refund (all or part) or credit note on one paid invoice, with a reason the customer sees. */
function GiveBackForm({
  accountId,
  invoice,
  onDone,
}: {
  accountId: string;
  invoice: DetailInvoice;
  onDone: () => void;
}) {
  const queryClient = useQueryClient();
  const adjust = useIntentMutation(
    trpc.customers.adjust.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries();
        onDone();
      },
    }),
  );
  const left = invoice.amountPaidCents - invoice.refundedCents - invoice.creditedCents;
  const currency = invoice.total.currency;
  const [kind, setKind] = useState<"refund" | "credit_note">("refund");
  const [amount, setAmount] = useState((left / 100).toFixed(2));
  const [reason, setReason] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const label = invoice.number ?? invoice.stripeInvoiceId;
  return (
    <form
      aria-label={`Refund or credit invoice ${label}`}
      className="mb-3 flex flex-col gap-3 rounded-lg border border-slate-200 bg-slate-50 p-3 text-sm"
      onSubmit={(event) => {
        event.preventDefault();
        const amountCents = centsOf(amount);
        if (amountCents === null || amountCents <= 0) {
          setProblem("Enter an amount above 0, such as 25.00.");
          return;
        }
        setProblem(null);
        adjust.mutate({ accountId, kind, invoiceId: invoice.id, amountCents, reason });
      }}
    >
      <p>
        Invoice <span className="font-mono text-xs">{label}</span>: paid{" "}
        {formatAmount(invoice.amountPaidCents, currency)}, {formatAmount(left, currency)} left to give back.
      </p>
      <div className="flex flex-wrap items-end gap-3">
        <label className="flex flex-col gap-1">
          <span className="font-medium">How</span>
          <select
            className="rounded-lg border border-slate-300 bg-white px-2 py-1"
            value={kind}
            onChange={(event) => setKind(event.target.value as typeof kind)}
          >
            <option value="refund">Refund to the card</option>
            <option value="credit_note">Credit note (to the customer's balance)</option>
          </select>
        </label>
        <label className="flex flex-col gap-1">
          <span className="font-medium">Amount ({currency.toUpperCase()})</span>
          <input
            inputMode="decimal"
            className="w-28 rounded-lg border border-slate-300 bg-white px-2 py-1 tabular-nums"
            value={amount}
            onChange={(event) => setAmount(event.target.value)}
          />
        </label>
        <label className="flex min-w-[16rem] flex-1 flex-col gap-1">
          <span className="font-medium">Reason (the customer sees it)</span>
          <input
            className="rounded-lg border border-slate-300 bg-white px-2 py-1"
            value={reason}
            maxLength={500}
            required
            onChange={(event) => setReason(event.target.value)}
          />
        </label>
      </div>
      <div className="flex items-center gap-2">
        <Button type="submit" disabled={adjust.isPending}>
          {adjust.isPending ? "Giving back…" : kind === "refund" ? "Refund" : "Issue credit note"}
        </Button>
        <Button type="button" variant="secondary" onClick={onDone}>
          Cancel
        </Button>
      </div>
      {problem || adjust.error ? (
        <p role="alert" className="text-red-700">
          {problem ?? messageOf(adjust.error)}
        </p>
      ) : null}
    </form>
  );
}

const KIND_LABEL = {
  refund: "Refund",
  credit_note: "Credit note",
  balance_credit: "Balance credit",
} as const;

/** Every refund and credit of the account (Minutely's and Stripe's), with a form for a balance credit. */
function AdjustmentsSection({ detail }: { detail: Detail }) {
  const accountId = detail.account.id;
  const list = useQuery(trpc.customers.adjustments.queryOptions({ accountId }));
  const queryClient = useQueryClient();
  const credit = useIntentMutation(
    trpc.customers.adjust.mutationOptions({
      onSuccess: async () => {
        setAmount("");
        setReason("");
        await queryClient.invalidateQueries();
      },
    }),
  );
  // The account's billing currency as its invoices say (usd, eur, gbp: what the API takes, lowercase).
  const invoiced = detail.invoices[0]?.total.currency.trim().toLowerCase();
  const currency = invoiced !== undefined && isCurrency(invoiced) ? invoiced : null;
  const [amount, setAmount] = useState("");
  const [reason, setReason] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const rows = list.data ?? [];
  return (
    <Section id="adjustments-heading" title="Refunds and credits">
      {rows.length === 0 ? (
        <p className="text-sm text-slate-600">Nothing given back yet.</p>
      ) : (
        <ul className="flex flex-col divide-y divide-slate-100 text-sm" data-testid="adjustments">
          {rows.map((a) => (
            <li key={a.id} className="flex flex-wrap items-baseline gap-x-3 gap-y-1 py-2">
              <span className="font-medium">{KIND_LABEL[a.kind]}</span>
              <span className="tabular-nums">{formatAmount(a.amountCents, a.currency)}</span>
              {a.invoiceNumber ? <span className="font-mono text-xs">{a.invoiceNumber}</span> : null}
              <span className="text-slate-700">“{a.reason}”</span>
              <ToneBadge
                tone={a.status === "succeeded" ? "success" : a.status === "failed" ? "danger" : "warning"}
              >
                {a.status}
              </ToneBadge>
              <span className="text-xs text-slate-500">
                {a.source === "stripe" ? "made in Stripe" : (a.actorEmail ?? "")} ·{" "}
                {formatDateTime(a.createdAt)}
              </span>
              {a.error ? <span className="w-full text-xs text-red-700">{a.error}</span> : null}
            </li>
          ))}
        </ul>
      )}
      {currency ? (
        <form
          aria-label="Credit the customer's balance"
          className="mt-3 flex flex-wrap items-end gap-3 text-sm"
          onSubmit={(event) => {
            event.preventDefault();
            const amountCents = centsOf(amount);
            if (amountCents === null || amountCents <= 0) {
              setProblem("Enter an amount above 0, such as 10.00.");
              return;
            }
            setProblem(null);
            credit.mutate({ accountId, kind: "balance_credit", amountCents, currency, reason });
          }}
        >
          <label className="flex flex-col gap-1">
            <span className="font-medium">Balance credit ({currency.toUpperCase()})</span>
            <input
              inputMode="decimal"
              className="w-28 rounded-lg border border-slate-300 bg-white px-2 py-1 tabular-nums"
              value={amount}
              onChange={(event) => setAmount(event.target.value)}
            />
          </label>
          <label className="flex min-w-[16rem] flex-1 flex-col gap-1">
            <span className="font-medium">Reason (the customer sees it)</span>
            <input
              className="rounded-lg border border-slate-300 bg-white px-2 py-1"
              value={reason}
              maxLength={500}
              required
              onChange={(event) => setReason(event.target.value)}
            />
          </label>
          <Button type="submit" variant="secondary" disabled={credit.isPending}>
            {credit.isPending ? "Crediting…" : "Credit balance"}
          </Button>
          {problem || credit.error ? (
            <p role="alert" className="w-full text-red-700">
              {problem ?? messageOf(credit.error)}
            </p>
          ) : null}
        </form>
      ) : null}
    </Section>
  );
}

/** Second subscriptions the billing guard canceled and refunded (two Checkout pages paid). */
function DuplicatesSection({ detail }: { detail: Detail }) {
  return (
    <Section id="duplicates-heading" title="Duplicate subscriptions canceled and refunded">
      <p className="text-sm text-slate-600">
        This account paid for a second subscription while it already had one. Minutely kept the first,
        canceled the second at once and refunded its payment.
      </p>
      <ul className="flex flex-col divide-y divide-slate-100 text-sm">
        {detail.duplicateSubscriptions.map((dup) => (
          <li key={dup.stripeSubscriptionId} className="flex flex-col gap-1 py-2">
            <div className="flex flex-wrap items-center gap-2">
              <ToneBadge tone={dup.status === "resolved" ? "warning" : "danger"}>
                {dup.status === "resolved" ? "Canceled and refunded" : "Being canceled and refunded"}
              </ToneBadge>
              <span className="text-xs text-slate-500">
                found {formatDateTime(dup.detectedAt)}
                {dup.resolvedAt ? ` · resolved ${formatDateTime(dup.resolvedAt)}` : ""}
              </span>
            </div>
            <p className="text-slate-700">
              Canceled <CopyableId value={dup.stripeSubscriptionId} label="canceled subscription id" />, kept{" "}
              <CopyableId value={dup.keptStripeSubscriptionId} label="kept subscription id" />.{" "}
              {dup.refunded
                ? `Refunded ${formatAmount(dup.refunded.amount, dup.refunded.currency)}`
                : "Nothing was paid, nothing refunded"}
              {dup.stripeRefundIds.length > 0 ? ` (${dup.stripeRefundIds.join(", ")})` : ""}.
              {dup.stripeEventId ? (
                <>
                  {" "}
                  Found by webhook{" "}
                  <Link to="/webhooks/:eventId" params={{ eventId: dup.stripeEventId }} className={linkClass}>
                    {dup.stripeEventId}
                  </Link>
                  .
                </>
              ) : (
                " Found when the customer came back from Checkout."
              )}
            </p>
          </li>
        ))}
      </ul>
    </Section>
  );
}

function AlertsSection({ detail }: { detail: Detail }) {
  return (
    <Section id="alerts-heading" title="Usage alerts">
      {detail.alerts.length === 0 ? (
        <p className="text-sm text-slate-600">No usage alerts.</p>
      ) : (
        <ul className="flex flex-col divide-y divide-slate-100 text-sm">
          {detail.alerts.map((alert) => (
            <li key={alert.id} className="flex flex-col gap-1 py-2">
              <div className="flex flex-wrap items-center gap-2">
                <ToneBadge tone={alert.thresholdPercent >= 100 ? "danger" : "warning"}>
                  {alert.thresholdPercent}%{alert.kind === "spend_cap" ? " of budget" : ""}
                </ToneBadge>
                <span className="text-xs text-slate-500">
                  {formatDateTime(alert.createdAt)}
                  {alert.emailedAt ? " · emailed" : ""}
                  {alert.dismissedAt ? " · dismissed by the customer" : ""}
                </span>
              </div>
              <p className="text-slate-700">{alert.message}</p>
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

function AgentsSection({ detail }: { detail: Detail }) {
  const active = detail.agents.filter((a) => a.active).length;
  return (
    <Section id="agents-heading" title={`Agents (${active} active)`}>
      {detail.agents.length === 0 ? (
        <p className="text-sm text-slate-600">No agents.</p>
      ) : (
        <ul className="flex flex-col divide-y divide-slate-100 text-sm">
          {detail.agents.map((agent) => (
            <li key={agent.id} className="flex flex-wrap items-center justify-between gap-2 py-2">
              <span className="font-medium text-slate-800">{agent.name}</span>
              <span className="flex items-center gap-2 text-xs text-slate-500">
                Created {formatDate(agent.createdAt)}
                {agent.active ? (
                  <Badge tone="success">Active</Badge>
                ) : (
                  <Badge>
                    Inactive{agent.deactivatedAt ? ` since ${formatDate(agent.deactivatedAt)}` : ""}
                  </Badge>
                )}
              </span>
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

const ROLE_LABEL = { owner: "Owner", admin: "Admin", billing: "Billing", member: "Member" } as const;

/** The account's members with their roles, and its pending invitations with "Resend invitation". */
function UsersSection({ detail }: { detail: Detail }) {
  const queryClient = useQueryClient();
  const resend = useIntentMutation(
    trpc.customers.resendInvitation.mutationOptions({ onSettled: () => queryClient.invalidateQueries() }),
  );
  const { members, invitations } = detail.team;
  const deleted = detail.account.deletedAt !== null;
  return (
    <Section id="users-heading" title="People">
      {deleted ? (
        <p className="text-sm text-slate-600">
          The account was deleted: its memberships and invitations are gone and the personal data of people in
          no other account is removed (docs/accounts.md).
        </p>
      ) : null}
      <ul className="flex flex-col divide-y divide-slate-100 text-sm" aria-label="Members">
        {members.map((member) => (
          <li key={member.userId} className="flex flex-wrap items-center justify-between gap-2 py-2">
            <span className="min-w-0 break-all">
              <span className="font-medium text-slate-800">{member.name}</span> · {member.email}
            </span>
            <span className="flex flex-wrap items-center gap-2">
              <Badge>{ROLE_LABEL[member.role]}</Badge>
              {member.platformRole === "admin" ? <Badge tone="brand">Minutely admin</Badge> : null}
              {!deleted && !member.emailVerified ? (
                <ResendVerification
                  accountId={detail.account.id}
                  userId={member.userId}
                  email={member.email}
                />
              ) : null}
            </span>
          </li>
        ))}
      </ul>
      <h3 className="mt-4 text-sm font-semibold text-slate-700">Pending invitations</h3>
      {resend.isError ? (
        <p role="alert" className="mt-2 text-sm text-red-700">
          {messageOf(resend.error)}
        </p>
      ) : null}
      {resend.isSuccess ? (
        <p role="status" className="mt-2 text-sm text-green-700">
          Invitation sent again (send {resend.data.sendCount}); the new link works until{" "}
          {formatDate(resend.data.expiresAt)}.
        </p>
      ) : null}
      {invitations.length === 0 ? (
        <p className="mt-2 text-sm text-slate-500">None.</p>
      ) : (
        <ul className="flex flex-col divide-y divide-slate-100 text-sm" aria-label="Pending invitations">
          {invitations.map((invitation) => (
            <li key={invitation.id} className="flex flex-wrap items-center justify-between gap-2 py-2">
              <span className="min-w-0 break-all">
                {invitation.email} · {ROLE_LABEL[invitation.role]} · sent {formatDate(invitation.sentAt)}
                {invitation.sendCount > 1 ? ` (${invitation.sendCount} times)` : ""}
                {invitation.expired ? " · expired" : ` · expires ${formatDate(invitation.expiresAt)}`}
              </span>
              <Button
                variant="secondary"
                disabled={resend.isPending}
                aria-label={`Resend invitation to ${invitation.email}`}
                onClick={() => resend.mutate({ accountId: detail.account.id, invitationId: invitation.id })}
              >
                Resend invitation
              </Button>
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

/** An unverified user: a new verification link mailed on request (audit-logged, 3 an hour). */
function ResendVerification({
  accountId,
  userId,
  email,
}: {
  accountId: string;
  userId: string;
  email: string;
}) {
  const queryClient = useQueryClient();
  const resend = useIntentMutation(
    trpc.customers.resendVerification.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries(trpc.audit.list.queryFilter()),
    }),
  );
  return (
    <>
      <Badge tone="warning">Email not verified</Badge>
      <Button
        variant="secondary"
        aria-label={`Resend verification email to ${email}`}
        disabled={resend.isPending}
        onClick={() => resend.mutate({ accountId, userId })}
      >
        {resend.isPending ? "Sending…" : "Resend verification email"}
      </Button>
      {resend.isSuccess ? (
        <span role="status" className="text-emerald-700">
          Sent to {resend.data.sentTo}
        </span>
      ) : null}
      {resend.isError ? (
        <span role="alert" className="text-red-700">
          {messageOf(resend.error)}
        </span>
      ) : null}
    </>
  );
}
