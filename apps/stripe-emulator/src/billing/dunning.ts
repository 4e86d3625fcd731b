/**
 * Dunning: what a payment's outcome does to the invoice's subscription (a paid invoice makes a
 * `past_due` / `unpaid` / `incomplete` subscription active again, a failure makes it `past_due`), and what
 * the last failed retry does (the account's retry policy: cancel, `unpaid`, or leave it; the invoice left
 * open or uncollectible). `invoices.ts` calls these as payments happen; they need nothing above the objects.
 */
import { retryDelaysSeconds } from "../config.ts";
import type { EmulatorCore } from "../core.ts";
import { buildInvoice } from "../objects/invoices.ts";
import { buildSubscription } from "../objects/subscriptions.ts";
import type { InvoiceRec, SubscriptionRec } from "../state.ts";

/** Seconds after each failed automatic attempt before the next retry (the core's retry policy). */
export function retryDelays(core: EmulatorCore): number[] {
  return retryDelaysSeconds(core.paymentRetries.schedule);
}

/** `status: uncollectible` with Stripe's `status_details.uncollectible.reason`. */
export function markUncollectible(
  core: EmulatorCore,
  inv: InvoiceRec,
  now: number,
  reason: NonNullable<InvoiceRec["uncollectible_reason"]>,
): void {
  const before = buildInvoice(core, inv);
  inv.status = "uncollectible";
  inv.marked_uncollectible_at = now;
  inv.next_payment_attempt = null;
  inv.uncollectible_reason = reason;
  core.emitUpdate("invoice.marked_uncollectible", before, buildInvoice(core, inv));
}

function emitSubscriptionUpdated(
  core: EmulatorCore,
  sub: SubscriptionRec,
  before: ReturnType<typeof buildSubscription>,
): void {
  if (core.quietSubscriptions.has(sub.id)) return;
  core.emitUpdate("customer.subscription.updated", before, buildSubscription(core, sub));
}

export function onInvoicePaid(core: EmulatorCore, inv: InvoiceRec, now: number): void {
  if (!inv.subscription) return;
  const sub = core.state.subscriptions[inv.subscription];
  if (!sub) return;
  if (sub.status !== "incomplete" && sub.status !== "past_due" && sub.status !== "unpaid") return;
  const stillOpen = Object.values(core.state.invoices).some(
    (other) =>
      other.subscription === sub.id &&
      other.status === "open" &&
      other.id !== inv.id &&
      other.attempt_count > 0,
  );
  if (stillOpen) return;
  const before = buildSubscription(core, sub);
  sub.status = sub.trial_end !== null && sub.trial_end > now ? "trialing" : "active";
  sub.failed_attempts = 0;
  emitSubscriptionUpdated(core, sub, before);
}

export function onInvoicePaymentFailed(core: EmulatorCore, inv: InvoiceRec, now: number): void {
  if (!inv.subscription) return;
  const sub = core.state.subscriptions[inv.subscription];
  if (!sub || sub.status === "incomplete" || sub.status === "canceled" || sub.status === "incomplete_expired")
    return;
  const before = buildSubscription(core, sub);
  sub.failed_attempts = inv.attempt_count;
  if (sub.status === "active" || sub.status === "trialing") sub.status = "past_due";
  const final =
    sub.status === "past_due" &&
    inv.attempt_count >= retryDelays(core).length + 1 &&
    inv.next_payment_attempt === null;
  const policy = core.paymentRetries;
  if (final && policy.subscriptionAfterFinalFailure === "unpaid") sub.status = "unpaid";
  emitSubscriptionUpdated(core, sub, before);
  if (!final) return;
  // Every retry failed: the configured outcomes (Billing → Revenue recovery → Retries on Stripe).
  if (policy.invoiceAfterFinalFailure === "uncollectible" && inv.status === "open") {
    markUncollectible(core, inv, now, "max_payment_attempts");
  }
  if (policy.subscriptionAfterFinalFailure === "cancel") {
    endSubscription(core, sub, buildSubscription(core, sub), now, "payment_failed");
  }
}

/**
 * Ends a subscription at `now` (`customer.subscription.deleted`, its schedule canceled, no more retries of
 * its open invoices). `cancelSubscriptionNow` runs this after its prorations and final invoice;
 * `before` is the subscription as it was before all of that.
 */
export function endSubscription(
  core: EmulatorCore,
  sub: SubscriptionRec,
  before: ReturnType<typeof buildSubscription>,
  now: number,
  reason: "cancellation_requested" | "payment_failed" | null,
): void {
  sub.status = "canceled";
  sub.canceled_at = sub.canceled_at ?? now;
  sub.ended_at = now;
  sub.cancel_at = sub.cancel_at ?? null;
  if (reason) sub.cancellation_details.reason = reason;
  if (sub.schedule) {
    const schedule = core.state.schedules[sub.schedule];
    if (schedule && (schedule.status === "active" || schedule.status === "not_started")) {
      schedule.status = "canceled";
      schedule.canceled_at = now;
    }
  }
  for (const inv of Object.values(core.state.invoices)) {
    if (inv.subscription === sub.id && inv.status === "open") inv.next_payment_attempt = null;
  }
  core.quietSubscriptions.delete(sub.id);
  core.emitUpdate("customer.subscription.deleted", before, buildSubscription(core, sub));
}
