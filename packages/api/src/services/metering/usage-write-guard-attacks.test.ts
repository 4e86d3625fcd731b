// Hostile clients and concurrent replicas against a group written alone (usage-write-guard.ts): every answer
// is checked against what the database holds (rollups against a recount of the events, alerts, queued
// report-overage jobs), and the path each report took (alone, or its transaction) is checked too.
import { createPrismaClient, databasePoolOf, type Prisma } from "@minutely/db";
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { capturingPorts } from "../../hot-paths.fixtures.ts";
import type { JobQueue } from "../../ports/queue.ts";
import { type AuthorizeCallInput, authorizeCallRequest } from "./call-authorization.ts";
import {
  callEvent,
  createAccount,
  createAgentRows,
  dailyRollupAndRecount,
  PERIOD_START,
  queuedJobs,
  recountPeriods,
  replicaClients,
  rollupPeriods,
  subscribe,
  uniqueSuffix,
  useMinutes,
} from "./metering.fixtures.ts";
import { setSpendCap } from "./spend-cap.ts";
import { ingestUsageEvents } from "./usage-ingest.ts";
import { forgetPeriodsSeen, MAX_EVENTS_WRITTEN_ALONE, rememberPeriod } from "./usage-write-guard.ts";

const { db, url } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const { ports, capturedPorts, statementsOf } = capturingPorts(db, url, clock);
const replicas = replicaClients(url, ports);

function kinds(sql: string[]) {
  const writes = sql.filter((s) => s.includes("INSERT INTO usage_call_key"));
  return {
    begins: sql.filter((s) => s.trim() === "BEGIN").length,
    writesAlone: writes.filter((s) => s.includes("minutely_write_guard")).length,
    writesInTransaction: writes.filter((s) => !s.includes("minutely_write_guard")).length,
  };
}
const ALONE = { begins: 0, writesAlone: 1, writesInTransaction: 0 };
const ROLLED_BACK = { begins: 1, writesAlone: 1, writesInTransaction: 1 };

/** A Pro account (3,000 minutes, $0.03 a minute) whose current period records its plan, at `minutes`. */
async function proAt(minutes: number) {
  const { accountId } = await createAccount(db);
  await subscribe(db, accountId, { plan: "Pro" });
  await ingestUsageEvents(ports, [callEvent(accountId, 60)]);
  if (minutes > 1) await useMinutes(ports, accountId, minutes - 1);
  forgetPeriodsSeen();
  return accountId;
}

async function alerts(accountId: string) {
  return await db.usageAlert.findMany({
    where: { accountId },
    select: { kind: true, thresholdPercent: true, minutesUsed: true },
    orderBy: [{ kind: "asc" }, { thresholdPercent: "asc" }],
  });
}

async function periodRow(accountId: string) {
  return await db.usagePeriodRollup.findUniqueOrThrow({
    where: { accountId_periodStart: { accountId, periodStart: PERIOD_START } },
  });
}

async function consistent(accountId: string) {
  expect(await rollupPeriods(db, accountId)).toEqual(await recountPeriods(db, accountId));
  const daily = await dailyRollupAndRecount(db, accountId);
  expect(daily.rollup).toEqual(daily.recount);
}

async function overageJobsOf(accountId: string) {
  return (await queuedJobs(db, "report-overage")).filter((j) => j.payload.accountId === accountId);
}

/**
 * Another replica's transaction that locks the account's current period row (FOR UPDATE), then runs
 * `work` in it and holds it; `meanwhile` starts once the row is held, and the transaction commits 300 ms
 * later (so `meanwhile`'s statement waits for the row). Returns what `meanwhile` gives.
 */
async function whileAnotherHoldsPeriodRow<T>(
  accountId: string,
  work: (tx: Prisma.TransactionClient) => Promise<void>,
  meanwhile: () => Promise<T>,
): Promise<T> {
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let locked: () => void = () => {};
  const lockTaken = new Promise<void>((resolve) => {
    locked = resolve;
  });
  const holder = replicas.client(1).$transaction(
    async (tx) => {
      await tx.$queryRaw`SELECT 1 FROM usage_period_rollup
        WHERE account_id = ${accountId}::uuid AND period_start = ${PERIOD_START} FOR UPDATE`;
      await work(tx);
      locked();
      await held;
    },
    { timeout: 20_000 },
  );
  await lockTaken;
  const result = meanwhile();
  await new Promise((resolve) => setTimeout(resolve, 300));
  release();
  await holder;
  return await result;
}

