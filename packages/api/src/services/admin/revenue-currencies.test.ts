// Revenue per currency (issue #25): subscriptions bought in USD, EUR and GBP through the real subscribe
// flow against the Stripe emulator. MRR is reported per currency at each subscription's price in its own
// currency (Pro €95 and £85, not $99), never converted nor summed across currencies.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import type { Viewer } from "../../context.ts";
import { adminRouter } from "../../root.ts";
import { testPorts } from "../../testing.ts";
import { createCallerFactory } from "../../trpc.ts";
import { syncCatalogToStripe } from "../catalog/catalog-admin.ts";
import { subscribe } from "../subscriptions/subscriptions.ts";

const { db } = await testDatabase();
const now = new Date();
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock: fixedClock(now) });
await syncCatalogToStripe(ports);
const plans = Object.fromEntries((await db.subscriptionPlan.findMany()).map((p) => [p.name, p.id]));
const adminUser = await db.user.create({
  data: { email: "finance@currencies.test", name: "Finance", role: "admin" },
});
const admin: Viewer = {
  userId: adminUser.id,
  email: adminUser.email,
  name: "Finance",
  role: "admin",
  accountId: null,
};

async function customer(name: string, plan: string, currency: "usd" | "eur" | "gbp") {
  const account = await db.account.create({ data: { name } });
  const email = `${name.toLowerCase().replace(/\W+/g, ".")}@currencies.test`;
  await db.user.create({
    data: { email, name, memberships: { create: { accountId: account.id, role: "owner" } } },
  });
  const ref = { accountId: account.id, email, name };
  await subscribe(ports, ref, { packageId: plans[plan], paymentMethodId: "pm_card_visa", currency });
  return ref;
}

await customer("Dollar Pro", "Pro", "usd");
await customer("Euro Pro", "Pro", "eur");
await customer("Euro Enterprise", "Enterprise", "eur");
await customer("Pound Pro", "Pro", "gbp");
await customer("Pound Starter", "Starter", "gbp");

const caller = createCallerFactory(adminRouter)({ ...ports, viewer: admin, requestId: "test" });

describe("revenue per currency", () => {
  it("MRR per currency at each subscription's price in its currency, never summed across currencies", async () => {
    const overview = await caller.revenue.overview();
    // Largest first, each in its own minor units: $99; €95 + €289; £85 + £25.
    expect(overview.totals).toEqual([
      { currency: "eur", mrrCents: 38_400, arrCents: 460_800, subscribers: 2 },
      { currency: "gbp", mrrCents: 11_000, arrCents: 132_000, subscribers: 2 },
      { currency: "usd", mrrCents: 9_900, arrCents: 118_800, subscribers: 1 },
    ]);
    expect(overview.subscribers).toBe(5);
    expect(overview.packages.map((p) => [p.name, p.subscribers, p.mrr])).toEqual([
      ["Starter", 1, [{ amount: 2_500, currency: "gbp" }]],
      [
        "Pro",
        3,
        [
          { amount: 9_500, currency: "eur" },
          { amount: 8_500, currency: "gbp" },
          { amount: 9_900, currency: "usd" },
        ],
      ],
      ["Enterprise", 1, [{ amount: 28_900, currency: "eur" }]],
    ]);
    // This month's new MRR, per currency too.
    const month = overview.months.at(-1);
    expect(month?.newCount).toBe(5);
    expect(month?.mrr.map((m) => [m.currency, m.newCents])).toEqual([
      ["eur", 38_400],
      ["gbp", 11_000],
      ["usd", 9_900],
    ]);
  });

  it("an admin's customer list shows each subscriber's MRR in its currency", async () => {
    const list = await caller.customers.list({ page: 1, pageSize: 50 });
    const mrr = Object.fromEntries(list.items.map((c) => [c.name, c.mrr]));
    expect(mrr).toMatchObject({
      "Dollar Pro": { amount: 9_900, currency: "usd" },
      "Euro Pro": { amount: 9_500, currency: "eur" },
      "Euro Enterprise": { amount: 28_900, currency: "eur" },
      "Pound Pro": { amount: 8_500, currency: "gbp" },
      "Pound Starter": { amount: 2_500, currency: "gbp" },
    });
  });

  it("a subscription whose Stripe price Minutely never recorded counts its package's price in its own currency", async () => {
    const account = await db.account.create({ data: { name: "Unrecorded Euro" } });
    await db.subscription.create({
      data: {
        accountId: account.id,
        stripeSubscriptionId: "sub_unrecorded_euro",
        planId: plans.Pro ?? "",
        stripePriceId: "price_never_recorded",
        currency: "eur",
        status: "active",
        currentPeriodStart: new Date(now.getTime() - 86_400_000),
        currentPeriodEnd: new Date(now.getTime() + 29 * 86_400_000),
      },
    });
    const list = await caller.customers.list({ page: 1, pageSize: 50 });
    // Pro's EUR price (€95), not its own $99 in euros.
    expect(list.items.find((c) => c.name === "Unrecorded Euro")?.mrr).toEqual({
      amount: 9_500,
      currency: "eur",
    });
  });
});
