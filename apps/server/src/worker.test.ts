import { setTimeout as sleep } from "node:timers/promises";
import { createTaskList, ingestUsageEvents, PostgresJobQueue, UpstreamUnavailableError } from "@minutely/api";
import { testPorts } from "@minutely/api/testing";
import { testDatabase } from "@minutely/db/vitest";
import { systemClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import type { FastifyBaseLogger } from "fastify";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { createMetrics } from "./metrics.ts";
import {
  outageDelayMs,
  outageRetriesOf,
  startWorker,
  superviseWorker,
  type WorkerRunner,
  workerPoolsKept,
} from "./worker.ts";

const database = await testDatabase();
const { db, url } = database;
const ports = { ...testPorts(db, { stripeApiBase: stripeEmulatorUrl() }), clock: systemClock };
const runners: WorkerRunner[] = [];
afterAll(async () => {
  for (const runner of runners) await runner.stop();
});

/** A logger keeping its JSON lines in memory. */
function memoryLogger(): { log: FastifyBaseLogger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log: log as unknown as FastifyBaseLogger, lines };
}

async function until(condition: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(25);
  }
}

async function jobsLeft(task: string): Promise<number> {
  const [row] = await db.$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM graphile_worker._private_jobs j
    JOIN graphile_worker._private_tasks t ON t.id = j.task_id WHERE t.identifier = ${task}`;
  return row?.n ?? 0;
}

describe("several worker runners on one queue", () => {
  it("process 200 jobs exactly once between them", async () => {
    const runs: { job: number; runner: string }[] = [];
    for (const runner of ["a", "b"]) {
      runners.push(
        await startWorker({
          connectionString: url,
          concurrency: 4,
          ports,
          log: memoryLogger().log,
          pollInterval: 200,
          tasks: {
            "test-record": async (payload) => {
              runs.push({ job: (payload as { n: number }).n, runner });
              await sleep(5);
            },
          },
        }),
      );
    }
    const queue = new PostgresJobQueue(db);
    await db.$transaction(async (tx) => {
      for (let n = 0; n < 200; n++) await queue.enqueue("test-record", { n }, {}, tx);
    });

    await until(async () => runs.length >= 200 && (await jobsLeft("test-record")) === 0, "the 200 jobs");
    const jobs = runs.map((r) => r.job).sort((x, y) => x - y);
    expect(jobs).toEqual(Array.from({ length: 200 }, (_, n) => n));
    // Both runners took part (each job was locked by exactly one of them).
    expect(new Set(runs.map((r) => r.runner))).toEqual(new Set(["a", "b"]));
    for (const runner of runners.splice(0)) await runner.stop();
    expect(runs).toHaveLength(200);
  });
});

describe("a named queue (one Stripe customer's events)", () => {
  it("starts the next job as soon as the one before it is done, not at the next poll", async () => {
    const order: number[] = [];
    let running = 0;
    let overlapped = false;
    runners.push(
      await startWorker({
        connectionString: url,
        concurrency: 4,
        ports,
        log: memoryLogger().log,
        // A poll a minute: only the queue's unlock notification can start the next job within the wait below.
        pollInterval: 60_000,
        tasks: {
          "test-in-queue": async (payload) => {
            running += 1;
            if (running > 1) overlapped = true;
            await sleep(10);
            order.push((payload as { n: number }).n);
            running -= 1;
          },
        },
      }),
    );
    const queue = new PostgresJobQueue(db);
    await db.$transaction(async (tx) => {
      for (let n = 0; n < 6; n++)
        await queue.enqueue("test-in-queue", { n }, { queueName: "stripe-customer:cus_next" }, tx);
    });
    await until(async () => order.length === 6 && (await jobsLeft("test-in-queue")) === 0, "the queue");
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(overlapped).toBe(false);
    for (const runner of runners.splice(0)) await runner.stop();
  });
});

declare global {
  namespace GraphileConfig {
    interface Plugins {
      TestHangingShutdown: true;
    }
  }
}

/**
 * Makes the first pool's shutdown never finish, as graphile-worker 0.17's does when PostgreSQL goes away
 * while it records a job's outcome (seen in the database-restart test: the pool shut down, its runner's
 * promise never settled, and the worker stalled).
 */
function hangFirstPoolShutdown(): GraphileConfig.Plugin {
  let hung = false;
  return {
    name: "TestHangingShutdown",
    version: "0.0.0",
    worker: {
      middleware: {
        poolGracefulShutdown(next) {
          if (hung) return next();
          hung = true;
          return new Promise<void>(() => {});
        },
      },
    },
  };
}

describe("superviseWorker", () => {
  it("replaces a runner that could not record a job's outcome, and records the outcome once it can", async () => {
    // The database refuses to delete finished jobs (as when it goes away at that moment): the runner
    // cannot record the outcome and shuts its pool down, and that shutdown never finishes, so its
    // runner's promise never settles: only its fatal-error event tells the supervisor.
    await db.$executeRawUnsafe(`
      CREATE FUNCTION public.test_refuse_job_delete() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'test: the database refuses to complete jobs'; END $$`);
    await db.$executeRawUnsafe(`
      CREATE TRIGGER test_refuse_job_delete BEFORE DELETE ON graphile_worker._private_jobs
      FOR EACH ROW EXECUTE FUNCTION public.test_refuse_job_delete()`);
    const runs: number[] = [];
    const { log, lines } = memoryLogger();
    const supervised = await superviseWorker({
      connectionString: url,
      concurrency: 2,
      ports,
      log,
      pollInterval: 200,
      reclaimInterval: 500,
      reclaimGrace: 500,
      plugins: [hangFirstPoolShutdown()],
      tasks: {
        "test-outcome": async (payload) => {
          runs.push((payload as { n: number }).n);
        },
      },
    });
    try {
      const queue = new PostgresJobQueue(db);
      await queue.enqueue("test-outcome", { n: 1 });
      await until(
        () =>
          lines.some(
            (line) => line.msg === "the background worker stopped with an error; starting a new one",
          ),
        "the supervisor to see the runner die",
      );
      // Long enough for the new runner to take the dead one's jobs, were it not still holding them.
      await sleep(1500);
      expect(await jobsLeft("test-outcome")).toBe(1);
      await db.$executeRawUnsafe("DROP TRIGGER test_refuse_job_delete ON graphile_worker._private_jobs");
      await queue.enqueue("test-outcome", { n: 2 });
      await until(async () => (await jobsLeft("test-outcome")) === 0, "the new runner to run the jobs");
      // Job 1 ran once: the dead runner wrote its outcome (completed) once the database took it, instead of
      // leaving the job to run again at the cost of an attempt.
      expect(runs.filter((n) => n === 1)).toEqual([1]);
      expect(runs).toContain(2);
      expect(lines.some((line) => line.msg === "the background worker runs again")).toBe(true);
      expect(
        lines.find((line) => line.msg === "recorded the outcomes of the jobs the dead runner held"),
      ).toMatchObject({ completed: 1, failed: 0, returned: 0, superseded: 0 });
    } finally {
      await db.$executeRawUnsafe(
        "DROP TRIGGER IF EXISTS test_refuse_job_delete ON graphile_worker._private_jobs",
      );
      await supervised.stop();
    }
  });
});

describe("a runner that died (a database flap)", () => {
  it("stops its cron and is forgotten by graphile-worker, so nothing of it runs or piles up after a restart", async () => {
    await db.$executeRawUnsafe(`
      CREATE OR REPLACE FUNCTION public.test_refuse_job_delete() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'test: the database refuses to complete jobs'; END $$`);
    await db.$executeRawUnsafe(`
      CREATE TRIGGER test_refuse_job_delete BEFORE DELETE ON graphile_worker._private_jobs
      FOR EACH ROW EXECUTE FUNCTION public.test_refuse_job_delete()`);
    const poolsBefore = workerPoolsKept();
    const runner = await startWorker({
      connectionString: url,
      concurrency: 1,
      ports,
      log: memoryLogger().log,
      pollInterval: 50,
      schedule: true,
      plugins: [hangFirstPoolShutdown()],
      tasks: { "test-died": async () => {} },
    });
    try {
      await until(() => runner.cronActive, "the cron to start");
      await new PostgresJobQueue(db).enqueue("test-died", {});
      // Completing the job fails: the runner dies, and graphile-worker's shutdown of its pool never ends.
      expect(await runner.ended).toBeDefined();
      await db.$executeRawUnsafe("DROP TRIGGER test_refuse_job_delete ON graphile_worker._private_jobs");
      await runner.stop();
      // Its cron would go on scheduling on the pool ended with it; the list of pools kept one per death.
      expect(runner.cronActive).toBe(false);
      expect(workerPoolsKept()).toBe(poolsBefore);
      expect(await jobsLeft("test-died")).toBe(0);
    } finally {
      await db.$executeRawUnsafe(
        "DROP TRIGGER IF EXISTS test_refuse_job_delete ON graphile_worker._private_jobs",
      );
    }
  });
});

async function jobRow(task: string) {
  const [row] = await db.$queryRaw<
    { attempts: number; max_attempts: number; last_error: string | null; key: string | null; delay: number }[]
  >`
    SELECT j.attempts, j.max_attempts, j.last_error, j.key,
      EXTRACT(EPOCH FROM j.run_at - now())::float8 * 1000 AS delay
    FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id
    WHERE t.identifier = ${task}`;
  return row;
}

describe("a dependency that cannot be reached", () => {
  it("puts the job back without counting an attempt, backing off exponentially, until it completes", async () => {
    const metrics = createMetrics();
    const seen: { attempt: number; at: number }[] = [];
    const notes: (string | null)[] = [];
    runners.push(
      await startWorker({
        connectionString: url,
        concurrency: 1,
        ports,
        log: memoryLogger().log,
        metrics,
        pollInterval: 50,
        outageBackoff: { baseMs: 200, maxMs: 10_000 },
        tasks: {
          "test-stripe-down": async (_payload, context) => {
            seen.push({ attempt: context.attempt, at: Date.now() });
            notes.push((await jobRow("test-stripe-down"))?.last_error ?? null);
            if (seen.length <= 4) {
              throw new UpstreamUnavailableError("We could not get an answer from Stripe.", 1);
            }
          },
        },
      }),
    );
    // Three attempts allowed: four outage retries would have used them all up.
    await new PostgresJobQueue(db).enqueue("test-stripe-down", {}, { jobKey: "stripe-down", maxAttempts: 3 });
    await until(async () => seen.length === 5 && (await jobsLeft("test-stripe-down")) === 0, "the job");
    // Every run was the job's first attempt.
    expect(seen.map((s) => s.attempt)).toEqual([1, 1, 1, 1, 1]);
    // The job said why it waits, and how many outage retries in a row it had.
    expect(notes[0]).toBeNull();
    for (const [i, note] of notes.slice(1).entries()) {
      expect(note).toMatch(
        new RegExp(`^\\[outage ${i + 1}\\] Stripe could not be reached; retried without counting`),
      );
    }
    // Backoff doubles (200, 400, 800, 1600 ms, each jittered between half and all of it).
    const gaps = seen.slice(1).map((s, i) => s.at - (seen[i] as { at: number }).at);
    for (const [i, gap] of gaps.entries()) expect(gap).toBeGreaterThanOrEqual((200 * 2 ** i) / 2 - 20);
    expect(gaps[3]).toBeGreaterThan(gaps[0] as number);
    const retries = (await metrics.jobOutageRetries.get()).values;
    expect(retries).toEqual([
      expect.objectContaining({ labels: { task: "test-stripe-down", dependency: "stripe" }, value: 4 }),
    ]);
    expect((await metrics.jobFailures.get()).values).toEqual([]);
    for (const runner of runners.splice(0)) await runner.stop();
  });

  it("a real error after an outage counts, and fails the job for good with that error", async () => {
    let runs = 0;
    runners.push(
      await startWorker({
        connectionString: url,
        concurrency: 1,
        ports,
        log: memoryLogger().log,
        pollInterval: 50,
        outageBackoff: { baseMs: 50, maxMs: 50 },
        tasks: {
          "test-real-error": async () => {
            runs += 1;
            if (runs <= 2) throw new Error("Connection terminated unexpectedly");
            throw new Error("the payload names an account that does not exist");
          },
        },
      }),
    );
    await new PostgresJobQueue(db).enqueue("test-real-error", {}, { jobKey: "real-error", maxAttempts: 1 });
    await until(
      async () => (await jobRow("test-real-error"))?.last_error?.startsWith("the payload") === true,
      "the failure",
    );
    expect(runs).toBe(3);
    expect(await jobRow("test-real-error")).toMatchObject({
      attempts: 1,
      max_attempts: 1,
      last_error: "the payload names an account that does not exist",
    });
    for (const runner of runners.splice(0)) await runner.stop();
    await db.$executeRaw`DELETE FROM graphile_worker._private_jobs WHERE key = 'real-error'`;
  });

  it("a job whose payload its task's schema refuses fails for good at once, naming the field", async () => {
    const { log, lines } = memoryLogger();
    runners.push(
      await startWorker({
        connectionString: url,
        concurrency: 1,
        ports,
        log,
        pollInterval: 50,
        tasks: createTaskList(ports),
      }),
    );
    // Queued as an old release or a hand-made replay might have: the account id is not a UUID.
    await db.$executeRaw`SELECT graphile_worker.add_job('report-overage',
      json_build_object('accountId', 'acc-1', 'periodStart', '2026-01-01T00:00:00.000Z'),
      job_key => 'invalid-payload', max_attempts => 25)`;
    await until(async () => (await jobRow("report-overage"))?.last_error != null, "the failure");
    expect(await jobRow("report-overage")).toMatchObject({
      attempts: 25,
      max_attempts: 25,
      last_error: expect.stringMatching(/^job report-overage has an invalid payload: accountId: /),
    });
    expect(lines.find((line) => line.task === "report-overage")).toMatchObject({
      msg: "job report-overage failed for good",
      permanent: true,
    });
    for (const runner of runners.splice(0)) await runner.stop();
    await db.$executeRaw`DELETE FROM graphile_worker._private_jobs WHERE key = 'invalid-payload'`;
  });

  it("a job superseded while it ran is deleted instead of put back: its successor does the work", async () => {
    const payloads: number[] = [];
    const queue = new PostgresJobQueue(db);
    runners.push(
      await startWorker({
        connectionString: url,
        concurrency: 1,
        ports,
        log: memoryLogger().log,
        pollInterval: 50,
        outageBackoff: { baseMs: 50, maxMs: 50 },
        tasks: {
          "test-superseded": async (payload) => {
            const n = (payload as { n: number }).n;
            payloads.push(n);
            if (n === 1) {
              // New information arrives while the job runs: add_job supersedes the running job.
              await queue.enqueue("test-superseded", { n: 2 }, { jobKey: "superseded" });
              throw new Error("Connection terminated unexpectedly");
            }
          },
        },
      }),
    );
    await queue.enqueue("test-superseded", { n: 1 }, { jobKey: "superseded" });
    await until(
      async () => payloads.includes(2) && (await jobsLeft("test-superseded")) === 0,
      "the successor",
    );
    expect(payloads).toEqual([1, 2]);
    for (const runner of runners.splice(0)) await runner.stop();
  });

  it("graphile-worker's own failure of the put-back run, landing late, does not touch the job's next run", async () => {
    // graphile-worker writes its failure of a run (here the put-back one) after the task threw, matching the
    // job's id and the runner's pool; under load that write can land after the backoff, when the same runner
    // runs the job again. Played here deterministically: the second run writes the first run's failure as
    // graphile-worker does (failJobs.ts), then looks at its own job.
    const runs: { id: string; attempt: number; lockedBy: string | null; lastError: string | null }[] = [];
    let firstRun: { id: string; lockedBy: string } | undefined;
    runners.push(
      await startWorker({
        connectionString: url,
        concurrency: 1,
        ports,
        log: memoryLogger().log,
        pollInterval: 50,
        outageBackoff: { baseMs: 50, maxMs: 50 },
        tasks: {
          "test-late-failure": async (_payload, context) => {
            const [job] = await db.$queryRaw<{ locked_by: string }[]>`
              SELECT locked_by FROM graphile_worker._private_jobs WHERE id = ${BigInt(context.jobId)}`;
            if (!firstRun) {
              firstRun = { id: context.jobId, lockedBy: job?.locked_by ?? "" };
              throw new UpstreamUnavailableError("We could not get an answer from Stripe.", 1);
            }
            await db.$executeRaw`
              WITH j AS (
                UPDATE graphile_worker._private_jobs AS jobs
                SET last_error = 'put back: Stripe could not be reached',
                    run_at = greatest(now(), run_at) + (exp(least(attempts, 10)) * interval '1 second'),
                    locked_by = NULL, locked_at = NULL
                WHERE id = ${BigInt(firstRun.id)} AND locked_by = ${firstRun.lockedBy}
                RETURNING *
              )
              UPDATE graphile_worker._private_job_queues AS q SET locked_by = NULL, locked_at = NULL
              FROM j WHERE q.id = j.job_queue_id AND q.locked_by = ${firstRun.lockedBy}`;
            const [now] = await db.$queryRaw<{ locked_by: string | null; last_error: string | null }[]>`
              SELECT locked_by, last_error FROM graphile_worker._private_jobs WHERE id = ${BigInt(context.jobId)}`;
            runs.push({
              id: context.jobId,
              attempt: context.attempt,
              lockedBy: now?.locked_by ?? null,
              lastError: now?.last_error ?? null,
            });
          },
        },
      }),
    );
    await new PostgresJobQueue(db).enqueue(
      "test-late-failure",
      {},
      { jobKey: "late-failure", queueName: "late-failure", maxAttempts: 1 },
    );
    await until(async () => runs.length === 1 && (await jobsLeft("test-late-failure")) === 0, "the job");
    const [run] = runs;
    // The same runner ran it again, still holding it after the late write, which matched nothing.
    expect(run?.lockedBy).toBe(firstRun?.lockedBy);
    expect(run?.attempt).toBe(1);
    expect(run?.lastError).toMatch(/^\[outage 1\] Stripe could not be reached/);
    // Its named queue is free again (it was locked by the run, and unlocked once the job completed).
    const [queue] = await db.$queryRaw<{ locked_by: string | null }[]>`
      SELECT locked_by FROM graphile_worker._private_job_queues WHERE queue_name = 'late-failure'`;
    expect(queue?.locked_by ?? null).toBeNull();
    for (const runner of runners.splice(0)) await runner.stop();
  });
});

describe("a period's report-overage job put back after a database outage while usage reports keep coming", () => {
  it("reports written alone leave the put-back job waiting, a report while it runs or after it decided queues another; every minute is reported, each range once", async () => {
    // An account on Pro (3,000 minutes included) in its current period, 3,010 minutes used.
    const now = new Date();
    const periodStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    const periodEnd = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
    const account = await db.account.create({ data: { name: "Put back overage" } });
    const plan = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
    await db.subscription.create({
      data: {
        accountId: account.id,
        planId: plan.id,
        stripePriceId: `price_putback_${account.id}`,
        stripeSubscriptionId: `sub_putback_${account.id}`,
        status: "active",
        currency: "usd",
        currentPeriodStart: periodStart,
        currentPeriodEnd: periodEnd,
        createdAt: periodStart,
      },
    });
    let calls = 0;
    const call = (minutes: number) => ({
      callId: `putback-${account.id}-${calls++}`,
      accountId: account.id,
      agentId: null,
      direction: "outbound" as const,
      startedAt: new Date(Math.max(periodStart.getTime(), now.getTime() - 3_600_000)),
      durationSeconds: minutes * 60,
    });
    await ingestUsageEvents(ports, [call(1440), call(1440), call(130)]);
    let used = 3010;
    const report = async (minutes: number) => {
      used += minutes;
      await ingestUsageEvents(ports, [call(minutes)]);
    };
    // The real report, after two runs that lose the database: the first one while a report comes in; the
    // first real one sees a report come in after it decided.
    const product = createTaskList(ports);
    let runs = 0;
    const bills: { from: number; to: number }[] = [];
    runners.push(
      await startWorker({
        connectionString: url,
        concurrency: 1,
        ports,
        log: memoryLogger().log,
        pollInterval: 50,
        outageBackoff: { baseMs: 400, maxMs: 400 },
        tasks: {
          "report-overage": async (payload, context) => {
            runs += 1;
            if (runs === 1) await report(2);
            if (runs <= 2) throw new Error("Connection terminated unexpectedly");
            await product["report-overage"](payload, context);
            // Decided; a report comes in before the job's completion is written (it is still held).
            if (runs === 3) await report(3);
          },
          "bill-overage": async (payload) => {
            const bill = payload as { fromMinutes: number; toMinutes: number };
            bills.push({ from: bill.fromMinutes, to: bill.toMinutes });
          },
        },
      }),
    );
    await report(1);
    // While the job waits out its backoff (put back, attempts 0), more reports.
    for (let i = 0; i < 8; i++) {
      await report(1 + (i % 3));
      await sleep(40);
    }
    const reported = async () =>
      (
        await db.usagePeriodRollup.findUniqueOrThrow({
          where: { accountId_periodStart: { accountId: account.id, periodStart } },
        })
      ).overageReported;
    await until(
      async () => (await jobsLeft("report-overage")) === 0 && (await reported()) === used - 3000,
      "every overage minute reported",
    );
    expect(runs).toBeGreaterThanOrEqual(3);
    await until(async () => (await jobsLeft("bill-overage")) === 0, "the bills");
    bills.sort((a, b) => a.from - b.from);
    let next = 0;
    for (const bill of bills) {
      expect(bill.from).toBe(next);
      next = bill.to;
    }
    expect(next).toBe(used - 3000);
    for (const runner of runners.splice(0)) await runner.stop();
  });
});

describe("a webhook event while Stripe fails", () => {
  it("does not count the runs Stripe failed; once it answers the event ends with its real outcome", async () => {
    const metrics = createMetrics();
    // Stripe fails this subscription's reads twice over (three requests each: the SDK retries twice).
    const rule = { method: "GET", path: "/v1/subscriptions/sub_worker_outage", status: 500, count: 6 };
    const added = await fetch(`${stripeEmulatorUrl()}/_emulator/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(rule),
    });
    expect(added.status).toBe(200);
    await db.$transaction(async (tx) => {
      await tx.stripeEvent.create({
        data: {
          id: "evt_worker_outage",
          type: "customer.subscription.updated",
          payload: {
            id: "evt_worker_outage",
            type: "customer.subscription.updated",
            data: { object: { id: "sub_worker_outage", object: "subscription" } },
          },
          stripeCreatedAt: new Date(),
          receivedAt: new Date(),
        },
      });
      await ports.queue.enqueue(
        "process-stripe-event",
        { eventId: "evt_worker_outage" },
        { jobKey: "stripe-event:evt_worker_outage", maxAttempts: 25 },
        tx,
      );
    });
    runners.push(
      await startWorker({
        connectionString: url,
        concurrency: 1,
        ports,
        log: memoryLogger().log,
        metrics,
        pollInterval: 50,
        outageBackoff: { baseMs: 50, maxMs: 200 },
        tasks: createTaskList(ports),
      }),
    );
    await until(async () => {
      const event = await db.stripeEvent.findUniqueOrThrow({ where: { id: "evt_worker_outage" } });
      return event.gaveUp && (await jobsLeft("process-stripe-event")) === 0;
    }, "the event's real outcome");
    // Stripe answers at last: it has no such subscription, the event's own (permanent) failure, at its
    // first counted attempt.
    const event = await db.stripeEvent.findUniqueOrThrow({ where: { id: "evt_worker_outage" } });
    expect(event).toMatchObject({ status: "failed", gaveUp: true, attempts: 1 });
    expect(event.lastError).toMatch(/^Not retried: Stripe has no such object/);
    expect((await metrics.jobOutageRetries.get()).values).toEqual([
      expect.objectContaining({ labels: { task: "process-stripe-event", dependency: "stripe" }, value: 2 }),
    ]);
    for (const runner of runners.splice(0)) await runner.stop();
  });
});

