import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StripeEmulator } from "./server.ts";
import { invoiceInvariantViolations, startTestEmulator } from "./testing.ts";

const DAY = 86_400;
let emulator: StripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  ({ emulator, stripe } = await startTestEmulator());
});
afterAll(async () => {
  expect(await invoiceInvariantViolations(stripe)).toEqual([]);
  await emulator.close();
});

async function fixture(card: string | null = "pm_card_visa") {
  const clock = await stripe.testHelpers.testClocks.create({
    frozen_time: Math.floor(Date.UTC(2032, 4, 1) / 1000),
  });
  const customer = await stripe.customers.create({
    email: "billing@minutely.test",
    test_clock: clock.id,
    ...(card ? { payment_method: card, invoice_settings: { default_payment_method: card } } : {}),
  });
  const product = await stripe.products.create({ name: "Minutes" });
  const basic = await stripe.prices.create({
    product: product.id,
    currency: "usd",
    unit_amount: 1000,
    recurring: { interval: "month" },
  });
  const pro = await stripe.prices.create({
    product: product.id,
    currency: "usd",
    unit_amount: 3100,
    recurring: { interval: "month" },
  });
  return { clock, customer, product, basic, pro };
}

async function eventTypesFor(objectId: string): Promise<string[]> {
  const all = await stripe.events.list({ limit: 100 });
  return all.data
    .filter((e) => (e.data.object as { id?: string }).id === objectId)
    .map((e) => e.type)
    .reverse();
}

describe("payments on subscription creation", () => {
  it("leaves an incomplete subscription with an open, failed invoice by default, and pay() recovers it", async () => {
    const { customer, basic } = await fixture("pm_card_chargeCustomerFail");
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: basic.id }],
      expand: ["latest_invoice"],
    });
    expect(sub.status).toBe("incomplete");
    const invoice = sub.latest_invoice as Stripe.Invoice;
    expect(invoice).toMatchObject({
      status: "open",
      attempt_count: 1,
      amount_paid: 0,
      amount_remaining: 1000,
    });
    expect(await eventTypesFor(invoice.id)).toContain("invoice.payment_failed");

    const good = await stripe.paymentMethods.attach("pm_card_visa", { customer: customer.id });
    const paid = await stripe.invoices.pay(invoice.id, { payment_method: good.id });
    expect(paid.status).toBe("paid");
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe("active");
  });

  it("treats pm_card_authenticationRequired as requiring action", async () => {
    const { customer, basic } = await fixture("pm_card_authenticationRequired");
    const error = await stripe.subscriptions
      .create({
        customer: customer.id,
        items: [{ price: basic.id }],
        payment_behavior: "error_if_incomplete",
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect((error as Stripe.errors.StripeCardError).code).toBe("authentication_required");
    expect((error as Stripe.errors.StripeCardError).decline_code).toBe("authentication_required");

    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: basic.id }],
      expand: ["latest_invoice.payments"],
    });
    expect(sub.status).toBe("incomplete");
    const invoice = sub.latest_invoice as Stripe.Invoice;
    const pi = await stripe.paymentIntents.retrieve(
      String(invoice.payments?.data[0]?.payment.payment_intent),
    );
    expect(pi.status).toBe("requires_action");
    expect(await eventTypesFor(invoice.id)).toContain("invoice.payment_action_required");
  });

  it("supports default_incomplete and refuses to charge a customer without a payment method", async () => {
    const { customer, basic } = await fixture(null);
    const error = await stripe.subscriptions
      .create({ customer: customer.id, items: [{ price: basic.id }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect((error as Error).message).toMatch(/no attached payment source or default payment method/);
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: basic.id }],
      payment_behavior: "default_incomplete",
      expand: ["latest_invoice.confirmation_secret"],
    });
    expect(sub.status).toBe("incomplete");
    expect((sub.latest_invoice as Stripe.Invoice).confirmation_secret?.client_secret).toMatch(
      /^pi_.+_secret_/,
    );
  });

  it("expires incomplete subscriptions after 23 hours", async () => {
    const { clock, customer, basic } = await fixture("pm_card_chargeCustomerFail");
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }] });
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: clock.frozen_time + DAY });
    const expired = await stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
    expect(expired.status).toBe("incomplete_expired");
    expect((expired.latest_invoice as Stripe.Invoice).status).toBe("void");
  });
});

