// Webhook acknowledgements with group commit: deliveries recorded together are answered each as if alone,
// and one event the database refuses fails only its own delivery.
import { testDatabase } from "@minutely/db/vitest";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { testPorts } from "../../testing.ts";
import { recordStripeEvents, StripeWebhookInbox, verifyStripeWebhook } from "./stripe-webhooks.ts";

const { db } = await testDatabase();
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl() });
const secret = "whsec_inbox_test";

function delivery(id: string, object: Record<string, unknown> = { id: "cus_inbox", object: "customer" }) {
  const payload = JSON.stringify({
    id,
    object: "event",
    type: "customer.updated",
    created: 1_790_000_000,
    data: { object },
  });
  return {
    rawBody: Buffer.from(payload),
    signature: ports.stripe.webhooks.generateTestHeaderString({ payload, secret }),
    secret,
  };
}

async function jobsOf(prefix: string) {
  return await db.$queryRaw<{ key: string; queue_name: string | null; max_attempts: number }[]>`
    SELECT key, queue_name, max_attempts FROM graphile_worker.jobs
    WHERE task_identifier = 'process-stripe-event' AND key LIKE ${`stripe-event:${prefix}%`}
    ORDER BY key`;
}

describe("recordStripeEvents", () => {
  it("records each event of a batch once, a repeat in the batch or a redelivery recording nothing", async () => {
    const a = verifyStripeWebhook(ports, delivery("evt_batch_a"));
    const b = verifyStripeWebhook(
      ports,
      delivery("evt_batch_b", { id: "in_1", object: "invoice", customer: "cus_b" }),
    );
    expect(await recordStripeEvents(ports, [a, b, a])).toEqual([true, true, false]);
    // Only redeliveries: nothing inserted, nothing queued.
    expect(await recordStripeEvents(ports, [b, a])).toEqual([false, false]);
    expect(await recordStripeEvents(ports, [b, verifyStripeWebhook(ports, delivery("evt_batch_c"))])).toEqual(
      [false, true],
    );
    expect(await jobsOf("evt_batch_")).toEqual([
      {
        key: "stripe-event:evt_batch_a",
        queue_name: "stripe-customer:cus_inbox",
        max_attempts: expect.any(Number),
      },
      {
        key: "stripe-event:evt_batch_b",
        queue_name: "stripe-customer:cus_b",
        max_attempts: expect.any(Number),
      },
      {
        key: "stripe-event:evt_batch_c",
        queue_name: "stripe-customer:cus_inbox",
        max_attempts: expect.any(Number),
      },
    ]);
    const [job] = await jobsOf("evt_batch_a");
    const { STRIPE_EVENT_MAX_ATTEMPTS } = await import("./stripe-webhooks.ts");
    expect(job?.max_attempts).toBe(STRIPE_EVENT_MAX_ATTEMPTS);
    const payloads = await db.$queryRaw<{ payload: unknown }[]>`
      SELECT payload FROM graphile_worker._private_jobs WHERE key = 'stripe-event:evt_batch_b'`;
    expect(payloads[0]?.payload).toEqual({ eventId: "evt_batch_b" });
  });
});

describe("verifyStripeWebhook", () => {
  it("refuses a customer id its job queue's name cannot hold (graphile-worker: 128 characters) as a bad request", () => {
    const longest = "c".repeat(128 - "stripe-customer:".length);
    expect(
      verifyStripeWebhook(ports, delivery("evt_q", { id: "in_q", object: "invoice", customer: longest }))
        .queueName,
    ).toBe(`stripe-customer:${longest}`);
    expect(() =>
      verifyStripeWebhook(
        ports,
        delivery("evt_q", { id: "in_q", object: "invoice", customer: `${longest}c` }),
      ),
    ).toThrow(expect.objectContaining({ code: "BAD_REQUEST", field: "data.object.customer" }));
    // A customer event names the customer by its own id.
    expect(() =>
      verifyStripeWebhook(ports, delivery("evt_q", { id: `${longest}c`, object: "customer" })),
    ).toThrow(expect.objectContaining({ code: "BAD_REQUEST", field: "data.object.id" }));
  });
});

describe("StripeWebhookInbox", () => {
  it("fails only the delivery the database refuses when it was grouped with others, and records the others", async () => {
    const inbox = new StripeWebhookInbox(ports, { slots: 1 });
    // A NUL character is valid JSON for the signature check but no text PostgreSQL's jsonb stores (the route
    // refuses such a body before; the inbox must not let it fail the deliveries grouped with it).
    const poison = delivery("evt_group_poison", { id: "cus_inbox", object: "customer", name: "a\u0000b" });
    const first = inbox.receive(delivery("evt_group_0"));
    const grouped = [
      inbox.receive(delivery("evt_group_1")),
      inbox.receive(poison),
      inbox.receive(delivery("evt_group_2")),
      inbox.receive(delivery("evt_group_1")),
    ];
    expect(await first).toEqual({ id: "evt_group_0", duplicate: false });
    const settled = await Promise.allSettled(grouped);
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled"]);
    // Refused by the database (the signature was good), after the group it came in failed.
    expect(String((settled[1] as PromiseRejectedResult).reason)).toMatch(/unicode escape/i);
    expect(settled.map((s) => (s.status === "fulfilled" ? s.value.duplicate : null))).toEqual([
      false,
      null,
      false,
      true,
    ]);
    const recorded = await db.stripeEvent.findMany({
      where: { id: { startsWith: "evt_group_" } },
      orderBy: { id: "asc" },
      select: { id: true },
    });
    expect(recorded.map((r) => r.id)).toEqual(["evt_group_0", "evt_group_1", "evt_group_2"]);
    expect((await jobsOf("evt_group_")).map((j) => j.key)).toEqual([
      "stripe-event:evt_group_0",
      "stripe-event:evt_group_1",
      "stripe-event:evt_group_2",
    ]);
  });
});
