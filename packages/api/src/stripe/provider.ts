import Stripe from "stripe";
import { AppError, UpstreamUnavailableError } from "../errors.ts";
import type {
  BillingProvider,
  ProrationPreview,
  ProviderAddress,
  ProviderAdjustment,
  ProviderCouponInput,
  ProviderDiscount,
  ProviderInvoice,
  ProviderInvoiceLine,
  ProviderRefund,
  ProviderScheduledChange,
  ProviderSubscription,
  ProviderTaxDetails,
} from "../ports/billing.ts";
import {
  ADJUSTMENT_ID_KEY,
  AdjustmentRefusedError,
  BillingCurrencyConflictError,
  DiscountRefusedError,
  IdempotencyKeyReusedError,
  PAUSE_STARTS_AT_KEY,
  PaymentDeclinedError,
  ProviderResourceMissingError,
  TaxIdRefusedError,
  TaxLocationRequiredError,
} from "../ports/billing.ts";

type Params<K extends keyof BillingProvider> = BillingProvider[K] extends (...args: infer A) => unknown
  ? A[0]
  : never;

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);
const fromSeconds = (value: number | null | undefined) => (value ? new Date(value * 1000) : null);
const idOf = (value: string | { id: string } | null | undefined) =>
  value === null || value === undefined ? null : typeof value === "string" ? value : value.id;

/**
 * A free trial of `days`: a trial that ends without a card pauses the subscription (Stripe's `paused`: no
 * calls) until one is added, instead of invoicing a payment that cannot be collected.
 */
function trialData(days: number) {
  return {
    trial_period_days: days,
    trial_settings: { end_behavior: { missing_payment_method: "pause" as const } },
  };
}

function toSubscription(sub: Stripe.Subscription): ProviderSubscription {
  const item = sub.items.data[0];
  if (!item) throw new Error(`Stripe subscription ${sub.id} has no items`);
  const customerId = idOf(sub.customer);
  if (!customerId) throw new Error(`Stripe subscription ${sub.id} has no customer`);
  return {
    id: sub.id,
    customerId,
    status: sub.status,
    created: new Date(sub.created * 1000),
    itemId: item.id,
    priceId: item.price.id,
    currency: sub.currency.toLowerCase(),
    currentPeriodStart: new Date(item.current_period_start * 1000),
    currentPeriodEnd: new Date(item.current_period_end * 1000),
    cancelAtPeriodEnd: sub.cancel_at_period_end,
    pauseCollection: sub.pause_collection
      ? {
          behavior: sub.pause_collection.behavior,
          resumesAt: fromSeconds(sub.pause_collection.resumes_at),
        }
      : null,
    canceledAt: fromSeconds(sub.canceled_at),
    endedAt: fromSeconds(sub.ended_at),
    trialStart: fromSeconds(sub.trial_start),
    trialEnd: fromSeconds(sub.trial_end),
    defaultPaymentMethodId: idOf(sub.default_payment_method),
    scheduleId: idOf(sub.schedule),
    testClockId: idOf(sub.test_clock),
    latestInvoiceId: idOf(sub.latest_invoice),
    metadata: { ...sub.metadata },
    automaticTax: sub.automatic_tax?.enabled ?? false,
    ...discountOf(sub),
  };
}

/** The subscription's first discount when Stripe expanded them; nothing when it gave only ids. */
function discountOf(sub: Stripe.Subscription): { discount?: ProviderDiscount | null } {
  const discounts = sub.discounts ?? [];
  if (discounts.some((d) => typeof d === "string")) return {};
  const first = discounts[0] as Stripe.Discount | undefined;
  if (!first) return { discount: null };
  const couponId = idOf(first.source?.coupon ?? null);
  if (!couponId) return { discount: null };
  return {
    discount: {
      id: first.id,
      couponId,
      promotionCodeId: idOf(first.promotion_code),
      end: fromSeconds(first.end),
    },
  };
}

const sumAmounts = (list: readonly { amount: number }[] | null | undefined) =>
  (list ?? []).reduce((sum, d) => sum + d.amount, 0);

function toInvoiceLine(line: Stripe.InvoiceLineItem): ProviderInvoiceLine {
  const parent = line.parent;
  return {
    id: line.id,
    description: line.description,
    amount: line.amount,
    currency: line.currency,
    periodStart: fromSeconds(line.period?.start),
    periodEnd: fromSeconds(line.period?.end),
    proration:
      parent?.subscription_item_details?.proration ?? parent?.invoice_item_details?.proration ?? false,
    discountCents: sumAmounts(line.discount_amounts),
  };
}

/** The invoice with every line: an invoice embeds only its first lines (has_more says when there are more). */
function toInvoice(
  invoice: Stripe.Invoice,
  lines: readonly Stripe.InvoiceLineItem[] = invoice.lines.data,
): ProviderInvoice {
  if (!invoice.id) throw new Error("Stripe returned an invoice without an id");
  const customerId = idOf(invoice.customer);
  if (!customerId) throw new Error(`Stripe invoice ${invoice.id} has no customer`);
  return {
    id: invoice.id,
    customerId,
    subscriptionId: idOf(invoice.parent?.subscription_details?.subscription ?? null),
    number: invoice.number,
    status: invoice.status ?? "draft",
    billingReason: invoice.billing_reason,
    currency: invoice.currency,
    subtotal: invoice.subtotal,
    total: invoice.total,
    amountDue: invoice.amount_due,
    amountPaid: invoice.amount_paid,
    totalDiscount: sumAmounts(invoice.total_discount_amounts),
    tax: exclusiveTax(invoice.total_taxes),
    hostedInvoiceUrl: invoice.hosted_invoice_url ?? null,
    invoicePdf: invoice.invoice_pdf ?? null,
    periodStart: fromSeconds(invoice.period_start),
    periodEnd: fromSeconds(invoice.period_end),
    created: new Date(invoice.created * 1000),
    paidAt: fromSeconds(invoice.status_transitions?.paid_at),
    paymentIntentId: paymentIntentOf(invoice),
    lines: lines.map(toInvoiceLine),
  };
}

/** Tax added on top (exclusive); inclusive tax is part of the amounts already. */
function exclusiveTax(taxes: readonly { amount: number; tax_behavior: string }[] | null | undefined): number {
  return (taxes ?? []).filter((t) => t.tax_behavior !== "inclusive").reduce((sum, t) => sum + t.amount, 0);
}

function toTaxDetails(customer: Stripe.Customer, taxIds: readonly Stripe.TaxId[]): ProviderTaxDetails {
  const a = customer.address;
  return {
    address: a?.country
      ? {
          country: a.country,
          line1: a.line1 || null,
          line2: a.line2 || null,
          city: a.city || null,
          state: a.state || null,
          postalCode: a.postal_code || null,
        }
      : null,
    taxIds: taxIds.map((t) => ({
      id: t.id,
      type: t.type,
      value: t.value,
      verification: t.verification?.status ?? "unavailable",
    })),
    taxExempt: customer.tax_exempt ?? "none",
  };
}

/** Automatic tax (Stripe Tax) on everything Minutely sells: prices are exclusive of tax. */
const AUTOMATIC_TAX = { automatic_tax: { enabled: true } } as const;
/**
 * Checkout with Stripe Tax for an existing customer: the billing address entered on the page (when the
 * customer has none) is saved to the customer, which Stripe requires for automatic tax.
 */
const CHECKOUT_TAX = { ...AUTOMATIC_TAX, customer_update: { address: "auto" } } as const;

