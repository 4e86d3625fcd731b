// A group of usage reports written alone (one autocommit statement) when nothing has to follow its write,
// and what happens when the statement's own checks find otherwise: it is rolled back whole and the group is
// written in its transaction, which does what has to follow (an alert, overage to report, the period's plan,
// a replay's read-back). "Another process" is played by forgetting what this process saw of the periods
// (forgetPeriodsSeen), so that only the statement's checks can tell.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { beforeEach, describe, expect, it } from "vitest";
import { capturingPorts } from "../../hot-paths.fixtures.ts";
import {
  callEvent,
  createAccount,
  PERIOD_START,
  queuedJobs,
  recountPeriods,
  rollupPeriods,
  subscribe,
  useMinutes,
} from "./metering.fixtures.ts";
import { ingestUsageEvents } from "./usage-ingest.ts";
import { forgetPeriodsSeen, MAX_EVENTS_WRITTEN_ALONE, periodGuards } from "./usage-write-guard.ts";

const { db, url } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const { ports, capturedPorts, statementsOf } = capturingPorts(db, url, clock);

/** The statements of a report, told apart: transaction control, the write statement (alone or not). */
function kinds(sql: string[]) {
  const writes = sql.filter((s) => s.includes("INSERT INTO usage_call_key"));
  return {
    begins: sql.filter((s) => s.trim() === "BEGIN").length,
    writesAlone: writes.filter((s) => s.includes("minutely_write_guard")).length,
    writesInTransaction: writes.filter((s) => !s.includes("minutely_write_guard")).length,
  };
}

/** A Pro account (3,000 minutes, overage at $0.03) whose current period records its plan already. */
async function proAccount() {
  const { accountId } = await createAccount(db);
  await subscribe(db, accountId, { plan: "Pro" });
  await ingestUsageEvents(ports, [callEvent(accountId, 60)]);
  return accountId;
}

async function alerts(accountId: string) {
  return await db.usageAlert.findMany({
    where: { accountId },
    select: { thresholdPercent: true, minutesUsed: true },
    orderBy: { thresholdPercent: "asc" },
  });
}

/** The account's report-overage job rows, oldest first: what add_jobs changes when it is called. */
async function overageJobRows(accountId: string) {
  return await db.$queryRaw<
    { key: string | null; revision: number; attempts: number; locked: boolean; due: boolean; run_at: Date }[]
  >`SELECT j.key, j.revision, j.attempts::int AS attempts, j.locked_at IS NOT NULL AS locked,
      j.run_at <= now() AS due, j.run_at
    FROM graphile_worker._private_jobs j
    WHERE j.payload->>'accountId' = ${accountId} ORDER BY j.id`;
}

beforeEach(() => forgetPeriodsSeen());

