/**
 * Issue 22, items 5, 7 and 8's events: the retry policy (configurable like Stripe's Revenue recovery
 * settings), Stripe's state rules (unpaid subscriptions are not charged, incomplete ones take few updates,
 * test clocks advance at most two intervals), charges and the invoice notices.
 */
import type Stripe from "stripe";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_PAYMENT_RETRIES, paymentRetriesFromEnv, retryDelaysSeconds } from "./config.ts";
import type { StripeEmulator, StripeEmulatorOptions } from "./server.ts";
import { startTestEmulator } from "./testing.ts";

const DAY = 86_400;
const started: StripeEmulator[] = [];

afterAll(async () => {
  await Promise.all(started.map((emulator) => emulator.close()));
});

async function emulatorWith(options: StripeEmulatorOptions = {}) {
  const { emulator, stripe } = await startTestEmulator(options);
  started.push(emulator);
  return { emulator, stripe };
}

async function fixture(stripe: Stripe, card = "pm_card_visa", interval: "day" | "month" = "month") {
  const clock = await stripe.testHelpers.testClocks.create({
    frozen_time: Math.floor(Date.UTC(2032, 4, 1) / 1000),
  });
  const customer = await stripe.customers.create({
    test_clock: clock.id,
    payment_method: card,
    invoice_settings: { default_payment_method: card },
  });
  const product = await stripe.products.create({ name: "Minutes" });
  const price = await stripe.prices.create({
    product: product.id,
    currency: "usd",
    unit_amount: 1000,
    recurring: { interval },
  });
  return { clock, customer, price };
}

async function eventsOf(stripe: Stripe, type: string): Promise<Stripe.Event[]> {
  return (await stripe.events.list({ type, limit: 100 })).data;
}

describe("retry schedule", () => {
  it("spreads Smart Retries evenly: 8 tries within 14 days are 7 retries 2 days apart", () => {
    expect(retryDelaysSeconds(DEFAULT_PAYMENT_RETRIES.schedule)).toEqual(Array(7).fill(2 * DAY));
    expect(retryDelaysSeconds({ type: "smart", attempts: 4, withinDays: 7 })).toEqual([
      Math.round((7 * DAY) / 3),
      Math.round((14 * DAY) / 3) - Math.round((7 * DAY) / 3),
      7 * DAY - Math.round((14 * DAY) / 3),
    ]);
    expect(retryDelaysSeconds({ type: "custom", daysAfterPrevious: [3, 2, 2] })).toEqual([
      3 * DAY,
      2 * DAY,
      2 * DAY,
    ]);
  });

  it("is read from the environment, and refused when it is not a Stripe setting", () => {
    expect(paymentRetriesFromEnv({})).toBeUndefined();
    expect(
      paymentRetriesFromEnv({
        STRIPE_EMULATOR_RETRY_SCHEDULE: "custom:3,2,2",
        STRIPE_EMULATOR_SUBSCRIPTION_AFTER_RETRIES: "unpaid",
      }),
    ).toEqual({
      schedule: { type: "custom", daysAfterPrevious: [3, 2, 2] },
      subscriptionAfterFinalFailure: "unpaid",
      invoiceAfterFinalFailure: "past_due",
    });
    expect(paymentRetriesFromEnv({ STRIPE_EMULATOR_RETRY_SCHEDULE: "smart:4:7" })?.schedule).toEqual({
      type: "smart",
      attempts: 4,
      withinDays: 7,
    });
    expect(() => paymentRetriesFromEnv({ STRIPE_EMULATOR_RETRY_SCHEDULE: "smart:9:14" })).toThrow(/1 to 8/);
    expect(() => paymentRetriesFromEnv({ STRIPE_EMULATOR_RETRY_SCHEDULE: "weekly" })).toThrow(/smart/);
    expect(() => paymentRetriesFromEnv({ STRIPE_EMULATOR_SUBSCRIPTION_AFTER_RETRIES: "pause" })).toThrow(
      /cancel/,
    );
  });

  it("with a custom schedule and `unpaid`, stops retrying and charges no later renewal", async () => {
    const { stripe } = await emulatorWith({
      paymentRetries: {
        schedule: { type: "custom", daysAfterPrevious: [3, 2, 2] },
        subscriptionAfterFinalFailure: "unpaid",
        invoiceAfterFinalFailure: "uncollectible",
      },
    });
    const { clock, customer, price } = await fixture(stripe);
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    const failing = await stripe.paymentMethods.attach("pm_card_chargeCustomerFail", {
      customer: customer.id,
    });
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: failing.id } });
    const periodEnd = sub.items.data[0]?.current_period_end ?? 0;
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: periodEnd + 8 * DAY });
    const unpaid = await stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
    expect(unpaid.status).toBe("unpaid");
    const failed = unpaid.latest_invoice as Stripe.Invoice;
    expect(failed.attempt_count).toBe(4);
    expect(failed.status).toBe("uncollectible");
    expect(failed.status_details).toEqual({ uncollectible: { reason: "max_payment_attempts" } });
    // The next renewal is invoiced, but Stripe attempts no payment of an unpaid subscription's invoices.
    const nextEnd = (await stripe.subscriptions.retrieve(sub.id)).items.data[0]?.current_period_end ?? 0;
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: nextEnd + DAY });
    const later = await stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
    const renewal = later.latest_invoice as Stripe.Invoice;
    expect(renewal.id).not.toBe(failed.id);
    expect(renewal).toMatchObject({
      status: "open",
      attempt_count: 0,
      attempted: false,
      next_payment_attempt: null,
    });
    expect(later.status).toBe("unpaid");
  });

  it("can leave the subscription past_due after the last retry", async () => {
    const { stripe } = await emulatorWith({
      paymentRetries: {
        schedule: { type: "smart", attempts: 2, withinDays: 7 },
        subscriptionAfterFinalFailure: "past_due",
        invoiceAfterFinalFailure: "past_due",
      },
    });
    const { clock, customer, price } = await fixture(stripe);
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    const failing = await stripe.paymentMethods.attach("pm_card_chargeCustomerFail", {
      customer: customer.id,
    });
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: failing.id } });
    const periodEnd = sub.items.data[0]?.current_period_end ?? 0;
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: periodEnd + 10 * DAY });
    const after = await stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
    expect(after.status).toBe("past_due");
    expect(after.latest_invoice as Stripe.Invoice).toMatchObject({ attempt_count: 2, status: "open" });
  });
});