/** `queue` whose next recordAndEnqueue (the statement written alone) first runs `before`. */
function queueRunningFirst(queue: JobQueue, before: () => Promise<void>): JobQueue {
  let ran = false;
  return {
    enqueue: (...args) => queue.enqueue(...args),
    enqueueMany: (...args) => queue.enqueueMany(...args),
    recordAndEnqueue: async (...args) => {
      if (!ran) {
        ran = true;
        await before();
      }
      return await queue.recordAndEnqueue(...args);
    },
  };
}

const setCap = async (accountId: string, cents: number | null) =>
  await db.account.update({
    where: { id: accountId },
    data: { overageCapCents: cents, overageCapCurrency: cents === null ? null : "usd" },
  });

beforeEach(() => forgetPeriodsSeen());

describe("replicas pushing one period across a threshold at the same moment", () => {
  it("80%: each replica's report under it alone, together across it: one alert, with the minutes of the crossing", async () => {
    const accountId = await proAt(2395);
    const clients = Array.from({ length: 4 }, () => replicas.portsOn(replicas.client(2)));
    // 4 replicas x 3 reports of 1 minute from 2,395: 2,400 (80%) is reached by exactly one of them.
    const reports = clients.flatMap((p) =>
      Array.from({ length: 3 }, () => ingestUsageEvents(p, [callEvent(accountId, 60)])),
    );
    await Promise.all(reports);
    expect((await periodRow(accountId)).minutes).toBe(2407);
    expect(await alerts(accountId)).toEqual([{ kind: "threshold", thresholdPercent: 80, minutesUsed: 2400 }]);
    await consistent(accountId);
  });

  it("100% reached by concurrent groups of several events", async () => {
    const accountId = await proAt(2990);
    const clients = Array.from({ length: 3 }, () => replicas.portsOn(replicas.client(2)));
    await Promise.all(
      clients.map((p) => ingestUsageEvents(p, [callEvent(accountId, 60), callEvent(accountId, 120)])),
    );
    expect((await periodRow(accountId)).minutes).toBe(2999);
    await Promise.all(clients.map((p) => ingestUsageEvents(p, [callEvent(accountId, 60)])));
    expect((await periodRow(accountId)).minutes).toBe(3002);
    // 80% was crossed on the way to 2,990.
    const all = (await alerts(accountId)).filter((a) => a.thresholdPercent === 100);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ kind: "overage", thresholdPercent: 100 });
    expect([3000, 3001, 3002]).toContain(all[0]?.minutesUsed);
    await consistent(accountId);
  });
});