/** The paid PaymentIntent of an invoice, from its `payments` (read expanded); null when not expanded or none. */
function paymentIntentOf(invoice: Stripe.Invoice): string | null {
  const payments = invoice.payments?.data ?? [];
  const paid = payments.find((p) => p.status === "paid") ?? payments[0];
  return idOf(paid?.payment.payment_intent ?? null);
}

const metadataAdjustmentId = (metadata: Stripe.Metadata | null | undefined) =>
  metadata?.[ADJUSTMENT_ID_KEY] ?? null;

function refundAdjustment(refund: Stripe.Refund): ProviderAdjustment {
  return {
    kind: "refund",
    id: refund.id,
    amountCents: refund.amount,
    currency: refund.currency,
    reason: refund.reason ?? null,
    adjustmentId: metadataAdjustmentId(refund.metadata),
    created: new Date(refund.created * 1000),
  };
}

/** A credit note's part that is not a refund (its refund shows as a refund of the payment). */
function creditNoteAdjustment(note: Stripe.CreditNote): ProviderAdjustment {
  return {
    kind: "credit_note",
    id: note.id,
    amountCents: note.amount - (note.refunds ?? []).reduce((sum, r) => sum + r.amount_refunded, 0),
    currency: note.currency,
    reason: note.memo ?? note.reason ?? null,
    adjustmentId: metadataAdjustmentId(note.metadata),
    created: new Date(note.created * 1000),
  };
}

function balanceAdjustment(txn: Stripe.CustomerBalanceTransaction): ProviderAdjustment {
  return {
    kind: "balance_credit",
    id: txn.id,
    amountCents: -txn.amount,
    currency: txn.currency,
    reason: txn.description ?? null,
    adjustmentId: metadataAdjustmentId(txn.metadata),
    created: new Date(txn.created * 1000),
  };
}

/** Stripe's refusal of an amount (more than is left, below the minimum): the caller's, naming the amount. */
function refusedAmount(error: unknown): never {
  if (
    error instanceof Stripe.errors.StripeInvalidRequestError &&
    error.code !== "resource_missing" &&
    (error.param === "amount" ||
      error.param === "refund_amount" ||
      error.code === "charge_already_refunded" ||
      error.code === "amount_too_large" ||
      error.code === "amount_too_small")
  ) {
    throw new AdjustmentRefusedError(error.message, "amountCents");
  }
  throw error;
}

/** Card declines and authentication requests become a PaymentDeclinedError with a message for people. */
function declined(error: unknown): never {
  if (error instanceof Stripe.errors.StripeCardError) {
    const code = error.decline_code ?? error.code;
    if (code === "authentication_required") {
      throw new PaymentDeclinedError(
        "Your bank asks to authenticate this card. Subscribe through the secure checkout page instead.",
        "authentication_required",
      );
    }
    throw new PaymentDeclinedError(
      `Your card was declined${error.message ? `: ${error.message}` : "."} Nothing was charged; try another card.`,
      "declined",
    );
  }
  throw error;
}

/** How far (seconds) a webhook signature's timestamp may be from its arrival, either way: Stripe's default. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/**
 * The Stripe-Signature header's timestamp (Unix seconds), or NaN when it has none or any `t` item is not
 * plain digits. The SDK reads `t` with parseInt: `t=NaN` or `t=` gives NaN, which its age check never refuses
 * (NaN > tolerance is false), so a signature over `NaN.<body>` would never expire; `t=123abc` would be read
 * as 123. Stripe sends one `t` of digits, so anything else is refused (fail closed).
 */
function signatureTimestamp(header: string): number {
  let timestamp = Number.NaN;
  for (const item of header.split(",")) {
    const [key, value] = item.split("=");
    if (key !== "t") continue;
    if (value === undefined || !/^[0-9]{1,12}$/.test(value)) return Number.NaN;
    timestamp = Number(value);
  }
  return timestamp;
}

/** When Stripe gives no Retry-After of its own: long enough for a blip to pass, short enough to wait for. */
const DEFAULT_RETRY_AFTER_SECONDS = 5;

function retryAfterOf(error: InstanceType<typeof Stripe.errors.StripeError>): number {
  const header = error.headers?.["retry-after"];
  const seconds = Number(Array.isArray(header) ? header[0] : header);
  return Number.isFinite(seconds) && seconds >= 1
    ? Math.min(Math.ceil(seconds), 60)
    : DEFAULT_RETRY_AFTER_SECONDS;
}

/**
 * Stripe failures that are not the caller's fault, once the SDK's own retries (same idempotency key each
 * time) are spent, become UpstreamUnavailableError: 503 / SERVICE_UNAVAILABLE with a message for people.
 * A 429 is never executed by Stripe, so nothing changed; after a 5xx, a timeout or a dropped connection
 * Stripe may have done the work, so the message promises only that a retry is safe (keys replay it).
 * Card declines stay PaymentDeclinedError; an object Stripe does not know (404 `resource_missing`) is
 * ProviderResourceMissingError, which is permanent; a discount refused (a promotion code or coupon used
 * up, expired or deleted since Minutely checked it) is DiscountRefusedError, which the services answer as a
 * 400 naming the code; a price in another currency than the customer's ("You cannot combine currencies on a
 * single customer") is BillingCurrencyConflictError, which the services answer as a 409 naming the package;
 * other invalid requests, authentication and idempotency-key misuse are bugs or misconfiguration and stay
 * errors (500, logged), with the SDK error as their cause.
 */
/** Stripe's refusal of a second currency on a customer (it has no error code of its own). */
const COMBINE_CURRENCIES = /cannot combine currencies/i;

/** The parameters naming a discount being redeemed: `discounts[0][promotion_code]`, `promotion_code`, `coupon`. */
const DISCOUNT_PARAM = /^(discounts|promotion_code|coupon)\b/;

export function translateStripeError(error: unknown): unknown {
  if (error instanceof Stripe.errors.StripeRateLimitError) {
    return new UpstreamUnavailableError(
      "Stripe, the payment provider, is receiving too many requests right now, so nothing was charged or changed. Please try again in a moment.",
      retryAfterOf(error),
      { cause: error },
    );
  }
  if (error instanceof Stripe.errors.StripeConnectionError || error instanceof Stripe.errors.StripeAPIError) {
    return new UpstreamUnavailableError(
      "We could not get an answer from Stripe, the payment provider, so this could not be confirmed. Please try again in a moment: trying again is safe and never charges twice.",
      retryAfterOf(error),
      { cause: error },
    );
  }
  if (error instanceof Stripe.errors.StripeInvalidRequestError && DISCOUNT_PARAM.test(error.param ?? "")) {
    return new DiscountRefusedError(`Stripe refused the discount: ${error.message}`, { cause: error });
  }
  if (
    error instanceof Stripe.errors.StripeInvalidRequestError &&
    error.code === "customer_tax_location_invalid"
  ) {
    return new TaxLocationRequiredError(`Stripe Tax needs the customer's location: ${error.message}`, {
      cause: error,
    });
  }
  if (error instanceof Stripe.errors.StripeInvalidRequestError && error.code === "tax_id_invalid") {
    return new TaxIdRefusedError(`Stripe refused the tax ID: ${error.message}`, { cause: error });
  }
  if (error instanceof Stripe.errors.StripeInvalidRequestError && error.code === "resource_missing") {
    return new ProviderResourceMissingError(`Stripe has no such object: ${error.message}`, { cause: error });
  }
  if (error instanceof Stripe.errors.StripeInvalidRequestError && COMBINE_CURRENCIES.test(error.message)) {
    const named = /with currency ([a-z]{3})\b/i.exec(error.message)?.[1]?.toLowerCase() ?? null;
    const conflict = new BillingCurrencyConflictError(`Stripe refused a request: ${error.message}`, named);
    conflict.cause = error;
    return conflict;
  }
  if (error instanceof Stripe.errors.StripeIdempotencyError) {
    return new IdempotencyKeyReusedError(`Stripe refused a request: ${error.message}`, { cause: error });
  }
  if (error instanceof Stripe.errors.StripeError && !(error instanceof Stripe.errors.StripeCardError)) {
    // Refused (invalid, unauthenticated, idempotency key misuse): a bug or misconfiguration. A plain error,
    // so no layer takes Stripe's 4xx status for the caller's fault or shows Stripe's text to people.
    return new Error(`Stripe refused a request: ${error.message}`, { cause: error });
  }
  return error;
}

