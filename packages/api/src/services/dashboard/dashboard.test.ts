// The dashboard and analytics reads on real PostgreSQL: usage ingested through the real ingestion (which
// records the alerts), subscriptions, agents and invoices as rows, a fixed clock half way through the period.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock, money } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";
import type { Viewer } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { appRouter } from "../../root.ts";
import { testPorts } from "../../testing.ts";
import { createCallerFactory } from "../../trpc.ts";
import { usageAnalytics } from "../accounts/analytics.ts";
import {
  callEvent,
  createAccount,
  createAgentRows,
  type SeededPlan,
  subscribe,
} from "../metering/metering.fixtures.ts";
import { ingestUsageEvents } from "../metering/usage-ingest.ts";
import { DASHBOARD_INVOICES, dashboard, greetingFor } from "./dashboard.ts";

const { db } = await testDatabase();
// Half way through the fixtures' period (2026-11-01 to 2026-12-01).
const clock = fixedClock(new Date("2026-11-16T00:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });

async function customer(plan: SeededPlan | null, status: "active" | "past_due" | "canceled" = "active") {
  const { accountId, ownerEmail, userId } = await createAccount(db, "Dash Co");
  if (plan) await subscribe(db, accountId, { plan, status });
  const viewer = { userId, email: ownerEmail, name: "Dana", accountId };
  return { accountId, viewer };
}

/** Calls adding up to `minutes` (each at most 1,200 minutes), on 2026-11-10 unless told otherwise. */
async function report(accountId: string, minutes: number, overrides: Parameters<typeof callEvent>[2] = {}) {
  const events = [];
  for (let left = minutes; left > 0; left -= 1200) {
    events.push(callEvent(accountId, Math.min(left, 1200) * 60, overrides));
  }
  const result = await ingestUsageEvents(ports, events);
  expect(result.accepted).toBe(events.length);
}

async function invoices(accountId: string, count: number) {
  for (let i = 0; i < count; i++) {
    await db.billingHistory.create({
      data: {
        accountId,
        stripeInvoiceId: `in_dash_${accountId}_${i}`,
        number: `DASH-${i}`,
        status: "paid",
        currency: "usd",
        subtotalCents: 9900,
        totalCents: 9900,
        amountDueCents: 9900,
        amountPaidCents: 9900,
        issuedAt: new Date(Date.UTC(2026, 0 + i, 1)),
      },
    });
  }
}

async function appError(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error("expected an AppError");
}

function caller(viewer: { userId: string; email: string; name: string; accountId: string }) {
  const full: Viewer = { ...viewer, role: "user" };
  return createCallerFactory(appRouter)({ ...ports, viewer: full, requestId: "test" });
}

async function trpcCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TRPCError) return error.code;
    throw error;
  }
  return "OK";
}

