import {
  checkCoupon,
  checkPromotionCode,
  coupon,
  promotionCode,
  promotionCodeByCode,
  type RedeemContext,
} from "../billing/discounts.ts";
import {
  checkAmount,
  confirmPaymentIntent,
  newPaymentIntent,
  setPaymentIntentMethod,
} from "../billing/paymentIntents.ts";
import { attachPaymentMethod } from "../billing/payments.ts";
import {
  checkTrialEnd,
  startSubscription,
  subscriptionCurrency,
  validatePrices,
} from "../billing/subscriptions.ts";
import { automaticTaxParam, hasTaxLocation, taxLocationError } from "../billing/tax.ts";
import type { TestCard } from "../cards.ts";
import { CommitThenThrow, type EmulatorCore, paginate } from "../core.ts";
import { invalidRequest, missingParam, notSupported, resourceMissing } from "../errors.ts";
import type { Router } from "../http/router.ts";
import { newId, newSecret } from "../ids.ts";
import { buildCheckoutSession, buildLineItem } from "../objects/checkout.ts";
import { buildCustomer } from "../objects/customers.ts";
import { buildSetupIntent } from "../objects/paymentIntents.ts";
import { buildPaymentMethod } from "../objects/paymentMethods.ts";
import { checkedPriceAmount, priceAmount } from "../objects/prices.ts";
import { taxLocation } from "../objects/taxes.ts";
import { Params } from "../params.ts";
import type { CheckoutSessionRec, CustomerRec, SetupIntentRec } from "../state.ts";
import { createCustomer } from "./customers.ts";