describe("outage backoff", () => {
  it("doubles from the base up to the most, jittered between half and all of it", () => {
    const backoff = { baseMs: 1000, maxMs: 300_000 };
    expect([1, 2, 3, 4, 10, 20].map((n) => outageDelayMs(n, backoff, () => 1))).toEqual([
      1000, 2000, 4000, 8000, 300_000, 300_000,
    ]);
    expect([1, 2, 3].map((n) => outageDelayMs(n, backoff, () => 0))).toEqual([500, 1000, 2000]);
  });

  it("reads the outage retries in a row from the job's last error", () => {
    expect(outageRetriesOf(null)).toBe(0);
    expect(outageRetriesOf("the payload does not parse")).toBe(0);
    expect(
      outageRetriesOf("[outage 7] Stripe could not be reached; retried without counting an attempt"),
    ).toBe(7);
  });
});

describe("a runner stopped while a job hangs (a shutdown during a Stripe hang)", () => {
  it("gives the job its attempt back, so a max=1 job is not failed, and another runner completes it", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const attempts: number[] = [];
    const first = await startWorker({
      connectionString: url,
      concurrency: 1,
      ports,
      log: memoryLogger().log,
      pollInterval: 50,
      tasks: {
        "test-hang": async (_payload, context) => {
          attempts.push(context.attempt);
          await gate;
        },
      },
    });
    try {
      await new PostgresJobQueue(db).enqueue("test-hang", {}, { jobKey: "hang", maxAttempts: 1 });
      await until(() => attempts.length === 1, "the job to start");
      await first.stop({ interruptAfterMs: 0 });
      // Given back: no attempt used, not locked, not failed (it was left at 1 of 1 attempts, locked).
      const [row] = await db.$queryRaw<
        { attempts: number; locked_by: string | null; last_error: string | null }[]
      >`
        SELECT attempts, locked_by, last_error FROM graphile_worker._private_jobs WHERE key = 'hang'`;
      expect(row).toEqual({ attempts: 0, locked_by: null, last_error: null });

      const second = await startWorker({
        connectionString: url,
        concurrency: 1,
        ports,
        log: memoryLogger().log,
        pollInterval: 50,
        tasks: {
          "test-hang": async (_payload, context) => {
            attempts.push(context.attempt);
          },
        },
      });
      runners.push(second);
      await until(async () => (await jobsLeft("test-hang")) === 0, "the job to run again");
      expect(attempts).toEqual([1, 1]);
    } finally {
      release();
      for (const runner of runners.splice(0)) await runner.stop();
    }
  });
});

