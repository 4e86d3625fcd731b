/** Tiered prices and prices in several currencies (issue 22), through the SDK. */
import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StripeEmulator } from "./server.ts";
import { startTestEmulator } from "./testing.ts";

let emulator: StripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  ({ emulator, stripe } = await startTestEmulator());
});
afterAll(async () => {
  await emulator.close();
});

async function customerOnClock() {
  const clock = await stripe.testHelpers.testClocks.create({
    frozen_time: Math.floor(Date.UTC(2032, 0, 1) / 1000),
  });
  const customer = await stripe.customers.create({
    test_clock: clock.id,
    payment_method: "pm_card_visa",
    invoice_settings: { default_payment_method: "pm_card_visa" },
  });
  return { clock, customer };
}

const TIERS: Stripe.PriceCreateParams.Tier[] = [
  { up_to: 10, unit_amount: 100, flat_amount: 500 },
  { up_to: 20, unit_amount: 80 },
  { up_to: "inf", unit_amount: 50 },
];

describe("tiered prices", () => {
  it("prices graduated and volume tiers, and returns tiers only when expanded", async () => {
    const product = await stripe.products.create({ name: "Seats" });
    const graduated = await stripe.prices.create({
      product: product.id,
      currency: "usd",
      billing_scheme: "tiered",
      tiers_mode: "graduated",
      tiers: TIERS,
      recurring: { interval: "month" },
    });
    expect(graduated).toMatchObject({ billing_scheme: "tiered", tiers_mode: "graduated", unit_amount: null });
    expect(graduated.tiers).toBeUndefined();
    const expanded = await stripe.prices.retrieve(graduated.id, { expand: ["tiers"] });
    expect(expanded.tiers?.map((t) => [t.up_to, t.unit_amount, t.flat_amount])).toEqual([
      [10, 100, 500],
      [20, 80, 0],
      [null, 50, 0],
    ]);

    const { customer } = await customerOnClock();
    // 25 seats graduated: 10 × 100 + 500 + 10 × 80 + 5 × 50 = 2550.
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: graduated.id, quantity: 25 }],
      expand: ["latest_invoice", "items.data.price.tiers"],
    });
    expect((sub.latest_invoice as Stripe.Invoice).total).toBe(2550);
    expect(sub.items.data[0]?.price.tiers).toHaveLength(3);

    const volume = await stripe.prices.create({
      product: product.id,
      currency: "usd",
      billing_scheme: "tiered",
      tiers_mode: "volume",
      tiers: TIERS,
    });
    // 15 units by volume: all at the second tier, 15 × 80 = 1200.
    const item = await stripe.invoiceItems.create({
      customer: customer.id,
      pricing: { price: volume.id },
      quantity: 15,
    });
    expect(item.amount).toBe(1200);
    // 5 units by volume: first tier, 5 × 100 + 500.
    const small = await stripe.invoiceItems.create({
      customer: customer.id,
      pricing: { price: volume.id },
      quantity: 5,
    });
    expect(small.amount).toBe(1000);
  });

  it("refuses malformed tiers, naming the field", async () => {
    const product = await stripe.products.create({ name: "Bad tiers" });
    const base = { product: product.id, currency: "usd", billing_scheme: "tiered" as const };
    const noMode = await stripe.prices.create({ ...base, tiers: TIERS }).catch((e: unknown) => e);
    expect(noMode).toMatchObject({ type: "StripeInvalidRequestError", param: "tiers_mode" });
    const notLast = await stripe.prices
      .create({
        ...base,
        tiers_mode: "volume",
        tiers: [
          { up_to: "inf", unit_amount: 1 },
          { up_to: 5, unit_amount: 1 },
        ],
      })
      .catch((e: unknown) => e);
    expect(notLast).toMatchObject({ param: "tiers[0][up_to]" });
    const bad = await stripe.prices
      .create({ ...base, tiers_mode: "volume", tiers: [{ up_to: "many" as "inf", unit_amount: 1 }] })
      .catch((e: unknown) => e);
    expect(bad).toMatchObject({ param: "tiers[0][up_to]" });
    const both = await stripe.prices
      .create({ ...base, tiers_mode: "volume", unit_amount: 5, tiers: TIERS })
      .catch((e: unknown) => e);
    expect(both).toMatchObject({ param: "unit_amount" });
    const unknown = await stripe.prices
      .create({
        ...base,
        tiers_mode: "volume",
        tiers: [{ up_to: "inf", unit_amount: 1, bogus: 1 } as Stripe.PriceCreateParams.Tier],
      })
      .catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: "parameter_unknown", param: "tiers[0][bogus]" });
  });
});