describe("dashboard", () => {
  it("shows an active Pro account at 83%: usage, the 80% alert, forecast, agents, invoices, actions", async () => {
    const { accountId, viewer } = await customer("Pro");
    const agents = await createAgentRows(db, accountId, 3);
    await db.agent.update({ where: { id: agents[2]?.id ?? "" }, data: { active: false } });
    await report(accountId, 2490, { agentId: agents[0]?.id ?? null });
    await invoices(accountId, DASHBOARD_INVOICES + 2);

    const view = await dashboard(ports, viewer);
    expect(view.user).toEqual({ id: viewer.userId, email: viewer.email, name: "Dana" });
    expect(view.account).toEqual({ id: accountId, name: "Dash Co" });
    expect(view.subscription).toMatchObject({
      status: "active",
      package: { name: "Pro" },
      currentPeriodStart: new Date("2026-11-01T00:00:00Z"),
      currentPeriodEnd: new Date("2026-12-01T00:00:00Z"),
      cancelAtPeriodEnd: false,
      scheduledChange: null,
    });
    expect(view.needsPackageSelection).toBe(false);
    expect(view.usage).toMatchObject({
      minutesUsed: 2490,
      minutesLimit: 3000,
      minutesRemaining: 510,
      usagePercentage: 83,
    });
    expect(view.alerts.map((a) => [a.thresholdPercent, a.kind])).toEqual([[80, "threshold"]]);
    // Zero-filled: every day of the period, the minutes on the day of the calls.
    expect(view.daily).toHaveLength(30);
    expect(view.daily.filter((d) => d.minutes > 0)).toEqual([
      { day: "2026-11-10", minutes: 2490, calls: 3, inboundMinutes: 0, outboundMinutes: 2490 },
    ]);
    expect(view.agents).toEqual({ active: 2, total: 3, allowed: 5 });
    expect(view.invoices.map((i) => i.number)).toEqual(["DASH-6", "DASH-5", "DASH-4", "DASH-3", "DASH-2"]);
    expect(view.entitlements).toEqual({
      hasAccess: true,
      analytics: true,
      apiAccess: false,
      callMinutesLimit: 3000,
      agentsAllowed: 5,
      overage: "billed",
    });
    // Half the period gone: 2,490 minutes now -> 4,980 at the end, 1,980 beyond the limit at $0.03.
    expect(view.forecast).toMatchObject({
      projectedMinutes: 4980,
      extrapolated: true,
      projectedMinutesOver: 1980,
      projectedOverageCost: money(5940, "usd"),
      projectedToHitCap: false,
      advice: {
        kind: "stay",
        message: "At this pace you will use 4,980 of 3,000 minutes; Pro remains your best option.",
      },
    });
    expect(view.quickActions.map((a) => [a.label, a.path])).toEqual([
      ["Subscription & Packages", "/packages"],
      ["Billing", "/billing"],
      ["Agents", "/agents"],
      ["Usage", "/usage"],
      ["Analytics", "/analytics"],
    ]);
    expect(view.quickActions.find((a) => a.id === "agents")?.description).toBe("2 of 5 active agents.");
    expect(view.quickActions.some((a) => a.urgent)).toBe(false);
  });

  it("sends a new account to package selection: nothing to show, no forecast", async () => {
    const { viewer } = await customer(null);
    const view = await dashboard(ports, viewer);
    expect(view).toMatchObject({
      needsPackageSelection: true,
      subscription: { status: "none", package: null },
      usage: null,
      daily: [],
      alerts: [],
      invoices: [],
      forecast: null,
      agents: { active: 0, total: 0, allowed: 0 },
      entitlements: { hasAccess: false, analytics: false, apiAccess: false },
    });
    const packages = view.quickActions.find((a) => a.id === "packages");
    expect(packages).toMatchObject({ urgent: true, description: "Choose a package to start calling." });
  });

  it("advises Starter past its hard cap to upgrade, and offers the packages with analytics", async () => {
    const { accountId, viewer } = await customer("Starter");
    await report(accountId, 725);
    const view = await dashboard(ports, viewer);
    expect(view.entitlements).toMatchObject({ analytics: false, overage: "hard_cap" });
    expect(view.forecast).toMatchObject({
      projectedMinutes: 1450,
      projectedToHitCap: true,
      projectedOverageCost: money(0, "usd"),
      advice: {
        kind: "upgrade",
        suggestedPlanName: "Pro",
        message:
          "At this pace you will use 1,450 of 1,000 minutes, more than Starter allows; Pro covers it for $99.00 a month.",
      },
    });
    expect(view.analyticsPackages.map((p) => p.name)).toEqual(["Pro", "Enterprise"]);
    expect(view.quickActions.find((a) => a.id === "analytics")?.description).toBe(
      "Included with Pro and Enterprise.",
    );
  });

  it("flags a past_due account's billing, which still has access and a forecast", async () => {
    const { accountId, viewer } = await customer("Pro", "past_due");
    await report(accountId, 100);
    const view = await dashboard(ports, viewer);
    expect(view.subscription).toMatchObject({ status: "past_due", needsPaymentAttention: true });
    expect(view.needsPackageSelection).toBe(false);
    expect(view.forecast?.projectedMinutes).toBe(200);
    expect(view.quickActions.find((a) => a.id === "billing")).toMatchObject({
      urgent: true,
      description: "Your last payment failed: update your card.",
    });
  });

  it("shows a canceled account its history but no entitlements and no forecast", async () => {
    const { accountId, viewer } = await customer("Pro", "canceled");
    await invoices(accountId, 1);
    const view = await dashboard(ports, viewer);
    expect(view.needsPackageSelection).toBe(true);
    expect(view.forecast).toBeNull();
    expect(view.entitlements.hasAccess).toBe(false);
    expect(view.invoices).toHaveLength(1);
  });
});