describe("a group written alone", () => {
  it("is one statement after the context read: no BEGIN, no COMMIT", async () => {
    const accountId = await proAccount();
    const sql = await statementsOf(() => ingestUsageEvents(capturedPorts, [callEvent(accountId, 90)]));
    expect(kinds(sql), sql.join("\n---\n")).toEqual({ begins: 0, writesAlone: 1, writesInTransaction: 0 });
    expect(sql).toHaveLength(2);
    expect(await rollupPeriods(db, accountId)).toEqual(await recountPeriods(db, accountId));
  });

  it("crossing a threshold another process brought near: rolled back whole, and the transaction records the alert once", async () => {
    const accountId = await proAccount();
    await useMinutes(ports, accountId, 2394); // 2,395 with the first minute; 80% is 2,400
    forgetPeriodsSeen();
    const sql = await statementsOf(() => ingestUsageEvents(capturedPorts, [callEvent(accountId, 10 * 60)]));
    expect(kinds(sql)).toEqual({ begins: 1, writesAlone: 1, writesInTransaction: 1 });
    expect(await alerts(accountId)).toEqual([{ thresholdPercent: 80, minutesUsed: 2405 }]);
    // Counted once: the statement that was rolled back left nothing.
    expect(await rollupPeriods(db, accountId)).toEqual(await recountPeriods(db, accountId));
    const [period] = await rollupPeriods(db, accountId);
    expect(period?.minutes).toBe(2405);
    // The next report, under the next threshold and seen by this process, is written alone again.
    const next = await statementsOf(() => ingestUsageEvents(capturedPorts, [callEvent(accountId, 60)]));
    expect(kinds(next)).toEqual({ begins: 0, writesAlone: 1, writesInTransaction: 0 });
    expect(await alerts(accountId)).toHaveLength(1);
  });

  it("with overage to report: written alone all the same, the statement queues the period's report once", async () => {
    const accountId = await proAccount();
    await useMinutes(ports, accountId, 3100);
    await db.$executeRaw`DELETE FROM graphile_worker._private_jobs`;
    forgetPeriodsSeen();
    for (let i = 0; i < 2; i++) {
      const sql = await statementsOf(() => ingestUsageEvents(capturedPorts, [callEvent(accountId, 60)]));
      expect(kinds(sql)).toEqual({ begins: 0, writesAlone: 1, writesInTransaction: 0 });
    }
    // The same job as the transaction queues (its key dedupes): one pending report for the period.
    expect(await queuedJobs(db, "report-overage")).toEqual([
      expect.objectContaining({
        key: `report-overage:${accountId}:${PERIOD_START.toISOString()}`,
        payload: { accountId, periodStart: PERIOD_START.toISOString() },
      }),
    ]);
    expect(await rollupPeriods(db, accountId)).toEqual(await recountPeriods(db, accountId));
  });

  it("with the period's report waiting already: queued once, never again until it runs (nor moved later)", async () => {
    const accountId = await proAccount();
    await useMinutes(ports, accountId, 3100);
    await db.$executeRaw`DELETE FROM graphile_worker._private_jobs`;
    forgetPeriodsSeen();
    await ingestUsageEvents(capturedPorts, [callEvent(accountId, 60)]);
    const [queued] = await overageJobRows(accountId);
    for (let i = 0; i < 3; i++) {
      const sql = await statementsOf(() => ingestUsageEvents(capturedPorts, [callEvent(accountId, 60)]));
      expect(kinds(sql)).toEqual({ begins: 0, writesAlone: 1, writesInTransaction: 0 });
    }
    // add_jobs was not called again: the job is the same row, never replaced (revision 0, the same run_at).
    expect(await overageJobRows(accountId)).toEqual([queued]);
    expect(queued).toMatchObject({ revision: 0, attempts: 0, locked: false });
  });

  it("with the period's report running or failed: queued again, as before (the running job may have read the period already)", async () => {
    const accountId = await proAccount();
    await useMinutes(ports, accountId, 3100);
    await db.$executeRaw`DELETE FROM graphile_worker._private_jobs`;
    forgetPeriodsSeen();
    await ingestUsageEvents(capturedPorts, [callEvent(accountId, 60)]);
    // A worker has taken it: the next report adds a job beside it (graphile-worker takes the key off the
    // running one).
    await db.$executeRaw`UPDATE graphile_worker._private_jobs
      SET locked_at = now(), locked_by = 'another-worker' WHERE key IS NOT NULL`;
    await ingestUsageEvents(capturedPorts, [callEvent(accountId, 60)]);
    const afterRunning = await overageJobRows(accountId);
    expect(afterRunning).toEqual([
      expect.objectContaining({ key: null, locked: true }),
      expect.objectContaining({ key: expect.any(String), locked: false, attempts: 0 }),
    ]);
    // It failed once (a Stripe outage) and waits for its retry: the next report queues it again, at once.
    await db.$executeRaw`DELETE FROM graphile_worker._private_jobs WHERE key IS NULL`;
    await db.$executeRaw`UPDATE graphile_worker._private_jobs
      SET attempts = 1, run_at = now() + interval '10 minutes' WHERE key IS NOT NULL`;
    await ingestUsageEvents(capturedPorts, [callEvent(accountId, 60)]);
    expect(await overageJobRows(accountId)).toEqual([
      expect.objectContaining({ revision: (afterRunning[1]?.revision ?? -1) + 1, attempts: 0, due: true }),
    ]);
  });

  it("under the included minutes, or with overage reported already, queues no report", async () => {
    const accountId = await proAccount();
    await db.$executeRaw`DELETE FROM graphile_worker._private_jobs`;
    await ingestUsageEvents(capturedPorts, [callEvent(accountId, 60)]);
    expect(await queuedJobs(db, "report-overage")).toEqual([]);
    // Overage of 100 minutes, all reported: nothing more to report.
    await useMinutes(ports, accountId, 3098);
    await db.$executeRaw`UPDATE usage_period_rollup SET overage_reported = minutes - 3000 + 1
      WHERE account_id = ${accountId}::uuid`;
    await db.$executeRaw`DELETE FROM graphile_worker._private_jobs`;
    forgetPeriodsSeen();
    const sql = await statementsOf(() => ingestUsageEvents(capturedPorts, [callEvent(accountId, 60)]));
    expect(kinds(sql)).toEqual({ begins: 0, writesAlone: 1, writesInTransaction: 0 });
    expect(await queuedJobs(db, "report-overage")).toEqual([]);
  });

  it("a replayed call: rolled back, and the transaction answers it as a duplicate", async () => {
    const accountId = await proAccount();
    const call = callEvent(accountId, 120);
    await ingestUsageEvents(ports, [call]);
    const sql = await statementsOf(async () => {
      const result = await ingestUsageEvents(capturedPorts, [call]);
      expect(result.results).toEqual([expect.objectContaining({ status: "duplicate" })]);
    });
    expect(kinds(sql)).toEqual({ begins: 1, writesAlone: 1, writesInTransaction: 1 });
    expect(await rollupPeriods(db, accountId)).toEqual(await recountPeriods(db, accountId));
  });

  it("a plan changed since the period recorded it: rolled back, and the transaction records the new plan", async () => {
    const accountId = await proAccount();
    const enterprise = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Enterprise" } });
    await db.subscription.updateMany({
      where: { accountId },
      data: { planId: enterprise.id, syncTicket: { increment: 1 } },
    });
    const sql = await statementsOf(() => ingestUsageEvents(capturedPorts, [callEvent(accountId, 60)]));
    expect(kinds(sql)).toEqual({ begins: 1, writesAlone: 1, writesInTransaction: 1 });
    const [row] = await db.$queryRaw<{ plan_id: string; call_minutes_limit: number }[]>`
      SELECT plan_id::text, call_minutes_limit FROM usage_period_rollup
      WHERE account_id = ${accountId}::uuid AND period_start = ${PERIOD_START}`;
    expect(row).toEqual({ plan_id: enterprise.id, call_minutes_limit: enterprise.callMinutesLimit });
  });

  it("a new period (no plan recorded yet) goes to its transaction, which records the plan", async () => {
    const { accountId } = await createAccount(db);
    await subscribe(db, accountId, { plan: "Pro" });
    const sql = await statementsOf(() => ingestUsageEvents(capturedPorts, [callEvent(accountId, 60)]));
    expect(kinds(sql)).toEqual({ begins: 1, writesAlone: 1, writesInTransaction: 1 });
    const [row] = await db.$queryRaw<{ call_minutes_limit: number | null }[]>`
      SELECT call_minutes_limit FROM usage_period_rollup WHERE account_id = ${accountId}::uuid`;
    expect(row?.call_minutes_limit).toBe(3000);
  });
});

