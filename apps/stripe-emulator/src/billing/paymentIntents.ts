import { chargeOutcome, type Decline } from "../cards.ts";
import { CommitThenThrow, type EmulatorCore } from "../core.ts";
import { cardError, invalidRequest } from "../errors.ts";
import { newId, newSecret } from "../ids.ts";
import { buildPaymentIntent } from "../objects/paymentIntents.ts";
import { buildPaymentMethod } from "../objects/paymentMethods.ts";
import { amountTooLarge, MAX_AMOUNT } from "../objects/prices.ts";
import type { PaymentIntentRec, PaymentMethodRec } from "../state.ts";
import { attemptInvoicePayment, declineError, formatAmount } from "./invoices.ts";
import { materializePaymentMethod, recordCharge } from "./payments.ts";

/**
 * PaymentIntents made through the API (`/v1/payment_intents`) and by Checkout in `payment` mode. Cards
 * settle at once, so a confirmed PaymentIntent goes straight to `succeeded`, `requires_action` (3-D
 * Secure, on session) or back to `requires_payment_method` (a decline, or authentication needed off
 * session); `processing` is never reached with cards. Invoice PaymentIntents are made by `invoices.ts`.
 */

/** Stripe's minimum charge amounts (minor units) for common currencies; 50 for the rest. */
const MINIMUM_AMOUNTS: Record<string, number> = { gbp: 30, jpy: 50, huf: 17500, mxn: 1000, hkd: 400 };

export function minimumAmount(currency: string): number {
  return MINIMUM_AMOUNTS[currency] ?? 50;
}

const CANCELABLE: readonly PaymentIntentRec["status"][] = [
  "requires_payment_method",
  "requires_confirmation",
  "requires_action",
  "processing",
];

const AUTHENTICATION_FAILED: Decline = {
  code: "payment_intent_authentication_failure",
  decline_code: "",
  message:
    "The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.",
};

export function paymentIntentNow(core: EmulatorCore, pi: PaymentIntentRec): number {
  return pi.customer ? core.customerNow(pi.customer) : core.realNow();
}

export interface NewPaymentIntent {
  amount: number;
  currency: string;
  customer: string | null;
  description: string | null;
  metadata: Record<string, string>;
  setupFutureUsage: "off_session" | "on_session" | null;
  receiptEmail: string | null;
  checkoutSession?: string | null;
}

export function checkAmount(amount: number, currency: string, param = "amount"): void {
  const minimum = minimumAmount(currency);
  if (amount < minimum) {
    throw invalidRequest(
      `Amount must be at least ${formatAmount(minimum, currency)} ${currency}`,
      param,
      "amount_too_small",
    );
  }
  if (amount > MAX_AMOUNT) {
    // Stripe's wording groups thousands: "Amount must be no more than $999,999.99".
    const max = formatAmount(MAX_AMOUNT, currency).replace(/\d+/, (d) => d.replace(/\B(?=(\d{3})+$)/g, ","));
    throw amountTooLarge(`Amount must be no more than ${max}`, param);
  }
}

export function newPaymentIntent(core: EmulatorCore, input: NewPaymentIntent): PaymentIntentRec {
  if (input.customer !== null) core.customer(input.customer);
  checkAmount(input.amount, input.currency);
  const now = input.customer ? core.customerNow(input.customer) : core.realNow();
  const pi: PaymentIntentRec = {
    id: newId("pi"),
    seq: core.nextSeq(),
    created: now,
    amount: input.amount,
    currency: input.currency,
    customer: input.customer,
    invoice: null,
    payment_method: null,
    status: "requires_payment_method",
    last_payment_error: null,
    latest_charge: null,
    client_secret: "",
    description: input.description,
    metadata: input.metadata,
    setup_future_usage: input.setupFutureUsage,
    cancellation_reason: null,
    canceled_at: null,
    receipt_email: input.receiptEmail,
    checkout_session: input.checkoutSession ?? null,
  };
  pi.client_secret = newSecret(`${pi.id}_secret`);
  core.state.paymentIntents[pi.id] = pi;
  core.emit("payment_intent.created", buildPaymentIntent(core, pi));
  return pi;
}

