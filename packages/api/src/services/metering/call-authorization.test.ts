import { createPrismaClient, type Database } from "@minutely/db";
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock, MS_PER_MINUTE } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { afterAll, describe, expect, it } from "vitest";
import { testPorts } from "../../testing.ts";
import { accountsNearLimit } from "../admin/usage.ts";
import {
  type AuthorizeCallInput,
  authorizeCallRequest,
  RESERVATION_MINUTES,
  RESERVATION_TTL_MS,
} from "./call-authorization.ts";
import {
  callEvent,
  createAccount,
  createAgentRows,
  PERIOD_START,
  subscribe,
  uniqueSuffix,
} from "./metering.fixtures.ts";
import { reportOverage } from "./overage.ts";
import { ingestUsageEvents } from "./usage-ingest.ts";
import { currentUsage } from "./usage-read.ts";

const { db, url } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });

const extraClients: Database[] = [];
afterAll(async () => {
  await Promise.all(extraClients.map((c) => c.$disconnect()));
});

async function customer(plan: "Starter" | "Pro", minutesUsed = 0) {
  const { accountId } = await createAccount(db);
  await subscribe(db, accountId, { plan });
  const [agent] = await createAgentRows(db, accountId, 1);
  if (!agent) throw new Error("no agent");
  if (minutesUsed > 0) {
    const events = [];
    for (let left = minutesUsed; left > 0; left -= 1000)
      events.push(callEvent(accountId, Math.min(left, 1000) * 60));
    await ingestUsageEvents(ports, events);
  }
  return { accountId, agentId: agent.id };
}

function call(
  who: { accountId: string; agentId: string },
  direction: AuthorizeCallInput["direction"] = "outbound",
): AuthorizeCallInput {
  return { callId: `call-${uniqueSuffix()}`, accountId: who.accountId, agentId: who.agentId, direction };
}

async function heldMinutes(accountId: string) {
  const sum = await db.callReservation.aggregate({
    where: { accountId, status: "held", expiresAt: { gt: clock.now() } },
    _sum: { minutes: true },
  });
  return sum._sum.minutes ?? 0;
}

