/**
 * Money invariants under discounts, proration, paused collection and limits: what an invoice says it
 * charges is what the customer is charged (hostile review of the emulator's billing).
 */
import Stripe from "stripe";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { StripeEmulator } from "./server.ts";
import { invoiceInvariantViolations, startTestEmulator } from "./testing.ts";

let emulator: StripeEmulator;
let stripe: Stripe;
const START = Math.floor(Date.UTC(2032, 0, 1) / 1000);
const DAY = 86_400;

beforeAll(async () => {
  ({ emulator, stripe } = await startTestEmulator());
});
afterEach(async () => {
  expect(await invoiceInvariantViolations(stripe)).toEqual([]);
});
afterAll(async () => {
  await emulator.close();
});

async function fixture(unitAmount = 1000) {
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: START });
  const customer = await stripe.customers.create({
    test_clock: clock.id,
    payment_method: "pm_card_visa",
    invoice_settings: { default_payment_method: "pm_card_visa" },
  });
  const product = await stripe.products.create({ name: "Minutes" });
  const price = await stripe.prices.create({
    product: product.id,
    currency: "usd",
    unit_amount: unitAmount,
    recurring: { interval: "month" },
  });
  return { clock, customer, product, price };
}

async function refused(promise: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
  return error as Stripe.errors.StripeError;
}

async function paymentIntentOf(invoice: Stripe.Invoice): Promise<Stripe.PaymentIntent> {
  const inv = await stripe.invoices.retrieve(invoice.id, { expand: ["payments"] });
  const piId = inv.payments?.data[0]?.payment.payment_intent;
  expect(piId).toBeTruthy();
  return stripe.paymentIntents.retrieve(String(piId));
}

function submit(url: string, fields: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
    redirect: "manual",
  });
}

describe("once coupons charge the discounted amount", () => {
  it("charges the first invoice's discounted total, not the full price", async () => {
    const { customer, price } = await fixture();
    const coupon = await stripe.coupons.create({ percent_off: 50, duration: "once" });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      discounts: [{ coupon: coupon.id }],
      expand: ["latest_invoice"],
    });
    const inv = sub.latest_invoice as Stripe.Invoice;
    expect(inv).toMatchObject({
      subtotal: 1000,
      total: 500,
      amount_due: 500,
      amount_paid: 500,
      status: "paid",
    });
    expect(inv.total_discount_amounts?.[0]?.amount).toBe(500);
    expect((await paymentIntentOf(inv)).amount).toBe(500);
    const charges = await stripe.charges.list({ customer: customer.id });
    expect(charges.data.map((c) => c.amount)).toEqual([500]);
  });

  it("a 100% once coupon makes the first invoice free", async () => {
    const { customer, price } = await fixture();
    const coupon = await stripe.coupons.create({ percent_off: 100, duration: "once" });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      discounts: [{ coupon: coupon.id }],
      expand: ["latest_invoice"],
    });
    expect(sub.latest_invoice).toMatchObject({ total: 0, amount_due: 0, amount_paid: 0, status: "paid" });
    expect((await stripe.charges.list({ customer: customer.id })).data).toEqual([]);
  });

  it("uses the once coupon on the first charged invoice after a trial", async () => {
    const { clock, customer, price } = await fixture();
    const coupon = await stripe.coupons.create({ amount_off: 300, currency: "usd", duration: "once" });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      trial_period_days: 7,
      discounts: [{ coupon: coupon.id }],
    });
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: START + 8 * DAY });
    const renewal = (await stripe.invoices.list({ subscription: sub.id, limit: 1 })).data[0];
    expect(renewal).toMatchObject({ total: 700, amount_due: 700, amount_paid: 700, status: "paid" });
    expect((await paymentIntentOf(renewal as Stripe.Invoice)).amount).toBe(700);
  });

  it("charges a Checkout subscription the amount its promotion code leaves", async () => {
    const customer = await stripe.customers.create({ email: "promo@minutely.test" });
    const price = await stripe.prices.create({
      product_data: { name: "Team" },
      currency: "usd",
      unit_amount: 1000,
      recurring: { interval: "month" },
    });
    const coupon = await stripe.coupons.create({ percent_off: 25, duration: "once" });
    const code = `QUARTER${Date.now()}`;
    await stripe.promotionCodes.create({ promotion: { type: "coupon", coupon: coupon.id }, code });
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      customer: customer.id,
      line_items: [{ price: price.id, quantity: 1 }],
      allow_promotion_codes: true,
      success_url: "http://localhost:3000/done",
    });
    const response = await submit(`${emulator.url}/checkout/${session.id}/pay`, {
      card: "visa",
      name: "Promo",
      promotion_code: code,
    });
    expect(response.status).toBe(303);
    const done = await stripe.checkout.sessions.retrieve(session.id, { expand: ["invoice"] });
    expect(done.amount_total).toBe(750);
    expect(done.invoice).toMatchObject({ total: 750, amount_due: 750, amount_paid: 750 });
    const charges = await stripe.charges.list({ customer: customer.id });
    expect(charges.data.map((c) => c.amount)).toEqual([750]);
  });
});

