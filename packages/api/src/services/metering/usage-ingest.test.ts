import { testDatabase } from "@minutely/db/vitest";
import { billableMinutes, fixedClock, MS_PER_MINUTE } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { testPorts } from "../../testing.ts";
import {
  callEvent,
  createAccount,
  createAgentRows,
  dailyRollupAndRecount,
  liftedNovemberPause,
  PERIOD_START,
  queuedJobs,
  recountPeriods,
  replicaClients,
  rollupPeriods,
  runQueuedJobs,
  seededRandom,
  shuffle,
  subscribe,
} from "./metering.fixtures.ts";

import {
  PERIOD_PLAN_COLUMNS,
  type PeriodPlanColumns,
  recordedPeriodPlan,
  settlePeriodPlans,
} from "./period-plans.ts";
import { loadMeteringSubscription } from "./subscription.ts";

import { UsageIngestCoalescer } from "./usage-coalescer.ts";
import { ingestUsageEvents, type UsageEventInput } from "./usage-ingest.ts";
import { currentUsage, dailyUsage, usageByAgent, usageByDirection } from "./usage-read.ts";

const { db, url } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });

const { client, portsOn } = replicaClients(url, ports);

async function alertsOf(accountId: string) {
  return await db.usageAlert.findMany({
    where: { accountId },
    orderBy: [{ periodStart: "asc" }, { thresholdPercent: "asc" }],
  });
}

describe("recording calls", () => {
  it("bills per started minute and counts each call_id once", async () => {
    const { accountId } = await createAccount(db);
    await subscribe(db, accountId);
    const started = new Date("2026-11-10T10:00:00Z");
    const events: UsageEventInput[] = [
      callEvent(accountId, 0),
      callEvent(accountId, 1),
      callEvent(accountId, 60),
      callEvent(accountId, 61),
      {
        ...callEvent(accountId, 0),
        durationSeconds: undefined,
        endedAt: new Date(started.getTime() + 125_400),
      },
    ];
    const result = await ingestUsageEvents(ports, events);
    expect(result.results.map((r) => (r.status === "accepted" ? r.billableMinutes : r.status))).toEqual([
      0, 1, 1, 2, 3,
    ]);
    expect(result).toMatchObject({ accepted: 5, duplicates: 0, rejected: 0, late: 0 });

    const replay = await ingestUsageEvents(ports, events);
    expect(replay.results.map((r) => r.status)).toEqual(Array(5).fill("duplicate"));
    expect(await rollupPeriods(db, accountId)).toEqual([
      { period_start: PERIOD_START, minutes: 7, seconds: 0 + 1 + 60 + 61 + 126, calls: 5 },
    ]);
    const usage = await currentUsage(ports, accountId);
    expect(usage).toMatchObject({
      minutesUsed: 7,
      minutesLimit: 3000,
      minutesRemaining: 2993,
      usagePercentage: 0.2,
    });
  });

  it("counts a call_id repeated within one batch once, the first occurrence winning", async () => {
    const { accountId } = await createAccount(db);
    await subscribe(db, accountId);
    const first = callEvent(accountId, 120);
    const result = await ingestUsageEvents(ports, [first, { ...first, durationSeconds: 600 }, first]);
    // The same call again is a duplicate; another duration under the same key is a conflict, not lost.
    expect(result.results).toMatchObject([
      { status: "accepted" },
      {
        status: "rejected",
        reason: "call_id_conflict",
        message: expect.stringMatching(/duration_seconds 120 recorded, 600 reported/),
      },
      { status: "duplicate" },
    ]);
    expect((await currentUsage(ports, accountId))?.minutesUsed).toBe(2);
  });
  it("rejects events it cannot attribute or trust, with a reason each, and records the rest", async () => {
    const { accountId } = await createAccount(db);
    await subscribe(db, accountId);
    const [agent] = await createAgentRows(db, accountId, 1);
    const other = await createAccount(db);
    await subscribe(db, other.accountId);
    const [foreignAgent] = await createAgentRows(db, other.accountId, 1);
    const neverSubscribed = await createAccount(db);
    const now = clock.now();
    const events: UsageEventInput[] = [
      callEvent(accountId, 30, { agentId: agent?.id }),
      callEvent("8a6e0804-2bd0-4672-b79a-d97358ff5b0c", 30),
      callEvent("not-a-uuid", 30),
      callEvent(accountId, 30, { agentId: foreignAgent?.id }),
      callEvent(accountId, 30, { agentId: "also-not-a-uuid" }),
      callEvent(neverSubscribed.accountId, 30),
      callEvent(accountId, 30, { startedAt: new Date(now.getTime() + 6 * MS_PER_MINUTE) }),
      callEvent(accountId, 30, { startedAt: new Date(now.getTime() + 4 * MS_PER_MINUTE) }),
      callEvent(accountId, 24 * 3600 + 1),
      { ...callEvent(accountId, 0), durationSeconds: undefined, endedAt: new Date("2026-11-10T09:59:59Z") },
      callEvent(accountId, -5),
    ];
    const result = await ingestUsageEvents(ports, events);
    expect(result.results.map((r) => (r.status === "rejected" ? r.reason : r.status))).toEqual([
      "accepted",
      "unknown_account",
      "unknown_account",
      "unknown_agent",
      "unknown_agent",
      "no_subscription",
      "started_in_future",
      "accepted",
      "too_long",
      "ended_before_started",
      "invalid_duration",
    ]);
    for (const r of result.results) {
      if (r.status === "rejected") expect(r.message.length).toBeGreaterThan(10);
    }
    expect(result).toMatchObject({ accepted: 2, rejected: 9 });
    expect(await db.usageEvent.count({ where: { accountId } })).toBe(2);
    expect(await db.usageEvent.count({ where: { accountId: other.accountId } })).toBe(0);
  });
});

