// Process faults (issue 12): the API process is SIGKILLed while it receives and processes Stripe webhooks
// and while it ingests usage batches, and PostgreSQL is restarted under load. Nothing is lost, nothing
// counts twice, and a database restart is survived by the same API process (no restart of the API).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { queueJobsByState } from "@minutely/api";
import type { Database } from "@minutely/db";
import { type EmbeddedPostgresServer, freePort, startEmbeddedPostgres } from "@minutely/db/embedded";
import { startTestDatabaseServer } from "@minutely/db/testing";
import type {} from "@minutely/db/vitest-global-setup";
import { type Stack, seededRandom, startStack } from "@minutely/testing";
import Stripe from "stripe";
import { describe, expect, inject, it, onTestFailed, onTestFinished } from "vitest";

/** One line on stderr about what a run saw (kept in CI logs; the assertions do not depend on it). */
function note(what: string, data: unknown): void {
  process.stderr.write(`[process-faults] ${what} ${JSON.stringify(data)}\n`);
}

const METERING_TOKEN = "process-faults-metering-token";
/** Short webhook retries, so redeliveries after a crash arrive within seconds instead of minutes. */
const FAST_WEBHOOK_RETRIES = {
  STRIPE_EMULATOR_WEBHOOK_RETRY_BASE_MS: "200",
  STRIPE_EMULATOR_WEBHOOK_RETRY_MAX_MS: "2000",
  STRIPE_EMULATOR_WEBHOOK_MAX_ATTEMPTS: "200",
};

/** Polls until `probe` returns a value (not undefined); never a fixed sleep. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      if ((error as { fatal?: boolean }).fatal) throw error;
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`gave up waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ""}`);
    }
    await sleep(50);
  }
}

/** Stops the stack after the test (even a timed-out one) and, when the test failed, prints the API's errors. */
function cleanUpAfterTest(stack: Stack, more: () => Promise<void> = async () => {}): void {
  onTestFinished(async () => {
    await stack.stop();
    await more();
  });
  onTestFailed(() => {
    const lines = stack
      .logs()
      .split("\n")
      .filter((line) => !line.startsWith("{") || /"level":(50|60)/.test(line))
      .map((line) => line.slice(0, 600));
    process.stderr.write(`API errors and non-JSON output (last 40 lines):\n${lines.slice(-40).join("\n")}\n`);
  });
}

function stripeClient(stack: Stack): Stripe {
  const base = new URL(stack.stripeApiBase);
  return new Stripe("sk_test_process_faults", {
    host: base.hostname,
    port: Number(base.port),
    protocol: "http",
    maxNetworkRetries: 2,
  });
}