describe("prorations follow flexible billing mode (discounts and tax as charged)", () => {
  async function discountedTaxedSub() {
    const { clock, customer, product, price } = await fixture();
    const rate = await stripe.taxRates.create({ display_name: "VAT", percentage: 20, inclusive: false });
    const coupon = await stripe.coupons.create({ percent_off: 50, duration: "forever" });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      default_tax_rates: [rate.id],
      discounts: [{ coupon: coupon.id }],
      expand: ["latest_invoice"],
    });
    expect(sub.latest_invoice).toMatchObject({ subtotal: 1000, total: 600, amount_paid: 600 });
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: START + 10 * DAY });
    return { clock, customer, product, price, sub };
  }

  it("credits the unused time of what was paid when canceling, never more", async () => {
    const { customer, sub } = await discountedTaxedSub();
    await stripe.subscriptions.cancel(sub.id, { prorate: true, invoice_now: true });
    const last = (await stripe.invoices.list({ subscription: sub.id, limit: 1 })).data[0];
    // 21 of January's 31 days unused: 500 net × 21/31 = 338.7 → -339, its 20% tax → -68.
    expect(last?.lines.data.map((l) => l.amount)).toEqual([-339]);
    expect(last).toMatchObject({ total: -407, amount_due: 0 });
    expect((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).toMatchObject({
      balance: -407,
    });
  });

  it("discounts an upgrade's proration charge by the subscription's discount, as the preview says", async () => {
    const { product, sub } = await discountedTaxedSub();
    const bigger = await stripe.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount: 3000,
      recurring: { interval: "month" },
    });
    const items = [{ id: sub.items.data[0]?.id ?? "", price: bigger.id }];
    const preview = await stripe.invoices.createPreview({
      subscription: sub.id,
      subscription_details: { items, proration_behavior: "always_invoice" },
    });
    const updated = await stripe.subscriptions.update(sub.id, {
      items,
      proration_behavior: "always_invoice",
      expand: ["latest_invoice"],
    });
    const inv = updated.latest_invoice as Stripe.Invoice;
    // Credit -339 (as above); charge 3000 × 21/31 = 2032, half off → 1016; tax -68 + 203.
    expect(inv.lines.data.map((l) => l.amount).sort((a, b) => a - b)).toEqual([-339, 1016]);
    expect(inv).toMatchObject({ subtotal: 677, total: 812, amount_due: 812, amount_paid: 812 });
    expect(preview.total).toBe(inv.total);
  });
});

describe("paused collection", () => {
  it.each([
    ["void", "void"],
    ["mark_uncollectible", "uncollectible"],
    ["keep_as_draft", "draft"],
  ] as const)(
    "does not charge proration invoices with behavior %s (invoice %s)",
    async (behavior, status) => {
      const { customer, product, price } = await fixture();
      const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
      await stripe.subscriptions.update(sub.id, { pause_collection: { behavior } });
      const bigger = await stripe.prices.create({
        product: product.id,
        currency: "usd",
        unit_amount: 3000,
        recurring: { interval: "month" },
      });
      const updated = await stripe.subscriptions.update(sub.id, {
        items: [{ id: sub.items.data[0]?.id ?? "", price: bigger.id }],
        proration_behavior: "always_invoice",
        expand: ["latest_invoice"],
      });
      expect(updated.status).toBe("active");
      expect(updated.latest_invoice).toMatchObject({
        status,
        amount_paid: 0,
        billing_reason: "subscription_update",
      });
      const charges = await stripe.charges.list({ customer: customer.id });
      expect(charges.data.map((c) => c.amount)).toEqual([1000]);
    },
  );
});

