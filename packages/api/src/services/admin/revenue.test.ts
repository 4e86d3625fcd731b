// Revenue from Minutely's own records, on a data set made through the real subscription flows against the
// Stripe emulator: a Starter customer upgrades to Pro, an Enterprise customer's scheduled downgrade to Pro
// takes effect at renewal, a Pro customer cancels and churns. Stripe's webhooks are delivered through the
// real receiving code (signed), so plan changes come from the webhook log as in production.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import type { Viewer } from "../../context.ts";
import { adminRouter } from "../../root.ts";
import { testPorts } from "../../testing.ts";
import { createCallerFactory } from "../../trpc.ts";
import { adjustAccount } from "../billing/adjustments.ts";
import { syncCatalogToStripe } from "../catalog/catalog-admin.ts";
import { receiveStripeWebhook } from "../subscriptions/stripe-webhooks.ts";
import { cancel, downgrade, previewUpgrade, subscribe, upgrade } from "../subscriptions/subscriptions.ts";
import { advanceBillingClock } from "./billing-clock.ts";

const { db } = await testDatabase();
const now = new Date();
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock: fixedClock(now) });
await syncCatalogToStripe(ports);
const plans = Object.fromEntries((await db.subscriptionPlan.findMany()).map((p) => [p.name, p.id]));
const adminUser = await db.user.create({
  data: { email: "finance@minutely.test", name: "Finance", role: "admin" },
});
const admin: Viewer = {
  userId: adminUser.id,
  email: adminUser.email,
  name: "Finance",
  role: "admin",
  accountId: null,
};

async function customer(name: string, plan: string) {
  const account = await db.account.create({ data: { name } });
  const email = `${name.toLowerCase().replace(/\W+/g, ".")}@revenue.test`;
  await db.user.create({
    data: { email, name, memberships: { create: { accountId: account.id, role: "owner" } } },
  });
  const ref = { accountId: account.id, email, name };
  await subscribe(ports, ref, { packageId: plans[plan], paymentMethodId: "pm_card_visa" });
  return ref;
}

async function periodEndOf(accountId: string) {
  return (await db.subscription.findFirstOrThrow({ where: { accountId } })).currentPeriodEnd;
}

const upgrader = await customer("Upgrader", "Starter");
const preview = await previewUpgrade(ports, upgrader.accountId, plans.Pro ?? "");
await upgrade(ports, upgrader, { packageId: plans.Pro, prorationDate: preview.prorationDate });

const downgrader = await customer("Downgrader", "Enterprise");
await downgrade(ports, downgrader, { packageId: plans.Pro });
const downgradeAt = new Date((await periodEndOf(downgrader.accountId)).getTime() + 3_600_000);
await advanceBillingClock(ports, admin, { accountId: downgrader.accountId, to: downgradeAt });

const churner = await customer("Churner", "Pro");
await cancel(ports, churner);
const churnAt = new Date((await periodEndOf(churner.accountId)).getTime() + 3_600_000);
await advanceBillingClock(ports, admin, { accountId: churner.accountId, to: churnAt });

// Stripe's webhooks for these subscriptions, delivered (signed) to the real receiving code.
const subscriptionIds = new Set((await db.subscription.findMany()).map((s) => s.stripeSubscriptionId));
const secret = "whsec_revenue_test";
let delivered = 0;
for await (const event of ports.stripe.events.list({ limit: 100, type: "customer.subscription.*" })) {
  const object = event.data.object as { id?: string };
  if (!object.id || !subscriptionIds.has(object.id)) continue;
  const payload = JSON.stringify(event);
  const signature = ports.stripe.webhooks.generateTestHeaderString({ payload, secret });
  await receiveStripeWebhook(ports, { rawBody: Buffer.from(payload), signature, secret });
  delivered += 1;
}

// Reported a few months on, so the churn at the end of the (test-clock) period falls inside the window.
const later = createCallerFactory(adminRouter)({
  ...ports,
  clock: fixedClock(new Date(now.getTime() + 90 * 86_400_000)),
  viewer: admin,
  requestId: "test",
});

