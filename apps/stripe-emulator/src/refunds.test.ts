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

  it("refunds by charge: amount_refunded, refunded, charge.refunded, and list by charge", async () => {
    const pi = await stripe.paymentIntents.create({
      amount: 2000,
      currency: "usd",
      payment_method: "pm_card_visa",
      confirm: true,
    });
    const charge = String(pi.latest_charge);
    const part = await stripe.refunds.create({ charge, amount: 500 });
    expect(part).toMatchObject({ charge, payment_intent: pi.id, amount: 500 });
    expect(await stripe.charges.retrieve(charge)).toMatchObject({ amount_refunded: 500, refunded: false });
    await stripe.refunds.create({ charge });
    expect(await stripe.charges.retrieve(charge)).toMatchObject({ amount_refunded: 2000, refunded: true });
    expect((await stripe.refunds.list({ charge })).data).toHaveLength(2);
    expect((await stripe.charges.list({ payment_intent: pi.id })).data.map((c) => c.id)).toEqual([charge]);
    const refunded = await stripe.events.list({ type: "charge.refunded", limit: 2 });
    expect(refunded.data.map((e) => (e.data.object as Stripe.Charge).amount_refunded)).toEqual([2000, 500]);
    await expect(stripe.refunds.create({ charge, payment_intent: pi.id })).rejects.toMatchObject({
      param: "payment_intent",
    });
    await expect(stripe.refunds.create({ charge: "ch_nope" })).rejects.toMatchObject({
      statusCode: 404,
      param: "charge",
    });
  });
});

describe("customer balance transactions", () => {
  it("keeps a ledger that sums to customer.balance and is used up by the next invoice", async () => {
    const customer = await stripe.customers.create({
      email: "balance@minutely.test",
      payment_method: "pm_card_visa",
      invoice_settings: { default_payment_method: "pm_card_visa" },
    });
    const credit = await stripe.customers.createBalanceTransaction(customer.id, {
      amount: -1500,
      currency: "usd",
      description: "Goodwill credit",
      metadata: { ticket: "T-1" },
    });
    expect(credit).toMatchObject({
      object: "customer_balance_transaction",
      amount: -1500,
      ending_balance: -1500,
      type: "adjustment",
      description: "Goodwill credit",
    });
    expect(((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).balance).toBe(-1500);
    const updated = await stripe.customers.updateBalanceTransaction(customer.id, credit.id, {
      description: "Goodwill",
    });
    expect(updated.description).toBe("Goodwill");
    await stripe.invoiceItems.create({ customer: customer.id, amount: 4000, currency: "usd" });
    const invoice = await stripe.invoices.create({
      customer: customer.id,
      pending_invoice_items_behavior: "include",
    });
    const paid = await stripe.invoices.pay(invoice.id);
    expect(paid).toMatchObject({
      starting_balance: -1500,
      ending_balance: 0,
      amount_due: 2500,
      status: "paid",
    });
    const ledger = await stripe.customers.listBalanceTransactions(customer.id);
    expect(ledger.data.map((t) => [t.type, t.amount, t.ending_balance, t.invoice])).toEqual([
      ["applied_to_invoice", 1500, 0, invoice.id],
      ["adjustment", -1500, -1500, null],
    ]);
    expect(await stripe.customers.retrieveBalanceTransaction(customer.id, credit.id)).toMatchObject({
      id: credit.id,
    });
    await expect(
      stripe.customers.createBalanceTransaction(customer.id, { amount: 100, currency: "eur" }),
    ).rejects.toMatchObject({ param: "currency" });
    await expect(
      stripe.customers.createBalanceTransaction(customer.id, { amount: 0, currency: "usd" }),
    ).rejects.toMatchObject({ param: "amount" });
  });

  it("records the initial balance and later adjustments made through customers.update", async () => {
    const customer = await stripe.customers.create({ balance: 700 });
    await stripe.customers.update(customer.id, { balance: 200 });
    const ledger = await stripe.customers.listBalanceTransactions(customer.id);
    expect(ledger.data.map((t) => [t.type, t.amount, t.ending_balance])).toEqual([
      ["adjustment", -500, 200],
      ["initial", 700, 700],
    ]);
  });
});
