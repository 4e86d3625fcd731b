// Test set-up shared by the hot-path tests (round-trips.test.ts, shard-routing.test.ts): the real services
// on a real database, with a second client whose every statement is captured, and signed Stripe webhooks.
import { createPrismaClient, type Database } from "@minutely/db";
import type { Clock, FixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { afterAll } from "vitest";
import { PostgresJobQueue } from "./ports/queue.ts";
import { testPorts } from "./testing.ts";

/**
 * Ports on `db`, and the same ports on a client of `url` that records each statement it sends;
 * `statementsOf(run)` gives the statements `run` sent through the capturing client.
 */
export function capturingPorts(db: Database, url: string, clock: FixedClock) {
  const statements: string[] = [];
  const captured = createPrismaClient(url, { poolSize: 2, onStatement: (sql) => statements.push(sql) });
  afterAll(async () => {
    await captured.$disconnect();
  });
  const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
  const capturedPorts = { ...ports, db: captured, queue: new PostgresJobQueue(captured) };
  async function statementsOf(run: () => Promise<unknown>): Promise<string[]> {
    statements.length = 0;
    await run();
    return [...statements];
  }
  return { ports, capturedPorts, statementsOf };
}

/** A `customer.subscription.updated` webhook signed with `secret`, as receiveStripeWebhook takes it. */
export function signedSubscriptionWebhook(
  ports: ReturnType<typeof testPorts>,
  clock: Clock,
  { eventId, secret }: { eventId: string; secret: string },
) {
  const payload = JSON.stringify({
    id: eventId,
    object: "event",
    type: "customer.subscription.updated",
    created: Math.floor(clock.now().getTime() / 1000),
    data: { object: { id: `sub_${eventId}`, object: "subscription" } },
  });
  const signature = ports.stripe.webhooks.generateTestHeaderString({ payload, secret });
  return { rawBody: Buffer.from(payload), signature, secret };
}
