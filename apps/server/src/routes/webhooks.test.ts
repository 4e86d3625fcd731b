// Stripe webhooks over HTTP: signature on the raw body, the dedupe table, the queue, and convergence:
// duplicated and shuffled delivery ends in the same state as in-order delivery.
import { processStripeEvent, syncCatalogToStripe } from "@minutely/api";
import { testPorts } from "@minutely/api/testing";
import { testDatabase } from "@minutely/db/vitest";
import { stripeEmulatorUrl, userWithAccount } from "@minutely/testing";
import type Stripe from "stripe";
import { afterAll, describe, expect, it } from "vitest";
import { buildTestServer, cookiesFrom, TEST_ORIGIN } from "../testing.ts";

const SECRET = "whsec_webhook_test_secret";
const { db } = await testDatabase();
const app = await buildTestServer(db, { STRIPE_WEBHOOK_SECRET: SECRET });
afterAll(() => app.close());
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl() });
const stripe = ports.stripe;
await syncCatalogToStripe(ports);

function signed(payload: string, secret = SECRET) {
  return stripe.webhooks.generateTestHeaderString({ payload, secret });
}

function post(payload: string, signature: string | undefined) {
  return app.inject({
    method: "POST",
    url: "/api/webhooks/stripe",
    headers: { "content-type": "application/json", ...(signature ? { "stripe-signature": signature } : {}) },
    payload,
  });
}

async function customerScenario(): Promise<{ customerId: string; events: Stripe.Event[] }> {
  const signUp = await app.inject({
    method: "POST",
    url: "/api/auth/sign-up/email",
    headers: { origin: TEST_ORIGIN },
    payload: { name: "Hook", email: "hook@example.com", password: "long-enough-1" },
  });
  const cookie = cookiesFrom(signUp.headers["set-cookie"]);
  const packages = await app.inject({
    method: "GET",
    url: "/api/subscriptions/user/packages/",
    headers: { cookie },
  });
  const starter = packages
    .json()
    .available_packages.find((p: { package_name: string }) => p.package_name === "Starter");
  const pro = packages
    .json()
    .available_packages.find((p: { package_name: string }) => p.package_name === "Pro");
  const act = (body: Record<string, unknown>) =>
    app.inject({
      method: "POST",
      url: "/api/subscriptions/user/actions/",
      headers: { cookie, origin: TEST_ORIGIN },
      payload: body,
    });
  expect(
    (await act({ action: "subscribe", package_id: starter.id, payment_method_id: "pm_card_visa" }))
      .statusCode,
  ).toBe(200);
  expect((await act({ action: "upgrade", package_id: pro.id })).statusCode).toBe(200);
  expect((await act({ action: "cancel" })).statusCode).toBe(200);
  const user = await userWithAccount(db, { email: "hook@example.com" });
  const customerId = user.account?.stripeCustomerId ?? "";
  const all = await stripe.events.list({ limit: 100 });
  const events = all.data.filter((e) => JSON.stringify(e.data.object).includes(customerId)).reverse();
  return { customerId, events };
}

async function state(customerId: string) {
  const account = await db.account.findUniqueOrThrow({ where: { stripeCustomerId: customerId } });
  const subs = await db.subscription.findMany({
    where: { accountId: account.id },
    orderBy: { stripeSubscriptionId: "asc" },
  });
  const invoices = await db.billingHistory.findMany({
    where: { accountId: account.id },
    orderBy: { stripeInvoiceId: "asc" },
  });
  return {
    subscriptions: subs.map(
      ({ id: _id, syncedAt: _s, syncTicket: _t, createdAt: _c, updatedAt: _u, ...rest }) => rest,
    ),
    invoices: invoices.map(
      ({ id: _id, createdAt: _c, updatedAt: _u, subscriptionId: _sid, ...rest }) => rest,
    ),
  };
}

async function deliver(events: Stripe.Event[]) {
  for (const event of events) {
    const payload = JSON.stringify(event);
    const response = await post(payload, signed(payload));
    expect(response.statusCode).toBe(200);
  }
  const received = await db.stripeEvent.findMany({ where: { status: { not: "processed" } } });
  for (const event of received) await processStripeEvent(ports, event.id);
}

