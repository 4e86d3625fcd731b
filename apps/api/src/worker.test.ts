import { setTimeout as sleep } from "node:timers/promises";
import { createTaskList, PostgresJobQueue } from "@minutely/api";
import { testPorts } from "@minutely/api/testing";
import { testDatabase } from "@minutely/db/vitest";
import { systemClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import type { FastifyBaseLogger } from "fastify";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { createMetrics } from "./metrics.ts";
import { startWorker, superviseWorker, type WorkerRunner } from "./worker.ts";

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
  it("replaces a runner that could not record a job's outcome, and the job runs again", async () => {
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
      await db.$executeRawUnsafe("DROP TRIGGER test_refuse_job_delete ON graphile_worker._private_jobs");
      await queue.enqueue("test-outcome", { n: 2 });
      await until(async () => (await jobsLeft("test-outcome")) === 0, "the new runner to run the jobs");
      // Job 1 ran, its outcome was lost, and it ran again under the new runner (jobs are idempotent).
      expect(runs.filter((n) => n === 1).length).toBeGreaterThanOrEqual(2);
      expect(runs).toContain(2);
      expect(lines.some((line) => line.msg === "the background worker runs again")).toBe(true);
    } finally {
      await db.$executeRawUnsafe(
        "DROP TRIGGER IF EXISTS test_refuse_job_delete ON graphile_worker._private_jobs",
      );
      await supervised.stop();
    }
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
