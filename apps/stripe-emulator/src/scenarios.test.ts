/**
 * Billing scenarios written once against the official SDK. They run against the emulator always, and
 * against real Stripe test mode when STRIPE_SECRET_KEY=sk_test_... is set and STRIPE_API_BASE is not.
 */
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StripeEmulator } from "./server.ts";
import { startTestEmulator, waitForClockReady } from "./testing.ts";

const DAY = 86_400;

interface Target {
  stripe: Stripe;
  pollMs: number;
}

function defineScenarios(name: string, getTarget: () => Target, timeout: number): void {
  const stripe = () => getTarget().stripe;

  /** Fresh clock, customer with a default card, and two monthly prices: basic $10 and pro $30. */
  async function setup(card = "pm_card_visa") {
    const s = stripe();
    const start = Math.floor(Date.UTC(2030, 0, 15, 12) / 1000);
    const clock = await s.testHelpers.testClocks.create({ frozen_time: start, name: `minutely ${name}` });
    const customer = await s.customers.create({
      email: "scenario@minutely.test",
      test_clock: clock.id,
      payment_method: card,
      invoice_settings: { default_payment_method: card },
    });
    const product = await s.products.create({ name: "Minutely scenario plan" });
    const basic = await s.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount: 1000,
      recurring: { interval: "month" },
    });
    const pro = await s.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount: 3000,
      recurring: { interval: "month" },
    });
    return { clock, customer, product, basic, pro };
  }

  async function advance(clockId: string, to: number) {
    await stripe().testHelpers.testClocks.advance(clockId, { frozen_time: to });
    return waitForClockReady(stripe(), clockId, getTarget().pollMs);
  }

  async function cleanup(clockId: string) {
    await stripe()
      .testHelpers.testClocks.del(clockId)
      .catch(() => undefined);
  }

  it("creates an active subscription with a paid first invoice", { timeout }, async () => {
    const { clock, customer, basic } = await setup();
    try {
      const sub = await stripe().subscriptions.create({
        customer: customer.id,
        items: [{ price: basic.id }],
        expand: ["latest_invoice"],
      });
      expect(sub.status).toBe("active");
      const invoice = sub.latest_invoice as Stripe.Invoice;
      expect(invoice.status).toBe("paid");
      expect(invoice.amount_paid).toBe(1000);
      expect(invoice.billing_reason).toBe("subscription_create");
      expect(invoice.parent?.subscription_details?.subscription).toBe(sub.id);
      const item = sub.items.data[0];
      expect(item?.current_period_start).toBe(clock.frozen_time);
      expect(item?.current_period_end).toBe(Math.floor(Date.UTC(2030, 1, 15, 12) / 1000));
    } finally {
      await cleanup(clock.id);
    }
  });

  it("upgrades with always_invoice for exactly the create_preview amount", { timeout }, async () => {
    const { clock, customer, basic, pro } = await setup();
    try {
      const sub = await stripe().subscriptions.create({
        customer: customer.id,
        items: [{ price: basic.id }],
      });
      const ready = await advance(clock.id, clock.frozen_time + 10 * DAY);
      const prorationDate = ready.frozen_time;
      const itemId = sub.items.data[0]?.id ?? "";
      const preview = await stripe().invoices.createPreview({
        customer: customer.id,
        subscription: sub.id,
        subscription_details: {
          items: [{ id: itemId, price: pro.id }],
          proration_date: prorationDate,
          proration_behavior: "always_invoice",
        },
      });
      expect(preview.total).toBeGreaterThan(0);
      const updated = await stripe().subscriptions.update(sub.id, {
        items: [{ id: itemId, price: pro.id }],
        proration_behavior: "always_invoice",
        proration_date: prorationDate,
        expand: ["latest_invoice"],
      });
      const invoice = updated.latest_invoice as Stripe.Invoice;
      expect(invoice.billing_reason).toBe("subscription_update");
      expect(invoice.total).toBe(preview.total);
      expect(invoice.amount_due).toBe(preview.amount_due);
      expect(invoice.status).toBe("paid");
      expect(updated.items.data[0]?.price.id).toBe(pro.id);
      // 21 of 31 days remain: credit -round(1000*21/31) = -677, charge round(3000*21/31) = 2032.
      expect(invoice.lines.data.map((l) => l.amount).sort((a, b) => a - b)).toEqual([-677, 2032]);
    } finally {
      await cleanup(clock.id);
    }
  });

  it("downgrades at period end through a subscription schedule", { timeout }, async () => {
    const { clock, customer, basic, pro } = await setup();
    try {
      const sub = await stripe().subscriptions.create({ customer: customer.id, items: [{ price: pro.id }] });
      const schedule = await stripe().subscriptionSchedules.create({ from_subscription: sub.id });
      const phase = schedule.phases[0];
      expect(phase).toBeDefined();
      const updated = await stripe().subscriptionSchedules.update(schedule.id, {
        end_behavior: "release",
        phases: [
          {
            items: [{ price: pro.id, quantity: 1 }],
            start_date: phase?.start_date,
            end_date: phase?.end_date,
          },
          { items: [{ price: basic.id, quantity: 1 }], duration: { interval: "month", interval_count: 1 } },
        ],
      });
      expect(updated.phases).toHaveLength(2);
      const stillPro = await stripe().subscriptions.retrieve(sub.id);
      expect(stillPro.items.data[0]?.price.id).toBe(pro.id);
      expect(stillPro.schedule).toBe(schedule.id);

      await advance(clock.id, (phase?.end_date ?? 0) + 3600);
      const after = await stripe().subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
      expect(after.status).toBe("active");
      expect(after.items.data[0]?.price.id).toBe(basic.id);
      const renewal = after.latest_invoice as Stripe.Invoice;
      expect(renewal.billing_reason).toBe("subscription_cycle");
      expect(renewal.total).toBe(1000);

      const secondEnd = (await stripe().subscriptionSchedules.retrieve(schedule.id)).phases[1]?.end_date ?? 0;
      await advance(clock.id, secondEnd + 3600);
      const released = await stripe().subscriptionSchedules.retrieve(schedule.id);
      expect(released.status).toBe("released");
      expect(released.released_subscription).toBe(sub.id);
      expect((await stripe().subscriptions.retrieve(sub.id)).schedule).toBeNull();
    } finally {
      await cleanup(clock.id);
    }
  });

  it("cancels at period end, can undo, and ends the subscription when the period is over", {
    timeout,
  }, async () => {
    const { clock, customer, basic } = await setup();
    try {
      const sub = await stripe().subscriptions.create({
        customer: customer.id,
        items: [{ price: basic.id }],
      });
      const periodEnd = sub.items.data[0]?.current_period_end ?? 0;
      const canceling = await stripe().subscriptions.update(sub.id, { cancel_at_period_end: true });
      expect(canceling.cancel_at_period_end).toBe(true);
      expect(canceling.cancel_at).toBe(periodEnd);
      const undone = await stripe().subscriptions.update(sub.id, { cancel_at_period_end: false });
      expect(undone.cancel_at_period_end).toBe(false);
      expect(undone.cancel_at).toBeNull();
      expect(undone.status).toBe("active");

      await stripe().subscriptions.update(sub.id, { cancel_at_period_end: true });
      await advance(clock.id, periodEnd + 3600);
      const ended = await stripe().subscriptions.retrieve(sub.id);
      expect(ended.status).toBe("canceled");
      expect(ended.ended_at).toBe(periodEnd);
      const invoices = await stripe().invoices.list({ subscription: sub.id });
      expect(invoices.data.filter((i) => i.billing_reason === "subscription_cycle")).toHaveLength(0);
      // Nothing was pending on it: no final invoice either.
      expect(invoices.data.filter((i) => i.billing_reason === "subscription_update")).toHaveLength(0);
    } finally {
      await cleanup(clock.id);
    }
  });

  it("collects the items still pending on a subscription canceled at the period's end on a final invoice", {
    timeout,
  }, async () => {
    const { clock, customer, basic } = await setup();
    try {
      const sub = await stripe().subscriptions.create({
        customer: customer.id,
        items: [{ price: basic.id }],
      });
      const periodEnd = sub.items.data[0]?.current_period_end ?? 0;
      await stripe().subscriptions.update(sub.id, { cancel_at_period_end: true });
      const item = await stripe().invoiceItems.create({
        customer: customer.id,
        subscription: sub.id,
        amount: 360,
        currency: "usd",
        description: "Overage: 120 call minutes",
      });
      await advance(clock.id, periodEnd + 3600);
      expect((await stripe().subscriptions.retrieve(sub.id)).status).toBe("canceled");
      const invoices = await stripe().invoices.list({ subscription: sub.id });
      const final = invoices.data.filter((i) => i.billing_reason === "subscription_update");
      expect(final).toHaveLength(1);
      expect(final[0]).toMatchObject({ status: "paid", amount_paid: 360, total: 360 });
      expect((await stripe().invoiceItems.retrieve(item.id)).invoice).toBe(final[0]?.id);
      expect((await stripe().invoiceItems.list({ customer: customer.id, pending: true })).data).toEqual([]);
    } finally {
      await cleanup(clock.id);
    }
  });

  it("turns the subscription past_due when the renewal charge fails", { timeout }, async () => {
    const { clock, customer, basic } = await setup();
    try {
      const sub = await stripe().subscriptions.create({
        customer: customer.id,
        items: [{ price: basic.id }],
      });
      expect(sub.status).toBe("active");
      const failing = await stripe().paymentMethods.attach("pm_card_chargeCustomerFail", {
        customer: customer.id,
      });
      await stripe().customers.update(customer.id, {
        invoice_settings: { default_payment_method: failing.id },
      });
      const periodEnd = sub.items.data[0]?.current_period_end ?? 0;
      await advance(clock.id, periodEnd + 2 * 3600);
      const after = await stripe().subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
      expect(after.status).toBe("past_due");
      const invoice = after.latest_invoice as Stripe.Invoice;
      expect(invoice.billing_reason).toBe("subscription_cycle");
      expect(invoice.status).toBe("open");
      expect(invoice.attempt_count).toBeGreaterThanOrEqual(1);
      expect(invoice.amount_remaining).toBe(1000);
    } finally {
      await cleanup(clock.id);
    }
  });

  it("rejects a declined card with error_if_incomplete and leaves no subscription", { timeout }, async () => {
    const { clock, customer, basic } = await setup("pm_card_chargeCustomerFail");
    try {
      const error = await stripe()
        .subscriptions.create({
          customer: customer.id,
          items: [{ price: basic.id }],
          payment_behavior: "error_if_incomplete",
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(Stripe.errors.StripeCardError);
      expect((error as Stripe.errors.StripeCardError).code).toBe("card_declined");
      expect((error as Stripe.errors.StripeCardError).statusCode).toBe(402);
      const subs = await stripe().subscriptions.list({ customer: customer.id, status: "all" });
      expect(subs.data).toHaveLength(0);

      const incomplete = await stripe().subscriptions.create({
        customer: customer.id,
        items: [{ price: basic.id }],
        expand: ["latest_invoice"],
      });
      expect(incomplete.status).toBe("incomplete");
      expect((incomplete.latest_invoice as Stripe.Invoice).status).toBe("open");
    } finally {
      await cleanup(clock.id);
    }
  });
}

describe("billing scenarios — Stripe emulator", () => {
  let emulator: StripeEmulator;
  let target: Target;
  beforeAll(async () => {
    const started = await startTestEmulator();
    emulator = started.emulator;
    target = { stripe: started.stripe, pollMs: 0 };
  });
  afterAll(async () => {
    await emulator.close();
  });
  defineScenarios("emulator", () => target, 10_000);
});

const realKey = process.env.STRIPE_SECRET_KEY ?? "";
const runReal = realKey.startsWith("sk_test_") && !process.env.STRIPE_API_BASE;
const skipReason = runReal
  ? ""
  : " (skipped: set STRIPE_SECRET_KEY=sk_test_... and leave STRIPE_API_BASE unset to run against real Stripe test mode)";
if (!runReal) {
  console.info(`[stripe-emulator] real Stripe scenarios${skipReason}`);
}

describe.skipIf(!runReal)(`billing scenarios — real Stripe test mode${skipReason}`, () => {
  let target: Target | undefined;
  beforeAll(() => {
    target = { stripe: new Stripe(realKey, { maxNetworkRetries: 2 }), pollMs: 2000 };
  });
  defineScenarios(
    "stripe",
    () => {
      if (!target) throw new Error("real Stripe target not initialised");
      return target;
    },
    240_000,
  );
});
