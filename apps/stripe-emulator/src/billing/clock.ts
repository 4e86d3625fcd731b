import type Stripe from "stripe";
import type { EmulatorCore } from "../core.ts";
import { invalidRequest } from "../errors.ts";
import { buildInvoice } from "../objects/invoices.ts";
import { buildSubscription, currentPeriod } from "../objects/subscriptions.ts";
import { buildTestClock } from "../objects/testClocks.ts";
import type { InvoiceRec, ScheduleRec, SubscriptionRec, TestClockRec } from "../state.ts";
import { attemptInvoicePayment, finalizeAutomatically, voidInvoice } from "./invoices.ts";
import { boundary } from "./periods.ts";
import { processScheduleAt, scheduleDueTime } from "./schedules.ts";
import { cancelSubscriptionNow, renewSubscription, subscriptionInterval } from "./subscriptions.ts";

const DAY = 86_400;
/** An `incomplete` subscription whose first invoice stays unpaid this long becomes `incomplete_expired`. */
export const INCOMPLETE_EXPIRY_SECONDS = 23 * 3600;
const TRIAL_WILL_END_SECONDS = 3 * DAY;
const DRAFT_AUTO_FINALIZE_SECONDS = 3600;

const LIVE = new Set(["active", "past_due", "trialing", "unpaid"]);

/** When `invoice.upcoming` is due for the current period, or null (off, already sent, or no renewal). */
function upcomingDue(core: EmulatorCore, sub: SubscriptionRec): number | null {
  const days = core.invoiceNotices.upcomingDaysBefore;
  if (days === null || !LIVE.has(sub.status) || sub.cancel_at_period_end) return null;
  const { start, end } = currentPeriod(sub);
  if (sub.cancel_at !== null && sub.cancel_at <= end) return null;
  if ((sub.upcoming_sent_for ?? null) === end) return null;
  const at = end - days * DAY;
  return at > start ? at : null;
}

function subscriptionDue(core: EmulatorCore, sub: SubscriptionRec): number | null {
  const times: number[] = [];
  const upcoming = upcomingDue(core, sub);
  if (upcoming !== null) times.push(upcoming);
  if (LIVE.has(sub.status)) {
    times.push(currentPeriod(sub).end);
    if (sub.cancel_at !== null) times.push(sub.cancel_at);
    const resumesAt = sub.pause_collection?.resumes_at ?? null;
    if (resumesAt !== null) times.push(resumesAt);
    if (sub.status === "trialing" && sub.trial_end !== null && !sub.trial_will_end_sent) {
      const warn = sub.trial_end - TRIAL_WILL_END_SECONDS;
      if (warn > sub.created) times.push(warn);
    }
  }
  if (sub.status === "incomplete") times.push(sub.created + INCOMPLETE_EXPIRY_SECONDS);
  return times.length > 0 ? Math.min(...times) : null;
}

/** `invoice.will_be_due` / `invoice.overdue` of an open invoice with a due date, when configured. */
function noticeDue(core: EmulatorCore, inv: InvoiceRec): number | null {
  if (inv.deleted || inv.status !== "open" || inv.due_date === null) return null;
  const { willBeDueDaysBefore, overdueDaysAfter } = core.invoiceNotices;
  const times: number[] = [];
  if (willBeDueDaysBefore !== null && !inv.will_be_due_sent)
    times.push(inv.due_date - willBeDueDaysBefore * DAY);
  if (overdueDaysAfter !== null && !inv.overdue_sent) times.push(inv.due_date + overdueDaysAfter * DAY);
  return times.length > 0 ? Math.min(...times) : null;
}

function invoiceDue(core: EmulatorCore, inv: InvoiceRec): number | null {
  const notice = noticeDue(core, inv);
  const payment = paymentDue(inv);
  if (notice === null) return payment;
  return payment === null ? notice : Math.min(notice, payment);
}

function paymentDue(inv: InvoiceRec): number | null {
  if (inv.deleted) return null;
  if (
    inv.status === "open" &&
    inv.next_payment_attempt !== null &&
    inv.collection_method === "charge_automatically"
  ) {
    return inv.next_payment_attempt;
  }
  if (inv.status === "draft" && inv.auto_advance && inv.billing_reason === "manual") {
    return inv.created + DRAFT_AUTO_FINALIZE_SECONDS;
  }
  return null;
}

/** Re-reads the status after a mutation (TypeScript keeps the pre-call narrowing otherwise). */
function isOpen(inv: InvoiceRec): boolean {
  return inv.status === "open";
}

function onClock(core: EmulatorCore, clockId: string | null) {
  const customers = new Set(
    Object.values(core.state.customers)
      .filter((c) => c.test_clock === clockId)
      .map((c) => c.id),
  );
  return {
    subscriptions: Object.values(core.state.subscriptions).filter((s) => customers.has(s.customer)),
    invoices: Object.values(core.state.invoices).filter((i) => customers.has(i.customer)),
    schedules: Object.values(core.state.schedules).filter((s) => customers.has(s.customer)),
  };
}