function createSession(core: EmulatorCore, p: Params): CheckoutSessionRec {
  const mode = p.oneOf("mode", ["subscription", "setup", "payment"] as const);
  if (!mode) throw missingParam("mode");
  const customerId = p.str("customer") ?? null;
  const customer = customerId ? core.customer(customerId) : undefined;
  const now = core.realNow();
  const lineItems = (p.list("line_items") ?? []).map((li, index) => {
    const priceId = li.str("price");
    if (!priceId) {
      if (li.has("price_data")) throw notSupported(`line_items[${index}][price_data]`);
      throw missingParam(`line_items[${index}][price]`);
    }
    const price = core.price(priceId, `line_items[${index}][price]`);
    if (mode === "subscription" && !price.recurring) {
      throw invalidRequest(
        "You must provide at least one recurring price in `subscription` mode when using prices.",
        "line_items",
      );
    }
    if (mode === "payment" && price.recurring) {
      throw invalidRequest(
        "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.",
        `line_items[${index}][price]`,
      );
    }
    const quantity = li.int("quantity") ?? 1;
    checkedPriceAmount(price, quantity, price.currency, `line_items[${index}][quantity]`);
    return { id: newId("li"), price: price.id, quantity };
  });
  if (mode !== "setup" && lineItems.length === 0) throw missingParam("line_items");
  const customerCreation = p.oneOf("customer_creation", ["always", "if_required"] as const) ?? null;
  if (customerCreation !== null && mode === "subscription") {
    throw invalidRequest(
      "`customer_creation` can only be used in `payment` and `setup` mode.",
      "customer_creation",
    );
  }
  if (customerCreation !== null && customerId !== null) {
    throw invalidRequest(
      "You may only specify one of these parameters: customer, customer_creation.",
      "customer_creation",
    );
  }
  const intentData = p.obj("payment_intent_data");
  if (intentData && mode !== "payment") {
    throw invalidRequest(
      `You can not pass \`payment_intent_data\` in \`${mode}\` mode.`,
      "payment_intent_data",
    );
  }
  if (p.raw.ui_mode !== undefined && p.raw.ui_mode !== "hosted" && p.raw.ui_mode !== "hosted_page") {
    throw notSupported(`ui_mode=${String(p.raw.ui_mode)}`);
  }
  const successUrl = p.str("success_url") ?? null;
  if (!successUrl) throw missingParam("success_url");
  const subscriptionData = p.obj("subscription_data");
  const allowPromotionCodes = p.bool("allow_promotion_codes") ?? false;
  const automaticTax = automaticTaxParam(p) ?? false;
  if (automaticTax && mode === "setup") {
    throw invalidRequest("`automatic_tax` cannot be used in `setup` mode.", "automatic_tax");
  }
  const customerUpdate = p.obj("customer_update");
  if (customerUpdate && !customer) {
    throw invalidRequest("`customer_update` can only be used with `customer`.", "customer_update");
  }
  const updateAddress = customerUpdate?.oneOf("address", ["auto", "never"] as const) ?? null;
  // As Stripe: automatic tax for an existing customer needs its address, or leave to save the one entered.
  if (automaticTax && customer && !hasTaxLocation(customer) && updateAddress !== "auto") {
    throw invalidRequest(
      "Automatic tax calculation in Checkout requires a valid address on the Customer. Add a valid address to the Customer or set either `customer_update[address]` to 'auto' or `customer_update[shipping]` to 'auto' to save the address entered in Checkout to the Customer.",
      "customer_update[address]",
    );
  }
  const discounts = (p.list("discounts") ?? []).map((entry, index) => {
    const promoId = entry.str("promotion_code");
    const couponId = entry.str("coupon");
    if ((promoId === undefined) === (couponId === undefined)) {
      throw invalidRequest(
        "You may only specify one of these parameters: coupon, promotion_code.",
        `discounts[${index}][coupon]`,
      );
    }
    if (promoId !== undefined) {
      const promo = promotionCode(core, promoId, `discounts[${index}][promotion_code]`);
      return { coupon: promo.coupon, promotion_code: promo.id };
    }
    return { coupon: coupon(core, couponId ?? "", `discounts[${index}][coupon]`).id, promotion_code: null };
  });
  if (allowPromotionCodes && discounts.length > 0) {
    throw invalidRequest(
      "You may only specify one of these parameters: allow_promotion_codes, discounts.",
      "allow_promotion_codes",
    );
  }
  const prices = lineItems.map((li) => core.price(li.price));
  const currency =
    mode === "setup"
      ? (p.str("currency") ?? null)
      : (subscriptionCurrency(prices, p.str("currency"), customer?.currency ?? null) ?? null);
  if (mode === "subscription" && currency !== null) validatePrices(prices, "line_items", currency);
  if (currency !== null && discounts.length > 0) {
    // Checked now, as subscriptions.create checks them (and again when the session is paid).
    const ctx: RedeemContext = {
      customer: customer?.id ?? "",
      now: customer ? core.clockNow(customer.test_clock) : now,
      currency,
      products: prices.map((price) => price.product),
      amount: lineItems.reduce(
        (sum, li, index) => sum + (prices[index] ? priceAmount(prices[index], li.quantity, currency) : 0),
        0,
      ),
    };
    discounts.forEach((d, index) => {
      if (d.promotion_code) {
        const param = `discounts[${index}][promotion_code]`;
        checkPromotionCode(core, promotionCode(core, d.promotion_code, param), ctx, param);
      } else {
        checkCoupon(coupon(core, d.coupon), ctx, `discounts[${index}][coupon]`);
      }
    });
  }
  const rec: CheckoutSessionRec = {
    id: newId("cs_test", 58),
    seq: core.nextSeq(),
    created: now,
    mode,
    status: "open",
    payment_status: mode === "setup" ? "no_payment_required" : "unpaid",
    customer: customer?.id ?? null,
    customer_email: p.str("customer_email") ?? customer?.email ?? null,
    client_reference_id: p.str("client_reference_id") ?? null,
    currency,
    line_items: lineItems,
    success_url: successUrl,
    cancel_url: p.str("cancel_url") ?? null,
    metadata: p.metadata("metadata", {}),
    subscription_data: {
      metadata: subscriptionData?.metadata("metadata", {}) ?? {},
      description: subscriptionData?.str("description") ?? null,
      trial_period_days: subscriptionData?.int("trial_period_days") ?? null,
      trial_end: checkoutTrialEnd(
        subscriptionData?.int("trial_end"),
        customer ? core.clockNow(customer.test_clock) : now,
      ),
      trial_missing_pm:
        subscriptionData
          ?.obj("trial_settings")
          ?.obj("end_behavior")
          ?.oneOf("missing_payment_method", ["cancel", "create_invoice", "pause"] as const) ??
        "create_invoice",
    },
    allow_promotion_codes: allowPromotionCodes,
    discounts,
    setup_metadata: p.obj("setup_intent_data")?.metadata("metadata", {}) ?? {},
    subscription: null,
    invoice: null,
    setup_intent: null,
    payment_method: null,
    expires_at: p.int("expires_at") ?? now + 24 * 3600,
    completed_at: null,
    last_error: null,
    payment_intent: null,
    payment_intent_data: {
      description: intentData?.str("description") || null,
      metadata: intentData?.metadata("metadata", {}) ?? {},
      setup_future_usage:
        intentData?.oneOf("setup_future_usage", ["off_session", "on_session"] as const) ?? null,
      receipt_email: intentData?.str("receipt_email") || null,
    },
    customer_creation: customerCreation,
    customer_details: null,
    automatic_tax: automaticTax,
    tax_address: null,
    customer_update_address: updateAddress,
  };
  if (mode === "payment") {
    const paymentCurrency = prices[0]?.currency;
    lineItems.forEach((li, index) => {
      if (core.state.prices[li.price]?.currency !== paymentCurrency) {
        throw invalidRequest("All prices must be in the same currency.", `line_items[${index}][price]`);
      }
    });
    checkAmount(
      lineItems.reduce((sum, li) => sum + (core.state.prices[li.price]?.unit_amount ?? 0) * li.quantity, 0),
      paymentCurrency ?? "usd",
      "line_items",
    );
  }
  core.state.checkoutSessions[rec.id] = rec;
  return rec;
}

