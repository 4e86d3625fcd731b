import {
  attachPaymentMethod,
  materializePaymentMethod,
  newPaymentMethodFromCard,
} from "../billing/payments.ts";
import { cardByNumber, cardByToken } from "../cards.ts";
import { type EmulatorCore, paginate } from "../core.ts";
import { invalidRequest, missingParam } from "../errors.ts";
import type { Router } from "../http/router.ts";
import { buildCustomer } from "../objects/customers.ts";
import { buildPaymentMethod } from "../objects/paymentMethods.ts";
import type { Params } from "../params.ts";
import type { PaymentMethodRec } from "../state.ts";

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
