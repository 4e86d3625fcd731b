/** Coupons, promotion codes and discounts on subscriptions, invoice items and previews (issue 22). */
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StripeEmulator } from "./server.ts";
import { invoiceInvariantViolations, startTestEmulator } from "./testing.ts";

let emulator: StripeEmulator;
let stripe: Stripe;
const START = Math.floor(Date.UTC(2032, 0, 15) / 1000);
const DAY = 86_400;

beforeAll(async () => {
  ({ emulator, stripe } = await startTestEmulator());
});
afterAll(async () => {
  expect(await invoiceInvariantViolations(stripe)).toEqual([]);
  await emulator.close();
});

async function fixture() {
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
    unit_amount: 1000,
    recurring: { interval: "month" },
  });
  return { clock, customer, product, price };
}

async function advance(clockId: string, to: number): Promise<void> {
  await stripe.testHelpers.testClocks.advance(clockId, { frozen_time: to });
}

async function refused(promise: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
  return error as Stripe.errors.StripeError;
}

describe("coupons and promotion codes", () => {
  it("creates, retrieves, updates, lists and deletes coupons, checking their parameters", async () => {
    const coupon = await stripe.coupons.create({
      id: `TEN-${Date.now()}`,
      percent_off: 12.5,
      duration: "repeating",
      duration_in_months: 3,
      max_redemptions: 5,
      name: "Ten",
    });
    expect(coupon).toMatchObject({
      object: "coupon",
      percent_off: 12.5,
      amount_off: null,
      duration: "repeating",
      duration_in_months: 3,
      times_redeemed: 0,
      valid: true,
    });
    expect((await stripe.coupons.update(coupon.id, { name: "Eleven" })).name).toBe("Eleven");
    expect((await stripe.coupons.list({ limit: 100 })).data.map((c) => c.id)).toContain(coupon.id);
    expect(await stripe.coupons.del(coupon.id)).toMatchObject({ id: coupon.id, deleted: true });
    expect((await refused(stripe.coupons.retrieve(coupon.id))).code).toBe("resource_missing");

    const both = await refused(stripe.coupons.create({ percent_off: 10, amount_off: 100, currency: "usd" }));
    expect(both.message).toBe("You may only specify one of these parameters: amount_off, percent_off.");
    expect((await refused(stripe.coupons.create({ amount_off: 100 }))).param).toBe("currency");
    expect((await refused(stripe.coupons.create({ percent_off: 10, duration: "repeating" }))).param).toBe(
      "duration_in_months",
    );
    expect((await refused(stripe.coupons.create({ percent_off: 101 }))).param).toBe("percent_off");
    const unknown = await refused(
      stripe.coupons.create({
        percent_off: 10,
        applies_to: { bogus: 1 } as Stripe.CouponCreateParams.AppliesTo,
      }),
    );
    expect(unknown).toMatchObject({ code: "parameter_unknown", param: "applies_to[bogus]" });
  });

  it("creates promotion codes and lists them by code and active", async () => {
    const coupon = await stripe.coupons.create({ percent_off: 20, duration: "forever" });
    const code = `SPRING${Date.now()}`;
    const promo = await stripe.promotionCodes.create({
      promotion: { type: "coupon", coupon: coupon.id },
      code,
      max_redemptions: 3,
      restrictions: { first_time_transaction: true, minimum_amount: 500, minimum_amount_currency: "usd" },
    });
    expect(promo).toMatchObject({
      object: "promotion_code",
      code,
      active: true,
      promotion: { type: "coupon", coupon: coupon.id },
      restrictions: { first_time_transaction: true, minimum_amount: 500, minimum_amount_currency: "usd" },
    });
    expect((await stripe.promotionCodes.list({ code: code.toLowerCase() })).data.map((p) => p.id)).toEqual([
      promo.id,
    ]);
    await stripe.promotionCodes.update(promo.id, { active: false });
    expect((await stripe.promotionCodes.list({ code, active: true })).data).toEqual([]);
    expect((await stripe.promotionCodes.list({ code, active: false })).data).toHaveLength(1);
    expect(
      (await refused(stripe.promotionCodes.create({ promotion: { type: "coupon", coupon: "nope" } }))).param,
    ).toBe("promotion[coupon]");
  });
});

