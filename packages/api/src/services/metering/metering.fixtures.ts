// Test data for the metering tests: accounts with an owner, subscriptions inserted directly (a fake
// Stripe subscription id unless a test needs Stripe), agents, event builders, and running queued jobs with
// a real graphile-worker on the test database.
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { createPrismaClient, type Database, type SubscriptionStatus, withJobQueuePool } from "@minutely/db";
import { Logger, runOnce, type Task, type WorkerEvents } from "graphile-worker";
import type Stripe from "stripe";
import { afterAll, expect } from "vitest";
import type { Ports } from "../../context.ts";
import { createTaskList } from "../../jobs/registry.ts";
import { PostgresJobQueue } from "../../ports/queue.ts";
import type { UsageEventInput } from "./usage-ingest.ts";
import { ingestUsageEvents } from "./usage-ingest.ts";

/** The seeded packages: Starter (1,000 min, 1 agent, hard cap), Pro (3,000, 5, $0.03), Enterprise. */
export type SeededPlan = "Starter" | "Pro" | "Enterprise";

export const PERIOD_START = new Date("2026-11-01T00:00:00Z");
export const PERIOD_END = new Date("2026-12-01T00:00:00Z");

let counter = 0;
export function uniqueSuffix(): string {
  counter += 1;
  return `${Date.now().toString(36)}${counter}${randomUUID().slice(0, 8)}`;
}

export async function createAccount(db: Database, name = "Acme") {
  const suffix = uniqueSuffix();
  const account = await db.account.create({ data: { name } });
  const owner = await db.user.create({
    data: {
      email: `owner-${suffix}@example.com`,
      name: `${name} owner`,
      memberships: { create: { accountId: account.id, role: "owner" } },
    },
  });
  return { accountId: account.id, ownerEmail: owner.email, userId: owner.id };
}

export async function subscribe(
  db: Database,
  accountId: string,
  options: {
    plan?: SeededPlan;
    periodStart?: Date;
    periodEnd?: Date;
    status?: SubscriptionStatus;
    stripeSubscriptionId?: string;
    createdAt?: Date;
    /** The currency the subscription bills in (usd unless told). */
    currency?: "usd" | "eur" | "gbp";
  } = {},
) {
  const plan = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: options.plan ?? "Pro" } });
  return await db.subscription.create({
    data: {
      accountId,
      planId: plan.id,
      stripePriceId: `price_test_${uniqueSuffix()}`,
      stripeSubscriptionId: options.stripeSubscriptionId ?? `sub_test_${uniqueSuffix()}`,
      status: options.status ?? "active",
      currency: options.currency ?? "usd",
      currentPeriodStart: options.periodStart ?? PERIOD_START,
      currentPeriodEnd: options.periodEnd ?? PERIOD_END,
      ...(options.createdAt ? { createdAt: options.createdAt } : {}),
    },
  });
}

/**
 * An account with a real (emulated) Stripe customer and subscription ($99 a month), its row on `plan`
 * (Pro unless told otherwise) subscribed when its first period (November) began. `emailPrefix` tells the
 * test's customers apart in the emulator.
 */
export async function stripeSubscribedAccount(
  db: Database,
  stripe: Stripe,
  plan: SeededPlan = "Pro",
  emailPrefix = "metering",
  currency: "usd" | "eur" | "gbp" = "usd",
) {
  const { accountId, ownerEmail, userId } = await createAccount(db);
  const customer = await stripe.customers.create({ email: `${emailPrefix}-${accountId}@example.com` });
  const product = await stripe.products.create({ name: plan });
  const price = await stripe.prices.create({
    product: product.id,
    unit_amount: 9900,
    currency,
    recurring: { interval: "month" },
  });
  const subscription = await stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price: price.id }],
    payment_behavior: "default_incomplete",
  });
  await db.account.update({ where: { id: accountId }, data: { stripeCustomerId: customer.id } });
  const row = await subscribe(db, accountId, {
    plan,
    stripeSubscriptionId: subscription.id,
    createdAt: PERIOD_START,
    currency,
  });
  return {
    accountId,
    ownerEmail,
    userId,
    customerId: customer.id,
    subscriptionId: subscription.id,
    subscriptionRowId: row.id,
  };
}

/** A pause of the subscription from 10 to 20 November 2026, already lifted (as billing/pause-spans.ts records it). */
export async function liftedNovemberPause(db: Database, accountId: string, subscriptionId: string) {
  const endsAt = new Date("2026-11-20T00:00:00Z");
  await db.subscriptionPauseSpan.create({
    data: { accountId, subscriptionId, startsAt: new Date("2026-11-10T00:00:00Z"), endsAt, liftedAt: endsAt },
  });
}