describe("the key of a call: (account_id, call_id)", () => {
  it("makes the same call_id of another account another call, counted for each", async () => {
    const a = await createAccount(db);
    const b = await createAccount(db);
    await subscribe(db, a.accountId);
    await subscribe(db, b.accountId);
    const ofA = callEvent(a.accountId, 120, { callId: `shared-${a.accountId}` });
    const ofB = { ...ofA, accountId: b.accountId };
    expect((await ingestUsageEvents(ports, [ofA])).results).toMatchObject([{ status: "accepted" }]);
    // Later, and in one batch with a replay of the first: each account's call counts once.
    expect((await ingestUsageEvents(ports, [ofB, ofA])).results).toMatchObject([
      { status: "accepted", billableMinutes: 2 },
      { status: "duplicate" },
    ]);
    expect((await currentUsage(ports, a.accountId))?.minutesUsed).toBe(2);
    expect((await currentUsage(ports, b.accountId))?.minutesUsed).toBe(2);
  });

  it("reports a reused call_id with other details as a conflict, per field, and keeps the recorded call", async () => {
    const { accountId } = await createAccount(db);
    await subscribe(db, accountId);
    const [agent] = await createAgentRows(db, accountId, 1);
    const recorded = callEvent(accountId, 120, { agentId: agent?.id ?? null, direction: "outbound" });
    await ingestUsageEvents(ports, [recorded]);
    const result = await ingestUsageEvents(ports, [
      recorded, // a replay
      { ...recorded, durationSeconds: 119.2 }, // 120 s once rounded up: the same call
      { ...recorded, durationSeconds: 3600 },
      { ...recorded, direction: "inbound" },
      { ...recorded, agentId: null },
      { ...recorded, startedAt: new Date("2026-11-11T10:00:00Z") },
    ]);
    expect(result).toMatchObject({ accepted: 0, duplicates: 2, rejected: 4 });
    expect(result.results.map((r) => (r.status === "rejected" ? [r.reason, r.message] : r.status))).toEqual([
      "duplicate",
      "duplicate",
      ["call_id_conflict", expect.stringMatching(/duration_seconds 120 recorded, 3600 reported/)],
      ["call_id_conflict", expect.stringMatching(/direction outbound recorded, inbound reported/)],
      ["call_id_conflict", expect.stringMatching(/agent_id .+ recorded, none reported/)],
      ["call_id_conflict", expect.stringMatching(/started_at 2026-11-10T10:00:00.000Z recorded/)],
    ]);
    expect(await db.usageEvent.findMany({ where: { accountId }, select: { durationSeconds: true } })).toEqual(
      [{ durationSeconds: 120 }],
    );
    expect((await currentUsage(ports, accountId))?.minutesUsed).toBe(2);
  });

  it("compares a key repeated in one batch with the recorded call, not with the batch's first report of it", async () => {
    const { accountId } = await createAccount(db);
    await subscribe(db, accountId);
    const recorded = callEvent(accountId, 120);
    await ingestUsageEvents(ports, [recorded]);
    // Reports of one group commit: a variant first, then the recorded call itself (found by the load test).
    const result = await ingestUsageEvents(ports, [{ ...recorded, durationSeconds: 116 }, recorded]);
    expect(result.results.map((r) => (r.status === "rejected" ? r.reason : r.status))).toEqual([
      "call_id_conflict",
      "duplicate",
    ]);
    // And a new call reported twice in one batch, the second time with another duration.
    const fresh = callEvent(accountId, 60);
    const twice = await ingestUsageEvents(ports, [fresh, { ...fresh, durationSeconds: 90 }, fresh]);
    expect(twice.results.map((r) => (r.status === "rejected" ? r.reason : r.status))).toEqual([
      "accepted",
      "call_id_conflict",
      "duplicate",
    ]);
  });

  it("tells concurrent reports of one key with different durations apart: one accepted, one conflict", async () => {
    const { accountId } = await createAccount(db);
    await subscribe(db, accountId);
    const short = callEvent(accountId, 60);
    const long = { ...short, durationSeconds: 600 };
    const [one, two] = await Promise.all([
      ingestUsageEvents(portsOn(client()), [short]),
      ingestUsageEvents(portsOn(client()), [long]),
    ]);
    const statuses = [one?.results[0], two?.results[0]].map((r) =>
      r?.status === "rejected" ? r.reason : r?.status,
    );
    expect(statuses.sort()).toEqual(["accepted", "call_id_conflict"]);
    expect(await db.usageEvent.count({ where: { accountId } })).toBe(1);
  });
});

describe("a large replay with duplicates", () => {
  it("gives exact totals, and rollups equal a recount from the events", async () => {
    const random = seededRandom(7);
    const { accountId } = await createAccount(db);
    await subscribe(db, accountId);
    const agents = await createAgentRows(db, accountId, 3);
    const agentChoices = [null, ...agents.map((a) => a.id)];
    const unique: UsageEventInput[] = [];
    for (let i = 0; i < 4000; i++) {
      unique.push(
        callEvent(accountId, Math.floor(random() * 1200), {
          callId: `replay-${accountId}-${i}`,
          agentId: agentChoices[Math.floor(random() * agentChoices.length)] ?? null,
          direction: random() < 0.5 ? "inbound" : "outbound",
          // Anywhere from the period start to just before "now" (26.5 days).
          startedAt: new Date(PERIOD_START.getTime() + Math.floor(random() * 26.5 * 24 * 60) * MS_PER_MINUTE),
        }),
      );
    }
    const duplicates = Array.from({ length: 1000 }, () => unique[Math.floor(random() * unique.length)]);
    const replay = shuffle([...unique, ...duplicates] as UsageEventInput[], random);
    let accepted = 0;
    let duplicated = 0;
    for (let offset = 0; offset < replay.length; ) {
      const size = 1 + Math.floor(random() * 400);
      const result = await ingestUsageEvents(ports, replay.slice(offset, offset + size));
      accepted += result.accepted;
      duplicated += result.duplicates;
      expect(result.rejected).toBe(0);
      offset += size;
    }
    const expectedMinutes = unique.reduce((sum, e) => sum + billableMinutes(e.durationSeconds ?? 0), 0);
    const expectedSeconds = unique.reduce((sum, e) => sum + (e.durationSeconds ?? 0), 0);
    expect(accepted).toBe(4000);
    expect(duplicated).toBe(1000);
    expect(await rollupPeriods(db, accountId)).toEqual([
      { period_start: PERIOD_START, minutes: expectedMinutes, seconds: expectedSeconds, calls: 4000 },
    ]);
    expect(await rollupPeriods(db, accountId)).toEqual(await recountPeriods(db, accountId));
    const daily = await dailyRollupAndRecount(db, accountId);
    expect(daily.rollup).toEqual(daily.recount);

    const usage = await currentUsage(ports, accountId);
    expect(usage?.minutesUsed).toBe(expectedMinutes);
    const series = await dailyUsage(ports, accountId);
    expect(series.days).toHaveLength(30);
    expect(series.days.reduce((s, d) => s + d.minutes, 0)).toBe(expectedMinutes);
    expect(series.days.at(-1)).toMatchObject({ day: "2026-11-30", minutes: 0, calls: 0 });
    const byAgent = await usageByAgent(ports, accountId);
    expect(byAgent.agents.reduce((s, a) => s + a.minutes, 0)).toBe(expectedMinutes);
    expect(byAgent.agents.map((a) => a.agentId).sort()).toEqual([...agentChoices].sort());
    for (const agent of byAgent.agents) {
      const own = unique.filter((e) => (e.agentId ?? null) === agent.agentId);
      expect(agent.calls).toBe(own.length);
      expect(agent.minutes).toBe(own.reduce((s, e) => s + billableMinutes(e.durationSeconds ?? 0), 0));
    }
    const byDirection = await usageByDirection(ports, accountId);
    const inbound = unique.filter((e) => e.direction === "inbound");
    expect(byDirection.inbound.calls).toBe(inbound.length);
    expect(byDirection.inbound.minutes + byDirection.outbound.minutes).toBe(expectedMinutes);

    // Way past Pro's 3,000 minutes: 80% and 100% fired once each; one pending overage report.
    expect((await alertsOf(accountId)).map((a) => [a.thresholdPercent, a.kind])).toEqual([
      [80, "threshold"],
      [100, "overage"],
    ]);
    const reports = (await queuedJobs(db, "report-overage")).filter((j) => j.payload.accountId === accountId);
    expect(reports).toHaveLength(1);
  });
});

