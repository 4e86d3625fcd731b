import type { Database } from "@minutely/db";
import { type FixedClock, fixedClock } from "@minutely/domain";
import type { Ports } from "./context.ts";
import { OutboxMailer } from "./ports/mailer.ts";
import { PostgresJobQueue } from "./ports/queue.ts";
import { createStripeClient } from "./stripe/client.ts";
import { StripeBillingProvider } from "./stripe/provider.ts";

export interface TestPortsOptions {
  /** The Stripe emulator's URL (inject("minutelyStripeEmulatorUrl") under @minutely/testing/global-setup). */
  stripeApiBase: string;
  clock?: FixedClock;
  appUrl?: string;
  publicUrl?: string;
  /**
   * The SDK's per-request timeout. Fault tests that make Stripe hang set it low, so the SDK's three
   * attempts end in seconds; unset keeps the production default.
   */
  stripeTimeoutMs?: number;
}

/** Real implementations of every port on a test database and the Stripe emulator, with a controlled clock. */
export function testPorts(db: Database, options: TestPortsOptions) {
  const clock = options.clock ?? fixedClock(new Date("2026-11-27T12:00:00Z"));
  const stripe = createStripeClient({
    secretKey: "sk_test_minutely_tests",
    apiBase: options.stripeApiBase,
    ...(options.stripeTimeoutMs === undefined ? {} : { timeoutMs: options.stripeTimeoutMs }),
  });
  return {
    settings: {
      appUrl: options.appUrl ?? "http://localhost:3000",
      publicUrl: options.publicUrl ?? "http://localhost:3000",
      useTestClocks: true,
      stripeEmulator: true,
      secret: "minutely-test-server-secret-not-for-production",
    },
    db,
    clock,
    queue: new PostgresJobQueue(db),
    mailer: new OutboxMailer(db, clock),
    billing: new StripeBillingProvider(stripe),
    stripe,
  } satisfies Ports & Record<string, unknown>;
}

/**
 * Moves the Stripe test clock of the account's newest subscription to `to` and waits until Stripe has worked
 * through it (renewals, trial ends, invoices): the subscription row, for the caller's own syncs.
 */
export async function advanceSubscriptionClock(ports: Ports, accountId: string, to: Date) {
  const sub = await ports.db.subscription.findFirstOrThrow({
    where: { accountId },
    orderBy: { createdAt: "desc" },
  });
  await ports.billing.advanceTestClock(sub.stripeTestClockId ?? "", to);
  for (let i = 0; i < 100; i++) {
    if ((await ports.billing.retrieveTestClock(sub.stripeTestClockId ?? "")).status === "ready") break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return sub;
}