/** Runs Stripe calls, translating their failures in one place (see translateStripeError). */
async function viaStripe<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw translateStripeError(error);
  }
}

/**
 * BillingProvider over the official Stripe SDK (real Stripe or the emulator, by configuration). Every method
 * that talks to Stripe runs through viaStripe, so callers see Stripe outages as UpstreamUnavailableError.
 */
export class StripeBillingProvider implements BillingProvider {
  constructor(readonly stripe: Stripe) {}

  createProduct(input: Params<"createProduct">) {
    return viaStripe(async () => {
      const product = await this.stripe.products.create(
        {
          name: input.name,
          ...(input.description ? { description: input.description } : {}),
          metadata: { minutely_plan_id: input.planId },
        },
        { idempotencyKey: input.idempotencyKey },
      );
      return { productId: product.id };
    });
  }

  updateProduct(productId: string, input: { name: string; description: string; active: boolean }) {
    return viaStripe(async () => {
      await this.stripe.products.update(productId, {
        name: input.name,
        description: input.description || "",
        active: input.active,
      });
    });
  }

  createMonthlyPrice(input: Params<"createMonthlyPrice">) {
    return viaStripe(async () => {
      const price = await this.stripe.prices.create(
        {
          product: input.productId,
          unit_amount: input.amountCents,
          currency: input.currency,
          recurring: { interval: "month" },
          metadata: { minutely_plan_id: input.planId },
        },
        { idempotencyKey: input.idempotencyKey },
      );
      return { priceId: price.id };
    });
  }

  createMinutePackPrice(input: Params<"createMinutePackPrice">) {
    return viaStripe(async () => {
      const metadata = { minutely_pack_id: input.packId };
      const product = await this.stripe.products.create(
        { name: input.name, ...(input.description ? { description: input.description } : {}), metadata },
        { idempotencyKey: `${input.idempotencyKey}-product` },
      );
      const price = await this.stripe.prices.create(
        { product: product.id, unit_amount: input.amountCents, currency: input.currency, metadata },
        { idempotencyKey: `${input.idempotencyKey}-price` },
      );
      return { productId: product.id, priceId: price.id };
    });
  }

  archiveMinutePackPrice(productId: string, priceId: string) {
    return viaStripe(async () => {
      await this.stripe.prices.update(priceId, { active: false });
      await this.stripe.products.update(productId, { active: false });
    });
  }

  createPackCheckout(input: Params<"createPackCheckout">) {
    return viaStripe(async () => {
      const session = await this.stripe.checkout.sessions.create(
        {
          mode: "payment",
          customer: input.customerId,
          line_items: [{ price: input.priceId, quantity: 1 }],
          ...CHECKOUT_TAX,
          success_url: input.successUrl,
          cancel_url: input.cancelUrl,
          metadata: input.metadata,
        },
        { idempotencyKey: input.idempotencyKey },
      );
      if (!session.url) throw new Error("Stripe returned a Checkout session without a URL");
      return { sessionId: session.id, url: session.url };
    });
  }

  retrievePaymentCheckout(sessionId: string) {
    return viaStripe(async () => {
      const session = await this.stripe.checkout.sessions.retrieve(sessionId);
      return {
        customerId: idOf(session.customer),
        mode: session.mode,
        status: session.status ?? "open",
        paymentStatus: session.payment_status,
        metadata: (session.metadata ?? {}) as Record<string, string>,
        amountTotal: session.amount_total ?? null,
        currency: session.currency ?? null,
        paymentIntentId: idOf(session.payment_intent),
      };
    });
  }

  refundUngrantedPayment(paymentIntentId: string) {
    return viaStripe(async () => {
      const intent = await this.stripe.paymentIntents.retrieve(paymentIntentId, {
        expand: ["latest_charge"],
      });
      const charge = intent.latest_charge as Stripe.Charge | null;
      // Nothing was taken, or all of it was given back already (a replay after the refund).
      if (!charge || charge.amount_refunded >= charge.amount) return;
      await this.stripe.refunds.create(
        {
          payment_intent: paymentIntentId,
          reason: "requested_by_customer",
          metadata: { minutely_refund: "pack_not_granted_account_deleted" },
        },
        { idempotencyKey: `minutely-pack-not-granted-refund:${paymentIntentId}` },
      );
    });
  }

  /**
   * Stripe Tax on a one-off charge of a one-time price (a PaymentIntent carries no tax of its own): what an
   * invoice of that price would add, from an invoice preview with automatic tax. 0 for a customer without a
   * billing address (Stripe Tax cannot compute it; see docs/billing.md, "Tax") or a reverse-charged one.
   */
  private async oneOffTax(customer: Stripe.Customer, input: Params<"chargeSavedCard">): Promise<number> {
    const country = customer.address?.country ?? "";
    const needsState = country === "US" || country === "CA";
    if (country === "" || (needsState && !customer.address?.state) || !input.priceId) return 0;
    const preview = await this.stripe.invoices.createPreview({
      customer: customer.id,
      currency: input.currency,
      automatic_tax: { enabled: true },
      invoice_items: [{ price: input.priceId, metadata: { minutely_one_off: "1" } }],
    });
    const line = preview.lines.data.find((l) => l.metadata?.minutely_one_off === "1");
    if (!line) throw new Error("Stripe's invoice preview has no line for the one-off price");
    return exclusiveTax(line.taxes);
  }

  chargeSavedCard(input: Params<"chargeSavedCard">) {
    return viaStripe(async () => {
      const customer = await this.stripe.customers.retrieve(input.customerId);
      const paymentMethod =
        "deleted" in customer && customer.deleted
          ? null
          : idOf((customer as Stripe.Customer).invoice_settings?.default_payment_method);
      if (!paymentMethod) {
        return {
          status: "declined" as const,
          paymentIntentId: null,
          message: "No saved card: add one under Billing, or buy the pack through the checkout page.",
        };
      }
      const taxCents = input.priceId ? await this.oneOffTax(customer as Stripe.Customer, input) : 0;
      try {
        const intent = await this.stripe.paymentIntents.create(
          {
            customer: input.customerId,
            amount: input.amountCents + taxCents,
            currency: input.currency,
            payment_method: paymentMethod,
            off_session: true,
            confirm: true,
            description: input.description,
            metadata: { ...input.metadata, minutely_tax_cents: String(taxCents) },
          },
          { idempotencyKey: input.idempotencyKey },
        );
        if (intent.status === "succeeded")
          return { status: "succeeded" as const, paymentIntentId: intent.id };
        return {
          status: "requires_action" as const,
          paymentIntentId: intent.id,
          message:
            "Your bank asks to confirm this payment: complete it, or buy the pack through the checkout page.",
        };
      } catch (error) {
        if (error instanceof Stripe.errors.StripeCardError) {
          const intentId = idOf(error.payment_intent);
          const code = error.decline_code ?? error.code;
          return code === "authentication_required"
            ? {
                status: "requires_action" as const,
                paymentIntentId: intentId,
                message:
                  "Your bank asks to confirm this payment: complete it, or buy the pack through the checkout page.",
              }
            : {
                status: "declined" as const,
                paymentIntentId: intentId,
                message: `Your card was declined${error.message ? `: ${error.message}` : "."} Nothing was charged.`,
              };
        }
        throw error;
      }
    });
  }