describe("alert triggers a group written alone must not pass", () => {
  it("a custom 1% and 200% threshold", async () => {
    const accountId = await proAt(1);
    await db.alertThreshold.createMany({
      data: [
        { accountId, percent: 1 },
        { accountId, percent: 200 },
      ],
    });
    // 1% of 3,000 is 30.
    const sql = await statementsOf(() => ingestUsageEvents(capturedPorts, [callEvent(accountId, 29 * 60)]));
    expect(kinds(sql)).toEqual(ROLLED_BACK);
    expect(await alerts(accountId)).toEqual([{ kind: "threshold", thresholdPercent: 1, minutesUsed: 30 }]);
    await useMinutes(ports, accountId, 5969); // 5,999
    forgetPeriodsSeen();
    const under = await statementsOf(() => ingestUsageEvents(capturedPorts, [callEvent(accountId, 0)]));
    expect(kinds(under)).toEqual(ALONE);
    forgetPeriodsSeen();
    const at = await statementsOf(() => ingestUsageEvents(capturedPorts, [callEvent(accountId, 1)]));
    expect(kinds(at)).toEqual(ROLLED_BACK);
    expect((await alerts(accountId)).find((a) => a.thresholdPercent === 200)).toEqual({
      kind: "overage",
      thresholdPercent: 200,
      minutesUsed: 6000,
    });
    await consistent(accountId);
  });

  it("a zero-minute call: written alone, counted as a call, no alert, at a trigger count", async () => {
    const accountId = await proAt(2400 - 1);
    const sql = await statementsOf(async () => {
      const result = await ingestUsageEvents(capturedPorts, [callEvent(accountId, 0)]);
      expect(result.results).toEqual([expect.objectContaining({ status: "accepted", billableMinutes: 0 })]);
    });
    expect(kinds(sql)).toEqual(ALONE);
    expect(await alerts(accountId)).toEqual([]);
    await consistent(accountId);
  });

  it("spend cap 50/80/100% crossed by groups another replica brought near", async () => {
    const accountId = await proAt(3040);
    // $3.00 at $0.03: 100 minutes of overage; 50% at 3,050, 80% at 3,080, 100% at 3,100.
    await setCap(accountId, 300);
    const sql = await statementsOf(() => ingestUsageEvents(capturedPorts, [callEvent(accountId, 10 * 60)]));
    expect(kinds(sql)).toEqual(ROLLED_BACK);
    forgetPeriodsSeen();
    await statementsOf(() => ingestUsageEvents(capturedPorts, [callEvent(accountId, 29 * 60)]));
    forgetPeriodsSeen();
    const eighty = await statementsOf(() => ingestUsageEvents(capturedPorts, [callEvent(accountId, 60)]));
    expect(kinds(eighty)).toEqual(ROLLED_BACK);
    forgetPeriodsSeen();
    await ingestUsageEvents(capturedPorts, [callEvent(accountId, 20 * 60)]);
    expect((await alerts(accountId)).filter((a) => a.kind === "spend_cap")).toEqual([
      { kind: "spend_cap", thresholdPercent: 50, minutesUsed: 3050 },
      { kind: "spend_cap", thresholdPercent: 80, minutesUsed: 3080 },
      { kind: "spend_cap", thresholdPercent: 100, minutesUsed: 3100 },
    ]);
    await consistent(accountId);
  });
});

describe("overage jobs queued by a statement written alone", () => {
  it("a cap lowered then raised between reports: queued exactly when the budget pays for more", async () => {
    const accountId = await proAt(3050);
    // Everything the budget paid for is reported; the budget is lowered below the overage used.
    await setCap(accountId, 60); // 20 minutes
    await db.$executeRaw`UPDATE usage_period_rollup SET overage_reported = 20 WHERE account_id = ${accountId}::uuid`;
    await db.$executeRaw`DELETE FROM graphile_worker._private_jobs`;
    const lowered = await statementsOf(() => ingestUsageEvents(capturedPorts, [callEvent(accountId, 60)]));
    expect(kinds(lowered)).toEqual(ALONE);
    expect(await overageJobsOf(accountId)).toEqual([]);
    // A zero cap: nothing is billable at all.
    await setCap(accountId, 0);
    await db.$executeRaw`UPDATE usage_period_rollup SET overage_reported = 0 WHERE account_id = ${accountId}::uuid`;
    await ingestUsageEvents(capturedPorts, [callEvent(accountId, 60)]);
    expect(await overageJobsOf(accountId)).toEqual([]);
    // Raised: 52 minutes now billable, 0 reported.
    await setCap(accountId, 3000);
    forgetPeriodsSeen();
    const raised = await statementsOf(() => ingestUsageEvents(capturedPorts, [callEvent(accountId, 60)]));
    expect(kinds(raised)).toEqual(ALONE);
    expect(await overageJobsOf(accountId)).toHaveLength(1);
    await consistent(accountId);
  });

  it("a waiting report a worker takes while the statement waits for the period row: queued again all the same", async () => {
    // The statement skips queueing the period's report only when that job is still waiting once it holds
    // the period row (a snapshot taken then, not at the statement's start): a worker that took the job
    // meanwhile may have decided the period before this statement's minutes were in it.
    const accountId = await proAt(3050);
    await db.$executeRaw`DELETE FROM graphile_worker._private_jobs`;
    await ingestUsageEvents(capturedPorts, [callEvent(accountId, 60)]);
    expect(await overageJobsOf(accountId)).toHaveLength(1);
    const report = await whileAnotherHoldsPeriodRow(
      accountId,
      async () => {},
      async () => {
        const written = statementsOf(() => ingestUsageEvents(capturedPorts, [callEvent(accountId, 60)]));
        // The statement has started (its snapshot sees the job waiting) and waits for the row; a worker
        // takes the job now.
        await new Promise((resolve) => setTimeout(resolve, 150));
        await db.$executeRaw`UPDATE graphile_worker._private_jobs
          SET locked_at = now(), locked_by = 'another-worker' WHERE key IS NOT NULL`;
        return await written;
      },
    );
    expect(kinds(report)).toEqual(ALONE);
    const jobs = await db.$queryRaw<{ key: string | null; locked: boolean }[]>`
      SELECT key, locked_at IS NOT NULL AS locked FROM graphile_worker._private_jobs
      WHERE payload->>'accountId' = ${accountId} ORDER BY id`;
    expect(jobs).toEqual([
      { key: null, locked: true },
      { key: `report-overage:${accountId}:${PERIOD_START.toISOString()}`, locked: false },
    ]);
    await consistent(accountId);
  });

  it("never for pack minutes: what packs covered is not billable overage", async () => {
    const accountId = await proAt(3050);
    // 50 minutes beyond the included ones, all drawn from a pack that is now empty.
    await db.$executeRaw`UPDATE usage_period_rollup SET pack_minutes_drawn = 60 WHERE account_id = ${accountId}::uuid`;
    await db.$executeRaw`DELETE FROM graphile_worker._private_jobs`;
    const sql = await statementsOf(() => ingestUsageEvents(capturedPorts, [callEvent(accountId, 5 * 60)]));
    expect(kinds(sql)).toEqual(ALONE);
    expect(await overageJobsOf(accountId)).toEqual([]);
    await ingestUsageEvents(capturedPorts, [callEvent(accountId, 6 * 60)]);
    expect(await overageJobsOf(accountId)).toHaveLength(1);
  });
});

