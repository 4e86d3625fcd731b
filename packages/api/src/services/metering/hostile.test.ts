// Hostile tests of usage ingestion and call authorization, written by a tester who did not write the code,
// after their rewrite into data-modifying CTEs and JSON reads: each states the product's promise it checks.
// Races with a deleting account, a report waiting on a lock an authorization holds, ids in upper case,
// batches of many accounts, periods, replays and conflicts, concurrent clients, test clocks.
import { randomUUID } from "node:crypto";
import { testDatabase } from "@minutely/db/vitest";
import { billableMinutes, fixedClock, MS_PER_DAY, MS_PER_MINUTE } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { testPorts } from "../../testing.ts";
import { authorizeCallRequest, RESERVATION_TTL_MS } from "./call-authorization.ts";
import {
  callEvent,
  createAccount,
  createAgentRows,
  dailyRollupAndRecount,
  deletingAccountBeforeTransaction,
  PERIOD_START,
  recountPeriods,
  replicaClients,
  rollupPeriods,
  seededRandom,
  shuffle,
  subscribe,
} from "./metering.fixtures.ts";
import { ingestUsageEvents, type UsageEventInput } from "./usage-ingest.ts";
import { currentUsage } from "./usage-read.ts";

const { db, url } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });

const { client, portsOn } = replicaClients(url, ports, 3);

async function expectRollupsTrue(accountId: string) {
  expect(await rollupPeriods(db, accountId)).toEqual(await recountPeriods(db, accountId));
  const daily = await dailyRollupAndRecount(db, accountId);
  expect(daily.rollup).toEqual(daily.recount);
}

async function customer(plan: "Starter" | "Pro" = "Pro", agents = 1) {
  const { accountId } = await createAccount(db);
  await subscribe(db, accountId, { plan, createdAt: new Date("2026-10-01T00:00:00Z") });
  const rows = await createAgentRows(db, accountId, agents);
  return { accountId, agentIds: rows.map((a) => a.id) };
}

describe("ingestion: ids in upper case", () => {
  it("an upper-case account_id is the same account (service level)", async () => {
    const { accountId } = await customer();
    const result = await ingestUsageEvents(ports, [callEvent(accountId.toUpperCase(), 61)]);
    expect(result.results[0]).toMatchObject({ status: "accepted", billableMinutes: 2 });
  });

  it("an upper-case agent_id is the same agent (service level)", async () => {
    const { accountId, agentIds } = await customer();
    const result = await ingestUsageEvents(ports, [
      callEvent(accountId, 61, { agentId: agentIds[0]?.toUpperCase() }),
    ]);
    expect(result.results[0]).toMatchObject({ status: "accepted" });
  });

  it("a call reported with its agent in lower case, then upper case, is a duplicate once accepted", async () => {
    const { accountId, agentIds } = await customer();
    const agentId = agentIds[0] as string;
    const e = callEvent(accountId, 61, { agentId });
    expect((await ingestUsageEvents(ports, [e])).results[0]?.status).toBe("accepted");
    const again = await ingestUsageEvents(ports, [{ ...e, agentId: agentId.toUpperCase() }]);
    // Either unknown_agent (upper case refused) or duplicate; never a second count.
    expect(again.results[0]?.status).not.toBe("accepted");
    expect((await currentUsage(ports, accountId))?.minutesUsed).toBe(2);
  });
});

describe("ingestion: one bad event never fails the others", () => {
  it("an account deleted between the read and the write: its events are account_deleted, the other account's count", async () => {
    const doomed = await customer();
    const survivor = await customer();
    // The deletion lands after the batch's read (loadMeteringContext) and before its write transaction.
    const racing = deletingAccountBeforeTransaction(db, doomed.accountId);
    const result = await ingestUsageEvents({ ...ports, db: racing }, [
      callEvent(survivor.accountId, 60),
      callEvent(doomed.accountId, 60),
    ]);
    // It existed when the batch was read: the write finds it gone (docs/accounts.md).
    expect(result.results).toMatchObject([
      { status: "accepted" },
      { status: "rejected", reason: "account_deleted" },
    ]);
  });
});