/** The earliest moment something on this clock (or on real time, for `null`) needs processing. */
export function nextDueTime(core: EmulatorCore, clockId: string | null): number | null {
  const { subscriptions, invoices, schedules } = onClock(core, clockId);
  const times = [
    ...subscriptions.map((s) => subscriptionDue(core, s)),
    ...invoices.map((i) => invoiceDue(core, i)),
    ...schedules.map((s: ScheduleRec) => scheduleDueTime(s)),
  ].filter((t): t is number => t !== null);
  return times.length > 0 ? Math.min(...times) : null;
}

/** Processes everything due at exactly `t` (or earlier): schedules first, then subscriptions, then invoices. */
function processAt(core: EmulatorCore, clockId: string | null, t: number): void {
  emitUpcomingInvoices(core, clockId, t);
  const { schedules } = onClock(core, clockId);
  for (const schedule of schedules.sort((a, b) => a.seq - b.seq)) {
    const due = scheduleDueTime(schedule);
    if (due !== null && due <= t) processScheduleAt(core, schedule, due);
  }
  for (const sub of onClock(core, clockId).subscriptions.sort((a, b) => a.seq - b.seq)) {
    const due = subscriptionDue(core, sub);
    if (due === null || due > t) continue;
    if (sub.status === "incomplete") {
      if (sub.created + INCOMPLETE_EXPIRY_SECONDS <= t) {
        const before = buildSubscription(core, sub);
        sub.status = "incomplete_expired";
        sub.ended_at = t;
        const invoice = sub.latest_invoice ? core.state.invoices[sub.latest_invoice] : undefined;
        if (invoice && invoice.status === "open") voidInvoice(core, invoice, t);
        core.emitUpdate("customer.subscription.updated", before, buildSubscription(core, sub));
      }
      continue;
    }
    if (
      sub.status === "trialing" &&
      sub.trial_end !== null &&
      !sub.trial_will_end_sent &&
      sub.trial_end - TRIAL_WILL_END_SECONDS <= t
    ) {
      sub.trial_will_end_sent = true;
      core.emit("customer.subscription.trial_will_end", buildSubscription(core, sub));
    }
    const resumesAt = sub.pause_collection?.resumes_at ?? null;
    if (resumesAt !== null && resumesAt <= t) {
      // `pause_collection.resumes_at` reached: collection resumes (before a renewal at the same time).
      const before = buildSubscription(core, sub);
      sub.pause_collection = null;
      core.emitUpdate("customer.subscription.updated", before, buildSubscription(core, sub));
    }
    const { end } = currentPeriod(sub);
    // A scheduled cancellation (cancel_at, or cancel_at_period_end) ends the subscription; the invoice items
    // still pending on it (usage billed as items, prorations) are "left in place and collected at the end
    // of the period" (Stripe's cancel docs): one final invoice with them, charged as a renewal would be.
    // Nothing pending: no invoice.
    if (sub.cancel_at !== null && sub.cancel_at <= t && sub.cancel_at <= end) {
      cancelSubscriptionNow(core, sub, {
        prorate: false,
        invoiceNow: true,
        reason: "cancellation_requested",
        at: sub.cancel_at,
      });
      continue;
    }
    if (end <= t && LIVE.has(sub.status)) {
      if (sub.cancel_at_period_end) {
        cancelSubscriptionNow(core, sub, {
          prorate: false,
          invoiceNow: true,
          reason: "cancellation_requested",
          at: end,
        });
      } else {
        renewSubscription(core, sub, end);
      }
    }
  }
  for (const inv of onClock(core, clockId).invoices.sort((a, b) => a.seq - b.seq)) {
    emitInvoiceNotices(core, inv, t);
    const due = paymentDue(inv);
    if (due === null || due > t) continue;
    if (inv.status === "draft") {
      finalizeAutomatically(core, inv, due);
      if (isOpen(inv) && inv.collection_method === "charge_automatically") {
        attemptInvoicePayment(core, inv, due, { automatic: true });
      }
    } else {
      attemptInvoicePayment(core, inv, due, { automatic: true });
    }
  }
}

/**
 * `invoice.upcoming` for every subscription whose renewal is `upcomingDaysBefore` days away: the renewal
 * invoice as it would be now, built in a rolled-back run.
 */
function emitUpcomingInvoices(core: EmulatorCore, clockId: string | null, t: number): void {
  const due = onClock(core, clockId)
    .subscriptions.filter((sub) => {
      const at = upcomingDue(core, sub);
      return at !== null && at <= t;
    })
    .sort((a, b) => a.seq - b.seq)
    .map((sub) => sub.id);
  if (due.length === 0) return;
  const previews = core.dryRun(() =>
    due.map((id) => {
      const sub = core.state.subscriptions[id];
      if (!sub) return undefined;
      const end = currentPeriod(sub).end;
      const inv = renewSubscription(core, sub, end, true);
      inv.id = `upcoming_in_${id.slice(4)}`;
      inv.billing_reason = "upcoming";
      return { id, end, invoice: buildInvoice(core, inv) };
    }),
  );
  for (const preview of previews) {
    const sub = preview ? core.state.subscriptions[preview.id] : undefined;
    if (!preview || !sub) continue;
    sub.upcoming_sent_for = preview.end;
    core.emit("invoice.upcoming", preview.invoice);
  }
}