describe("amounts above Stripe's maximum (99,999,999 minor units)", () => {
  it("refuses PaymentIntents, coupons, quantities, tiers and invoice items beyond it", async () => {
    const tooLarge = await refused(stripe.paymentIntents.create({ amount: 100_000_000, currency: "usd" }));
    expect(tooLarge).toMatchObject({ code: "amount_too_large", param: "amount" });
    expect(tooLarge.message).toBe("Amount must be no more than $999,999.99");
    const ok = await stripe.paymentIntents.create({ amount: 99_999_999, currency: "usd" });
    expect((await refused(stripe.paymentIntents.update(ok.id, { amount: 100_000_000 }))).code).toBe(
      "amount_too_large",
    );
    expect(
      (await refused(stripe.coupons.create({ amount_off: 100_000_000, currency: "usd", duration: "once" })))
        .param,
    ).toBe("amount_off");

    const { customer, price } = await fixture();
    const quantity = await refused(
      stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id, quantity: 1e9 }] }),
    );
    expect(quantity).toMatchObject({ code: "amount_too_large", param: "items[0][quantity]" });
    expect((await stripe.subscriptions.list({ customer: customer.id })).data).toEqual([]);

    const tiered = await stripe.prices.create({
      product_data: { name: "Tiered" },
      currency: "usd",
      billing_scheme: "tiered",
      tiers_mode: "graduated",
      tiers: [{ up_to: "inf", unit_amount: 99_999_999 }],
      recurring: { interval: "month" },
    });
    const huge = await refused(
      stripe.subscriptions.create({
        customer: customer.id,
        items: [{ price: tiered.id, quantity: 2 ** 52 }],
      }),
    );
    expect(huge).toMatchObject({ code: "amount_too_large", param: "items[0][quantity]" });
    const item = await refused(
      stripe.invoiceItems.create({ customer: customer.id, amount: 100_000_000, currency: "usd" }),
    );
    expect(item).toMatchObject({ code: "amount_too_large", param: "amount" });
    const priced = await refused(
      stripe.invoiceItems.create({ customer: customer.id, pricing: { price: price.id }, quantity: 100_000 }),
    );
    expect(priced).toMatchObject({ code: "amount_too_large", param: "quantity" });
    const session = await refused(
      stripe.checkout.sessions.create({
        mode: "subscription",
        customer: customer.id,
        line_items: [{ price: price.id, quantity: 1e9 }],
        success_url: "http://localhost:3000/done",
      }),
    );
    expect(session).toMatchObject({ code: "amount_too_large", param: "line_items[0][quantity]" });
  });

  it("refuses to finalize an invoice whose total is beyond it", async () => {
    const { customer } = await fixture();
    for (let i = 0; i < 2; i += 1) {
      await stripe.invoiceItems.create({ customer: customer.id, amount: 60_000_000, currency: "usd" });
    }
    const draft = await stripe.invoices.create({
      customer: customer.id,
      pending_invoice_items_behavior: "include",
    });
    expect(draft.total).toBe(120_000_000);
    const error = await refused(stripe.invoices.finalizeInvoice(draft.id));
    expect(error.code).toBe("amount_too_large");
    expect((await stripe.invoices.retrieve(draft.id)).status).toBe("draft");
  });

  it("leaves a renewal too large to finalize as a draft with last_finalization_error", async () => {
    const { clock, customer, price } = await fixture();
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    await stripe.invoiceItems.create({
      customer: customer.id,
      subscription: sub.id,
      amount: 99_999_999,
      currency: "usd",
    });
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: START + 32 * DAY });
    const [renewal] = (await stripe.invoices.list({ subscription: sub.id, limit: 1 })).data;
    if (!renewal) throw new Error("no renewal invoice");
    expect(renewal).toMatchObject({ status: "draft", auto_advance: false, total: 100_000_999 });
    expect(renewal.last_finalization_error).toMatchObject({ code: "amount_too_large" });
    const failed = await stripe.events.list({ type: "invoice.finalization_failed", limit: 1 });
    expect((failed.data[0]?.data.object as Stripe.Invoice | undefined)?.id).toBe(renewal.id);
  });
});