  retrievePaymentIntent(paymentIntentId: string) {
    return viaStripe(async () => {
      const intent = await this.stripe.paymentIntents.retrieve(paymentIntentId);
      return {
        status: intent.status,
        customerId: idOf(intent.customer),
        amountCents: intent.amount,
        currency: intent.currency,
        metadata: (intent.metadata ?? {}) as Record<string, string>,
      };
    });
  }

  addInvoiceItem(input: Params<"addInvoiceItem">) {
    return viaStripe(async () => {
      const item = await this.stripe.invoiceItems.create(
        {
          customer: input.customerId,
          subscription: input.subscriptionId,
          amount: input.amountCents,
          currency: input.currency,
          description: input.description,
          metadata: input.metadata,
          // Coupons discount the package price only (as Stripe's applies_to products), never overage.
          discountable: false,
        },
        { idempotencyKey: input.idempotencyKey },
      );
      return { invoiceItemId: item.id };
    });
  }

  createCustomer(input: Params<"createCustomer">) {
    return viaStripe(async () => {
      let testClock: string | undefined;
      if (input.withTestClock) {
        const clock = await this.stripe.testHelpers.testClocks.create(
          { frozen_time: seconds(input.withTestClock), name: `account ${input.accountId}` },
          { idempotencyKey: `${input.idempotencyKey}-clock` },
        );
        testClock = clock.id;
      }
      const customer = await this.stripe.customers.create(
        {
          email: input.email,
          name: input.name,
          metadata: { minutely_account_id: input.accountId },
          ...(testClock ? { test_clock: testClock } : {}),
        },
        { idempotencyKey: input.idempotencyKey },
      );
      return { customerId: customer.id };
    });
  }

  updateCustomer(customerId: string, input: { name: string; email: string }, idempotencyKey: string) {
    return viaStripe(async () => {
      await this.stripe.customers.update(
        customerId,
        { name: input.name, email: input.email },
        { idempotencyKey },
      );
    });
  }

  retrieveTaxDetails(customerId: string) {
    return viaStripe(async () => {
      const customer = await this.stripe.customers.retrieve(customerId);
      if (customer.deleted)
        throw new ProviderResourceMissingError(`Stripe customer ${customerId} was deleted`);
      const taxIds = await this.stripe.customers.listTaxIds(customerId, { limit: 100 });
      return toTaxDetails(customer, taxIds.data);
    });
  }

  setCustomerAddress(customerId: string, address: ProviderAddress, idempotencyKey: string) {
    return viaStripe(async () => {
      await this.stripe.customers.update(
        customerId,
        {
          address: {
            country: address.country,
            line1: address.line1 ?? "",
            line2: address.line2 ?? "",
            city: address.city ?? "",
            state: address.state ?? "",
            postal_code: address.postalCode ?? "",
          },
        },
        { idempotencyKey },
      );
    });
  }

  replaceTaxId(customerId: string, taxId: { type: string; value: string } | null, idempotencyKey: string) {
    return viaStripe(async () => {
      const existing = (await this.stripe.customers.listTaxIds(customerId, { limit: 100 })).data;
      let keep = taxId ? existing.find((t) => t.type === taxId.type && t.value === taxId.value) : undefined;
      // The new one first: should Stripe refuse it, the customer keeps the tax ID it had.
      if (taxId && !keep) {
        keep = await this.stripe.customers.createTaxId(
          customerId,
          { type: taxId.type as Stripe.CustomerCreateTaxIdParams.Type, value: taxId.value },
          { idempotencyKey: `${idempotencyKey}-${taxId.type}-${taxId.value}` },
        );
      }
      for (const t of existing) {
        if (t.id === keep?.id) continue;
        try {
          await this.stripe.customers.deleteTaxId(customerId, t.id);
        } catch (error) {
          // Deleted meanwhile (a retry): gone is all this asks.
          if (
            !(error instanceof Stripe.errors.StripeInvalidRequestError && error.code === "resource_missing")
          )
            throw error;
        }
      }
      const customer = await this.stripe.customers.retrieve(customerId);
      if (customer.deleted)
        throw new ProviderResourceMissingError(`Stripe customer ${customerId} was deleted`);
      const after = await this.stripe.customers.listTaxIds(customerId, { limit: 100 });
      return toTaxDetails(customer, after.data);
    });
  }

  enableAutomaticTax(subscriptionId: string, idempotencyKey: string) {
    return viaStripe(async () => {
      await this.stripe.subscriptions.update(subscriptionId, AUTOMATIC_TAX, { idempotencyKey });
    });
  }

  setTaxExempt(customerId: string, taxExempt: "none" | "reverse", idempotencyKey: string) {
    return viaStripe(async () => {
      await this.stripe.customers.update(customerId, { tax_exempt: taxExempt }, { idempotencyKey });
    });
  }

  scrubCustomer(customerId: string, idempotencyKey: string) {
    return viaStripe(async () => {
      const customer = await this.stripe.customers.retrieve(customerId);
      if (customer.deleted) return;
      // Checkout pages still open (a subscription, a pack, a new card; they live for a day) expire first:
      // completed in a forgotten tab, one would start billing, or charge, the deleted account.
      for await (const session of this.stripe.checkout.sessions.list({
        customer: customerId,
        status: "open",
        limit: 100,
      })) {
        await this.expireIfOpen(session.id, `${idempotencyKey}-expire-${session.id}`);
      }
      await this.stripe.customers.update(
        customerId,
        {
          name: "",
          email: "",
          phone: "",
          description: "",
          address: "",
          invoice_settings: { default_payment_method: "" },
          metadata: { minutely_deleted: "true" },
        },
        { idempotencyKey: `${idempotencyKey}-customer` },
      );
      // Detached one by one (each detach is itself idempotent: a detached card is no longer listed).
      for await (const method of this.stripe.customers.listPaymentMethods(customerId, { limit: 100 })) {
        await this.stripe.paymentMethods.detach(method.id, undefined, {
          idempotencyKey: `${idempotencyKey}-detach-${method.id}`,
        });
      }
    });
  }

  retrieveCustomerCurrency(customerId: string) {
    return viaStripe(async () => {
      const customer = await this.stripe.customers.retrieve(customerId);
      return customer.deleted ? null : (customer.currency?.toLowerCase() ?? null);
    });
  }