describe("concurrent ingestion", () => {
  it("loses and duplicates nothing with 10 clients sending overlapping batches at once", async () => {
    const random = seededRandom(42);
    const { accountId } = await createAccount(db);
    await subscribe(db, accountId);
    await db.alertThreshold.createMany({ data: [{ accountId, percent: 50 }] });
    const unique = Array.from({ length: 1500 }, (_, i) =>
      callEvent(accountId, 1 + Math.floor(random() * 300), {
        callId: `concurrent-${accountId}-${i}`,
        startedAt: new Date(PERIOD_START.getTime() + i * MS_PER_MINUTE),
      }),
    );
    // Client 0 sends everything; the others a random 60% each, all in their own order.
    const plans = Array.from({ length: 10 }, (_, n) =>
      shuffle(n === 0 ? unique : unique.filter(() => random() < 0.6), random),
    );
    const outcomes = await Promise.all(
      plans.map(async (events) => {
        const p = portsOn(client());
        const accepted: string[] = [];
        for (let offset = 0; offset < events.length; offset += 100) {
          const result = await ingestUsageEvents(p, events.slice(offset, offset + 100));
          for (const r of result.results) if (r.status === "accepted") accepted.push(r.callId);
        }
        return accepted;
      }),
    );
    const accepted = outcomes.flat();
    expect(accepted).toHaveLength(1500);
    expect(new Set(accepted).size).toBe(1500);
    const expectedMinutes = unique.reduce((sum, e) => sum + billableMinutes(e.durationSeconds ?? 0), 0);
    expect(expectedMinutes).toBeGreaterThan(3000);
    expect((await currentUsage(ports, accountId))?.minutesUsed).toBe(expectedMinutes);
    expect(await rollupPeriods(db, accountId)).toEqual(await recountPeriods(db, accountId));
    const daily = await dailyRollupAndRecount(db, accountId);
    expect(daily.rollup).toEqual(daily.recount);
    // Each threshold fired exactly once, whichever client crossed it.
    expect((await alertsOf(accountId)).map((a) => a.thresholdPercent)).toEqual([50, 80, 100]);
  });
});

describe("big batches written together (group commit)", () => {
  it("counts each call once when concurrent full batches of many accounts share transactions", async () => {
    const random = seededRandom(11);
    const accounts: string[] = [];
    for (let i = 0; i < 12; i++) {
      const { accountId } = await createAccount(db);
      await subscribe(db, accountId);
      accounts.push(accountId);
    }
    const unique = Array.from({ length: 5000 }, (_, i) => {
      const accountId = accounts[i % accounts.length] as string;
      return callEvent(accountId, 1 + Math.floor(random() * 300), {
        callId: `big-${i}`,
        startedAt: new Date(PERIOD_START.getTime() + Math.floor(random() * 26 * 24 * 60) * MS_PER_MINUTE),
      });
    });
    // Eight reports of 1,000 at once (two fill a transaction), 3,000 of their events repeated elsewhere.
    const replay = shuffle([...unique, ...unique.slice(0, 3000)], random);
    const reports = Array.from({ length: 8 }, (_, n) => replay.slice(n * 1000, (n + 1) * 1000));
    const transactions: number[] = [];
    const coalescer = new UsageIngestCoalescer(
      (events) => {
        transactions.push(events.length);
        return ingestUsageEvents(ports, events);
      },
      { bigSlots: 1 },
    );
    const answers = await Promise.all(reports.map((events) => coalescer.submit(events)));
    // The first alone (the slot was free), then the others two by two.
    expect(transactions).toEqual([1000, 2000, 2000, 2000, 1000]);
    answers.forEach((answer, n) => {
      expect(answer.results.map((r) => r.callId)).toEqual(reports[n]?.map((e) => e.callId));
    });
    const accepted = answers.flatMap((a) => a.results.filter((r) => r.status === "accepted"));
    expect(accepted).toHaveLength(5000);
    expect(new Set(accepted.map((r) => r.callId)).size).toBe(5000);
    expect(answers.reduce((s, a) => s + a.duplicates, 0)).toBe(3000);
    for (const accountId of accounts) {
      const own = unique.filter((e) => e.accountId === accountId);
      expect((await currentUsage(ports, accountId))?.minutesUsed).toBe(
        own.reduce((sum, e) => sum + billableMinutes(e.durationSeconds ?? 0), 0),
      );
      expect(await rollupPeriods(db, accountId)).toEqual(await recountPeriods(db, accountId));
      const daily = await dailyRollupAndRecount(db, accountId);
      expect(daily.rollup).toEqual(daily.recount);
    }
  });

  it("refuses a transaction of more events than two full reports, before writing anything", async () => {
    const { accountId } = await createAccount(db);
    await subscribe(db, accountId);
    const events = Array.from({ length: 2001 }, (_, i) =>
      callEvent(accountId, 60, { callId: `too-many-${i}` }),
    );
    await expect(ingestUsageEvents(ports, events)).rejects.toThrow(/at most 2000 events per transaction/);
    expect(await rollupPeriods(db, accountId)).toEqual([]);
  });
});