describe("ingestion: batches of several accounts, periods, replays", () => {
  it("empty batch answers zeros and writes nothing", async () => {
    expect(await ingestUsageEvents(ports, [])).toEqual({
      results: [],
      accepted: 0,
      duplicates: 0,
      rejected: 0,
      late: 0,
    });
  });

  it("a 1000-event batch of 7 accounts, 2 periods, agents and none, replays and conflicts inside it, counts each key once", async () => {
    const random = seededRandom(7);
    const people = await Promise.all(Array.from({ length: 7 }, () => customer("Pro", 2)));
    const base: UsageEventInput[] = [];
    for (let i = 0; i < 700; i++) {
      const who = people[i % people.length] as (typeof people)[number];
      const late = random() < 0.3;
      const start = late
        ? new Date(PERIOD_START.getTime() - 1 - Math.floor(random() * 8 * MS_PER_DAY)) // October
        : new Date(PERIOD_START.getTime() + Math.floor(random() * 26 * MS_PER_DAY));
      base.push(
        callEvent(who.accountId, Math.floor(random() * 400), {
          callId: `k-${i % 350}`, // the same call_id for two accounts: two calls
          agentId: random() < 0.5 ? null : (who.agentIds[Math.floor(random() * 2)] ?? null),
          direction: random() < 0.5 ? "inbound" : "outbound",
          startedAt: start,
        }),
      );
    }
    // 200 replays of the same calls, 100 conflicting reports of them.
    const replays = Array.from({ length: 200 }, () => ({ ...base[Math.floor(random() * 700)] }));
    const conflicts = Array.from({ length: 100 }, () => {
      const e = base[Math.floor(random() * 700)] as UsageEventInput;
      return { ...e, durationSeconds: (e.durationSeconds ?? 0) + 1 };
    });
    const batch = shuffle([...base, ...replays, ...conflicts] as UsageEventInput[], random);
    const keys = new Set(base.map((e) => `${e.accountId}|${e.callId}`));
    expect(batch).toHaveLength(1000);
    const result = await ingestUsageEvents(ports, batch);
    expect(result.accepted).toBe(keys.size);
    expect(result.rejected).toBe(
      result.results.filter((r) => r.status === "rejected" && r.reason === "call_id_conflict").length,
    );
    // The first report of each key in the batch is what counts.
    const first = new Map<string, UsageEventInput>();
    for (const e of batch)
      if (!first.has(`${e.accountId}|${e.callId}`)) first.set(`${e.accountId}|${e.callId}`, e);
    for (const who of people) {
      const expected = [...first.values()]
        .filter((e) => e.accountId === who.accountId)
        .reduce((s, e) => s + billableMinutes(e.durationSeconds ?? 0), 0);
      const recount = await recountPeriods(db, who.accountId);
      expect(recount.reduce((s, r) => s + r.minutes, 0)).toBe(expected);
      await expectRollupsTrue(who.accountId);
      expect(recount.map((r) => r.period_start.toISOString())).toEqual([
        "2026-10-01T00:00:00.000Z",
        "2026-11-01T00:00:00.000Z",
      ]);
      // Late ones are late; current ones are not.
      const lateWrong = await db.usageEvent.count({
        where: {
          accountId: who.accountId,
          OR: [
            { late: true, startedAt: { gte: PERIOD_START } },
            { late: false, startedAt: { lt: PERIOD_START } },
          ],
        },
      });
      expect(lateWrong).toBe(0);
      // No alert for October.
      expect(
        await db.usageAlert.count({ where: { accountId: who.accountId, periodStart: { lt: PERIOD_START } } }),
      ).toBe(0);
    }
    // The whole batch again: all duplicates or conflicts, nothing moves.
    const before = await Promise.all(people.map((p) => rollupPeriods(db, p.accountId)));
    const again = await ingestUsageEvents(ports, batch);
    expect(again.accepted).toBe(0);
    expect(await Promise.all(people.map((p) => rollupPeriods(db, p.accountId)))).toEqual(before);
  });

  it("calls either side of UTC midnight count on their own day, and 1 ms before a period on the old one", async () => {
    const { accountId, agentIds } = await customer();
    const agentId = agentIds[0] as string;
    const events = [
      callEvent(accountId, 3600, { agentId, startedAt: new Date("2026-11-10T23:59:59.999Z") }),
      callEvent(accountId, 1, { agentId, startedAt: new Date("2026-11-11T00:00:00.000Z") }),
      callEvent(accountId, 1, { agentId: null, startedAt: new Date("2026-11-11T00:00:00.000Z") }),
      callEvent(accountId, 59, { startedAt: new Date("2026-10-31T23:59:59.999Z") }),
      callEvent(accountId, 59, { startedAt: new Date("2026-11-01T00:00:00.000Z") }),
    ];
    const result = await ingestUsageEvents(ports, events);
    expect(result.results.map((r) => (r.status === "accepted" ? r.late : r.status))).toEqual([
      false,
      false,
      false,
      true,
      false,
    ]);
    const daily = await dailyRollupAndRecount(db, accountId);
    expect([...daily.rollup].sort()).toEqual(
      [
        "2026-10-31||outbound|1|1",
        "2026-11-01||outbound|1|1",
        `2026-11-10|${agentId}|outbound|60|1`,
        "2026-11-11||outbound|1|1",
        `2026-11-11|${agentId}|outbound|1|1`,
      ].sort(),
    );
    await expectRollupsTrue(accountId);
  });

  it("after a renewal, one batch puts old-period calls in the old period (late, no alert) and new ones in the new period", async () => {
    const { accountId } = await createAccount(db);
    const sub = await subscribe(db, accountId, {
      plan: "Starter",
      createdAt: new Date("2026-10-01T00:00:00Z"),
    });
    await ingestUsageEvents(ports, [callEvent(accountId, 700 * 60)]);
    // Renewal: the period moves to December; the clock is on Dec 3.
    await db.subscription.update({
      where: { id: sub.id },
      data: {
        currentPeriodStart: new Date("2026-12-01T00:00:00Z"),
        currentPeriodEnd: new Date("2027-01-01T00:00:00Z"),
      },
    });
    const later = { ...ports, clock: fixedClock(new Date("2026-12-03T00:00:00Z")) };
    const result = await ingestUsageEvents(later, [
      callEvent(accountId, 300 * 60, { startedAt: new Date("2026-11-30T23:00:00Z") }), // Nov: 1000 -> alerts? no
      callEvent(accountId, 60, { startedAt: new Date("2026-12-02T00:00:00Z") }),
    ]);
    expect(result.results).toMatchObject([
      { status: "accepted", late: true, periodStart: new Date("2026-11-01T00:00:00Z") },
      { status: "accepted", late: false, periodStart: new Date("2026-12-01T00:00:00Z") },
    ]);
    expect((await currentUsage(later, accountId))?.minutesUsed).toBe(1);
    const alerts = await db.usageAlert.findMany({ where: { accountId } });
    expect(alerts.filter((a) => a.periodStart.getTime() === PERIOD_START.getTime())).toHaveLength(0);
    await expectRollupsTrue(accountId);
  });
});

