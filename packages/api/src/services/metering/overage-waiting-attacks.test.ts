// Attacks on "a group written alone does not queue its period's report-overage job again while that job is
// waiting" (guardCtes in usage-ingest.ts, minutely_job_waiting): outages that put the job back
// for later, workers taking it, reports racing the report itself, replicas, a spend cap raised, a renewal and
// a job failed for good. After each scenario the queue is drained (a job put back for later is made due, as
// time passing would) and the promise is checked against the database and the Stripe emulator: the period's
// `overage_reported` is its billable overage, and the customer's invoice items are exactly those minutes,
// each range once.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import type { Viewer } from "../../context.ts";
import { capturingPorts } from "../../hot-paths.fixtures.ts";
import {
  callEvent,
  PERIOD_END,
  PERIOD_START,
  replicaClients,
  runQueuedJobs,
  seededRandom,
  stripeSubscribedAccount,
  useMinutes,
} from "./metering.fixtures.ts";
import { reportOverage } from "./overage.ts";
import { setSpendCap } from "./spend-cap.ts";
import { ingestUsageEvents } from "./usage-ingest.ts";
import { forgetPeriodsSeen } from "./usage-write-guard.ts";

const { db, url } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const { ports, capturedPorts, statementsOf } = capturingPorts(db, url, clock);
const replicas = replicaClients(url, ports);
const { stripe } = ports;
const PRO_LIMIT = 3000;
const PRO_CENTS = 3;

afterAll(() => clock.set(new Date("2026-11-27T12:00:00Z")));
beforeEach(async () => {
  forgetPeriodsSeen();
  // Each scenario starts from an empty queue: a job another scenario left (failed, put back) is not its own.
  await db.$executeRaw`DELETE FROM graphile_worker._private_jobs`;
});

function writtenAlone(sql: string[]) {
  const writes = sql.filter((s) => s.includes("INSERT INTO usage_call_key"));
  return (
    writes.length === 1 && writes.every((s) => s.includes("minutely_write_guard")) && !sql.includes("BEGIN")
  );
}

/** A Pro customer (emulated Stripe) at `minutes` this period, its overage reported and billed already. */
async function proCustomerAt(minutes: number) {
  const { accountId, customerId, subscriptionRowId, ownerEmail, userId } = await stripeSubscribedAccount(
    db,
    stripe,
    "Pro",
    "wait",
  );
  await useMinutes(ports, accountId, minutes);
  expect(await runQueuedJobs(url, ports)).toEqual([]);
  forgetPeriodsSeen();
  const viewer: Viewer = { userId, email: ownerEmail, name: "Owner", role: "user", accountId };
  return { accountId, customerId, subscriptionRowId, viewer };
}

async function reportJobs(accountId: string) {
  return await db.$queryRaw<
    { id: string; key: string | null; attempts: number; locked: boolean; due: boolean; revision: number }[]
  >`SELECT j.id::text AS id, j.key, j.attempts::int AS attempts, j.locked_at IS NOT NULL AS locked,
      j.run_at <= now() AS due, j.revision::int AS revision
    FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id
    WHERE t.identifier = 'report-overage' AND j.payload->>'accountId' = ${accountId} ORDER BY j.id`;
}

/** As the worker puts a job back after an outage (apps/server/src/worker.ts): a new id, attempts 0, later. */
async function putBackForLater(accountId: string) {
  const moved = await db.$executeRaw`
    WITH taken AS (
      DELETE FROM graphile_worker._private_jobs j USING graphile_worker._private_tasks t
      WHERE t.id = j.task_id AND t.identifier = 'report-overage' AND j.payload->>'accountId' = ${accountId}
        AND j.key IS NOT NULL
      RETURNING j.*
    )
    INSERT INTO graphile_worker._private_jobs
      (job_queue_id, task_id, payload, priority, run_at, attempts, max_attempts, last_error, created_at, key,
       revision, flags)
    SELECT job_queue_id, task_id, payload, priority, now() + interval '10 minutes', 0, max_attempts,
      '[outage 1] PostgreSQL could not be reached; retried without counting an attempt', created_at, key,
      revision, flags
    FROM taken`;
  expect(moved).toBe(1);
}

/** Time passes: every job put back or retried for later is due now. Then the queue drains. */
async function drain() {
  await db.$executeRaw`UPDATE graphile_worker._private_jobs SET run_at = now() WHERE run_at > now()`;
  expect(await runQueuedJobs(url, ports)).toEqual([]);
}

