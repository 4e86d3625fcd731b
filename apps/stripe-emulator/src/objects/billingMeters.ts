import type Stripe from "stripe";
import type { MeterEventRec, MeterRec } from "../state.ts";

export function buildMeter(rec: MeterRec): Stripe.Billing.Meter {
  return {
    id: rec.id,
    object: "billing.meter",
    created: rec.created,
    customer_mapping: { event_payload_key: rec.customer_key, type: "by_id" },
    default_aggregation: { formula: rec.formula },
    display_name: rec.display_name,
    event_name: rec.event_name,
    event_time_window: rec.event_time_window,
    livemode: false,
    status: rec.status,
    status_transitions: { deactivated_at: rec.deactivated_at },
    updated: rec.updated,
    value_settings: { event_payload_key: rec.value_key },
  };
}

export function buildMeterEvent(rec: MeterEventRec): Stripe.Billing.MeterEvent {
  return {
    object: "billing.meter_event",
    created: rec.created,
    event_name: rec.event_name,
    identifier: rec.identifier,
    livemode: false,
    payload: rec.payload,
    timestamp: rec.timestamp,
  };
}
