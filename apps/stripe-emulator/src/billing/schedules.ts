import type { EmulatorCore } from "../core.ts";
import { invalidRequest, missingParam } from "../errors.ts";
import { newId } from "../ids.ts";
import { buildSchedule, phaseIndexAt } from "../objects/schedules.ts";
import { currentPeriod } from "../objects/subscriptions.ts";
import type { Params } from "../params.ts";
import type { PhaseItemRec, PhaseRec, ScheduleRec, SubscriptionRec } from "../state.ts";
import { attemptInvoicePayment, emitInvoiceCreated, finalizeInvoice } from "./invoices.ts";
import { resolveCustomerPaymentMethod } from "./payments.ts";
import { boundary } from "./periods.ts";
import {
  applyItemChanges,
  cancelSubscriptionNow,
  type ItemChange,
  type ProrationBehavior,
  startSubscription,
  validatePrices,
  withSubscriptionEvent,
} from "./subscriptions.ts";

const PRORATION = ["always_invoice", "create_prorations", "none"] as const;
const END_BEHAVIORS = ["cancel", "none", "release", "renew"] as const;

export function currentPhase(core: EmulatorCore, schedule: ScheduleRec): PhaseRec | undefined {
  if (schedule.status !== "active") return undefined;
  const now = core.clockNow(schedule.test_clock);
  const phase = schedule.phases[phaseIndexAt(schedule, now)];
  return phase && phase.end_date > now ? phase : undefined;
}

/** When this schedule next needs attention, if ever. */
export function scheduleDueTime(schedule: ScheduleRec): number | null {
  if (schedule.status === "not_started") return schedule.phases[0]?.start_date ?? null;
  if (schedule.status !== "active") return null;
  const ends = schedule.phases.map((p) => p.end_date).filter((end) => end > schedule.processed_through);
  return ends.length > 0 ? Math.min(...ends) : null;
}

function parsePhases(
  core: EmulatorCore,
  phasesP: Params[],
  firstStart: number,
  now: number,
  customerId: string,
  defaultProration: ProrationBehavior,
): PhaseRec[] {
  const phases: PhaseRec[] = [];
  phasesP.forEach((phaseP, index) => {
    const param = `phases[${index}]`;
    const previous = phases[index - 1];
    const givenStart = phaseP.timestampOrNow("start_date", now);
    const start = previous ? previous.end_date : (givenStart ?? firstStart);
    if (previous && givenStart !== undefined && givenStart !== previous.end_date) {
      throw invalidRequest(
        `${param}[start_date] must equal the previous phase's end_date.`,
        `${param}[start_date]`,
      );
    }
    const itemsP = phaseP.list("items");
    if (!itemsP || itemsP.length === 0) throw missingParam(`${param}[items]`);
    const items: PhaseItemRec[] = itemsP.map((itemP, i) => {
      const priceId = itemP.str("price") ?? itemP.str("plan");
      if (!priceId) throw missingParam(`${param}[items][${i}][price]`);
      return {
        price: core.price(priceId, `${param}[items][${i}][price]`).id,
        quantity: itemP.int("quantity") ?? 1,
        metadata: itemP.metadata("metadata", {}),
      };
    });
    const prices = items.map((i) => core.price(i.price));
    validatePrices(prices, `${param}[items]`);
    const recurring = prices[0]?.recurring;
    if (!recurring) throw missingParam(`${param}[items]`);
    const duration = phaseP.obj("duration");
    let end: number;
    const endDate = phaseP.timestampOrNow("end_date", now);
    if (endDate !== undefined) {
      end = endDate;
    } else if (duration) {
      const interval = duration.oneOf("interval", ["day", "week", "month", "year"] as const);
      if (!interval) throw missingParam(`${param}[duration][interval]`);
      end = boundary(start, interval, duration.int("interval_count") ?? 1, 1);
    } else {
      end = boundary(start, recurring.interval, recurring.interval_count, 1);
    }
    if (end <= start)
      throw invalidRequest(`${param}[end_date] must be after its start_date.`, `${param}[end_date]`);
    const pm = phaseP.str("default_payment_method");
    phases.push({
      start_date: start,
      end_date: end,
      items,
      proration_behavior: phaseP.oneOf("proration_behavior", PRORATION) ?? defaultProration,
      metadata: phaseP.metadata("metadata", {}),
      default_payment_method: pm
        ? resolveCustomerPaymentMethod(core, customerId, pm, `${param}[default_payment_method]`).id
        : null,
      description: phaseP.str("description") ?? null,
      currency: prices[0]?.currency ?? "usd",
    });
  });
  return phases;
}