describe("discounts on subscriptions", () => {
  it("applies a repeating coupon for its months, on invoices, lines, renewals and previews", async () => {
    const { clock, customer, price } = await fixture();
    const coupon = await stripe.coupons.create({
      percent_off: 20,
      duration: "repeating",
      duration_in_months: 2,
    });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      discounts: [{ coupon: coupon.id }],
      expand: ["latest_invoice", "discounts"],
    });
    const discount = sub.discounts[0] as Stripe.Discount;
    expect(discount).toMatchObject({
      object: "discount",
      source: { coupon: coupon.id },
      subscription: sub.id,
    });
    expect(discount.end).toBe(Math.floor(Date.UTC(2032, 2, 15) / 1000));
    const first = sub.latest_invoice as Stripe.Invoice;
    expect(first).toMatchObject({ subtotal: 1000, total: 800, amount_paid: 800, discounts: [discount.id] });
    expect(first.total_discount_amounts).toEqual([{ amount: 200, discount: discount.id }]);
    expect(first.lines.data[0]?.discount_amounts).toEqual([{ amount: 200, discount: discount.id }]);
    expect((await stripe.coupons.retrieve(coupon.id)).times_redeemed).toBe(1);

    const preview = await stripe.invoices.createPreview({ subscription: sub.id });
    expect(preview).toMatchObject({ subtotal: 1000, total: 800 });

    await advance(clock.id, START + 32 * DAY); // Feb 15 renewal: still discounted
    const feb = (await stripe.invoices.list({ subscription: sub.id, limit: 1 })).data[0];
    expect(feb).toMatchObject({ billing_reason: "subscription_cycle", total: 800 });
    await advance(clock.id, START + 62 * DAY); // Mar 15 renewal: the two months are over
    const mar = (await stripe.invoices.list({ subscription: sub.id, limit: 1 })).data[0];
    expect(mar).toMatchObject({ billing_reason: "subscription_cycle", total: 1000, discounts: [] });
    expect((await stripe.subscriptions.retrieve(sub.id)).discounts).toEqual([]);
    const deleted = await stripe.events.list({ type: "customer.discount.deleted", limit: 10 });
    expect(deleted.data.map((e) => (e.data.object as Stripe.Discount).id)).toContain(discount.id);
  });

  it("uses a once coupon on the first invoice only, and adds or removes discounts on update", async () => {
    const { clock, customer, price } = await fixture();
    const once = await stripe.coupons.create({ amount_off: 300, currency: "usd", duration: "once" });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      discounts: [{ coupon: once.id }],
      expand: ["latest_invoice"],
    });
    expect((sub.latest_invoice as Stripe.Invoice).total).toBe(700);
    expect((await stripe.subscriptions.retrieve(sub.id)).discounts).toEqual([]);
    await advance(clock.id, START + 32 * DAY);
    expect((await stripe.invoices.list({ subscription: sub.id, limit: 1 })).data[0]?.total).toBe(1000);

    const forever = await stripe.coupons.create({ percent_off: 50, duration: "forever" });
    const updated = await stripe.subscriptions.update(sub.id, { discounts: [{ coupon: forever.id }] });
    expect(updated.discounts).toHaveLength(1);
    expect((await stripe.invoices.createPreview({ subscription: sub.id })).total).toBe(500);
    const kept = await stripe.subscriptions.update(sub.id, {
      discounts: [{ discount: String(updated.discounts[0]) }],
    });
    expect(kept.discounts).toEqual(updated.discounts);
    expect((await stripe.subscriptions.update(sub.id, { discounts: "" })).discounts).toEqual([]);
    expect((await stripe.invoices.createPreview({ subscription: sub.id })).total).toBe(1000);
  });

  it("redeems promotion codes and refuses invalid, expired, exhausted and inapplicable ones", async () => {
    const { clock, customer, price, product } = await fixture();
    const coupon = await stripe.coupons.create({ percent_off: 10, duration: "forever" });
    const promo = await stripe.promotionCodes.create({
      promotion: { type: "coupon", coupon: coupon.id },
      code: `ONCE${Date.now()}`,
      max_redemptions: 1,
    });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      discounts: [{ promotion_code: promo.id }],
      expand: ["latest_invoice", "discounts"],
    });
    expect((sub.latest_invoice as Stripe.Invoice).total).toBe(900);
    expect((sub.discounts[0] as Stripe.Discount).promotion_code).toBe(promo.id);
    expect((await stripe.promotionCodes.retrieve(promo.id)).times_redeemed).toBe(1);

    const exhausted = await refused(
      stripe.subscriptions.create({
        customer: customer.id,
        items: [{ price: price.id }],
        discounts: [{ promotion_code: promo.id }],
      }),
    );
    expect(exhausted.message).toMatch(/redeemed the maximum number of times/);
    expect(exhausted.param).toBe("discounts[0][promotion_code]");

    const inactive = await stripe.promotionCodes.create({
      promotion: { type: "coupon", coupon: coupon.id },
      active: false,
    });
    expect(
      (await refused(stripe.subscriptions.update(sub.id, { discounts: [{ promotion_code: inactive.id }] })))
        .message,
    ).toMatch(/is inactive/);
    const expiring = await stripe.promotionCodes.create({
      promotion: { type: "coupon", coupon: coupon.id },
      expires_at: START + DAY,
    });
    await advance(clock.id, START + 2 * DAY);
    expect(
      (await refused(stripe.subscriptions.update(sub.id, { discounts: [{ promotion_code: expiring.id }] })))
        .message,
    ).toMatch(/has expired/);
    const firstTime = await stripe.promotionCodes.create({
      promotion: { type: "coupon", coupon: coupon.id },
      restrictions: { first_time_transaction: true },
    });
    expect(
      (await refused(stripe.subscriptions.update(sub.id, { discounts: [{ promotion_code: firstTime.id }] })))
        .message,
    ).toMatch(/prior transactions/);

    const other = await stripe.products.create({ name: "Other" });
    const narrow = await stripe.coupons.create({ percent_off: 10, applies_to: { products: [other.id] } });
    const notApplicable = await refused(
      stripe.subscriptions.update(sub.id, { discounts: [{ coupon: narrow.id }] }),
    );
    expect(notApplicable.message).toMatch(/only applies to products/);
    const ok = await stripe.coupons.create({ percent_off: 10, applies_to: { products: [product.id] } });
    await stripe.subscriptions.update(sub.id, { discounts: [{ coupon: ok.id }] });

    const realNow = Math.floor(Date.now() / 1000);
    const expired = await stripe.coupons.create({ percent_off: 5, redeem_by: realNow + 3600 });
    const laterClock = await stripe.testHelpers.testClocks.create({ frozen_time: realNow });
    await advance(laterClock.id, realNow + 2 * 3600);
    const late = await refused(
      stripe.subscriptions.create({
        customer: (await stripe.customers.create({ test_clock: laterClock.id })).id,
        items: [{ price: price.id }],
        discounts: [{ coupon: expired.id }],
        payment_behavior: "default_incomplete",
      }),
    );
    expect(late).toMatchObject({ code: "coupon_expired", message: `Coupon expired: ${expired.id}` });
    expect(
      (await refused(stripe.subscriptions.update(sub.id, { discounts: [{ coupon: "nope" }] }))).code,
    ).toBe("resource_missing");
  });

  it("discounts an invoice item by its own coupon", async () => {
    const { customer } = await fixture();
    const coupon = await stripe.coupons.create({ amount_off: 250, currency: "usd", duration: "once" });
    const item = await stripe.invoiceItems.create({
      customer: customer.id,
      amount: 1000,
      currency: "usd",
      discounts: [{ coupon: coupon.id }],
    });
    expect(item.discounts).toHaveLength(1);
    const invoice = await stripe.invoices.create({
      customer: customer.id,
      pending_invoice_items_behavior: "include",
    });
    expect(invoice).toMatchObject({ subtotal: 1000, total: 750 });
    const finalized = await stripe.invoices.finalizeInvoice(invoice.id);
    expect(finalized).toMatchObject({ total: 750, amount_due: 750 });
    expect(finalized.lines.data[0]?.discount_amounts).toEqual([
      { amount: 250, discount: item.discounts?.[0] },
    ]);
  });
});

