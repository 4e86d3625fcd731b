import type { Currency } from "@minutely/domain";

/** Subscription metadata: when Minutely's pause takes effect (the end of the period paid when it was set). */
export const PAUSE_STARTS_AT_KEY = "minutely_pause_starts_at";

/** A subscription as Stripe describes it, reduced to what Minutely mirrors. */
export interface ProviderSubscription {
  id: string;
  customerId: string;
  /** Stripe's status string, mapped exhaustively (failing closed) by packages/domain. */
  status: string;
  /** When Stripe created it: the first of two live subscriptions of an account is the one kept. */
  created: Date;
  itemId: string;
  priceId: string;
  /** The currency it bills in (Stripe's `currency`, lower case): its price's. */
  currency: string;
  currentPeriodStart: Date;
  currentPeriodEnd: Date;
  cancelAtPeriodEnd: boolean;
  /** Stripe's `pause_collection`: while set, the subscription's invoices are handled by `behavior` (no charge). */
  pauseCollection: { behavior: string; resumesAt: Date | null } | null;
  canceledAt: Date | null;
  endedAt: Date | null;
  /** Stripe's `trial_start` / `trial_end` (null: the subscription never had a trial). */
  trialStart: Date | null;
  trialEnd: Date | null;
  /** The subscription's `default_payment_method` (its card), when it has one. */
  defaultPaymentMethodId: string | null;
  scheduleId: string | null;
  testClockId: string | null;
  latestInvoiceId: string | null;
  metadata: Record<string, string>;
  /** Whether Stripe Tax computes the tax of its invoices (`automatic_tax.enabled`). */
  automaticTax: boolean;
  /**
   * The subscription's discount (Minutely puts one at most), read by `retrieveSubscription`; undefined where
   * Stripe answered without it expanded (the answers of writes), so a sync never takes it for "none".
   */
  discount?: ProviderDiscount | null;
}

/** A coupon redeemed onto a subscription (Stripe's `discount`). */
export interface ProviderDiscount {
  id: string;
  couponId: string;
  promotionCodeId: string | null;
  /** When a repeating discount ends; null for `forever` and `once` (which ends with its first invoice). */
  end: Date | null;
}

/** A coupon as Minutely creates it at Stripe (packages/domain `discounts.ts` checked it first). */
export interface ProviderCouponInput {
  /** Minutely's coupon id, in the metadata. */
  couponId: string;
  name: string;
  off: { percentOff: number } | { amountOffCents: number; currency: Currency };
  duration: "once" | "repeating" | "forever";
  durationInMonths: number | null;
  redeemBy: Date | null;
  maxRedemptions: number | null;
  /** Stripe products it applies to; empty: all. */
  productIds: string[];
  idempotencyKey: string;
}

/** A Stripe test clock (the emulator, or Stripe test mode): the time a customer's billing lives in. */
export interface ProviderTestClock {
  id: string;
  frozenTime: Date;
  status: string;
}

/** A scheduled change read from a subscription schedule: the next phase's price and when it starts. */
export interface ProviderScheduledChange {
  scheduleId: string;
  priceId: string;
  startsAt: Date;
}

/** One line of an invoice as Stripe itemizes it: a month of a plan, a proration, overage minutes. */
export interface ProviderInvoiceLine {
  id: string;
  description: string | null;
  /** Minor units; negative for a credit (unused time of the previous plan). */
  amount: number;
  currency: string;
  periodStart: Date | null;
  periodEnd: Date | null;
  proration: boolean;
  /** What discounts took off this line (minor units, 0 or positive). */
  discountCents: number;
}