describe("ingestion: concurrency", () => {
  it("12 clients, 6 accounts, 2 periods, overlapping unsorted batches plus authorizations: nothing lost, doubled or deadlocked", async () => {
    const random = seededRandom(99);
    const people = await Promise.all(Array.from({ length: 6 }, () => customer("Pro", 2)));
    const all: UsageEventInput[] = [];
    for (let i = 0; i < 900; i++) {
      const who = people[i % people.length] as (typeof people)[number];
      all.push(
        callEvent(who.accountId, 1 + Math.floor(random() * 300), {
          callId: `cc-${i}`,
          agentId: random() < 0.5 ? null : (who.agentIds[i % 2] ?? null),
          direction: i % 3 === 0 ? "inbound" : "outbound",
          startedAt:
            i % 4 === 0
              ? new Date(PERIOD_START.getTime() - (1 + (i % 8)) * MS_PER_DAY)
              : new Date(PERIOD_START.getTime() + (i % 26) * MS_PER_DAY + (i % 1440) * MS_PER_MINUTE),
        }),
      );
    }
    const plans = Array.from({ length: 12 }, (_, n) =>
      shuffle(n === 0 ? all : all.filter(() => random() < 0.5), random),
    );
    const errors: unknown[] = [];
    const outcomes = await Promise.all([
      ...plans.map(async (events) => {
        const p = portsOn(client());
        const accepted: string[] = [];
        for (let offset = 0; offset < events.length; offset += 75) {
          try {
            const result = await ingestUsageEvents(p, events.slice(offset, offset + 75));
            result.results.forEach((r, i) => {
              const e = events[offset + i] as UsageEventInput;
              if (r.status === "accepted") accepted.push(`${e.accountId}|${e.callId}`);
            });
          } catch (error) {
            errors.push(error);
          }
        }
        return accepted;
      }),
      // Authorizations of the same accounts, meanwhile (they lock the current period's rollup).
      (async () => {
        const p = portsOn(client());
        for (let i = 0; i < 60; i++) {
          const who = people[i % people.length] as (typeof people)[number];
          try {
            await authorizeCallRequest(p, {
              callId: `cc-${i * 6 + (i % 6)}`,
              accountId: who.accountId,
              agentId: who.agentIds[0] as string,
              direction: "outbound",
            });
          } catch (error) {
            errors.push(error);
          }
        }
        return [] as string[];
      })(),
    ]);
    expect(errors.map(String)).toEqual([]);
    const accepted = outcomes.flat();
    expect(accepted).toHaveLength(900);
    expect(new Set(accepted).size).toBe(900);
    for (const who of people) {
      const expected = all
        .filter((e) => e.accountId === who.accountId)
        .reduce((s, e) => s + billableMinutes(e.durationSeconds ?? 0), 0);
      const recount = await recountPeriods(db, who.accountId);
      expect(recount.reduce((s, r) => s + r.minutes, 0)).toBe(expected);
      await expectRollupsTrue(who.accountId);
    }
  });
});