describe("state rules", () => {
  it("lets an incomplete subscription update only its metadata and payment method", async () => {
    const { stripe } = await emulatorWith();
    const { customer, price } = await fixture(stripe, "pm_card_chargeCustomerFail");
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    expect(sub.status).toBe("incomplete");
    const refused = await stripe.subscriptions
      .update(sub.id, { items: [{ id: sub.items.data[0]?.id ?? "", quantity: 2 }] })
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ statusCode: 400, param: "items" });
    const updated = await stripe.subscriptions.update(sub.id, { metadata: { note: "kept" } });
    expect(updated.metadata).toEqual({ note: "kept" });
    expect(updated.items.data[0]?.quantity).toBe(1);
  });

  it("advances a test clock at most two intervals of its shortest subscription at once", async () => {
    const { stripe } = await emulatorWith();
    const { clock, customer, price } = await fixture(stripe);
    await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    const sixMonths = Math.floor(Date.UTC(2032, 10, 1) / 1000);
    const refused = await stripe.testHelpers.testClocks
      .advance(clock.id, { frozen_time: sixMonths })
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ statusCode: 400, param: "frozen_time" });
    expect((refused as Error).message).toMatch(/at most two intervals/);
    expect((await stripe.testHelpers.testClocks.retrieve(clock.id)).frozen_time).toBe(clock.frozen_time);
    const twoMonths = Math.floor(Date.UTC(2032, 6, 1) / 1000);
    const moved = await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: twoMonths });
    expect(moved.id).toBe(clock.id);
    // A clock without subscriptions has no such limit.
    const empty = await stripe.testHelpers.testClocks.create({ frozen_time: clock.frozen_time });
    await stripe.testHelpers.testClocks.advance(empty.id, { frozen_time: sixMonths });
  });
});

