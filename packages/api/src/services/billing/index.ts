// Converging with Stripe: subscriptions and invoices re-read from Stripe into Minutely's tables
// (subscription-sync.ts), the guard against two live subscriptions (duplicate-subscriptions.ts), the
// currency an account is billed in (billing-currency.ts) and invoice lines (invoice-lines.ts). Depends on
// catalog, accounts and metering.
export {
  ADJUSTMENT_KINDS,
  type AdjustmentInput,
  type AdjustmentKind,
  type AdjustmentView,
  adjustAccount,
  adjustmentsOf,
  creditsOf,
  MAX_ADJUSTMENT_REASON_LENGTH,
  MAX_BALANCE_CREDIT_CENTS,
  reconcileBalanceCredits,
  reconcileCreditNoteInvoice,
  reconcileInvoice,
  reconcilePaymentRefunds,
  sweepStaleAdjustmentClaims,
} from "./adjustments.ts";
export {
  accountBillingCurrency,
  assertBillableIn,
  assertRequestedCurrency,
  authoritativeBillingCurrency,
  availabilityFor,
  fromCurrencyConflict,
  purchaseCurrency,
} from "./billing-currency.ts";
export { duplicateSubscriptionsOf, resolveDuplicateSubscriptions } from "./duplicate-subscriptions.ts";
export { invoiceLinesOf } from "./invoice-lines.ts";
export {
  resyncStaleSubscriptions,
  stripeNowFor,
  syncInvoice,
  syncRecentInvoices,
  syncSubscription,
} from "./subscription-sync.ts";
export {
  ADDRESS_FIRST,
  accountHasTaxLocation,
  fromTaxLocationRequired,
  reverseChargeFor,
  type TaxDetailsView,
  taxDetailsOf,
  taxDetailsViewOf,
} from "./tax.ts";