describe("a group's events as a hostile client mixes them", () => {
  it("a replay mixed with new calls: the replay is a duplicate, the new calls count once", async () => {
    const accountId = await proAt(100);
    const old = callEvent(accountId, 120);
    await ingestUsageEvents(ports, [old]);
    const fresh = [callEvent(accountId, 60), callEvent(accountId, 180)];
    const sql = await statementsOf(async () => {
      const result = await ingestUsageEvents(
        capturedPorts,
        [fresh[0], old, fresh[1]].filter((e) => !!e),
      );
      expect(result.results.map((r) => r.status)).toEqual(["accepted", "duplicate", "accepted"]);
    });
    expect(kinds(sql)).toEqual(ROLLED_BACK);
    expect((await periodRow(accountId)).minutes).toBe(106);
    await consistent(accountId);
  });

  it("a conflicting replay inside a group written alone is refused, not counted", async () => {
    const accountId = await proAt(100);
    const old = callEvent(accountId, 120);
    await ingestUsageEvents(ports, [old]);
    const result = await ingestUsageEvents(capturedPorts, [
      { ...old, durationSeconds: 600 },
      callEvent(accountId, 60),
    ]);
    expect(result.results.map((r) => (r.status === "rejected" ? r.reason : r.status))).toEqual([
      "call_id_conflict",
      "accepted",
    ]);
    expect((await periodRow(accountId)).minutes).toBe(103);
    await consistent(accountId);
  });

  it("an account deleted between the context read and the write: its calls refused, the others' counted", async () => {
    const live = await proAt(10);
    const doomed = await proAt(10);
    const queue = queueRunningFirst(capturedPorts.queue, async () => {
      await db.account.update({ where: { id: doomed }, data: { deletedAt: clock.now() } });
    });
    const result = await ingestUsageEvents({ ...capturedPorts, queue }, [
      callEvent(live, 60),
      callEvent(doomed, 60),
    ]);
    expect(result.results.map((r) => (r.status === "rejected" ? r.reason : r.status))).toEqual([
      "accepted",
      "account_deleted",
    ]);
    expect((await periodRow(live)).minutes).toBe(11);
    expect((await periodRow(doomed)).minutes).toBe(10);
    await consistent(live);
    await consistent(doomed);
  });

  it("one account crossing a threshold sends the whole group of several accounts to its transaction: each counted once, the other's overage queued once", async () => {
    const crossing = await proAt(2399);
    const inOverage = await proAt(3100);
    await db.$executeRaw`DELETE FROM graphile_worker._private_jobs`;
    forgetPeriodsSeen();
    const sql = await statementsOf(async () => {
      const result = await ingestUsageEvents(capturedPorts, [
        callEvent(inOverage, 60),
        callEvent(crossing, 60),
        callEvent(inOverage, 120),
      ]);
      expect(result.accepted).toBe(3);
    });
    expect(kinds(sql)).toEqual(ROLLED_BACK);
    expect((await periodRow(crossing)).minutes).toBe(2400);
    expect((await periodRow(inOverage)).minutes).toBe(3103);
    expect(await alerts(crossing)).toEqual([{ kind: "threshold", thresholdPercent: 80, minutesUsed: 2400 }]);
    expect(await overageJobsOf(inOverage)).toHaveLength(1);
    expect(await overageJobsOf(crossing)).toEqual([]);
    await consistent(crossing);
    await consistent(inOverage);
  });

  it("64 events are written alone, 65 in their transaction; both counted once", async () => {
    const accountId = await proAt(10);
    const sql64 = await statementsOf(() =>
      ingestUsageEvents(
        capturedPorts,
        Array.from({ length: MAX_EVENTS_WRITTEN_ALONE }, () => callEvent(accountId, 1)),
      ),
    );
    expect(kinds(sql64)).toEqual(ALONE);
    const sql65 = await statementsOf(() =>
      ingestUsageEvents(
        capturedPorts,
        Array.from({ length: MAX_EVENTS_WRITTEN_ALONE + 1 }, () => callEvent(accountId, 1)),
      ),
    );
    expect(kinds(sql65)).toEqual({ begins: 1, writesAlone: 0, writesInTransaction: 1 });
    expect((await periodRow(accountId)).minutes).toBe(10 + 64 + 65);
    await consistent(accountId);
  });

  it("64 events of which repeats of one key: the repeats do not count toward the 64", async () => {
    const accountId = await proAt(10);
    const one = callEvent(accountId, 60);
    const events = [one, ...Array.from({ length: MAX_EVENTS_WRITTEN_ALONE }, () => one)];
    const sql = await statementsOf(async () => {
      const result = await ingestUsageEvents(capturedPorts, events);
      expect(result.accepted).toBe(1);
      expect(result.duplicates).toBe(MAX_EVENTS_WRITTEN_ALONE);
    });
    expect(kinds(sql)).toEqual(ALONE);
    await consistent(accountId);
  });
});