/** `invoice.will_be_due` and `invoice.overdue`, each once, at their configured distance from the due date. */
function emitInvoiceNotices(core: EmulatorCore, inv: InvoiceRec, t: number): void {
  if (inv.deleted || inv.status !== "open" || inv.due_date === null) return;
  const { willBeDueDaysBefore, overdueDaysAfter } = core.invoiceNotices;
  if (
    willBeDueDaysBefore !== null &&
    !inv.will_be_due_sent &&
    inv.due_date - willBeDueDaysBefore * DAY <= t
  ) {
    inv.will_be_due_sent = true;
    core.emit("invoice.will_be_due", buildInvoice(core, inv));
  }
  if (overdueDaysAfter !== null && !inv.overdue_sent && inv.due_date + overdueDaysAfter * DAY <= t) {
    inv.overdue_sent = true;
    core.emit("invoice.overdue", buildInvoice(core, inv));
  }
}

/**
 * Moves a clock (or real time, for `clockId === null`) forward to `target`, processing every due
 * renewal, phase change, cancellation and payment retry in time order. Deterministic: the same state
 * and target always produce the same results and events.
 */
export function processUntil(core: EmulatorCore, clockId: string | null, target: number): void {
  const clock = clockId ? core.state.testClocks[clockId] : undefined;
  let previous: number | null = null;
  let repeats = 0;
  for (let guard = 0; guard < 100_000; guard += 1) {
    const next = nextDueTime(core, clockId);
    if (next === null || next > target) break;
    repeats = next === previous ? repeats + 1 : 0;
    if (repeats > 50)
      throw new Error(`Stripe emulator: processing stuck at ${next} on ${clockId ?? "real time"}`);
    previous = next;
    if (clock) clock.frozen_time = Math.max(clock.frozen_time, next);
    processAt(core, clockId, next);
  }
  if (clock) clock.frozen_time = target;
}

/** Stripe's limit: two intervals of the shortest live subscription on the clock, from its frozen time. */
function advanceLimit(
  core: EmulatorCore,
  clock: TestClockRec,
): { until: number; subscription: string; every: string } | null {
  const customers = new Set(
    Object.values(core.state.customers)
      .filter((c) => c.test_clock === clock.id && !c.deleted)
      .map((c) => c.id),
  );
  let best: { until: number; subscription: string; every: string } | null = null;
  for (const sub of Object.values(core.state.subscriptions)) {
    if (!customers.has(sub.customer) || sub.status === "canceled" || sub.status === "incomplete_expired")
      continue;
    const { interval } = subscriptionInterval(core, sub);
    const until = boundary(clock.frozen_time, interval.interval, interval.interval_count, 2);
    if (best === null || until < best.until) {
      best = { until, subscription: sub.id, every: `${interval.interval_count} ${interval.interval}` };
    }
  }
  return best;
}

/**
 * Advances a test clock. Processing runs synchronously inside the request: the response mirrors
 * Stripe's (`status: "advancing"`), and by the time it is sent a retrieve already shows `ready`.
 */
export function advanceClock(
  core: EmulatorCore,
  clock: TestClockRec,
  target: number,
): Stripe.TestHelpers.TestClock {
  if (target <= clock.frozen_time) {
    throw invalidRequest(
      "The frozen_time must be after the test clock's current frozen_time.",
      "frozen_time",
    );
  }
  const limit = advanceLimit(core, clock);
  if (limit !== null && target > limit.until) {
    throw invalidRequest(
      `A test clock can advance at most two intervals of the shortest subscription on it at once: ${limit.subscription} renews every ${limit.every}, so frozen_time can be at most ${limit.until} now. Advance in steps.`,
      "frozen_time",
    );
  }
  clock.status = "advancing";
  clock.target_frozen_time = target;
  const response = buildTestClock(clock);
  core.emit("test_helpers.test_clock.advancing", response);
  processUntil(core, clock.id, target);
  clock.status = "ready";
  clock.target_frozen_time = null;
  clock.frozen_time = target;
  core.emit("test_helpers.test_clock.ready", buildTestClock(clock));
  return response;
}

/** Renewals etc. of subscriptions that are not on a test clock happen in real time: whatever is due now. */
export function processRealTime(core: EmulatorCore): void {
  const now = core.realNow();
  const due = nextDueTime(core, null);
  if (due !== null && due <= now) core.tx(() => processUntil(core, null, now));
}
