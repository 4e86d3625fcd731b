/** Trials and their end behaviours, paused subscriptions, and pausing collection (issue 22). */
import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StripeEmulator } from "./server.ts";
import { invoiceInvariantViolations, startTestEmulator } from "./testing.ts";

let emulator: StripeEmulator;
let stripe: Stripe;
const START = Math.floor(Date.UTC(2032, 0, 1) / 1000);
const DAY = 86_400;

beforeAll(async () => {
  ({ emulator, stripe } = await startTestEmulator());
});
afterAll(async () => {
  expect(await invoiceInvariantViolations(stripe)).toEqual([]);
  await emulator.close();
});

async function fixture(card: string | null) {
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: START });
  const customer = await stripe.customers.create({
    test_clock: clock.id,
    ...(card ? { payment_method: card, invoice_settings: { default_payment_method: card } } : {}),
  });
  const product = await stripe.products.create({ name: "Minutes" });
  const price = await stripe.prices.create({
    product: product.id,
    currency: "usd",
    unit_amount: 1000,
    recurring: { interval: "month" },
  });
  return { clock, customer, price };
}

async function advance(clockId: string, to: number): Promise<void> {
  await stripe.testHelpers.testClocks.advance(clockId, { frozen_time: to });
}

async function eventsOf(subId: string): Promise<string[]> {
  const all = await stripe.events.list({ limit: 100 });
  return all.data
    .filter((e) => (e.data.object as { id?: string }).id === subId)
    .map((e) => e.type)
    .reverse();
}

describe("trials", () => {
  it("trials with a $0 invoice, warns 3 days before the end and then charges", async () => {
    const { clock, customer, price } = await fixture("pm_card_visa");
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      trial_period_days: 14,
      expand: ["latest_invoice"],
    });
    expect(sub).toMatchObject({ status: "trialing", trial_start: START, trial_end: START + 14 * DAY });
    expect((sub.latest_invoice as Stripe.Invoice).total).toBe(0);
    await advance(clock.id, START + 10 * DAY);
    expect(await eventsOf(sub.id)).not.toContain("customer.subscription.trial_will_end");
    await advance(clock.id, START + 11 * DAY);
    expect(await eventsOf(sub.id)).toContain("customer.subscription.trial_will_end");
    await advance(clock.id, START + 14 * DAY + 60);
    const after = await stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
    expect(after.status).toBe("active");
    expect(after.latest_invoice).toMatchObject({ status: "paid", amount_paid: 1000 });
  });

  it("ends a trial at once with trial_end=now, and sets trial_end explicitly", async () => {
    const { customer, price } = await fixture("pm_card_visa");
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      trial_end: START + 5 * DAY,
    });
    expect(sub.status).toBe("trialing");
    const ended = await stripe.subscriptions.update(sub.id, { trial_end: "now", expand: ["latest_invoice"] });
    expect(ended.status).toBe("active");
    expect((ended.latest_invoice as Stripe.Invoice).amount_paid).toBe(1000);
  });

  it("pauses at the trial end without a payment method, and resumes with one", async () => {
    const { clock, customer, price } = await fixture(null);
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      trial_period_days: 7,
      trial_settings: { end_behavior: { missing_payment_method: "pause" } },
    });
    expect(sub.trial_settings?.end_behavior.missing_payment_method).toBe("pause");
    await advance(clock.id, START + 8 * DAY);
    const paused = await stripe.subscriptions.retrieve(sub.id);
    expect(paused.status).toBe("paused");
    expect(paused.latest_invoice).toBe(sub.latest_invoice);
    expect(await eventsOf(sub.id)).toContain("customer.subscription.paused");
    expect((await stripe.subscriptions.list({ customer: customer.id, status: "paused" })).data).toHaveLength(
      1,
    );

    const pm = await stripe.paymentMethods.attach("pm_card_visa", { customer: customer.id });
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: pm.id } });
    const resumed = await stripe.subscriptions.resume(sub.id, { expand: ["latest_invoice"] });
    expect(resumed.status).toBe("active");
    expect(resumed.latest_invoice).toMatchObject({ status: "paid", amount_paid: 1000 });
    expect(resumed.items.data[0]?.current_period_start).toBe(START + 8 * DAY);
    expect(await eventsOf(sub.id)).toContain("customer.subscription.resumed");
    const again = await stripe.subscriptions.resume(sub.id).catch((e: unknown) => e);
    expect(again).toMatchObject({ type: "StripeInvalidRequestError" });
  });

  it("cancels or invoices at the trial end without a payment method, per trial_settings (also on update)", async () => {
    const { clock, customer, price } = await fixture(null);
    const cancel = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      trial_period_days: 7,
    });
    const invoice = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      trial_period_days: 7,
    });
    expect(cancel.trial_settings?.end_behavior.missing_payment_method).toBe("create_invoice");
    const changed = await stripe.subscriptions.update(cancel.id, {
      trial_settings: { end_behavior: { missing_payment_method: "cancel" } },
    });
    expect(changed.trial_settings?.end_behavior.missing_payment_method).toBe("cancel");
    await advance(clock.id, START + 8 * DAY);
    expect((await stripe.subscriptions.retrieve(cancel.id)).status).toBe("canceled");
    const pastDue = await stripe.subscriptions.retrieve(invoice.id, { expand: ["latest_invoice"] });
    expect(pastDue.status).toBe("past_due");
    expect(pastDue.latest_invoice).toMatchObject({ status: "open", amount_due: 1000 });
  });

  it("accepts trial_settings in Checkout's subscription_data", async () => {
    const { price } = await fixture(null);
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price: price.id }],
      subscription_data: {
        trial_period_days: 7,
        trial_settings: { end_behavior: { missing_payment_method: "pause" } },
      },
      success_url: "http://localhost/ok",
    });
    expect(session.amount_total).toBe(0);
    await fetch(`${emulator.url}/checkout/${session.id}/pay`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "card=visa&email=trial%40minutely.test",
      redirect: "manual",
    });
    const done = await stripe.checkout.sessions.retrieve(session.id, { expand: ["subscription"] });
    const sub = done.subscription as Stripe.Subscription;
    expect(sub.status).toBe("trialing");
    expect(sub.trial_settings?.end_behavior.missing_payment_method).toBe("pause");
  });
});

