import {
  assertUpdatable,
  cancelPaymentIntent,
  checkAmount,
  confirmPaymentIntent,
  newPaymentIntent,
  setPaymentIntentMethod,
} from "../billing/paymentIntents.ts";
import { type EmulatorCore, paginate } from "../core.ts";
import { invalidRequest, missingParam, notSupported, resourceMissing } from "../errors.ts";
import type { Router } from "../http/router.ts";
import { buildInvoicePayment, buildPaymentIntent, buildSetupIntent } from "../objects/paymentIntents.ts";
import type { Params } from "../params.ts";
import type { PaymentIntentRec } from "../state.ts";

function paymentIntent(core: EmulatorCore, id: string): PaymentIntentRec {
  const rec = core.state.paymentIntents[id];
  if (!rec) throw resourceMissing("payment_intent", id, "intent");
  return rec;
}

/** `off_session=true|one_off|recurring` means the customer is not present. */
function offSession(p: Params): boolean {
  const value = p.str("off_session");
  return value !== undefined && value !== "false";
}

/** `error_on_requires_action=true` fails an attempt that needs authentication, as off session does. */
function confirmOptions(p: Params) {
  const returnUrl = p.str("return_url");
  return {
    offSession: offSession(p) || p.bool("error_on_requires_action") === true,
    authenticated: false,
    ...(returnUrl !== undefined ? { returnUrl } : {}),
  };
}

function createPaymentIntent(core: EmulatorCore, p: Params): PaymentIntentRec {
  const amount = p.int("amount");
  if (amount === undefined) throw missingParam("amount");
  const currency = p.str("currency");
  if (!currency) throw missingParam("currency");
  if (p.str("capture_method") === "manual")
    throw notSupported("capture_method=manual (authorize now, capture later)");
  const confirm = p.bool("confirm") ?? false;
  if (!confirm && (p.has("off_session") || p.has("return_url") || p.has("error_on_requires_action"))) {
    const name = p.has("off_session")
      ? "off_session"
      : p.has("return_url")
        ? "return_url"
        : "error_on_requires_action";
    throw invalidRequest(`You can only pass in ${name} when confirm=true.`, name);
  }
  const automatic = p.obj("automatic_payment_methods");
  automatic?.bool("enabled");
  automatic?.str("allow_redirects");
  const customer = p.str("customer") || null;
  const pi = newPaymentIntent(core, {
    amount,
    currency: currency.toLowerCase(),
    customer,
    description: p.str("description") || null,
    metadata: p.metadata("metadata", {}),
    setupFutureUsage: p.oneOf("setup_future_usage", ["off_session", "on_session"] as const) ?? null,
    receiptEmail: p.str("receipt_email") || null,
  });
  const pmId = p.str("payment_method");
  if (pmId) setPaymentIntentMethod(core, pi, pmId);
  if (confirm) confirmPaymentIntent(core, pi, confirmOptions(p));
  return pi;
}

function updatePaymentIntent(core: EmulatorCore, pi: PaymentIntentRec, p: Params): void {
  assertUpdatable(pi);
  if (p.has("currency")) pi.currency = (p.str("currency") ?? pi.currency).toLowerCase();
  if (p.has("amount")) pi.amount = p.int("amount") ?? pi.amount;
  if (p.has("amount") || p.has("currency")) checkAmount(pi.amount, pi.currency);
  // The pending authentication was for the old amount: it needs confirming again (Stripe's lifecycle).
  if ((p.has("amount") || p.has("currency")) && pi.status === "requires_action") {
    pi.status = "requires_confirmation";
  }
  if (p.has("customer")) {
    const customer = p.str("customer") || null;
    if (pi.customer !== null && customer !== pi.customer) {
      throw invalidRequest("You cannot change the customer of a PaymentIntent once it has one.", "customer");
    }
    if (customer !== null) core.customer(customer);
    pi.customer = customer;
  }
  if (p.has("description")) pi.description = p.str("description") || null;
  if (p.has("receipt_email")) pi.receipt_email = p.str("receipt_email") || null;
  if (p.has("setup_future_usage")) {
    pi.setup_future_usage = p.oneOf("setup_future_usage", ["off_session", "on_session"] as const) ?? null;
  }
  pi.metadata = p.metadata("metadata", pi.metadata);
  const pmId = p.str("payment_method");
  if (pmId) setPaymentIntentMethod(core, pi, pmId);
}

export function registerPaymentIntents(router: Router): void {
  router.post("/v1/payment_intents", ({ core, p }) => buildPaymentIntent(core, createPaymentIntent(core, p)));
  router.post("/v1/payment_intents/:id", ({ core, p, path }) => {
    const pi = paymentIntent(core, path.id ?? "");
    updatePaymentIntent(core, pi, p);
    return buildPaymentIntent(core, pi);
  });
  router.post("/v1/payment_intents/:id/confirm", ({ core, p, path }) => {
    const pi = paymentIntent(core, path.id ?? "");
    if (pi.status === "succeeded" || pi.status === "canceled") {
      confirmPaymentIntent(core, pi, { offSession: false, authenticated: false });
    }
    const pmId = p.str("payment_method");
    if (pmId) setPaymentIntentMethod(core, pi, pmId);
    if (p.has("receipt_email")) pi.receipt_email = p.str("receipt_email") || null;
    if (p.has("setup_future_usage")) {
      pi.setup_future_usage = p.oneOf("setup_future_usage", ["off_session", "on_session"] as const) ?? null;
    }
    confirmPaymentIntent(core, pi, confirmOptions(p));
    return buildPaymentIntent(core, pi);
  });
  router.post("/v1/payment_intents/:id/cancel", ({ core, p, path }) => {
    const pi = paymentIntent(core, path.id ?? "");
    cancelPaymentIntent(core, pi, p.str("cancellation_reason") ?? null);
    return buildPaymentIntent(core, pi);
  });
  router.get("/v1/payment_intents", ({ core, p, url }) => {
    const customer = p.str("customer");
    const items = Object.values(core.state.paymentIntents).filter(
      (pi) => customer === undefined || pi.customer === customer,
    );
    return paginate(items, p, url, (pi) => buildPaymentIntent(core, pi));
  });
  router.get("/v1/payment_intents/:id", ({ core, path }) =>
    buildPaymentIntent(core, paymentIntent(core, path.id ?? "")),
  );
  router.get("/v1/invoice_payments", ({ core, p, url }) => {
    const invoice = p.str("invoice");
    // payment[type]=payment_intent&payment[payment_intent]=pi_...: the invoice a PaymentIntent paid.
    const payment = p.obj("payment");
    const paymentIntent =
      payment?.str("type") === "payment_intent" ? payment.str("payment_intent") : undefined;
    const items = Object.values(core.state.invoicePayments).filter(
      (ip) =>
        (invoice === undefined || ip.invoice === invoice) &&
        (paymentIntent === undefined || ip.payment_intent === paymentIntent),
    );
    return paginate(items, p, url, buildInvoicePayment);
  });
  router.get("/v1/invoice_payments/:id", ({ core, path }) => {
    const rec = core.state.invoicePayments[path.id ?? ""];
    if (!rec) throw resourceMissing("invoice_payment", path.id ?? "", "id");
    return buildInvoicePayment(rec);
  });
  router.get("/v1/setup_intents/:id", ({ core, path }) => {
    const rec = core.state.setupIntents[path.id ?? ""];
    if (!rec) throw resourceMissing("setup_intent", path.id ?? "", "intent");
    return buildSetupIntent(rec);
  });
}