/**
 * Automatic tax needs the buyer's location: the customer's address, else the one entered on the page
 * (kept on the session, then saved as the customer's address). Without one the payment is refused.
 */
function takeTaxAddress(
  core: EmulatorCore,
  session: CheckoutSessionRec,
  input: { country: string; state: string; postal_code: string } | null,
): void {
  const customer = session.customer ? core.customer(session.customer) : undefined;
  if (customer && hasTaxLocation(customer)) return;
  if (input && input.country.trim() !== "") {
    session.tax_address = {
      city: null,
      country: input.country.trim().toUpperCase(),
      line1: null,
      line2: null,
      postal_code: input.postal_code.trim() || null,
      state: input.state.trim().toUpperCase() || null,
    };
  }
  if (!taxLocation(session.tax_address ?? null)) throw taxLocationError();
}

/** An address as `customers.create` parameters (only the parts that were given). */
function addressFields(address: NonNullable<CheckoutSessionRec["tax_address"]>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(address).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  );
}

/** Saves the address entered on the page as the customer's (`customer.updated`). */
function saveTaxAddress(core: EmulatorCore, session: CheckoutSessionRec, customer: CustomerRec): void {
  if (hasTaxLocation(customer) || !session.tax_address) return;
  // A customer this session made got the address when it was made; an existing one's address changes only
  // with `customer_update[address]=auto`.
  if (session.customer_update_address !== "auto") return;
  const before = buildCustomer(core, customer);
  customer.address = { ...session.tax_address };
  core.emitUpdate("customer.updated", before, buildCustomer(core, customer));
}

export function checkoutSession(core: EmulatorCore, id: string): CheckoutSessionRec {
  const rec = core.state.checkoutSessions[id];
  if (!rec) throw resourceMissing("checkout.session", id, "session");
  return rec;
}

export type CheckoutOutcome = { kind: "redirect"; url: string } | { kind: "authenticate" };

/**
 * What the hosted page does when a person submits a test card. Runs inside a transaction: a decline
 * throws a card error, which rolls everything back and is shown on the page.
 */