export interface ProviderInvoice {
  id: string;
  customerId: string;
  subscriptionId: string | null;
  number: string | null;
  status: string;
  billingReason: string | null;
  currency: string;
  subtotal: number;
  total: number;
  amountDue: number;
  amountPaid: number;
  /** What discounts took off the invoice (minor units, 0 or positive). */
  totalDiscount: number;
  /** Tax added on top of the lines (Stripe Tax, exclusive: prices are exclusive of tax; minor units). */
  tax: number;
  hostedInvoiceUrl: string | null;
  invoicePdf: string | null;
  periodStart: Date | null;
  periodEnd: Date | null;
  created: Date;
  paidAt: Date | null;
  /** The PaymentIntent that paid it (its refunds are the invoice's), when Stripe names one. */
  paymentIntentId: string | null;
  /** Every line, in Stripe's order (all pages of them). */
  lines: ProviderInvoiceLine[];
}

export interface ProrationPreview {
  /** Credit for the unused time on the current price (negative). */
  creditCents: number;
  /** Charge for the rest of the period on the new price. */
  chargeCents: number;
  /** Tax on what is due now (exclusive, Stripe Tax); included in totalDueNowCents. */
  taxCents: number;
  /** What the customer pays now, tax included. */
  totalDueNowCents: number;
  /** Overage of the current period reported before the upgrade and withdrawn by it (0 or positive). */
  withdrawnOverageCents: number;
  currency: string;
  prorationDate: Date;
}

/**
 * The provider has no such object (Stripe's 404 `resource_missing`): a permanent answer, so whatever needed
 * the object (a webhook about it, say) fails for good instead of being retried.
 */
export class ProviderResourceMissingError extends Error {
  override name = "ProviderResourceMissingError";
}

/**
 * An idempotency key was sent again with other parameters (Stripe's `idempotency_error`): a caller reused its
 * request key for another request. Nothing was done; the caller's fault, said as such (never a 500).
 */
export class IdempotencyKeyReusedError extends Error {
  override name = "IdempotencyKeyReusedError";
}

/** A refund made (or found already made) at the provider, in minor units. */
export interface ProviderRefund {
  id: string;
  paymentIntentId: string;
  amountCents: number;
  currency: string;
}

/** Metadata naming Minutely's invoice_adjustment row on what an admin made at Stripe. */
export const ADJUSTMENT_ID_KEY = "minutely_adjustment_id";

/**
 * Money given back as Stripe has it: a refund of a payment, the part of a credit note that is not a refund
 * (to the customer's balance, off what was due, or outside Stripe), or a credit to the customer's balance.
 */
export interface ProviderAdjustment {
  kind: "refund" | "credit_note" | "balance_credit";
  /** re_..., cn_... or cbtxn_... */
  id: string;
  amountCents: number;
  currency: string;
  /** Stripe's reason or memo, when it has one. */
  reason: string | null;
  /** Minutely's invoice_adjustment id, when Minutely made it (metadata `minutely_adjustment_id`). */
  adjustmentId: string | null;
  created: Date;
  /**
   * Set when Stripe took it back: a credit note voided, a refund that failed or was canceled. It gives
   * nothing back (listInvoiceAdjustments lists these too, so that what was recorded can be undone).
   */
  undone?: "void" | "failed" | "canceled";
}

/**
 * Stripe refused money to be given back because of what the request asked (more than is left, an invoice
 * that cannot take a credit note): the caller's fault, a 400 naming `field`, nothing given back.
 */