describe("authorization", () => {
  it("an upper-case account and agent are the same ids; the replay in lower case is the same reservation", async () => {
    const { accountId, agentIds } = await customer();
    const agentId = agentIds[0] as string;
    const callId = `auth-${randomUUID()}`;
    const first = await authorizeCallRequest(ports, {
      callId,
      accountId: accountId.toUpperCase(),
      agentId: agentId.toUpperCase(),
      direction: "outbound",
    });
    expect(first).toMatchObject({ decision: "allow", replayed: false });
    const again = await authorizeCallRequest(ports, { callId, accountId, agentId, direction: "outbound" });
    expect(again).toMatchObject({ decision: "allow", replayed: true });
    expect(await db.callReservation.count({ where: { accountId } })).toBe(1);
  });

  it("denies unknown account, foreign agent, no subscription, inactive agent", async () => {
    const who = await customer();
    const other = await customer();
    const bare = await createAccount(db);
    const [bareAgent] = await createAgentRows(db, bare.accountId, 1);
    const [sleepy] = await createAgentRows(db, who.accountId, 1, false);
    const base = { callId: `c-${randomUUID()}`, direction: "outbound" as const };
    expect(
      await authorizeCallRequest(ports, {
        ...base,
        accountId: randomUUID(),
        agentId: who.agentIds[0] as string,
      }),
    ).toMatchObject({ decision: "deny", reason: "unknown_account" });
    expect(
      await authorizeCallRequest(ports, { ...base, accountId: "not-a-uuid", agentId: "nope" }),
    ).toMatchObject({ decision: "deny", reason: "unknown_account" });
    expect(
      await authorizeCallRequest(ports, {
        ...base,
        accountId: who.accountId,
        agentId: other.agentIds[0] as string,
      }),
    ).toMatchObject({ decision: "deny", reason: "unknown_agent" });
    expect(
      await authorizeCallRequest(ports, { ...base, accountId: who.accountId, agentId: "not-a-uuid" }),
    ).toMatchObject({ decision: "deny", reason: "unknown_agent" });
    expect(
      await authorizeCallRequest(ports, {
        ...base,
        accountId: bare.accountId,
        agentId: bareAgent?.id as string,
      }),
    ).toMatchObject({ decision: "deny", reason: "no_active_subscription" });
    expect(
      await authorizeCallRequest(ports, { ...base, accountId: who.accountId, agentId: sleepy?.id as string }),
    ).toMatchObject({ decision: "deny", reason: "agent_inactive" });
  });

  it("concurrent replays of one call_id make one reservation, and none fails", async () => {
    const who = await customer("Starter");
    const callId = `rep-${randomUUID()}`;
    const replicas = Array.from({ length: 4 }, () => portsOn(client(5)));
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        authorizeCallRequest(replicas[i % 4] ?? ports, {
          callId,
          accountId: i % 2 ? who.accountId.toUpperCase() : who.accountId,
          agentId: who.agentIds[0] as string,
          direction: "outbound",
        }),
      ),
    );
    expect(
      results.filter((r) => r.status === "rejected").map((r) => String((r as PromiseRejectedResult).reason)),
    ).toEqual([]);
    const ok = results.map(
      (r) => (r as PromiseFulfilledResult<Awaited<ReturnType<typeof authorizeCallRequest>>>).value,
    );
    expect(ok.filter((r) => r.decision === "allow" && !r.replayed)).toHaveLength(1);
    expect(ok.filter((r) => r.decision === "allow" && r.replayed)).toHaveLength(19);
    expect(await db.callReservation.count({ where: { accountId: who.accountId } })).toBe(1);
  });

  it("concurrent authorizations and usage reports of one hard-cap account never reserve past the cap", async () => {
    const who = await customer("Starter");
    await ingestUsageEvents(ports, [callEvent(who.accountId, 950 * 60)]);
    const replicas = Array.from({ length: 4 }, () => portsOn(client(5)));
    const calls = Array.from({ length: 40 }, () => `cap-${randomUUID()}`);
    const results = await Promise.all([
      ...calls.map((callId, i) =>
        authorizeCallRequest(replicas[i % 4] ?? ports, {
          callId,
          accountId: i % 2 ? who.accountId.toUpperCase() : who.accountId,
          agentId: who.agentIds[0] as string,
          direction: "outbound",
        }),
      ),
      // Two 1-minute calls reported meanwhile, with call_ids never authorized.
      ingestUsageEvents(replicas[0] ?? ports, [callEvent(who.accountId, 60)]).then(() => null),
      ingestUsageEvents(replicas[1] ?? ports, [callEvent(who.accountId, 60)]).then(() => null),
    ]);
    const allowed = results.filter((r) => r && r.decision === "allow");
    const used = (await currentUsage(ports, who.accountId))?.minutesUsed ?? 0;
    expect(used).toBe(952);
    const held = await db.callReservation.aggregate({
      where: { accountId: who.accountId, status: "held" },
      _sum: { minutes: true },
    });
    expect(held._sum.minutes ?? 0).toBe(allowed.length * 5);
    // Usage at the time of each decision was 950..952: 10 reservations (50) fit at 950, 9 at 951/952.
    expect(allowed.length).toBeGreaterThanOrEqual(9);
    expect(allowed.length).toBeLessThanOrEqual(10);
  });

  it("expired reservations are not held; a report settles even an expired reservation", async () => {
    const who = await customer("Starter");
    await ingestUsageEvents(ports, [callEvent(who.accountId, 990 * 60)]);
    const local = { ...ports, clock: fixedClock(new Date("2026-11-27T12:00:00Z")) };
    const a = `exp-${randomUUID()}`;
    const agentId = who.agentIds[0] as string;
    expect(
      await authorizeCallRequest(local, {
        callId: a,
        accountId: who.accountId,
        agentId,
        direction: "outbound",
      }),
    ).toMatchObject({ decision: "allow" });
    expect(
      await authorizeCallRequest(local, {
        callId: `exp-${randomUUID()}`,
        accountId: who.accountId,
        agentId,
        direction: "outbound",
      }),
    ).toMatchObject({ decision: "allow" });
    expect(
      await authorizeCallRequest(local, {
        callId: `exp-${randomUUID()}`,
        accountId: who.accountId,
        agentId,
        direction: "outbound",
      }),
    ).toMatchObject({ decision: "deny", reason: "minutes_exhausted" });
    local.clock.advance(RESERVATION_TTL_MS);
    expect(
      await authorizeCallRequest(local, {
        callId: `exp-${randomUUID()}`,
        accountId: who.accountId,
        agentId,
        direction: "outbound",
      }),
    ).toMatchObject({ decision: "allow" });
    await ingestUsageEvents(local, [
      callEvent(who.accountId, 60, { callId: a, agentId, startedAt: new Date("2026-11-27T12:00:00Z") }),
    ]);
    expect(
      await db.callReservation.findUnique({
        where: { accountId_callId: { accountId: who.accountId, callId: a } },
      }),
    ).toMatchObject({ status: "settled" });
  });
});