describe("thresholds", () => {
  it("fire exactly once per period each, including custom ones, and are emailed once", async () => {
    const { accountId, ownerEmail } = await createAccount(db);
    await subscribe(db, accountId, { plan: "Pro" });
    await db.alertThreshold.createMany({
      data: [
        { accountId, percent: 50 },
        { accountId, percent: 120 },
      ],
    });
    // 60 one-hour calls, one per batch: 3,600 minutes against 3,000 included.
    for (let i = 0; i < 60; i++) {
      await ingestUsageEvents(ports, [
        callEvent(accountId, 3600, { startedAt: new Date(PERIOD_START.getTime() + i * 60 * MS_PER_MINUTE) }),
      ]);
    }
    const alerts = await alertsOf(accountId);
    expect(alerts.map((a) => [a.thresholdPercent, a.kind, a.minutesUsed])).toEqual([
      [50, "threshold", 1500],
      [80, "threshold", 2400],
      [100, "overage", 3000],
      [120, "overage", 3600],
    ]);
    expect(alerts[2]?.message).toMatch(/billed at \$0\.03/);
    const emailJobs = (await queuedJobs(db, "send-usage-alert-email")).filter((j) =>
      alerts.some((a) => a.id === j.payload.alertId),
    );
    expect(emailJobs).toHaveLength(4);

    const left = await runQueuedJobs(url, ports);
    expect(left.filter((j) => j.task_identifier === "send-usage-alert-email")).toEqual([]);
    const mail = await db.mailMessage.findMany({ where: { to: ownerEmail }, orderBy: { subject: "asc" } });
    expect(mail).toHaveLength(4);
    expect(mail.map((m) => m.subject)).toContain("Minutely: 80% of your call minutes used");
    expect((await alertsOf(accountId)).every((a) => a.emailedAt !== null)).toBe(true);

    // Replayed email jobs send nothing new.
    for (const alert of alerts) {
      await ports.queue.enqueue("send-usage-alert-email", { alertId: alert.id });
    }
    await runQueuedJobs(url, ports);
    expect(await db.mailMessage.count({ where: { to: ownerEmail } })).toBe(4);
  });

  it("say that outbound calls pause when a hard-cap package is used up", async () => {
    const { accountId } = await createAccount(db);
    await subscribe(db, accountId, { plan: "Starter" });
    await ingestUsageEvents(ports, [callEvent(accountId, 1000 * 60)]);
    const alerts = await alertsOf(accountId);
    expect(alerts.map((a) => [a.thresholdPercent, a.kind])).toEqual([
      [80, "threshold"],
      [100, "limit_reached"],
    ]);
    expect(alerts[1]?.message).toMatch(/outbound calls are paused/i);
    expect(await queuedJobs(db, "report-overage")).not.toContainEqual(
      expect.objectContaining({ payload: expect.objectContaining({ accountId }) }),
    );
  });
});

describe("late events and period rollover", () => {
  it("records an event of a closed period as late, in that period, never in the current one", async () => {
    const { accountId } = await createAccount(db);
    const periodStart = new Date("2026-11-15T12:00:00Z");
    await subscribe(db, accountId, {
      plan: "Starter",
      periodStart,
      periodEnd: new Date("2026-12-15T12:00:00Z"),
      createdAt: new Date("2026-10-15T12:00:00Z"), // subscribed a period earlier
    });
    const result = await ingestUsageEvents(ports, [
      callEvent(accountId, 990 * 60, { startedAt: new Date("2026-10-25T08:00:00Z") }),
      callEvent(accountId, 600, { startedAt: new Date("2026-11-15T11:59:59Z") }),
      callEvent(accountId, 120, { startedAt: periodStart }),
    ]);
    expect(result.results).toMatchObject([
      { status: "accepted", late: true, periodStart: new Date("2026-10-15T12:00:00Z"), billableMinutes: 990 },
      { status: "accepted", late: true, periodStart: new Date("2026-10-15T12:00:00Z"), billableMinutes: 10 },
      { status: "accepted", late: false, periodStart, billableMinutes: 2 },
    ]);
    expect(result.late).toBe(2);
    const usage = await currentUsage(ports, accountId);
    expect(usage).toMatchObject({ minutesUsed: 2, lateEvents: { calls: 2, minutes: 1000 } });
    expect(await rollupPeriods(db, accountId)).toEqual([
      { period_start: new Date("2026-10-15T12:00:00Z"), minutes: 1000, seconds: 990 * 60 + 600, calls: 2 },
      { period_start: periodStart, minutes: 2, seconds: 120, calls: 1 },
    ]);
    expect(await db.usageEvent.count({ where: { accountId, late: true } })).toBe(2);
    // The closed period reached 100% late: no alert about a period that is over.
    expect(await alertsOf(accountId)).toEqual([]);
  });

  it("starts counting afresh when the subscription's period moves forward, and alerts fire again", async () => {
    const rolloverClock = fixedClock(new Date("2026-11-27T12:00:00Z"));
    const p = { ...ports, clock: rolloverClock };
    const { accountId } = await createAccount(db);
    const subscription = await subscribe(db, accountId, { plan: "Pro", createdAt: PERIOD_START });
    await ingestUsageEvents(p, [
      callEvent(accountId, 1440 * 60, { startedAt: new Date("2026-11-20T00:00:00Z") }),
      callEvent(accountId, 1000 * 60, { startedAt: new Date("2026-11-21T00:00:00Z") }),
    ]);
    expect((await currentUsage(p, accountId))?.minutesUsed).toBe(2440);
    expect((await alertsOf(accountId)).map((a) => a.thresholdPercent)).toEqual([80]);

    // Stripe renewed the subscription (the subscription sync moves the period).
    await db.subscription.update({
      where: { id: subscription.id },
      data: { currentPeriodStart: PERIOD_END_NOV, currentPeriodEnd: new Date("2027-01-01T00:00:00Z") },
    });
    rolloverClock.set(new Date("2026-12-05T00:00:00Z"));
    expect(await currentUsage(p, accountId)).toMatchObject({
      minutesUsed: 0,
      period: { start: PERIOD_END_NOV, end: new Date("2027-01-01T00:00:00Z") },
    });
    const result = await ingestUsageEvents(p, [
      callEvent(accountId, 1440 * 60, { startedAt: new Date("2026-12-02T00:00:00Z") }),
      callEvent(accountId, 1000 * 60, { startedAt: new Date("2026-12-03T00:00:00Z") }),
      callEvent(accountId, 30 * 60, { startedAt: new Date("2026-11-30T23:00:00Z") }),
    ]);
    expect(result.results.map((r) => r.status === "accepted" && r.late)).toEqual([false, false, true]);
    expect((await currentUsage(p, accountId))?.minutesUsed).toBe(2440);
    const alerts = await alertsOf(accountId);
    expect(alerts.map((a) => [a.periodStart.toISOString(), a.thresholdPercent])).toEqual([
      [PERIOD_START.toISOString(), 80],
      [PERIOD_END_NOV.toISOString(), 80],
    ]);
    expect(
      (await rollupPeriods(db, accountId)).map((r) => [r.period_start.toISOString(), r.minutes]),
    ).toEqual([
      [PERIOD_START.toISOString(), 2470],
      [PERIOD_END_NOV.toISOString(), 2440],
    ]);
  });
});