describe("POST /api/webhooks/stripe", () => {
  it("refuses a missing or wrong signature and records nothing", async () => {
    const payload = JSON.stringify({
      id: "evt_forged",
      type: "customer.subscription.updated",
      created: 1,
      data: { object: {} },
    });
    expect((await post(payload, undefined)).statusCode).toBe(400);
    const forged = await post(payload, signed(payload, "whsec_someone_else"));
    expect(forged.statusCode).toBe(400);
    expect(forged.json().message).toMatch(/signature/i);
    const tampered = await post(payload.replace("updated", "deleted"), signed(payload));
    expect(tampered.statusCode).toBe(400);
    expect(await db.stripeEvent.count()).toBe(0);
  });

  it("checks the signature before reading the body: a forged body that is no event is refused for its signature", async () => {
    // Not UTF-8, not JSON, JSON that is no event: each with a wrong signature is refused naming the signature
    // (the body is never parsed for a sender who cannot sign); signed, each is refused naming what is wrong.
    const bodies = [
      { body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), error: "invalid_body" },
      { body: Buffer.from(`{"id": "evt_cut`), error: "invalid_json" },
      {
        body: Buffer.from(JSON.stringify({ id: "evt_no_type", created: 1, data: { object: {} } })),
        error: "validation_error",
      },
    ];
    for (const { body, error } of bodies) {
      const forged = await app.inject({
        method: "POST",
        url: "/api/webhooks/stripe",
        headers: {
          "content-type": "application/json",
          "stripe-signature": signed(body.toString("latin1"), "whsec_x"),
        },
        payload: body,
      });
      expect(forged.statusCode, forged.body).toBe(400);
      expect(Object.keys(forged.json().fields ?? {}), forged.body).toEqual(["stripe-signature"]);
      const genuine = await app.inject({
        method: "POST",
        url: "/api/webhooks/stripe",
        headers: { "content-type": "application/json", "stripe-signature": signed(body.toString("utf8")) },
        payload: body,
      });
      expect(genuine.statusCode, genuine.body).toBe(400);
      expect(genuine.json().error, genuine.body).toBe(error);
    }
    expect(await db.stripeEvent.count()).toBe(0);
  });

  it("refuses a signature whose timestamp is outside the tolerance, in the past or in the future", async () => {
    const payload = JSON.stringify({
      id: "evt_out_of_time",
      object: "event",
      type: "ping",
      created: 1_790_000_000,
      data: { object: {} },
    });
    const nowSeconds = Math.floor(Date.now() / 1000);
    const at = (timestamp: number) =>
      stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET, timestamp });
    // An hour either way is far outside Stripe's 5-minute tolerance, so the test does not depend on timing.
    const future = await post(payload, at(nowSeconds + 3600));
    expect(future.statusCode, future.body).toBe(400);
    expect(future.json().fields).toHaveProperty("stripe-signature");
    const past = await post(payload, at(nowSeconds - 3600));
    expect(past.statusCode, past.body).toBe(400);
    expect(await db.stripeEvent.count({ where: { id: "evt_out_of_time" } })).toBe(0);
    const jobs = await db.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM graphile_worker.jobs WHERE key = 'stripe-event:evt_out_of_time'`;
    expect(Number(jobs[0]?.n)).toBe(0);
    // Within the tolerance it is accepted.
    expect((await post(payload, at(nowSeconds + 60))).statusCode).toBe(200);
  });

  it("refuses a signed body with an unpaired surrogate escape (no text PostgreSQL stores) with a 400", async () => {
    const payload = JSON.stringify({
      id: "evt_surrogate",
      object: "event",
      type: "customer.updated",
      created: 1_790_000_000,
      data: { object: { id: "cus_x", object: "customer", name: "\ud800" } },
    });
    expect(payload).toContain("\\ud800");
    const response = await post(payload, signed(payload));
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().message).toMatch(/surrogate/);
    // A correct pair (an emoji written as escapes) is text and is recorded.
    const emoji = payload.replace("evt_surrogate", "evt_pair").replace("\\ud800", "\\ud83d\\ude42");
    expect((await post(emoji, signed(emoji))).statusCode).toBe(200);
    expect(await db.stripeEvent.count({ where: { id: { in: ["evt_surrogate", "evt_pair"] } } })).toBe(1);
  });

  it("records each event once and queues one job for it", async () => {
    const payload = JSON.stringify({
      id: "evt_once",
      object: "event",
      type: "ping",
      created: 1_790_000_000,
      data: { object: {} },
    });
    expect((await post(payload, signed(payload))).json()).toEqual({ received: true, duplicate: false });
    expect((await post(payload, signed(payload))).json()).toEqual({ received: true, duplicate: true });
    expect(await db.stripeEvent.count({ where: { id: "evt_once" } })).toBe(1);
    const jobs = await db.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM graphile_worker.jobs WHERE task_identifier = 'process-stripe-event' AND key = 'stripe-event:evt_once'`;
    expect(Number(jobs[0]?.n)).toBe(1);
    await processStripeEvent(ports, "evt_once");
    expect((await db.stripeEvent.findUniqueOrThrow({ where: { id: "evt_once" } })).status).toBe("processed");
  });

  it("answers concurrent deliveries each once recorded: one recorded, the redeliveries duplicates, one job each", async () => {
    const payloads = Array.from({ length: 20 }, (_, i) =>
      JSON.stringify({
        id: `evt_burst_${i}`,
        object: "event",
        type: "customer.updated",
        created: 1_790_000_000 + i,
        data: { object: { id: `cus_burst_${i % 4}`, object: "customer" } },
      }),
    );
    // Each event delivered twice, all at once (Stripe retries while the first delivery is in flight).
    const deliveries = [...payloads, ...[...payloads].reverse()];
    const answers = await Promise.all(deliveries.map((payload) => post(payload, signed(payload))));
    expect(answers.map((a) => a.statusCode)).toEqual(deliveries.map(() => 200));
    const byId = new Map<string, boolean[]>();
    answers.forEach((answer, i) => {
      const id = JSON.parse(deliveries[i] ?? "{}").id as string;
      byId.set(id, [...(byId.get(id) ?? []), answer.json().duplicate]);
    });
    for (const [, duplicates] of byId) expect(duplicates.sort()).toEqual([false, true]);
    expect(await db.stripeEvent.count({ where: { id: { startsWith: "evt_burst_" } } })).toBe(20);
    const jobs = await db.$queryRaw<{ key: string; queue_name: string | null }[]>`
      SELECT key, queue_name FROM graphile_worker.jobs
      WHERE task_identifier = 'process-stripe-event' AND key LIKE 'stripe-event:evt_burst_%'`;
    expect(jobs).toHaveLength(20);
    for (const job of jobs) {
      const n = Number(job.key.slice("stripe-event:evt_burst_".length));
      // One queue per Stripe customer: a customer's events are processed one at a time.
      expect(job.queue_name).toBe(`stripe-customer:cus_burst_${n % 4}`);
    }
  });

  it("processes invoice.upcoming without reading the preview invoice (Stripe has no such invoice)", async () => {
    const payload = JSON.stringify({
      id: "evt_upcoming",
      object: "event",
      type: "invoice.upcoming",
      created: 1_790_000_000,
      data: {
        object: { id: "upcoming_in_preview", object: "invoice", customer: "cus_nobody", parent: null },
      },
    });
    expect((await post(payload, signed(payload))).statusCode).toBe(200);
    await processStripeEvent(ports, "evt_upcoming");
    expect(await db.stripeEvent.findUniqueOrThrow({ where: { id: "evt_upcoming" } })).toMatchObject({
      status: "processed",
      gaveUp: false,
    });
  });

  it("converges: duplicated and shuffled delivery gives the same state as in-order delivery", async () => {
    const { customerId, events } = await customerScenario();
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining([
        "customer.subscription.created",
        "customer.subscription.updated",
        "invoice.paid",
      ]),
    );
    await deliver(events);
    const inOrder = await state(customerId);
    expect(inOrder.subscriptions[0]).toMatchObject({ cancelAtPeriodEnd: true, status: "active" });
    expect(inOrder.invoices.length).toBeGreaterThanOrEqual(2);

    // Forget what the webhooks and actions wrote, then deliver every event twice in a shuffled order.
    const account = await db.account.findUniqueOrThrow({ where: { stripeCustomerId: customerId } });
    await db.billingHistory.deleteMany({ where: { accountId: account.id } });
    await db.subscription.deleteMany({ where: { accountId: account.id } });
    await db.stripeEvent.deleteMany();
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const chaos = [...events, ...events].sort(() => random() - 0.5);
    await deliver(chaos);
    expect(await state(customerId)).toEqual(inOrder);
    expect(await db.stripeEvent.count()).toBe(events.length);
  });
});
