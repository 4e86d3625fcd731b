// The billing clock against the Stripe emulator: advancing a subscribed account's test clock renews it
// (a new paid invoice, the next period), a declining card makes the next renewal fail (past_due), a
// working card recovers it; every action is audit-logged, and nothing works without the emulator.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import type { Viewer } from "../../context.ts";
import { adminRouter } from "../../root.ts";
import { testPorts } from "../../testing.ts";
import { createCallerFactory } from "../../trpc.ts";
import { syncCatalogToStripe } from "../catalog/catalog-admin.ts";
import { previewUpgrade, subscribe, upgrade } from "../subscriptions/subscriptions.ts";

const { db } = await testDatabase();
const ports = testPorts(db, {
  stripeApiBase: stripeEmulatorUrl(),
  clock: fixedClock(new Date("2026-11-27T12:00:00Z")),
});
await syncCatalogToStripe(ports);
const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
const adminUser = await db.user.create({
  data: { email: "clock@minutely.test", name: "Clock", role: "admin" },
});
const admin: Viewer = {
  userId: adminUser.id,
  email: adminUser.email,
  name: "Clock",
  role: "admin",
  accountId: null,
};
const caller = createCallerFactory(adminRouter)({ ...ports, viewer: admin, requestId: "test" });

const account = await db.account.create({ data: { name: "Timely Vets" } });
await db.user.create({
  data: {
    email: "owner@timely.test",
    name: "Owner",
    memberships: { create: { accountId: account.id, role: "owner" } },
  },
});
await subscribe(
  ports,
  { accountId: account.id, email: "owner@timely.test", name: "Owner" },
  { packageId: pro.id, paymentMethodId: "pm_card_visa" },
);
const unclocked = await db.account.create({ data: { name: "No Clock Inc" } });
await db.subscription.create({
  data: {
    accountId: unclocked.id,
    planId: pro.id,
    stripePriceId: pro.stripePriceId ?? "",
    stripeSubscriptionId: "sub_without_clock",
    status: "active",
    currentPeriodStart: new Date("2026-11-01T00:00:00Z"),
    currentPeriodEnd: new Date("2026-12-01T00:00:00Z"),
  },
});

const HOUR = 3_600_000;

