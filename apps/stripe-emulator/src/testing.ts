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