function newSchedule(
  core: EmulatorCore,
  customerId: string,
  now: number,
  testClock: string | null,
): ScheduleRec {
  const schedule: ScheduleRec = {
    id: newId("sub_sched"),
    seq: core.nextSeq(),
    created: now,
    customer: customerId,
    subscription: null,
    status: "not_started",
    phases: [],
    end_behavior: "release",
    canceled_at: null,
    completed_at: null,
    released_at: null,
    released_subscription: null,
    metadata: {},
    test_clock: testClock,
    processed_through: now,
  };
  core.state.schedules[schedule.id] = schedule;
  return schedule;
}

export function createScheduleFromSubscription(
  core: EmulatorCore,
  sub: SubscriptionRec,
  p: Params,
): ScheduleRec {
  if (sub.schedule) {
    throw invalidRequest(
      `You cannot migrate a subscription that is already attached to a schedule: \`${sub.schedule}\`.`,
      "from_subscription",
    );
  }
  if (sub.status === "canceled" || sub.status === "incomplete_expired") {
    throw invalidRequest(
      "You cannot create a subscription schedule from a canceled subscription.",
      "from_subscription",
    );
  }
  const now = core.clockNow(sub.test_clock);
  const { start, end } = currentPeriod(sub);
  const schedule = newSchedule(core, sub.customer, now, sub.test_clock);
  schedule.status = "active";
  schedule.subscription = sub.id;
  schedule.metadata = p.metadata("metadata", {});
  schedule.end_behavior = sub.cancel_at_period_end ? "cancel" : "release";
  schedule.phases = [
    {
      start_date: start,
      end_date: end,
      items: sub.items.map((item) => ({
        price: item.price,
        quantity: item.quantity,
        metadata: item.metadata,
      })),
      proration_behavior: "create_prorations",
      metadata: {},
      default_payment_method: null,
      description: null,
      currency: sub.currency,
    },
  ];
  withSubscriptionEvent(core, sub, "customer.subscription.updated", () => {
    sub.schedule = schedule.id;
    if (sub.cancel_at_period_end) {
      sub.cancel_at_period_end = false;
      sub.cancel_at = null;
      sub.canceled_at = null;
      sub.cancellation_details.reason = null;
    }
  });
  core.emit("subscription_schedule.created", buildSchedule(core, schedule));
  return schedule;
}

function startScheduledSubscription(core: EmulatorCore, schedule: ScheduleRec, at: number): void {
  const phase = schedule.phases[0];
  if (!phase) return;
  const customer = core.customer(schedule.customer);
  const { sub } = startSubscription(core, {
    customer,
    items: phase.items.map((i) => ({
      price: core.price(i.price),
      quantity: i.quantity,
      metadata: i.metadata,
    })),
    now: at,
    defaultPaymentMethod: phase.default_payment_method,
    paymentBehavior: "allow_incomplete",
    metadata: phase.metadata,
    description: phase.description,
    collectionMethod: "charge_automatically",
    daysUntilDue: null,
    trialEnd: null,
    trialMissingPm: "create_invoice",
    billingCycleAnchor: null,
    prorationBehavior: "create_prorations",
    cancelAtPeriodEnd: false,
    cancelAt: null,
    schedule: schedule.id,
    preview: false,
  });
  schedule.subscription = sub.id;
  schedule.status = "active";
}