/** Sets the PaymentIntent's PaymentMethod (a `pm_card_*` test id makes a new one, as on Stripe). */
export function setPaymentIntentMethod(
  core: EmulatorCore,
  pi: PaymentIntentRec,
  id: string,
  param = "payment_method",
): PaymentMethodRec {
  const pm = materializePaymentMethod(core, id, paymentIntentNow(core, pi), param);
  if (pm.customer !== null && pm.customer !== pi.customer) {
    throw invalidRequest(
      pi.customer
        ? `The provided PaymentMethod belongs to a different Customer than the one on this PaymentIntent (${pi.customer}).`
        : `The provided PaymentMethod is attached to a Customer (${pm.customer}); pass that customer with the PaymentIntent.`,
      param,
    );
  }
  pi.payment_method = pm.id;
  if (pi.status === "requires_payment_method" || pi.status === "requires_action") {
    pi.status = "requires_confirmation";
  }
  return pm;
}

function unexpectedState(pi: PaymentIntentRec, action: "confirm" | "cancel" | "update"): never {
  if (action === "confirm" && pi.status === "succeeded") {
    throw invalidRequest(
      "You cannot confirm this PaymentIntent because it has already succeeded after being previously confirmed.",
      undefined,
      "payment_intent_unexpected_state",
    );
  }
  if (action === "cancel") {
    throw invalidRequest(
      `You cannot cancel this PaymentIntent because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be canceled: ${CANCELABLE.join(", ")}.`,
      undefined,
      "payment_intent_unexpected_state",
    );
  }
  throw invalidRequest(
    `You cannot ${action} this PaymentIntent because it has a status of ${pi.status}.`,
    undefined,
    "payment_intent_unexpected_state",
  );
}

/** Whether the PaymentIntent can still be changed or confirmed. */
function open(pi: PaymentIntentRec): boolean {
  return (
    pi.status === "requires_payment_method" ||
    pi.status === "requires_confirmation" ||
    pi.status === "requires_action"
  );
}

export function assertUpdatable(pi: PaymentIntentRec): void {
  if (!open(pi)) unexpectedState(pi, "update");
  if (pi.invoice) {
    throw invalidRequest(
      "You cannot update this PaymentIntent because it was created by an invoice; update the invoice instead.",
      undefined,
      "payment_intent_unexpected_state",
    );
  }
}

/** The 402 Stripe answers a failed confirmation with: the decline, the PaymentIntent, its PaymentMethod. */
function confirmError(core: EmulatorCore, pi: PaymentIntentRec, pm: PaymentMethodRec, decline: Decline) {
  return cardError(decline.message, decline.code, decline.decline_code || undefined, {
    payment_intent: buildPaymentIntent(core, pi),
    payment_method: buildPaymentMethod(pm),
    ...(pi.latest_charge ? { charge: pi.latest_charge } : {}),
  });
}

function fail(core: EmulatorCore, pi: PaymentIntentRec, decline: Decline): void {
  pi.status = "requires_payment_method";
  pi.last_payment_error = {
    code: decline.code,
    decline_code: decline.decline_code || null,
    message: decline.message,
    type: decline.code === AUTHENTICATION_FAILED.code ? "invalid_request_error" : "card_error",
  };
  core.emit("payment_intent.payment_failed", buildPaymentIntent(core, pi));
}