  createCoupon(input: ProviderCouponInput) {
    return viaStripe(async () => {
      const coupon = await this.stripe.coupons.create(
        {
          name: input.name,
          ...("percentOff" in input.off
            ? { percent_off: input.off.percentOff }
            : { amount_off: input.off.amountOffCents, currency: input.off.currency }),
          duration: input.duration,
          ...(input.durationInMonths === null ? {} : { duration_in_months: input.durationInMonths }),
          ...(input.redeemBy === null ? {} : { redeem_by: seconds(input.redeemBy) }),
          ...(input.maxRedemptions === null ? {} : { max_redemptions: input.maxRedemptions }),
          ...(input.productIds.length > 0 ? { applies_to: { products: input.productIds } } : {}),
          metadata: { minutely_coupon_id: input.couponId },
        },
        { idempotencyKey: input.idempotencyKey },
      );
      return { stripeCouponId: coupon.id };
    });
  }

  deleteCoupon(stripeCouponId: string) {
    return viaStripe(async () => {
      try {
        await this.stripe.coupons.del(stripeCouponId);
      } catch (error) {
        if (error instanceof Stripe.errors.StripeInvalidRequestError && error.code === "resource_missing")
          return;
        throw error;
      }
    });
  }

  createPromotionCode(input: Params<"createPromotionCode">) {
    return viaStripe(async () => {
      const promo = await this.stripe.promotionCodes.create(
        {
          promotion: { type: "coupon", coupon: input.stripeCouponId },
          code: input.code,
          ...(input.expiresAt === null ? {} : { expires_at: seconds(input.expiresAt) }),
          ...(input.maxRedemptions === null ? {} : { max_redemptions: input.maxRedemptions }),
          metadata: { minutely_promotion_code_id: input.promotionCodeId },
        },
        { idempotencyKey: input.idempotencyKey },
      );
      return { stripePromotionCodeId: promo.id };
    });
  }

  setPromotionCodeActive(stripePromotionCodeId: string, active: boolean) {
    return viaStripe(async () => {
      await this.stripe.promotionCodes.update(stripePromotionCodeId, { active });
    });
  }

  retrieveRedemptions(stripePromotionCodeId: string) {
    return viaStripe(async () => {
      const promo = await this.stripe.promotionCodes.retrieve(stripePromotionCodeId);
      const couponId = idOf(promo.promotion.coupon ?? null);
      let couponTimes = 0;
      if (couponId) {
        try {
          couponTimes = (await this.stripe.coupons.retrieve(couponId)).times_redeemed;
        } catch (error) {
          // An archived (deleted) coupon: its count no longer matters, the code is refused as inactive.
          if (
            !(error instanceof Stripe.errors.StripeInvalidRequestError && error.code === "resource_missing")
          )
            throw error;
        }
      }
      return { code: promo.times_redeemed, coupon: couponTimes };
    });
  }

  retrieveCouponRedemptions(stripeCouponId: string) {
    return viaStripe(async () => (await this.stripe.coupons.retrieve(stripeCouponId)).times_redeemed);
  }

  applyCouponToSubscription(subscriptionId: string, stripeCouponId: string, idempotencyKey: string) {
    return viaStripe(async () =>
      toSubscription(
        await this.stripe.subscriptions.update(
          subscriptionId,
          { discounts: [{ coupon: stripeCouponId }], proration_behavior: "none", expand: ["discounts"] },
          { idempotencyKey },
        ),
      ),
    );
  }

  createSubscriptionCheckout(input: Params<"createSubscriptionCheckout">) {
    return viaStripe(async () => {
      const session = await this.stripe.checkout.sessions.create(
        {
          mode: "subscription",
          customer: input.customerId,
          line_items: [{ price: input.priceId, quantity: 1 }],
          // Stripe Tax: a customer without a billing address enters it on the page.
          ...CHECKOUT_TAX,
          // A code chosen on the package page comes applied; otherwise the customer may type one there.
          ...(input.stripePromotionCodeId
            ? { discounts: [{ promotion_code: input.stripePromotionCodeId }] }
            : { allow_promotion_codes: true }),
          success_url: input.successUrl,
          cancel_url: input.cancelUrl,
          metadata: input.metadata,
          subscription_data: {
            metadata: input.metadata,
            ...(input.trialDays ? trialData(input.trialDays) : {}),
          },
        },
        { idempotencyKey: input.idempotencyKey },
      );
      if (!session.url) throw new Error("Stripe returned a Checkout session without a URL");
      return { sessionId: session.id, url: session.url };
    });
  }

  createSetupCheckout(input: Params<"createSetupCheckout">) {
    return viaStripe(async () => {
      const session = await this.stripe.checkout.sessions.create(
        {
          mode: "setup",
          customer: input.customerId,
          currency: input.currency,
          success_url: input.successUrl,
          cancel_url: input.cancelUrl,
          ...(input.subscriptionId ? { metadata: { minutely_subscription_id: input.subscriptionId } } : {}),
        },
        { idempotencyKey: input.idempotencyKey },
      );
      if (!session.url) throw new Error("Stripe returned a Checkout session without a URL");
      return { sessionId: session.id, url: session.url };
    });
  }

  expireOtherSubscriptionCheckouts(
    customerId: string,
    keepSessionId: string | null,
    idempotencyKey: string,
    keepCurrency?: string,
  ) {
    return viaStripe(async () => {
      const expired: string[] = [];
      for await (const session of this.stripe.checkout.sessions.list({
        customer: customerId,
        status: "open",
        limit: 100,
      })) {
        if (session.id === keepSessionId || session.mode !== "subscription") continue;
        if (keepCurrency !== undefined && session.currency?.toLowerCase() === keepCurrency) continue;
        if (await this.expireIfOpen(session.id, `${idempotencyKey}-${session.id}`)) expired.push(session.id);
      }
      return expired;
    });
  }

  /**
   * Expires an open Checkout session; true when this call expired it. One paid or expired since it was
   * listed is not open any more, which is all the callers ask: false, not an error.
   */
  private async expireIfOpen(sessionId: string, idempotencyKey: string): Promise<boolean> {
    try {
      await this.stripe.checkout.sessions.expire(sessionId, {}, { idempotencyKey });
      return true;
    } catch (error) {
      if (!(error instanceof Stripe.errors.StripeInvalidRequestError)) throw error;
      const now = await this.stripe.checkout.sessions.retrieve(sessionId);
      if (now.status === "open") throw error;
      return false;
    }
  }

  expirePackageCheckoutsIn(planId: string, currency: string, idempotencyKey: string) {
    return viaStripe(async () => {
      const expired: string[] = [];
      for await (const session of this.stripe.checkout.sessions.list({ status: "open", limit: 100 })) {
        if (
          session.mode !== "subscription" ||
          session.metadata?.minutely_plan_id !== planId ||
          session.currency?.toLowerCase() !== currency
        )
          continue;
        if (await this.expireIfOpen(session.id, `${idempotencyKey}-${session.id}`)) expired.push(session.id);
      }
      return expired;
    });
  }

  retrieveCheckout(sessionId: string) {
    return viaStripe(async () => {
      const session = await this.stripe.checkout.sessions.retrieve(sessionId, { expand: ["setup_intent"] });
      const setupIntent = session.setup_intent;
      return {
        customerId: idOf(session.customer),
        mode: session.mode,
        status: session.status ?? "open",
        subscriptionId: idOf(session.subscription),
        paymentMethodId:
          setupIntent && typeof setupIntent !== "string" ? idOf(setupIntent.payment_method) : null,
      };
    });
  }

