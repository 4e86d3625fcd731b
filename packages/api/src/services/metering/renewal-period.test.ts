// Issue 19, items 1-4: one truth about the billing period after a renewal on the admin Billing clock. Pro at
// 2,502 of 3,000 minutes with a downgrade to Starter scheduled; the clock passes the period end while
// Minutely's own clock stays in the old period. Every reader (dashboard, usage reads, the metering API's
// usage, call authorization, ingestion, the admin customer page) must agree on the new period, on Starter,
// with 0 minutes used; the old period keeps its minutes; the scheduled downgrade is no longer "scheduled";
// the old period's alerts leave the active list.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import type { Viewer } from "../../context.ts";
import { adminRouter } from "../../root.ts";
import { testPorts } from "../../testing.ts";
import { createCallerFactory } from "../../trpc.ts";
import { customerDetail } from "../admin/customers.ts";
import { syncCatalogToStripe } from "../catalog/catalog-admin.ts";
import { dashboard } from "../dashboard/dashboard.ts";
import { downgrade, previewUpgrade, subscribe } from "../subscriptions/subscriptions.ts";
import { authorizeCallRequest } from "./call-authorization.ts";
import { listActiveAlerts } from "./usage-alerts.ts";
import { ingestUsageEvents } from "./usage-ingest.ts";
import { currentUsage, dailyUsage, usageByAgent } from "./usage-read.ts";