/** `minutes` of the account's calls this period, reported in calls of at most a day each. */
export async function useMinutes(ports: Ports, accountId: string, minutes: number) {
  const events = [];
  for (let left = minutes; left > 0; left -= 1440)
    events.push(callEvent(accountId, Math.min(left, 1440) * 60));
  await ingestUsageEvents(ports, events);
}

/** What the customer's Stripe invoice items add up to once every queued job has run (none failing). */
export async function billedCents(
  connectionString: string,
  ports: Ports & { stripe: Stripe },
  customerId: string,
) {
  expect(await runQueuedJobs(connectionString, ports)).toEqual([]);
  const items = (await ports.stripe.invoiceItems.list({ customer: customerId, limit: 100 })).data;
  return items.reduce((sum, item) => sum + item.amount, 0);
}

export async function createAgentRows(db: Database, accountId: string, count: number, active = true) {
  const agents = [];
  for (let i = 0; i < count; i++) {
    agents.push(
      await db.agent.create({
        data: { accountId, name: `Agent ${i + 1}`, active, createdAt: new Date(Date.UTC(2026, 0, 1, 0, i)) },
      }),
    );
  }
  return agents;
}

/** A call of `seconds` seconds started at `startedAt` (default: the 10th of the test period, 10:00 UTC). */
export function callEvent(
  accountId: string,
  seconds: number,
  overrides: Partial<UsageEventInput> = {},
): UsageEventInput {
  return {
    callId: `call-${uniqueSuffix()}`,
    accountId,
    agentId: null,
    direction: "outbound",
    startedAt: new Date("2026-11-10T10:00:00Z"),
    durationSeconds: seconds,
    ...overrides,
  };
}

/** Passes of `runOnce` after which `runQueuedJobs` gives up: jobs that keep queueing runnable jobs never settle. */
const MAX_RUN_ONCE_PASSES = 50;

/**
 * The worker settings of the test runs, explicit rather than graphile-worker's defaults (which a
 * `.graphile-workerrc` or GRAPHILE_WORKER_SCHEMA could change). Completion and failure writes are batched
 * (in the same tick), as in the product's worker (apps/server/src/worker.ts): graphile-worker 0.17 does not await
 * an unbatched write (worker.js calls `completeJob(job)` / `failJob(...)` without awaiting them, and run-once
 * mode resolves as soon as no job is found), whereas a batched one is flushed by the pool's shutdown before
 * `runOnce` resolves. Unbatched, a job that had finished could still be listed, locked and without an error,
 * and a job that had failed could be listed without its error.
 */
const TEST_WORKER_PRESET = {
  worker: {
    schema: "graphile_worker",
    concurrentJobs: 1,
    localQueue: { size: -1 },
    completeJobBatchDelay: 0,
    failJobBatchDelay: 0,
    useNodeTime: false,
  },
} satisfies GraphileConfig.Preset;

/**
 * Runs queued jobs with the application's task list until none that is due is left, then returns the ones
 * left over (failed ones, with their error, wait for their retry). A job queued by a job runs too.
 *
 * graphile-worker's run-once mode stops at the first fetch that finds nothing, and that fetch can skip a job
 * that is due: the next job of a named queue while the job before it still has the queue locked (its
 * completion, which unlocks the queue, is written after the fetch). So this runs `runOnce` again until a pass
 * starts no job. graphile-worker's own errors (a completion that could not be written, a fetch that failed)
 * are only logged in run-once mode; here they fail the call, and so does a job still locked afterwards.
 */
export async function runQueuedJobs(connectionString: string, ports: Ports) {
  const taskList: Record<string, Task> = {};
  for (const [name, handler] of Object.entries(createTaskList(ports))) {
    taskList[name] = async (payload, helpers) => {
      await handler(payload, { jobId: helpers.job.id, attempt: helpers.job.attempts });
    };
  }
  // A task's failure is logged with `failure: true` and recorded on its job (last_error); anything else
  // graphile-worker logs as an error is a problem of the run itself.
  const workerErrors: string[] = [];
  const logger = new Logger(() => (level, message, meta) => {
    if (level === "error" && !meta?.failure) workerErrors.push(message);
  });
  // One pool for every pass, ended (and waited for) before the jobs are read: see withJobQueuePool.
  await withJobQueuePool(connectionString, async (pgPool) => {
    for (let pass = 1; ; pass++) {
      let started = 0;
      const events: WorkerEvents = new EventEmitter();
      events.on("job:start", () => {
        started += 1;
      });
      await runOnce({
        pgPool,
        taskList,
        logger,
        events,
        noHandleSignals: true,
        preset: TEST_WORKER_PRESET,
      });
      if (workerErrors.length > 0) {
        throw new Error(
          `graphile-worker reported errors while running the queued jobs:\n${workerErrors.join("\n")}`,
        );
      }
      if (started === 0) break;
      if (pass === MAX_RUN_ONCE_PASSES) {
        throw new Error(`queued jobs were still due after ${MAX_RUN_ONCE_PASSES} passes of runOnce`);
      }
    }
  });
  const jobs = await ports.db.$queryRaw<
    { task_identifier: string; last_error: string | null; attempts: number; locked: boolean }[]
  >`SELECT task_identifier, last_error, attempts, locked_at IS NOT NULL AS locked
    FROM graphile_worker.jobs ORDER BY id`;
  const locked = jobs.filter((job) => job.locked).map((job) => job.task_identifier);
  if (locked.length > 0) {
    throw new Error(`jobs still locked after runOnce (their outcome was not written): ${locked.join(", ")}`);
  }
  return jobs.map(({ task_identifier, last_error, attempts }) => ({ task_identifier, last_error, attempts }));
}