  attachDefaultPaymentMethod(customerId: string, paymentMethodId: string, idempotencyKey: string) {
    return viaStripe(async () => {
      let attached: Stripe.PaymentMethod;
      try {
        attached = await this.stripe.paymentMethods.attach(
          paymentMethodId,
          { customer: customerId },
          { idempotencyKey: `${idempotencyKey}-attach` },
        );
      } catch (error) {
        // An id Stripe does not know is the caller's mistake, not an outage: 400 naming the field.
        if (error instanceof Stripe.errors.StripeInvalidRequestError && error.code === "resource_missing") {
          throw new AppError(
            "BAD_REQUEST",
            "No such payment method. Use a card saved with Stripe (a pm_… id), or subscribe through checkout.",
            "paymentMethodId",
          );
        }
        declined(error);
      }
      await this.stripe.customers.update(
        customerId,
        { invoice_settings: { default_payment_method: attached.id } },
        { idempotencyKey: `${idempotencyKey}-default` },
      );
      return attached.id;
    });
  }

  createSubscription(input: Params<"createSubscription">) {
    return viaStripe(async () => {
      try {
        const sub = await this.stripe.subscriptions.create(
          {
            customer: input.customerId,
            items: [{ price: input.priceId }],
            ...(input.paymentMethodId ? { default_payment_method: input.paymentMethodId } : {}),
            ...(input.trialDays ? trialData(input.trialDays) : {}),
            payment_behavior: "error_if_incomplete",
            ...(input.automaticTax ? AUTOMATIC_TAX : {}),
            metadata: input.metadata,
            ...(input.stripePromotionCodeId
              ? { discounts: [{ promotion_code: input.stripePromotionCodeId }] }
              : {}),
          },
          { idempotencyKey: input.idempotencyKey },
        );
        return toSubscription(sub);
      } catch (error) {
        declined(error);
      }
    });
  }

  endTrialNow(subscriptionId: string, idempotencyKey: string) {
    return viaStripe(async () =>
      toSubscription(
        await this.stripe.subscriptions.update(subscriptionId, { trial_end: "now" }, { idempotencyKey }),
      ),
    );
  }

  paymentMethodFingerprint(paymentMethodId: string) {
    return viaStripe(async () => {
      const pm = await this.stripe.paymentMethods.retrieve(paymentMethodId);
      return pm.card?.fingerprint ?? null;
    });
  }

  retrieveSubscription(subscriptionId: string) {
    return viaStripe(async () =>
      toSubscription(await this.stripe.subscriptions.retrieve(subscriptionId, { expand: ["discounts"] })),
    );
  }

  listSubscriptions(customerId: string) {
    return viaStripe(async () => {
      // Stripe's default list leaves out canceled subscriptions; a customer has a handful at most.
      const page = await this.stripe.subscriptions.list({ customer: customerId, limit: 100 });
      return page.data.map(toSubscription);
    });
  }

  retrieveScheduledChange(scheduleId: string, now: Date): Promise<ProviderScheduledChange | null> {
    return viaStripe(async () => {
      const schedule = await this.stripe.subscriptionSchedules.retrieve(scheduleId);
      if (schedule.status !== "active" && schedule.status !== "not_started") return null;
      const at = seconds(now);
      const next = schedule.phases.find((phase) => phase.start_date > at);
      const price = next?.items[0]?.price;
      if (!next || !price) return null;
      return {
        scheduleId,
        priceId: typeof price === "string" ? price : price.id,
        startsAt: new Date(next.start_date * 1000),
      };
    });
  }

  previewPriceChange(input: Params<"previewPriceChange">): Promise<ProrationPreview> {
    return viaStripe(async () => {
      const preview = await this.stripe.invoices.createPreview({
        customer: input.customerId,
        subscription: input.subscriptionId,
        subscription_details: {
          items: [{ id: input.itemId, price: input.priceId }],
          proration_behavior: "always_invoice",
          proration_date: seconds(input.prorationDate),
        },
      });
      let credit = 0;
      let charge = 0;
      let withdrawn = 0;
      let withdrawnTax = 0;
      const withdrawPeriod = input.withdrawOverage?.periodStart.toISOString();
      for (const line of preview.lines.data) {
        const overageOf = line.metadata?.minutely_period_start;
        if (
          withdrawPeriod !== undefined &&
          line.parent?.type === "invoice_item_details" &&
          overageOf === withdrawPeriod &&
          line.metadata?.minutely_account_id === input.withdrawOverage?.accountId
        ) {
          withdrawn += line.amount;
          withdrawnTax += exclusiveTax(line.taxes);
        } else if (line.amount < 0) credit += line.amount;
        else charge += line.amount;
      }
      return {
        creditCents: credit,
        chargeCents: charge,
        taxCents: exclusiveTax(preview.total_taxes) - withdrawnTax,
        totalDueNowCents: Math.max(0, preview.amount_due - withdrawn - withdrawnTax),
        withdrawnOverageCents: withdrawn,
        currency: preview.currency,
        prorationDate: input.prorationDate,
      };
    });
  }

  listPendingOverageItems(customerId: string, period: { accountId: string; periodStart: Date }) {
    return viaStripe(async () => {
      const items = await this.stripe.invoiceItems
        .list({ customer: customerId, pending: true, limit: 100 })
        .autoPagingToArray({ limit: 10_000 });
      const periodStart = period.periodStart.toISOString();
      return items
        .filter(
          (item) =>
            item.metadata?.minutely_account_id === period.accountId &&
            item.metadata?.minutely_period_start === periodStart,
        )
        .map((item) => ({ invoiceItemId: item.id, amountCents: item.amount }));
    });
  }

  deleteInvoiceItem(invoiceItemId: string) {
    return viaStripe(async () => {
      try {
        await this.stripe.invoiceItems.del(invoiceItemId);
      } catch (error) {
        // Already deleted (a retry): the goal is reached.
        if (error instanceof Stripe.errors.StripeInvalidRequestError && error.code === "resource_missing")
          return;
        throw error;
      }
    });
  }

  changePriceNow(input: Params<"changePriceNow">) {
    return viaStripe(async () => {
      try {
        const sub = await this.stripe.subscriptions.update(
          input.subscriptionId,
          {
            items: [{ id: input.itemId, price: input.priceId }],
            ...(input.prorate === false
              ? { proration_behavior: "none" as const }
              : {
                  proration_behavior: "always_invoice" as const,
                  proration_date: seconds(input.prorationDate),
                  payment_behavior: "error_if_incomplete" as const,
                }),
          },
          { idempotencyKey: input.idempotencyKey },
        );
        return toSubscription(sub);
      } catch (error) {
        declined(error);
      }
    });
  }

  schedulePriceChange(input: Params<"schedulePriceChange">) {
    return viaStripe(async () => {
      const sub = await this.stripe.subscriptions.retrieve(input.subscriptionId);
      const current = toSubscription(sub);
      // Re-read first: a schedule left by an attempt that failed half-way is reused, never doubled.
      const schedule = current.scheduleId
        ? await this.stripe.subscriptionSchedules.retrieve(current.scheduleId)
        : await this.stripe.subscriptionSchedules.create(
            { from_subscription: input.subscriptionId },
            { idempotencyKey: `${input.idempotencyKey}-schedule` },
          );
      // The phases given start with the current one: a reused schedule whose first phase is over (the change
      // it scheduled took effect at a renewal) keeps only its current phase's start.
      const phase = schedule.current_phase ?? schedule.phases[0];
      await this.stripe.subscriptionSchedules.update(
        schedule.id,
        {
          end_behavior: "release",
          phases: [
            {
              items: [{ price: current.priceId, quantity: 1 }],
              start_date: phase?.start_date ?? seconds(current.currentPeriodStart),
              end_date: seconds(current.currentPeriodEnd),
            },
            {
              items: [{ price: input.priceId, quantity: 1 }],
              duration: { interval: "month", interval_count: 1 },
            },
          ],
        },
        { idempotencyKey: `${input.idempotencyKey}-phases` },
      );
      return { scheduleId: schedule.id };
    });
  }

