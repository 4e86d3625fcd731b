import type Stripe from "stripe";
import { meterUsage } from "../billing/meters.ts";
import { type EmulatorCore, paginate } from "../core.ts";
import { invalidRequest, missingParam, resourceMissing } from "../errors.ts";
import type { Router } from "../http/router.ts";
import { newId } from "../ids.ts";
import { buildMeter, buildMeterEvent } from "../objects/billingMeters.ts";
import type { MeterEventRec, MeterRec } from "../state.ts";

function meter(core: EmulatorCore, id: string): MeterRec {
  const rec = core.state.meters[id];
  if (!rec) throw resourceMissing("billing.meter", id, "id");
  return rec;
}

export function registerBillingMeters(router: Router): void {
  router.post("/v1/billing/meters", ({ core, p }) => {
    const now = core.realNow();
    const eventName = p.reqStr("event_name");
    if (Object.values(core.state.meters).some((m) => m.event_name === eventName && m.status === "active")) {
      throw invalidRequest(`An active meter with event_name \`${eventName}\` already exists.`, "event_name");
    }
    const formula = p.obj("default_aggregation")?.oneOf("formula", ["count", "last", "sum"] as const);
    if (!formula) throw missingParam("default_aggregation[formula]");
    const rec: MeterRec = {
      id: newId("mtr"),
      seq: core.nextSeq(),
      created: now,
      updated: now,
      display_name: p.reqStr("display_name"),
      event_name: eventName,
      formula,
      customer_key: p.obj("customer_mapping")?.str("event_payload_key") ?? "stripe_customer_id",
      value_key: p.obj("value_settings")?.str("event_payload_key") ?? "value",
      event_time_window: p.oneOf("event_time_window", ["day", "hour"] as const) ?? null,
      status: "active",
      deactivated_at: null,
    };
    core.state.meters[rec.id] = rec;
    core.emit("billing.meter.created", buildMeter(rec));
    return buildMeter(rec);
  });

  router.get("/v1/billing/meters", ({ core, p, url }) => {
    const status = p.str("status");
    const items = Object.values(core.state.meters).filter((m) => status === undefined || m.status === status);
    return paginate(items, p, url, buildMeter);
  });

  router.get("/v1/billing/meters/:id", ({ core, path }) => buildMeter(meter(core, path.id ?? "")));

  router.post("/v1/billing/meters/:id", ({ core, p, path }) => {
    const rec = meter(core, path.id ?? "");
    if (p.has("display_name")) rec.display_name = p.reqStr("display_name");
    rec.updated = core.realNow();
    core.emit("billing.meter.updated", buildMeter(rec));
    return buildMeter(rec);
  });

  router.post("/v1/billing/meters/:id/deactivate", ({ core, path }) => {
    const rec = meter(core, path.id ?? "");
    rec.status = "inactive";
    rec.deactivated_at = core.realNow();
    rec.updated = rec.deactivated_at;
    core.emit("billing.meter.deactivated", buildMeter(rec));
    return buildMeter(rec);
  });

  router.post("/v1/billing/meters/:id/reactivate", ({ core, path }) => {
    const rec = meter(core, path.id ?? "");
    rec.status = "active";
    rec.deactivated_at = null;
    rec.updated = core.realNow();
    core.emit("billing.meter.reactivated", buildMeter(rec));
    return buildMeter(rec);
  });

  router.get("/v1/billing/meters/:id/event_summaries", ({ core, p, path, url }) => {
    const rec = meter(core, path.id ?? "");
    const customer = p.reqStr("customer");
    const start = p.reqInt("start_time");
    const end = p.reqInt("end_time");
    const price = Object.values(core.state.prices).find((pr) => pr.recurring?.meter === rec.id);
    const value = price
      ? meterUsage(core, customer, price, start, end)
      : core.state.meterEvents.filter(
          (e) =>
            e.event_name === rec.event_name &&
            e.payload[rec.customer_key] === customer &&
            e.timestamp >= start &&
            e.timestamp < end,
        ).length;
    const summary: Stripe.Billing.MeterEventSummary = {
      id: newId("mtrusg"),
      object: "billing.meter_event_summary",
      aggregated_value: value,
      end_time: end,
      livemode: false,
      meter: rec.id,
      start_time: start,
    };
    return { object: "list", data: [summary], has_more: false, url };
  });

  router.post("/v1/billing/meter_events", ({ core, p }) => {
    const eventName = p.reqStr("event_name");
    const payloadP = p.obj("payload");
    if (!payloadP) throw missingParam("payload");
    const payload: Record<string, string> = {};
    for (const key of payloadP.keys()) {
      const value = payloadP.str(key);
      if (value !== undefined) payload[key] = value;
    }
    const identifier = p.str("identifier") ?? newId("mevt", 20);
    const existing = core.state.meterEvents.find((e) => e.identifier === identifier);
    // Stripe enforces identifier uniqueness; the emulator answers a repeat with the recorded event.
    if (existing) return buildMeterEvent(existing);
    const active = Object.values(core.state.meters).find(
      (m) => m.event_name === eventName && m.status === "active",
    );
    const customerId = active ? payload[active.customer_key] : payload.stripe_customer_id;
    const clock = customerId ? (core.state.customers[customerId]?.test_clock ?? null) : null;
    const rec: MeterEventRec = {
      seq: core.nextSeq(),
      created: core.realNow(),
      event_name: eventName,
      identifier,
      payload,
      timestamp: p.int("timestamp") ?? core.clockNow(clock),
    };
    core.state.meterEvents.push(rec);
    return buildMeterEvent(rec);
  });
}
