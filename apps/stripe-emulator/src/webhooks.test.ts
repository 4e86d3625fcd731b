import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { afterEach, describe, expect, it } from "vitest";
import { seededRandom, signPayload } from "./http/webhooks.ts";
import { startTestEmulator } from "./testing.ts";

interface Received {
  body: string;
  signature: string;
}

/** A local webhook receiver; `statuses` are answered in turn (then 200). */
async function receiver(
  statuses: number[] = [],
): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const queue = [...statuses];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString("utf8");
    });
    req.on("end", () => {
      const signature = req.headers["stripe-signature"];
      received.push({ body, signature: typeof signature === "string" ? signature : "" });
      res.statusCode = queue.shift() ?? 200;
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/webhooks/stripe`, received, server };
}

const SECRET = "whsec_minutely_test_secret";
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function setup(statuses: number[] = [], options: Parameters<typeof startTestEmulator>[0] = {}) {
  const hook = await receiver(statuses);
  const { emulator, stripe } = await startTestEmulator({
    webhooks: [{ url: hook.url, secret: SECRET }],
    webhookRetry: { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 4, timeoutMs: 2000 },
    ...options,
  });
  cleanups.push(async () => {
    await emulator.close();
    await new Promise<void>((resolve) => hook.server.close(() => resolve()));
  });
  return { hook, emulator, stripe };
}

function events(received: Received[]): Stripe.Event[] {
  return received.map((r) => JSON.parse(r.body) as Stripe.Event);
}

describe("webhook signing and delivery", () => {
  it("signs deliveries so stripe.webhooks.constructEvent accepts them", async () => {
    const { hook, emulator, stripe } = await setup();
    const customer = await stripe.customers.create({ email: "hook@minutely.test" });
    await emulator.flushWebhooks();
    const delivery = hook.received.find((r) => r.body.includes('"customer.created"'));
    expect(delivery).toBeDefined();
    const event = stripe.webhooks.constructEvent(delivery?.body ?? "", delivery?.signature ?? "", SECRET);
    expect(event.type).toBe("customer.created");
    expect(event.api_version).toBe(Stripe.API_VERSION);
    expect((event.data.object as Stripe.Customer).id).toBe(customer.id);
    expect(() =>
      stripe.webhooks.constructEvent(delivery?.body ?? "", delivery?.signature ?? "", "whsec_wrong"),
    ).toThrow(Stripe.errors.StripeSignatureVerificationError);
  });

  it("signs with the real current time even when a test clock is far ahead", async () => {
    const { hook, emulator, stripe } = await setup();
    const clock = await stripe.testHelpers.testClocks.create({
      frozen_time: Math.floor(Date.UTC(2040, 0, 1) / 1000),
    });
    await stripe.customers.create({ test_clock: clock.id });
    await emulator.flushWebhooks();
    const delivery = hook.received.find((r) => r.body.includes('"customer.created"'));
    const t = Number(/t=(\d+)/.exec(delivery?.signature ?? "")?.[1]);
    expect(Math.abs(t - Math.floor(Date.now() / 1000))).toBeLessThan(300);
    // Default tolerance (300 s) would reject a clock-time signature.
    expect(() =>
      stripe.webhooks.constructEvent(delivery?.body ?? "", delivery?.signature ?? "", SECRET),
    ).not.toThrow();
  });

  it("produces the exact header format Stripe documents", () => {
    const header = signPayload('{"id":"evt_1"}', "whsec_x", 1700000000);
    const generated = Stripe.webhooks.generateTestHeaderString({
      payload: '{"id":"evt_1"}',
      secret: "whsec_x",
      timestamp: 1700000000,
    });
    expect(header).toBe(generated);
  });

  it("retries with backoff after non-2xx answers until one succeeds", async () => {
    const { hook, emulator, stripe } = await setup([500, 503]);
    await stripe.products.create({ name: "Retry me" });
    await emulator.flushWebhooks();
    const attempts = emulator.deliveries().filter((d) => d.event_type === "product.created");
    expect(attempts.map((d) => [d.attempt, d.status, d.status_code])).toEqual([
      [1, "retrying", 500],
      [2, "retrying", 503],
      [3, "succeeded", 200],
    ]);
    expect(hook.received).toHaveLength(3);
    const event = await stripe.events.retrieve(attempts[0]?.event_id ?? "");
    expect(event.pending_webhooks).toBe(0);
  });

  it("gives up after the bounded number of attempts", async () => {
    const { emulator, stripe } = await setup([500, 500, 500, 500, 500]);
    await stripe.products.create({ name: "Never delivered" });
    await emulator.flushWebhooks();
    const attempts = emulator.deliveries().filter((d) => d.event_type === "product.created");
    expect(attempts.map((d) => d.status)).toEqual(["retrying", "retrying", "retrying", "failed"]);
  });

  it("delivers in event order by default and honours enabled_events of API-created endpoints", async () => {
    const { hook, emulator, stripe } = await setup();
    const other = await receiver();
    cleanups.push(() => new Promise<void>((resolve) => other.server.close(() => resolve())));
    const endpoint = await stripe.webhookEndpoints.create({
      url: other.url,
      enabled_events: ["product.created"],
    });
    expect(endpoint.secret).toMatch(/^whsec_/);
    for (const name of ["a", "b", "c", "d"]) await stripe.products.create({ name });
    await stripe.customers.create({ email: "filtered@minutely.test" });
    await emulator.flushWebhooks();
    const names = events(hook.received)
      .filter((e) => e.type === "product.created")
      .map((e) => (e.data.object as Stripe.Product).name);
    expect(names).toEqual(["a", "b", "c", "d"]);
    const otherEvents = other.received.map((r) =>
      stripe.webhooks.constructEvent(r.body, r.signature, endpoint.secret ?? ""),
    );
    expect(otherEvents.map((e) => e.type)).toEqual([
      "product.created",
      "product.created",
      "product.created",
      "product.created",
    ]);
    const listed = await stripe.events.list({ type: "product.created", limit: 10 });
    expect(listed.data.map((e) => (e.data.object as Stripe.Product).name)).toEqual(["d", "c", "b", "a"]);
  });
});

describe("webhook chaos mode", () => {
  async function productOrder(seed: number): Promise<string[]> {
    const { hook, emulator, stripe } = await setup([], { chaos: { reorder: 6, seed } });
    emulator.webhooks.pause();
    for (const name of ["p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8"])
      await stripe.products.create({ name });
    emulator.webhooks.resume();
    await emulator.flushWebhooks();
    return events(hook.received).map((e) => (e.data.object as Stripe.Product).name);
  }

  it("reorders deliveries reproducibly for a seed", async () => {
    const first = await productOrder(42);
    const second = await productOrder(42);
    expect(first).toEqual(second);
    expect([...first].sort()).toEqual(["p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8"]);
    expect(first).not.toEqual(["p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8"]);
  });

  it("duplicates every delivery, each one validly signed", async () => {
    const { hook, emulator, stripe } = await setup([], { chaos: { duplicate: true, seed: 7 } });
    await stripe.products.create({ name: "twice" });
    await stripe.customers.create({ email: "twice@minutely.test" });
    await emulator.flushWebhooks();
    const counts = new Map<string, number>();
    for (const r of hook.received) {
      const event = stripe.webhooks.constructEvent(r.body, r.signature, SECRET);
      counts.set(event.id, (counts.get(event.id) ?? 0) + 1);
    }
    expect(counts.size).toBe(2);
    expect([...counts.values()]).toEqual([2, 2]);
    expect(emulator.deliveries().filter((d) => d.duplicate)).toHaveLength(2);
  });

  it("delays deliveries but still delivers everything", async () => {
    const { hook, emulator, stripe } = await setup([], {
      chaos: { delay: { minMs: 1, maxMs: 10 }, seed: 3 },
    });
    await stripe.products.create({ name: "slow" });
    await emulator.flushWebhooks();
    expect(events(hook.received).map((e) => e.type)).toEqual(["product.created"]);
    const [delivery] = emulator.deliveries();
    expect(delivery?.delay_ms).toBeGreaterThanOrEqual(1);
    expect(delivery?.delay_ms).toBeLessThanOrEqual(10);
  });

  it("can be switched on through the admin API", async () => {
    const { emulator } = await setup();
    const response = await fetch(`${emulator.url}/_emulator/chaos`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ duplicate: true, reorder: 3, seed: 1 }),
    });
    expect(await response.json()).toEqual({ duplicate: true, reorder: 3, seed: 1 });
  });

  it("uses a deterministic random sequence per seed", () => {
    const a = seededRandom(99);
    const b = seededRandom(99);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
  });
});