export function completeCheckout(
  core: EmulatorCore,
  session: CheckoutSessionRec,
  input: {
    card: TestCard;
    email: string | null;
    name: string | null;
    authenticated: boolean;
    /** What the person typed in the promotion code field (`allow_promotion_codes`). */
    promotionCode?: string | null;
    /** The billing address entered for automatic tax (country, state, postal code). */
    address?: { country: string; state: string; postal_code: string } | null;
  },
): CheckoutOutcome {
  if (session.status !== "open") throw invalidRequest("This Checkout Session is no longer active.");
  if (session.automatic_tax) takeTaxAddress(core, session, input.address ?? null);
  if (input.promotionCode) {
    if (!session.allow_promotion_codes) throw invalidRequest("This session does not accept promotion codes.");
    const promo = promotionCodeByCode(core, input.promotionCode);
    if (!promo) throw invalidRequest("This code is invalid.", "promotion_code");
    session.discounts = [{ coupon: promo.coupon, promotion_code: promo.id }];
  }
  const needsAuthentication =
    input.card.behavior === "requires_action" || input.card.behavior === "requires_action_until_set_up";
  if (needsAuthentication && !input.authenticated) return { kind: "authenticate" };
  if (session.mode === "payment") return completePayment(core, session, input);
  let customer = session.customer ? core.customer(session.customer) : undefined;
  if (!customer) {
    const email = input.email ?? session.customer_email;
    const raw: Record<string, unknown> = {};
    if (email) raw.email = email;
    if (input.name) raw.name = input.name;
    if (session.tax_address) raw.address = addressFields(session.tax_address);
    customer = createCustomer(core, new Params(raw));
    session.customer = customer.id;
  }
  if (session.automatic_tax) saveTaxAddress(core, session, customer);
  const now = core.clockNow(customer.test_clock);
  const pm = attachPaymentMethod(core, input.card.paymentMethods[0] ?? "pm_card_visa", customer.id);
  if (input.name) pm.billing_details.name = input.name;
  if (input.email) pm.billing_details.email = input.email;
  session.payment_method = pm.id;
  pm.allow_redisplay = "always";
  // Checkout sets the card up for later off-session payments (renewals), as Stripe's does.
  pm.off_session_ready = true;

  if (session.mode === "setup") {
    const before = buildCustomer(core, customer);
    customer.default_payment_method = pm.id;
    core.emitUpdate("customer.updated", before, buildCustomer(core, customer));
    const seti: SetupIntentRec = {
      id: newId("seti"),
      seq: core.nextSeq(),
      created: now,
      customer: customer.id,
      payment_method: pm.id,
      status: "succeeded",
      metadata: session.setup_metadata,
      description: null,
      client_secret: "",
    };
    seti.client_secret = newSecret(`${seti.id}_secret`);
    core.state.setupIntents[seti.id] = seti;
    core.emit("setup_intent.created", buildSetupIntent(seti));
    core.emit("setup_intent.succeeded", buildSetupIntent(seti));
    session.setup_intent = seti.id;
  } else {
    const { sub, invoice } = startSubscription(core, {
      customer,
      items: session.line_items.map((li) => ({
        price: core.price(li.price),
        quantity: li.quantity,
        metadata: {},
      })),
      ...(session.currency !== null ? { currency: session.currency } : {}),
      now,
      defaultPaymentMethod: pm.id,
      paymentBehavior: "error_if_incomplete",
      metadata: session.subscription_data.metadata,
      description: session.subscription_data.description,
      collectionMethod: "charge_automatically",
      daysUntilDue: null,
      trialEnd:
        session.subscription_data.trial_end ??
        (session.subscription_data.trial_period_days
          ? now + session.subscription_data.trial_period_days * 86_400
          : null),
      trialMissingPm: session.subscription_data.trial_missing_pm ?? "create_invoice",
      billingCycleAnchor: null,
      prorationBehavior: "create_prorations",
      cancelAtPeriodEnd: false,
      cancelAt: null,
      schedule: null,
      preview: false,
      authenticated: input.authenticated,
      automaticTax: session.automatic_tax ?? false,
      discounts: {
        list: (session.discounts ?? []).map(
          (d) =>
            new Params(d.promotion_code ? { promotion_code: d.promotion_code } : { coupon: d.coupon ?? "" }),
        ),
        param: input.promotionCode ? "promotion_code" : "discounts",
        checkoutSession: session.id,
      },
    });
    if (customer.default_payment_method === null) {
      const before = buildCustomer(core, customer);
      customer.default_payment_method = pm.id;
      core.emitUpdate("customer.updated", before, buildCustomer(core, customer));
    }
    session.subscription = sub.id;
    session.invoice = invoice.id;
    session.payment_status = invoice.amount_paid > 0 ? "paid" : "no_payment_required";
  }
  session.status = "complete";
  session.completed_at = now;
  core.emit("checkout.session.completed", buildCheckoutSession(core, session));
  core.emit("payment_method.updated", buildPaymentMethod(pm));
  const target = session.success_url ?? core.baseUrl;
  return { kind: "redirect", url: target.replaceAll("{CHECKOUT_SESSION_ID}", session.id) };
}

/**
 * Payment mode: one PaymentIntent for the line items, charged at once with the chosen card. A Customer is
 * made only with `customer_creation: always` or when the card is to be saved (`setup_future_usage`), as on
 * Stripe; otherwise the buyer stays a guest (`customer_details` only).
 */