describe("a plan change racing a report", () => {
  it("an upgrade recorded on the period between the context read and the write: measured by the new plan", async () => {
    const accountId = await proAt(2395);
    const enterprise = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Enterprise" } });
    const queue = queueRunningFirst(capturedPorts.queue, async () => {
      await db.subscription.updateMany({
        where: { accountId },
        data: { planId: enterprise.id, syncTicket: { increment: 1 } },
      });
      const { settleCurrentPeriodPlan } = await import("./period-plans.ts");
      await db.$transaction((tx) => settleCurrentPeriodPlan(tx as never, accountId));
    });
    await ingestUsageEvents({ ...capturedPorts, queue }, [callEvent(accountId, 10 * 60)]);
    const row = await periodRow(accountId);
    expect(row.planId).toBe(enterprise.id);
    // 2,405 of Enterprise's minutes is under its 80%: no alert by the Pro plan the report was read with.
    expect(await alerts(accountId)).toEqual([]);
    await consistent(accountId);
  });

  it("a sync-ticket bump racing a report: the period keeps the newer ticket", async () => {
    const accountId = await proAt(100);
    const queue = queueRunningFirst(capturedPorts.queue, async () => {
      await db.subscription.updateMany({ where: { accountId }, data: { syncTicket: { increment: 1 } } });
      const { settleCurrentPeriodPlan } = await import("./period-plans.ts");
      await db.$transaction((tx) => settleCurrentPeriodPlan(tx as never, accountId));
    });
    const before = (await periodRow(accountId)).planSyncTicket;
    await ingestUsageEvents({ ...capturedPorts, queue }, [callEvent(accountId, 60)]);
    expect((await periodRow(accountId)).planSyncTicket).toBe(before + 1n);
    await consistent(accountId);
  });
});

