import { chargeOutcome, type Decline } from "../cards.ts";
import type { EmulatorCore } from "../core.ts";
import { type ApiError, cardError } from "../errors.ts";
import { newId, newSecret } from "../ids.ts";
import { buildInvoice, projectedAmounts } from "../objects/invoices.ts";
import { buildInvoicePayment, buildPaymentIntent } from "../objects/paymentIntents.ts";
import { buildPaymentMethod } from "../objects/paymentMethods.ts";
import { amountTooLarge, isTiered, MAX_AMOUNT, unitAmountIn } from "../objects/prices.ts";
import type {
  InvoiceItemRec,
  InvoiceRec,
  LineRec,
  PaymentIntentRec,
  PriceRec,
  SubscriptionItemRec,
  SubscriptionRec,
} from "../state.ts";
import { changeBalance } from "./balance.ts";
import { freezeInvoiceDiscounts, useUpOnceDiscounts } from "./discounts.ts";
import { onInvoicePaid, onInvoicePaymentFailed, retryDelays } from "./dunning.ts";
import { recordCharge } from "./payments.ts";
import { freezeInvoiceTaxes } from "./tax.ts";

const DAY = 86_400;

export function formatAmount(cents: number, currency: string): string {
  const abs = Math.abs(cents);
  const zeroDecimal = ["jpy", "krw", "vnd", "clp", "isk", "ugx", "xaf", "xof"].includes(currency);
  const value = zeroDecimal ? String(abs) : (abs / 100).toFixed(2);
  const symbol = currency === "usd" ? "$" : currency === "eur" ? "€" : currency === "gbp" ? "£" : "";
  const sign = cents < 0 ? "-" : "";
  return symbol ? `${sign}${symbol}${value}` : `${sign}${value} ${currency.toUpperCase()}`;
}

export function productName(core: EmulatorCore, price: PriceRec): string {
  return core.state.products[price.product]?.name ?? price.product;
}

export function planDescription(
  core: EmulatorCore,
  price: PriceRec,
  quantity: number,
  currency: string = price.currency,
): string {
  const interval = price.recurring
    ? ` / ${price.recurring.interval_count > 1 ? `${price.recurring.interval_count} ` : ""}${price.recurring.interval}${price.recurring.interval_count > 1 ? "s" : ""}`
    : "";
  if (isTiered(price))
    return `${quantity} × ${productName(core, price)} (${price.tiers_mode ?? "graduated"} tiers${interval})`;
  return `${quantity} × ${productName(core, price)} (at ${formatAmount(unitAmountIn(price, currency), currency)}${interval})`;
}

export function newInvoice(
  core: EmulatorCore,
  opts: {
    customer: string;
    subscription: SubscriptionRec | null;
    billing_reason: InvoiceRec["billing_reason"];
    period_start: number;
    period_end: number;
    now: number;
    currency: string;
    collection_method?: InvoiceRec["collection_method"];
    days_until_due?: number | null;
    description?: string | null;
    metadata?: Record<string, string>;
    default_payment_method?: string | null;
    auto_advance?: boolean;
    /** Manual invoices: `automatic_tax[enabled]`, `default_tax_rates` (subscription invoices take the subscription's). */
    automatic_tax?: boolean;
    default_tax_rates?: string[];
  },
): InvoiceRec {
  const customer = core.customer(opts.customer);
  const collection = opts.collection_method ?? opts.subscription?.collection_method ?? "charge_automatically";
  const daysUntilDue = opts.days_until_due ?? opts.subscription?.days_until_due ?? null;
  const inv: InvoiceRec = {
    id: newId("in"),
    seq: core.nextSeq(),
    created: opts.now,
    customer: customer.id,
    subscription: opts.subscription?.id ?? null,
    subscription_proration_date: null,
    status: "draft",
    number: null,
    billing_reason: opts.billing_reason,
    lines: [],
    currency: opts.currency,
    period_start: opts.period_start,
    period_end: opts.period_end,
    starting_balance: 0,
    ending_balance: null,
    amount_due: 0,
    amount_paid: 0,
    attempt_count: 0,
    attempted: false,
    next_payment_attempt: null,
    auto_advance: opts.auto_advance ?? true,
    collection_method: collection,
    due_date: collection === "send_invoice" ? opts.now + (daysUntilDue ?? 30) * DAY : null,
    default_payment_method: opts.default_payment_method ?? null,
    description: opts.description ?? null,
    metadata: opts.metadata ?? {},
    finalized_at: null,
    paid_at: null,
    voided_at: null,
    marked_uncollectible_at: null,
    uncollectible_reason: null,
    payment_intent: null,
    automatic_tax: opts.automatic_tax ?? opts.subscription?.automatic_tax ?? false,
    default_tax_rates: opts.default_tax_rates ?? [],
    last_finalization_error: null,
    customer_email: customer.email,
    customer_name: customer.name,
    test_clock: customer.test_clock,
    deleted: false,
  };
  core.state.invoices[inv.id] = inv;
  return inv;
}