export function createScheduleFromParams(core: EmulatorCore, p: Params): ScheduleRec {
  const customer = core.customer(p.reqStr("customer"));
  const now = core.clockNow(customer.test_clock);
  const schedule = newSchedule(core, customer.id, now, customer.test_clock);
  const start = p.timestampOrNow("start_date", now) ?? now;
  schedule.end_behavior = p.oneOf("end_behavior", END_BEHAVIORS) ?? "release";
  schedule.metadata = p.metadata("metadata", {});
  const phasesP = p.list("phases");
  if (!phasesP || phasesP.length === 0) throw missingParam("phases");
  schedule.phases = parsePhases(core, phasesP, start, now, customer.id, "create_prorations");
  core.emit("subscription_schedule.created", buildSchedule(core, schedule));
  if (start <= now) {
    startScheduledSubscription(core, schedule, now);
  }
  return schedule;
}

function assertMutable(schedule: ScheduleRec): void {
  if (schedule.status !== "active" && schedule.status !== "not_started") {
    throw invalidRequest(
      `You cannot update a subscription schedule that is currently in the \`${schedule.status}\` status. It must be in one of the following statuses: \`not_started\`, \`active\`.`,
    );
  }
}

/** Makes the subscription's items match `phase`, prorating per `behavior`. */
function syncItems(
  core: EmulatorCore,
  sub: SubscriptionRec,
  phase: PhaseRec,
  behavior: ProrationBehavior,
  t: number,
): void {
  const now = core.clockNow(sub.test_clock);
  const changes: ItemChange[] = [];
  const remaining = [...sub.items];
  for (const target of phase.items) {
    const index = remaining.findIndex((i) => i.price === target.price);
    const same = index >= 0 ? remaining.splice(index, 1)[0] : undefined;
    if (same) {
      if (same.quantity !== target.quantity) {
        changes.push({
          item: same,
          price: core.price(target.price),
          quantity: target.quantity,
          metadata: null,
        });
      }
      continue;
    }
    const reuse = remaining.shift();
    changes.push({
      item: reuse ?? null,
      price: core.price(target.price),
      quantity: target.quantity,
      metadata: target.metadata,
    });
  }
  for (const leftover of remaining)
    changes.push({ item: leftover, price: null, quantity: 0, metadata: null });
  if (changes.length === 0) return;
  const before = core.price(sub.items[0]?.price ?? "").recurring;
  const after = core.price(phase.items[0]?.price ?? "").recurring;
  const resetAnchor =
    before !== null &&
    after !== null &&
    (before.interval !== after.interval || before.interval_count !== after.interval_count);
  const invoice = applyItemChanges(core, sub, changes, { prorationBehavior: behavior, t, now, resetAnchor });
  if (invoice) {
    sub.latest_invoice = invoice.id;
    emitInvoiceCreated(core, invoice);
    finalizeInvoice(core, invoice, now);
    if (invoice.status === "open" && sub.collection_method === "charge_automatically") {
      attemptInvoicePayment(core, invoice, now, { automatic: true });
    }
  }
}

export function updateSchedule(core: EmulatorCore, schedule: ScheduleRec, p: Params): void {
  assertMutable(schedule);
  const now = core.clockNow(schedule.test_clock);
  const before = buildSchedule(core, schedule);
  const behavior = p.oneOf("proration_behavior", PRORATION) ?? "create_prorations";
  const endBehavior = p.oneOf("end_behavior", END_BEHAVIORS);
  if (endBehavior) schedule.end_behavior = endBehavior;
  schedule.metadata = p.metadata("metadata", schedule.metadata);
  const phasesP = p.list("phases");
  if (phasesP && phasesP.length > 0) {
    const current = schedule.status === "active" ? schedule.phases[phaseIndexAt(schedule, now)] : undefined;
    const firstStart = current?.start_date ?? schedule.phases[0]?.start_date ?? now;
    const givenStart = phasesP[0]?.timestampOrNow("start_date", now);
    if (current && givenStart !== undefined && givenStart !== current.start_date) {
      throw invalidRequest(
        "You can not modify the start date of the current phase.",
        "phases[0][start_date]",
      );
    }
    schedule.phases = parsePhases(core, phasesP, firstStart, now, schedule.customer, behavior);
    const sub = schedule.subscription ? core.state.subscriptions[schedule.subscription] : undefined;
    const phase = schedule.phases[phaseIndexAt(schedule, now)];
    if (sub && phase && schedule.status === "active") {
      withSubscriptionEvent(core, sub, "customer.subscription.updated", () =>
        syncItems(core, sub, phase, behavior, now),
      );
    }
  }
  core.emitUpdate("subscription_schedule.updated", before, buildSchedule(core, schedule));
}