describe("periodGuards", () => {
  const subscription = {
    currentPeriodStart: PERIOD_START,
    syncTicket: 3n,
    plan: {
      id: "00000000-0000-4000-8000-000000000001",
      name: "Pro",
      callMinutesLimit: 3000,
      agentsAllowed: 5,
      overagePrice: { amount: 3, currency: "usd" as const },
      currency: "usd" as const,
    },
  } as unknown as Parameters<typeof periodGuards>[0][number]["subscription"];
  const accountId = "00000000-0000-4000-8000-00000000000a";
  const event = { accountId, minutes: 5, periodStart: PERIOD_START, late: false, subscription };
  const context = {
    readBack: 0,
    thresholds: [{ accountId, percent: 50 }],
    spendCaps: new Map(),
    packAccounts: new Set<string>(),
    autoTopUpAccounts: new Set<string>(),
  };

  it("names each period once, with the plan it must record and its trigger counts", () => {
    expect(periodGuards([event, event], context)).toEqual([
      {
        account_id: accountId,
        period_start: PERIOD_START.toISOString(),
        plan_id: subscription.plan.id,
        call_minutes_limit: 3000,
        overage_price: 3,
        currency: "usd",
        ticket: "3",
        triggers: [1500, 2400, 3000],
        cap_minutes: null,
        cap_cents: null,
        cap_currency: null,
        overage_job: {
          payload: { accountId, periodStart: PERIOD_START.toISOString() },
          job_key: `report-overage:${accountId}:${PERIOD_START.toISOString()}`,
        },
      },
    ]);
  });

  it("sends to the transaction at once what is known to need it", () => {
    expect(periodGuards([{ ...event, late: true }], context)).toBeNull();
    expect(periodGuards([{ ...event, periodStart: new Date("2026-10-01T00:00:00Z") }], context)).toBeNull();
    expect(periodGuards([event], { ...context, readBack: 1 })).toBeNull();
    expect(periodGuards([event], { ...context, packAccounts: new Set([accountId]) })).toBeNull();
    expect(periodGuards([event], { ...context, autoTopUpAccounts: new Set([accountId]) })).toBeNull();
    expect(
      periodGuards(
        Array.from({ length: MAX_EVENTS_WRITTEN_ALONE + 1 }, () => event),
        context,
      ),
    ).toBeNull();
    expect(periodGuards([], context)).toBeNull();
  });
});