/** Queued jobs of one task, with their payloads. */
export async function queuedJobs(db: Database, task: string) {
  return await db.$queryRaw<{ payload: Record<string, unknown>; key: string | null }[]>`
    SELECT j.payload, j.key FROM graphile_worker._private_jobs j
    JOIN graphile_worker._private_tasks t ON t.id = j.task_id
    WHERE t.identifier = ${task} ORDER BY j.id`;
}

/** Minutes, seconds and calls per (account, period) counted from the events themselves. */
export async function recountPeriods(db: Database, accountId: string) {
  return await db.$queryRaw<{ period_start: Date; minutes: number; seconds: number; calls: number }[]>`
    SELECT period_start, sum(billable_minutes)::int AS minutes, sum(duration_seconds)::int AS seconds,
      count(*)::int AS calls
    FROM usage_event WHERE account_id = ${accountId}::uuid GROUP BY period_start ORDER BY period_start`;
}

/** The per-period rollups of an account, in the recount's shape. */
export async function rollupPeriods(db: Database, accountId: string) {
  const rows = await db.usagePeriodRollup.findMany({ where: { accountId }, orderBy: { periodStart: "asc" } });
  return rows
    .filter((r) => r.calls > 0)
    .map((r) => ({
      period_start: r.periodStart,
      minutes: r.minutes,
      seconds: Number(r.seconds),
      calls: r.calls,
    }));
}

/** Daily rollups vs. a recount from the events, both as sorted "day|agent|direction|minutes|calls" lines. */
export async function dailyRollupAndRecount(db: Database, accountId: string) {
  const rollup = await db.$queryRaw<{ line: string }[]>`
    SELECT concat_ws('|', to_char(day, 'YYYY-MM-DD'), agent_key, direction::text, minutes, calls) AS line
    FROM usage_daily_rollup WHERE account_id = ${accountId}::uuid ORDER BY 1`;
  const recount = await db.$queryRaw<{ line: string }[]>`
    SELECT concat_ws('|', d, a, dir, sum(m), count(*)) AS line
    FROM (
      SELECT to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS d, COALESCE(agent_id::text, '') AS a,
        direction::text AS dir, billable_minutes AS m
      FROM usage_event WHERE account_id = ${accountId}::uuid
    ) e
    GROUP BY d, a, dir
    ORDER BY 1`;
  return { rollup: rollup.map((r) => r.line), recount: recount.map((r) => r.line) };
}

export { seededRandom } from "@minutely/testing";

export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const a = copy[i] as T;
    copy[i] = copy[j] as T;
    copy[j] = a;
  }
  return copy;
}

/**
 * Separate connection pools on the test database, as separate API replicas would have (closed after the
 * file's tests): `client(poolSize)` opens one, `portsOn(client)` gives `ports` using it and a queue on it.
 */
export function replicaClients<P extends Ports>(url: string, ports: P, defaultPoolSize = 2) {
  const clients: Database[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.$disconnect()));
  });
  return {
    client(poolSize = defaultPoolSize): Database {
      const c = createPrismaClient(url, { poolSize });
      clients.push(c);
      return c;
    },
    portsOn(other: Database): P {
      return { ...ports, db: other, queue: new PostgresJobQueue(other) };
    },
  };
}

/**
 * `db` whose next `$transaction` first deletes the account (as another request would, between a service's
 * reads and its write transaction); later transactions find it gone.
 */
export function deletingAccountBeforeTransaction(db: Database, accountId: string): Database {
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === "$transaction") {
        return async (...args: unknown[]) => {
          await db.account.deleteMany({ where: { id: accountId } });
          return (target.$transaction as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  }) as Database;
}