describe("more: duplicates, stale periods, reservations", () => {
  it("the same call reported with fractional seconds, or as ended_at, is a duplicate (whole seconds compared)", async () => {
    const { accountId, agentIds } = await customer();
    const agentId = agentIds[0] as string;
    const startedAt = new Date("2026-11-12T08:00:00.250Z");
    const e = callEvent(accountId, 60.4, { agentId, startedAt });
    expect((await ingestUsageEvents(ports, [e])).results[0]).toMatchObject({
      status: "accepted",
      durationSeconds: 61,
      billableMinutes: 2,
    });
    const again = await ingestUsageEvents(ports, [
      { ...e, durationSeconds: 61 },
      { ...e, durationSeconds: undefined, endedAt: new Date(startedAt.getTime() + 60_001) },
      { ...e, agentId: undefined, callId: e.callId },
    ]);
    expect(again.results.map((r) => (r.status === "rejected" ? r.reason : r.status))).toEqual([
      "duplicate",
      "duplicate",
      "call_id_conflict",
    ]);
    await expectRollupsTrue(accountId);
  });

  it("authorizing for an account deleted between the read and the write denies unknown_account", async () => {
    const who = await customer();
    const racing = deletingAccountBeforeTransaction(db, who.accountId);
    const result = await authorizeCallRequest(
      { ...ports, db: racing },
      {
        callId: `gone-${randomUUID()}`,
        accountId: who.accountId,
        agentId: who.agentIds[0] as string,
        direction: "outbound",
      },
    );
    expect(result).toMatchObject({ decision: "deny", reason: "unknown_account" });
  });

  it("deadlock hunt: 8 overage accounts, every batch touches all of them in 2 periods, crossing thresholds, with authorizations settling", async () => {
    const random = seededRandom(2024);
    const people = await Promise.all(Array.from({ length: 8 }, () => customer("Pro", 1)));
    for (const who of people) {
      await db.alertThreshold.createMany({
        data: [
          { accountId: who.accountId, percent: 50 },
          { accountId: who.accountId, percent: 150 },
        ],
      });
    }
    // Authorize 40 calls per account first; their reports settle them.
    const authorized: UsageEventInput[] = [];
    let n = 0;
    const allEvents: UsageEventInput[] = [];
    for (const who of people) {
      for (let i = 0; i < 120; i++) {
        n += 1;
        const e = callEvent(who.accountId, 45 * 60 + Math.floor(random() * 600), {
          callId: `dl-${n}`,
          agentId: who.agentIds[0] as string,
          startedAt:
            i % 5 === 0
              ? new Date(PERIOD_START.getTime() - (1 + (i % 7)) * MS_PER_DAY)
              : new Date(PERIOD_START.getTime() + (i % 25) * MS_PER_DAY),
        });
        allEvents.push(e);
        if (i < 40) authorized.push(e);
      }
    }
    const authPorts = Array.from({ length: 3 }, () => portsOn(client(4)));
    const errors: string[] = [];
    const batches = Array.from({ length: 10 }, (_, c) =>
      shuffle(c === 0 ? allEvents : allEvents.filter(() => random() < 0.4), random),
    );
    await Promise.all([
      ...batches.map(async (events) => {
        const p = portsOn(client(2));
        for (let offset = 0; offset < events.length; offset += 40) {
          try {
            await ingestUsageEvents(p, events.slice(offset, offset + 40));
          } catch (error) {
            errors.push(String(error).slice(0, 300));
          }
        }
      }),
      ...authPorts.map(async (p, k) => {
        for (let i = k; i < authorized.length; i += authPorts.length) {
          const e = authorized[i] as UsageEventInput;
          try {
            await authorizeCallRequest(p, {
              callId: e.callId,
              accountId: e.accountId,
              agentId: e.agentId as string,
              direction: e.direction,
            });
          } catch (error) {
            errors.push(String(error).slice(0, 300));
          }
        }
      }),
    ]);
    expect(errors).toEqual([]);
    for (const who of people) {
      await expectRollupsTrue(who.accountId);
      const expected = allEvents
        .filter((e) => e.accountId === who.accountId)
        .reduce((s, e) => s + billableMinutes(e.durationSeconds ?? 0), 0);
      expect((await recountPeriods(db, who.accountId)).reduce((s, r) => s + r.minutes, 0)).toBe(expected);
      const alerts = await db.usageAlert.findMany({ where: { accountId: who.accountId } });
      // Only the current period alerts, each threshold once.
      expect(alerts.every((a) => a.periodStart.getTime() === PERIOD_START.getTime())).toBe(true);
      expect(alerts.map((a) => a.thresholdPercent).sort((a, b) => a - b)).toEqual([50, 80, 100, 150]);
    }
    // Reservations of reported calls are settled (those authorized after the report excepted).
    const settled = await db.callReservation.count({
      where: { status: "settled", accountId: { in: people.map((p) => p.accountId) } },
    });
    expect(settled).toBeGreaterThan(0);
  });
});