describe("Checkout discounts are checked when the session is created", () => {
  it("refuses exhausted or expired coupons and inactive, expired or exhausted promotion codes", async () => {
    const price = await stripe.prices.create({
      product_data: { name: "Pack" },
      currency: "usd",
      unit_amount: 2000,
    });
    const session = (discounts: Stripe.Checkout.SessionCreateParams.Discount[]) =>
      stripe.checkout.sessions.create({
        mode: "payment",
        line_items: [{ price: price.id, quantity: 1 }],
        discounts,
        success_url: "http://localhost:3000/done",
      });
    const { customer, price: monthly } = await fixture();
    const single = await stripe.coupons.create({ percent_off: 10, duration: "once", max_redemptions: 1 });
    await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: monthly.id }],
      discounts: [{ coupon: single.id }],
    });
    const exhausted = await refused(session([{ coupon: single.id }]));
    expect(exhausted).toMatchObject({ code: "coupon_expired", param: "discounts[0][coupon]" });
    expect(exhausted.message).toBe(`Coupon expired: ${single.id}`);

    const euros = await stripe.coupons.create({ amount_off: 100, currency: "eur", duration: "once" });
    expect((await refused(session([{ coupon: euros.id }]))).param).toBe("discounts[0][coupon]");

    const coupon = await stripe.coupons.create({ percent_off: 10, duration: "once" });
    const inactive = await stripe.promotionCodes.create({
      promotion: { type: "coupon", coupon: coupon.id },
      active: false,
    });
    expect((await refused(session([{ promotion_code: inactive.id }]))).param).toBe(
      "discounts[0][promotion_code]",
    );
    const valid = await stripe.promotionCodes.create({ promotion: { type: "coupon", coupon: coupon.id } });
    expect((await session([{ promotion_code: valid.id }])).amount_total).toBe(1800);
  });
});

describe("dates are range-checked", () => {
  it("refuses a past trial_end (but `now`), trials beyond 730 days and a promotion code that already expired", async () => {
    const { customer, price } = await fixture();
    const create = (extra: Partial<Stripe.SubscriptionCreateParams>) =>
      stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], ...extra });
    const past = await refused(create({ trial_end: START - DAY }));
    expect(past).toMatchObject({ param: "trial_end" });
    expect(past.message).toBe("Invalid timestamp: must be an integer Unix timestamp in the future.");
    expect((await refused(create({ trial_end: START + 731 * DAY }))).param).toBe("trial_end");
    expect((await refused(create({ trial_period_days: 731 }))).param).toBe("trial_period_days");
    const longest = await create({ trial_period_days: 730 });
    expect(longest.trial_end).toBe(START + 730 * DAY);
    expect((await refused(stripe.subscriptions.update(longest.id, { trial_end: START - DAY }))).param).toBe(
      "trial_end",
    );
    expect(
      (await refused(stripe.subscriptions.update(longest.id, { trial_end: START + 800 * DAY }))).param,
    ).toBe("trial_end");
    expect((await stripe.subscriptions.update(longest.id, { trial_end: "now" })).status).toBe("active");

    const session = (data: Stripe.Checkout.SessionCreateParams.SubscriptionData) =>
      stripe.checkout.sessions.create({
        mode: "subscription",
        customer: customer.id,
        line_items: [{ price: price.id, quantity: 1 }],
        subscription_data: data,
        success_url: "http://localhost:3000/done",
      });
    const soon = Math.floor(Date.now() / 1000) + 3600;
    expect((await refused(session({ trial_end: soon }))).param).toBe("subscription_data[trial_end]");
    expect((await refused(session({ trial_period_days: 731 }))).param).toBe(
      "subscription_data[trial_period_days]",
    );

    const coupon = await stripe.coupons.create({ percent_off: 10, duration: "once" });
    const expired = await refused(
      stripe.promotionCodes.create({
        promotion: { type: "coupon", coupon: coupon.id },
        expires_at: Math.floor(Date.now() / 1000) - 60,
      }),
    );
    expect(expired).toMatchObject({ param: "expires_at" });
  });
});