/**
 * The promise, for one period: what is reported is the billable overage (beyond the included minutes, and
 * within the budget's minutes when there is one), and the customer's invoice items of that period are
 * exactly those minutes at the price, each range once, contiguous from 0.
 */
async function billedExactly(
  customerId: string,
  accountId: string,
  options: { periodStart?: Date; capMinutes?: number } = {},
) {
  const periodStart = options.periodStart ?? PERIOD_START;
  const row = await db.usagePeriodRollup.findUniqueOrThrow({
    where: { accountId_periodStart: { accountId, periodStart } },
  });
  const over = Math.max(0, row.minutes - PRO_LIMIT - row.packMinutesDrawn);
  const billable = Math.min(over, options.capMinutes ?? Number.MAX_SAFE_INTEGER);
  expect(row.overageReported).toBe(billable);
  const items = (await stripe.invoiceItems.list({ customer: customerId, limit: 100 })).data
    .filter((i) => i.metadata?.minutely_period_start === periodStart.toISOString())
    .map((i) => ({
      from: Number(i.metadata?.minutely_overage_from),
      to: Number(i.metadata?.minutely_overage_to),
      amount: i.amount,
    }))
    .sort((a, b) => a.from - b.from);
  let next = 0;
  for (const item of items) {
    expect(item.from).toBe(next);
    expect(item.amount).toBe((item.to - item.from) * PRO_CENTS);
    next = item.to;
  }
  expect(next).toBe(billable);
  return { minutes: row.minutes, billable, items: items.length };
}

describe("a report-overage job waiting while reports keep coming", () => {
  it("put back after an outage for 10 minutes (attempts 0): the reports leave it, and it reports them all when it runs", async () => {
    const { accountId, customerId } = await proCustomerAt(3050);
    await ingestUsageEvents(ports, [callEvent(accountId, 60)]);
    await putBackForLater(accountId);
    const [waiting] = await reportJobs(accountId);
    expect(waiting).toMatchObject({ attempts: 0, locked: false, due: false });
    for (let i = 0; i < 5; i++) {
      const sql = await statementsOf(() => ingestUsageEvents(capturedPorts, [callEvent(accountId, 120)]));
      expect(writtenAlone(sql)).toBe(true);
    }
    expect(await reportJobs(accountId)).toEqual([waiting]);
    // Before it is due it does not run: nothing more is reported.
    expect(await runQueuedJobs(url, ports)).toEqual([
      expect.objectContaining({ task_identifier: "report-overage", attempts: 0 }),
    ]);
    expect((await db.usagePeriodRollup.findFirstOrThrow({ where: { accountId } })).overageReported).toBe(50);
    await drain();
    expect(await billedExactly(customerId, accountId)).toMatchObject({ minutes: 3061, billable: 61 });
  });

  it("failed for good (attempts used up), then more reports: queued again, and everything is billed", async () => {
    const { accountId, customerId } = await proCustomerAt(3050);
    await ingestUsageEvents(ports, [callEvent(accountId, 60)]);
    await db.$executeRaw`UPDATE graphile_worker._private_jobs SET attempts = max_attempts, last_error = 'boom'
      WHERE key LIKE ${`report-overage:${accountId}:%`}`;
    expect(await runQueuedJobs(url, ports)).toEqual([
      { task_identifier: "report-overage", last_error: "boom", attempts: 25 },
    ]);
    const sql = await statementsOf(() => ingestUsageEvents(capturedPorts, [callEvent(accountId, 60)]));
    expect(writtenAlone(sql)).toBe(true);
    const jobs = await reportJobs(accountId);
    expect(jobs.filter((j) => j.key !== null)).toEqual([
      expect.objectContaining({ attempts: 0, locked: false, due: true }),
    ]);
    await db.$executeRaw`DELETE FROM graphile_worker._private_jobs WHERE key IS NULL AND last_error = 'boom'`;
    await drain();
    expect(await billedExactly(customerId, accountId)).toMatchObject({ minutes: 3052, billable: 52 });
  });

  it("a spend cap raised while it waits: the raised budget's minutes are billed, no more", async () => {
    const { accountId, customerId, viewer } = await proCustomerAt(2990);
    await setSpendCap(ports, viewer, accountId, { amountCents: 90, currency: "usd" }); // 30 minutes
    await useMinutes(ports, accountId, 60); // 3,050: 50 over, 30 billable
    await putBackForLater(accountId);
    for (let i = 0; i < 3; i++) {
      await ingestUsageEvents(capturedPorts, [callEvent(accountId, 60)]);
    }
    await setSpendCap(ports, viewer, accountId, { amountCents: 150, currency: "usd" }); // 50 minutes
    for (let i = 0; i < 3; i++) {
      await ingestUsageEvents(capturedPorts, [callEvent(accountId, 60)]);
    }
    await drain();
    expect(await billedExactly(customerId, accountId, { capMinutes: 50 })).toMatchObject({
      minutes: 3056,
      billable: 50,
    });
  });

  it("the period renews while the old period's job waits: the old period is billed its own minutes, the new one its own", async () => {
    const { accountId, customerId, subscriptionRowId } = await proCustomerAt(3050);
    await ingestUsageEvents(ports, [callEvent(accountId, 60)]);
    await putBackForLater(accountId);
    await ingestUsageEvents(capturedPorts, [callEvent(accountId, 60)]);
    // The subscription sync renews it into December; calls of December follow.
    const DECEMBER_END = new Date("2027-01-01T00:00:00Z");
    await db.subscription.update({
      where: { id: subscriptionRowId },
      data: { currentPeriodStart: PERIOD_END, currentPeriodEnd: DECEMBER_END },
    });
    clock.set(new Date("2026-12-20T12:00:00Z"));
    try {
      const december = new Date("2026-12-10T10:00:00Z");
      for (let left = 3020; left > 0; left -= 1440) {
        await ingestUsageEvents(ports, [
          callEvent(accountId, Math.min(left, 1440) * 60, { startedAt: december }),
        ]);
      }
      forgetPeriodsSeen();
      await ingestUsageEvents(capturedPorts, [callEvent(accountId, 60, { startedAt: december })]);
      await drain();
      expect(await billedExactly(customerId, accountId)).toMatchObject({ minutes: 3052, billable: 52 });
      expect(await billedExactly(customerId, accountId, { periodStart: PERIOD_END })).toMatchObject({
        minutes: 3021,
        billable: 21,
      });
    } finally {
      clock.set(new Date("2026-11-27T12:00:00Z"));
    }
  });
});