const PERIOD_END_NOV = new Date("2026-12-01T00:00:00Z");

/** The plan each of an account's periods records: package name, included minutes, overage price. */
async function periodPlans(accountId: string) {
  const [rows, plans] = await Promise.all([
    db.usagePeriodRollup.findMany({ where: { accountId }, orderBy: { periodStart: "asc" } }),
    db.subscriptionPlan.findMany({ select: { id: true, name: true } }),
  ]);
  const names = new Map(plans.map((plan) => [plan.id, plan.name]));
  return rows.map((r) => [
    r.periodStart.toISOString(),
    r.planId === null ? null : names.get(r.planId),
    r.callMinutesLimit,
    r.overagePriceCentsPerMinute,
    r.currency,
  ]);
}

async function planIdOf(name: string) {
  return (await db.subscriptionPlan.findUniqueOrThrow({ where: { name } })).id;
}

describe("the plan of a period", () => {
  it("is the subscription's while the period is current, and stays once the period has closed", async () => {
    const planClock = fixedClock(new Date("2026-11-27T12:00:00Z"));
    const p = { ...ports, clock: planClock };
    const { accountId } = await createAccount(db);
    const subscription = await subscribe(db, accountId, { plan: "Pro", createdAt: PERIOD_START });
    await ingestUsageEvents(p, [callEvent(accountId, 1440 * 60), callEvent(accountId, 1060 * 60)]);
    expect(await periodPlans(accountId)).toEqual([[PERIOD_START.toISOString(), "Pro", 3000, 3, "usd"]]);

    // An immediate upgrade: its allowance applies to the current period, alerts included.
    await db.subscription.update({
      where: { id: subscription.id },
      data: { planId: await planIdOf("Enterprise") },
    });
    await ingestUsageEvents(p, [callEvent(accountId, 600 * 60)]);
    expect(await periodPlans(accountId)).toEqual([
      [PERIOD_START.toISOString(), "Enterprise", 10_000, 2, "usd"],
    ]);
    // 3,100 minutes: past Pro's 3,000 but 31% of Enterprise's, so no 100% alert and no overage report.
    expect((await alertsOf(accountId)).map((a) => [a.thresholdPercent, a.minutesLimit])).toEqual([
      [80, 3000],
    ]);
    expect((await queuedJobs(db, "report-overage")).filter((j) => j.payload.accountId === accountId)).toEqual(
      [],
    );

    // Renewal onto Starter. December records Starter; late November calls leave November on Enterprise:
    // its 8,860 minutes are within Enterprise's 10,000, so there is no overage to report.
    await db.subscription.update({
      where: { id: subscription.id },
      data: {
        planId: await planIdOf("Starter"),
        currentPeriodStart: PERIOD_END_NOV,
        currentPeriodEnd: new Date("2027-01-01T00:00:00Z"),
      },
    });
    planClock.set(new Date("2026-12-05T00:00:00Z"));
    const result = await ingestUsageEvents(p, [
      callEvent(accountId, 60, { startedAt: new Date("2026-12-02T00:00:00Z") }),
      ...Array.from({ length: 4 }, () =>
        callEvent(accountId, 1440 * 60, { startedAt: new Date("2026-11-30T00:00:00Z") }),
      ),
    ]);
    expect(result).toMatchObject({ accepted: 5, late: 4 });
    expect(await periodPlans(accountId)).toEqual([
      [PERIOD_START.toISOString(), "Enterprise", 10_000, 2, "usd"],
      [PERIOD_END_NOV.toISOString(), "Starter", 1000, null, "usd"],
    ]);
    expect((await queuedJobs(db, "report-overage")).filter((j) => j.payload.accountId === accountId)).toEqual(
      [],
    );
    // One more late day-long call takes November to 10,300 minutes: its overage is reported.
    await ingestUsageEvents(p, [
      callEvent(accountId, 1440 * 60, { startedAt: new Date("2026-11-29T00:00:00Z") }),
    ]);
    expect(
      (await queuedJobs(db, "report-overage"))
        .filter((j) => j.payload.accountId === accountId)
        .map((j) => j.payload.periodStart),
    ).toEqual([PERIOD_START.toISOString()]);
  });

  it("is never replaced by a read of the subscription older than the one it was recorded from", async () => {
    const { accountId } = await createAccount(db);
    const subscription = await subscribe(db, accountId, { plan: "Pro", createdAt: PERIOD_START });
    await db.subscription.update({ where: { id: subscription.id }, data: { syncTicket: 5n } });
    const beforeUpgrade = await loadMeteringSubscription(db, accountId);
    // The upgrade's sync (a later Stripe read, a higher ticket), then usage recorded with it.
    await db.subscription.update({
      where: { id: subscription.id },
      data: { planId: await planIdOf("Enterprise"), syncTicket: 9n },
    });
    await ingestUsageEvents(ports, [callEvent(accountId, 60)]);

    // A report that read the subscription before the upgrade commits only now: Enterprise stands.
    const governing = await db.$transaction(async (tx) => {
      const [row] = await tx.$queryRaw<PeriodPlanColumns[]>`
        SELECT ${PERIOD_PLAN_COLUMNS} FROM usage_period_rollup
        WHERE account_id = ${accountId}::uuid AND period_start = ${PERIOD_START} FOR UPDATE`;
      if (!row) throw new Error("no rollup row");
      return await settlePeriodPlans(tx, [
        {
          accountId,
          periodStart: PERIOD_START,
          recorded: recordedPeriodPlan(row),
          subscription: beforeUpgrade,
        },
      ]);
    });
    expect(governing).toEqual([expect.objectContaining({ callMinutesLimit: 10_000 })]);
    expect(await periodPlans(accountId)).toEqual([
      [PERIOD_START.toISOString(), "Enterprise", 10_000, 2, "usd"],
    ]);
  });
});