async function emulator(stack: Stack, method: "GET" | "POST" | "DELETE", path: string, body?: unknown) {
  const response = await fetch(`${stack.stripeApiBase}/_emulator/${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok)
    throw new Error(`emulator ${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as unknown;
}

/** Every event the emulator created (all pages, oldest first). */
async function stripeEventIds(stripe: Stripe): Promise<string[]> {
  const ids: string[] = [];
  for await (const event of stripe.events.list({ limit: 100 })) ids.push(event.id);
  return ids.reverse();
}

async function queuedJobs(db: Database): Promise<{ task: string; locked: boolean; attempts: number }[]> {
  return await db.$queryRaw<{ task: string; locked: boolean; attempts: number }[]>`
    SELECT t.identifier AS task, j.locked_at IS NOT NULL AS locked, j.attempts
    FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id
    ORDER BY j.id`;
}

async function postJson(stack: Stack, path: string, body: unknown, headers: Record<string, string> = {}) {
  return await fetch(`${stack.baseUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: stack.baseUrl, ...headers },
    body: JSON.stringify(body),
  });
}

describe("SIGKILL of the API while it receives and processes Stripe webhooks", () => {
  it("after a restart every event is processed once and the local state equals Stripe's", async () => {
    const stack = await startStack(inject("minutelyTestDatabaseServer"), {
      // One job at a time, so a burst of events queues up behind the job in flight.
      env: { WORKER_CONCURRENCY: "1", METERING_API_TOKEN: METERING_TOKEN },
      emulatorEnv: FAST_WEBHOOK_RETRIES,
    });
    cleanUpAfterTest(stack);
    const { db } = stack.database;
    const stripe = stripeClient(stack);
    const plans = await until("the catalog synced to Stripe", async () => {
      const rows = await db.subscriptionPlan.findMany({ where: { name: { in: ["Starter", "Pro"] } } });
      return rows.length === 2 && rows.every((p) => p.stripePriceId) ? rows : undefined;
    });
    const starter = plans.find((p) => p.name === "Starter");
    const proPrice = plans.find((p) => p.name === "Pro")?.stripePriceId ?? "";

    // Five customers subscribe to Starter through the API (card on file, no Checkout).
    for (let i = 0; i < 5; i++) {
      const user = await stack.createUser({
        email: `crash-${i}@example.com`,
        password: "correct horse battery",
      });
      const response = await postJson(
        stack,
        "/api/subscriptions/user/actions/",
        { action: "subscribe", package_id: starter?.id, payment_method_id: "pm_card_visa" },
        { cookie: user.cookie },
      );
      expect(response.status, await response.clone().text()).toBe(200);
    }
    const subscriptions = await db.subscription.findMany({ orderBy: { createdAt: "asc" } });
    expect(subscriptions).toHaveLength(5);

    // The burst: while deliveries are held, every subscription is upgraded in Stripe directly (as support
    // would in the Stripe dashboard), so only webhooks can bring Minutely's copy up to date. The worker's
    // first subscription reads hang, so a job is locked (mid-processing) when the API is killed.
    const items = new Map<string, string>();
    for (const sub of subscriptions) {
      const remote = await stripe.subscriptions.retrieve(sub.stripeSubscriptionId);
      items.set(sub.stripeSubscriptionId, remote.items.data[0]?.id ?? "");
    }
    await emulator(stack, "POST", "faults", {
      method: "GET",
      path: "/v1/subscriptions/",
      kind: "timeout",
      count: 3,
      timeoutMs: 120_000,
    });
    await emulator(stack, "POST", "webhooks/pause");
    for (const sub of subscriptions) {
      await stripe.subscriptions.update(sub.stripeSubscriptionId, {
        items: [{ id: items.get(sub.stripeSubscriptionId) ?? "", price: proPrice }],
        proration_behavior: "always_invoice",
      });
    }
    const receivedBefore = await db.stripeEvent.count();
    const burst = (await stripeEventIds(stripe)).length - receivedBefore;
    expect(burst).toBeGreaterThan(20);
    await emulator(stack, "POST", "webhooks/resume");

    // Kill while a job is locked (running) and the burst is partly received, partly still on its way.
    const atKill = await until(
      "a locked job and part of the burst received",
      async () => {
        const received = (await db.stripeEvent.count()) - receivedBefore;
        const locked = (await queuedJobs(db)).filter((j) => j.locked).length;
        return locked > 0 && received >= burst / 4 ? { received, locked } : undefined;
      },
      60_000,
    );
    await stack.kill("SIGKILL");
    const jobsAtKill = await queuedJobs(db);
    expect(jobsAtKill.filter((j) => j.locked)).toHaveLength(1);
    note("webhooks: killed", { burst, ...atKill, queued: jobsAtKill.length });

    // While the API is down, Stripe keeps changing: these deliveries fail and are retried.
    for (const sub of subscriptions.slice(0, 3)) {
      await stripe.subscriptions.update(sub.stripeSubscriptionId, { cancel_at_period_end: true });
    }
    await emulator(stack, "DELETE", "faults");
    await stack.restart();

    const allEvents = await until(
      "every Stripe event recorded and processed",
      async () => {
        const ids = await stripeEventIds(stripe);
        const processed = await db.stripeEvent.count({ where: { status: "processed" } });
        return processed === ids.length && (await queuedJobs(db)).length === 0 ? ids : undefined;
      },
      100_000,
    );
    await emulator(stack, "POST", "flush");
    // The job the killed process held was unlocked by the restarted one (not after graphile-worker's 4 h).
    expect(stack.logs()).toContain("unlocked the jobs of worker runners that are gone");

    // Every event exactly once: the dedupe table holds precisely Stripe's events, all processed.
    const local = await db.stripeEvent.findMany({ select: { id: true, status: true } });
    expect(local.map((e) => e.id).sort()).toEqual([...allEvents].sort());
    expect(new Set(local.map((e) => e.status))).toEqual(new Set(["processed"]));
    expect(await queuedJobs(db)).toEqual([]);

    // Minutely's subscriptions and invoices equal Stripe's (which has the burst's and the later changes).
    for (const [index, sub] of subscriptions.entries()) {
      const remote = await stripe.subscriptions.retrieve(sub.stripeSubscriptionId);
      const item = remote.items.data[0];
      expect([item?.price.id, remote.cancel_at_period_end]).toEqual([proPrice, index < 3]);
      const row = await db.subscription.findUniqueOrThrow({
        where: { stripeSubscriptionId: sub.stripeSubscriptionId },
      });
      expect({
        status: row.stripeStatus,
        price: row.stripePriceId,
        cancelAtPeriodEnd: row.cancelAtPeriodEnd,
        start: row.currentPeriodStart.getTime() / 1000,
        end: row.currentPeriodEnd.getTime() / 1000,
      }).toEqual({
        status: remote.status,
        price: item?.price.id,
        cancelAtPeriodEnd: remote.cancel_at_period_end,
        start: item?.current_period_start,
        end: item?.current_period_end,
      });
    }
    const remoteInvoices: Stripe.Invoice[] = [];
    for await (const invoice of stripe.invoices.list({ limit: 100 })) remoteInvoices.push(invoice);
    const localInvoices = await db.billingHistory.findMany();
    expect(localInvoices.map((i) => i.stripeInvoiceId).sort()).toEqual(
      remoteInvoices.map((i) => i.id).sort(),
    );
    for (const invoice of remoteInvoices) {
      const row = localInvoices.find((i) => i.stripeInvoiceId === invoice.id);
      expect([row?.status, row?.totalCents, row?.amountPaidCents]).toEqual([
        invoice.status,
        invoice.total,
        invoice.amount_paid,
      ]);
    }
  });
});

interface UsageCall {
  call_id: string;
  account_id: string;
  agent_id: string | null;
  direction: "inbound" | "outbound";
  started_at: string;
  duration_seconds: number;
}

interface BatchOutcome {
  attempts: number;
  failures: string[];
  statuses: string[];
}

/**
 * The calling platform's side: sends the batches `concurrency` at a time and retries a batch that got no
 * answer or a 5xx (same body, so the same call_ids: the idempotency keys) until it is answered with 200.
 */
async function sendBatches(
  stack: Stack,
  batches: UsageCall[][],
  concurrency: number,
  onAnswered: (answered: number) => void = () => {},
): Promise<BatchOutcome[]> {
  const outcomes: BatchOutcome[] = batches.map(() => ({ attempts: 0, failures: [], statuses: [] }));
  let next = 0;
  let answered = 0;
  const lane = async () => {
    for (let index = next++; index < batches.length; index = next++) {
      const outcome = outcomes[index] as BatchOutcome;
      const deadline = Date.now() + 120_000;
      for (;;) {
        outcome.attempts += 1;
        try {
          const response = await fetch(`${stack.baseUrl}/api/v1/usage/calls`, {
            method: "POST",
            headers: { authorization: `Bearer ${METERING_TOKEN}`, "content-type": "application/json" },
            body: JSON.stringify({ events: batches[index] }),
            signal: AbortSignal.timeout(30_000),
          });
          const body = (await response.json()) as { results?: { status: string }[] };
          if (response.status === 200 && body.results) {
            outcome.statuses = body.results.map((r) => r.status);
            break;
          }
          outcome.failures.push(`HTTP ${response.status}`);
        } catch (error) {
          outcome.failures.push(error instanceof Error ? (error.cause?.toString() ?? error.message) : "?");
        }
        if (Date.now() > deadline) throw new Error(`batch ${index} was never accepted: ${outcome.failures}`);
        await sleep(100 + Math.min(outcome.attempts, 10) * 50);
      }
      onAnswered(++answered);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return outcomes;
}

/** Accounts with an active Enterprise subscription whose period contains now, and two agents each. */
async function meteredAccounts(stack: Stack, count: number) {
  const db = stack.database.db;
  const plan = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Enterprise" } });
  const now = Date.now();
  const accounts: { accountId: string; cookie: string; agents: string[] }[] = [];
  for (let i = 0; i < count; i++) {
    const user = await stack.createUser({
      email: `metered-${i}@example.com`,
      password: "correct horse battery",
    });
    await db.subscription.create({
      data: {
        accountId: user.accountId,
        planId: plan.id,
        stripePriceId: plan.stripePriceId ?? "price_process_faults",
        stripeSubscriptionId: `sub_process_faults_${i}`,
        status: "active",
        currentPeriodStart: new Date(now - DAY_MS),
        currentPeriodEnd: new Date(now + 29 * DAY_MS),
      },
    });
    const agents = [];
    for (const name of ["Front desk", "Sales"]) {
      agents.push((await db.agent.create({ data: { accountId: user.accountId, name } })).id);
    }
    accounts.push({ ...user, agents });
  }
  return accounts;
}

const DAY_MS = 24 * 60 * 60 * 1000;

function makeCalls(
  accounts: { accountId: string; agents: string[] }[],
  total: number,
  seed: number,
  prefix: string,
): UsageCall[] {
  const next = seededRandom(seed); // the same seed sends the same calls
  const now = Date.now();
  return Array.from({ length: total }, (_, i) => {
    const account = accounts[Math.floor(next() * accounts.length)] as { accountId: string; agents: string[] };
    const agent = Math.floor(next() * (account.agents.length + 1));
    return {
      call_id: `${prefix}-${i}`,
      account_id: account.accountId,
      agent_id: account.agents[agent] ?? null,
      direction: next() < 0.5 ? "inbound" : "outbound",
      // Within the current period (it started a day ago), never in the future.
      started_at: new Date(now - 60_000 - Math.floor(next() * 20 * 60 * 60 * 1000)).toISOString(),
      duration_seconds: 1 + Math.floor(next() * 90),
    };
  });
}

/** Minutes per account as the rules count them: each call once, ceil(seconds / 60). */
function expectedMinutes(
  calls: UsageCall[],
): Map<string, { minutes: number; calls: number; seconds: number }> {
  const totals = new Map<string, { minutes: number; calls: number; seconds: number }>();
  for (const call of calls) {
    const t = totals.get(call.account_id) ?? { minutes: 0, calls: 0, seconds: 0 };
    t.minutes += Math.ceil(call.duration_seconds / 60);
    t.calls += 1;
    t.seconds += call.duration_seconds;
    totals.set(call.account_id, t);
  }
  return totals;
}

/**
 * The stored totals, and the rollups against a recomputation from usage_event (the source of truth): the
 * per-period rollup, and the per-day rollup per (day, agent, direction).
 */
async function usageTotals(db: Database) {
  const events = await db.$queryRaw<{ account: string; minutes: number; calls: number; seconds: number }[]>`
    SELECT account_id::text AS account, sum(billable_minutes)::int AS minutes, count(*)::int AS calls,
           sum(duration_seconds)::int AS seconds
    FROM usage_event GROUP BY account_id ORDER BY account_id`;
  const periods = await db.$queryRaw<{ account: string; minutes: number; calls: number; seconds: number }[]>`
    SELECT account_id::text AS account, sum(minutes)::int AS minutes, sum(calls)::int AS calls,
           sum(seconds)::int AS seconds
    FROM usage_period_rollup GROUP BY account_id ORDER BY account_id`;
  const periodMismatches = await db.$queryRaw<unknown[]>`
    SELECT coalesce(r.account_id, e.account_id) AS account, r.minutes, e.minutes AS recomputed
    FROM usage_period_rollup r
    FULL JOIN (SELECT account_id, period_start, sum(billable_minutes)::int AS minutes, count(*)::int AS calls,
                      sum(duration_seconds)::bigint AS seconds
               FROM usage_event GROUP BY account_id, period_start) e
      ON e.account_id = r.account_id AND e.period_start = r.period_start
    WHERE r.minutes IS DISTINCT FROM e.minutes OR r.calls IS DISTINCT FROM e.calls
       OR r.seconds IS DISTINCT FROM e.seconds`;
  const dailyMismatches = await db.$queryRaw<unknown[]>`
    SELECT coalesce(r.account_id, e.account_id) AS account, coalesce(r.day, e.day) AS day,
           r.minutes, e.minutes AS recomputed
    FROM usage_daily_rollup r
    FULL JOIN (SELECT account_id, (started_at AT TIME ZONE 'UTC')::date AS day,
                      coalesce(agent_id::text, '') AS agent_key, direction,
                      sum(billable_minutes)::int AS minutes, count(*)::int AS calls
               FROM usage_event GROUP BY 1, 2, 3, 4) e
      ON e.account_id = r.account_id AND e.day = r.day AND e.agent_key = r.agent_key
         AND e.direction = r.direction
    WHERE r.minutes IS DISTINCT FROM e.minutes OR r.calls IS DISTINCT FROM e.calls`;
  return { events, periods, periodMismatches, dailyMismatches };
}

async function dashboardMinutes(stack: Stack, cookie: string): Promise<number> {
  const response = await fetch(`${stack.baseUrl}/api/dashboard/comprehensive/`, { headers: { cookie } });
  if (response.status !== 200) throw new Error(`dashboard: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { usage: { minutes_used: number } }).usage.minutes_used;
}

async function expectExactUsage(
  stack: Stack,
  accounts: { accountId: string; cookie: string }[],
  sent: UsageCall[],
) {
  const expected = expectedMinutes(sent);
  const totals = await usageTotals(stack.database.db);
  const byAccount = (rows: { account: string; minutes: number; calls: number; seconds: number }[]) =>
    Object.fromEntries(
      rows.map((r) => [r.account, { minutes: r.minutes, calls: r.calls, seconds: r.seconds }]),
    );
  const want = Object.fromEntries([...expected].sort(([a], [b]) => a.localeCompare(b)));
  expect(byAccount(totals.events)).toEqual(want);
  expect(byAccount(totals.periods)).toEqual(want);
  expect(totals.periodMismatches).toEqual([]);
  expect(totals.dailyMismatches).toEqual([]);
  for (const account of accounts) {
    expect(await dashboardMinutes(stack, account.cookie)).toBe(expected.get(account.accountId)?.minutes ?? 0);
  }
}

describe("SIGKILL of the API while it ingests usage batches", () => {
  it("the retried batches land exactly once: no minute lost, none counted twice", async () => {
    const stack = await startStack(inject("minutelyTestDatabaseServer"), {
      env: { METERING_API_TOKEN: METERING_TOKEN },
    });
    cleanUpAfterTest(stack);
    const accounts = await meteredAccounts(stack, 5);
    const calls = makeCalls(accounts, 24_000, 12, "kill-ingest");
    const batches = Array.from({ length: calls.length / 500 }, (_, i) => calls.slice(i * 500, (i + 1) * 500));

    let killed: Promise<void> | undefined;
    const outcomes = await sendBatches(stack, batches, 4, (answered) => {
      // Kill in the middle: some batches answered, four requests in flight, the rest still to send.
      if (answered === 8 && !killed) {
        killed = (async () => {
          await stack.kill("SIGKILL");
          note("ingest: killed", { answered, stored: await stack.database.db.usageEvent.count() });
          await stack.restart();
        })();
      }
    });
    await killed;

    // Each batch is one transaction: its events were all accepted (first answer) or all duplicates (the
    // batch had committed before the kill and only the answer was lost). No partial batch.
    for (const outcome of outcomes) {
      expect(new Set(outcome.statuses).size, JSON.stringify(outcome)).toBe(1);
      expect(["accepted", "duplicate"]).toContain(outcome.statuses[0]);
      if (outcome.statuses[0] === "duplicate") expect(outcome.failures.length).toBeGreaterThan(0);
    }
    const interrupted = outcomes.filter((o) => o.failures.length > 0);
    expect(interrupted.length).toBeGreaterThan(0);
    note("ingest: outcomes", {
      interrupted: interrupted.length,
      lostAnswers: outcomes.filter((o) => o.statuses[0] === "duplicate").length,
    });

    await expectExactUsage(stack, accounts, calls);
    // Sending everything again (a platform replaying its log) changes nothing.
    const replay = await sendBatches(stack, batches.slice(0, 4), 2);
    expect(replay.flatMap((o) => o.statuses).every((s) => s === "duplicate")).toBe(true);
    await expectExactUsage(stack, accounts, calls);
  });
});

/** GET /health/ready of a process that must stay up: its disappearance fails the test at once. */
async function readiness(stack: Stack): Promise<{ status: number; body: unknown }> {
  let response: Response;
  try {
    response = await fetch(`${stack.baseUrl}/health/ready`, { signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    const gone = new Error(`the API process is gone (${String(error)}):\n${stack.logs().slice(-3000)}`);
    throw Object.assign(gone, { fatal: true });
  }
  return { status: response.status, body: await response.json() };
}

interface Probe {
  via: "rest" | "trpc";
  status: number | "no answer";
  error?: string;
  phase: "before" | "down" | "after";
}

async function jobCount(db: Database, task: string): Promise<number> {
  const [row] = await db.$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM graphile_worker._private_jobs j
    JOIN graphile_worker._private_tasks t ON t.id = j.task_id WHERE t.identifier = ${task}`;
  return row?.n ?? 0;
}

/**
 * Waits until no job of `task` is left. The worker's speed depends on how busy the machine is, so what
 * fails the test is a stall (no job done for a minute), not a total time: a stuck worker is caught, a slow
 * machine is not mistaken for one.
 */
async function untilDrained(stack: Stack, task: string, stallMs = 60_000): Promise<void> {
  const { db } = stack.database;
  let left = await jobCount(db, task);
  let progressAt = Date.now();
  while (left > 0) {
    await sleep(200);
    const now = await jobCount(db, task);
    if (now < left) progressAt = Date.now();
    left = now;
    if (Date.now() - progressAt > stallMs) {
      // What a stall looks like from the inside: who holds which jobs and queues, what the runners said.
      const locks = await db.$queryRaw<{ locked_by: string | null; jobs: number; due: number }[]>`
        SELECT locked_by, count(*)::int AS jobs, count(*) FILTER (WHERE run_at <= now())::int AS due
        FROM graphile_worker._private_jobs GROUP BY locked_by`;
      const sessions = await db.$queryRaw<{ application_name: string; state: string; n: number }[]>`
        SELECT application_name, state, count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() GROUP BY 1, 2`;
      const workerLines = stack
        .logs()
        .split("\n")
        .filter((line) => /worker|runner|graphile/i.test(line))
        .slice(-40)
        .join("\n");
      throw new Error(
        `the worker stalled: ${left} ${task} job(s) left and none done for ${stallMs / 1000} s\n` +
          `jobs by lock: ${JSON.stringify(locks)}\nsessions: ${JSON.stringify(sessions)}\n` +
          `worker log:\n${workerLines}`,
      );
    }
  }
}

describe("PostgreSQL restarted under load", () => {
  it("the same API process answers 503 while it is down and recovers by itself, worker included", async () => {
    // A PostgreSQL server of this test's own, on a fixed port and a kept data directory, so it can be
    // stopped and started again where the API's connection string points.
    const dataDir = join(mkdtempSync(join(tmpdir(), "minutely-pg-restart-")), "data");
    const port = await freePort();
    let pgServer: EmbeddedPostgresServer | undefined = await startEmbeddedPostgres({ dataDir, port });
    onTestFinished(async () => {
      await pgServer?.stop();
      rmSync(join(dataDir, ".."), { recursive: true, force: true });
    });
    const { server, teardown } = await startTestDatabaseServer({ DATABASE_URL: pgServer.adminUrl });
    const stack = await startStack(server, {
      env: { METERING_API_TOKEN: METERING_TOKEN, DATABASE_POOL_SIZE: "5", WORKER_CONCURRENCY: "3" },
    });
    cleanUpAfterTest(stack, teardown);
    const { db } = stack.database;
    const accounts = await meteredAccounts(stack, 2);

    // Continuous load: the platform ingests (retrying failed batches), customers read their dashboards
    // (REST and tRPC), and the in-process worker runs a long queue of small database jobs (some of them
    // are being completed when the database goes away).
    const JOB = "expire-call-reservations";
    // Every job the queue deletes (completes) is traced with the attempts it had: an attempt used up by the
    // outage shows as a job completed at attempt 2 or more (none of these jobs ever fails on its own).
    await db.$executeRawUnsafe(`
      CREATE TABLE public.test_job_trace (task text, attempts int, max_attempts int, key text, payload json)`);
    await db.$executeRawUnsafe(`
      CREATE FUNCTION public.test_trace_job_delete() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO public.test_job_trace
        SELECT t.identifier, OLD.attempts, OLD.max_attempts, OLD.key, OLD.payload
        FROM graphile_worker._private_tasks t WHERE t.id = OLD.task_id;
        RETURN OLD;
      END $$`);
    await db.$executeRawUnsafe(`
      CREATE TRIGGER test_trace_job_delete AFTER DELETE ON graphile_worker._private_jobs
      FOR EACH ROW EXECUTE FUNCTION public.test_trace_job_delete()`);
    await db.$executeRaw`
      SELECT graphile_worker.add_job(${JOB}::text, '{}'::json) FROM generate_series(1, 3000)`;
    const calls = makeCalls(accounts, 6_000, 34, "pg-restart");
    const batches = Array.from({ length: calls.length / 100 }, (_, i) => calls.slice(i * 100, (i + 1) * 100));
    let phase: Probe["phase"] = "before";
    let loading = true;
    const probes: Probe[] = [];
    const read = async (via: Probe["via"], cookie: string) => {
      const probe: Probe = { via, status: "no answer", phase };
      const path = via === "rest" ? "/api/dashboard/comprehensive/" : "/trpc/dashboard.get";
      try {
        const response = await fetch(`${stack.baseUrl}${path}`, {
          headers: { cookie },
          signal: AbortSignal.timeout(30_000),
        });
        probe.status = response.status;
        if (response.status !== 200) probe.error = await response.text();
      } catch (error) {
        probe.error = String(error);
      }
      probes.push(probe);
    };
    const readers = accounts.map(async (account) => {
      while (loading) {
        await read("rest", account.cookie);
        await read("trpc", account.cookie);
        await sleep(50);
      }
    });
    // Jobs with keys, added again and again (as usage reports add `report-overage` jobs), ahead of the long
    // queue: an add while the job runs supersedes it (graphile-worker clears its key and sets its attempts to
    // the maximum). Superseded jobs whose outcome the outage lost were left "failed" with no error.
    let keyedAdds = 0;
    const producing = (async () => {
      for (let n = 0; loading; n++) {
        await db.$executeRaw`
          SELECT graphile_worker.add_job(${JOB}::text, '{"keyed":true}'::json,
            job_key => ${`pg-restart-${n % 8}`}::text, priority => -1)`.then(
          () => keyedAdds++,
          () => undefined, // while the database is down
        );
        await sleep(20);
      }
    })();
    let answeredBatches = 0;
    const ingesting = sendBatches(stack, batches, 2, (answered) => {
      answeredBatches = answered;
    });
    await until("some load before the outage", async () => (answeredBatches >= 5 ? true : undefined));

    await pgServer.stop();
    pgServer = undefined;
    phase = "down";
    const downSince = Date.now();
    const readinessWhileDown: { reason?: string }[] = [];
    const readyWhileDown = await until("readiness to report the database down", async () => {
      const ready = await readiness(stack);
      return ready.status === 503 ? ready.body : undefined;
    });
    await until("a few requests to fail while the database is down", async () => {
      const ready = await readiness(stack);
      if (ready.status === 503) readinessWhileDown.push(ready.body as { reason?: string });
      return probes.filter((p) => p.phase === "down").length >= 10 && Date.now() - downSince > 3000
        ? true
        : undefined;
    });
    expect(readyWhileDown).toEqual({ status: "not_ready", reason: "database_down" });
    pgServer = await startEmbeddedPostgres({ dataDir, port });
    phase = "after";
    await until("readiness back to 200", async () =>
      (await readiness(stack)).status === 200 ? true : undefined,
    );
    // The test's own client has a circuit breaker too, which may still be cooling down (up to 5 s) after
    // the API's has closed: it answers 57P03 until its probe succeeds.
    const jobsLeftAfterOutage = await until("the test's own client to count jobs again", () =>
      jobCount(db, JOB),
    );
    const outcomes = await ingesting;
    await until("dashboard reads to succeed again", async () =>
      probes.filter((p) => p.phase === "after" && p.status === 200).length >= 4 ? true : undefined,
    );
    loading = false;
    await Promise.all(readers);
    await producing;

    // Requests never hung (each got an answer); while the database was down they failed with a 503 that
    // says why, never with a 500.
    expect(probes.filter((p) => p.status === "no answer")).toEqual([]);
    const rest = probes.filter((p) => p.via === "rest");
    expect(new Set(rest.map((p) => p.status))).toEqual(new Set([200, 503]));
    const down = probes.filter((p) => p.phase === "down");
    for (const via of ["rest", "trpc"] as const) {
      const unavailable = down.filter((p) => p.via === via && p.status === 503);
      expect(unavailable.length, `${via} probes while down`).toBeGreaterThan(0);
      expect(unavailable[0]?.error).toContain("Minutely cannot reach its database right now");
    }
    // tRPC too: the session lookup (server.ts) and a procedure that loses the database midway (trpc.ts)
    // both answer 503.
    expect(new Set(probes.filter((p) => p.via === "trpc").map((p) => p.status))).toEqual(new Set([200, 503]));
    expect(probes.filter((p) => p.phase === "after").at(-1)?.status).toBe(200);

    // Ingestion: every batch eventually accepted, atomically, and the totals are exact.
    for (const outcome of outcomes) expect(new Set(outcome.statuses).size).toBe(1);
    expect(outcomes.some((o) => o.failures.includes("HTTP 503"))).toBe(true);
    expect(outcomes.flatMap((o) => o.failures).filter((f) => f !== "HTTP 503")).toEqual([]);
    await expectExactUsage(stack, accounts, calls);

    // The worker recovered in the same process: what was queued before the outage and what is queued now
    // all runs.
    await db.$executeRaw`
      SELECT graphile_worker.add_job(${JOB}::text, '{}'::json) FROM generate_series(1, 200)`;
    await untilDrained(stack, JOB);

    // The outage used up no job's attempts: every job completed at its first attempt, apart from the
    // superseded ones (their attempts were set to the maximum by add_job, not by the outage). No job is left
    // failed, of any task, and no outcome was lost to a pool ended under it.
    const traced = await db.$queryRaw<{ task: string; attempts: number; superseded: boolean }[]>`
      SELECT task, attempts,
        (payload->>'keyed' = 'true' AND key IS NULL AND attempts >= max_attempts) AS superseded
      FROM public.test_job_trace`;
    const keyless = traced.filter((t) => t.task === JOB && !t.superseded);
    expect(keyless.length).toBeGreaterThanOrEqual(3200);
    expect(keyless.filter((t) => t.attempts !== 1)).toEqual([]);
    const failedJobs = await db.$queryRaw<unknown[]>`
      SELECT t.identifier, j.attempts, j.max_attempts, j.last_error, j.key
      FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id
      WHERE j.attempts >= j.max_attempts`;
    expect(failedJobs).toEqual([]);
    // The queue's state afterwards, as the admin app and the queue gauge see it (one definition): nothing
    // failed, running, waiting for a dependency or retrying; only what the cron scheduled for later is left,
    // and no job or named queue is still locked by a runner (the dead runner's were settled or reclaimed).
    const states = await queueJobsByState(db);
    expect(states.filter((row) => row.state !== "scheduled")).toEqual([]);
    const [locked] = await db.$queryRaw<{ jobs: number; queues: number }[]>`
      SELECT (SELECT count(*)::int FROM graphile_worker._private_jobs WHERE locked_by IS NOT NULL) AS jobs,
        (SELECT count(*)::int FROM graphile_worker._private_job_queues WHERE locked_by IS NOT NULL) AS queues`;
    expect(locked).toEqual({ jobs: 0, queues: 0 });
    // Readiness said the database was down while it was, never that migrations were pending (a query that
    // failed halfway used to make every migration "pending").
    expect(readinessWhileDown.filter((body) => body.reason !== "database_down")).toEqual([]);
    expect(stack.logs()).not.toContain("Cannot use a pool after calling end on the pool");
    expect(stack.logs()).not.toMatch(/"msg":"job [a-z-]+ failed/);
    const pids = new Set(
      stack
        .logs()
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => (JSON.parse(line) as { pid?: number }).pid),
    );
    expect(pids.size).toBe(1);
    expect(stack.logs().match(/"msg":"Minutely API started"/g)).toHaveLength(1);
    note("pg restart: done", {
      jobsLeftAfterOutage,
      keyedAdds,
      superseded: traced.filter((t) => t.superseded).length,
      putBack: stack.logs().match(/without counting an attempt"/g)?.length ?? 0,
      outcomesRecorded: stack.logs().includes("recorded the outcomes of the jobs the dead runner held"),
      workerReplaced: stack.logs().includes("the background worker runs again"),
      probes: probes.length,
    });
  }, 600_000); // a long queue on a busy machine can take minutes: untilDrained fails on a stall instead
});