function succeed(
  core: EmulatorCore,
  pi: PaymentIntentRec,
  pm: PaymentMethodRec,
  authenticated: boolean,
): void {
  pi.status = "succeeded";
  pi.last_payment_error = null;
  if (pi.setup_future_usage && pi.customer) {
    if (pm.customer === null) {
      pm.customer = pi.customer;
      core.emit("payment_method.attached", buildPaymentMethod(pm));
    }
    // Saved with the customer present (and authenticated where the card asked for it): later
    // off-session payments need no authentication.
    if (pi.setup_future_usage === "off_session" || authenticated) pm.off_session_ready = true;
  }
  core.emit("payment_intent.succeeded", buildPaymentIntent(core, pi));
}

/**
 * Confirms a PaymentIntent: charges its PaymentMethod. Declines, and authentication needed off session,
 * commit the failed attempt (`requires_payment_method`, `last_payment_error`, `charge.failed`,
 * `payment_intent.payment_failed`) and answer Stripe's 402; authentication on session answers 200 with
 * `requires_action` and a `next_action` URL to the emulated 3-D Secure page.
 */
export function confirmPaymentIntent(
  core: EmulatorCore,
  pi: PaymentIntentRec,
  options: { offSession: boolean; authenticated: boolean; returnUrl?: string | null },
): void {
  if (!open(pi)) unexpectedState(pi, "confirm");
  const now = paymentIntentNow(core, pi);
  if (pi.invoice) {
    const inv = core.invoice(pi.invoice);
    const attempt = attemptInvoicePayment(core, inv, now, {
      paymentMethod: pi.payment_method,
      automatic: false,
      authenticated: options.authenticated,
    });
    if (!attempt.ok) throw new CommitThenThrow(declineError(core, attempt));
    return;
  }
  const pm = pi.payment_method ? core.state.paymentMethods[pi.payment_method] : undefined;
  if (!pm) {
    throw invalidRequest(
      pi.customer
        ? `You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the PaymentIntent with ${pi.customer}, specify a payment method attached to this customer along with the customer ID.`
        : "You cannot confirm this PaymentIntent because it's missing a payment method. You can either update the PaymentIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.",
      undefined,
      "payment_intent_unexpected_state",
    );
  }
  if (options.returnUrl !== undefined) pi.return_url = options.returnUrl;
  const outcome = chargeOutcome(pm.card, options.authenticated, pm.off_session_ready ?? false);
  if (!outcome.ok && outcome.action && !options.offSession) {
    pi.status = "requires_action";
    pi.last_payment_error = null;
    core.emit("payment_intent.requires_action", buildPaymentIntent(core, pi));
    return;
  }
  recordCharge(core, pi, pm, now, outcome.ok ? null : outcome.decline);
  if (outcome.ok) {
    succeed(core, pi, pm, options.authenticated);
    return;
  }
  fail(core, pi, outcome.decline);
  throw new CommitThenThrow(confirmError(core, pi, pm, outcome.decline));
}

/** The emulated 3-D Secure page's answer for a PaymentIntent in `requires_action`. */
export function authenticatePaymentIntent(core: EmulatorCore, pi: PaymentIntentRec, success: boolean): void {
  if (pi.status !== "requires_action") {
    throw invalidRequest(
      `This PaymentIntent has a status of ${pi.status}; there is nothing to authenticate.`,
    );
  }
  if (success) {
    confirmPaymentIntent(core, pi, { offSession: false, authenticated: true });
    return;
  }
  fail(core, pi, AUTHENTICATION_FAILED);
}

export function cancelPaymentIntent(core: EmulatorCore, pi: PaymentIntentRec, reason: string | null): void {
  if (!CANCELABLE.includes(pi.status)) unexpectedState(pi, "cancel");
  if (pi.invoice) {
    throw invalidRequest(
      "You cannot cancel this PaymentIntent because it was created by an invoice. Void the invoice instead.",
      undefined,
      "payment_intent_unexpected_state",
    );
  }
  pi.status = "canceled";
  pi.cancellation_reason = reason;
  pi.canceled_at = paymentIntentNow(core, pi);
  core.emit("payment_intent.canceled", buildPaymentIntent(core, pi));
}