export function addInvoiceItemLine(inv: InvoiceRec, item: InvoiceItemRec): LineRec {
  item.invoice = inv.id;
  const line: LineRec = {
    id: newId("il"),
    amount: item.amount,
    currency: item.currency,
    description: item.description,
    period: { ...item.period },
    price: item.price,
    quantity: item.quantity,
    proration: item.proration,
    kind: "invoice_item",
    invoice_item: item.id,
    subscription: item.subscription,
    subscription_item: item.subscription_item,
    metadata: item.metadata,
    tax_rates: item.tax_rates ?? null,
  };
  inv.lines.push(line);
  return line;
}

export function addSubscriptionLine(
  inv: InvoiceRec,
  sub: SubscriptionRec,
  item: SubscriptionItemRec,
  price: PriceRec,
  amount: number,
  quantity: number,
  period: { start: number; end: number },
  description: string,
): LineRec {
  const line: LineRec = {
    id: newId("il"),
    amount,
    currency: sub.currency,
    description,
    period,
    price: price.id,
    quantity,
    proration: false,
    kind: "subscription_item",
    invoice_item: null,
    subscription: sub.id,
    subscription_item: item.id,
    metadata: {},
    tax_rates: item.tax_rates ?? null,
  };
  inv.lines.push(line);
  return line;
}

/** Moves the customer's pending invoice items (optionally only those of one subscription) onto `inv`. */
export function pullPendingItems(
  core: EmulatorCore,
  inv: InvoiceRec,
  filter: (item: InvoiceItemRec) => boolean,
): void {
  const pending = Object.values(core.state.invoiceItems)
    .filter(
      (item) =>
        !item.deleted &&
        item.invoice === null &&
        item.customer === inv.customer &&
        item.currency === inv.currency,
    )
    .filter(filter)
    .sort((a, b) => a.seq - b.seq);
  for (const item of pending) addInvoiceItemLine(inv, item);
}

export function emitInvoiceCreated(core: EmulatorCore, inv: InvoiceRec): void {
  core.emit("invoice.created", buildInvoice(core, inv));
}

/**
 * Draft → open: number, balance application, PaymentIntent; zero-amount invoices are paid at once.
 * `manual` (the finalize and pay endpoints) refuses an automatic-tax invoice without a customer location.
 */
export function finalizeInvoice(core: EmulatorCore, inv: InvoiceRec, now: number, manual = false): void {
  if (inv.status !== "draft") return;
  const tooLarge = tooLargeToFinalize(core, inv);
  if (tooLarge) throw tooLarge;
  const customer = core.customer(inv.customer);
  const before = buildInvoice(core, inv);
  freezeInvoiceTaxes(core, inv, manual);
  freezeInvoiceDiscounts(core, inv);
  // Amounts from the frozen discounts and taxes; only then are `once` discounts used up (below).
  const amounts = projectedAmounts(core, inv);
  inv.starting_balance = amounts.starting;
  inv.amount_due = amounts.due;
  inv.ending_balance = amounts.ending;
  if (amounts.ending !== customer.balance) {
    changeBalance(core, customer, amounts.ending - customer.balance, {
      type: "applied_to_invoice",
      currency: inv.currency,
      invoice: inv.id,
      quiet: true,
    });
  }
  inv.number = `${customer.invoice_prefix}-${String(customer.next_invoice_sequence).padStart(4, "0")}`;
  customer.next_invoice_sequence += 1;
  inv.status = "open";
  inv.finalized_at = now;
  useUpOnceDiscounts(core, inv, now);
  if (inv.amount_due > 0) {
    const pi: PaymentIntentRec = {
      id: newId("pi"),
      seq: core.nextSeq(),
      created: now,
      amount: inv.amount_due,
      currency: inv.currency,
      customer: inv.customer,
      invoice: inv.id,
      payment_method: null,
      status: "requires_payment_method",
      last_payment_error: null,
      client_secret: "",
      description: inv.subscription ? "Subscription update" : "Invoice payment",
      metadata: {},
    };
    pi.client_secret = newSecret(`${pi.id}_secret`);
    core.state.paymentIntents[pi.id] = pi;
    inv.payment_intent = pi.id;
    core.state.invoicePayments[`inpay_${pi.id.slice(3)}`] = {
      id: `inpay_${pi.id.slice(3)}`,
      seq: core.nextSeq(),
      created: now,
      invoice: inv.id,
      payment_intent: pi.id,
      amount_requested: inv.amount_due,
      amount_paid: null,
      currency: inv.currency,
      status: "open",
      paid_at: null,
    };
    core.emit("payment_intent.created", buildPaymentIntent(core, pi));
  }
  core.emitUpdate("invoice.finalized", before, buildInvoice(core, inv));
  if (inv.amount_due === 0) markInvoicePaid(core, inv, now, false);
}

