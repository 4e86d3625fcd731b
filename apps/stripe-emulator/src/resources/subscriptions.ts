import type Stripe from "stripe";
import {
  cancelSubscriptionNow,
  createSubscriptionFromParams,
  updateSubscription,
} from "../billing/subscriptions.ts";
import { type EmulatorCore, embeddedList, paginate } from "../core.ts";
import { invalidRequest, resourceMissing } from "../errors.ts";
import { Params } from "../params.ts";
import type { Router } from "../router.ts";
import { searchRecords } from "../search.ts";
import type { SubscriptionItemRec, SubscriptionRec } from "../state.ts";
import { buildPlan, buildPrice } from "./prices.ts";

export function buildSubscriptionItem(
  core: EmulatorCore,
  sub: SubscriptionRec,
  item: SubscriptionItemRec,
): Stripe.SubscriptionItem {
  const price = core.price(item.price);
  return {
    id: item.id,
    object: "subscription_item",
    billing_thresholds: null,
    created: item.created,
    current_period_end: item.current_period_end,
    current_period_start: item.current_period_start,
    current_trial: null,
    discounts: [],
    metadata: item.metadata,
    plan: buildPlan(price),
    price: buildPrice(price),
    quantity: item.quantity,
    subscription: sub.id,
    tax_rates: [],
  };
}

export function buildSubscription(core: EmulatorCore, rec: SubscriptionRec): Stripe.Subscription {
  return {
    id: rec.id,
    object: "subscription",
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: rec.billing_cycle_anchor,
    billing_cycle_anchor_config: null,
    billing_mode: {
      flexible: { proration_discounts: "included" },
      type: "flexible",
      updated_at: rec.created,
    },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: rec.cancel_at,
    cancel_at_period_end: rec.cancel_at_period_end,
    canceled_at: rec.canceled_at,
    cancellation_details: {
      comment: rec.cancellation_details.comment,
      feedback: rec.cancellation_details.feedback as Stripe.Subscription.CancellationDetails.Feedback | null,
      feedback_option: null,
      reason: rec.cancellation_details.reason,
    },
    collection_method: rec.collection_method,
    created: rec.created,
    currency: rec.currency,
    customer: rec.customer,
    customer_account: null,
    days_until_due: rec.days_until_due,
    default_payment_method: rec.default_payment_method,
    default_source: null,
    default_tax_rates: [],
    description: rec.description,
    discounts: [],
    ended_at: rec.ended_at,
    invoice_settings: {
      account_tax_ids: null,
      custom_fields: null,
      description: null,
      footer: null,
      issuer: { type: "self" },
    },
    items: embeddedList(
      rec.items.map((item) => buildSubscriptionItem(core, rec, item)),
      `/v1/subscription_items?subscription=${rec.id}`,
    ),
    latest_invoice: rec.latest_invoice,
    livemode: false,
    managed_payments: null,
    metadata: rec.metadata,
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: {
      payment_method_options: null,
      payment_method_types: null,
      save_default_payment_method: "off",
    },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: rec.schedule,
    start_date: rec.start_date,
    status: rec.status,
    test_clock: rec.test_clock,
    transfer_data: null,
    trial_end: rec.trial_end,
    trial_settings: {
      end_behavior: { billing_cycle_anchor: null, missing_payment_method: rec.trial_missing_pm_behavior },
    },
    trial_start: rec.trial_start,
  };
}

function findItem(core: EmulatorCore, id: string): { sub: SubscriptionRec; item: SubscriptionItemRec } {
  for (const sub of Object.values(core.state.subscriptions)) {
    const item = sub.items.find((i) => i.id === id);
    if (item) return { sub, item };
  }
  throw resourceMissing("subscription_item", id, "id");
}

const LISTED_STATUSES = new Set(["active", "past_due", "trialing", "unpaid", "incomplete", "paused"]);

export function registerSubscriptions(router: Router): void {
  router.post("/v1/subscriptions", ({ core, p }) =>
    buildSubscription(core, createSubscriptionFromParams(core, p).sub),
  );

  router.get("/v1/subscriptions", ({ core, p, url }) => {
    const customer = p.str("customer");
    const status = p.str("status");
    const price = p.str("price") ?? p.str("plan");
    const clock = p.str("test_clock");
    const items = Object.values(core.state.subscriptions).filter(
      (sub) =>
        (customer === undefined || sub.customer === customer) &&
        (clock === undefined || sub.test_clock === clock) &&
        (price === undefined || sub.items.some((i) => i.price === price)) &&
        (status === "all"
          ? true
          : status === undefined
            ? LISTED_STATUSES.has(sub.status)
            : sub.status === status),
    );
    return paginate(items, p, url, (sub) => buildSubscription(core, sub));
  });

  router.get("/v1/subscriptions/search", ({ core, p, url }) =>
    searchRecords(
      Object.values(core.state.subscriptions),
      p,
      url,
      (sub, field) => (field === "status" ? sub.status : field === "customer" ? sub.customer : undefined),
      (sub) => buildSubscription(core, sub),
    ),
  );

  router.get("/v1/subscriptions/:id", ({ core, path }) =>
    buildSubscription(core, core.subscription(path.id ?? "", "id")),
  );

  router.post("/v1/subscriptions/:id", ({ core, p, path }) => {
    const sub = core.subscription(path.id ?? "", "id");
    updateSubscription(core, sub, p);
    return buildSubscription(core, sub);
  });

  router.del("/v1/subscriptions/:id", ({ core, p, path }) => {
    const sub = core.subscription(path.id ?? "", "id");
    if (sub.status === "canceled") {
      throw invalidRequest(`No such subscription: '${sub.id}'`, "id", "resource_missing");
    }
    const details = p.obj("cancellation_details");
    if (details) {
      sub.cancellation_details.comment = details.str("comment") ?? sub.cancellation_details.comment;
      sub.cancellation_details.feedback = details.str("feedback") ?? sub.cancellation_details.feedback;
    }
    cancelSubscriptionNow(core, sub, {
      prorate: p.bool("prorate") ?? false,
      invoiceNow: p.bool("invoice_now") ?? false,
      reason: "cancellation_requested",
    });
    return buildSubscription(core, sub);
  });

  router.get("/v1/subscription_items", ({ core, p, url }) => {
    const sub = core.subscription(p.reqStr("subscription"));
    const items = sub.items.map((item, index) => ({ ...item, seq: -index }));
    return paginate(items, p, url, (item) => buildSubscriptionItem(core, sub, item));
  });

  router.get("/v1/subscription_items/:id", ({ core, path }) => {
    const { sub, item } = findItem(core, path.id ?? "");
    return buildSubscriptionItem(core, sub, item);
  });

  router.post("/v1/subscription_items/:id", ({ core, p, path }) => {
    const { sub, item } = findItem(core, path.id ?? "");
    const itemRaw: Record<string, unknown> = { id: item.id };
    for (const key of ["price", "plan", "price_data", "quantity", "metadata"]) {
      if (p.raw[key] !== undefined) itemRaw[key] = p.raw[key];
    }
    const raw: Record<string, unknown> = { items: [itemRaw] };
    for (const key of ["proration_behavior", "proration_date", "payment_behavior"]) {
      if (p.raw[key] !== undefined) raw[key] = p.raw[key];
    }
    updateSubscription(core, sub, new Params(raw));
    const updated = core.subscription(sub.id).items.find((i) => i.id === item.id);
    if (!updated) throw resourceMissing("subscription_item", item.id, "id");
    return buildSubscriptionItem(core, sub, updated);
  });
}