export function releaseSchedule(core: EmulatorCore, schedule: ScheduleRec, at?: number): void {
  assertMutable(schedule);
  const now = at ?? core.clockNow(schedule.test_clock);
  const before = buildSchedule(core, schedule);
  const sub = schedule.subscription ? core.state.subscriptions[schedule.subscription] : undefined;
  schedule.status = "released";
  schedule.released_at = now;
  schedule.released_subscription = sub?.id ?? null;
  schedule.subscription = null;
  if (sub) {
    withSubscriptionEvent(core, sub, "customer.subscription.updated", () => {
      sub.schedule = null;
    });
  }
  core.emitUpdate("subscription_schedule.released", before, buildSchedule(core, schedule));
}

export function cancelSchedule(core: EmulatorCore, schedule: ScheduleRec, p: Params): void {
  assertMutable(schedule);
  const now = core.clockNow(schedule.test_clock);
  const before = buildSchedule(core, schedule);
  const sub = schedule.subscription ? core.state.subscriptions[schedule.subscription] : undefined;
  schedule.status = "canceled";
  schedule.canceled_at = now;
  if (sub && sub.status !== "canceled") {
    cancelSubscriptionNow(core, sub, {
      prorate: p.bool("prorate") ?? true,
      invoiceNow: p.bool("invoice_now") ?? true,
      reason: "cancellation_requested",
    });
  }
  core.emitUpdate("subscription_schedule.canceled", before, buildSchedule(core, schedule));
}

/** Phase transitions and schedule completion due at `t`. */
export function processScheduleAt(core: EmulatorCore, schedule: ScheduleRec, t: number): void {
  if (schedule.status === "not_started") {
    const first = schedule.phases[0];
    if (first && first.start_date <= t) {
      schedule.processed_through = first.start_date;
      const before = buildSchedule(core, schedule);
      startScheduledSubscription(core, schedule, t);
      core.emitUpdate("subscription_schedule.updated", before, buildSchedule(core, schedule));
    }
    return;
  }
  if (schedule.status !== "active") return;
  const ended = schedule.phases.findIndex(
    (phase) => phase.end_date > schedule.processed_through && phase.end_date <= t,
  );
  if (ended < 0) return;
  schedule.processed_through = schedule.phases[ended]?.end_date ?? t;
  const next = schedule.phases[ended + 1];
  const sub = schedule.subscription ? core.state.subscriptions[schedule.subscription] : undefined;
  if (next) {
    const before = buildSchedule(core, schedule);
    if (sub && sub.status !== "canceled") {
      withSubscriptionEvent(core, sub, "customer.subscription.updated", () => {
        syncItems(core, sub, next, next.proration_behavior, t);
        if (Object.keys(next.metadata).length > 0) sub.metadata = { ...sub.metadata, ...next.metadata };
        if (next.default_payment_method) sub.default_payment_method = next.default_payment_method;
        if (next.description) sub.description = next.description;
      });
    }
    core.emitUpdate("subscription_schedule.updated", before, buildSchedule(core, schedule));
    return;
  }
  if (schedule.end_behavior === "cancel") {
    const before = buildSchedule(core, schedule);
    schedule.status = "completed";
    schedule.completed_at = t;
    if (sub && sub.status !== "canceled") {
      cancelSubscriptionNow(core, sub, {
        prorate: false,
        invoiceNow: false,
        reason: "cancellation_requested",
        at: t,
      });
    }
    core.emitUpdate("subscription_schedule.completed", before, buildSchedule(core, schedule));
    return;
  }
  releaseSchedule(core, schedule, t);
}
