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

/** A paid $49 subscription invoice; returns the PaymentIntent that paid it. */
async function paidPaymentIntent(): Promise<string> {
  const customer = await stripe.customers.create({
    email: "refund@minutely.test",
    payment_method: "pm_card_visa",
    invoice_settings: { default_payment_method: "pm_card_visa" },
  });
  const price = await stripe.prices.create({
    product_data: { name: "Refundable" },
    currency: "usd",
    unit_amount: 4900,
    recurring: { interval: "month" },
  });
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
  const invoice = await stripe.invoices.retrieve(String(sub.latest_invoice), { expand: ["payments"] });
  const paymentIntent = invoice.payments?.data[0]?.payment.payment_intent;
  if (typeof paymentIntent !== "string") throw new Error("the invoice has no payment");
  return paymentIntent;
}

describe("refunds", () => {
  it("refunds a payment in parts up to what was paid, then refuses as Stripe does", async () => {
    const paymentIntent = await paidPaymentIntent();
    const part = await stripe.refunds.create({
      payment_intent: paymentIntent,
      amount: 900,
      reason: "duplicate",
    });
    expect(part).toMatchObject({
      object: "refund",
      amount: 900,
      currency: "usd",
      payment_intent: paymentIntent,
      reason: "duplicate",
      status: "succeeded",
    });
    await expect(
      stripe.refunds.create({ payment_intent: paymentIntent, amount: 4001 }),
    ).rejects.toMatchObject({
      type: "StripeInvalidRequestError",
      code: "amount_too_large",
      message: "Refund amount ($40.01) is greater than unrefunded amount on charge ($40.00)",
    });
    // Without an amount: the rest.
    const rest = await stripe.refunds.create({ payment_intent: paymentIntent });
    expect(rest.amount).toBe(4000);
    await expect(stripe.refunds.create({ payment_intent: paymentIntent })).rejects.toMatchObject({
      type: "StripeInvalidRequestError",
      code: "charge_already_refunded",
    });
    const listed = await stripe.refunds.list({ payment_intent: paymentIntent });
    expect(listed.data.map((r) => r.amount).sort()).toEqual([4000, 900].sort());
    expect(await stripe.refunds.retrieve(part.id)).toMatchObject({ id: part.id, amount: 900 });
    const events = await stripe.events.list({ type: "refund.created" });
    expect(events.data.map((e) => (e.data.object as Stripe.Refund).id)).toEqual(
      expect.arrayContaining([part.id, rest.id]),
    );
  });

  it("replays a refund made with the same idempotency key instead of refunding twice", async () => {
    const paymentIntent = await paidPaymentIntent();
    const first = await stripe.refunds.create(
      { payment_intent: paymentIntent, amount: 1000 },
      { idempotencyKey: "refund-once" },
    );
    const again = await stripe.refunds.create(
      { payment_intent: paymentIntent, amount: 1000 },
      { idempotencyKey: "refund-once" },
    );
    expect(again.id).toBe(first.id);
    expect((await stripe.refunds.list({ payment_intent: paymentIntent })).data).toHaveLength(1);
  });

  it("refuses an unknown PaymentIntent with resource_missing", async () => {
    await expect(stripe.refunds.create({ payment_intent: "pi_nope" })).rejects.toMatchObject({
      statusCode: 404,
      code: "resource_missing",
    });
  });
});
