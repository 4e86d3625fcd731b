// The dashboard's SQL floor (GET /bench/dashboard-sql) against the service behind GET /bench/dashboard, for
// the same signed-in account on real PostgreSQL: the floor must answer the same JSON, or the benchmark's
// ratio against it would compare different work. The accounts cover every branch the service takes: no
// subscription; usage with alerts, reservations, late events and invoices; periods that start or end
// mid-day, last less than a day, or end in a partial day already under way; a renewal not synced yet (its
// period end clamped to a shorter month); a test clock ahead; past due, incomplete and ended
// subscriptions; an archived package; and each kind of forecast advice.
import { createAuth, ingestUsageEvents, type UsageEventInput } from "@minutely/api";
import { testPorts } from "@minutely/api/testing";
import { databasePoolOf, type SubscriptionStatus } from "@minutely/db";
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { userWithAccount } from "@minutely/testing";
import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { registerDashboardRoutes, sessionTokenOf } from "./dashboard-routes.ts";

const SECRET = "bench-dashboard-floor-secret-0123456789abcdef";
const BASE = "http://localhost:3000";
const { db } = await testDatabase();
const clock = fixedClock(new Date("2026-11-16T00:00:00Z"));
const ports = testPorts(db, { stripeApiBase: "http://127.0.0.1:9", clock });
const auth = createAuth({ db, secret: SECRET, baseUrl: BASE, trustedOrigins: [BASE], secureCookies: false });
const app = Fastify();
const pool = databasePoolOf(db);
if (!pool) throw new Error("the test database's client has no pg pool");
await registerDashboardRoutes(app, { auth, ports, pool, sessionSecret: SECRET });

let seq = 0;

/** A customer signed up through better-auth: the session cookie and the account it created. */
async function signUp(name: string) {
  seq += 1;
  const email = `floor-${seq}-${Date.now()}@example.com`;
  const { headers } = await auth.api.signUpEmail({
    body: { name, email, password: "floor-password-1" },
    returnHeaders: true,
  });
  const cookie = headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  const user = await userWithAccount(db, { email });
  return { cookie, accountId: user.accountId ?? "" };
}

async function subscribe(
  accountId: string,
  options: {
    plan?: string;
    status?: SubscriptionStatus;
    periodStart?: Date;
    periodEnd?: Date;
    createdAt?: Date;
  } = {},
) {
  seq += 1;
  const plan = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: options.plan ?? "Pro" } });
  return await db.subscription.create({
    data: {
      accountId,
      planId: plan.id,
      stripePriceId: `price_floor_${seq}`,
      stripeSubscriptionId: `sub_floor_${seq}_${accountId}`,
      status: options.status ?? "active",
      currentPeriodStart: options.periodStart ?? new Date("2026-11-01T00:00:00Z"),
      currentPeriodEnd: options.periodEnd ?? new Date("2026-12-01T00:00:00Z"),
      ...(options.createdAt ? { createdAt: options.createdAt } : {}),
    },
  });
}

/** `minutes` of calls (at most 1,200 a call), started at `startedAt` unless overridden. */
async function report(accountId: string, minutes: number, overrides: Partial<UsageEventInput> = {}) {
  const events: UsageEventInput[] = [];
  for (let left = minutes; left > 0; left -= 1200) {
    seq += 1;
    events.push({
      callId: `floor-call-${seq}`,
      accountId,
      agentId: null,
      direction: "outbound",
      startedAt: new Date("2026-11-10T10:00:00Z"),
      durationSeconds: Math.min(left, 1200) * 60,
      ...overrides,
    });
  }
  const result = await ingestUsageEvents(ports, events);
  expect(result.results.every((r) => r.status === "accepted")).toBe(true);
}

async function get(url: string, cookie: string | undefined) {
  return await app.inject({ method: "GET", url, headers: cookie === undefined ? {} : { cookie } });
}

/** Both routes for the same session: the floor's JSON must equal the service's. */
async function expectSame(cookie: string) {
  const service = await get("/bench/dashboard", cookie);
  const floor = await get("/bench/dashboard-sql", cookie);
  expect(service.statusCode, service.body).toBe(200);
  expect(floor.statusCode, floor.body).toBe(200);
  expect(floor.headers["content-type"]).toBe("application/json; charset=utf-8");
  const expected = service.json();
  expect(floor.json()).toStrictEqual(expected);
  return expected;
}

