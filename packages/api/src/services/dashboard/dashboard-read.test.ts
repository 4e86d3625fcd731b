// The dashboard read in two statements (dashboard-read.ts) against the composition it replaced: the same
// services called one by one (kept here as the oracle), on varied accounts. Both are shaped by dashboardOf,
// so what is compared is what was read.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { AppError } from "../../errors.ts";
import { testPorts } from "../../testing.ts";
import { accountEntitlements, listAgents } from "../accounts/index.ts";
import { listAvailablePackages } from "../catalog/index.ts";
import { currentUsage, dailyUsage, ingestUsageEvents, listActiveAlerts } from "../metering/index.ts";
import { callEvent, createAccount, createAgentRows, subscribe } from "../metering/metering.fixtures.ts";
import { billingHistory, subscriptionOverview } from "../subscriptions/index.ts";
import { DASHBOARD_INVOICES, type DashboardViewer, dashboard, dashboardOf } from "./dashboard.ts";

const { db } = await testDatabase();
const clock = fixedClock(new Date("2026-11-16T00:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });

/** The dashboard as it was composed before issue #20: each service's own reads, concurrently. */
async function composedDashboard(viewer: DashboardViewer) {
  const { accountId } = viewer;
  const dailyOrEmpty = async () => {
    try {
      return (await dailyUsage(ports, accountId)).days;
    } catch (error) {
      if (error instanceof AppError && error.code === "PRECONDITION_FAILED") return [];
      throw error;
    }
  };
  const [account, first, subscription, usage, daily, agents, alerts, invoices, granted, catalog] =
    await Promise.all([
      db.account.findUnique({ where: { id: accountId }, select: { id: true, name: true } }),
      db.subscription.findFirst({
        where: { accountId },
        orderBy: { createdAt: "asc" },
        select: { createdAt: true },
      }),
      subscriptionOverview(ports, accountId),
      currentUsage(ports, accountId),
      dailyOrEmpty(),
      listAgents(ports, accountId),
      listActiveAlerts(ports, accountId),
      billingHistory(ports, accountId, DASHBOARD_INVOICES),
      accountEntitlements(ports, accountId),
      listAvailablePackages(ports),
    ]);
  return dashboardOf(viewer, clock.now(), {
    account,
    firstSubscribedAt: first?.createdAt ?? null,
    subscription,
    usage,
    daily,
    agents,
    alerts,
    invoices,
    granted,
    catalog,
  });
}

async function customer(name: string) {
  const { accountId, ownerEmail, userId } = await createAccount(db, name);
  const viewer: DashboardViewer = {
    userId,
    email: ownerEmail,
    name: "Dana",
    accountId,
    sessionStartedAt: new Date("2026-11-15T00:00:00Z"),
  };
  return { accountId, viewer };
}

async function report(accountId: string, minutes: number, overrides: Parameters<typeof callEvent>[2] = {}) {
  const events = [];
  for (let left = minutes; left > 0; left -= 1200) {
    events.push(callEvent(accountId, Math.min(left, 1200) * 60, overrides));
  }
  await ingestUsageEvents(ports, events);
}

async function invoice(accountId: string, i: number, subscriptionId: string | null, number: string | null) {
  await db.billingHistory.create({
    data: {
      accountId,
      subscriptionId,
      stripeInvoiceId: `in_read_${accountId}_${i}`,
      number,
      status: i % 3 === 0 ? "open" : "paid",
      billingReason: i % 2 === 0 ? "subscription_cycle" : "subscription_update",
      currency: "usd",
      subtotalCents: 1000 * i,
      totalCents: 1000 * i,
      amountDueCents: 1000 * i,
      amountPaidCents: i % 3 === 0 ? 0 : 1000 * i,
      // Two invoices in the same second: ordered by number, then Stripe id.
      issuedAt: new Date(Date.UTC(2026, 0 + Math.floor(i / 2), 1)),
      lines: [{ description: `Line ${i}`, amountCents: 1000 * i, quantity: 1 }],
    },
  });
}

async function expectSame(viewer: DashboardViewer) {
  const composed = await composedDashboard(viewer);
  const read = await dashboard(ports, viewer);
  expect(read).toEqual(composed);
  return read;
}

describe("the dashboard read", () => {
  it("matches the composition for an account that never subscribed", async () => {
    const { accountId, viewer } = await customer("Never Co");
    await createAgentRows(db, accountId, 1, false);
    const view = await expectSame(viewer);
    expect(view.usage).toBeNull();
    expect(view.daily).toEqual([]);
  });

  it("matches the composition for an active account with usage, alerts, reservations, late events and invoices", async () => {
    const { accountId, viewer } = await customer("Busy Co");
    const first = await subscribe(db, accountId, {
      plan: "Pro",
      createdAt: new Date("2026-10-01T00:00:00Z"),
    });
    const agents = await createAgentRows(db, accountId, 3);
    await db.agent.update({ where: { id: agents[1]?.id ?? "" }, data: { active: false } });
    await report(accountId, 2600, { agentId: agents[0]?.id ?? null });
    await report(accountId, 90, { direction: "inbound", startedAt: new Date("2026-11-03T08:00:00Z") });
    // A late event of October, received in this period.
    await report(accountId, 15, { startedAt: new Date("2026-10-20T08:00:00Z") });
    await db.callReservation.create({
      data: {
        callId: "held-1",
        accountId,
        direction: "outbound",
        minutes: 5,
        status: "held",
        expiresAt: new Date("2026-11-16T00:10:00Z"),
      },
    });
    for (let i = 1; i <= DASHBOARD_INVOICES + 2; i++) {
      await invoice(accountId, i, i % 2 === 0 ? first.id : null, i === 4 ? null : `READ-${i}`);
    }
    await db.duplicateSubscription.create({
      data: {
        accountId,
        stripeSubscriptionId: first.stripeSubscriptionId,
        keptStripeSubscriptionId: "sub_kept",
        status: "resolved",
        stripeRefundIds: [],
        detectedAt: new Date("2026-11-02T00:00:00Z"),
      },
    });
    const alert = await db.usageAlert.findFirst({ where: { accountId } });
    if (alert) await db.usageAlert.update({ where: { id: alert.id }, data: { emailedAt: clock.now() } });
    const view = await expectSame(viewer);
    expect(view.alerts.length).toBeGreaterThan(0);
    expect(view.usage?.minutesReserved).toBe(5);
    expect(view.usage?.lateEvents.minutes).toBe(15);
    expect(view.invoices.some((i) => i.refundedCents > 0)).toBe(true);
  });

  it("matches the composition for a period that starts and ends in the middle of a day", async () => {
    const { accountId, viewer } = await customer("Noon Co");
    await subscribe(db, accountId, {
      plan: "Starter",
      periodStart: new Date("2026-11-01T14:30:00Z"),
      periodEnd: new Date("2026-12-01T14:30:00Z"),
    });
    await report(accountId, 30, { startedAt: new Date("2026-11-01T15:00:00Z") });
    await report(accountId, 40, { startedAt: new Date("2026-11-05T01:00:00Z") });
    await expectSame(viewer);
  });

  it("matches the composition for a period shorter than a day", async () => {
    const { accountId, viewer } = await customer("Short Co");
    await subscribe(db, accountId, {
      plan: "Pro",
      periodStart: new Date("2026-11-15T14:00:00Z"),
      periodEnd: new Date("2026-11-16T10:00:00Z"),
    });
    await report(accountId, 20, { startedAt: new Date("2026-11-15T15:00:00Z") });
    await expectSame(viewer);
  });

  it("matches the composition with a test clock ahead, a cancellation that withdrew a downgrade, and an older canceled subscription", async () => {
    const { accountId, viewer } = await customer("Clock Co");
    const plans = await db.subscriptionPlan.findMany();
    const starter = plans.find((p) => p.name === "Starter");
    await subscribe(db, accountId, {
      plan: "Starter",
      status: "canceled",
      createdAt: new Date("2026-09-01T00:00:00Z"),
      periodStart: new Date("2026-09-01T00:00:00Z"),
      periodEnd: new Date("2026-10-01T00:00:00Z"),
    });
    const live = await subscribe(db, accountId, { plan: "Enterprise" });
    await db.subscription.update({
      where: { id: live.id },
      data: {
        cancelAtPeriodEnd: true,
        resumeScheduledPlanId: starter?.id ?? null,
        testClockTime: new Date("2026-12-03T00:00:00Z"),
      },
    });
    await report(accountId, 60, { startedAt: new Date("2026-12-02T00:00:00Z") });
    const view = await expectSame(viewer);
    expect(view.subscription.withdrawnChange?.packageName).toBe("Starter");
  });

  it("matches the composition for a past-due subscription with a scheduled downgrade", async () => {
    const { accountId, viewer } = await customer("Late Co");
    const starter = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Starter" } });
    const sub = await subscribe(db, accountId, { plan: "Pro", status: "past_due" });
    await db.subscription.update({
      where: { id: sub.id },
      data: { scheduledPlanId: starter.id, scheduledChangeAt: new Date("2026-12-01T00:00:00Z") },
    });
    const view = await expectSame(viewer);
    expect(view.subscription.scheduledChange?.packageName).toBe("Starter");
  });

  it("refuses an account that does not exist, as the composition did", async () => {
    const viewer = { userId: "u", email: "x@example.com", name: "X", accountId: crypto.randomUUID() };
    await expect(dashboard(ports, viewer)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