describe("reservations and errors", () => {
  it("an authorized call's reservation is settled by the group written alone that reports it", async () => {
    const accountId = await proAt(100);
    const [agent] = await createAgentRows(db, accountId, 1);
    if (!agent) throw new Error("no agent");
    const call: AuthorizeCallInput = {
      callId: `call-${uniqueSuffix()}`,
      accountId,
      agentId: agent.id,
      direction: "outbound",
    };
    expect((await authorizeCallRequest(ports, call)).decision).toBe("allow");
    const sql = await statementsOf(() =>
      ingestUsageEvents(capturedPorts, [
        callEvent(accountId, 120, { callId: call.callId, agentId: agent.id }),
      ]),
    );
    expect(kinds(sql)).toEqual(ALONE);
    expect(
      await db.callReservation.findUnique({
        where: { accountId_callId: { accountId, callId: call.callId } },
      }),
    ).toMatchObject({ status: "settled" });
  });

  it("a reservation committed while the statement written alone waited for the period row is settled by it", async () => {
    const accountId = await proAt(100);
    const callId = `call-${uniqueSuffix()}`;
    // An authorization in flight: the period row locked, its reservation inserted, committed later.
    const report = await whileAnotherHoldsPeriodRow(
      accountId,
      async (tx) => {
        await tx.callReservation.create({
          data: {
            accountId,
            callId,
            direction: "outbound",
            minutes: 5,
            expiresAt: new Date(clock.now().getTime() + 30 * 60_000),
          },
        });
      },
      () => statementsOf(() => ingestUsageEvents(capturedPorts, [callEvent(accountId, 120, { callId })])),
    );
    expect(kinds(report)).toEqual(ALONE);
    expect(
      await db.callReservation.findUnique({ where: { accountId_callId: { accountId, callId } } }),
    ).toMatchObject({ status: "settled" });
    await consistent(accountId);
  });

  it("a statement error other than MN001 is not swallowed, and nothing of the group stays", async () => {
    const accountId = await proAt(100);
    await db.$executeRawUnsafe(`CREATE OR REPLACE FUNCTION attack_fail() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.account_id = '${accountId}'::uuid THEN
        RAISE EXCEPTION 'attack' USING ERRCODE = 'XX123'; END IF; RETURN NEW; END $$`);
    await db.$executeRawUnsafe(
      "CREATE TRIGGER attack_fail BEFORE INSERT OR UPDATE ON usage_daily_rollup FOR EACH ROW EXECUTE FUNCTION attack_fail()",
    );
    try {
      const sql: string[] = [];
      await expect(
        statementsOf(async () => {
          await ingestUsageEvents(capturedPorts, [callEvent(accountId, 60)]);
        }).then((s) => sql.push(...s)),
      ).rejects.toThrow(/attack/);
      expect(await db.usageEvent.count({ where: { accountId } })).toBe(2);
    } finally {
      await db.$executeRawUnsafe("DROP TRIGGER attack_fail ON usage_daily_rollup");
    }
    await consistent(accountId);
  });
});

describe("the job queue's notifications", () => {
  it("a group written alone with no overage due queues no job and wakes no worker", async () => {
    const accountId = await proAt(100);
    const listening = createPrismaClient(url, { poolSize: 1 });
    afterAll(async () => await listening.$disconnect());
    const pool = databasePoolOf(listening);
    if (!pool) throw new Error("no pool");
    const client = await pool.connect();
    const heard: string[] = [];
    client.on("notification", (m) => {
      if (m.channel === "jobs:insert") heard.push(m.payload ?? "");
    });
    await client.query('LISTEN "jobs:insert"');
    try {
      const sql = await statementsOf(() => ingestUsageEvents(capturedPorts, [callEvent(accountId, 60)]));
      expect(kinds(sql)).toEqual(ALONE);
      // The same report in its transaction queues nothing and notifies nothing: a notification is delivered
      // before the next statement's result on this connection.
      await client.query("SELECT 1");
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(heard).toEqual([]);
    } finally {
      await client.query("UNLISTEN *");
      client.release();
    }
  });
});

describe("the database a group written alone goes to", () => {
  it("is the ports' database, as its transaction's is, whatever database the queue port was made on", async () => {
    const accountId = await proAt(100);
    await db.$executeRaw`DELETE FROM graphile_worker._private_jobs`;
    // The captured client is the ports' database; the queue port is on the other client.
    const mixed = { ...capturedPorts, queue: ports.queue };
    const sql = await statementsOf(() => ingestUsageEvents(mixed, [callEvent(accountId, 60)]));
    expect(kinds(sql)).toEqual(ALONE);
    expect((await periodRow(accountId)).minutes).toBe(101);
    // Its overage job too, in the same statement.
    await useMinutes(ports, accountId, 3000);
    await db.$executeRaw`DELETE FROM graphile_worker._private_jobs`;
    forgetPeriodsSeen();
    const over = await statementsOf(() => ingestUsageEvents(mixed, [callEvent(accountId, 60)]));
    expect(kinds(over)).toEqual(ALONE);
    expect(await overageJobsOf(accountId)).toHaveLength(1);
  });
});