describe("admin.billingClock", () => {
  it("is only available with the Stripe emulator", async () => {
    const real = createCallerFactory(adminRouter)({
      ...ports,
      settings: { ...ports.settings, stripeEmulator: false },
      viewer: admin,
      requestId: "test",
    });
    const codes = await Promise.all([
      real.billingClock.accounts().catch((e) => e.code),
      real.billingClock.get({ accountId: account.id }).catch((e) => e.code),
      real.billingClock.advance({ accountId: account.id, to: new Date("2027-01-01") }).catch((e) => e.code),
      real.billingClock.setCard({ accountId: account.id, card: "failing" }).catch((e) => e.code),
    ]);
    expect(codes).toEqual(Array(4).fill("PRECONDITION_FAILED"));
  });

  it("lists and finds the accounts on a test clock", async () => {
    expect((await caller.billingClock.accounts()).map((a) => a.name)).toEqual(["Timely Vets"]);
    expect((await caller.billingClock.accounts({ search: "TIMELY.TEST" })).map((a) => a.accountId)).toEqual([
      account.id,
    ]);
    expect(await caller.billingClock.accounts({ search: "No Clock" })).toEqual([]);
  });

  it("shows the clock's time, the subscription and its first invoice", async () => {
    const state = await caller.billingClock.get({ accountId: account.id });
    expect(state.clock).toMatchObject({ frozenTime: new Date("2026-11-27T12:00:00Z"), status: "ready" });
    expect(state.subscription).toMatchObject({ status: "active", planName: "Pro" });
    expect(state.invoices.map((i) => [i.billingReason, i.status])).toEqual([["subscription_create", "paid"]]);
  });

  it("refuses to go back in time, to jump too far, or to move an account without a clock", async () => {
    const backwards = await caller.billingClock
      .advance({ accountId: account.id, to: new Date("2026-11-27T11:00:00Z") })
      .catch((e) => e);
    expect(backwards.code).toBe("BAD_REQUEST");
    expect(backwards.cause).toMatchObject({
      field: "to",
      message: "Choose a moment after the clock's current time.",
    });
    const far = await caller.billingClock
      .advance({ accountId: account.id, to: new Date("2027-03-01") })
      .catch((e) => e);
    expect(far.code).toBe("BAD_REQUEST");
    // Stripe advances a clock at most two billing periods at once: 2026-11-27 12:00 + 2 months is
    // 2027-01-27 12:00 (61 days), so 61.5 days is refused here, naming the field, not by Stripe.
    const pastTwoMonths = await caller.billingClock
      .advance({ accountId: account.id, to: new Date("2027-01-28T00:00:00Z") })
      .catch((e) => e);
    expect(pastTwoMonths.code).toBe("BAD_REQUEST");
    expect(pastTwoMonths.cause).toMatchObject({ field: "to", message: expect.stringContaining("59 days") });
    const none = await caller.billingClock
      .advance({ accountId: unclocked.id, to: new Date("2027-01-01") })
      .catch((e) => e);
    expect(none.code).toBe("PRECONDITION_FAILED");
    expect((await caller.billingClock.get({ accountId: account.id })).invoices).toHaveLength(1);
  });

  it("advancing past the period end renews the subscription: a new paid invoice, the next period", async () => {
    const before = await caller.billingClock.get({ accountId: account.id });
    const periodEnd = before.subscription?.currentPeriodEnd ?? new Date(0);
    const after = await caller.billingClock.advance({
      accountId: account.id,
      to: new Date(periodEnd.getTime() + HOUR),
    });
    expect(after.clock?.frozenTime).toEqual(new Date(periodEnd.getTime() + HOUR));
    expect(after.subscription).toMatchObject({ status: "active", currentPeriodStart: periodEnd });
    expect(after.invoices.map((i) => [i.billingReason, i.status, i.total.amount])).toEqual([
      ["subscription_cycle", "paid", 9900],
      ["subscription_create", "paid", 9900],
    ]);
    const [entry] = (await caller.audit.list({ entityType: "account", entityId: account.id })).items;
    expect(entry).toMatchObject({
      action: "billing_clock.advance",
      actorEmail: "clock@minutely.test",
      before: { invoices: 1, frozenTime: "2026-11-27T12:00:00.000Z" },
      after: { invoices: 2, status: "active" },
    });
  });

  it("a declining card makes the next renewal fail (past_due); a working card pays it again", async () => {
    await caller.billingClock.setCard({ accountId: account.id, card: "failing" });
    const state = await caller.billingClock.get({ accountId: account.id });
    const periodEnd = state.subscription?.currentPeriodEnd ?? new Date(0);
    const failed = await caller.billingClock.advance({
      accountId: account.id,
      to: new Date(periodEnd.getTime() + HOUR),
    });
    expect(failed.subscription?.status).toBe("past_due");
    expect(failed.invoices[0]).toMatchObject({
      billingReason: "subscription_cycle",
      status: "open",
      amountDueCents: 9900,
    });

    const recovered = await caller.billingClock.setCard({ accountId: account.id, card: "working" });
    expect(recovered.declined).toBeNull();
    expect(recovered.subscription?.status).toBe("active");
    expect(recovered.invoices[0]).toMatchObject({ billingReason: "subscription_cycle", status: "paid" });
    // (The test's clock stands still, so the entries share one timestamp: compare them as a set.)
    const actions = (await caller.audit.list({ entityId: account.id })).items.map((e) => e.action).sort();
    expect(actions).toEqual([
      "billing_clock.advance",
      "billing_clock.advance",
      "billing_clock.card",
      "billing_clock.card",
    ]);
  });

  it("after renewals on the clock, an upgrade is previewed and charged at the clock's time, not the wall clock's", async () => {
    const state = await caller.billingClock.get({ accountId: account.id });
    const frozen = state.clock?.frozenTime ?? new Date(0);
    // The clock is now more than a month ahead of Minutely's own clock (still 2026-11-27): a proration date
    // taken from Minutely's clock would be outside the period, which Stripe refuses.
    expect(frozen.getTime()).toBeGreaterThan(ports.clock.now().getTime() + 28 * 24 * HOUR);
    const enterprise = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Enterprise" } });
    const preview = await previewUpgrade(ports, account.id, enterprise.id);
    expect(preview.prorationDate).toEqual(frozen);
    expect(preview.totalDueNowCents).toBeGreaterThan(0);
    const after = await upgrade(
      ports,
      { accountId: account.id, email: "owner@timely.test", name: "Owner" },
      { packageId: enterprise.id, prorationDate: preview.prorationDate },
    );
    expect(after.package?.name).toBe("Enterprise");
    const latest = (await caller.billingClock.get({ accountId: account.id })).invoices[0];
    expect(latest).toMatchObject({ billingReason: "subscription_update", status: "paid" });
    expect(latest?.total.amount).toBe(preview.totalDueNowCents);
  });
});
