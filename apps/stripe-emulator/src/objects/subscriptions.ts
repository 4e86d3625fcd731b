import type Stripe from "stripe";
import { type EmulatorCore, embeddedList } from "../core.ts";
import type { SubscriptionItemRec, SubscriptionRec } from "../state.ts";
import { buildPlan, buildPrice } from "./prices.ts";
import { buildTaxRates } from "./taxes.ts";

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
    tax_rates: buildTaxRates(core, item.tax_rates),
  };
}

export function buildSubscription(core: EmulatorCore, rec: SubscriptionRec): Stripe.Subscription {
  return {
    id: rec.id,
    object: "subscription",
    application: null,
    application_fee_percent: null,
    automatic_tax: {
      disabled_reason: null,
      enabled: rec.automatic_tax ?? false,
      liability: rec.automatic_tax ? { type: "self" } : null,
    },
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
    default_tax_rates: buildTaxRates(core, rec.default_tax_rates),
    description: rec.description,
    discounts: (rec.discounts ?? []).filter((id) => core.state.discounts[id]?.deleted === false),
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
    pause_collection: rec.pause_collection
      ? { behavior: rec.pause_collection.behavior, resumes_at: rec.pause_collection.resumes_at }
      : null,
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

export function currentPeriod(sub: SubscriptionRec): { start: number; end: number } {
  const first = sub.items[0];
  return {
    start: first?.current_period_start ?? sub.start_date,
    end: first?.current_period_end ?? sub.start_date,
  };
}
