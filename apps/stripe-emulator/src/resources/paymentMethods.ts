import type Stripe from "stripe";
import {
  cardByLast4,
  cardByNumber,
  cardByPaymentMethodId,
  cardByToken,
  cardRecord,
  type TestCard,
} from "../cards.ts";
import { type EmulatorCore, paginate } from "../core.ts";
import { cardError, invalidRequest, missingParam, resourceMissing } from "../errors.ts";
import { newId } from "../ids.ts";
import type { Params } from "../params.ts";
import type { Router } from "../router.ts";
import type { PaymentMethodRec } from "../state.ts";
import { buildCustomer } from "./customers.ts";

export function buildPaymentMethod(rec: PaymentMethodRec): Stripe.PaymentMethod {
  return {
    id: rec.id,
    object: "payment_method",
    allow_redisplay: rec.allow_redisplay,
    billing_details: {
      address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null },
      email: rec.billing_details.email,
      name: rec.billing_details.name,
      phone: rec.billing_details.phone,
      tax_id: null,
    },
    card: {
      brand: rec.card.brand,
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: "pass" },
      country: rec.card.country,
      display_brand: rec.card.display_brand,
      exp_month: rec.card.exp_month,
      exp_year: rec.card.exp_year,
      fingerprint: rec.card.fingerprint,
      funding: rec.card.funding,
      generated_from: null,
      last4: rec.card.last4,
      networks: { available: [rec.card.brand], preferred: null },
      regulated_status: "unregulated",
      three_d_secure_usage: { supported: true },
      wallet: null,
    },
    created: rec.created,
    customer: rec.customer,
    customer_account: null,
    livemode: false,
    metadata: rec.metadata,
    type: "card",
  };
}

function newPaymentMethodFromCard(
  core: EmulatorCore,
  card: TestCard,
  alias: string | null,
  now: number,
): PaymentMethodRec {
  const year = new Date(now * 1000).getUTCFullYear();
  const rec: PaymentMethodRec = {
    id: newId("pm"),
    seq: core.nextSeq(),
    created: now,
    type: "card",
    customer: null,
    card: cardRecord(card, year),
    alias,
    billing_details: { email: null, name: null, phone: null },
    metadata: {},
    allow_redisplay: "unspecified",
  };
  core.state.paymentMethods[rec.id] = rec;
  return rec;
}

/** Turns `pm_card_visa` style test ids into a fresh PaymentMethod (as Stripe does), else looks one up. */
export function materializePaymentMethod(
  core: EmulatorCore,
  id: string,
  now: number,
  param = "payment_method",
): PaymentMethodRec {
  const existing = core.state.paymentMethods[id];
  if (existing) return existing;
  const card = cardByPaymentMethodId(id);
  if (card) return newPaymentMethodFromCard(core, card, id, now);
  throw resourceMissing("PaymentMethod", id, param);
}

function declineOnAttach(rec: PaymentMethodRec): void {
  const test = cardByLast4(rec.card.brand, rec.card.last4);
  if (test?.behavior === "decline" && test.decline) {
    throw cardError(test.decline.message, test.decline.code, test.decline.decline_code, {
      payment_method: buildPaymentMethod(rec),
    });
  }
}

/** Attaches a PaymentMethod (or a `pm_card_*` test id, which makes a new one) to a customer. */
export function attachPaymentMethod(core: EmulatorCore, id: string, customerId: string): PaymentMethodRec {
  const customer = core.customer(customerId);
  const now = core.clockNow(customer.test_clock);
  const rec = materializePaymentMethod(core, id, now);
  if (rec.customer === customerId) return rec;
  if (rec.customer !== null) {
    throw invalidRequest(
      `The payment method you provided has already been attached to a customer.`,
      "payment_method",
      "payment_method_unexpected_state",
    );
  }
  declineOnAttach(rec);
  rec.customer = customerId;
  core.emit("payment_method.attached", buildPaymentMethod(rec));
  return rec;
}

/**
 * Resolves a payment method id for a customer. Test ids (`pm_card_visa`) resolve to the PaymentMethod the
 * customer got from that id most recently, so `invoice_settings[default_payment_method]=pm_card_visa`
 * works after `payment_method=pm_card_visa`, as with Stripe.
 */
export function resolveCustomerPaymentMethod(
  core: EmulatorCore,
  customerId: string,
  id: string,
  param: string,
): PaymentMethodRec {
  const direct = core.state.paymentMethods[id];
  const rec =
    direct ??
    Object.values(core.state.paymentMethods)
      .filter((pm) => pm.alias === id && pm.customer === customerId)
      .sort((a, b) => b.seq - a.seq)[0];
  if (!rec) {
    if (cardByPaymentMethodId(id)) {
      throw invalidRequest(
        `The customer does not have a payment method with the ID ${id}. The payment method must be attached to the customer.`,
        param,
        "resource_missing",
      );
    }
    throw resourceMissing("PaymentMethod", id, param);
  }
  if (rec.customer !== customerId) {
    throw invalidRequest(
      `The customer does not have a payment method with the ID ${id}. The payment method must be attached to the customer.`,
      param,
      "resource_missing",
    );
  }
  return rec;
}