describe("authorizing a call", () => {
  it("allows and reserves minutes, and answers a repeated request with the same reservation", async () => {
    const who = await customer("Starter");
    const request = call(who);
    const first = await authorizeCallRequest(ports, request);
    expect(first).toEqual({
      decision: "allow",
      callId: request.callId,
      reservedMinutes: RESERVATION_MINUTES,
      expiresAt: new Date(clock.now().getTime() + RESERVATION_TTL_MS),
      overCap: false,
      replayed: false,
      maxDurationSeconds: 1000 * 60,
    });
    clock.advance(MS_PER_MINUTE);
    const again = await authorizeCallRequest(ports, request);
    expect(again).toMatchObject({ decision: "allow", reservedMinutes: 5, replayed: true });
    expect(again.decision === "allow" && again.expiresAt).toEqual(
      first.decision === "allow" && first.expiresAt,
    );
    expect(await db.callReservation.count({ where: { accountId: who.accountId } })).toBe(1);
    expect((await currentUsage(ports, who.accountId))?.minutesReserved).toBe(5);
  });

  it("keys a call by (account_id, call_id): another account's call_id is another call, another agent or direction a conflict", async () => {
    const who = await customer("Pro");
    const other = await customer("Pro");
    const request = call(who);
    expect((await authorizeCallRequest(ports, request)).decision).toBe("allow");
    expect(
      await authorizeCallRequest(ports, { ...request, accountId: other.accountId, agentId: other.agentId }),
    ).toMatchObject({ decision: "allow", replayed: false });
    expect(await authorizeCallRequest(ports, { ...request, direction: "inbound" })).toMatchObject({
      decision: "deny",
      reason: "call_id_conflict",
    });
    const [second] = await createAgentRows(db, who.accountId, 1);
    expect(await authorizeCallRequest(ports, { ...request, agentId: second?.id ?? "" })).toMatchObject({
      decision: "deny",
      reason: "call_id_conflict",
    });
    expect(await authorizeCallRequest(ports, request)).toMatchObject({ decision: "allow", replayed: true });
    // The usage event settles its own account's reservation only.
    await ingestUsageEvents(ports, [
      callEvent(who.accountId, 60, { callId: request.callId, agentId: who.agentId }),
    ]);
    const statuses = await db.callReservation.findMany({
      where: { callId: request.callId },
      select: { accountId: true, status: true },
    });
    expect(statuses.map((r) => [r.accountId === who.accountId ? "who" : "other", r.status]).sort()).toEqual([
      ["other", "held"],
      ["who", "settled"],
    ]);
  });

  it("tells the platform how long a call may last, and records minutes beyond a hard cap without billing them", async () => {
    // The probe: Starter at 990 of 1,000 minutes, then a 120-minute outbound call.
    const who = await customer("Starter", 990);
    const long = call(who, "outbound");
    expect(await authorizeCallRequest(ports, long)).toMatchObject({
      decision: "allow",
      maxDurationSeconds: 10 * 60,
    });
    // Another call starts meanwhile: the two share what is left, each told what is left when it starts,
    // and a replay of the first is told afresh (its own reservation is not counted against it).
    expect(await authorizeCallRequest(ports, call(who, "outbound"))).toMatchObject({
      decision: "allow",
      maxDurationSeconds: 5 * 60,
    });
    expect(await authorizeCallRequest(ports, long)).toMatchObject({
      replayed: true,
      maxDurationSeconds: 5 * 60,
    });
    // Inbound calls are answered beyond the cap, and overage packages are not capped: null.
    expect(await authorizeCallRequest(ports, call(who, "inbound"))).toMatchObject({
      decision: "allow",
      maxDurationSeconds: null,
    });
    const pro = await customer("Pro", 2990);
    expect(await authorizeCallRequest(ports, call(pro))).toMatchObject({ maxDurationSeconds: null });

    // The platform did not end the call: all 120 minutes are recorded, 110 of them beyond the cap, shown,
    // and not billed.
    await ingestUsageEvents(ports, [
      callEvent(who.accountId, 120 * 60, { callId: long.callId, agentId: who.agentId }),
    ]);
    const usage = await currentUsage(ports, who.accountId);
    expect(usage).toMatchObject({
      minutesUsed: 1110,
      minutesRemaining: 0,
      overage: { policy: "hard_cap", minutes: 0, overCapMinutes: 110, cost: { amount: 0 } },
    });
    const near = await accountsNearLimit(ports, { page: 1, pageSize: 100, minPercent: 100 });
    expect(near.items.find((a) => a.accountId === who.accountId)).toMatchObject({
      minutesUsed: 1110,
      overCapMinutes: 110,
      overagePolicy: "hard_cap",
    });
    expect(await reportOverage(ports, { accountId: who.accountId, periodStart: PERIOD_START })).toBeNull();
    // The cap is used up: the next outbound call may not start.
    expect(await authorizeCallRequest(ports, call(who, "outbound"))).toMatchObject({
      decision: "deny",
      reason: "minutes_exhausted",
    });
  });

  it("denies every call of a paused subscription (subscription_paused) from the pause's start, failing closed", async () => {
    const who = await customer("Pro");
    const row = await db.subscription.findFirstOrThrow({ where: { accountId: who.accountId } });
    // A pause set now takes effect at the end of the paid period: calls are allowed until then.
    const later = new Date(clock.now().getTime() + 24 * 60 * MS_PER_MINUTE);
    await db.subscription.update({
      where: { id: row.id },
      data: { pauseBehavior: "void", pauseStartsAt: later, pauseResumesAt: null },
    });
    expect(await authorizeCallRequest(ports, call(who))).toMatchObject({ decision: "allow" });
    // In effect (from the start, and past resumes_at until the resume is synced): denied, whatever is left.
    await db.subscription.update({
      where: { id: row.id },
      data: { pauseStartsAt: row.currentPeriodStart, pauseResumesAt: new Date(clock.now().getTime() - 1) },
    });
    for (const direction of ["outbound", "inbound"] as const) {
      expect(await authorizeCallRequest(ports, call(who, direction))).toMatchObject({
        decision: "deny",
        reason: "subscription_paused",
      });
    }
    // Stripe's status paused (a trial ended without a card) is paused too.
    await db.subscription.update({
      where: { id: row.id },
      data: { status: "paused", pauseBehavior: null, pauseStartsAt: null, pauseResumesAt: null },
    });
    expect(await authorizeCallRequest(ports, call(who))).toMatchObject({ reason: "subscription_paused" });
    // Resumed: allowed again.
    await db.subscription.update({ where: { id: row.id }, data: { status: "active" } });
    expect(await authorizeCallRequest(ports, call(who))).toMatchObject({ decision: "allow" });
  });

  it("denies with a reason when the account, agent or subscription does not allow calls", async () => {
    const who = await customer("Pro");
    const other = await customer("Pro");
    const inactive = (await createAgentRows(db, who.accountId, 1, false))[0];
    const unsubscribed = await createAccount(db);
    const [unsubscribedAgent] = await createAgentRows(db, unsubscribed.accountId, 1);
    const canceled = await createAccount(db);
    await subscribe(db, canceled.accountId, { status: "canceled" });
    const [canceledAgent] = await createAgentRows(db, canceled.accountId, 1);
    const reasons = [];
    for (const request of [
      { ...call(who), accountId: "11111111-2222-4333-8444-555555555555" },
      { ...call(who), accountId: "nope" },
      { ...call(who), agentId: other.agentId },
      { ...call(who), agentId: "nope" },
      { ...call(who), agentId: inactive?.id ?? "" },
      call({ accountId: unsubscribed.accountId, agentId: unsubscribedAgent?.id ?? "" }),
      call({ accountId: canceled.accountId, agentId: canceledAgent?.id ?? "" }),
    ]) {
      const result = await authorizeCallRequest(ports, request);
      reasons.push(result.decision === "deny" ? result.reason : "allow");
    }
    expect(reasons).toEqual([
      "unknown_account",
      "unknown_account",
      "unknown_agent",
      "unknown_agent",
      "agent_inactive",
      "no_active_subscription",
      "no_active_subscription",
    ]);
    expect(await db.callReservation.count({ where: { accountId: who.accountId } })).toBe(0);
  });

  it("records on the period the plan its calls were authorized under", async () => {
    const who = await customer("Starter");
    expect((await authorizeCallRequest(ports, call(who))).decision).toBe("allow");
    const starter = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Starter" } });
    const [period] = await db.usagePeriodRollup.findMany({ where: { accountId: who.accountId } });
    expect(period).toMatchObject({
      minutes: 0,
      planId: starter.id,
      callMinutesLimit: starter.callMinutesLimit,
      overagePriceCentsPerMinute: starter.overagePriceCentsPerMinute,
    });
  });

  it("lets overage packages call beyond the included minutes", async () => {
    const who = await customer("Pro", 3100);
    expect(await authorizeCallRequest(ports, call(who))).toMatchObject({ decision: "allow", overCap: false });
  });

  it("pauses outbound calls at a hard cap and keeps answering inbound ones", async () => {
    const who = await customer("Starter", 998);
    expect(await authorizeCallRequest(ports, call(who, "outbound"))).toMatchObject({
      decision: "deny",
      reason: "minutes_exhausted",
      message: expect.stringMatching(/1000 included minutes are used up/),
    });
    expect(await authorizeCallRequest(ports, call(who, "inbound"))).toMatchObject({
      decision: "allow",
      overCap: true,
    });
  });

  it("never lets 50 concurrent authorizations together overshoot a hard cap", async () => {
    const who = await customer("Starter", 980);
    const replicas = Array.from({ length: 5 }, () => {
      const c = createPrismaClient(url, { poolSize: 10 });
      extraClients.push(c);
      return { ...ports, db: c };
    });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        authorizeCallRequest(replicas[i % replicas.length] ?? ports, call(who, "outbound")),
      ),
    );
    const allowed = results.filter((r) => r.decision === "allow");
    // 20 minutes left, 5 reserved per call: exactly 4 fit.
    expect(allowed).toHaveLength(4);
    expect(results.filter((r) => r.decision === "deny" && r.reason === "minutes_exhausted")).toHaveLength(46);
    const used = (await currentUsage(ports, who.accountId))?.minutesUsed ?? 0;
    expect(used + (await heldMinutes(who.accountId))).toBe(1000);
  });

  it("settles a reservation with the call's usage event, and lets unsettled ones expire", async () => {
    const who = await customer("Starter", 983);
    const a = call(who);
    const b = call(who);
    expect((await authorizeCallRequest(ports, a)).decision).toBe("allow");
    expect((await authorizeCallRequest(ports, b)).decision).toBe("allow");
    expect((await authorizeCallRequest(ports, call(who))).decision).toBe("allow");
    // 983 used + 15 held: a fourth call's 5 minutes do not fit.
    expect((await authorizeCallRequest(ports, call(who))).decision).toBe("deny");

    // Call a took 2 minutes: its 5 reserved minutes become 2 used ones, so another call fits again.
    await ingestUsageEvents(ports, [
      callEvent(who.accountId, 120, { callId: a.callId, agentId: who.agentId }),
    ]);
    expect(
      await db.callReservation.findUnique({
        where: { accountId_callId: { accountId: who.accountId, callId: a.callId } },
      }),
    ).toMatchObject({
      status: "settled",
    });
    expect(await heldMinutes(who.accountId)).toBe(10);
    expect((await authorizeCallRequest(ports, call(who))).decision).toBe("allow");
    expect((await authorizeCallRequest(ports, call(who))).decision).toBe("deny");

    // Nothing reported the other calls within 30 minutes: their reservations stop counting.
    clock.advance(RESERVATION_TTL_MS + MS_PER_MINUTE);
    expect(await heldMinutes(who.accountId)).toBe(0);
    expect((await authorizeCallRequest(ports, call(who))).decision).toBe("allow");
    expect(
      await db.callReservation.findUnique({
        where: { accountId_callId: { accountId: who.accountId, callId: b.callId } },
      }),
    ).toMatchObject({
      status: "expired",
    });
  });
});