function completePayment(
  core: EmulatorCore,
  session: CheckoutSessionRec,
  input: { card: TestCard; email: string | null; name: string | null; authenticated: boolean },
): CheckoutOutcome {
  const data = session.payment_intent_data ?? {
    description: null,
    metadata: {},
    setup_future_usage: null,
    receipt_email: null,
  };
  const email = input.email ?? session.customer_email;
  let customer = session.customer ? core.customer(session.customer) : undefined;
  if (!customer && (session.customer_creation === "always" || data.setup_future_usage !== null)) {
    const raw: Record<string, unknown> = {};
    if (email) raw.email = email;
    if (input.name) raw.name = input.name;
    if (session.tax_address) raw.address = addressFields(session.tax_address);
    customer = createCustomer(core, new Params(raw));
    session.customer = customer.id;
  }
  if (session.automatic_tax && customer) saveTaxAddress(core, session, customer);
  session.customer_details = {
    email: email ?? customer?.email ?? null,
    name: input.name ?? customer?.name ?? null,
  };
  // What the session says is due (discounts and tax included), never the bare sum of its prices.
  const amount = buildCheckoutSession(core, session).amount_total ?? 0;
  const pi = newPaymentIntent(core, {
    amount,
    currency: session.currency ?? "usd",
    customer: customer?.id ?? null,
    description: data.description,
    metadata: data.metadata,
    setupFutureUsage: data.setup_future_usage,
    receiptEmail: data.receipt_email ?? email ?? null,
    checkoutSession: session.id,
  });
  const pm = setPaymentIntentMethod(core, pi, input.card.paymentMethods[0] ?? "pm_card_visa");
  if (input.name) pm.billing_details.name = input.name;
  if (email) pm.billing_details.email = email;
  // On session: a card that needs 3-D Secure was authenticated on the page before this runs.
  // A decline rolls the whole attempt back (the page shows it and the session stays open).
  try {
    confirmPaymentIntent(core, pi, { offSession: true, authenticated: input.authenticated });
  } catch (error) {
    throw error instanceof CommitThenThrow ? error.error : error;
  }
  session.payment_intent = pi.id;
  session.payment_method = pm.id;
  session.payment_status = "paid";
  session.status = "complete";
  session.completed_at = pi.created;
  core.emit("checkout.session.completed", buildCheckoutSession(core, session));
  const target = session.success_url ?? core.baseUrl;
  return { kind: "redirect", url: target.replaceAll("{CHECKOUT_SESSION_ID}", session.id) };
}

export function expireSession(core: EmulatorCore, session: CheckoutSessionRec): void {
  if (session.status !== "open") {
    throw invalidRequest(`Only Checkout Sessions with a status in ["open"] can be expired.`);
  }
  session.status = "expired";
  core.emit("checkout.session.expired", buildCheckoutSession(core, session));
}

export function registerCheckout(router: Router): void {
  router.post("/v1/checkout/sessions", ({ core, p }) => buildCheckoutSession(core, createSession(core, p)));
  router.get("/v1/checkout/sessions", ({ core, p, url }) => {
    const customer = p.str("customer");
    const subscription = p.str("subscription");
    const status = p.str("status");
    const items = Object.values(core.state.checkoutSessions).filter(
      (s) =>
        (customer === undefined || s.customer === customer) &&
        (subscription === undefined || s.subscription === subscription) &&
        (status === undefined || s.status === status),
    );
    return paginate(items, p, url, (s) => buildCheckoutSession(core, s));
  });
  router.get("/v1/checkout/sessions/:id", ({ core, path }) =>
    buildCheckoutSession(core, checkoutSession(core, path.id ?? "")),
  );
  router.get("/v1/checkout/sessions/:id/line_items", ({ core, p, path, url }) => {
    const session = checkoutSession(core, path.id ?? "");
    const items = session.line_items.map((li, index) => ({ ...li, created: 0, seq: -index }));
    return paginate(items, p, url, (li) => buildLineItem(core, li, session));
  });
  router.post("/v1/checkout/sessions/:id/expire", ({ core, path }) => {
    const session = checkoutSession(core, path.id ?? "");
    expireSession(core, session);
    return buildCheckoutSession(core, session);
  });
}

/** `subscription_data[trial_end]`: at least 48 hours and at most 730 days ahead, as Stripe requires. */
function checkoutTrialEnd(trialEnd: number | undefined, now: number): number | null {
  if (trialEnd === undefined) return null;
  checkTrialEnd(trialEnd, now, "subscription_data[trial_end]", 48 * 3600);
  return trialEnd;
}