const { db } = await testDatabase();
const clock = fixedClock(new Date("2026-12-06T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
await syncCatalogToStripe(ports);
const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
const starter = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Starter" } });
const adminUser = await db.user.create({
  data: { email: "renewal-admin@minutely.test", name: "Admin", role: "admin" },
});
const admin: Viewer = {
  userId: adminUser.id,
  email: adminUser.email,
  name: "Admin",
  role: "admin",
  accountId: null,
};
const adminCaller = createCallerFactory(adminRouter)({ ...ports, viewer: admin, requestId: "test" });

const account = await db.account.create({ data: { name: "Renewal Vets" } });
const owner = await db.user.create({
  data: {
    email: "owner@renewal.test",
    name: "Owner",
    memberships: { create: { accountId: account.id, role: "owner" } },
  },
});
const ref = { accountId: account.id, email: owner.email, name: owner.name };
await subscribe(ports, ref, { packageId: pro.id, paymentMethodId: "pm_card_visa" });
const agent = await db.agent.create({ data: { accountId: account.id, name: "Front desk", active: true } });
const oldPeriod = await db.subscription.findFirstOrThrow({ where: { accountId: account.id } });

describe("a renewal on the Billing clock with a downgrade scheduled", () => {
  it("moves every reader to the new period on Starter, with 0 minutes used", async () => {
    // 2,502 minutes on Pro in the period that starts now: 1,440 + 1,062.
    clock.set(new Date("2026-12-08T12:00:00Z"));
    const reported = await ingestUsageEvents(ports, [
      {
        callId: "old-1",
        accountId: account.id,
        agentId: agent.id,
        direction: "outbound",
        startedAt: new Date("2026-12-06T13:00:00Z"),
        durationSeconds: 1440 * 60,
      },
      {
        callId: "old-2",
        accountId: account.id,
        agentId: agent.id,
        direction: "outbound",
        startedAt: new Date("2026-12-07T14:00:00Z"),
        durationSeconds: 1062 * 60,
      },
    ]);
    expect(reported.results.map((r) => r.status)).toEqual(["accepted", "accepted"]);
    expect((await currentUsage(ports, account.id))?.minutesUsed).toBe(2502);
    expect((await listActiveAlerts(ports, account.id)).map((a) => a.thresholdPercent)).toEqual([80]);

    await downgrade(ports, ref, { packageId: starter.id });
    const periodEnd = oldPeriod.currentPeriodEnd;
    await adminCaller.billingClock.advance({
      accountId: account.id,
      to: new Date(periodEnd.getTime() + 3_600_000),
    });
    // Minutely's own clock is still in the old period: only Stripe's time for this customer moved.
    expect(clock.now().getTime()).toBeLessThan(periodEnd.getTime());
    const renewed = await db.subscription.findFirstOrThrow({ where: { accountId: account.id } });
    expect(renewed).toMatchObject({ planId: starter.id, currentPeriodStart: periodEnd });
    const newPeriod = { start: periodEnd, end: renewed.currentPeriodEnd };

    // The dashboard: the new period, Starter, 0 of 1,000, nothing scheduled, no alert of the old period.
    const board = await dashboard(ports, {
      userId: owner.id,
      email: owner.email,
      name: owner.name,
      accountId: account.id,
    });
    expect(board.usage).toMatchObject({
      period: newPeriod,
      plan: { name: "Starter" },
      minutesUsed: 0,
      minutesLimit: 1000,
      usagePercentage: 0,
    });
    expect(board.subscription.scheduledChange).toBeNull();
    expect(board.subscription.package?.name).toBe("Starter");
    expect(board.alerts).toEqual([]);
    expect(board.daily[0]?.day).toBe(periodEnd.toISOString().slice(0, 10));
    expect(board.daily.reduce((sum, d) => sum + d.minutes, 0)).toBe(0);

    // The usage page and the metering API's usage (both read currentUsage / dailyUsage / usageByAgent).
    const usage = await currentUsage(ports, account.id);
    expect(usage).toMatchObject({ period: newPeriod, minutesUsed: 0, minutesLimit: 1000 });
    expect((await dailyUsage(ports, account.id)).period).toEqual(newPeriod);
    expect((await usageByAgent(ports, account.id)).agents.map((a) => a.minutes)).toEqual([0]);

    // Call authorization: Starter's hard cap with all 1,000 minutes left (not Pro's overage).
    const allowed = await authorizeCallRequest(ports, {
      callId: "new-1",
      accountId: account.id,
      agentId: agent.id,
      direction: "outbound",
    });
    expect(allowed).toMatchObject({ decision: "allow", maxDurationSeconds: 1000 * 60, overCap: false });

    // The admin's customer page agrees.
    const detail = await customerDetail(ports, account.id);
    expect(detail.usage).toMatchObject({ period: newPeriod, minutesUsed: 0, minutesLimit: 1000 });
    expect(detail.subscription?.scheduledChange).toBeNull();

    // The old period keeps its 2,502 minutes, recorded on Pro.
    const oldRow = await db.usagePeriodRollup.findUniqueOrThrow({
      where: { accountId_periodStart: { accountId: account.id, periodStart: oldPeriod.currentPeriodStart } },
    });
    expect(oldRow).toMatchObject({ minutes: 2502, planId: pro.id });

    // Placement on the account's time: a call of the new period counts in it; one started before the
    // renewal is late, in the old period.
    const placed = await ingestUsageEvents(ports, [
      {
        callId: "new-1",
        accountId: account.id,
        agentId: agent.id,
        direction: "outbound",
        startedAt: new Date(periodEnd.getTime() + 60_000),
        durationSeconds: 600,
      },
      {
        callId: "late-1",
        accountId: account.id,
        agentId: agent.id,
        direction: "inbound",
        startedAt: new Date("2026-12-08T11:00:00Z"),
        durationSeconds: 60,
      },
    ]);
    expect(placed.results.map((r) => (r.status === "accepted" ? [r.periodStart, r.late] : r.status))).toEqual(
      [
        [periodEnd, false],
        [oldPeriod.currentPeriodStart, true],
      ],
    );
    const after = await currentUsage(ports, account.id);
    expect(after).toMatchObject({ minutesUsed: 10, lateEvents: { calls: 1, minutes: 1 } });
    expect(
      (
        await db.usagePeriodRollup.findUniqueOrThrow({
          where: {
            accountId_periodStart: { accountId: account.id, periodStart: oldPeriod.currentPeriodStart },
          },
        })
      ).minutes,
    ).toBe(2503);
  });

  it("a downgrade that took effect is no longer scheduled, so a further one is accepted", async () => {
    const enterprise = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Enterprise" } });
    const other = await db.account.create({ data: { name: "Stepping Down" } });
    const user = await db.user.create({
      data: {
        email: "owner@stepping.test",
        name: "Owner",
        memberships: { create: { accountId: other.id, role: "owner" } },
      },
    });
    const otherRef = { accountId: other.id, email: user.email, name: user.name };
    await subscribe(ports, otherRef, { packageId: enterprise.id, paymentMethodId: "pm_card_visa" });
    const scheduled = await downgrade(ports, otherRef, { packageId: pro.id });
    expect(scheduled.scheduledChange?.packageName).toBe("Pro");
    const periodEnd = scheduled.currentPeriodEnd ?? new Date(0);
    await adminCaller.billingClock.advance({
      accountId: other.id,
      to: new Date(periodEnd.getTime() + 3_600_000),
    });

    const detail = await customerDetail(ports, other.id);
    expect(detail.subscription).toMatchObject({ planName: "Pro", scheduledChange: null });
    const next = await downgrade(ports, otherRef, { packageId: starter.id });
    expect(next).toMatchObject({ package: { name: "Pro" }, scheduledChange: { packageName: "Starter" } });
    expect(next.scheduledChange?.effectiveAt.getTime()).toBeGreaterThan(periodEnd.getTime());
  });

  it("an upgrade preview reads Stripe's time and records it: the account's now follows a clock moved elsewhere", async () => {
    const other = await db.account.create({ data: { name: "Moved Elsewhere" } });
    const user = await db.user.create({
      data: {
        email: "owner@elsewhere.test",
        name: "Owner",
        memberships: { create: { accountId: other.id, role: "owner" } },
      },
    });
    await subscribe(
      ports,
      { accountId: other.id, email: user.email, name: user.name },
      {
        packageId: starter.id,
        paymentMethodId: "pm_card_visa",
      },
    );
    const row = await db.subscription.findFirstOrThrow({ where: { accountId: other.id } });
    const moved = new Date(row.currentPeriodStart.getTime() + 10 * 86_400_000);
    // Moved outside Minutely (Stripe's dashboard, say): nothing synced yet.
    await ports.billing.advanceTestClock(row.stripeTestClockId ?? "", moved);
    for (let i = 0; i < 50; i++) {
      if ((await ports.billing.retrieveTestClock(row.stripeTestClockId ?? "")).status === "ready") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const preview = await previewUpgrade(ports, other.id, pro.id);
    expect(preview.prorationDate).toEqual(moved);
    const after = await db.subscription.findUniqueOrThrow({ where: { id: row.id } });
    expect(after.testClockTime).toEqual(moved);
    expect((await currentUsage(ports, other.id))?.asOf).toEqual(moved);
  });
});