function createPaymentMethod(core: EmulatorCore, p: Params): PaymentMethodRec {
  const type = p.str("type");
  if (type !== undefined && type !== "card") {
    throw invalidRequest(`The Stripe emulator only supports card payment methods (got ${type}).`, "type");
  }
  const card = p.obj("card");
  if (!card) throw missingParam("card");
  const token = card.str("token");
  const number = card.str("number");
  const test = token ? cardByToken(token) : number ? cardByNumber(number) : undefined;
  if (!test) {
    throw invalidRequest(
      "Unknown test card. Use a Stripe test card number (4242424242424242, ...) or token (tok_visa, ...).",
      token ? "card[token]" : "card[number]",
      "incorrect_number",
    );
  }
  const now = core.realNow();
  const rec = newPaymentMethodFromCard(core, test, test.paymentMethods[0] ?? null, now);
  const expMonth = card.int("exp_month");
  const expYear = card.int("exp_year");
  if (expMonth !== undefined) rec.card.exp_month = expMonth;
  if (expYear !== undefined) rec.card.exp_year = expYear;
  const billing = p.obj("billing_details");
  if (billing) {
    rec.billing_details = {
      email: billing.str("email") ?? null,
      name: billing.str("name") ?? null,
      phone: billing.str("phone") ?? null,
    };
  }
  rec.metadata = p.metadata("metadata", {});
  return rec;
}

export function registerPaymentMethods(router: Router): void {
  router.post("/v1/payment_methods", ({ core, p }) => buildPaymentMethod(createPaymentMethod(core, p)));

  router.get("/v1/payment_methods", ({ core, p, url }) => {
    const customer = p.str("customer");
    // Every emulated payment method is a card.
    const type = p.str("type");
    if (type !== undefined && type !== "card") return { object: "list", data: [], has_more: false, url };
    const items = Object.values(core.state.paymentMethods).filter((pm) =>
      customer === undefined ? pm.customer !== null : pm.customer === customer,
    );
    return paginate(items, p, url, buildPaymentMethod);
  });

  router.get("/v1/payment_methods/:id", ({ core, path }) =>
    buildPaymentMethod(materializePaymentMethod(core, path.id ?? "", core.realNow(), "id")),
  );

  router.post("/v1/payment_methods/:id", ({ core, p, path }) => {
    const rec = core.paymentMethod(path.id ?? "", "id");
    const before = buildPaymentMethod(rec);
    rec.metadata = p.metadata("metadata", rec.metadata);
    const billing = p.obj("billing_details");
    if (billing) {
      rec.billing_details = {
        email: billing.has("email") ? (billing.nullableStr("email") ?? null) : rec.billing_details.email,
        name: billing.has("name") ? (billing.nullableStr("name") ?? null) : rec.billing_details.name,
        phone: billing.has("phone") ? (billing.nullableStr("phone") ?? null) : rec.billing_details.phone,
      };
    }
    const card = p.obj("card");
    if (card) {
      rec.card.exp_month = card.int("exp_month") ?? rec.card.exp_month;
      rec.card.exp_year = card.int("exp_year") ?? rec.card.exp_year;
    }
    const allow = p.oneOf("allow_redisplay", ["always", "limited", "unspecified"] as const);
    if (allow) rec.allow_redisplay = allow;
    core.emitUpdate("payment_method.updated", before, buildPaymentMethod(rec));
    return buildPaymentMethod(rec);
  });

  router.post("/v1/payment_methods/:id/attach", ({ core, p, path }) => {
    const customer = p.reqStr("customer");
    return buildPaymentMethod(attachPaymentMethod(core, path.id ?? "", customer));
  });

  router.post("/v1/payment_methods/:id/detach", ({ core, path }) => {
    const rec = core.paymentMethod(path.id ?? "", "id");
    if (rec.customer === null) {
      throw invalidRequest(
        `The payment method you provided is not attached to a customer so detachment is impossible.`,
        undefined,
        "payment_method_unexpected_state",
      );
    }
    const customer = core.state.customers[rec.customer];
    if (customer && customer.default_payment_method === rec.id) {
      const before = buildCustomer(core, customer);
      customer.default_payment_method = null;
      core.emitUpdate("customer.updated", before, buildCustomer(core, customer));
    }
    for (const sub of Object.values(core.state.subscriptions)) {
      if (sub.default_payment_method === rec.id) sub.default_payment_method = null;
    }
    rec.customer = null;
    core.emit("payment_method.detached", buildPaymentMethod(rec));
    return buildPaymentMethod(rec);
  });
}