describe("pause_collection", () => {
  it("voids, marks uncollectible or keeps renewals as drafts while paused, and resumes", async () => {
    const { clock, customer, price } = await fixture("pm_card_visa");
    const subs = await Promise.all(
      (["void", "mark_uncollectible", "keep_as_draft"] as const).map(async (behavior) => {
        const sub = await stripe.subscriptions.create({
          customer: customer.id,
          items: [{ price: price.id }],
        });
        const paused = await stripe.subscriptions.update(sub.id, {
          pause_collection: { behavior, ...(behavior === "void" ? { resumes_at: START + 40 * DAY } : {}) },
        });
        expect(paused.pause_collection).toMatchObject({ behavior });
        return paused;
      }),
    );
    await advance(clock.id, START + 31 * DAY + 60);
    const renewals = await Promise.all(
      subs.map(async (sub) => (await stripe.invoices.list({ subscription: sub.id, limit: 1 })).data[0]),
    );
    expect(renewals.map((inv) => [inv?.billing_reason, inv?.status, inv?.amount_paid])).toEqual([
      ["subscription_cycle", "void", 0],
      ["subscription_cycle", "uncollectible", 0],
      ["subscription_cycle", "draft", 0],
    ]);
    expect(renewals[2]?.auto_advance).toBe(false);
    for (const sub of subs) expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe("active");

    // `resumes_at` reached on the clock: collection resumes by itself; `''` resumes the others.
    await advance(clock.id, START + 41 * DAY);
    expect((await stripe.subscriptions.retrieve(subs[0]?.id ?? "")).pause_collection).toBeNull();
    const unpaused = await stripe.subscriptions.update(subs[1]?.id ?? "", { pause_collection: "" });
    expect(unpaused.pause_collection).toBeNull();
    await advance(clock.id, START + 60 * DAY);
    const next = await stripe.invoices.list({ subscription: subs[0]?.id ?? "", limit: 1 });
    expect(next.data[0]).toMatchObject({ status: "paid", amount_paid: 1000 });
    const bad = await stripe.subscriptions
      .update(subs[2]?.id ?? "", { pause_collection: { behavior: "bogus" as "void" } })
      .catch((e: unknown) => e);
    expect(bad).toMatchObject({ param: "pause_collection[behavior]" });
  });
});
