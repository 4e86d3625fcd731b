// The spend cap on real PostgreSQL: authorization against used + held minutes (concurrently too), overage
// billing clamped to the budget, lowering and raising it, the alerts at 50/80/100% and the audit entries.
import { createPrismaClient, type Database } from "@minutely/db";
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { afterAll, describe, expect, it } from "vitest";
import type { Viewer } from "../../context.ts";
import { testPorts } from "../../testing.ts";
import { type AuthorizeCallInput, authorizeCallRequest } from "./call-authorization.ts";
import {
  billedCents,
  callEvent,
  createAgentRows,
  PERIOD_END,
  runQueuedJobs,
  type SeededPlan,
  stripeSubscribedAccount,
  uniqueSuffix,
  useMinutes,
} from "./metering.fixtures.ts";
import { setSpendCap, spendCapView } from "./spend-cap.ts";
import { ingestUsageEvents } from "./usage-ingest.ts";

const { db, url } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
const { stripe } = ports;

const extraClients: Database[] = [];
afterAll(async () => {
  await Promise.all(extraClients.map((c) => c.$disconnect()));
});

/** An account with an emulated Stripe customer and subscription (Pro: 3,000 included, $0.03 a minute). */
async function customer(plan: SeededPlan = "Pro") {
  const { accountId, ownerEmail, userId, customerId } = await stripeSubscribedAccount(
    db,
    stripe,
    plan,
    "cap",
  );
  const [agent] = await createAgentRows(db, accountId, 1);
  if (!agent) throw new Error("no agent");
  const viewer: Viewer = { userId, email: ownerEmail, name: "Owner", role: "user", accountId };
  return { accountId, agentId: agent.id, customerId, viewer };
}

type Customer = Awaited<ReturnType<typeof customer>>;

function call(who: Customer, direction: AuthorizeCallInput["direction"] = "outbound"): AuthorizeCallInput {
  return { callId: `call-${uniqueSuffix()}`, accountId: who.accountId, agentId: who.agentId, direction };
}

const use = (who: Customer, minutes: number) => useMinutes(ports, who.accountId, minutes);

const billed = (who: Customer) => billedCents(url, ports, who.customerId);

const cap = (amountCents: number) => ({ amountCents, currency: "usd" });

