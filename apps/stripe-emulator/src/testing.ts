import Stripe from "stripe";
import { type StripeEmulator, type StripeEmulatorOptions, startStripeEmulator } from "./server.ts";

/** Starts an emulator on a random port plus an SDK client pointed at it. Close it in `afterAll`. */
export async function startTestEmulator(
  options: StripeEmulatorOptions = {},
): Promise<{ emulator: StripeEmulator; stripe: Stripe }> {
  const emulator = await startStripeEmulator({ port: 0, tickIntervalMs: 0, ...options });
  const stripe = new Stripe("sk_test_emulator", {
    host: "127.0.0.1",
    port: emulator.port,
    protocol: "http",
    maxNetworkRetries: 0,
  });
  return { emulator, stripe };
}

/** Polls a test clock until it is `ready` (immediate on the emulator; Stripe advances asynchronously). */
export async function waitForClockReady(
  stripe: Stripe,
  clockId: string,
  pollMs = 0,
  maxPolls = 120,
): Promise<Stripe.TestHelpers.TestClock> {
  for (let i = 0; i < maxPolls; i += 1) {
    const clock = await stripe.testHelpers.testClocks.retrieve(clockId);
    if (clock.status === "ready") return clock;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  throw new Error(`test clock ${clockId} did not become ready`);
}

/**
 * Money invariants every finalized invoice keeps: `amount_due` is the total less the customer balance it
 * used (and less pre-payment credit notes), a paid invoice paid exactly that, and its PaymentIntent asks for
 * it. Returns one message per broken invoice (empty = all good), for `expect(...).toEqual([])`.
 */
export async function invoiceInvariantViolations(stripe: Stripe): Promise<string[]> {
  const problems: string[] = [];
  for await (const inv of stripe.invoices.list({ limit: 100, expand: ["data.payments"] })) {
    if (inv.status === "draft") continue;
    const applied = inv.starting_balance - (inv.ending_balance ?? 0);
    const expected = inv.total + applied - inv.pre_payment_credit_notes_amount;
    if (inv.amount_due !== expected) {
      problems.push(
        `${inv.id}: amount_due ${inv.amount_due} ≠ total ${inv.total} + applied balance ${applied} − pre-payment credit ${inv.pre_payment_credit_notes_amount}`,
      );
    }
    if (inv.status === "paid" && inv.amount_paid !== inv.amount_due && inv.amount_paid !== 0) {
      problems.push(`${inv.id}: paid ${inv.amount_paid} ≠ amount_due ${inv.amount_due}`);
    }
    for (const payment of inv.payments?.data ?? []) {
      const piId = payment.payment.payment_intent;
      if (!piId) continue;
      const pi = await stripe.paymentIntents.retrieve(typeof piId === "string" ? piId : piId.id);
      if (pi.amount !== inv.amount_due) {
        problems.push(`${inv.id}: PaymentIntent ${pi.id} amount ${pi.amount} ≠ amount_due ${inv.amount_due}`);
      }
    }
  }
  return problems;
}