describe("discounts in Checkout", () => {
  async function pay(sessionId: string, extra = ""): Promise<Response> {
    return fetch(`${emulator.url}/checkout/${sessionId}/pay`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `card=visa&email=promo%40minutely.test${extra}`,
      redirect: "manual",
    });
  }

  it("applies discounts given at creation to the session totals and the subscription", async () => {
    const { price } = await fixture();
    const coupon = await stripe.coupons.create({ percent_off: 25, duration: "forever" });
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price: price.id, quantity: 2 }],
      discounts: [{ coupon: coupon.id }],
      success_url: "http://localhost/ok",
    });
    expect(session).toMatchObject({
      amount_subtotal: 2000,
      amount_total: 1500,
      total_details: { amount_discount: 500 },
      discounts: [{ coupon: coupon.id, promotion_code: null }],
    });
    const page = await (await fetch(`${emulator.url}/checkout/${session.id}`)).text();
    expect(page).toContain('id="checkout-discount"');
    expect((await pay(session.id)).status).toBe(303);
    const done = await stripe.checkout.sessions.retrieve(session.id, {
      expand: ["subscription.latest_invoice"],
    });
    const sub = done.subscription as Stripe.Subscription;
    expect(sub.discounts).toHaveLength(1);
    expect((sub.latest_invoice as Stripe.Invoice).total).toBe(1500);

    const both = await refused(
      stripe.checkout.sessions.create({
        mode: "subscription",
        line_items: [{ price: price.id }],
        discounts: [{ coupon: coupon.id }],
        allow_promotion_codes: true,
        success_url: "http://localhost/ok",
      }),
    );
    expect(both.message).toBe(
      "You may only specify one of these parameters: allow_promotion_codes, discounts.",
    );
  });

  it("lets a promotion code be entered on the hosted page, refusing an unknown one", async () => {
    const { price } = await fixture();
    const coupon = await stripe.coupons.create({ amount_off: 400, currency: "usd", duration: "once" });
    const code = `WELCOME${Date.now()}`;
    const promo = await stripe.promotionCodes.create({
      promotion: { type: "coupon", coupon: coupon.id },
      code,
    });
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price: price.id }],
      allow_promotion_codes: true,
      success_url: "http://localhost/ok",
    });
    expect(session.allow_promotion_codes).toBe(true);
    expect(await (await fetch(`${emulator.url}/checkout/${session.id}`)).text()).toContain(
      'id="promotion-code"',
    );
    const wrong = await pay(session.id, "&promotion_code=NOPE");
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain("This code is invalid.");
    expect((await stripe.checkout.sessions.retrieve(session.id)).status).toBe("open");

    expect((await pay(session.id, `&promotion_code=${code.toLowerCase()}`)).status).toBe(303);
    const done = await stripe.checkout.sessions.retrieve(session.id, {
      expand: ["subscription.latest_invoice"],
    });
    expect(done.discounts).toEqual([{ coupon: coupon.id, promotion_code: promo.id }]);
    expect(done.amount_total).toBe(600);
    expect(((done.subscription as Stripe.Subscription).latest_invoice as Stripe.Invoice).total).toBe(600);
    expect((await stripe.promotionCodes.retrieve(promo.id)).times_redeemed).toBe(1);
  });
});