/**
 * Stripe refuses to finalize an invoice whose amount due is over its maximum charge (`amount_too_large`);
 * the request that would finalize it (subscription create or update, finalize, pay) fails and changes nothing.
 */
export function tooLargeToFinalize(core: EmulatorCore, inv: InvoiceRec): ApiError | null {
  const due = projectedAmounts(core, inv).due;
  if (due <= MAX_AMOUNT) return null;
  return amountTooLarge(
    `The invoice's amount due (${formatAmount(due, inv.currency)}) is greater than the maximum amount allowed (${formatAmount(MAX_AMOUNT, inv.currency)}). Use a lower amount and try again.`,
  );
}

/**
 * Finalization without a request to refuse (renewals, the clock's due drafts): an invoice too large to
 * finalize stays a draft that no longer advances, with `last_finalization_error` and
 * `invoice.finalization_failed`.
 */
export function finalizeAutomatically(core: EmulatorCore, inv: InvoiceRec, now: number): void {
  const tooLarge = inv.status === "draft" ? tooLargeToFinalize(core, inv) : null;
  if (!tooLarge) {
    finalizeInvoice(core, inv, now);
    return;
  }
  const before = buildInvoice(core, inv);
  inv.auto_advance = false;
  inv.last_finalization_error = {
    type: "invalid_request_error",
    code: "amount_too_large",
    message: tooLarge.body.message,
    ...(tooLarge.body.doc_url ? { doc_url: tooLarge.body.doc_url } : {}),
  };
  core.emitUpdate("invoice.finalization_failed", before, buildInvoice(core, inv));
}

export function markInvoicePaid(core: EmulatorCore, inv: InvoiceRec, now: number, outOfBand: boolean): void {
  const before = buildInvoice(core, inv);
  inv.status = "paid";
  inv.amount_paid = outOfBand ? 0 : inv.amount_due;
  inv.paid_at = now;
  inv.next_payment_attempt = null;
  const pi = inv.payment_intent ? core.state.paymentIntents[inv.payment_intent] : undefined;
  if (pi && outOfBand) pi.status = "canceled";
  const payment = pi ? core.state.invoicePayments[`inpay_${pi.id.slice(3)}`] : undefined;
  if (payment) {
    payment.status = outOfBand ? "canceled" : "paid";
    payment.amount_paid = outOfBand ? 0 : payment.amount_requested;
    payment.paid_at = outOfBand ? null : now;
    if (!outOfBand) core.emit("invoice_payment.paid", buildInvoicePayment(payment));
  }
  core.emitUpdate("invoice.paid", before, buildInvoice(core, inv));
  core.emit("invoice.payment_succeeded", buildInvoice(core, inv));
  onInvoicePaid(core, inv, now);
}

export type PaymentAttempt =
  | { ok: true }
  | {
      ok: false;
      action: boolean;
      decline: Decline;
      paymentIntent: string | null;
      paymentMethod: string | null;
    };

const NO_PAYMENT_METHOD: Decline = {
  code: "resource_missing",
  decline_code: "",
  message:
    "This customer has no attached payment source or default payment method. Please consider adding a default payment method.",
};

export function paymentMethodFor(core: EmulatorCore, inv: InvoiceRec): string | null {
  const sub = inv.subscription ? core.state.subscriptions[inv.subscription] : undefined;
  return (
    inv.default_payment_method ??
    sub?.default_payment_method ??
    core.state.customers[inv.customer]?.default_payment_method ??
    null
  );
}

/**
 * Charges an open invoice: the given PaymentMethod, else invoice → subscription → customer default.
 * Declines leave the invoice open with its attempt recorded and emit `invoice.payment_failed`
 * (or `invoice.payment_action_required` for cards that need authentication).
 */