describe("charges and invoice events", () => {
  it("emits charge.succeeded, invoice_payment.paid and, on a refund, charge.refunded", async () => {
    const { stripe } = await emulatorWith();
    const { customer, price } = await fixture(stripe);
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      expand: ["latest_invoice.payments"],
    });
    const invoice = sub.latest_invoice as Stripe.Invoice;
    const payment = invoice.payments?.data[0];
    const pi = await stripe.paymentIntents.retrieve(String(payment?.payment.payment_intent), {
      expand: ["latest_charge"],
    });
    const charge = pi.latest_charge as Stripe.Charge;
    expect(charge).toMatchObject({
      object: "charge",
      status: "succeeded",
      amount: 1000,
      paid: true,
      payment_intent: pi.id,
    });
    expect(
      (await eventsOf(stripe, "charge.succeeded")).map((e) => (e.data.object as Stripe.Charge).id),
    ).toEqual([charge.id]);
    const paid = await eventsOf(stripe, "invoice_payment.paid");
    expect(paid.map((e) => (e.data.object as Stripe.InvoicePayment).invoice)).toEqual([invoice.id]);
    const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 400 });
    expect(refund.charge).toBe(charge.id);
    const refunded = await eventsOf(stripe, "charge.refunded");
    expect(refunded.map((e) => (e.data.object as Stripe.Charge).amount_refunded)).toEqual([400]);
  });

  it("emits charge.failed with the decline on a failed attempt", async () => {
    const { stripe } = await emulatorWith();
    const { customer, price } = await fixture(stripe, "pm_card_chargeCustomerFail");
    await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    const failed = await eventsOf(stripe, "charge.failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]?.data.object).toMatchObject({
      status: "failed",
      failure_code: "card_declined",
      paid: false,
    });
  });

  it("sends invoice.upcoming 7 days before a renewal (configurable), once per period", async () => {
    const { stripe } = await emulatorWith();
    const { clock, customer, price } = await fixture(stripe);
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    const periodEnd = sub.items.data[0]?.current_period_end ?? 0;
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: periodEnd - 8 * DAY });
    expect(await eventsOf(stripe, "invoice.upcoming")).toHaveLength(0);
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: periodEnd - 6 * DAY });
    const upcoming = await eventsOf(stripe, "invoice.upcoming");
    expect(upcoming).toHaveLength(1);
    expect(upcoming[0]?.data.object).toMatchObject({
      object: "invoice",
      billing_reason: "upcoming",
      total: 1000,
      period_end: periodEnd,
    });
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: periodEnd - DAY });
    expect(await eventsOf(stripe, "invoice.upcoming")).toHaveLength(1);
    const { stripe: quiet } = await emulatorWith({ invoiceNotices: { upcomingDaysBefore: null } });
    const other = await fixture(quiet);
    const sub2 = await quiet.subscriptions.create({
      customer: other.customer.id,
      items: [{ price: other.price.id }],
    });
    await quiet.testHelpers.testClocks.advance(other.clock.id, {
      frozen_time: (sub2.items.data[0]?.current_period_end ?? 0) + DAY,
    });
    expect(await eventsOf(quiet, "invoice.upcoming")).toHaveLength(0);
  });

  it("sends invoice.will_be_due and invoice.overdue for invoices with a due date, when configured", async () => {
    const { stripe } = await emulatorWith({
      invoiceNotices: { willBeDueDaysBefore: 3, overdueDaysAfter: 1 },
    });
    const { clock, customer } = await fixture(stripe);
    await stripe.invoiceItems.create({ customer: customer.id, amount: 2500, currency: "usd" });
    const draft = await stripe.invoices.create({
      customer: customer.id,
      collection_method: "send_invoice",
      days_until_due: 10,
      pending_invoice_items_behavior: "include",
    });
    const open = await stripe.invoices.finalizeInvoice(draft.id);
    const due = open.due_date ?? 0;
    expect(due).toBeGreaterThan(clock.frozen_time);
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: due - 4 * DAY });
    expect(await eventsOf(stripe, "invoice.will_be_due")).toHaveLength(0);
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: due - 2 * DAY });
    expect(
      (await eventsOf(stripe, "invoice.will_be_due")).map((e) => (e.data.object as Stripe.Invoice).id),
    ).toEqual([open.id]);
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: due + 2 * DAY });
    expect(
      (await eventsOf(stripe, "invoice.overdue")).map((e) => (e.data.object as Stripe.Invoice).id),
    ).toEqual([open.id]);
  });
});

describe("proration credits", () => {
  it("name the invoice line they credit (proration_details.credited_items)", async () => {
    const { stripe } = await emulatorWith();
    const { clock, customer, price } = await fixture(stripe);
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      expand: ["latest_invoice"],
    });
    const first = sub.latest_invoice as Stripe.Invoice;
    const firstLine = first.lines.data[0];
    const pro = await stripe.prices.create({
      product: String(price.product),
      currency: "usd",
      unit_amount: 3000,
      recurring: { interval: "month" },
    });
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: clock.frozen_time + 10 * DAY });
    const upgraded = await stripe.subscriptions.update(sub.id, {
      items: [{ id: sub.items.data[0]?.id ?? "", price: pro.id }],
      proration_behavior: "always_invoice",
      expand: ["latest_invoice"],
    });
    const lines = (upgraded.latest_invoice as Stripe.Invoice).lines.data;
    const credit = lines.find((line) => line.amount < 0);
    const charge = lines.find((line) => line.amount > 0);
    expect(credit?.parent?.invoice_item_details?.proration_details?.credited_items).toEqual({
      invoice: first.id,
      invoice_line_items: [firstLine?.id],
    });
    expect(charge?.parent?.invoice_item_details?.proration_details?.credited_items).toBeNull();
  });
});