describe("a budget changed between a report's context read and its write", () => {
  /** A Pro account at 3,005 minutes with a $3.00 budget (100 minutes: 50% at 3,050), and its owner. */
  async function proAt3005WithBudget() {
    const { accountId, userId, ownerEmail } = await createAccount(db);
    await subscribe(db, accountId, { plan: "Pro" });
    await ingestUsageEvents(ports, [callEvent(accountId, 60)]);
    await useMinutes(ports, accountId, 3004);
    const viewer = { userId, email: ownerEmail, name: "Owner", role: "user" as const, accountId };
    await setSpendCap(ports, viewer, accountId, { amountCents: 300, currency: "usd" });
    forgetPeriodsSeen();
    return { accountId, viewer };
  }

  async function spendCapAlerts(accountId: string, budgetCents: number) {
    const rows = await db.usageAlert.findMany({
      where: { accountId, kind: "spend_cap", budgetCents },
      select: { thresholdPercent: true, minutesUsed: true },
      orderBy: { thresholdPercent: "asc" },
    });
    return rows.map((r) => [r.thresholdPercent, r.minutesUsed]);
  }

  it("lowered: the new budget's thresholds the report crosses fire (by the budget, not the one read before)", async () => {
    const { accountId, viewer } = await proAt3005WithBudget();
    // $0.30: 10 minutes; 50% at 3,005 (reached by the change itself), 80% at 3,008, 100% at 3,010.
    const queue = queueRunningFirst(capturedPorts.queue, async () => {
      await setSpendCap(ports, viewer, accountId, { amountCents: 30, currency: "usd" });
    });
    await ingestUsageEvents({ ...capturedPorts, queue }, [callEvent(accountId, 10 * 60)]);
    expect(await spendCapAlerts(accountId, 30)).toEqual([
      [50, 3005],
      [80, 3015],
      [100, 3015],
    ]);
    await consistent(accountId);
  });

  it("lowered while the statement waits for the period row: the same", async () => {
    const { accountId } = await proAt3005WithBudget();
    // setSpendCap's order: the period row locked, then the account's budget written, committed together.
    await whileAnotherHoldsPeriodRow(
      accountId,
      async (tx) => {
        await tx.$executeRaw`UPDATE account SET overage_cap_cents = 30 WHERE id = ${accountId}::uuid`;
      },
      () => ingestUsageEvents(capturedPorts, [callEvent(accountId, 10 * 60)]),
    );
    // 3,005 -> 3,015 under the $0.30 budget: its 80% and 100% (50% was reached before the report).
    expect(await spendCapAlerts(accountId, 30)).toEqual([
      [80, 3015],
      [100, 3015],
    ]);
    await consistent(accountId);
  });
});

describe("the per-process hint", () => {
  it("a hint that lies either way changes the path a group takes, never what is recorded", async () => {
    const accountId = await proAt(2395);
    // Says the period is just under 80%: the group goes to its transaction at once, and records no alert.
    rememberPeriod(accountId, PERIOD_START, 2399);
    const early = await statementsOf(() => ingestUsageEvents(capturedPorts, [callEvent(accountId, 60)]));
    expect(kinds(early)).toEqual({ begins: 1, writesAlone: 0, writesInTransaction: 1 });
    expect(await alerts(accountId)).toEqual([]);
    // Says the period is far below: the statement's own check finds the crossing.
    rememberPeriod(accountId, PERIOD_START, 10);
    const late = await statementsOf(() => ingestUsageEvents(capturedPorts, [callEvent(accountId, 5 * 60)]));
    expect(kinds(late)).toEqual(ROLLED_BACK);
    expect(await alerts(accountId)).toEqual([{ kind: "threshold", thresholdPercent: 80, minutesUsed: 2401 }]);
    await consistent(accountId);
  });
});
