// Admins pause and resume a customer's subscription (audit-logged); paused accounts are found by the customer
// list's "paused" filter and leave MRR while their pause is in effect. Real subscriptions on the emulator.
import { randomUUID } from "node:crypto";
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
import { advanceBillingClock } from "./billing-clock.ts";
import { customerDetail, listCustomers } from "./customers.ts";
import { adminPauseSubscription, adminResumePausedSubscription } from "./pause.ts";
import { revenueOverview } from "./revenue.ts";

const { db } = await testDatabase();
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock: fixedClock(new Date()) });
await syncCatalogToStripe(ports);
const plans = Object.fromEntries((await db.subscriptionPlan.findMany()).map((p) => [p.name, p.id]));
const adminUser = await db.user.create({ data: { email: "ops@minutely.test", name: "Ops", role: "admin" } });
const admin: Viewer = {
  userId: adminUser.id,
  email: adminUser.email,
  name: "Ops",
  role: "admin",
  accountId: null,
};

async function customer(name: string) {
  const account = await db.account.create({ data: { name } });
  const email = `${name.toLowerCase()}@pause.test`;
  await db.user.create({
    data: { email, name, memberships: { create: { accountId: account.id, role: "owner" } } },
  });
  const ref = { accountId: account.id, email, name };
  await subscribe(ports, ref, { packageId: plans.Pro, paymentMethodId: "pm_card_visa" });
  return ref;
}

const mrrCents = async () => (await revenueOverview(ports, { months: 1 })).totals[0]?.mrrCents ?? 0;

describe("admin pause", () => {
  it("pauses (audit-logged), lists the account as paused, leaves MRR once in effect, and resumes", async () => {
    const paying = await customer("Paying");
    const pausing = await customer("Pausing");
    expect(await mrrCents()).toBe(2 * 9900);

    const paused = await adminPauseSubscription(ports, admin, { accountId: pausing.accountId, periods: 3 });
    expect(paused.pause).toMatchObject({ paused: false });
    const audit = await db.auditLog.findFirstOrThrow({ where: { action: "subscription.pause" } });
    expect(audit).toMatchObject({ actorEmail: "ops@minutely.test", entityId: pausing.accountId });
    // The paid period is kept: still in MRR until the pause starts.
    expect(await mrrCents()).toBe(2 * 9900);
    const listed = await listCustomers(ports, { status: "paused", page: 1, pageSize: 25 });
    expect(listed.items.map((i) => i.accountId)).toEqual([pausing.accountId]);

    // In effect after the period end: out of MRR, in the list and the detail with no MRR.
    const after = new Date((paused.currentPeriodEnd as Date).getTime() + 3_600_000);
    await advanceBillingClock(ports, admin, { accountId: pausing.accountId, to: after });
    expect(await mrrCents()).toBe(9900);
    const item = (await listCustomers(ports, { status: "paused", page: 1, pageSize: 25 })).items[0];
    expect(item).toMatchObject({ accountId: pausing.accountId, mrr: null, pause: { paused: true } });
    const detail = await customerDetail(ports, pausing.accountId);
    expect(detail.mrr).toBeNull();
    expect(detail.subscription?.pause).toMatchObject({ paused: true });
    expect((await customerDetail(ports, paying.accountId)).mrr).toEqual({ amount: 9900, currency: "usd" });

    const resumed = await adminResumePausedSubscription(ports, admin, { accountId: pausing.accountId });
    expect(resumed.pause).toBeNull();
    expect(await mrrCents()).toBe(2 * 9900);
    expect((await listCustomers(ports, { status: "paused", page: 1, pageSize: 25 })).items).toEqual([]);
    expect(await db.auditLog.count({ where: { action: "subscription.resume_pause" } })).toBe(1);
  });

  it("a retried pause or resume (double click, second tab) changes nothing and is logged once, with the pause before", async () => {
    const twice = await customer("Twice");
    const entries = () =>
      db.auditLog.findMany({ where: { entityId: twice.accountId }, orderBy: { createdAt: "asc" } });
    const first = await adminPauseSubscription(ports, admin, { accountId: twice.accountId, periods: 2 });
    await adminPauseSubscription(ports, admin, { accountId: twice.accountId, periods: 2 });
    await adminResumePausedSubscription(ports, admin, { accountId: twice.accountId });
    await adminResumePausedSubscription(ports, admin, { accountId: twice.accountId });
    const logged = await entries();
    expect(logged.map((a) => a.action)).toEqual(["subscription.pause", "subscription.resume_pause"]);
    expect(logged[1]?.before).toMatchObject({
      pause: { resumesAt: first.pause?.resumesAt?.toISOString() },
    });
  });

  it("refuses bad input naming the field, and an unknown account with 404", async () => {
    const caller = createCallerFactory(adminRouter)({ ...ports, viewer: admin, requestId: "test" });
    for (const periods of [0, 4, "2", 1.5]) {
      await expect(
        caller.customers.pause({
          accountId: plans.Pro ?? "",
          periods: periods as 1,
          requestKey: randomUUID(),
        }),
      ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    }
    await expect(
      caller.customers.pause({
        accountId: "00000000-0000-4000-8000-000000000009",
        periods: 1,
        requestKey: randomUUID(),
      }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