describe("admin.revenue.overview", () => {
  it("recorded the subscriptions' webhooks", () => {
    expect(delivered).toBeGreaterThanOrEqual(6);
  });

  it("MRR is the monthly price of the subscriptions that grant access; ARR is twelve times it", async () => {
    const overview = await later.revenue.overview();
    expect(
      (await db.subscription.findMany({ include: { account: true } }))
        .map((s) => [s.account.name, s.status])
        .sort(),
    ).toEqual([
      ["Churner", "canceled"],
      ["Downgrader", "active"],
      ["Upgrader", "active"],
    ]);
    expect(overview.totals).toEqual([
      { currency: "usd", mrrCents: 19_800, arrCents: 237_600, subscribers: 2 },
    ]);
    expect(overview.subscribers).toBe(2);
    expect(overview.packages.map((p) => [p.name, p.subscribers, p.mrr])).toEqual([
      ["Starter", 0, []],
      ["Pro", 2, [{ amount: 19_800, currency: "usd" }]],
      ["Enterprise", 0, []],
    ]);
  });

  it("counts new, upgraded, downgraded and churned subscriptions with their exact MRR movements", async () => {
    const { months } = await later.revenue.overview({ months: 6 });
    expect(months).toHaveLength(6);
    const sum = (pick: (m: (typeof months)[number]) => number) => months.reduce((t, m) => t + pick(m), 0);
    const usd = (m: (typeof months)[number]) => m.mrr.find((x) => x.currency === "usd");
    expect({
      new: sum((m) => m.newCount),
      upgrades: sum((m) => m.upgradeCount),
      downgrades: sum((m) => m.downgradeCount),
      churned: sum((m) => m.churnCount),
    }).toEqual({ new: 3, upgrades: 1, downgrades: 1, churned: 1 });
    expect({
      // Starter $29 + Enterprise $299 (the prices they started on) + Pro $99.
      newCents: sum((m) => usd(m)?.newCents ?? 0),
      expansionCents: sum((m) => usd(m)?.expansionCents ?? 0),
      contractionCents: sum((m) => usd(m)?.contractionCents ?? 0),
      churnCents: sum((m) => usd(m)?.churnCents ?? 0),
      netCents: sum((m) => usd(m)?.netCents ?? 0),
    }).toEqual({
      newCents: 2_900 + 29_900 + 9_900,
      expansionCents: 9_900 - 2_900,
      contractionCents: 29_900 - 9_900,
      churnCents: 9_900,
      // Every subscription started inside the window, so the movements add up to today's MRR.
      netCents: 19_800,
    });
    const ended = await db.subscription.findFirstOrThrow({ where: { status: "canceled" } });
    const churnMonth = months.find((m) => m.churnCount === 1);
    expect(churnMonth?.start.getUTCMonth()).toBe(ended.endedAt?.getUTCMonth());
  });

  it("reads only the months asked for, oldest first, in whole UTC months", async () => {
    const { months } = await later.revenue.overview({ months: 3 });
    expect(months.map((m) => m.start.getUTCDate())).toEqual([1, 1, 1]);
    expect(months[2]?.month).toBe(
      `${new Date(now.getTime() + 90 * 86_400_000).getUTCFullYear()}-${String(new Date(now.getTime() + 90 * 86_400_000).getUTCMonth() + 1).padStart(2, "0")}`,
    );
    await expect(later.revenue.overview({ months: 25 })).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });

  it("counts refunds and credits as money given back in their month, leaving MRR as it is", async () => {
    const before = await later.revenue.overview({ months: 6 });
    const invoice = await db.billingHistory.findFirstOrThrow({
      where: { accountId: upgrader.accountId, billingReason: "subscription_create" },
    });
    const refund = { kind: "refund" as const, invoiceId: invoice.id, amountCents: 1_000, reason: "Outage" };
    await adjustAccount(ports, admin, upgrader.accountId, refund, "revenue-refund-1");
    const note = {
      kind: "credit_note" as const,
      invoiceId: invoice.id,
      amountCents: 500,
      reason: "Goodwill",
    };
    await adjustAccount(ports, admin, upgrader.accountId, note, "revenue-credit-1");
    const after = await later.revenue.overview({ months: 6 });
    const given = after.months.flatMap((m) => m.givenBack);
    expect(given).toEqual([
      { currency: "usd", refundedCents: 1_000, creditedCents: 500, refundedTaxCents: 0, creditedTaxCents: 0 },
    ]);
    const month = after.months.find((m) => m.givenBack.length > 0);
    expect(month?.month).toBe(now.toISOString().slice(0, 7));
    expect(after.totals).toEqual(before.totals);
    expect(after.months.map((m) => m.mrr)).toEqual(before.months.map((m) => m.mrr));
  });

  it("counts a plan change of more than 2^31 minor units (a price times a quantity) instead of failing the page", async () => {
    const sub = await db.subscription.findFirstOrThrow({ where: { accountId: upgrader.accountId } });
    const item = (unitAmount: string, quantity: number | string) => ({
      items: {
        data: [
          { price: { id: `price_big_${unitAmount}`, unit_amount: unitAmount, currency: "usd" }, quantity },
        ],
      },
    });
    // Stripe's amounts in the payload as written (JSON numbers: 12 digits, and a quantity of 3 million).
    const payload = (from: number, to: number, quantity: number | string) => ({
      id: `evt_big_${from}_${to}`,
      type: "customer.subscription.updated",
      data: {
        object: { id: sub.stripeSubscriptionId, ...item(String(to), quantity) },
        previous_attributes: item(String(from), quantity),
      },
    });
    const at = new Date(now.getTime() + 1_000);
    const before = await later.revenue.overview({ months: 6 });
    const expansionOf = (o: typeof before) =>
      o.months.flatMap((m) => m.mrr).reduce((t, m) => t + (m.currency === "usd" ? m.expansionCents : 0), 0);
    await db.stripeEvent.create({
      data: {
        id: "evt_big_1",
        type: "customer.subscription.updated",
        payload: JSON.parse(JSON.stringify(payload(1_000, 2_000, 3_000_000)).replace(/"(\d+)"/g, "$1")),
        stripeCreatedAt: at,
      },
    });
    // A quantity that is no whole number (never from Stripe) counts as one, it does not fail the page.
    await db.stripeEvent.create({
      data: {
        id: "evt_big_2",
        type: "customer.subscription.updated",
        payload: payload(500, 700, "2.5"),
        stripeCreatedAt: at,
      },
    });
    try {
      const after = await later.revenue.overview({ months: 6 });
      expect(expansionOf(after) - expansionOf(before)).toBe((2_000 - 1_000) * 3_000_000 + (700 - 500));
    } finally {
      await db.stripeEvent.deleteMany({ where: { id: { in: ["evt_big_1", "evt_big_2"] } } });
    }
  });
});
