// Customer subscription actions through Stripe (subscriptions.ts), the package selection page
// (package-selection.ts), the account's current subscription (account-subscription.ts) and Stripe
// webhooks, recorded once and processed from the queue (stripe-webhooks.ts). Depends on catalog, billing,
// accounts and metering.

export { currentSubscription } from "./account-subscription.ts";
export { packageSelection } from "./package-selection.ts";
export { pauseSubscription, resumePausedSubscription } from "./pause.ts";
export {
  processStripeEvent,
  receiveStripeWebhook,
  recordStripeEvents,
  replayStripeEvent,
  STRIPE_EVENT_MAX_ATTEMPTS,
  StripeWebhookInbox,
  type StripeWebhookInput,
  type VerifiedStripeEvent,
  verifyStripeWebhook,
} from "./stripe-webhooks.ts";
/** Every subscription action, as the package exports them to the REST routes (`subscriptions.subscribe`, …). */
export * as subscriptions from "./subscriptions.ts";
export {
  billingHistory,
  billingHistoryOf,
  cancel,
  cancelScheduledChange,
  completeCheckout,
  downgrade,
  INVOICE_ORDER,
  invoiceOf,
  previewUpgrade,
  resume,
  type SubscriptionOverview,
  startPaymentMethodUpdate,
  subscribe,
  subscriptionOverview,
  subscriptionOverviewOf,
  subscriptionOverviewWithDiscount,
  upgrade,
  withActionLock,
} from "./subscriptions.ts";
export { TAX_ID_TYPES, type TaxDetailsInput, updateTaxDetails } from "./tax-details.ts";
export { notifyTrialRefusedForCard } from "./trials.ts";