describe("the spend cap", () => {
  it("denies outbound calls with spend_cap_reached once used + held + a reservation pass the budget", async () => {
    const who = await customer();
    // $3.00 at $0.03 pays for 100 minutes beyond the 3,000 included.
    await setSpendCap(ports, who.viewer, who.accountId, cap(300));
    await use(who, 3090);
    const first = await authorizeCallRequest(ports, call(who));
    expect(first).toMatchObject({ decision: "allow", maxDurationSeconds: 600 });
    const second = await authorizeCallRequest(ports, call(who));
    expect(second).toMatchObject({ decision: "allow", maxDurationSeconds: 300 });
    expect(await authorizeCallRequest(ports, call(who))).toMatchObject({
      decision: "deny",
      reason: "spend_cap_reached",
    });
    // Inbound calls are answered beyond it (the over-cap rule), their minutes past the budget unbilled.
    expect(await authorizeCallRequest(ports, call(who, "inbound"))).toMatchObject({
      decision: "allow",
      overCap: true,
      maxDurationSeconds: null,
    });
  });

  it("never lets 50 concurrent authorizations together overshoot the budget", async () => {
    const who = await customer();
    await setSpendCap(ports, who.viewer, who.accountId, cap(60)); // 20 minutes
    await use(who, 3000);
    const replicas = Array.from({ length: 5 }, () => {
      const c = createPrismaClient(url, { poolSize: 10 });
      extraClients.push(c);
      return { ...ports, db: c };
    });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        authorizeCallRequest(replicas[i % replicas.length] ?? ports, call(who)),
      ),
    );
    expect(results.filter((r) => r.decision === "allow")).toHaveLength(4);
    expect(results.filter((r) => r.decision === "deny" && r.reason === "spend_cap_reached")).toHaveLength(46);
  });

  it("bills overage up to the budget only, even for minutes that still arrive beyond it", async () => {
    const who = await customer();
    await setSpendCap(ports, who.viewer, who.accountId, cap(500)); // 166 minutes, $4.98
    await use(who, 3000 + 400);
    expect(await billed(who)).toBe(498);
    const view = await spendCapView(ports, who.accountId);
    expect(view.status).toMatchObject({ spentCents: 498, reached: true, percentage: 100 });
    await use(who, 50);
    expect(await billed(who)).toBe(498);
  });

  it("lowering it reverses nothing and denies at once; raising it allows at once and bills up to the new budget", async () => {
    const who = await customer();
    await use(who, 3100);
    expect(await billed(who)).toBe(300);
    await setSpendCap(ports, who.viewer, who.accountId, cap(100));
    expect(await authorizeCallRequest(ports, call(who))).toMatchObject({ reason: "spend_cap_reached" });
    await use(who, 10);
    expect(await billed(who)).toBe(300);
    // Raised to $4.50 (150 minutes): the 110 minutes used are billed (330), calls go on at once.
    await setSpendCap(ports, who.viewer, who.accountId, cap(450));
    expect(await billed(who)).toBe(330);
    expect(await authorizeCallRequest(ports, call(who))).toMatchObject({ decision: "allow" });
    // Removed: no budget, nothing caps the calls.
    await setSpendCap(ports, who.viewer, who.accountId, null);
    expect(await authorizeCallRequest(ports, call(who))).toMatchObject({
      decision: "allow",
      maxDurationSeconds: null,
    });
  });

  it("alerts at 50%, 80% and 100% of the budget, once each per period, and emails the highest", async () => {
    const who = await customer();
    await setSpendCap(ports, who.viewer, who.accountId, cap(300)); // 100 minutes
    await use(who, 3049);
    await use(who, 1); // 50 minutes: $1.50 = 50%
    await use(who, 40); // 90 minutes: 80% passed
    await use(who, 30); // 120 minutes: 100%
    await use(who, 30);
    const alerts = await db.usageAlert.findMany({
      where: { accountId: who.accountId, kind: "spend_cap" },
      orderBy: { thresholdPercent: "asc" },
    });
    expect(alerts.map((a) => [a.thresholdPercent, a.minutesUsed])).toEqual([
      [50, 3050],
      [80, 3090],
      [100, 3120],
    ]);
    expect(alerts[2]?.message).toContain("Outbound calls are paused");
    expect(await runQueuedJobs(url, ports)).toEqual([]);
    const mails = await db.mailMessage.findMany({
      where: { to: who.viewer.email, subject: { contains: "overage budget" } },
    });
    const mine = mails.filter((m) => m.text.includes("$3.00"));
    expect(mine.map((m) => m.subject).sort()).toEqual([
      "Minutely: 50% of your overage budget used",
      "Minutely: 80% of your overage budget used",
      "Minutely: overage budget used up, outbound calls paused",
    ]);
  });

  it("one update past several budget thresholds records each, but emails only the highest", async () => {
    const who = await customer();
    await setSpendCap(ports, who.viewer, who.accountId, cap(300));
    await use(who, 3200);
    expect(await runQueuedJobs(url, ports)).toEqual([]);
    const alerts = await db.usageAlert.findMany({
      where: { accountId: who.accountId, kind: "spend_cap" },
      orderBy: { thresholdPercent: "asc" },
    });
    expect(alerts.map((a) => [a.thresholdPercent, a.emailedAt !== null])).toEqual([
      [50, false],
      [80, false],
      [100, true],
    ]);
    expect(alerts[0]?.message).toContain(
      "passed 50% of your $3.00 budget and, in the same update, reached all of it",
    );
    const mails = await db.mailMessage.findMany({
      where: { to: who.viewer.email, subject: { contains: "overage budget" } },
    });
    expect(mails.map((m) => m.subject)).toEqual(["Minutely: overage budget used up, outbound calls paused"]);
  });

  it("records every change in the account's audit log, and none for a repeat of the same value", async () => {
    const who = await customer();
    await setSpendCap(ports, who.viewer, who.accountId, cap(5000));
    await setSpendCap(ports, who.viewer, who.accountId, cap(5000));
    await setSpendCap(ports, who.viewer, who.accountId, cap(7000));
    await setSpendCap(ports, who.viewer, who.accountId, null);
    const entries = await db.auditLog.findMany({
      where: { entityType: "account", entityId: who.accountId },
      orderBy: { createdAt: "asc" },
    });
    expect(entries.map((e) => [e.action, e.actorEmail, e.before, e.after])).toEqual([
      ["spend_cap.set", who.viewer.email, { spendCap: null }, { spendCap: cap(5000) }],
      ["spend_cap.set", who.viewer.email, { spendCap: cap(5000) }, { spendCap: cap(7000) }],
      ["spend_cap.remove", who.viewer.email, { spendCap: cap(7000) }, { spendCap: null }],
    ]);
  });

  it("a late call of a closed period is billed by that period's budget, not by a budget raised after it ended", async () => {
    const who = await customer();
    await setSpendCap(ports, who.viewer, who.accountId, cap(300)); // 100 minutes in November
    await use(who, 3100);
    expect(await billed(who)).toBe(300);
    // Renewal: December is the current period; the customer raises the budget for it.
    await db.subscription.updateMany({
      where: { accountId: who.accountId },
      data: { currentPeriodStart: PERIOD_END, currentPeriodEnd: new Date("2027-01-01T00:00:00Z") },
    });
    const before = clock.now();
    clock.set(new Date("2026-12-05T12:00:00Z"));
    try {
      await setSpendCap(ports, who.viewer, who.accountId, cap(30_000));
      // A November call reported late (after the renewal): November's highest budget was $3.00.
      const late = await ingestUsageEvents(ports, [
        callEvent(who.accountId, 500 * 60, { startedAt: new Date("2026-11-20T10:00:00Z") }),
      ]);
      expect(late.results[0]).toMatchObject({ status: "accepted", late: true });
      expect(await billed(who)).toBe(300);
    } finally {
      clock.set(before);
    }
  });

  it("an authorization racing a lowering of the budget is decided by the lowered budget", async () => {
    const who = await customer();
    await setSpendCap(ports, who.viewer, who.accountId, cap(30_000));
    await use(who, 3100);
    // The customer lowers the budget to $3.00 (100 minutes, all used) while the authorization is under way:
    // after its reads, before its transaction takes the period's lock.
    const racing = new Proxy(db, {
      get(target, prop, receiver) {
        if (prop === "$transaction") {
          return async (...args: unknown[]) => {
            await setSpendCap(ports, who.viewer, who.accountId, cap(300));
            return (target.$transaction as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return Reflect.get(target, prop, receiver);
      },
    }) as Database;
    const decision = await authorizeCallRequest({ ...ports, db: racing }, call(who));
    expect(decision).toMatchObject({ decision: "deny", reason: "spend_cap_reached" });
  });

  it("after lowering the budget below what was billed, the spend shown is what is billed", async () => {
    const who = await customer();
    await setSpendCap(ports, who.viewer, who.accountId, cap(30_000));
    await use(who, 3200);
    expect(await billed(who)).toBe(600);
    await setSpendCap(ports, who.viewer, who.accountId, cap(300));
    expect(await billed(who)).toBe(600); // nothing reversed
    const view = await spendCapView(ports, who.accountId);
    expect(view.status).toMatchObject({ reached: true, spentCents: 600 });
  });

  it("a budget lowered below the overage used alerts that outbound calls are paused", async () => {
    const who = await customer();
    await setSpendCap(ports, who.viewer, who.accountId, cap(30_000));
    await use(who, 3100);
    await setSpendCap(ports, who.viewer, who.accountId, cap(150)); // 50 minutes: used up
    expect(await authorizeCallRequest(ports, call(who))).toMatchObject({ reason: "spend_cap_reached" });
    await use(who, 5); // inbound minutes keep arriving
    const alerts = await db.usageAlert.findMany({
      where: { accountId: who.accountId, kind: "spend_cap", thresholdPercent: 100 },
    });
    expect(alerts).toHaveLength(1);
  });

  it("a raised budget that is used up again tells the customer outbound calls are paused again", async () => {
    const who = await customer();
    await setSpendCap(ports, who.viewer, who.accountId, cap(300)); // 100 minutes
    await use(who, 3100);
    expect(await authorizeCallRequest(ports, call(who))).toMatchObject({ reason: "spend_cap_reached" });
    await setSpendCap(ports, who.viewer, who.accountId, cap(600)); // 200 minutes: calls resume
    expect(await authorizeCallRequest(ports, call(who))).toMatchObject({ decision: "allow" });
    await use(who, 100); // the new budget is used up: calls paused again
    expect(await authorizeCallRequest(ports, call(who))).toMatchObject({ reason: "spend_cap_reached" });
    const used = await db.usageAlert.findMany({
      where: { accountId: who.accountId, kind: "spend_cap", thresholdPercent: 100 },
      // The test's clock stands still: both alerts have the same createdAt, so order by budget.
      orderBy: { budgetCents: "asc" },
    });
    // One for the $3.00 budget used up, and one for the $6.00 budget used up.
    expect(used.map((a) => [a.budgetCents, a.minutesUsed])).toEqual([
      [300, 3100],
      [600, 3200],
    ]);
  });

  it("refuses bad budgets naming the field", async () => {
    const who = await customer();
    const starter = await customer("Starter");
    const refusal = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (error) {
        return { code: (error as { code: string }).code, field: (error as { field?: string }).field };
      }
      throw new Error("expected a refusal");
    };
    for (const amountCents of [-1, 1.5, 10_000_001, Number.NaN]) {
      expect(await refusal(setSpendCap(ports, who.viewer, who.accountId, cap(amountCents)))).toEqual({
        code: "BAD_REQUEST",
        field: "amountCents",
      });
    }
    expect(
      await refusal(setSpendCap(ports, who.viewer, who.accountId, { amountCents: 100, currency: "eur" })),
    ).toEqual({ code: "BAD_REQUEST", field: "currency" });
    expect(await refusal(setSpendCap(ports, starter.viewer, starter.accountId, cap(100)))).toEqual({
      code: "BAD_REQUEST",
      field: "amountCents",
    });
    expect(await spendCapView(ports, who.accountId)).toMatchObject({ cap: null, available: true });
    expect(await spendCapView(ports, starter.accountId)).toMatchObject({ cap: null, available: false });
  });
});