  releaseSchedule(scheduleId: string, idempotencyKey: string) {
    return viaStripe(async () => {
      const schedule = await this.stripe.subscriptionSchedules.retrieve(scheduleId);
      if (schedule.status === "released" || schedule.status === "canceled" || schedule.status === "completed")
        return;
      await this.stripe.subscriptionSchedules.release(scheduleId, {}, { idempotencyKey });
    });
  }

  setCancelAtPeriodEnd(subscriptionId: string, cancel: boolean, idempotencyKey: string) {
    return viaStripe(async () => {
      const sub = await this.stripe.subscriptions.update(
        subscriptionId,
        { cancel_at_period_end: cancel },
        { idempotencyKey },
      );
      return toSubscription(sub);
    });
  }

  setPauseCollection(
    subscriptionId: string,
    pause: { startsAt: Date; resumesAt: Date | null } | null,
    idempotencyKey: string,
  ) {
    return viaStripe(async () => {
      const sub = await this.stripe.subscriptions.update(
        subscriptionId,
        pause
          ? {
              pause_collection: {
                behavior: "void",
                ...(pause.resumesAt ? { resumes_at: seconds(pause.resumesAt) } : {}),
              },
              metadata: { [PAUSE_STARTS_AT_KEY]: pause.startsAt.toISOString() },
            }
          : { pause_collection: "", metadata: { [PAUSE_STARTS_AT_KEY]: "" } },
        { idempotencyKey },
      );
      return toSubscription(sub);
    });
  }

  rebillVoidedInvoiceItems(input: Params<"rebillVoidedInvoiceItems">) {
    return viaStripe(async () => {
      const key = input.idempotencyKey;
      const voided = await this.stripe.invoices.retrieve(input.invoiceId);
      if (voided.status !== "void") return null;
      const lines = await this.stripe.invoices
        .listLineItems(input.invoiceId, { limit: 100 })
        .autoPagingToArray({ limit: 10_000 });
      const items = lines.filter((line) => line.parent?.type === "invoice_item_details" && line.amount > 0);
      if (items.length === 0) return null;
      for (const line of items) {
        await this.stripe.invoiceItems.create(
          {
            customer: input.customerId,
            amount: line.amount,
            currency: line.currency,
            description: line.description ?? "Billed again after a paused renewal",
            metadata: { ...line.metadata, minutely_rebilled_from: input.invoiceId },
            // Overage, like the items it bills again: never discounted (no customer-level coupon either).
            discountable: false,
          },
          { idempotencyKey: `${key}-item-${line.id}` },
        );
      }
      return await this.chargePendingItems(
        input.subscriptionId,
        { customer: input.customerId, metadata: { minutely_rebilled_from: input.invoiceId } },
        key,
      );
    });
  }

  /**
   * One invoice with the customer's pending items, finalized and paid at once with the subscription's card
   * (`params` says the customer, and the subscription when it is the invoice's); each step keyed by `key`.
   * Returns its id. A declined card leaves it open (shown in the billing history); nothing else to undo.
   */
  private async chargePendingItems(
    subscriptionId: string,
    params: { customer: string; subscription?: string; metadata: Record<string, string> },
    key: string,
  ): Promise<string> {
    const subscription = await this.stripe.subscriptions.retrieve(subscriptionId);
    const card = idOf(subscription.default_payment_method);
    let invoice = await this.stripe.invoices.create(
      {
        ...params,
        pending_invoice_items_behavior: "include",
        collection_method: "charge_automatically",
        auto_advance: false,
        ...(card ? { default_payment_method: card } : {}),
      },
      { idempotencyKey: `${key}-invoice` },
    );
    const id = invoice.id ?? "";
    if (invoice.status === "draft") {
      invoice = await this.stripe.invoices.finalizeInvoice(id, {}, { idempotencyKey: `${key}-finalize` });
    }
    if (invoice.status === "open") {
      try {
        await this.stripe.invoices.pay(id, {}, { idempotencyKey: `${key}-pay` });
      } catch (error) {
        if (!(error instanceof Stripe.errors.StripeCardError)) throw error;
      }
    }
    return id;
  }

  invoicePendingSubscriptionItems(input: Params<"invoicePendingSubscriptionItems">) {
    return viaStripe(async () => {
      const key = input.idempotencyKey;
      const pending = await this.stripe.invoiceItems
        .list({ customer: input.customerId, pending: true, limit: 100 })
        .autoPagingToArray({ limit: 10_000 });
      // Every item pending on the customer is the account's (overage, items billed again): all owed now.
      if (pending.length === 0) return null;
      return await this.chargePendingItems(
        input.subscriptionId,
        {
          customer: input.customerId,
          subscription: input.subscriptionId,
          metadata: { minutely_final_bill: "account_deleted" },
        },
        key,
      );
    });
  }

  cancelSubscriptionNow(subscriptionId: string, idempotencyKey: string) {
    return viaStripe(async () => {
      const current = await this.stripe.subscriptions.retrieve(subscriptionId);
      if (current.status === "canceled" || current.status === "incomplete_expired") {
        return toSubscription(current);
      }
      const sub = await this.stripe.subscriptions.cancel(
        subscriptionId,
        { prorate: false, invoice_now: false },
        { idempotencyKey },
      );
      return toSubscription(sub);
    });
  }

  refundSubscriptionPayments(subscriptionId: string, idempotencyKey: string) {
    return viaStripe(async () => {
      const refunds: ProviderRefund[] = [];
      const sub = await this.stripe.subscriptions.retrieve(subscriptionId);
      const customerId = idOf(sub.customer);
      if (!customerId) return refunds;
      for await (const invoice of this.stripe.invoices.list({
        customer: customerId,
        subscription: subscriptionId,
        status: "paid",
        limit: 100,
        expand: ["data.payments"],
      })) {
        for (const payment of invoice.payments?.data ?? []) {
          const paymentIntentId = idOf(payment.payment.payment_intent ?? null);
          if (payment.status !== "paid" || !paymentIntentId) continue;
          const paid = payment.amount_paid ?? 0;
          const earlier = await this.stripe.refunds.list({ payment_intent: paymentIntentId, limit: 100 });
          const refunded = earlier.data
            .filter((r) => r.status !== "failed" && r.status !== "canceled")
            .reduce((sum, r) => sum + r.amount, 0);
          for (const r of earlier.data) {
            if (r.status === "failed" || r.status === "canceled") continue;
            refunds.push({ id: r.id, paymentIntentId, amountCents: r.amount, currency: r.currency });
          }
          if (paid - refunded <= 0) continue;
          try {
            const refund = await this.stripe.refunds.create(
              {
                payment_intent: paymentIntentId,
                amount: paid - refunded,
                reason: "duplicate",
                metadata: { minutely_duplicate_subscription: subscriptionId },
              },
              { idempotencyKey: `${idempotencyKey}-${paymentIntentId}` },
            );
            refunds.push({
              id: refund.id,
              paymentIntentId,
              amountCents: refund.amount,
              currency: refund.currency,
            });
          } catch (error) {
            // Refunded in full since the list above (a concurrent run): nothing is left to give back.
            if (
              error instanceof Stripe.errors.StripeInvalidRequestError &&
              error.code === "charge_already_refunded"
            ) {
              continue;
            }
            throw error;
          }
        }
      }
      return refunds;
    });
  }