describe("credit notes per invoice line", () => {
  async function discountedInvoice() {
    const { customer, price } = await fixture();
    const coupon = await stripe.coupons.create({ percent_off: 50, duration: "forever" });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id, quantity: 2 }],
      discounts: [{ coupon: coupon.id }],
      expand: ["latest_invoice"],
    });
    const inv = sub.latest_invoice as Stripe.Invoice;
    expect(inv).toMatchObject({ subtotal: 2000, total: 1000, amount_paid: 1000 });
    return { inv, line: inv.lines.data[0]?.id ?? "" };
  }

  it("credits a discounted line's net amount, with its discount_amounts", async () => {
    const { inv, line } = await discountedInvoice();
    const cn = await stripe.creditNotes.create({
      invoice: inv.id,
      lines: [{ type: "invoice_line_item", invoice_line_item: line, quantity: 1 }],
    });
    expect(cn).toMatchObject({ subtotal: 1000, discount_amount: 500, amount: 500, total: 500 });
    expect(cn.lines.data[0]).toMatchObject({ amount: 1000, discount_amount: 500 });
    expect(cn.lines.data[0]?.discount_amounts.map((d) => d.amount)).toEqual([500]);
  });

  it("refuses more than a line's amount over several lines or notes, and quantity 0", async () => {
    const { inv, line } = await discountedInvoice();
    const twice = await refused(
      stripe.creditNotes.create({
        invoice: inv.id,
        lines: [
          { type: "invoice_line_item", invoice_line_item: line, amount: 1500 },
          { type: "invoice_line_item", invoice_line_item: line, amount: 1500 },
        ],
      }),
    );
    expect(twice.param).toBe("lines[1][amount]");
    await stripe.creditNotes.create({
      invoice: inv.id,
      lines: [{ type: "invoice_line_item", invoice_line_item: line, amount: 1500 }],
    });
    const again = await refused(
      stripe.creditNotes.create({
        invoice: inv.id,
        lines: [{ type: "invoice_line_item", invoice_line_item: line, amount: 600 }],
      }),
    );
    expect(again.param).toBe("lines[0][amount]");
    const zero = await refused(
      stripe.creditNotes.create({
        invoice: inv.id,
        lines: [{ type: "invoice_line_item", invoice_line_item: line, quantity: 0 }],
      }),
    );
    expect(zero.param).toBe("lines[0][quantity]");
  });
});

describe("one currency per customer", () => {
  it("refuses an invoice item in another currency than the customer's", async () => {
    const customer = await stripe.customers.create({
      payment_method: "pm_card_visa",
      invoice_settings: { default_payment_method: "pm_card_visa" },
    });
    const price = await stripe.prices.create({
      product_data: { name: "Euro plan" },
      currency: "eur",
      unit_amount: 900,
      recurring: { interval: "month" },
    });
    await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    const error = await refused(
      stripe.invoiceItems.create({ customer: customer.id, amount: 500, currency: "usd" }),
    );
    expect(error.param).toBe("currency");
    expect(error.message).toMatch(/^You cannot combine currencies on a single customer\./);
    expect((await stripe.invoiceItems.list({ customer: customer.id })).data).toEqual([]);
    const euros = await stripe.invoiceItems.create({ customer: customer.id, amount: 500, currency: "eur" });
    expect(euros.currency).toBe("eur");
  });
});

describe("Checkout line items carry their share of the discount", () => {
  it("adds up to the session's totals", async () => {
    const a = await stripe.prices.create({ product_data: { name: "A" }, currency: "usd", unit_amount: 1333 });
    const b = await stripe.prices.create({ product_data: { name: "B" }, currency: "usd", unit_amount: 794 });
    const coupon = await stripe.coupons.create({ amount_off: 667, currency: "usd", duration: "once" });
    const promo = await stripe.promotionCodes.create({ promotion: { type: "coupon", coupon: coupon.id } });
    const session = await stripe.checkout.sessions.create({
      mode: "payment",
      line_items: [
        { price: a.id, quantity: 1 },
        { price: b.id, quantity: 1 },
      ],
      discounts: [{ promotion_code: promo.id }],
      success_url: "http://localhost:3000/done",
    });
    expect(session).toMatchObject({ amount_subtotal: 2127, amount_total: 1460 });
    const lines = (await stripe.checkout.sessions.listLineItems(session.id)).data;
    const sum = (key: "amount_discount" | "amount_total") => lines.reduce((s, l) => s + l[key], 0);
    expect(sum("amount_discount")).toBe(667);
    expect(sum("amount_total")).toBe(1460);
    for (const line of lines) expect(line.amount_total).toBe(line.amount_subtotal - line.amount_discount);
    expect(lines[0]?.amount_discount).toBe(Math.floor((667 * 1333) / 2127));
  });
});