describe("reclaiming the jobs of a runner that is gone", () => {
  it("waits out the grace, deletes a job superseded under it and runs the others again", async () => {
    const ran: string[] = [];
    // A runner that died holding two jobs: one plain, one that add_job superseded meanwhile (no key, its
    // attempts set to the maximum, no error): left alone it would count as failed forever.
    await db.$executeRaw`SELECT graphile_worker.add_job('test-reclaim', '{"n":"plain"}'::json, job_key => 'reclaim-plain')`;
    await db.$executeRaw`SELECT graphile_worker.add_job('test-reclaim', '{"n":"superseded"}'::json, job_key => 'reclaim-old')`;
    await db.$executeRaw`
      UPDATE graphile_worker._private_jobs SET locked_by = 'pool-gone', locked_at = now(), attempts = 1
      WHERE key IN ('reclaim-plain', 'reclaim-old')`;
    await db.$executeRaw`
      UPDATE graphile_worker._private_jobs SET key = NULL, attempts = max_attempts WHERE key = 'reclaim-old'`;
    // And a max=1 cron job it had taken: its last attempt is used up, and it must not end failed with no error.
    await db.$executeRaw`SELECT graphile_worker.add_job('test-reclaim-cron', '{}'::json, job_key => 'reclaim-cron', max_attempts => 1)`;
    await db.$executeRaw`
      UPDATE graphile_worker._private_jobs SET locked_by = 'pool-gone', locked_at = now(), attempts = 1
      WHERE key = 'reclaim-cron'`;
    const { log, lines } = memoryLogger();
    const startedAt = Date.now();
    runners.push(
      await startWorker({
        connectionString: url,
        concurrency: 1,
        ports,
        log,
        pollInterval: 50,
        reclaimInterval: 30_000,
        reclaimGrace: 1000,
        tasks: {
          "test-reclaim": async (payload) => {
            ran.push((payload as { n: string }).n);
          },
        },
      }),
    );
    await until(async () => (await jobsLeft("test-reclaim")) === 0, "the reclaimed jobs");
    // Not at the first look (a lock just seen free may be a live runner's after a database restart).
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1000);
    expect(ran).toEqual(["plain"]);
    expect(await jobRow("test-reclaim-cron")).toMatchObject({
      attempts: 1,
      max_attempts: 1,
      last_error: expect.stringMatching(/^The worker process running this job ended before it finished/),
    });
    expect(lines.some((line) => line.msg?.toString().startsWith("unlocked the jobs of worker runners"))).toBe(
      true,
    );
    for (const runner of runners.splice(0)) await runner.stop();
  });
});

