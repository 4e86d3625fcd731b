// The live-usage gauges of /metrics: open streams on the replica and whether its LISTEN connection is up.
import { LiveHub } from "@minutely/api";
import { describe, expect, it } from "vitest";
import { createMetrics } from "./metrics.ts";

describe("live usage metrics", () => {
  it("counts this replica's open streams and says whether it listens", async () => {
    const hub = new LiveHub({}, "up");
    const { registry } = createMetrics({ live: hub });
    const value = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values[0]?.value;
    expect(await value("minutely_live_streams")).toBe(0);
    expect(await value("minutely_live_listening")).toBe(1);
    const streams = [hub.open("u1", () => true), hub.open("u2", () => true)];
    hub.setState("down");
    expect(await value("minutely_live_streams")).toBe(2);
    expect(await value("minutely_live_listening")).toBe(0);
    for (const stream of streams) stream.release();
    expect(await value("minutely_live_streams")).toBe(0);
  });
});
