/**
 * The Stripe API version this emulator speaks. It must equal the version pinned by the installed
 * `stripe` SDK (`Stripe.API_VERSION`); `version.test.ts` fails when they drift apart.
 */
export const API_VERSION = "2026-10-28.endive";

/** The label shown everywhere the emulator is visible to a person. */
export const EMULATOR_LABEL = "Stripe emulator — test mode, not Stripe";

export const EMULATOR_DESCRIPTION =
  "Minutely Stripe emulator: a Stripe-compatible emulator for development and tests. It is NOT Stripe; no real money moves.";

/**
 * The versions a request may ask for in its `Stripe-Version` header. The emulator renders one shape only,
 * so it honours exactly the SDK's pinned version; any other is refused (Stripe would answer in that
 * version's shapes, which the emulator cannot).
 */
export const SUPPORTED_API_VERSIONS: readonly string[] = [API_VERSION];

/** Stripe's version names: a date, and since 2024 a release name (`2026-10-28.endive`). */
export const API_VERSION_FORMAT = /^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/;