describe("reports racing workers, from several replicas", () => {
  it("a worker that has decided the period, its job not completed yet, and a report then: its minutes are billed too", async () => {
    const { accountId, customerId } = await proCustomerAt(3050);
    await ingestUsageEvents(ports, [callEvent(accountId, 60)]);
    // A worker takes the job and decides the period (3,051: 51 reported); its completion is not written yet.
    await db.$executeRaw`UPDATE graphile_worker._private_jobs
      SET locked_at = now(), locked_by = 'another-worker', attempts = 1 WHERE key IS NOT NULL`;
    expect(await reportOverage(ports, { accountId, periodStart: PERIOD_START })).toMatchObject({
      toMinutes: 51,
    });
    const sql = await statementsOf(() => ingestUsageEvents(capturedPorts, [callEvent(accountId, 120)]));
    expect(writtenAlone(sql)).toBe(true);
    // The worker completes its job (graphile-worker deletes it by id).
    await db.$executeRaw`DELETE FROM graphile_worker._private_jobs WHERE locked_by = 'another-worker'`;
    await drain();
    expect(await billedExactly(customerId, accountId)).toMatchObject({ minutes: 3053, billable: 53 });
  });

  it("reports written alone by 3 replicas while workers take, run and put back the period's job: every minute billed once", async () => {
    const { accountId, customerId } = await proCustomerAt(3010);
    const random = seededRandom(7);
    const clients = Array.from({ length: 3 }, () => replicas.portsOn(replicas.client(2)));
    let minutes = 3010;
    for (let round = 0; round < 6; round++) {
      const reports = clients.flatMap((p) =>
        Array.from({ length: 3 }, () => {
          const m = 1 + Math.floor(random() * 5);
          minutes += m;
          return ingestUsageEvents(p, [callEvent(accountId, m * 60)]);
        }),
      );
      // A worker runs the queue meanwhile; another round, an outage puts the waiting job back for later.
      const work =
        round % 3 === 2
          ? putBackForLater(accountId).catch(() => undefined)
          : runQueuedJobs(url, ports).then(() => undefined);
      await Promise.all([...reports, work]);
    }
    await drain();
    expect(await billedExactly(customerId, accountId)).toMatchObject({
      minutes,
      billable: minutes - PRO_LIMIT,
    });
  });
});