export class AdjustmentRefusedError extends Error {
  override name = "AdjustmentRefusedError";
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

/** Raised for a card that was declined or needs authentication: a clear message, nothing half-made. */
export class PaymentDeclinedError extends Error {
  override name = "PaymentDeclinedError";
  constructor(
    message: string,
    readonly reason: "declined" | "authentication_required",
  ) {
    super(message);
  }
}

/**
 * The provider refused to put a price in one currency on a customer already billed in another (Stripe:
 * "You cannot combine currencies on a single customer"). A customer's currency is fixed by its first
 * subscription or invoice item and never changes. Raised when Minutely's own check did not see it coming
 * (a race, stale data); nothing was created or charged.
 */
export class BillingCurrencyConflictError extends Error {
  override name = "BillingCurrencyConflictError";
  constructor(
    message: string,
    /** The customer's currency as the provider named it (lower case), when it did. */
    readonly customerCurrency: string | null,
  ) {
    super(message);
  }
}

/**
 * Stripe Tax cannot compute tax without the customer's location (Stripe's `customer_tax_location_invalid`):
 * the billing address is missing (or, in the US and Canada, its state). Nothing was created or charged.
 */
export class TaxLocationRequiredError extends Error {
  override name = "TaxLocationRequiredError";
}

/** Stripe refused a tax ID's value (`tax_id_invalid`): the caller's, naming the value. */
export class TaxIdRefusedError extends Error {
  override name = "TaxIdRefusedError";
}

/** The customer's billing address as Stripe holds it (Stripe is the system of record). */
export interface ProviderAddress {
  country: string;
  line1: string | null;
  line2: string | null;
  city: string | null;
  state: string | null;
  postalCode: string | null;
}

export interface ProviderTaxId {
  id: string;
  type: string;
  value: string;
  /** Stripe's verification: verified, unverified, pending or unavailable (types Stripe does not verify). */
  verification: string;
}

export interface ProviderTaxDetails {
  address: ProviderAddress | null;
  taxIds: ProviderTaxId[];
  /** Stripe's `tax_exempt`: none, exempt or reverse (reverse charge). */
  taxExempt: string;
}

/**
 * The provider refused a discount being redeemed (a promotion code or coupon used up, expired, archived or
 * not applicable by the time it got there): Minutely's own check saw it redeemable moments before (a race:
 * another customer took the last use, an admin archived it). Nothing was created or charged.
 */
export class DiscountRefusedError extends Error {
  override name = "DiscountRefusedError";
}

/**
 * The payment provider, as Minutely's services need it. Stripe is the system of record for payments and
 * invoices; the implementation talks to Stripe (or the emulator) through the official SDK. Every write
 * carries an idempotency key so a retried call never creates or charges twice.
 */
export interface BillingProvider {
  /** Creates the product for a package, or returns it when the idempotency key was used before. */
  createProduct(input: {
    name: string;
    description: string;
    planId: string;
    idempotencyKey: string;
  }): Promise<{
    productId: string;
  }>;
  updateProduct(
    productId: string,
    input: { name: string; description: string; active: boolean },
  ): Promise<void>;
  /** A monthly recurring price; prices are immutable, so a price change is a new price. */
  createMonthlyPrice(input: {
    productId: string;
    amountCents: number;
    currency: Currency;
    planId: string;
    idempotencyKey: string;
  }): Promise<{ priceId: string }>;
  /**
   * A minute pack's product with its one-time price (integer minor units), or those made before with the
   * same idempotency key. Prices are immutable: a pack's price is fixed once defined.
   */
  createMinutePackPrice(input: {
    packId: string;
    name: string;
    description: string;
    amountCents: number;
    currency: Currency;
    idempotencyKey: string;
  }): Promise<{ productId: string; priceId: string }>;
  /** Archives a pack's price and product: no new purchase; payments made stay. */
  archiveMinutePackPrice(productId: string, priceId: string): Promise<void>;
  /** Hosted Checkout in payment mode for one pack (quantity 1); the metadata names the pack and account. */
  createPackCheckout(input: {
    customerId: string;
    priceId: string;
    successUrl: string;
    cancelUrl: string;
    metadata: Record<string, string>;
    idempotencyKey: string;
  }): Promise<{ sessionId: string; url: string }>;
  /** A payment-mode Checkout session as Stripe has it now (never trusting a webhook's copy). */
  retrievePaymentCheckout(sessionId: string): Promise<{
    customerId: string | null;
    mode: string;
    status: string;
    paymentStatus: string;
    metadata: Record<string, string>;
    amountTotal: number | null;
    currency: string | null;
    /** The PaymentIntent that took the money (null until paid). */
    paymentIntentId: string | null;
  }>;
  /**
   * Gives back in full a pack payment whose pack could not be granted (the account was deleted while it
   * was being paid). One refund per payment whatever the retries: the key is the payment's, and a payment
   * already refunded in full is not an error.
   */
  refundUngrantedPayment(paymentIntentId: string): Promise<void>;
  /**
   * Charges the customer's saved default card off-session (a PaymentIntent confirmed at once). A decline or
   * an authentication request (3-D Secure) is an answer, not an error: `requires_action` carries the id
   * the customer can complete; nothing is retried here.
   */
  chargeSavedCard(input: {
    customerId: string;
    /** Before tax: with `priceId` (the one-time price charged), Stripe Tax's tax on it is added. */
    amountCents: number;
    priceId?: string;
    currency: Currency;
    description: string;
    metadata: Record<string, string>;
    idempotencyKey: string;
  }): Promise<
    | { status: "succeeded"; paymentIntentId: string }
    | { status: "requires_action" | "declined"; paymentIntentId: string | null; message: string }
  >;
  /** A PaymentIntent as Stripe has it now. */
  retrievePaymentIntent(paymentIntentId: string): Promise<{
    status: string;
    customerId: string | null;
    amountCents: number;
    currency: string;
    metadata: Record<string, string>;
  }>;
  /** The customer's overage items of one period (by their metadata) not on an invoice yet. */
  listPendingOverageItems(
    customerId: string,
    period: { accountId: string; periodStart: Date },
  ): Promise<{ invoiceItemId: string; amountCents: number }[]>;
  /** Deletes an invoice item that is not on an invoice yet (deleting one already gone is not an error). */
  deleteInvoiceItem(invoiceItemId: string): Promise<void>;
  /**
   * Adds an item (overage minutes, say) to the customer's next invoice of that subscription. Not discountable:
   * coupons discount the package price only, never overage.
   */
  addInvoiceItem(input: {
    customerId: string;
    subscriptionId: string;
    amountCents: number;
    currency: Currency;
    description: string;
    metadata: Record<string, string>;
    idempotencyKey: string;
  }): Promise<{ invoiceItemId: string }>;