export function attemptInvoicePayment(
  core: EmulatorCore,
  inv: InvoiceRec,
  now: number,
  options: { paymentMethod?: string | null; automatic: boolean; authenticated?: boolean },
): PaymentAttempt {
  if (inv.status === "draft") finalizeInvoice(core, inv, now);
  if (inv.status !== "open") return { ok: true };
  if (inv.amount_due - inv.amount_paid <= 0) {
    markInvoicePaid(core, inv, now, false);
    return { ok: true };
  }
  const pmId = options.paymentMethod ?? paymentMethodFor(core, inv);
  const pi = inv.payment_intent ? core.state.paymentIntents[inv.payment_intent] : undefined;
  const before = buildInvoice(core, inv);
  inv.attempted = true;
  inv.attempt_count += 1;
  const pm = pmId ? core.state.paymentMethods[pmId] : undefined;
  const outcome = pm
    ? chargeOutcome(pm.card, options.authenticated ?? false, pm.off_session_ready ?? false)
    : { ok: false as const, action: false, decline: NO_PAYMENT_METHOD };
  if (pi) {
    pi.payment_method = pm?.id ?? null;
    if (pm) recordCharge(core, pi, pm, now, outcome.ok ? null : outcome.decline);
  }
  if (outcome.ok) {
    if (pi) {
      pi.status = "succeeded";
      pi.last_payment_error = null;
      core.emit("payment_intent.succeeded", buildPaymentIntent(core, pi));
    }
    markInvoicePaid(core, inv, now, false);
    return { ok: true };
  }
  if (pi) {
    pi.status = outcome.action ? "requires_action" : "requires_payment_method";
    pi.last_payment_error = {
      code: outcome.decline.code,
      decline_code: outcome.decline.decline_code || null,
      message: outcome.decline.message,
      type: "card_error",
    };
    core.emit(
      outcome.action ? "payment_intent.requires_action" : "payment_intent.payment_failed",
      buildPaymentIntent(core, pi),
    );
  }
  if (options.automatic) {
    const delay = retryDelays(core)[inv.attempt_count - 1];
    inv.next_payment_attempt = delay === undefined || inv.subscription === null ? null : now + delay;
  }
  if (outcome.action) {
    core.emitUpdate("invoice.payment_action_required", before, buildInvoice(core, inv));
  } else {
    core.emitUpdate("invoice.payment_failed", before, buildInvoice(core, inv));
  }
  onInvoicePaymentFailed(core, inv, now);
  return {
    ok: false,
    action: outcome.action,
    decline: outcome.decline,
    paymentIntent: pi?.id ?? null,
    paymentMethod: pm?.id ?? null,
  };
}

/**
 * Stripe's 402 for a declined invoice payment: the decline, plus the PaymentIntent and the PaymentMethod
 * that was charged (`error.payment_intent`, `error.payment_method`), as Stripe's card errors carry them.
 */
export function declineError(core: EmulatorCore, attempt: Extract<PaymentAttempt, { ok: false }>): ApiError {
  const pi = attempt.paymentIntent ? core.state.paymentIntents[attempt.paymentIntent] : undefined;
  const pm = attempt.paymentMethod ? core.state.paymentMethods[attempt.paymentMethod] : undefined;
  return cardError(attempt.decline.message, attempt.decline.code, attempt.decline.decline_code || undefined, {
    ...(pi ? { payment_intent: buildPaymentIntent(core, pi) } : {}),
    ...(pm ? { payment_method: buildPaymentMethod(pm) } : {}),
  });
}

export function voidInvoice(core: EmulatorCore, inv: InvoiceRec, now: number): void {
  const before = buildInvoice(core, inv);
  inv.status = "void";
  inv.voided_at = now;
  inv.next_payment_attempt = null;
  const pi = inv.payment_intent ? core.state.paymentIntents[inv.payment_intent] : undefined;
  if (pi && pi.status !== "succeeded") pi.status = "canceled";
  // Restore balance that was applied at finalization.
  const customer = core.state.customers[inv.customer];
  if (customer && inv.ending_balance !== null && inv.starting_balance !== inv.ending_balance) {
    changeBalance(core, customer, inv.starting_balance - inv.ending_balance, {
      type: "unapplied_from_invoice",
      currency: inv.currency,
      invoice: inv.id,
      quiet: true,
    });
  }
  core.emitUpdate("invoice.voided", before, buildInvoice(core, inv));
}
