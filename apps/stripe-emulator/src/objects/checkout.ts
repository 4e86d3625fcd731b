import type Stripe from "stripe";
import { type EmulatorCore, embeddedList } from "../core.ts";
import type { CheckoutSessionRec } from "../state.ts";
import type { LineTaxRec } from "../tax-state.ts";
import { couponAmountOff } from "./discounts.ts";
import { buildPrice, priceAmount } from "./prices.ts";
import { automaticTaxesOn, autoRateFor, priceTaxBehavior, taxExemptOf, taxLocation } from "./taxes.ts";

interface SessionTax {
  /** Per line id, its automatic taxes (after its share of the discount). */
  lines: Map<string, LineTaxRec[]>;
  exclusive: number;
  inclusive: number;
  status: "complete" | "requires_location_inputs" | null;
}

/**
 * Automatic tax of a session: the customer's address, else the one entered on the hosted page. The
 * session's discount is shared over the lines in proportion to their amounts, then each line is taxed.
 */
export function sessionTax(core: EmulatorCore, rec: CheckoutSessionRec): SessionTax {
  const lines = new Map<string, LineTaxRec[]>();
  if (!rec.automatic_tax || rec.mode === "setup") return { lines, exclusive: 0, inclusive: 0, status: null };
  const customer = rec.customer ? core.state.customers[rec.customer] : undefined;
  const location = taxLocation(customer?.address ?? null) ?? taxLocation(rec.tax_address ?? null);
  if (!location) return { lines, exclusive: 0, inclusive: 0, status: "requires_location_inputs" };
  const ctx = { location, rate: autoRateFor(location), exempt: taxExemptOf(customer) };
  const shares = lineDiscounts(core, rec);
  let exclusive = 0;
  let inclusive = 0;
  rec.line_items.forEach((li) => {
    const price = core.state.prices[li.price];
    const currency = rec.currency ?? price?.currency ?? "usd";
    const share = shares.get(li.id) ?? { amount: 0, discount: 0 };
    const taxes = automaticTaxesOn(
      share.amount - share.discount,
      priceTaxBehavior(core, li.price, currency),
      ctx,
    );
    lines.set(li.id, taxes);
    for (const tax of taxes) {
      if (tax.tax_behavior === "inclusive") inclusive += tax.amount;
      else exclusive += tax.amount;
    }
  });
  return { lines, exclusive, inclusive, status: "complete" };
}

/**
 * Per line item: its amount (0 when the session charges nothing now, e.g. a trial) and its share of the
 * session's discount, in proportion to the amounts (the last line takes the rounding rest), so the lines'
 * `amount_discount` and `amount_total` add up to the session's.
 */
function lineDiscounts(
  core: EmulatorCore,
  rec: CheckoutSessionRec,
): Map<string, { amount: number; discount: number }> {
  const amount = sessionAmount(core, rec) ?? 0;
  const discount = sessionDiscount(core, rec, amount);
  const shares = new Map<string, { amount: number; discount: number }>();
  let given = 0;
  rec.line_items.forEach((li, index) => {
    const price = core.state.prices[li.price];
    const currency = rec.currency ?? price?.currency ?? "usd";
    const lineAmount = amount === 0 || !price ? 0 : priceAmount(price, li.quantity, currency);
    const share =
      index === rec.line_items.length - 1
        ? discount - given
        : amount > 0
          ? Math.floor((discount * lineAmount) / amount)
          : 0;
    given += share;
    shares.set(li.id, { amount: lineAmount, discount: share });
  });
  return shares;
}

/** What the session's discounts take off its amount (coupons applied one after another). */
function sessionDiscount(core: EmulatorCore, rec: CheckoutSessionRec, amount: number | null): number {
  if (amount === null || amount <= 0) return 0;
  let left = amount;
  for (const d of rec.discounts ?? []) {
    const coupon = d.coupon ? core.state.coupons[d.coupon] : undefined;
    if (coupon) left -= couponAmountOff(coupon, left, rec.currency ?? "");
  }
  return amount - left;
}

function sessionAmount(core: EmulatorCore, rec: CheckoutSessionRec): number | null {
  if (rec.mode === "setup") return null;
  if (rec.subscription_data.trial_period_days || rec.subscription_data.trial_end) return 0;
  return rec.line_items.reduce((sum, li) => {
    const price = core.state.prices[li.price];
    return sum + (price ? priceAmount(price, li.quantity, rec.currency ?? price.currency) : 0);
  }, 0);
}

