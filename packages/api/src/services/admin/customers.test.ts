// The admin's customer list and detail on real PostgreSQL: search (name, email, Stripe ids; wildcards
// taken literally), status filters, server-side pages, usage share and MRR contribution.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";
import type { Viewer } from "../../context.ts";
import { adminRouter } from "../../root.ts";
import { testPorts } from "../../testing.ts";
import { createCallerFactory } from "../../trpc.ts";

const { db } = await testDatabase();
const clock = fixedClock(new Date("2026-11-20T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
const starter = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Starter" } });

const adminUser = await db.user.create({ data: { email: "ops@minutely.test", name: "Ops", role: "admin" } });
const admin: Viewer = {
  userId: adminUser.id,
  email: adminUser.email,
  name: "Ops",
  role: "admin",
  accountId: null,
};
const caller = createCallerFactory(adminRouter)({ ...ports, viewer: admin, requestId: "test" });

const PERIOD_START = new Date("2026-11-05T00:00:00Z");
const PERIOD_END = new Date("2026-12-05T00:00:00Z");

let n = 0;
async function customer(
  name: string,
  email: string,
  subscription?: {
    plan: typeof pro;
    status: "active" | "past_due" | "canceled" | "unpaid";
    minutes?: number;
  },
) {
  n += 1;
  const account = await db.account.create({
    data: {
      name,
      stripeCustomerId: `cus_list_${n}`,
      createdAt: new Date(Date.UTC(2026, 0, 1) + n * 3_600_000),
    },
  });
  await db.user.create({
    data: { email, name, memberships: { create: { accountId: account.id, role: "owner" } } },
  });
  if (subscription) {
    await db.subscription.create({
      data: {
        accountId: account.id,
        planId: subscription.plan.id,
        stripePriceId: `price_list_${subscription.plan.name}`,
        stripeSubscriptionId: `sub_list_${n}`,
        status: subscription.status,
        currentPeriodStart: PERIOD_START,
        currentPeriodEnd: PERIOD_END,
      },
    });
    if (subscription.minutes !== undefined) {
      await db.usagePeriodRollup.create({
        data: {
          accountId: account.id,
          periodStart: PERIOD_START,
          periodEnd: PERIOD_END,
          minutes: subscription.minutes,
          calls: 10,
        },
      });
    }
  }
  return account.id;
}

// Pro subscribers pay an older price of $89.00 (immutable Stripe prices): MRR counts what they pay.
await db.planPrice.create({
  data: {
    planId: pro.id,
    stripePriceId: "price_list_Pro",
    amountCents: 8900,
    currency: "usd",
    current: false,
  },
});
const dental = await customer("Acme Dental", "owner@acme-dental.test", {
  plan: pro,
  status: "active",
  minutes: 2400,
});
const plumbing = await customer("Bright Plumbing", "ana@bright.test", {
  plan: starter,
  status: "past_due",
  minutes: 100,
});
const gone = await customer("Closed Clinic", "bob@closed.test", {
  plan: pro,
  status: "canceled",
  minutes: 5,
});
const fresh = await customer("Percent 100% Ltd", "carol@percent.test");
for (let i = 0; i < 30; i++) await customer(`Filler ${String(i).padStart(2, "0")}`, `filler${i}@fill.test`);

describe("admin.customers.list", () => {
  it("lists newest first with owner, package, status, usage share and MRR contribution", async () => {
    const page = await caller.customers.list({ search: "acme", pageSize: 10 });
    expect(page.total).toBe(1);
    expect(page.items).toEqual([
      {
        accountId: dental,
        name: "Acme Dental",
        createdAt: expect.any(Date),
        ownerEmail: "owner@acme-dental.test",
        deletedAt: null,
        status: "active",
        planName: "Pro",
        cancelAtPeriodEnd: false,
        pause: null,
        trial: null,
        usage: { minutesUsed: 2400, minutesLimit: 3000, percentage: 80 },
        mrr: { amount: 8900, currency: "usd" },
        spendCap: null,
      },
    ]);
  });

  it("finds accounts by a part of an owner's email, case-insensitively, and by Stripe ids", async () => {
    expect((await caller.customers.list({ search: "BRIGHT.TE" })).items.map((i) => i.accountId)).toEqual([
      plumbing,
    ]);
    expect((await caller.customers.list({ search: "cus_list_3" })).items.map((i) => i.accountId)).toEqual([
      gone,
    ]);
    expect((await caller.customers.list({ search: "sub_list_1" })).items.map((i) => i.accountId)).toEqual([
      dental,
    ]);
    expect((await caller.customers.list({ search: fresh })).items.map((i) => i.accountId)).toEqual([fresh]);
  });

  it("takes % and _ in a search literally", async () => {
    expect((await caller.customers.list({ search: "100%" })).items.map((i) => i.name)).toEqual([
      "Percent 100% Ltd",
    ]);
    expect((await caller.customers.list({ search: "%" })).items.map((i) => i.name)).toEqual([
      "Percent 100% Ltd",
    ]);
    expect((await caller.customers.list({ search: "filler_1" })).total).toBe(0);
  });

  it("filters by the status of the account's subscription", async () => {
    const names = async (status: "access" | "past_due" | "canceled" | "none" | "active") =>
      (await caller.customers.list({ status, pageSize: 100 })).items.map((i) => i.name).sort();
    expect(await names("access")).toEqual(["Acme Dental", "Bright Plumbing"]);
    expect(await names("active")).toEqual(["Acme Dental"]);
    expect(await names("past_due")).toEqual(["Bright Plumbing"]);
    expect(await names("canceled")).toEqual(["Closed Clinic"]);
    expect((await caller.customers.list({ status: "none", pageSize: 100 })).total).toBe(31);
  });

  it("counts MRR only while the subscription grants access; past_due still does", async () => {
    const all = await caller.customers.list({ pageSize: 100 });
    const byName = new Map(all.items.map((i) => [i.name, i]));
    expect(byName.get("Bright Plumbing")?.mrr).toEqual({ amount: 2900, currency: "usd" });
    expect(byName.get("Closed Clinic")?.mrr).toBeNull();
    expect(byName.get("Percent 100% Ltd")).toMatchObject({
      status: "none",
      planName: null,
      usage: null,
      mrr: null,
    });
  });

  it("pages on the server: every account once, newest first, at most the page size", async () => {
    const seen: string[] = [];
    for (let page = 1; page <= 4; page++) {
      const result = await caller.customers.list({ page, pageSize: 10 });
      expect(result.total).toBe(34);
      expect(result.items.length).toBe(page === 4 ? 4 : 10);
      seen.push(...result.items.map((i) => i.accountId));
    }
    expect(new Set(seen).size).toBe(34);
    expect(seen[0]).toBe((await db.account.findFirstOrThrow({ orderBy: { createdAt: "desc" } })).id);
    await expect(caller.customers.list({ pageSize: 101 })).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });
});

describe("admin.customers.get", () => {
  it("shows the subscription, usage by day, invoices, alerts, agents and Stripe ids", async () => {
    await db.billingHistory.create({
      data: {
        accountId: dental,
        stripeInvoiceId: "in_dental_1",
        number: "DENTAL-0001",
        status: "paid",
        billingReason: "subscription_create",
        currency: "usd",
        subtotalCents: 8900,
        totalCents: 8900,
        amountDueCents: 8900,
        amountPaidCents: 8900,
        hostedInvoiceUrl: "https://invoice.example/in_dental_1",
        issuedAt: PERIOD_START,
      },
    });
    await db.usageAlert.create({
      data: {
        accountId: dental,
        periodStart: PERIOD_START,
        thresholdPercent: 80,
        kind: "threshold",
        minutesUsed: 2400,
        minutesLimit: 3000,
        message: "Acme Dental used 80% of its minutes",
      },
    });
    await db.agent.create({ data: { accountId: dental, name: "Front desk" } });
    await db.usageDailyRollup.create({
      data: {
        accountId: dental,
        day: new Date("2026-11-10T00:00:00Z"),
        direction: "inbound",
        minutes: 42,
        calls: 3,
      },
    });

    const detail = await caller.customers.get({ accountId: dental });
    expect(detail.account).toMatchObject({ id: dental, name: "Acme Dental", stripeCustomerId: "cus_list_1" });
    expect(detail.team.members.map((m) => [m.email, m.role])).toEqual([["owner@acme-dental.test", "owner"]]);
    expect(detail.subscription).toMatchObject({
      status: "active",
      planName: "Pro",
      price: { amount: 8900, currency: "usd" },
      stripeSubscriptionId: "sub_list_1",
      currentPeriodEnd: PERIOD_END,
    });
    expect(detail.mrr).toEqual({ amount: 8900, currency: "usd" });
    expect(detail.usage).toMatchObject({ minutesUsed: 2400, minutesLimit: 3000, usagePercentage: 80 });
    expect(detail.daily).toHaveLength(30);
    expect(detail.daily.find((d) => d.day === "2026-11-10")).toMatchObject({
      minutes: 42,
      inboundMinutes: 42,
    });
    expect(detail.invoices).toEqual([
      expect.objectContaining({
        number: "DENTAL-0001",
        hostedInvoiceUrl: "https://invoice.example/in_dental_1",
      }),
    ]);
    expect(detail.alerts.map((a) => a.message)).toEqual(["Acme Dental used 80% of its minutes"]);
    expect(detail.agents.map((a) => a.name)).toEqual(["Front desk"]);
    // The emulator has no dashboard: the page shows plain ids.
    expect(detail.stripe).toEqual({
      dashboardUrl: null,
      customerId: "cus_list_1",
      subscriptionId: "sub_list_1",
      scheduleId: null,
      testClockId: null,
    });
  });

  it("links to Stripe's test dashboard when the objects live in Stripe", async () => {
    const live = createCallerFactory(adminRouter)({
      ...ports,
      settings: { ...ports.settings, stripeEmulator: false, useTestClocks: true },
      viewer: admin,
      requestId: "test",
    });
    expect((await live.customers.get({ accountId: dental })).stripe.dashboardUrl).toBe(
      "https://dashboard.stripe.com/test",
    );
  });

  it("answers NOT_FOUND for an unknown account and has no usage for one never subscribed", async () => {
    const error = await caller.customers
      .get({ accountId: "00000000-0000-4000-8000-000000000000" })
      .catch((e) => e);
    expect(error).toBeInstanceOf(TRPCError);
    expect(error.code).toBe("NOT_FOUND");
    const none = await caller.customers.get({ accountId: fresh });
    expect(none).toMatchObject({ subscription: null, usage: null, daily: [], mrr: null, invoices: [] });
  });
});

describe("the admin lists measure the account's current period, as its dashboard does (issue 19)", () => {
  async function lapsed(name: string, period: { start: Date; end: Date }, testClockTime: Date | null) {
    n += 1;
    const account = await db.account.create({ data: { name, stripeCustomerId: `cus_lapsed_${n}` } });
    await db.user.create({
      data: {
        email: `owner${n}@lapsed.test`,
        name,
        memberships: { create: { accountId: account.id, role: "owner" } },
      },
    });
    await db.subscription.create({
      data: {
        accountId: account.id,
        planId: pro.id,
        stripePriceId: "price_list_Pro",
        stripeSubscriptionId: `sub_lapsed_${n}`,
        status: "active",
        currentPeriodStart: period.start,
        currentPeriodEnd: period.end,
        testClockTime,
      },
    });
    return account.id;
  }
  async function rollup(accountId: string, start: string, end: string, minutes: number) {
    await db.usagePeriodRollup.create({
      data: { accountId, periodStart: new Date(start), periodEnd: new Date(end), minutes, calls: 1 },
    });
  }

  it("a renewal not synced yet: the period after Stripe's, not last period's minutes", async () => {
    // The clock (Nov 20) is past this subscription's period end (Nov 5): its renewal has not reached us.
    const id = await lapsed(
      "Lapsed Renewal",
      { start: new Date("2026-10-05T00:00:00Z"), end: new Date("2026-11-05T00:00:00Z") },
      null,
    );
    await rollup(id, "2026-10-05T00:00:00Z", "2026-11-05T00:00:00Z", 2900);
    await rollup(id, "2026-11-05T00:00:00Z", "2026-12-05T00:00:00Z", 300);
    const page = await caller.customers.list({ search: "Lapsed Renewal", pageSize: 10 });
    expect(page.items[0]?.usage).toEqual({ minutesUsed: 300, minutesLimit: 3000, percentage: 10 });
    const near = await caller.usage.nearLimit({ minPercent: 80, page: 1, pageSize: 100 });
    expect(near.items.map((i) => i.accountId)).not.toContain(id);
  });

  it("a test clock ahead of the wall clock: the period at the clock's time", async () => {
    const id = await lapsed(
      "Clocked Ahead",
      { start: new Date("2026-11-05T00:00:00Z"), end: new Date("2026-12-05T00:00:00Z") },
      new Date("2026-12-10T00:00:00Z"),
    );
    await rollup(id, "2026-11-05T00:00:00Z", "2026-12-05T00:00:00Z", 100);
    await rollup(id, "2026-12-05T00:00:00Z", "2027-01-05T00:00:00Z", 2850);
    const page = await caller.customers.list({ search: "Clocked Ahead", pageSize: 10 });
    expect(page.items[0]?.usage).toEqual({ minutesUsed: 2850, minutesLimit: 3000, percentage: 95 });
    const near = await caller.usage.nearLimit({ minPercent: 80, page: 1, pageSize: 100 });
    expect(near.items.find((i) => i.accountId === id)).toMatchObject({
      minutesUsed: 2850,
      periodStart: new Date("2026-12-05T00:00:00Z"),
      periodEnd: new Date("2027-01-05T00:00:00Z"),
    });
  });
});

describe("overage budgets in the admin lists", () => {
  it("shows each overage budget, marks the accounts that reached theirs as capped and filters by it", async () => {
    const capped = await customer("Capped Calls", "capped@cap.test", {
      plan: pro,
      status: "active",
      minutes: 3100,
    });
    const roomy = await customer("Roomy Calls", "roomy@cap.test", {
      plan: pro,
      status: "active",
      minutes: 3100,
    });
    // $3.00 at $0.03 pays for 100 minutes: 3,100 reaches it; $50.00 does not.
    await db.account.update({
      where: { id: capped },
      data: { overageCapCents: 300, overageCapCurrency: "usd" },
    });
    await db.account.update({
      where: { id: roomy },
      data: { overageCapCents: 5000, overageCapCurrency: "usd" },
    });
    const set = await caller.customers.list({ spendCap: "set", pageSize: 100 });
    expect(set.items.map((c) => [c.name, c.spendCap])).toEqual([
      ["Roomy Calls", { amountCents: 5000, currency: "usd", reached: false }],
      ["Capped Calls", { amountCents: 300, currency: "usd", reached: true }],
    ]);
    const reached = await caller.customers.list({ spendCap: "reached", pageSize: 100 });
    expect(reached.items.map((c) => c.name)).toEqual(["Capped Calls"]);
    expect(reached.total).toBe(1);
    const detail = await caller.customers.get({ accountId: capped });
    expect(detail.spendCap).toEqual({
      cap: { amountCents: 300, currency: "usd" },
      status: { cap: { amountCents: 300, currency: "usd" }, spentCents: 300, percentage: 100, reached: true },
    });
    await db.account.updateMany({
      where: { id: { in: [capped, roomy] } },
      data: { overageCapCents: null, overageCapCurrency: null },
    });
  });
});

describe("MRR contribution with a coupon", () => {
  it("is the price after a recurring discount in the list and on the customer's page, as the revenue page counts it", async () => {
    const accountId = await customer("Discounted Dentists", "owner@discounted.test", {
      plan: pro,
      status: "active",
    });
    const coupon = await db.coupon.create({
      data: { name: "25% forever", percentOff: 25, duration: "forever" },
    });
    await db.subscription.updateMany({ where: { accountId }, data: { couponId: coupon.id } });
    // $89.00 less 25% (22.25) = $66.75.
    const listed = (await caller.customers.list({ search: "owner@discounted.test" })).items[0];
    expect(listed?.mrr).toEqual({ amount: 6675, currency: "usd" });
    expect((await caller.customers.get({ accountId })).mrr).toEqual({ amount: 6675, currency: "usd" });

    // A repeating discount that has ended no longer lowers it; a `once` coupon never did.
    await db.coupon.update({
      where: { id: coupon.id },
      data: { duration: "repeating", durationInMonths: 3 },
    });
    await db.subscription.updateMany({
      where: { accountId },
      data: { discountEndsAt: new Date(clock.now().getTime() - 1000) },
    });
    expect((await caller.customers.get({ accountId })).mrr).toEqual({ amount: 8900, currency: "usd" });
    const once = await db.coupon.create({
      data: { name: "$10 once", amountOffCents: 1000, currency: "usd", duration: "once" },
    });
    await db.subscription.updateMany({
      where: { accountId },
      data: { couponId: once.id, discountEndsAt: null },
    });
    expect((await caller.customers.list({ search: "owner@discounted.test" })).items[0]?.mrr).toEqual({
      amount: 8900,
      currency: "usd",
    });
  });
});
