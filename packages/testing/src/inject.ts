import { inject } from "vitest";
import type {} from "./global-setup.ts";

/** The Stripe emulator started by @minutely/testing/global-setup. */
export function stripeEmulatorUrl(): string {
  return inject("minutelyStripeEmulatorUrl");
}