export function buildLineItem(
  core: EmulatorCore,
  li: CheckoutSessionRec["line_items"][number],
  session?: CheckoutSessionRec,
): Stripe.LineItem {
  const price = core.price(li.price);
  const currency = session?.currency ?? price.currency;
  const amount = priceAmount(price, li.quantity, currency);
  const taxes = session ? (sessionTax(core, session).lines.get(li.id) ?? []) : [];
  const tax = taxes.reduce((sum, t) => sum + t.amount, 0);
  const exclusive = taxes.filter((t) => t.tax_behavior === "exclusive").reduce((sum, t) => sum + t.amount, 0);
  const discount = session ? (lineDiscounts(core, session).get(li.id)?.discount ?? 0) : 0;
  return {
    id: li.id,
    object: "item",
    adjustable_quantity: null,
    amount_discount: discount,
    amount_subtotal: amount,
    amount_tax: tax,
    amount_total: amount - discount + exclusive,
    currency,
    description: core.state.products[price.product]?.name ?? null,
    metadata: {},
    price: buildPrice(price),
    quantity: li.quantity,
  };
}

export function buildCheckoutSession(core: EmulatorCore, rec: CheckoutSessionRec): Stripe.Checkout.Session {
  const amount = sessionAmount(core, rec);
  const discount = sessionDiscount(core, rec, amount);
  const tax = sessionTax(core, rec);
  const customer = rec.customer ? core.state.customers[rec.customer] : undefined;
  return {
    id: rec.id,
    object: "checkout.session",
    adaptive_pricing: null,
    after_expiration: null,
    allow_promotion_codes: rec.allow_promotion_codes ?? null,
    allowed_payment_method_types: null,
    amount_subtotal: amount,
    amount_total: amount === null ? null : amount - discount + tax.exclusive,
    automatic_tax: {
      enabled: rec.automatic_tax ?? false,
      liability: rec.automatic_tax ? { type: "self" } : null,
      provider: rec.automatic_tax ? "stripe" : null,
      status: tax.status,
    },
    billing_address_collection: null,
    cancel_url: rec.cancel_url,
    client_reference_id: rec.client_reference_id,
    client_secret: null,
    collected_information: null,
    consent: null,
    consent_collection: null,
    created: rec.created,
    currency: rec.currency,
    currency_conversion: null,
    custom_fields: [],
    custom_text: {
      after_submit: null,
      shipping_address: null,
      submit: null,
      terms_of_service_acceptance: null,
    },
    customer: rec.customer,
    customer_account: null,
    customer_creation: rec.customer_creation ?? (rec.mode === "subscription" ? null : "if_required"),
    customer_details:
      rec.status === "complete"
        ? {
            address: customer?.address ?? rec.tax_address ?? null,
            business_name: null,
            email: customer?.email ?? rec.customer_details?.email ?? rec.customer_email,
            individual_name: null,
            name: customer?.name ?? rec.customer_details?.name ?? null,
            phone: null,
            tax_exempt: taxExemptOf(customer),
            tax_ids: [],
          }
        : null,
    customer_email: rec.customer_email,
    discounts: (rec.discounts ?? []).map((d) => ({ coupon: d.coupon, promotion_code: d.promotion_code })),
    expires_at: rec.expires_at,
    integration_identifier: null,
    invoice: rec.invoice,
    invoice_creation: null,
    livemode: false,
    locale: null,
    managed_payments: null,
    metadata: rec.metadata,
    mode: rec.mode,
    origin_context: null,
    payment_intent: rec.payment_intent ?? null,
    payment_link: null,
    payment_method_collection: rec.mode === "subscription" ? "always" : null,
    payment_method_configuration_details: null,
    payment_method_options: {},
    payment_method_types: ["card"],
    payment_status: rec.payment_status,
    permissions: null,
    recovered_from: null,
    saved_payment_method_options: null,
    setup_intent: rec.setup_intent,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status: rec.status,
    submit_type: null,
    subscription: rec.subscription,
    success_url: rec.success_url,
    total_details: {
      amount_discount: discount,
      amount_shipping: 0,
      amount_tax: tax.exclusive + tax.inclusive,
    },
    ui_mode: "hosted_page",
    url: rec.status === "open" ? `${core.baseUrl}/checkout/${rec.id}` : null,
    wallet_options: null,
  };
}

export function checkoutIncludable(core: EmulatorCore, id: string, key: string): unknown {
  const session = core.state.checkoutSessions[id];
  if (!session || key !== "line_items") return undefined;
  return embeddedList(
    session.line_items.map((li) => buildLineItem(core, li, session)),
    `/v1/checkout/sessions/${session.id}/line_items`,
  );
}
