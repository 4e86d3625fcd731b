import { formatMoney } from "@minutely/domain";
import {
  Badge,
  Banner,
  Button,
  Card,
  ConfirmDialog,
  EmptyState,
  ErrorState,
  Link,
  ScrollArea,
  Spinner,
  useDocumentTitle,
  useIntentMutation,
  useSearch,
} from "@minutely/ui";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { BillingAddressCard } from "../components/billing-address.tsx";
import { PauseSubscription } from "../components/pause-subscription.tsx";
import { clearFlash, peekFlash, type UpgradeConfirmation } from "../lib/flash.ts";
import { formatCents, formatDate } from "../lib/format.ts";
import { trpc } from "../lib/trpc.ts";

/** Moved to its own module (the authed layout shows it on every page); re-exported for existing imports. */
export { PaymentProblemBanner } from "../components/payment-problem-banner.tsx";

const STATUS_TONE = {
  active: "success",
  trialing: "success",
  past_due: "danger",
  unpaid: "danger",
  incomplete: "warning",
  incomplete_expired: "neutral",
  canceled: "neutral",
  paused: "warning",
  unknown: "warning",
  none: "neutral",
} as const;

function toneOf(status: string) {
  return STATUS_TONE[status as keyof typeof STATUS_TONE] ?? "warning";
}

/** A period as "December 6, 2026 – January 6, 2027" (one date when it starts and ends at once). */
function formatPeriod(start: Date | null, end: Date | null): string {
  if (!start || !end) return "";
  return start.getTime() === end.getTime() ? formatDate(start) : `${formatDate(start)} – ${formatDate(end)}`;
}

/**
 * What an upgrade did, on the page it lands on: the new plan, the prorated amount charged now (from the
 * upgrade's invoice) and when the next full month is charged. A live region: it is in the page before its
 * words, so screen readers announce them when they appear.
 */
function UpgradeConfirmationStatus({
  upgrade,
  onDismiss,
}: {
  upgrade: UpgradeConfirmation | null;
  onDismiss: () => void;
}) {
  const [shown, setShown] = useState<UpgradeConfirmation | null>(null);
  useEffect(() => setShown(upgrade), [upgrade]);
  const invoice = shown?.invoice ?? null;
  return (
    <div role="status" data-testid="upgrade-confirmation">
      {shown ? (
        <div className="rounded-lg bg-emerald-50 px-4 py-3 text-sm text-emerald-900 ring-1 ring-emerald-200">
          <p className="font-semibold">You're now on {shown.packageName}</p>
          <p className="mt-1">
            {invoice
              ? invoice.status === "paid"
                ? `We charged ${formatCents(invoice.amountPaidCents, invoice.currency)} now for the rest of this period on ${shown.packageName} (prorated: less the unused time on your previous package)`
                : `${formatCents(invoice.totalCents, invoice.currency)} for the rest of this period on ${shown.packageName} (prorated) is due`
              : `The prorated charge for the rest of this period is on your invoices below`}
            {invoice?.number ? `, invoice ${invoice.number}` : ""}. Your next full charge is{" "}
            {formatMoney(shown.monthlyPrice)} on {formatDate(shown.nextChargeAt)}.
          </p>
          <p className="mt-2 flex flex-wrap gap-3">
            {invoice?.hostedInvoiceUrl ? (
              <a
                className="font-medium underline"
                href={invoice.hostedInvoiceUrl}
                target="_blank"
                rel="noreferrer"
              >
                View the invoice
              </a>
            ) : null}
            <button type="button" className="font-medium underline" onClick={onDismiss}>
              Dismiss
            </button>
          </p>
        </div>
      ) : null}
    </div>
  );
}

type Invoice = NonNullable<ReturnType<typeof useInvoices>["data"]>[number];

function useInvoices() {
  return useQuery(trpc.subscription.invoices.queryOptions());
}