describe("events outside the time window", () => {
  it("are rejected one by one before anything reaches the database, and never fail the valid events", async () => {
    const { accountId } = await createAccount(db);
    await subscribe(db, accountId, { plan: "Pro", createdAt: new Date("2026-09-10T00:00:00Z") });
    const at = (iso: string) => ({ startedAt: new Date(iso) });
    const result = await ingestUsageEvents(ports, [
      callEvent(accountId, 61, at("0001-01-01T00:00:00Z")),
      callEvent(accountId, 61, at("0000-01-01T00:00:00+14:00")), // year -1 in UTC
      callEvent(accountId, 86_400, at("1990-06-01T10:00:00Z")),
      callEvent(accountId, 61, at("1582-10-15T10:00:00Z")),
      callEvent(accountId, 61, at("0100-03-01T10:00:00Z")),
      // 35 days back is the window: 2026-10-23T12:00:00Z is its first moment.
      callEvent(accountId, 61, at("2026-10-23T11:59:59.999Z")),
      callEvent(accountId, 61, at("2026-10-23T12:00:00Z")),
      callEvent(accountId, 61, at("2026-11-27T12:05:00Z")), // the clock-skew allowance
      callEvent(accountId, 61, at("2026-11-27T12:05:00.001Z")),
      callEvent(accountId, 61, at("9999-12-31T23:59:59Z")),
      callEvent(accountId, 61, at("2026-11-20T10:00:00Z")),
    ]);
    expect(result.results.map((r) => (r.status === "rejected" ? r.reason : r.status))).toEqual([
      "too_old",
      "too_old",
      "too_old",
      "too_old",
      "too_old",
      "too_old",
      "accepted",
      "accepted",
      "started_in_future",
      "started_in_future",
      "accepted",
    ]);
    expect(await db.usageEvent.count({ where: { accountId } })).toBe(3);
    expect((await rollupPeriods(db, accountId)).map((p) => p.period_start)).toEqual([
      new Date("2026-10-01T00:00:00Z"),
      PERIOD_START,
    ]);
  });

  it("are rejected when they started before the account's first subscription", async () => {
    const { accountId } = await createAccount(db);
    // Subscribed on 2026-11-01 (the start of its first period); the row was written then, too.
    await subscribe(db, accountId, { plan: "Pro", createdAt: PERIOD_START });
    const result = await ingestUsageEvents(ports, [
      callEvent(accountId, 61, { startedAt: new Date("2026-10-31T23:59:59.999Z") }),
      callEvent(accountId, 61, { startedAt: PERIOD_START }),
    ]);
    expect(result.results).toMatchObject([
      { status: "rejected", reason: "before_subscription", message: expect.stringMatching(/2026-11-01/) },
      { status: "accepted", late: false },
    ]);
    expect(await rollupPeriods(db, accountId)).toEqual([
      { period_start: PERIOD_START, minutes: 2, seconds: 61, calls: 1 },
    ]);
  });

  it("three 24-hour calls dated 1990 bill nothing", async () => {
    const { accountId } = await createAccount(db);
    await subscribe(db, accountId, { plan: "Pro", createdAt: PERIOD_START });
    const result = await ingestUsageEvents(
      ports,
      [1, 2, 3].map((day) =>
        callEvent(accountId, 86_400, { startedAt: new Date(`1990-01-0${day}T00:00:00Z`) }),
      ),
    );
    expect(result.rejected).toBe(3);
    expect(await db.usagePeriodRollup.count({ where: { accountId } })).toBe(0);
    expect((await queuedJobs(db, "report-overage")).map((j) => j.payload.accountId)).not.toContain(accountId);
  });
});

describe("group commit under a poisoned report", () => {
  it("never fails the reports of other accounts written in the same transaction", async () => {
    const accounts: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { accountId } = await createAccount(db);
      await subscribe(db, accountId, { plan: "Pro", createdAt: PERIOD_START });
      accounts.push(accountId);
    }
    // The poisoned report's account renews on the 15th: a call of 0001-01-01 fell in a period said to start
    // on 0000-12-15, a year PostgreSQL does not have (22008), and failed the whole group.
    const { accountId: poisonAccount } = await createAccount(db);
    await subscribe(db, poisonAccount, {
      periodStart: new Date("2026-11-15T00:00:00Z"),
      periodEnd: new Date("2026-12-15T00:00:00Z"),
      createdAt: new Date("2026-10-15T00:00:00Z"),
    });
    const coalescer = new UsageIngestCoalescer((events) => ingestUsageEvents(ports, events), { slots: 1 });
    // The first report takes the only slot; the 30 that follow wait and are written as one group.
    const reports = [
      [callEvent(poisonAccount, 61)],
      ...Array.from({ length: 30 }, (_, i) =>
        i === 12
          ? [callEvent(poisonAccount, 61, { startedAt: new Date("0001-01-01T00:00:00Z") })]
          : [callEvent(accounts[i % 5] as string, 61)],
      ),
    ];
    const answers = await Promise.allSettled(reports.map((events) => coalescer.submit(events)));
    expect(answers.map((a) => a.status)).toEqual(reports.map(() => "fulfilled"));
    const statuses = answers.map((a) => (a.status === "fulfilled" ? a.value.results[0]?.status : a.reason));
    expect(statuses.filter((s) => s === "accepted")).toHaveLength(30);
    expect(statuses[13]).toBe("rejected");
    expect(await db.usageEvent.count({ where: { accountId: { in: [...accounts, poisonAccount] } } })).toBe(
      30,
    );
  });
});