describe("GET /bench/dashboard-sql, the dashboard's SQL floor", () => {
  it("answers the service's JSON for an account that never subscribed", async () => {
    const { cookie, accountId } = await signUp("Never Co");
    await db.agent.create({ data: { accountId, name: "Idle", active: false } });
    const view = await expectSame(cookie);
    expect(view.usage).toBeNull();
    expect(view.greeting).toBe("new");
    expect(view.quickActions[0].urgent).toBe(true);
  });

  it("answers the service's JSON with usage, alerts, reservations, late events, invoices and refunds", async () => {
    const { cookie, accountId } = await signUp("Busy Co");
    const first = await subscribe(accountId, { createdAt: new Date("2026-10-01T00:00:00Z") });
    const agents = [];
    for (let i = 0; i < 3; i++) {
      agents.push(
        await db.agent.create({
          data: {
            accountId,
            name: `Agent ${i}`,
            active: i !== 1,
            createdAt: new Date(Date.UTC(2026, 0, 1, 0, i)),
          },
        }),
      );
    }
    await report(accountId, 2600, { agentId: agents[0]?.id ?? null });
    await report(accountId, 90, { direction: "inbound", startedAt: new Date("2026-11-03T08:00:00Z") });
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
    await db.callReservation.create({
      data: {
        callId: "settled-1",
        accountId,
        direction: "outbound",
        minutes: 7,
        status: "settled",
        expiresAt: new Date("2026-11-16T00:10:00Z"),
      },
    });
    const lines = [
      [
        {
          id: "il_1",
          description: "Pro",
          amountCents: 9900,
          currency: "usd",
          periodStart: "2026-11-01T00:00:00.000Z",
          periodEnd: "2026-12-01T00:00:00.000Z",
          proration: false,
        },
        {
          id: "il_2",
          description: null,
          amountCents: -100,
          currency: "usd",
          periodStart: null,
          periodEnd: null,
          proration: true,
        },
        {
          id: "il_3",
          description: "Pro (25% off)",
          amountCents: 9900,
          currency: "usd",
          periodStart: "2026-11-01T00:00:00.000Z",
          periodEnd: "2026-12-01T00:00:00.000Z",
          proration: false,
          discountCents: 2475,
        },
        {
          id: "il_4",
          description: "a discount that is not a whole number: left out",
          amountCents: 100,
          currency: "usd",
          periodStart: null,
          periodEnd: null,
          proration: false,
          discountCents: 1.5,
        },
      ],
      // Not the shape Minutely writes: left out, line by line.
      [
        {
          description: "no id",
          amountCents: 1,
          currency: "usd",
          periodStart: null,
          periodEnd: null,
          proration: false,
        },
        {
          id: "il_f",
          description: "x",
          amountCents: 1.5,
          currency: "usd",
          periodStart: null,
          periodEnd: null,
          proration: false,
        },
        { id: "il_d", amountCents: 1, currency: "usd", periodStart: null, periodEnd: null, proration: false },
        {
          id: "il_p",
          description: "x",
          amountCents: 1,
          currency: "usd",
          periodStart: "soon",
          periodEnd: null,
          proration: false,
        },
        {
          id: "il_ok",
          description: "kept",
          amountCents: 100.0,
          currency: "usd",
          periodStart: null,
          periodEnd: null,
          proration: false,
        },
      ],
      { not: "an array" },
    ];
    for (let i = 1; i <= 7; i++) {
      await db.billingHistory.create({
        data: {
          accountId,
          subscriptionId: i % 2 === 0 ? first.id : null,
          stripeInvoiceId: `in_floor_${accountId}_${i}`,
          number: i === 4 ? null : `FLOOR-${i}`,
          status: i % 3 === 0 ? "open" : "paid",
          billingReason:
            [
              null,
              "subscription_cycle",
              "subscription_update",
              "subscription_create",
              "manual",
              "quota_exceeded",
            ][i % 6] ?? null,
          currency: "usd",
          subtotalCents: 1000 * i,
          totalCents: 1000 * i,
          amountDueCents: 1000 * i,
          amountPaidCents: i % 3 === 0 ? 0 : 1000 * i,
          hostedInvoiceUrl: i === 2 ? "https://invoice.example/2" : null,
          periodStart: i === 3 ? new Date("2026-10-01T00:00:00Z") : null,
          periodEnd: i === 3 ? new Date("2026-11-01T00:00:00Z") : null,
          issuedAt: new Date(Date.UTC(2026, Math.floor(i / 2), 1)),
          lines: lines[i % 3] ?? [],
        },
      });
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
    const view = await expectSame(cookie);
    expect(view.greeting).toBe("returning");
    expect(view.alerts.length).toBeGreaterThan(0);
    expect(view.usage.minutesReserved).toBe(5);
    expect(view.usage.lateEvents.minutes).toBe(15);
    expect(view.invoices).toHaveLength(5);
    expect(view.invoices.some((i: { refundedCents: number }) => i.refundedCents > 0)).toBe(true);
    expect(view.invoices.map((i: { lines: unknown[] }) => i.lines.length).sort()).toEqual([0, 1, 1, 3, 3]);
    expect(view.forecast.advice.kind).toBe("stay");
  });

  it("answers the service's JSON for periods that start and end mid-day, or last less than a day", async () => {
    const noon = await signUp("Noon Co");
    await subscribe(noon.accountId, {
      plan: "Starter",
      periodStart: new Date("2026-11-01T14:30:00Z"),
      periodEnd: new Date("2026-12-01T14:30:00Z"),
      createdAt: new Date("2026-10-01T14:30:00Z"),
    });
    // Before the period's start on its first day: October's (late), in the same day's rollup row.
    await report(noon.accountId, 25, { startedAt: new Date("2026-11-01T09:00:00Z") });
    await report(noon.accountId, 30, { startedAt: new Date("2026-11-01T15:00:00Z") });
    await report(noon.accountId, 40, { startedAt: new Date("2026-11-05T01:00:00Z") });
    await report(noon.accountId, 20, { direction: "inbound", startedAt: new Date("2026-11-15T23:00:00Z") });
    const view = await expectSame(noon.cookie);
    expect(view.daily[0]).toMatchObject({ day: "2026-11-01", minutes: 30 });
    expect(view.usage.lateEvents.minutes).toBe(25);

    const short = await signUp("Short Co");
    await subscribe(short.accountId, {
      periodStart: new Date("2026-11-15T14:00:00Z"),
      periodEnd: new Date("2026-11-16T10:00:00Z"),
    });
    await report(short.accountId, 20, { startedAt: new Date("2026-11-15T15:00:00Z") });
    expect((await expectSame(short.cookie)).daily).toHaveLength(2);

    // The period's last day, partial, already under way on the account's test clock.
    const edge = await signUp("Edge Co");
    const sub = await subscribe(edge.accountId, {
      periodStart: new Date("2026-10-16T12:00:00Z"),
      periodEnd: new Date("2026-11-16T12:00:00Z"),
      createdAt: new Date("2026-10-16T12:00:00Z"),
    });
    await db.subscription.update({
      where: { id: sub.id },
      data: { testClockTime: new Date("2026-11-16T06:00:00Z") },
    });
    await report(edge.accountId, 50, { startedAt: new Date("2026-11-10T09:00:00Z") });
    await report(edge.accountId, 35, { startedAt: new Date("2026-11-16T03:00:00Z") });
    const edgeView = await expectSame(edge.cookie);
    expect(edgeView.daily.at(-1)).toMatchObject({ day: "2026-11-16", minutes: 35 });
  });

  it("answers the service's JSON for a renewal not synced yet, its period end clamped to November's 30 days", async () => {
    const { cookie, accountId } = await signUp("Renew Co");
    await subscribe(accountId, {
      periodStart: new Date("2026-09-30T10:00:00Z"),
      periodEnd: new Date("2026-10-31T10:00:00Z"),
    });
    await report(accountId, 45, { startedAt: new Date("2026-11-12T09:00:00Z") });
    const view = await expectSame(cookie);
    expect(view.usage.period).toEqual({ start: "2026-10-31T10:00:00.000Z", end: "2026-11-30T10:00:00.000Z" });
  });

  it("answers the service's JSON with a test clock ahead, a withdrawn downgrade and advice to downgrade", async () => {
    const { cookie, accountId } = await signUp("Clock Co");
    const starter = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Starter" } });
    await subscribe(accountId, {
      plan: "Starter",
      status: "canceled",
      createdAt: new Date("2026-09-01T00:00:00Z"),
      periodStart: new Date("2026-09-01T00:00:00Z"),
      periodEnd: new Date("2026-10-01T00:00:00Z"),
    });
    const live = await subscribe(accountId, { plan: "Enterprise" });
    await db.subscription.update({
      where: { id: live.id },
      data: {
        cancelAtPeriodEnd: true,
        resumeScheduledPlanId: starter.id,
        testClockTime: new Date("2026-12-03T00:00:00Z"),
      },
    });
    await report(accountId, 60, { startedAt: new Date("2026-12-02T00:00:00Z") });
    const view = await expectSame(cookie);
    expect(view.subscription.withdrawnChange.packageName).toBe("Starter");
    expect(view.forecast.advice).toMatchObject({ kind: "downgrade", suggestedPlanName: "Starter" });
    expect(view.forecast.advice.monthlySavings.amount).toBeGreaterThan(0);
  });

  it("answers the service's JSON for heavy use on Pro: advice to upgrade, with what it saves", async () => {
    const { cookie, accountId } = await signUp("Heavy Co");
    await subscribe(accountId);
    await report(accountId, 10_000);
    const view = await expectSame(cookie);
    expect(view.forecast.advice).toMatchObject({ kind: "upgrade", suggestedPlanName: "Enterprise" });
    expect(view.usage.overage.minutes).toBe(7000);
  });

  it("answers the service's JSON in a period's first hour: too early to forecast, or a hard cap reached", async () => {
    const early = await signUp("Early Co");
    const start = new Date("2026-11-15T23:30:00Z");
    const end = new Date("2026-12-15T23:30:00Z");
    await subscribe(early.accountId, { periodStart: start, periodEnd: end });
    await report(early.accountId, 10, { startedAt: new Date("2026-11-15T23:40:00Z") });
    const view = await expectSame(early.cookie);
    expect(view.forecast.tooEarly).toBe(true);
    expect(view.forecast.advice.message).toContain("too early");

    const capped = await signUp("Capped Co");
    await subscribe(capped.accountId, { plan: "Starter", periodStart: start, periodEnd: end });
    await report(capped.accountId, 1000, { startedAt: new Date("2026-11-15T23:40:00Z") });
    const cappedView = await expectSame(capped.cookie);
    expect(cappedView.forecast.capReached).toBe(true);
    expect(cappedView.forecast.advice.message).toContain("lets you keep calling");
  });

  it("answers the service's JSON for past due with a scheduled downgrade, incomplete, and ended", async () => {
    const late = await signUp("Late Co");
    const starter = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Starter" } });
    const sub = await subscribe(late.accountId, { status: "past_due" });
    await db.subscription.update({
      where: { id: sub.id },
      data: { scheduledPlanId: starter.id, scheduledChangeAt: new Date("2026-12-01T00:00:00Z") },
    });
    const lateView = await expectSame(late.cookie);
    expect(lateView.subscription.scheduledChange.packageName).toBe("Starter");
    expect(lateView.quickActions[1].urgent).toBe(true);

    const incomplete = await signUp("Incomplete Co");
    await subscribe(incomplete.accountId, { status: "incomplete" });
    const incompleteView = await expectSame(incomplete.cookie);
    expect(incompleteView.forecast).toBeNull();
    expect(incompleteView.agents.allowed).toBe(0);

    const ended = await signUp("Ended Co");
    await subscribe(ended.accountId, {
      status: "canceled",
      periodStart: new Date("2026-09-01T00:00:00Z"),
      periodEnd: new Date("2026-10-01T00:00:00Z"),
    });
    const endedView = await expectSame(ended.cookie);
    expect(endedView.usage.period.start).toBe("2026-09-01T00:00:00.000Z");
  });

  it("answers the service's JSON on an archived package, which the catalog and the advice leave out", async () => {
    await db.subscriptionPlan.create({
      data: {
        name: "Legacy Analytics",
        description: "Archived",
        monthlyPriceCents: 4900,
        currency: "usd",
        callMinutesLimit: 2000,
        agentsAllowed: 2,
        analyticsAccess: true,
        active: false,
        sortOrder: 9,
      },
    });
    const { cookie, accountId } = await signUp("Legacy Co");
    await subscribe(accountId, { plan: "Legacy Analytics" });
    await report(accountId, 300);
    const view = await expectSame(cookie);
    expect(view.analyticsPackages.map((p: { name: string }) => p.name)).toEqual(["Pro", "Enterprise"]);
  });

  it("answers the service's JSON with a pause in effect (no forecast) and one still to come", async () => {
    const paused = await signUp("Paused Co");
    const row = await subscribe(paused.accountId);
    await report(paused.accountId, 120);
    await db.subscription.update({
      where: { id: row.id },
      data: { pauseBehavior: "void", pauseStartsAt: new Date("2026-11-02T00:00:00Z"), pauseResumesAt: null },
    });
    const view = await expectSame(paused.cookie);
    expect(view.subscription).toMatchObject({
      statusLabel: "Paused",
      pause: { paused: true, resumesAt: null },
    });
    expect(view.forecast).toBeNull();

    const later = await signUp("Pausing Later Co");
    const laterRow = await subscribe(later.accountId);
    await db.subscription.update({
      where: { id: laterRow.id },
      data: {
        pauseBehavior: "void",
        pauseStartsAt: new Date("2026-12-01T00:00:00Z"),
        pauseResumesAt: new Date("2027-01-01T00:00:00Z"),
      },
    });
    const upcoming = await expectSame(later.cookie);
    expect(upcoming.subscription).toMatchObject({ statusLabel: "Active", pause: { paused: false } });
  });

  it("answers the service's JSON for a trial without a card (no forecast) and one with a card", async () => {
    const trying = await signUp("Trying Co");
    const row = await subscribe(trying.accountId);
    await report(trying.accountId, 120);
    await db.subscription.update({
      where: { id: row.id },
      data: {
        status: "trialing",
        trialStart: row.currentPeriodStart,
        trialEnd: new Date(row.currentPeriodEnd.getTime() - 86_400_000),
      },
    });
    const view = await expectSame(trying.cookie);
    expect(view.subscription).toMatchObject({ statusLabel: "Trial", trial: { cardOnFile: false } });
    expect(view.forecast).toBeNull();

    const carded = await signUp("Carded Trial Co");
    const cardedRow = await subscribe(carded.accountId);
    await db.subscription.update({
      where: { id: cardedRow.id },
      data: {
        status: "trialing",
        trialStart: cardedRow.currentPeriodStart,
        trialEnd: cardedRow.currentPeriodEnd,
        defaultPaymentMethodId: "pm_card_visa",
      },
    });
    const withCard = await expectSame(carded.cookie);
    expect(withCard.subscription).toMatchObject({ trial: { cardOnFile: true } });
  });

  it("refuses what the service refuses: no cookie, a forged signature, an expired session", async () => {
    const { cookie } = await signUp("Refused Co");
    for (const url of ["/bench/dashboard", "/bench/dashboard-sql"]) {
      expect((await get(url, undefined)).statusCode).toBe(401);
      expect((await get(url, cookie.replace(/%3D$|=$/, "A%3D"))).statusCode).toBe(401);
    }
    const name = (await auth.$context).authCookies.sessionToken.name;
    const token = sessionTokenOf(cookie, name, SECRET);
    expect(token).not.toBeNull();
    expect(sessionTokenOf(cookie, name, "another-secret-0123456789abcdef0123")).toBeNull();
    await db.session.update({
      where: { token: token ?? "" },
      data: { expiresAt: new Date("2026-01-01T00:00:00Z") },
    });
    expect((await get("/bench/dashboard-sql", cookie)).statusCode).toBe(401);
    expect((await get("/bench/dashboard", cookie)).statusCode).toBe(401);
  });
});