  refundPayment(input: Params<"refundPayment">) {
    return viaStripe(async () => {
      const refund = await this.stripe.refunds
        .create(
          {
            payment_intent: input.paymentIntentId,
            amount: input.amountCents,
            reason: "requested_by_customer",
            metadata: { [ADJUSTMENT_ID_KEY]: input.adjustmentId },
          },
          { idempotencyKey: input.idempotencyKey },
        )
        .catch(refusedAmount);
      return refundAdjustment(refund);
    });
  }

  createCreditNote(input: Params<"createCreditNote">) {
    return viaStripe(async () => {
      const note = await this.stripe.creditNotes
        .create(
          {
            invoice: input.invoiceId,
            amount: input.amountCents,
            ...(input.paid ? { credit_amount: input.amountCents } : {}),
            memo: input.memo,
            metadata: { [ADJUSTMENT_ID_KEY]: input.adjustmentId },
          },
          { idempotencyKey: input.idempotencyKey },
        )
        .catch(refusedAmount);
      return creditNoteAdjustment(note);
    });
  }

  createBalanceCredit(input: Params<"createBalanceCredit">) {
    return viaStripe(async () => {
      const txn = await this.stripe.customers.createBalanceTransaction(
        input.customerId,
        {
          amount: -input.amountCents,
          currency: input.currency,
          description: input.description,
          metadata: { [ADJUSTMENT_ID_KEY]: input.adjustmentId },
        },
        { idempotencyKey: input.idempotencyKey },
      );
      return balanceAdjustment(txn);
    });
  }

  invoiceOfPayment(paymentIntentId: string) {
    return viaStripe(async () => {
      const payments = await this.stripe.invoicePayments.list({
        payment: { type: "payment_intent", payment_intent: paymentIntentId },
        limit: 1,
      });
      return idOf(payments.data[0]?.invoice ?? null);
    });
  }

  listInvoiceAdjustments(invoiceId: string, paymentIntentId: string | null) {
    return viaStripe(async () => {
      const found: ProviderAdjustment[] = [];
      if (paymentIntentId) {
        for await (const refund of this.stripe.refunds.list({
          payment_intent: paymentIntentId,
          limit: 100,
        })) {
          const undone = refund.status === "failed" || refund.status === "canceled" ? refund.status : null;
          found.push({ ...refundAdjustment(refund), ...(undone ? { undone } : {}) });
        }
      }
      for await (const note of this.stripe.creditNotes.list({ invoice: invoiceId, limit: 100 })) {
        const adjustment = creditNoteAdjustment(note);
        if (adjustment.amountCents <= 0) continue;
        found.push(note.status === "void" ? { ...adjustment, undone: "void" } : adjustment);
      }
      return found;
    });
  }

  listBalanceCredits(customerId: string) {
    return viaStripe(async () => {
      const found: ProviderAdjustment[] = [];
      for await (const txn of this.stripe.customers.listBalanceTransactions(customerId, { limit: 100 })) {
        if (txn.type === "adjustment" && txn.amount < 0) found.push(balanceAdjustment(txn));
      }
      return found;
    });
  }

  useForSubscription(subscriptionId: string, paymentMethodId: string, idempotencyKey: string) {
    return viaStripe(async () => {
      const sub = await this.stripe.subscriptions.update(
        subscriptionId,
        { default_payment_method: paymentMethodId },
        { idempotencyKey: `${idempotencyKey}-default` },
      );
      // A trial that ended without a card paused the subscription (Stripe's status `paused`): the card
      // resumes it (a new period starts now and is charged).
      if (sub.status === "paused") {
        try {
          await this.stripe.subscriptions.resume(
            subscriptionId,
            {},
            { idempotencyKey: `${idempotencyKey}-resume` },
          );
        } catch (error) {
          declined(error);
        }
      }
      const customerId = idOf(sub.customer);
      if (!customerId) return;
      const open = await this.stripe.invoices.list({
        customer: customerId,
        subscription: subscriptionId,
        status: "open",
      });
      for (const invoice of open.data) {
        if (!invoice.id) continue;
        try {
          await this.stripe.invoices.pay(
            invoice.id,
            { payment_method: paymentMethodId },
            { idempotencyKey: `${idempotencyKey}-pay-${invoice.id}` },
          );
        } catch (error) {
          declined(error);
        }
      }
    });
  }

  retrieveInvoice(invoiceId: string) {
    return viaStripe(
      async () =>
        await this.withAllLines(await this.stripe.invoices.retrieve(invoiceId, { expand: ["payments"] })),
    );
  }

  listInvoices(customerId: string, limit: number) {
    return viaStripe(async () => {
      const page = await this.stripe.invoices.list({
        customer: customerId,
        limit,
        expand: ["data.payments"],
      });
      const invoices: ProviderInvoice[] = [];
      for (const invoice of page.data) invoices.push(await this.withAllLines(invoice));
      return invoices;
    });
  }

  /** Reads the rest of an invoice's lines when it embeds only the first ones (Stripe embeds up to 10). */
  private async withAllLines(invoice: Stripe.Invoice): Promise<ProviderInvoice> {
    if (!invoice.lines.has_more || !invoice.id) return toInvoice(invoice);
    const lines = await this.stripe.invoices
      .listLineItems(invoice.id, { limit: 100 })
      .autoPagingToArray({ limit: 10_000 });
    return toInvoice(invoice, lines);
  }

  /**
   * Local signature check, no request to Stripe: its errors mean "not Stripe's" and stay as they are. The
   * SDK refuses only timestamps older than the tolerance; one further ahead than the tolerance is refused
   * here too (a signature made for the future would otherwise be replayable until that time came).
   */
  verifyWebhookSignature(rawBody: Buffer, signature: string, secret: string, receivedAt: Date): void {
    // The SDK's own check (the one constructEvent makes before it parses); typed as possibly absent.
    const check = this.stripe.webhooks.signature;
    if (!check) throw new Error("The Stripe SDK has no webhook signature check");
    check.verifyHeader(
      rawBody,
      signature,
      secret,
      WEBHOOK_TOLERANCE_SECONDS,
      undefined,
      receivedAt.getTime(),
    );
    const signedAt = signatureTimestamp(signature);
    if (!Number.isSafeInteger(signedAt)) {
      throw new Error("Stripe-Signature has no timestamp of digits (t=<Unix seconds>)");
    }
    if (signedAt - seconds(receivedAt) > WEBHOOK_TOLERANCE_SECONDS) {
      throw new Error("Stripe-Signature timestamp is in the future, outside the tolerance zone");
    }
  }

  readWebhookEvent(rawBody: Buffer) {
    const event = JSON.parse(rawBody.toString("utf8")) as Stripe.Event;
    return {
      id: event.id,
      type: event.type,
      created: new Date(event.created * 1000),
      object: event.data.object,
    };
  }

  advanceTestClock(testClockId: string, to: Date) {
    return viaStripe(async () => {
      await this.stripe.testHelpers.testClocks.advance(testClockId, { frozen_time: seconds(to) });
    });
  }

  retrieveTestClock(testClockId: string) {
    return viaStripe(async () => {
      const clock = await this.stripe.testHelpers.testClocks.retrieve(testClockId);
      return { id: clock.id, frozenTime: new Date(clock.frozen_time * 1000), status: clock.status };
    });
  }
}