describe("snapshot of the one write statement", () => {
  /** Waits until `count` other sessions are waiting on a lock. */
  async function waitForLockWaiters(count: number) {
    // Up to 25 s (the test's own limit is 30 s): on a busy machine a session can take seconds to get there.
    for (let i = 0; i < 1000; i++) {
      const [row] = await db.$queryRaw<{ n: number }[]>`
        SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE wait_event_type = 'Lock' AND datname = current_database()`;
      if ((row?.n ?? 0) >= count) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`never saw ${count} sessions waiting on a lock`);
  }

  it("a report that waited on the period's lock while the call's authorization committed settles that reservation", async () => {
    const who = await customer("Starter");
    const agentId = who.agentIds[0] as string;
    await ingestUsageEvents(ports, [callEvent(who.accountId, 60)]); // the November rollup row exists
    const callId = `race-${randomUUID()}`;
    // B: someone (an overage report, another authorization) holds the period's row for a moment.
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let locked: () => void = () => {};
    const holding = new Promise<void>((r) => {
      locked = r;
    });
    const holder = client(1);
    const held = holder.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT 1 FROM usage_period_rollup
          WHERE account_id = ${who.accountId}::uuid AND period_start = ${PERIOD_START} FOR UPDATE`;
        locked();
        await gate;
      },
      { timeout: 30_000 },
    );
    // B holds the row before A starts (on a busy machine A could otherwise take it first and never wait).
    await holding;
    // A: the call's authorization queues on the row first; I: its report (a 0 s call) queues behind it.
    const authorization = authorizeCallRequest(portsOn(client(2)), {
      callId,
      accountId: who.accountId,
      agentId,
      direction: "outbound",
    });
    await waitForLockWaiters(1);
    const report = ingestUsageEvents(portsOn(client(2)), [
      callEvent(who.accountId, 0, { callId, agentId, startedAt: new Date("2026-11-27T11:59:00Z") }),
    ]);
    await waitForLockWaiters(2);
    release();
    await held;
    expect(await authorization).toMatchObject({ decision: "allow", replayed: false });
    expect((await report).results[0]).toMatchObject({ status: "accepted" });
    // The call was authorized and then reported: its reservation is settled, not held for 30 minutes.
    expect(
      await db.callReservation.findUnique({
        where: { accountId_callId: { accountId: who.accountId, callId } },
        select: { status: true },
      }),
    ).toEqual({ status: "settled" });
  });
});

describe("test clocks", () => {
  it("an account whose test clock is ahead: its period, late calls and reservation expiry go by the clock", async () => {
    const { accountId } = await createAccount(db);
    await db.subscription.create({
      data: {
        accountId,
        planId: (await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Starter" } })).id,
        stripePriceId: `price_tc_${accountId}`,
        stripeSubscriptionId: `sub_tc_${accountId}`,
        status: "active",
        currentPeriodStart: new Date("2026-12-01T00:00:00Z"),
        currentPeriodEnd: new Date("2027-01-01T00:00:00Z"),
        createdAt: new Date("2026-10-01T00:00:00Z"),
        testClockTime: new Date("2026-12-15T00:00:00Z"),
      },
    });
    const [agent] = await createAgentRows(db, accountId, 1);
    const result = await ingestUsageEvents(ports, [
      callEvent(accountId, 60, { startedAt: new Date("2026-12-14T23:00:00Z") }),
      callEvent(accountId, 60, { startedAt: new Date("2026-11-20T00:00:00Z") }),
      callEvent(accountId, 60, { startedAt: new Date("2026-12-15T00:10:00Z") }),
    ]);
    expect(
      result.results.map((r) =>
        r.status === "accepted" ? `late=${r.late}` : r.status === "rejected" ? r.reason : r.status,
      ),
    ).toEqual(["late=false", "late=true", "started_in_future"]);
    const auth = await authorizeCallRequest(ports, {
      callId: `tc-${randomUUID()}`,
      accountId,
      agentId: agent?.id as string,
      direction: "outbound",
    });
    expect(auth).toMatchObject({ decision: "allow", expiresAt: new Date("2026-12-15T00:30:00Z") });
    await expectRollupsTrue(accountId);
  });
});