describe("startWorker", () => {
  it("logs one line per failed job with its task and attempts, and counts it", async () => {
    const { log, lines } = memoryLogger();
    const metrics = createMetrics();
    runners.push(
      await startWorker({
        connectionString: url,
        concurrency: 1,
        ports,
        log,
        metrics,
        pollInterval: 200,
        tasks: {
          "test-fail": async () => {
            throw new Error("the test task fails");
          },
        },
      }),
    );
    await new PostgresJobQueue(db).enqueue("test-fail", { accountId: "acc-1" }, { maxAttempts: 1 });
    await until(async () => (await metrics.jobFailures.get()).values.length > 0, "the failure");

    const failures = (await metrics.jobFailures.get()).values;
    expect(failures).toEqual([
      expect.objectContaining({ labels: { task: "test-fail", permanent: "true" }, value: 1 }),
    ]);
    const failureLines = lines.filter((line) => line.task === "test-fail" && line.level === 50);
    expect(failureLines).toHaveLength(1);
    expect(failureLines[0]).toMatchObject({
      msg: "job test-fail failed for good",
      attempt: 1,
      maxAttempts: 1,
      permanent: true,
      payload: { accountId: "acc-1" },
      err: expect.objectContaining({ message: "the test task fails" }),
    });
    expect(typeof failureLines[0]?.jobId).toBe("string");
    for (const runner of runners.splice(0)) await runner.stop();
  });

  it("processes webhook events and measures the lag from receipt to processing", async () => {
    const metrics = createMetrics();
    runners.push(
      await startWorker({
        connectionString: url,
        concurrency: 2,
        ports,
        log: memoryLogger().log,
        metrics,
        pollInterval: 200,
        tasks: createTaskList(ports),
      }),
    );
    // An event received 3 seconds ago of a type processing only records.
    await db.$transaction(async (tx) => {
      await tx.stripeEvent.create({
        data: {
          id: "evt_worker_lag",
          type: "customer.created",
          payload: { id: "evt_worker_lag", type: "customer.created", data: { object: {} } },
          stripeCreatedAt: new Date(Date.now() - 3000),
          receivedAt: new Date(Date.now() - 3000),
        },
      });
      await ports.queue.enqueue("process-stripe-event", { eventId: "evt_worker_lag" }, {}, tx);
    });
    await until(async () => (await metrics.webhookLag.get()).values.some((v) => v.value > 0), "the lag");

    const event = await db.stripeEvent.findUniqueOrThrow({ where: { id: "evt_worker_lag" } });
    expect(event.status).toBe("processed");
    const values = (await metrics.webhookLag.get()).values;
    expect(values.find((v) => v.metricName === "minutely_webhook_processing_lag_seconds_count")?.value).toBe(
      1,
    );
    expect(
      values.find((v) => v.metricName === "minutely_webhook_processing_lag_seconds_sum")?.value,
    ).toBeGreaterThanOrEqual(3);
    const completed = (await metrics.jobsCompleted.get()).values;
    expect(completed).toEqual([
      expect.objectContaining({ labels: { task: "process-stripe-event" }, value: 1 }),
    ]);
  });
});
