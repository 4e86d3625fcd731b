import { cardByLast4, cardByPaymentMethodId, cardRecord, type Decline, type TestCard } from "../cards.ts";
import type { EmulatorCore } from "../core.ts";
import { cardError, invalidRequest, resourceMissing } from "../errors.ts";
import { newId } from "../ids.ts";
import { buildCharge } from "../objects/charges.ts";
import { buildPaymentMethod } from "../objects/paymentMethods.ts";
import type { ChargeRec, PaymentIntentRec, PaymentMethodRec } from "../state.ts";

export function newPaymentMethodFromCard(
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

/** Records one payment attempt as a Charge, emits `charge.succeeded` or `charge.failed`, and returns it. */
export function recordCharge(
  core: EmulatorCore,
  pi: PaymentIntentRec,
  pm: PaymentMethodRec,
  now: number,
  decline: Decline | null,
): ChargeRec {
  const rec: ChargeRec = {
    id: newId("ch"),
    seq: core.nextSeq(),
    created: now,
    amount: pi.amount,
    currency: pi.currency,
    customer: pi.customer,
    payment_intent: pi.id,
    payment_method: pm.id,
    description: pi.description,
    status: decline ? "failed" : "succeeded",
    failure_code: decline ? decline.code : null,
    failure_message: decline ? decline.message : null,
    decline_code: decline?.decline_code || null,
    amount_refunded: 0,
    billing_email: pm.billing_details.email,
    billing_name: pm.billing_details.name,
    card: { ...pm.card },
  };
  core.state.charges[rec.id] = rec;
  pi.latest_charge = rec.id;
  core.emit(decline ? "charge.failed" : "charge.succeeded", buildCharge(rec));
  return rec;
}

/** Books a refund on the PaymentIntent's succeeded charge and emits `charge.refunded`; returns its id. */
export function refundCharge(core: EmulatorCore, paymentIntentId: string, amount: number): string | null {
  const charge = Object.values(core.state.charges).find(
    (c) => c.payment_intent === paymentIntentId && c.status === "succeeded",
  );
  if (!charge) return null;
  charge.amount_refunded += amount;
  core.emit("charge.refunded", buildCharge(charge));
  return charge.id;
}