  createCustomer(input: {
    accountId: string;
    email: string;
    name: string;
    /** Attach a test clock (emulator or Stripe test mode) so time can be advanced for this customer. */
    withTestClock: Date | null;
    idempotencyKey: string;
  }): Promise<{ customerId: string }>;
  /** Sets the customer's name and email (Stripe mails invoices and receipts to the email). */
  updateCustomer(
    customerId: string,
    input: { name: string; email: string },
    idempotencyKey: string,
  ): Promise<void>;
  /** The customer's billing address, tax IDs and tax exemption, as Stripe has them. */
  retrieveTaxDetails(customerId: string): Promise<ProviderTaxDetails>;
  /** Sets the customer's billing address (Stripe Tax computes tax from it). */
  setCustomerAddress(customerId: string, address: ProviderAddress, idempotencyKey: string): Promise<void>;
  /**
   * Makes the customer's tax IDs exactly `taxId` (or none): others are deleted, a missing one is created
   * (TaxIdRefusedError when Stripe refuses its value). Returns the details as Stripe has them after.
   */
  replaceTaxId(
    customerId: string,
    taxId: { type: string; value: string } | null,
    idempotencyKey: string,
  ): Promise<ProviderTaxDetails>;
  /** Turns Stripe Tax on for a subscription's next invoices (the customer must have an address). */
  enableAutomaticTax(subscriptionId: string, idempotencyKey: string): Promise<void>;
  /** Stripe's `tax_exempt`: `reverse` for a reverse-charged customer, else `none`. */
  setTaxExempt(customerId: string, taxExempt: "none" | "reverse", idempotencyKey: string): Promise<void>;
  /**
   * Removes the customer's personal data at Stripe (account deletion, docs/accounts.md): name, email, phone,
   * address and description cleared (Minutely never sets a shipping address), the metadata marked deleted, every saved payment method
   * detached, and its Checkout pages still open expired (completed later, one would bill the deleted account).
   * The customer itself stays: its invoices, credit notes and payments are kept for the tax law.
   * Idempotent: a scrubbed customer is scrubbed again to the same state.
   */
  scrubCustomer(customerId: string, idempotencyKey: string): Promise<void>;
  /**
   * The customer's currency (Stripe's `customer.currency`, lower case): fixed by its first subscription or
   * invoice item, null before. Every later subscription, price change and invoice item must be in it.
   */
  retrieveCustomerCurrency(customerId: string): Promise<string | null>;
  /** Creates the coupon (or returns it when the idempotency key was used before). */
  createCoupon(input: ProviderCouponInput): Promise<{ stripeCouponId: string }>;
  /**
   * Archives a coupon: Stripe deletes it, which stops new redemptions and leaves the discounts already
   * redeemed running. Deleting one already gone is not an error.
   */
  deleteCoupon(stripeCouponId: string): Promise<void>;
  createPromotionCode(input: {
    stripeCouponId: string;
    /** Minutely's promotion code id, in the metadata. */
    promotionCodeId: string;
    code: string;
    expiresAt: Date | null;
    maxRedemptions: number | null;
    idempotencyKey: string;
  }): Promise<{ stripePromotionCodeId: string }>;
  setPromotionCodeActive(stripePromotionCodeId: string, active: boolean): Promise<void>;
  /** How often Stripe says the code and its coupon were redeemed. */
  retrieveRedemptions(stripePromotionCodeId: string): Promise<{ code: number; coupon: number }>;
  /** How often Stripe says the coupon was redeemed. */
  retrieveCouponRedemptions(stripeCouponId: string): Promise<number>;
  /** Puts the coupon on the subscription, replacing any discount it had (no proration). */
  applyCouponToSubscription(
    subscriptionId: string,
    stripeCouponId: string,
    idempotencyKey: string,
  ): Promise<ProviderSubscription>;
  /**
   * Hosted Checkout for a new subscription; returns the page to send the customer to. With a promotion code
   * the page opens with it applied; without one, the page lets the customer type one.
   */
  createSubscriptionCheckout(input: {
    customerId: string;
    priceId: string;
    stripePromotionCodeId?: string | null;
    /** A free trial of this many days (Checkout asks for the card, charges nothing now), or none. */
    trialDays?: number | null;
    successUrl: string;
    cancelUrl: string;
    metadata: Record<string, string>;
    idempotencyKey: string;
  }): Promise<{ sessionId: string; url: string }>;
  /** Hosted Checkout in setup mode: the customer saves a new card (to fix a failed payment). */
  createSetupCheckout(input: {
    customerId: string;
    subscriptionId: string | null;
    /** The customer's billing currency (the subscription's): the page offers the ways to pay in it. */
    currency: string;
    successUrl: string;
    cancelUrl: string;
    idempotencyKey: string;
  }): Promise<{ sessionId: string; url: string }>;
  /**
   * Expires the customer's other open Checkout sessions for a subscription, so only the newest can be paid.
   * A session that stopped being open meanwhile (paid, expired) is skipped. With `keepCurrency`, only those in
   * another currency are expired. Returns the ids expired.
   */
  expireOtherSubscriptionCheckouts(
    customerId: string,
    keepSessionId: string | null,
    idempotencyKey: string,
    keepCurrency?: string,
  ): Promise<string[]>;
  /**
   * Expires every open Checkout session (any customer's) that would subscribe to the package in `currency`
   * (the package no longer sells in it). A session that stopped being open meanwhile is skipped. Returns the
   * ids expired.
   */
  expirePackageCheckoutsIn(planId: string, currency: string, idempotencyKey: string): Promise<string[]>;
  retrieveCheckout(sessionId: string): Promise<{
    customerId: string | null;
    mode: string;
    status: string;
    subscriptionId: string | null;
    paymentMethodId: string | null;
  }>;
  /** Attaches a payment method (a Stripe test id such as pm_card_visa works) and makes it the default. */
  attachDefaultPaymentMethod(
    customerId: string,
    paymentMethodId: string,
    idempotencyKey: string,
  ): Promise<string>;
  /**
   * Creates and pays the subscription at once; throws PaymentDeclinedError leaving no subscription. With
   * `trialDays` it starts trialing (nothing charged now); without a card (`paymentMethodId` null, trials only)
   * the trial ends as `trial_settings.end_behavior.missing_payment_method: pause` says: paused until a card
   * is added.
   */
  createSubscription(input: {
    customerId: string;
    priceId: string;
    stripePromotionCodeId?: string | null;
    paymentMethodId: string | null;
    trialDays?: number | null;
    /** Stripe Tax on the subscription's invoices (the customer must have a billing address). */
    automaticTax: boolean;
    metadata: Record<string, string>;
    idempotencyKey: string;
  }): Promise<ProviderSubscription>;
  retrieveSubscription(subscriptionId: string): Promise<ProviderSubscription>;
  /** Ends a trial at once (`trial_end: now`): the subscription invoices and charges its card now. */
  endTrialNow(subscriptionId: string, idempotencyKey: string): Promise<ProviderSubscription>;
  /** The card's fingerprint (the same card number gives the same one, whichever customer saved it). */
  paymentMethodFingerprint(paymentMethodId: string): Promise<string | null>;
  /** The customer's subscriptions that are not canceled, as Stripe has them now, newest first (Stripe's order). */
  listSubscriptions(customerId: string): Promise<ProviderSubscription[]>;
  retrieveScheduledChange(scheduleId: string, now: Date): Promise<ProviderScheduledChange | null>;
  previewPriceChange(input: {
    customerId: string;
    subscriptionId: string;
    itemId: string;
    priceId: string;
    prorationDate: Date;
    /**
     * Overage items of this account's current period (metadata `minutely_period_start`) that the upgrade
     * withdraws before it invoices: left out of the preview's total and reported apart.
     */
    withdrawOverage?: { accountId: string; periodStart: Date };
  }): Promise<ProrationPreview>;
  /** Changes the price now, prorated and invoiced immediately; throws PaymentDeclinedError and changes nothing. */
  changePriceNow(input: {
    subscriptionId: string;
    itemId: string;
    priceId: string;
    prorationDate: Date;
    /** False during a free trial: the price changes with no proration and nothing is invoiced now. */
    prorate?: boolean;
    idempotencyKey: string;
  }): Promise<ProviderSubscription>;
  /** Schedules a price change at the end of the current period (a subscription schedule). */
  schedulePriceChange(input: {
    subscriptionId: string;
    priceId: string;
    idempotencyKey: string;
  }): Promise<{ scheduleId: string }>;
  /** Releases the schedule: the subscription continues on its current price. */
  releaseSchedule(scheduleId: string, idempotencyKey: string): Promise<void>;
  setCancelAtPeriodEnd(
    subscriptionId: string,
    cancel: boolean,
    idempotencyKey: string,
  ): Promise<ProviderSubscription>;
  /**
   * Pauses collection (`pause_collection: {behavior: "void", resumes_at}`: every invoice made while paused is
   * voided) and records when the pause takes effect in the metadata (`minutely_pause_starts_at`); null
   * resumes collection (`pause_collection: ""`, the metadata key removed).
   */
  setPauseCollection(
    subscriptionId: string,
    pause: { startsAt: Date; resumesAt: Date | null } | null,
    idempotencyKey: string,
  ): Promise<ProviderSubscription>;
  /**
   * Bills again, on an invoice of its own charged at once, the invoice items (overage, say) of a voided
   * subscription invoice (a renewal voided while collection was paused): new customer-level items (no
   * subscription, so no paused renewal takes them), one invoice with them, finalized and paid with the
   * subscription's card. Idempotent per key; returns the new invoice's id, or null when there was nothing
   * to bill again. A declined card leaves the invoice open (it shows in the billing history).
   */
  rebillVoidedInvoiceItems(input: {
    invoiceId: string;
    customerId: string;
    subscriptionId: string;
    idempotencyKey: string;
  }): Promise<string | null>;
  /**
   * Invoices now, and charges with the subscription's card, the invoice items still pending on a live
   * subscription (the overage billed so far in its period): the final bill when the account is deleted,
   * before its cards are detached. Idempotent per key; returns the invoice's id, or null when nothing was
   * pending. A declined card leaves the invoice open (it shows in the billing history).
   */
  invoicePendingSubscriptionItems(input: {
    customerId: string;
    subscriptionId: string;
    idempotencyKey: string;
  }): Promise<string | null>;
  /**
   * Cancels the subscription at once, without proration or a final invoice (a duplicate that must not
   * exist). A subscription already canceled is returned as it is.
   */
  cancelSubscriptionNow(subscriptionId: string, idempotencyKey: string): Promise<ProviderSubscription>;
  /**
   * Refunds in full whatever the subscription's paid invoices collected and is not refunded yet (reason
   * `duplicate`); one key per payment, so a replay refunds nothing twice. Returns every refund of those
   * payments, the ones made earlier included.
   */
  refundSubscriptionPayments(subscriptionId: string, idempotencyKey: string): Promise<ProviderRefund[]>;
  /**
   * Refunds part or all of a payment (reason `requested_by_customer`, the adjustment's id in the metadata).
   * Throws AdjustmentRefusedError when Stripe refuses the amount (more than is left unrefunded).
   */
  refundPayment(input: {
    paymentIntentId: string;
    amountCents: number;
    adjustmentId: string;
    idempotencyKey: string;
  }): Promise<ProviderAdjustment>;
  /**
   * A credit note on a finalized invoice: on a paid one the amount goes to the customer's balance (used up by
   * the next invoices), on an open one it lowers what is due. The reason is its memo.
   */
  createCreditNote(input: {
    invoiceId: string;
    paid: boolean;
    amountCents: number;
    memo: string;
    adjustmentId: string;
    idempotencyKey: string;
  }): Promise<ProviderAdjustment>;
  /** Credits the customer's balance (a negative balance transaction): the next invoices use it up. */
  createBalanceCredit(input: {
    customerId: string;
    amountCents: number;
    currency: string;
    description: string;
    adjustmentId: string;
    idempotencyKey: string;
  }): Promise<ProviderAdjustment>;
  /** The invoice a PaymentIntent paid (its invoice payment), or null when it paid none (a one-off charge). */
  invoiceOfPayment(paymentIntentId: string): Promise<string | null>;
  /** The refunds of an invoice's payment and its issued credit notes (their part that is not a refund). */
  listInvoiceAdjustments(invoiceId: string, paymentIntentId: string | null): Promise<ProviderAdjustment[]>;
  /** The customer's balance credits made by hand (balance transactions of type `adjustment`, negative). */
  listBalanceCredits(customerId: string): Promise<ProviderAdjustment[]>;
  /** Makes a payment method the subscription's default, resumes it if a trial without a card paused it, and retries its open invoices. */
  useForSubscription(subscriptionId: string, paymentMethodId: string, idempotencyKey: string): Promise<void>;
  retrieveInvoice(invoiceId: string): Promise<ProviderInvoice>;
  listInvoices(customerId: string, limit: number): Promise<ProviderInvoice[]>;
  /**
   * Verifies a webhook's signature over its raw body (a hash, nothing parsed); throws when it is not Stripe's,
   * or when its timestamp is further than the tolerance from `receivedAt`, in the past or in the future.
   */
  verifyWebhookSignature(rawBody: Buffer, signature: string, secret: string, receivedAt: Date): void;
  /** Reads a webhook's event from its raw body (verified before); throws when the body is not JSON. */
  readWebhookEvent(rawBody: Buffer): { id: string; type: string; created: Date; object: unknown };
  advanceTestClock(testClockId: string, to: Date): Promise<void>;
  /** A test clock's simulated time; status is "advancing" until Stripe has caught up, then "ready". */
  retrieveTestClock(testClockId: string): Promise<ProviderTestClock>;
}