describe("greeting", () => {
  const at = (iso: string) => new Date(iso);
  // Signed up (or in) at 09:00, chose a package at 09:05.
  const sessionStartedAt = at("2026-11-15T09:00:00Z");
  const firstSubscribedAt = at("2026-11-15T09:05:00Z");

  it("welcomes a customer in the session in which they chose their first package, on its first day", () => {
    const now = at("2026-11-15T09:06:00Z");
    expect(greetingFor({ firstSubscribedAt, sessionStartedAt, now })).toBe("new");
    expect(greetingFor({ firstSubscribedAt, sessionStartedAt, now: at("2026-11-16T09:04:59Z") })).toBe("new");
    // A day later the same session is a returning customer's.
    expect(greetingFor({ firstSubscribedAt, sessionStartedAt, now: at("2026-11-16T09:05:00Z") })).toBe(
      "returning",
    );
    // Never subscribed: nothing to come back to.
    expect(greetingFor({ firstSubscribedAt: null, sessionStartedAt, now })).toBe("new");
  });

  it("welcomes back a customer who signed in again after subscribing, however soon", () => {
    const now = at("2026-11-15T09:10:00Z");
    const signedInAgain = at("2026-11-15T09:05:01Z");
    expect(greetingFor({ firstSubscribedAt, sessionStartedAt: signedInAgain, now })).toBe("returning");
    expect(greetingFor({ firstSubscribedAt, sessionStartedAt: undefined, now })).toBe("returning");
  });

  it("comes with the dashboard, from the account's first subscription and the viewer's session", async () => {
    const { accountId, viewer } = await customer("Pro");
    const first = await db.subscription.findFirstOrThrow({ where: { accountId } });
    const later = (minutes: number) => new Date(first.createdAt.getTime() + minutes * 60_000);
    const at = (minutes: number) => ({ ...ports, clock: fixedClock(later(minutes)) });
    expect((await dashboard(at(1), { ...viewer, sessionStartedAt: later(-5) })).greeting).toBe("new");
    expect((await dashboard(at(1), { ...viewer, sessionStartedAt: later(0.5) })).greeting).toBe("returning");
    expect((await dashboard(at(1), viewer)).greeting).toBe("returning");
    // A later subscription (after a cancellation, say) does not make the customer new again.
    await db.subscription.update({ where: { id: first.id }, data: { status: "canceled" } });
    await subscribe(db, accountId, { plan: "Starter", createdAt: later(120) });
    expect((await dashboard(at(121), { ...viewer, sessionStartedAt: later(60) })).greeting).toBe("returning");
  });
});

describe("analytics", () => {
  it("breaks the period down by agent, direction and day for a package with analytics", async () => {
    const { accountId, viewer } = await customer("Enterprise");
    const [reception] = await createAgentRows(db, accountId, 1);
    await report(accountId, 30, { agentId: reception?.id ?? null, direction: "inbound" });
    await report(accountId, 12, { startedAt: new Date("2026-11-12T09:00:00Z") });
    const analytics = await usageAnalytics(ports, accountId);
    expect(analytics.totals).toEqual({ minutes: 42, calls: 2 });
    expect(analytics.byAgent).toEqual([
      { agentId: reception?.id, name: "Agent 1", active: true, minutes: 30, calls: 1 },
      { agentId: null, name: "No agent", active: null, minutes: 12, calls: 1 },
    ]);
    expect(analytics.byDirection).toEqual({
      inbound: { minutes: 30, calls: 1 },
      outbound: { minutes: 12, calls: 1 },
    });
    expect(analytics.daily.filter((d) => d.minutes > 0).map((d) => [d.day, d.minutes])).toEqual([
      ["2026-11-10", 30],
      ["2026-11-12", 12],
    ]);
    const trpc = caller(viewer);
    expect((await trpc.analytics.overview()).totals.minutes).toBe(42);
    expect((await trpc.usage.byAgent()).agents).toHaveLength(2);
  });

  it("is refused (FORBIDDEN) for packages without analytics, without a package and when not active", async () => {
    const starter = await customer("Starter");
    const refused = await appError(usageAnalytics(ports, starter.accountId));
    expect(refused.code).toBe("FORBIDDEN");
    expect(refused.message).toMatch(/Starter package does not include analytics/);
    const none = await customer(null);
    expect((await appError(usageAnalytics(ports, none.accountId))).message).toMatch(/choose one first/);
    const canceled = await customer("Pro", "canceled");
    expect((await appError(usageAnalytics(ports, canceled.accountId))).message).toMatch(/not active/);

    // The same gate on the procedures: the breakdowns are analytics, the daily series is not.
    const trpc = caller(starter.viewer);
    expect(await trpcCode(trpc.analytics.overview())).toBe("FORBIDDEN");
    expect(await trpcCode(trpc.usage.byAgent())).toBe("FORBIDDEN");
    expect(await trpcCode(trpc.usage.byDirection())).toBe("FORBIDDEN");
    expect(await trpcCode(trpc.usage.daily())).toBe("OK");
    expect(await trpcCode(trpc.dashboard.get())).toBe("OK");
  });
});
