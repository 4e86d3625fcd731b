/**
 * The Stripe API version this emulator speaks. It must equal the version pinned by the installed
 * `stripe` SDK (`Stripe.API_VERSION`); `version.test.ts` fails when they drift apart.
 */
export const API_VERSION = "2026-10-28.endive";

/** The label shown everywhere the emulator is visible to a person. */
export const EMULATOR_LABEL = "Stripe emulator — test mode, not Stripe";

export const EMULATOR_DESCRIPTION =
  "Minutely Stripe emulator: a Stripe-compatible emulator for development and tests. It is NOT Stripe; no real money moves.";