/** What the invoice charges for, line by line, as Stripe itemized it. */
function InvoiceLines({ invoice }: { invoice: Invoice }) {
  if (invoice.lines.length === 0) return null;
  return (
    <ul
      className="mt-1 space-y-1 text-xs text-slate-600"
      aria-label={`Lines of invoice ${invoice.number ?? "draft"}`}
    >
      {invoice.lines.map((line) => (
        <li key={line.id} className="flex flex-wrap justify-between gap-x-4">
          <span>
            <span className="text-slate-800">{line.description ?? "—"}</span>
            {line.periodStart && line.periodEnd ? (
              <span className="block text-slate-500">{formatPeriod(line.periodStart, line.periodEnd)}</span>
            ) : null}
          </span>
          <span className="tabular-nums">{formatCents(line.amountCents, line.currency)}</span>
        </li>
      ))}
      {invoice.discountCents > 0 ? (
        <li className="flex flex-wrap justify-between gap-x-4" data-testid="invoice-discount">
          <span className="text-slate-800">Discount</span>
          <span className="tabular-nums">−{formatCents(invoice.discountCents, invoice.currency)}</span>
        </li>
      ) : null}
      {invoice.taxCents !== 0 ? (
        <li className="flex flex-wrap justify-between gap-x-4" data-testid="invoice-tax">
          <span className="text-slate-800">Tax</span>
          <span className="tabular-nums">{formatCents(invoice.taxCents, invoice.currency)}</span>
        </li>
      ) : null}
    </ul>
  );
}

