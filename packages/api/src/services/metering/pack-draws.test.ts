// Prepaid minute packs in metering, on real PostgreSQL: minutes beyond the included ones are drawn from
// packs (oldest-expiring first) before any is overage or the hard cap applies; call authorization counts
// pack minutes under the period lock (50 concurrent calls never overdraw a pack); expired packs are not
// drawn; a minute already billed as overage is never drawn; the ledger balances.
import { createPrismaClient, type Database } from "@minutely/db";
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { afterAll, describe, expect, it } from "vitest";
import { testPorts } from "../../testing.ts";
import { grantPack, packLedgerView } from "../packs/grants.ts";
import { type AuthorizeCallInput, authorizeCallRequest } from "./call-authorization.ts";
import {
  billedCents,
  createAgentRows,
  PERIOD_START,
  type SeededPlan,
  stripeSubscribedAccount,
  uniqueSuffix,
  useMinutes,
} from "./metering.fixtures.ts";
import { reportOverage, withdrawCurrentOverage } from "./overage.ts";

const { db, url } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
const { stripe } = ports;

const extraClients: Database[] = [];
afterAll(async () => {
  await Promise.all(extraClients.map((c) => c.$disconnect()));
});

/** An account with an emulated Stripe subscription: Pro (3,000 included, $0.03) or Starter (1,000, hard cap). */
async function customer(plan: SeededPlan = "Pro") {
  const { accountId, customerId } = await stripeSubscribedAccount(db, stripe, plan, "packs");
  const [agent] = await createAgentRows(db, accountId, 1);
  if (!agent) throw new Error("no agent");
  return { accountId, agentId: agent.id, customerId };
}
type Customer = Awaited<ReturnType<typeof customer>>;

async function buy(
  who: Customer,
  minutes: number,
  grantedAt = new Date("2026-11-20T00:00:00Z"),
  months = 12,
) {
  await grantPack(db, {
    accountId: who.accountId,
    packId: null,
    sourceKey: `test:${uniqueSuffix()}`,
    minutes,
    priceCents: minutes * 2,
    currency: "usd",
    validityMonths: months,
    grantedAt,
  });
}

function call(who: Customer): AuthorizeCallInput {
  return {
    callId: `call-${uniqueSuffix()}`,
    accountId: who.accountId,
    agentId: who.agentId,
    direction: "outbound",
  };
}

const use = (who: Customer, minutes: number) => useMinutes(ports, who.accountId, minutes);

const billed = (who: Customer) => billedCents(url, ports, who.customerId);

async function drawn(who: Customer) {
  const row = await db.usagePeriodRollup.findUniqueOrThrow({
    where: { accountId_periodStart: { accountId: who.accountId, periodStart: PERIOD_START } },
  });
  return row.packMinutesDrawn;
}

describe("minute packs in metering", () => {
  it("draws minutes beyond the included ones from packs first, then bills overage for the rest only", async () => {
    const who = await customer();
    await buy(who, 1000);
    await use(who, 3500);
    expect(await drawn(who)).toBe(500);
    expect(await billed(who)).toBe(0);
    await use(who, 700);
    expect(await drawn(who)).toBe(1000);
    // 4,200 used: 3,000 included, 1,000 from the pack, 200 overage at $0.03.
    expect(await billed(who)).toBe(600);
    const ledger = await packLedgerView(ports, who.accountId);
    expect(ledger.totals).toEqual({ bought: 1000, used: 1000, expired: 0, remaining: 0 });
    expect(ledger.periods).toEqual([{ periodStart: PERIOD_START, minutes: 1000 }]);
  });

  it("takes the oldest-expiring pack first and never an expired one", async () => {
    const who = await customer();
    await buy(who, 100, new Date("2026-03-01T00:00:00Z"), 12); // expires 2027-03-01
    await buy(who, 100, new Date("2026-11-01T00:00:00Z"), 1); // expires 2026-12-01: first
    await buy(who, 500, new Date("2025-11-01T00:00:00Z"), 12); // expired 2026-11-01
    await use(who, 3150);
    const ledger = await packLedgerView(ports, who.accountId);
    expect(ledger.grants.map((g) => [g.minutes, g.used, g.state])).toEqual([
      [500, 0, "expired"],
      [100, 100, "used_up"],
      [100, 50, "active"],
    ]);
    expect(ledger.totals).toEqual({ bought: 700, used: 150, expired: 500, remaining: 50 });
    expect(ledger.balance).toEqual({
      minutes: 50,
      nextExpiry: { at: new Date("2027-03-01T00:00:00Z"), minutes: 50 },
    });
  });

  it("never draws a minute already billed as overage from a pack bought later", async () => {
    const who = await customer();
    await use(who, 3100);
    expect(await billed(who)).toBe(300);
    await buy(who, 1000);
    await use(who, 10);
    expect(await drawn(who)).toBe(10);
    expect(await billed(who)).toBe(300);
  });

  it("extends a hard cap by the pack's minutes in call authorization", async () => {
    const who = await customer("Starter");
    await use(who, 1000);
    expect(await authorizeCallRequest(ports, call(who))).toMatchObject({
      decision: "deny",
      reason: "minutes_exhausted",
    });
    await buy(who, 7);
    expect(await authorizeCallRequest(ports, call(who))).toMatchObject({
      decision: "allow",
      maxDurationSeconds: 7 * 60,
    });
    expect(await authorizeCallRequest(ports, call(who))).toMatchObject({ reason: "minutes_exhausted" });
  });

  it("never lets 50 concurrent authorizations together overdraw a pack", async () => {
    const who = await customer("Starter");
    await use(who, 1000);
    await buy(who, 100); // 20 reservations of 5 minutes
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
    expect(results.filter((r) => r.decision === "allow")).toHaveLength(20);
    expect(results.filter((r) => r.decision === "deny" && r.reason === "minutes_exhausted")).toHaveLength(30);
  });

  it("an upgrade's withdrawal gives the period's pack minutes back, drawn again by the next decision", async () => {
    const who = await customer();
    await buy(who, 1000);
    await use(who, 3500);
    expect(await drawn(who)).toBe(500);
    await withdrawCurrentOverage(ports, {
      accountId: who.accountId,
      customerId: who.customerId,
      periodStart: PERIOD_START,
    });
    expect(await drawn(who)).toBe(0);
    expect((await packLedgerView(ports, who.accountId)).totals).toEqual({
      bought: 1000,
      used: 0,
      expired: 0,
      remaining: 1000,
    });
    // Decided again (by the same package here): drawn again, nothing billed.
    expect(await reportOverage(ports, { accountId: who.accountId, periodStart: PERIOD_START })).toBeNull();
    expect(await drawn(who)).toBe(500);
    expect(await billed(who)).toBe(0);
  });

  it("grants one pack per payment, however often it is granted", async () => {
    const who = await customer();
    const input = {
      accountId: who.accountId,
      packId: null,
      sourceKey: `checkout:cs_${uniqueSuffix()}`,
      minutes: 1000,
      priceCents: 2500,
      currency: "usd" as const,
      validityMonths: 12,
      grantedAt: clock.now(),
    };
    const results = await Promise.all([grantPack(db, input), grantPack(db, input), grantPack(db, input)]);
    expect(results.filter((r) => r === "granted")).toHaveLength(1);
    expect(results.filter((r) => r === "granted_before")).toHaveLength(2);
    expect((await packLedgerView(ports, who.accountId)).totals.bought).toBe(1000);
  });
});
