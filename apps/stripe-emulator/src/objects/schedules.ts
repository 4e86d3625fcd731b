import type Stripe from "stripe";
import type { EmulatorCore } from "../core.ts";
import type { PhaseRec, ScheduleRec } from "../state.ts";

function buildPhase(phase: PhaseRec): Stripe.SubscriptionSchedule.Phase {
  return {
    add_invoice_items: [],
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: null,
    billing_thresholds: null,
    collection_method: null,
    currency: phase.currency,
    default_payment_method: phase.default_payment_method,
    default_tax_rates: [],
    description: phase.description,
    discounts: [],
    end_date: phase.end_date,
    invoice_settings: null,
    items: phase.items.map((item) => ({
      billing_thresholds: null,
      discounts: [],
      metadata: item.metadata,
      plan: item.price,
      price: item.price,
      quantity: item.quantity,
      tax_rates: [],
    })),
    metadata: phase.metadata,
    on_behalf_of: null,
    proration_behavior: phase.proration_behavior,
    start_date: phase.start_date,
    transfer_data: null,
    trial_end: null,
  };
}

export function buildSchedule(core: EmulatorCore, rec: ScheduleRec): Stripe.SubscriptionSchedule {
  const now = core.clockNow(rec.test_clock);
  const current = rec.status === "active" ? rec.phases[phaseIndexAt(rec, now)] : undefined;
  return {
    id: rec.id,
    object: "subscription_schedule",
    application: null,
    billing_mode: {
      flexible: { proration_discounts: "included" },
      type: "flexible",
      updated_at: rec.created,
    },
    canceled_at: rec.canceled_at,
    completed_at: rec.completed_at,
    created: rec.created,
    current_phase:
      current && current.end_date > now
        ? { end_date: current.end_date, start_date: current.start_date }
        : null,
    customer: rec.customer,
    customer_account: null,
    default_settings: {
      application_fee_percent: null,
      automatic_tax: { disabled_reason: null, enabled: false, liability: null },
      billing_cycle_anchor: "automatic",
      billing_thresholds: null,
      collection_method: "charge_automatically",
      default_payment_method: null,
      description: null,
      invoice_settings: {
        account_tax_ids: null,
        custom_fields: null,
        days_until_due: null,
        description: null,
        footer: null,
        issuer: { type: "self" },
      },
      on_behalf_of: null,
      transfer_data: null,
    },
    end_behavior: rec.end_behavior,
    livemode: false,
    metadata: rec.metadata,
    pause_schedules: [],
    phases: rec.phases.map(buildPhase),
    released_at: rec.released_at,
    released_subscription: rec.released_subscription,
    status: rec.status,
    subscription: rec.subscription,
    test_clock: rec.test_clock,
  };
}

/** Index of the phase in force at `t` (the last one that started), or -1 before the first. */
export function phaseIndexAt(schedule: ScheduleRec, t: number): number {
  let index = -1;
  schedule.phases.forEach((phase, i) => {
    if (phase.start_date <= t) index = i;
  });
  return index;
}