describe("prices in several currencies", () => {
  it("bills a subscription in a currency_options currency and keeps the customer's currency", async () => {
    const product = await stripe.products.create({ name: "Global plan" });
    const price = await stripe.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount: 1000,
      currency_options: { eur: { unit_amount: 900 }, gbp: { unit_amount: 800 } },
      recurring: { interval: "month" },
    });
    expect(price.currency_options).toBeUndefined();
    const expanded = await stripe.prices.retrieve(price.id, { expand: ["currency_options"] });
    expect(expanded.currency_options?.eur?.unit_amount).toBe(900);
    expect(expanded.currency_options?.usd?.unit_amount).toBe(1000);

    const { customer, clock } = await customerOnClock();
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      currency: "eur",
      items: [{ price: price.id }],
      expand: ["latest_invoice"],
    });
    expect(sub.currency).toBe("eur");
    const invoice = sub.latest_invoice as Stripe.Invoice;
    expect(invoice).toMatchObject({ currency: "eur", total: 900, amount_paid: 900 });
    expect(invoice.lines.data[0]?.currency).toBe("eur");
    expect((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).toMatchObject({
      currency: "eur",
    });

    // A renewal stays in euros.
    await stripe.testHelpers.testClocks.advance(clock.id, {
      frozen_time: Math.floor(Date.UTC(2032, 1, 1, 1) / 1000),
    });
    const renewal = await stripe.invoices.list({ subscription: sub.id, limit: 1 });
    expect(renewal.data[0]).toMatchObject({
      billing_reason: "subscription_cycle",
      currency: "eur",
      total: 900,
    });

    // The customer's currency is fixed: another currency is refused.
    const other = await stripe.subscriptions
      .create({ customer: customer.id, currency: "gbp", items: [{ price: price.id }] })
      .catch((e: unknown) => e);
    expect(other).toMatchObject({ param: "currency" });
    expect((other as Error).message).toMatch(/cannot combine currencies/);

    // Without `currency`, a later subscription follows the customer's currency.
    const second = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    expect(second.currency).toBe("eur");
  });

  it("refuses a currency the price has no option for, and checks currency_options' keys", async () => {
    const product = await stripe.products.create({ name: "Dollars only" });
    const price = await stripe.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount: 1000,
      recurring: { interval: "month" },
    });
    const { customer } = await customerOnClock();
    const error = await stripe.subscriptions
      .create({ customer: customer.id, currency: "eur", items: [{ price: price.id }] })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ type: "StripeInvalidRequestError", param: "items[0][price]" });
    const badKey = await stripe.prices
      .create({
        product: product.id,
        currency: "usd",
        unit_amount: 1,
        currency_options: { zzz: { unit_amount: 1 } },
      })
      .catch((e: unknown) => e);
    expect(badKey).toMatchObject({ param: "currency_options[zzz]" });
  });

  it("opens Checkout in the option's currency", async () => {
    const product = await stripe.products.create({ name: "Checkout euros" });
    const price = await stripe.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount: 1000,
      currency_options: { eur: { unit_amount: 950 } },
      recurring: { interval: "month" },
    });
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      currency: "eur",
      line_items: [{ price: price.id, quantity: 2 }],
      success_url: "http://localhost/ok",
    });
    expect(session).toMatchObject({ currency: "eur", amount_total: 1900 });
    const page = await fetch(`${emulator.url}/checkout/${session.id}/pay`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "card=visa&email=eur%40minutely.test",
      redirect: "manual",
    });
    expect(page.status).toBe(303);
    const done = await stripe.checkout.sessions.retrieve(session.id, {
      expand: ["subscription.latest_invoice"],
    });
    const sub = done.subscription as Stripe.Subscription;
    expect(sub.currency).toBe("eur");
    expect((sub.latest_invoice as Stripe.Invoice).total).toBe(1900);
  });
});