export function BillingPage() {
  useDocumentTitle("Billing");
  const queryClient = useQueryClient();
  const overview = useQuery(trpc.subscription.overview.queryOptions());
  const invoices = useInvoices();
  const [confirmCancel, setConfirmCancel] = useState(false);
  // The upgrade's confirmation, left by the page that upgraded: shown once, gone after a reload.
  const [upgraded, setUpgraded] = useState(() => {
    const flash = peekFlash();
    return flash?.kind === "upgraded" ? flash.upgrade : null;
  });
  useEffect(() => clearFlash(), []);
  const confirmation = <UpgradeConfirmationStatus upgrade={upgraded} onDismiss={() => setUpgraded(null)} />;
  const refresh = { onSuccess: () => queryClient.invalidateQueries() };
  const cancel = useIntentMutation(trpc.subscription.cancel.mutationOptions(refresh));
  const resume = useIntentMutation(trpc.subscription.resume.mutationOptions(refresh));
  const keepPlan = useIntentMutation(trpc.subscription.cancelScheduledChange.mutationOptions(refresh));
  const failure = resume.error ?? keepPlan.error;

  if (overview.isPending || overview.isError) {
    return (
      <div className="space-y-6">
        {confirmation}
        {overview.isPending ? (
          <Spinner label="Loading your subscription" />
        ) : (
          <ErrorState error={overview.error} onRetry={() => overview.refetch()} />
        )}
      </div>
    );
  }
  const sub = overview.data;
  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-bold">Billing</h1>
      {confirmation}
      {failure ? <Banner tone="danger">{failure.message}</Banner> : null}
      <Card data-testid="subscription-card">
        <div className="flex flex-wrap items-center justify-between gap-2">
          <h2 className="text-lg font-semibold">
            {sub.package ? `${sub.package.name} package` : "No subscription"}
          </h2>
          <Badge tone={sub.pause?.paused ? "warning" : toneOf(sub.status)}>{sub.statusLabel}</Badge>
        </div>
        {sub.package ? (
          <div className="mt-3 space-y-2 text-sm">
            <p>
              {formatMoney(sub.package.monthlyPrice)}/month excl. tax · current period{" "}
              {formatDate(sub.currentPeriodStart)} – {formatDate(sub.currentPeriodEnd)}
            </p>
            {sub.trial ? (
              <p className="rounded-md bg-slate-50 p-3" data-testid="subscription-trial">
                Free trial until {formatDate(sub.trial.endsAt)}: nothing is charged and calls stop at the
                included minutes.{" "}
                {sub.trial.cardOnFile
                  ? `Then ${formatMoney(sub.package.monthlyPrice)}/month on your card.`
                  : "Add a card before it ends to keep your calls running; without one the subscription pauses."}
              </p>
            ) : null}
            {sub.discount ? (
              <p className="rounded-md bg-emerald-50 p-3" data-testid="subscription-discount">
                Discount{sub.discount.code ? ` (code ${sub.discount.code})` : ""}: {sub.discount.summary}
                {sub.discount.endsAt ? ` until ${formatDate(sub.discount.endsAt)}` : ""}. You pay{" "}
                {formatMoney(sub.discount.discountedMonthlyPrice)}/month instead of{" "}
                {formatMoney(sub.package.monthlyPrice)}. Overage minutes are billed at the full rate.
              </p>
            ) : null}
            {sub.scheduledChange ? (
              <div className="flex flex-wrap items-center gap-3 rounded-md bg-slate-50 p-3">
                <p data-testid="scheduled-change">
                  Changes to {sub.scheduledChange.packageName} on{" "}
                  {formatDate(sub.scheduledChange.effectiveAt)}
                </p>
                <Button variant="secondary" disabled={keepPlan.isPending} onClick={() => keepPlan.mutate()}>
                  Keep {sub.package.name}
                </Button>
              </div>
            ) : null}
            {sub.cancelAtPeriodEnd ? (
              <div className="flex flex-wrap items-center gap-3 rounded-md bg-amber-50 p-3">
                <p data-testid="cancellation">
                  Cancelled: you keep access until {formatDate(sub.currentPeriodEnd)}, then the subscription
                  ends.
                  {sub.withdrawnChange
                    ? ` Undo restores your scheduled change to ${sub.withdrawnChange.packageName}.`
                    : null}
                </p>
                <Button disabled={resume.isPending} onClick={() => resume.mutate()}>
                  {resume.isPending ? "Resuming…" : "Undo cancellation"}
                </Button>
              </div>
            ) : null}
            <PauseSubscription sub={sub} />
            <div className="flex flex-wrap gap-2 pt-2">
              {sub.pause ? null : (
                <Button asChild variant="secondary">
                  <Link to="/packages">Change package</Link>
                </Button>
              )}
              {sub.grantsAccess && !sub.cancelAtPeriodEnd ? (
                <Button
                  variant="ghost"
                  onClick={() => {
                    cancel.startIntent();
                    setConfirmCancel(true);
                  }}
                >
                  Cancel subscription
                </Button>
              ) : null}
            </div>
          </div>
        ) : (
          <p className="mt-2 text-sm">
            <Link to="/packages" className="font-medium text-brand-700 underline">
              Choose a package
            </Link>{" "}
            to start calling.
          </p>
        )}
      </Card>
      <BillingAddressCard />
      <Card>
        <h2 className="mb-3 text-lg font-semibold">Invoices</h2>
        {invoices.isPending ? <Spinner label="Loading invoices" /> : null}
        {invoices.isError ? <ErrorState error={invoices.error} onRetry={() => invoices.refetch()} /> : null}
        {invoices.data && invoices.data.length === 0 ? <EmptyState title="No invoices yet" /> : null}
        {invoices.data && invoices.data.length > 0 ? (
          <ScrollArea label="Invoice table" className="overflow-x-auto">
            <table className="w-full text-left text-sm" aria-label="Invoices">
              <thead>
                <tr className="text-slate-500">
                  <th className="py-2 pr-4">Number</th>
                  <th className="py-2 pr-4">Date</th>
                  <th className="py-2 pr-4">Description</th>
                  <th className="py-2 pr-4">Total</th>
                  <th className="py-2 pr-4">Status</th>
                  <th className="py-2">Links</th>
                </tr>
              </thead>
              <tbody>
                {invoices.data.map((invoice) => (
                  <tr key={invoice.id} className="border-t border-slate-100 align-top">
                    <td className="py-2 pr-4">{invoice.number ?? "—"}</td>
                    <td className="py-2 pr-4 whitespace-nowrap">{formatDate(invoice.date)}</td>
                    <td className="min-w-64 py-2 pr-4">
                      <span className="font-medium">{invoice.description}</span>
                      <InvoiceLines invoice={invoice} />
                    </td>
                    <td className="py-2 pr-4 font-medium tabular-nums">
                      {formatCents(invoice.amountCents, invoice.currency)}
                    </td>
                    <td className="py-2 pr-4">
                      <Badge
                        tone={
                          invoice.status === "paid"
                            ? "success"
                            : invoice.status === "open"
                              ? "danger"
                              : "neutral"
                        }
                      >
                        {invoice.status}
                      </Badge>
                      {invoice.refundedCents > 0 ? (
                        <Badge tone="neutral">
                          refunded {formatCents(invoice.refundedCents, invoice.currency)}
                        </Badge>
                      ) : null}
                      {invoice.creditedCents > 0 ? (
                        <Badge tone="neutral">
                          credited {formatCents(invoice.creditedCents, invoice.currency)}
                        </Badge>
                      ) : null}
                    </td>
                    <td className="space-x-3 py-2">
                      {invoice.hostedInvoiceUrl ? (
                        <a
                          className="text-brand-700 underline"
                          href={invoice.hostedInvoiceUrl}
                          target="_blank"
                          rel="noreferrer"
                        >
                          View
                          <span className="sr-only">
                            {" "}
                            invoice {invoice.number ?? formatDate(invoice.date)} (opens in a new tab)
                          </span>
                        </a>
                      ) : null}
                      {invoice.invoicePdfUrl ? (
                        <a
                          className="text-brand-700 underline"
                          href={invoice.invoicePdfUrl}
                          target="_blank"
                          rel="noreferrer"
                        >
                          PDF
                          <span className="sr-only">
                            {" "}
                            of invoice {invoice.number ?? formatDate(invoice.date)} (opens in a new tab)
                          </span>
                        </a>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollArea>
        ) : null}
      </Card>
      <CreditsCard />
      <ConfirmDialog
        open={confirmCancel}
        onOpenChange={setConfirmCancel}
        title="Cancel your subscription?"
        description={
          sub.scheduledChange
            ? `You keep full access until ${formatDate(sub.currentPeriodEnd)}. Your scheduled change to ${sub.scheduledChange.packageName} on ${formatDate(sub.scheduledChange.effectiveAt)} is withdrawn: the subscription ends instead. You can undo this until then, and undoing schedules the change to ${sub.scheduledChange.packageName} again.`
            : `You keep full access until ${formatDate(sub.currentPeriodEnd)}. You can undo this until then.`
        }
        confirmLabel="Cancel subscription"
        cancelLabel="Keep subscription"
        tone="danger"
        pending={cancel.isPending}
        pendingLabel="Cancelling…"
        error={cancel.error?.message ?? null}
        onConfirm={() => cancel.mutate(undefined, { onSuccess: () => setConfirmCancel(false) })}
      />
    </div>
  );
}

/**
 * Back from Stripe's hosted page (Checkout's success URL): sync now so the page does not wait for webhooks,
 * then say plainly what happened: subscribed, card updated, still processing, or not paid.
 */
export function BillingReturnPage() {
  useDocumentTitle("Payment confirmation");
  const search = useSearch("/billing/return");
  const queryClient = useQueryClient();
  const complete = useIntentMutation(
    trpc.subscription.completeCheckout.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries(),
    }),
  );
  const started = useRef(false);
  useEffect(() => {
    if (started.current || !search.session_id) return;
    started.current = true;
    complete.mutate({ sessionId: search.session_id });
  }, [search.session_id, complete]);
  if (!search.session_id) return <ErrorState error={{ message: "This page needs a checkout session." }} />;
  if (complete.isError) return <ErrorState error={complete.error} />;
  if (!complete.data) return <Spinner label="Confirming your payment" />;
  const { status, mode, subscription, purchase } = complete.data;
  const pkg = subscription.package;
  const refund = purchase?.refundedAsDuplicate ?? null;
  let title: string;
  let body: string;
  let tone: "success" | "warning";
  if (status !== "complete") {
    tone = "warning";
    title = status === "expired" ? "This checkout expired" : "Checkout is not finished";
    body = "Nothing was charged. Choose a package again when you are ready.";
  } else if (refund) {
    // A second tab's payment: the account already had a subscription, so this one was canceled and refunded.
    tone = "warning";
    title = pkg ? `You're already subscribed to ${pkg.name}` : "You already have a subscription";
    body = `This checkout${purchase?.packageName ? ` for ${purchase.packageName}` : ""} started a second subscription, so we canceled it ${
      refund.resolved && refund.refundedCents > 0
        ? `and refunded your payment of ${formatCents(refund.refundedCents, refund.currency ?? "usd")} in full`
        : "and are refunding your payment in full"
    }. To change your package, use Subscription & Packages.`;
  } else if (mode === "setup") {
    tone = "success";
    title = "Your card is updated";
    body = subscription.needsPaymentAttention
      ? "We are retrying your open invoice with the new card."
      : "Your next invoices will be charged to the new card.";
  } else if (pkg && subscription.grantsAccess) {
    tone = "success";
    title = `You're subscribed to ${purchase?.packageName ?? pkg.name}`;
    body = `Payment received: ${formatMoney(purchase?.monthlyPrice ?? pkg.monthlyPrice)}/month, current period ${formatDate(
      subscription.currentPeriodStart,
    )} – ${formatDate(subscription.currentPeriodEnd)}.`;
  } else {
    tone = "warning";
    title = "Your payment is being processed";
    body =
      "Your subscription starts as soon as Stripe confirms the payment. The Billing page shows its status.";
  }
  return (
    <div className="mx-auto max-w-xl space-y-4" data-testid="checkout-confirmation">
      <h1 className="text-2xl font-bold">{title}</h1>
      <Banner tone={tone}>{body}</Banner>
      <div className="flex flex-wrap gap-3">
        <Link to="/" className="font-medium text-brand-700 underline">
          Go to the dashboard
        </Link>
        <Link to="/billing" className="font-medium text-brand-700 underline">
          Billing and invoices
        </Link>
        {status !== "complete" ? (
          <Link to="/packages" className="font-medium text-brand-700 underline">
            Choose a package
          </Link>
        ) : null}
      </div>
    </div>
  );
}

const CREDIT_KIND = {
  refund: "Refund to your card",
  credit_note: "Credit note (to your balance)",
  balance_credit: "Credit to your balance",
} as const;

/** Refunds and credits given to the account, newest first: what, how much, on which invoice and why. */
function CreditsCard() {
  const credits = useQuery(trpc.subscription.credits.queryOptions());
  if (!credits.data || credits.data.length === 0) return null;
  return (
    <Card>
      <h2 className="mb-1 text-lg font-semibold">Refunds and credits</h2>
      <p className="mb-3 text-sm text-slate-600">
        A credit to your balance is taken off your next invoices before your card is charged.
      </p>
      <ul className="flex flex-col divide-y divide-slate-100 text-sm" aria-label="Refunds and credits">
        {credits.data.map((c) => (
          <li key={c.id} className="flex flex-wrap items-baseline gap-x-3 gap-y-1 py-2">
            <span className="font-medium">{CREDIT_KIND[c.kind]}</span>
            <span className="tabular-nums">{formatCents(c.amountCents, c.currency)}</span>
            {c.invoiceNumber ? <span className="text-slate-600">on invoice {c.invoiceNumber}</span> : null}
            <span className="text-slate-700">“{c.reason}”</span>
            <span className="text-xs text-slate-500">{formatDate(c.createdAt)}</span>
          </li>
        ))}
      </ul>
    </Card>
  );
}
