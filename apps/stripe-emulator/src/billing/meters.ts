import type { EmulatorCore } from "../core.ts";
import type { PriceRec } from "../state.ts";

/**
 * Usage of a metered price for a customer in [start, end): the price's billing meter aggregates the
 * meter events whose `payload[customer_mapping.event_payload_key]` is the customer id.
 */
export function meterUsage(
  core: EmulatorCore,
  customerId: string,
  price: PriceRec,
  start: number,
  end: number,
): number {
  const meterId = price.recurring?.meter;
  if (!meterId) return 0;
  const meter = core.state.meters[meterId];
  if (!meter) return 0;
  const events = core.state.meterEvents.filter(
    (e) =>
      e.event_name === meter.event_name &&
      e.payload[meter.customer_key] === customerId &&
      e.timestamp >= start &&
      e.timestamp < end,
  );
  if (meter.formula === "count") return events.length;
  const values = events
    .map((e) => Number(e.payload[meter.value_key] ?? "0"))
    .filter((v) => Number.isFinite(v));
  if (meter.formula === "last") {
    const last = [...events].sort((a, b) => a.timestamp - b.timestamp || a.seq - b.seq).at(-1);
    return last ? Number(last.payload[meter.value_key] ?? "0") || 0 : 0;
  }
  return Math.round(values.reduce((sum, v) => sum + v, 0));
}
