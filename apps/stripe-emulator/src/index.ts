/**
 * @minutely/stripe-emulator — a Stripe-compatible emulator for development and tests. It is not Stripe.
 *
 * Point the official SDK at it:
 *   new Stripe("sk_test_anything", { host: "127.0.0.1", port: 12111, protocol: "http" })
 */

export { prorate, roundHalfAwayFromZero } from "./billing/proration.ts";
export { TEST_CARDS, type TestCard } from "./cards.ts";
export {
  DEFAULT_INVOICE_NOTICES,
  DEFAULT_PAYMENT_RETRIES,
  type InvoiceNoticeOptions,
  type PaymentRetryOptions,
  parseStripeApiBase,
  type RetrySchedule,
  type StripeConnection,
  type WebhookRetryOptions,
} from "./config.ts";
export type { FaultRuleInput } from "./http/faults.ts";
export { type ChaosOptions, type DeliveryRecord, signPayload } from "./http/webhooks.ts";
export {
  createStripeEmulator,
  type PreregisteredWebhook,
  type StripeEmulator,
  type StripeEmulatorInstance,
  type StripeEmulatorOptions,
  startStripeEmulator,
} from "./server.ts";
export { API_VERSION, EMULATOR_LABEL } from "./version.ts";