describe("renewals and prorations", () => {
  it("bills create_prorations items and invoice items with the next renewal", async () => {
    const { clock, customer, basic, pro } = await fixture();
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }] });
    const periodEnd = sub.items.data[0]?.current_period_end ?? 0;
    const half = clock.frozen_time + Math.floor((periodEnd - clock.frozen_time) / 2);
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: half });
    const preview = await stripe.invoices.createPreview({
      customer: customer.id,
      subscription: sub.id,
      subscription_details: {
        items: [{ id: sub.items.data[0]?.id ?? "", price: pro.id }],
        proration_date: half,
      },
    });
    await stripe.subscriptions.update(sub.id, {
      items: [{ id: sub.items.data[0]?.id ?? "", price: pro.id }],
      proration_date: half,
    });
    const pending = await stripe.invoiceItems.list({ customer: customer.id, pending: true });
    expect(pending.data.map((ii) => ii.amount).sort((a, b) => a - b)).toEqual([-500, 1550]);
    await stripe.invoiceItems.create({
      customer: customer.id,
      amount: 725,
      currency: "usd",
      description: "Overage: 145 minutes",
    });

    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: periodEnd + 60 });
    const renewed = await stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
    const invoice = renewed.latest_invoice as Stripe.Invoice;
    expect(invoice.billing_reason).toBe("subscription_cycle");
    expect(invoice.lines.data.map((l) => l.amount).sort((a, b) => a - b)).toEqual([-500, 725, 1550, 3100]);
    expect(invoice.total).toBe(4875);
    expect(preview.total).toBe(4150);
    expect(invoice.status).toBe("paid");
    expect(invoice.period_end).toBe(periodEnd);
    expect(renewed.items.data[0]?.current_period_start).toBe(periodEnd);
  });

  it("credits a downgrade with always_invoice to the customer balance and uses it next time", async () => {
    const { clock, customer, basic, pro } = await fixture();
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: pro.id }] });
    const periodEnd = sub.items.data[0]?.current_period_end ?? 0;
    const t = clock.frozen_time + Math.floor((periodEnd - clock.frozen_time) / 2);
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: t });
    const updated = await stripe.subscriptions.update(sub.id, {
      items: [{ id: sub.items.data[0]?.id ?? "", price: basic.id }],
      proration_behavior: "always_invoice",
      proration_date: t,
      expand: ["latest_invoice"],
    });
    const credit = updated.latest_invoice as Stripe.Invoice;
    expect(credit.total).toBe(-1050);
    expect(credit.amount_due).toBe(0);
    expect(credit.status).toBe("paid");
    expect(((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).balance).toBe(-1050);
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: periodEnd + 60 });
    const next = (await stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] }))
      .latest_invoice as Stripe.Invoice;
    expect(next.total).toBe(1000);
    expect(next.starting_balance).toBe(-1050);
    expect(next.amount_due).toBe(0);
    expect(next.ending_balance).toBe(-50);
  });

  it("retries as Smart Retries do by default (8 tries in 2 weeks), then cancels the subscription", async () => {
    const { clock, customer, basic } = await fixture();
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }] });
    const failing = await stripe.paymentMethods.attach("pm_card_chargeCustomerFail", {
      customer: customer.id,
    });
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: failing.id } });
    const periodEnd = sub.items.data[0]?.current_period_end ?? 0;
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: periodEnd + 60 });
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe("past_due");
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: periodEnd + 13 * DAY });
    const retrying = await stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
    expect(retrying.status).toBe("past_due");
    expect((retrying.latest_invoice as Stripe.Invoice).attempt_count).toBe(7);
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: periodEnd + 14 * DAY + 60 });
    const canceled = await stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
    expect(canceled.status).toBe("canceled");
    expect(canceled.cancellation_details?.reason).toBe("payment_failed");
    expect((canceled.latest_invoice as Stripe.Invoice).attempt_count).toBe(8);
    const types = await eventTypesFor((canceled.latest_invoice as Stripe.Invoice).id);
    expect(types.filter((t) => t === "invoice.payment_failed")).toHaveLength(8);
  });

  it("moves a trial to active with a paid invoice at trial end", async () => {
    const { clock, customer, basic } = await fixture();
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: basic.id }],
      trial_period_days: 14,
    });
    expect(sub.status).toBe("trialing");
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: clock.frozen_time + 15 * DAY });
    const after = await stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
    expect(after.status).toBe("active");
    expect((after.latest_invoice as Stripe.Invoice).amount_paid).toBe(1000);
    expect(await eventTypesFor(sub.id)).toContain("customer.subscription.trial_will_end");
  });

  it("cancels immediately with a proration credit when asked", async () => {
    const { clock, customer, basic } = await fixture();
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }] });
    const periodEnd = sub.items.data[0]?.current_period_end ?? 0;
    await stripe.testHelpers.testClocks.advance(clock.id, {
      frozen_time: clock.frozen_time + Math.floor((periodEnd - clock.frozen_time) / 2),
    });
    const canceled = await stripe.subscriptions.cancel(sub.id, { prorate: true, invoice_now: true });
    expect(canceled.status).toBe("canceled");
    expect(await eventTypesFor(sub.id)).toContain("customer.subscription.deleted");
    const invoices = await stripe.invoices.list({ subscription: sub.id });
    expect(invoices.data[0]?.total).toBe(-500);
  });

  it("bills metered usage from a billing meter at the end of the period", async () => {
    const { clock, customer, product } = await fixture();
    const meter = await stripe.billing.meters.create({
      display_name: "Call minutes",
      event_name: "call_minutes",
      default_aggregation: { formula: "sum" },
    });
    const metered = await stripe.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount: 5,
      recurring: { interval: "month", usage_type: "metered", meter: meter.id },
    });
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: metered.id }] });
    for (const [i, value] of ["30", "12"].entries()) {
      await stripe.billing.meterEvents.create({
        event_name: "call_minutes",
        payload: { stripe_customer_id: customer.id, value },
        identifier: `call-${i}`,
      });
    }
    await stripe.billing.meterEvents.create({
      event_name: "call_minutes",
      payload: { stripe_customer_id: customer.id, value: "30" },
      identifier: "call-0",
    });
    const periodEnd = sub.items.data[0]?.current_period_end ?? 0;
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: periodEnd + 60 });
    const invoice = (await stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] }))
      .latest_invoice as Stripe.Invoice;
    expect(invoice.lines.data[0]?.quantity).toBe(42);
    expect(invoice.total).toBe(210);
  });
});