describe("usage_event partitioned by month of started_at", () => {
  /** The partition (table) each of the account's events is stored in. */
  async function partitionsOf(accountId: string) {
    return await db.$queryRaw<{ call_id: string; partition: string; started_at: Date }[]>`
      SELECT call_id, tableoid::regclass::text AS partition, started_at
      FROM usage_event WHERE account_id = ${accountId}::uuid ORDER BY started_at`;
  }
  // October and November 2026 get their own partitions (the test clock is in November; the template
  // database was migrated at the machine's time, so these months may not exist yet).
  const ensured = db.$queryRaw`SELECT * FROM usage_event_ensure_partitions('2026-10-01Z', '2026-11-01Z')`;

  it("stores a call reported with started_at in two months once, and calls the second a conflict", async () => {
    await ensured;
    const { accountId } = await createAccount(db);
    await subscribe(db, accountId, { createdAt: new Date("2026-10-15T12:00:00Z") });
    const november = callEvent(accountId, 120, { startedAt: new Date("2026-11-02T10:00:00Z") });
    const october = { ...november, startedAt: new Date("2026-10-30T10:00:00Z") };
    expect((await ingestUsageEvents(ports, [november])).results).toMatchObject([{ status: "accepted" }]);
    // Another transaction, another month: the key, not a per-partition index, decides.
    const again = await ingestUsageEvents(ports, [october, november]);
    expect(again.results.map((r) => (r.status === "rejected" ? r.reason : r.status))).toEqual([
      "call_id_conflict",
      "duplicate",
    ]);
    expect(await partitionsOf(accountId)).toEqual([
      { call_id: november.callId, partition: "usage_event_2026_11", started_at: november.startedAt },
    ]);
    // And the other way round, in one batch: the first report stands, in its month.
    const other = callEvent(accountId, 60, { startedAt: new Date("2026-10-31T23:59:59Z") });
    const both = await ingestUsageEvents(ports, [
      other,
      { ...other, startedAt: new Date("2026-11-01T00:00:00Z") },
    ]);
    expect(both.results.map((r) => (r.status === "rejected" ? r.reason : r.status))).toEqual([
      "accepted",
      "call_id_conflict",
    ]);
    expect((await partitionsOf(accountId)).map((e) => e.partition)).toEqual([
      "usage_event_2026_10",
      "usage_event_2026_11",
    ]);
    expect(await rollupPeriods(db, accountId)).toEqual(await recountPeriods(db, accountId));
  });

  it("stores concurrent reports of one call in two months once: one accepted, the other a conflict", async () => {
    await ensured;
    const { accountId } = await createAccount(db);
    await subscribe(db, accountId, { createdAt: new Date("2026-10-15T12:00:00Z") });
    const replicas = [client(1), client(1), client(1), client(1)];
    for (let round = 0; round < 10; round += 1) {
      const november = callEvent(accountId, 60, { startedAt: new Date("2026-11-03T10:00:00Z") });
      const october = { ...november, startedAt: new Date("2026-10-29T10:00:00Z") };
      // Several replicas at once, each with its own pool: the same call in both months, and replays.
      const outcomes = await Promise.all(
        [november, october, november, october].map((event, i) =>
          ingestUsageEvents(portsOn(replicas[i] ?? db), [event]),
        ),
      );
      const statuses = outcomes
        .map((o) => o.results[0])
        .map((r) => (r?.status === "rejected" ? r.reason : r?.status));
      expect(statuses.filter((s) => s === "accepted")).toHaveLength(1);
      expect(statuses.every((s) => ["accepted", "duplicate", "call_id_conflict"].includes(s ?? ""))).toBe(
        true,
      );
    }
    expect(await db.usageEvent.count({ where: { accountId } })).toBe(10);
    expect(await db.usageCallKey.count({ where: { accountId } })).toBe(10);
    expect(await rollupPeriods(db, accountId)).toEqual(await recountPeriods(db, accountId));
  });

  it("refuses, in the database itself, a second event of a call in another partition", async () => {
    await ensured;
    const { accountId } = await createAccount(db);
    await subscribe(db, accountId, { createdAt: new Date("2026-10-15T12:00:00Z") });
    const event = callEvent(accountId, 60, { startedAt: new Date("2026-11-04T10:00:00Z") });
    await ingestUsageEvents(ports, [event]);
    // A writer that went around the key (a script, a future code path) cannot double-count the call.
    const insert = (startedAt: string) => db.$executeRaw`
      INSERT INTO usage_event (call_id, account_id, direction, started_at, duration_seconds, billable_minutes, period_start)
      VALUES (${event.callId}, ${accountId}::uuid, 'outbound', ${startedAt}::timestamptz, 60, 1, ${PERIOD_START})`;
    await expect(insert("2026-10-28T10:00:00Z")).rejects.toThrow(
      /usage_event_account_id_call_id_started_at_fkey/,
    );
    await expect(insert("2026-11-04T10:00:00Z")).rejects.toThrow(/usage_event_pkey|duplicate key/);
    expect(await db.usageEvent.count({ where: { accountId } })).toBe(1);
  });

  it("a call whose month was archived (key kept, event detached) is a conflict naming it, not an unknown account", async () => {
    await ensured;
    const { accountId } = await createAccount(db);
    await subscribe(db, accountId, { createdAt: new Date("2026-10-15T12:00:00Z") });
    const event = callEvent(accountId, 60, { startedAt: new Date("2026-11-04T10:00:00Z") });
    expect((await ingestUsageEvents(ports, [event])).results[0]?.status).toBe("accepted");
    // What detaching the month leaves: the call's key, without its event.
    await db.$executeRaw`DELETE FROM usage_event WHERE account_id = ${accountId}::uuid AND call_id = ${event.callId}`;
    const again = await ingestUsageEvents(ports, [
      { ...event, startedAt: new Date("2026-11-20T10:00:00Z") },
      event,
    ]);
    for (const result of again.results) {
      expect(result).toMatchObject({ status: "rejected", reason: "call_id_conflict" });
      expect(result?.status === "rejected" && result.message).toContain("archived");
    }
    expect(await db.usageEvent.count({ where: { accountId } })).toBe(0);
  });

  it("never fails an insert for a month without a partition: the DEFAULT one takes it, and moves it out later", async () => {
    const { accountId } = await createAccount(db);
    await subscribe(db, accountId, { createdAt: new Date("2026-10-15T12:00:00Z") });
    const months = await db.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM pg_inherits WHERE inhrelid = to_regclass('public.usage_event_2031_07')`;
    expect(months).toEqual([{ n: 0 }]);
    const seconds = 60;
    await db.$executeRaw`
      WITH k AS (INSERT INTO usage_call_key (account_id, call_id, started_at)
                 VALUES (${accountId}::uuid, 'far-ahead', '2031-07-04T10:00:00Z') RETURNING *)
      INSERT INTO usage_event (call_id, account_id, direction, started_at, duration_seconds, billable_minutes, period_start)
      SELECT call_id, account_id, 'outbound', started_at, ${seconds}, 1, '2031-07-01Z' FROM k`;
    expect((await partitionsOf(accountId)).map((e) => e.partition)).toEqual(["usage_event_default"]);
    expect(
      await db.$queryRaw`SELECT * FROM usage_event_ensure_partitions('2031-06-15Z', '2031-07-15Z')`,
    ).toEqual([
      { usage_event_ensure_partitions: "usage_event_2031_06" },
      { usage_event_ensure_partitions: "usage_event_2031_07" },
    ]);
    expect((await partitionsOf(accountId)).map((e) => e.partition)).toEqual(["usage_event_2031_07"]);
    // Idempotent: nothing left to create.
    expect(
      await db.$queryRaw`SELECT * FROM usage_event_ensure_partitions('2031-06-15Z', '2031-07-15Z')`,
    ).toEqual([]);
  });
});

describe("a paused call and a later report of its key (found by the attack on grouped batches)", () => {
  async function pausedAccount() {
    const { accountId } = await createAccount(db);
    const subscription = await subscribe(db, accountId, { createdAt: new Date("2026-10-01T00:00:00Z") });
    await liftedNovemberPause(db, accountId, subscription.id);
    return accountId;
  }
  const paused = (accountId: string) =>
    callEvent(accountId, 60, { callId: "reused", startedAt: new Date("2026-11-15T10:00:00Z") });
  const resumed = (accountId: string) =>
    callEvent(accountId, 60, { callId: "reused", startedAt: new Date("2026-11-21T10:00:00Z") });

  it("is subscription_paused when the key is recorded only after it, in the same report", async () => {
    const accountId = await pausedAccount();
    const answer = await ingestUsageEvents(ports, [paused(accountId), resumed(accountId), paused(accountId)]);
    expect(answer.results.map((r) => (r.status === "rejected" ? r.reason : r.status))).toEqual([
      // Nothing was recorded under the key when the first event came: as if it had been reported alone.
      "subscription_paused",
      "accepted",
      // Reported after the resumed call was recorded: that call stands, and this one differs from it.
      "call_id_conflict",
    ]);
  });

  it("is subscription_paused when a later report of the same group records the key", async () => {
    const accountId = await pausedAccount();
    const { accountId: other } = await createAccount(db);
    await subscribe(db, other);
    const coalescer = new UsageIngestCoalescer((events) => ingestUsageEvents(ports, events), { slots: 1 });
    // The first report takes the only slot; the next two wait and are written together, in this order.
    const answers = await Promise.all([
      coalescer.submit([callEvent(other, 60)]),
      coalescer.submit([paused(accountId)]),
      coalescer.submit([resumed(accountId)]),
    ]);
    expect(answers.map((a) => a.results.map((r) => (r.status === "rejected" ? r.reason : r.status)))).toEqual(
      [["accepted"], ["subscription_paused"], ["accepted"]],
    );
    expect(await db.usageEvent.count({ where: { accountId } })).toBe(1);
  });
});

describe("a group whose transaction committed (found by the attack on grouped batches)", () => {
  it("is answered from that transaction: a read failing after the commit never rewrites the group as duplicates", async () => {
    const { accountId } = await createAccount(db);
    const subscription = await subscribe(db, accountId, { createdAt: new Date("2026-10-01T00:00:00Z") });
    await liftedNovemberPause(db, accountId, subscription.id);
    // The read of the calls recorded under paused events' keys fails once, outside any transaction (a
    // statement timeout, a connection reset): not an outage, so a failed group would be split and written
    // again.
    let failures = 1;
    const flaky = new Proxy(db, {
      get(target, prop, receiver) {
        if (prop === "$queryRaw") {
          return (query: TemplateStringsArray | { sql: string }, ...values: unknown[]) => {
            const text = Array.isArray(query) ? query.join("?") : (query as { sql: string }).sql;
            if (failures > 0 && text.includes("JOIN usage_call_key c")) {
              failures -= 1;
              return Promise.reject(new Error("canceling statement due to statement timeout"));
            }
            return (target.$queryRaw as (...a: unknown[]) => unknown).call(target, query, ...values);
          };
        }
        return Reflect.get(target, prop, receiver);
      },
    }) as typeof db;
    const flakyPorts = { ...ports, db: flaky };
    const coalescer = new UsageIngestCoalescer((events) => ingestUsageEvents(flakyPorts, events), {
      slots: 1,
    });
    const paused = callEvent(accountId, 60, { startedAt: new Date("2026-11-15T10:00:00Z") });
    const valid = callEvent(accountId, 60, { startedAt: new Date("2026-11-21T10:00:00Z") });
    const answers = await Promise.allSettled([
      coalescer.submit([callEvent(accountId, 60, { startedAt: new Date("2026-11-22T10:00:00Z") })]),
      coalescer.submit([paused]),
      coalescer.submit([valid]),
    ]);
    const statuses = answers.map((a) =>
      a.status === "fulfilled"
        ? a.value.results.map((r) => (r.status === "rejected" ? r.reason : r.status))
        : [String(a.reason)],
    );
    expect(statuses).toEqual([["accepted"], ["subscription_paused"], ["accepted"]]);
    expect(await db.usageEvent.count({ where: { accountId } })).toBe(2);
  });
});

describe("a deleted account (found by the model test, seed 4, during the attack on grouped batches)", () => {
  it("has its events refused as account_deleted whatever their dates, never too_old or started_in_future", async () => {
    const { accountId } = await createAccount(db);
    await subscribe(db, accountId);
    await db.account.update({
      where: { id: accountId },
      data: { deletedAt: new Date("2026-11-26T00:00:00Z") },
    });
    // Dates outside the window of the account's now: its test clock may have run far ahead of the platform's
    // (the model test reports by the wall clock after deleting an account whose clock is weeks ahead).
    const answer = await ingestUsageEvents(ports, [
      callEvent(accountId, 60, { startedAt: new Date("2026-09-01T00:00:00Z") }),
      callEvent(accountId, 60, { startedAt: new Date("2027-03-01T00:00:00Z") }),
      callEvent(accountId, 60, { startedAt: new Date("2026-11-20T00:00:00Z") }),
    ]);
    expect(answer.results.map((r) => (r.status === "rejected" ? r.reason : r.status))).toEqual([
      "account_deleted",
      "account_deleted",
      "account_deleted",
    ]);
  });
});
