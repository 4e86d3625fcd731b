import { EventEmitter } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { createTaskList, type Ports, type TaskHandler } from "@minutely/api";
import type { FastifyBaseLogger } from "fastify";
import { Logger, parseCrontab, type Runner, run, type Task, type WorkerEvents } from "graphile-worker";
import pg from "pg";
import type { Metrics } from "./metrics.ts";
import { CRONTAB, periodicTasks } from "./periodic.ts";

/** The task that processes one recorded Stripe webhook event (packages/api, services/stripe-webhooks.ts). */
const PROCESS_STRIPE_EVENT = "process-stripe-event";

declare global {
  namespace GraphileConfig {
    interface Plugins {
      MinutelyRunnerLiveness: true;
    }
  }
}

export interface WorkerOptions {
  connectionString: string;
  concurrency: number;
  ports: Ports;
  log: FastifyBaseLogger;
  metrics?: Metrics;
  /** The tasks to run; every task of the product (and the periodic ones) by default. */
  tasks?: Record<string, TaskHandler>;
  /** Schedule the periodic tasks (graphile-worker cron); on by default unless `tasks` replaces the list. */
  schedule?: boolean;
  /** How often to look for jobs besides LISTEN/NOTIFY (ms). */
  pollInterval?: number;
  /** How often to unlock the jobs of runners that died (ms); also done once at start. */
  reclaimInterval?: number;
  /** More graphile-worker plugins (tests use one to make a pool's shutdown hang, as graphile-worker's can). */
  plugins?: GraphileConfig.Plugin[];
}

/** First key of the runners' liveness advisory locks (the second is hashtext of the pool id). */
const LIVENESS_LOCK_NAMESPACE = 0x4d4e5457;
const LOCK = "SELECT pg_advisory_lock($1, hashtext($2))";

/**
 * graphile-worker locks a job with the id of the runner's pool and frees the locks of a runner that vanished
 * only after 4 hours, so a crash (SIGKILL, OOM, a lost machine) would leave the jobs it was running stuck
 * for that long. Every pool here therefore holds a session advisory lock on its id, on a connection of its
 * own, for as long as it lives (taken before it fetches its first job). When a runner's process dies, its
 * connection closes and the lock is free: any runner (at start and then periodically) sees that and unlocks
 * the dead runner's jobs, which then run again right away. Jobs are idempotent; the rare double run (a
 * runner that lost its connection during a database restart and is reclaimed before it reconnects) is safe.
 */
class RunnerLiveness {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  /** Pools of this process: their locks are (re)taken on every new session. */
  private readonly pools = new Set<string>();
  private readonly holding = new Map<string, Promise<void>>();
  private readonly ended = new WeakSet<pg.Client>();
  private stopped = false;

  constructor(
    private readonly connectionString: string,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Resolves once the pool's lock is held (waiting for the database as long as it takes). */
  hold(poolId: string): Promise<void> {
    let holding = this.holding.get(poolId);
    if (!holding) {
      this.pools.add(poolId);
      holding = this.acquire(poolId);
      this.holding.set(poolId, holding);
    }
    return holding;
  }

  private async acquire(poolId: string): Promise<void> {
    for (;;) {
      const client = await this.session();
      try {
        await client.query(LOCK, [LIVENESS_LOCK_NAMESPACE, poolId]);
        return;
      } catch {
        // The session broke; the next one takes every lock of this process, this one included.
        this.drop(client);
      }
    }
  }

  /** A session holding the locks of every pool of this process; reconnects after it was lost. */
  private session(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connect(): Promise<pg.Client> {
    for (let attempt = 0; ; attempt++) {
      if (this.stopped) throw new Error("the worker is stopping");
      const client = new pg.Client({
        connectionString: this.connectionString,
        application_name: "minutely-worker-liveness",
        // A server that is starting or going away can accept a connection and never answer: give up and retry.
        connectionTimeoutMillis: 10_000,
        keepAlive: true,
      });
      client.on("error", () => this.drop(client));
      client.on("end", () => this.drop(client));
      try {
        await client.connect();
        for (const poolId of this.pools) await client.query(LOCK, [LIVENESS_LOCK_NAMESPACE, poolId]);
        if (this.stopped) throw new Error("the worker is stopping");
        this.client = client;
        if (attempt > 0) this.log.info({ attempts: attempt + 1 }, "worker liveness session restored");
        return client;
      } catch (error) {
        this.drop(client);
        if (attempt === 0) this.log.warn({ err: error }, "worker liveness session lost; reconnecting");
        await sleep(Math.min(200 * 2 ** attempt, 5000));
      }
    }
  }

  private drop(client: pg.Client): void {
    if (this.client === client) this.client = undefined;
    if (this.ended.has(client)) return;
    this.ended.add(client);
    client.end().catch(() => undefined);
  }

  /**
   * Unlocks the jobs (and named queues) locked by runners whose liveness lock is free, that is runners
   * whose process is gone. Returns their pool ids.
   */
  async reclaimDeadRunners(): Promise<string[]> {
    const client = await this.session();
    const { rows } = await client.query<{ id: string }>(`
      SELECT locked_by AS id FROM graphile_worker._private_jobs WHERE locked_by IS NOT NULL
      UNION SELECT locked_by FROM graphile_worker._private_job_queues WHERE locked_by IS NOT NULL`);
    const gone: string[] = [];
    try {
      for (const { id } of rows) {
        if (this.pools.has(id)) continue;
        const free = await client.query<{ free: boolean }>(
          "SELECT pg_try_advisory_lock($1, hashtext($2)) AS free",
          [LIVENESS_LOCK_NAMESPACE, id],
        );
        // Holding the dead runner's lock until its jobs are unlocked; a live runner keeps its own.
        if (free.rows[0]?.free) gone.push(id);
      }
      if (gone.length > 0) {
        await client.query("SELECT graphile_worker.force_unlock_workers($1::text[])", [gone]);
      }
    } finally {
      for (const id of gone) {
        await client
          .query("SELECT pg_advisory_unlock($1, hashtext($2))", [LIVENESS_LOCK_NAMESPACE, id])
          .catch(() => undefined);
      }
    }
    return gone;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const client = this.client;
    this.client = undefined;
    if (client && !this.ended.has(client)) {
      this.ended.add(client);
      await client.end().catch(() => undefined);
    }
  }
}

/** Seconds from receiving an event to processing it, when this job run is the one that processed it. */
async function webhookLagOf(ports: Ports, payload: unknown, startedAt: Date): Promise<number | null> {
  const eventId = (payload as { eventId?: unknown } | null)?.eventId;
  if (typeof eventId !== "string") return null;
  const [row] = await ports.db.$queryRaw<{ lag: number }[]>`
    SELECT EXTRACT(EPOCH FROM processed_at - received_at)::float8 AS lag FROM stripe_event
    WHERE id = ${eventId} AND status = 'processed' AND processed_at >= ${startedAt}`;
  return row ? Math.max(0, row.lag) : null;
}

/** A running set of worker loops (one graphile-worker runner) and how it ends. */
export interface WorkerRunner {
  /**
   * Settles once the runner has ended: `undefined` when it was stopped, the error when it died. A runner
   * dies when it cannot record a job's outcome (PostgreSQL went away at that moment); graphile-worker
   * 0.17 then shuts its pool down but may never settle the runner's promise (seen in the database-restart
   * test: the pool's shutdown never finished), so the death is taken from its `pool:fatalError` event too.
   */
  ended: Promise<unknown>;
  /** Stops taking jobs, finishes the running ones and closes the runner's connections. */
  stop(): Promise<void>;
}

/**
 * Runs the background tasks from the shared PostgreSQL queue until stopped. Any number of runners (in API
 * replicas or `pnpm worker` processes) share the queue: a job is locked by one of them (SELECT ... FOR
 * UPDATE SKIP LOCKED), so it runs once; a runner that dies leaves its jobs to be retried by another.
 */
export async function startWorker(options: WorkerOptions): Promise<WorkerRunner> {
  const { ports, log, metrics } = options;
  const handlers = options.tasks ?? { ...createTaskList(ports), ...periodicTasks(ports) };
  const taskList: Record<string, Task> = {};
  for (const [name, handler] of Object.entries(handlers)) {
    taskList[name] = async (payload, helpers) => {
      const job = helpers.job;
      const startedAt = new Date();
      const timer = metrics?.jobDuration.startTimer({ task: name });
      try {
        await handler(payload, { jobId: job.id, attempt: job.attempts });
      } catch (error) {
        timer?.();
        const permanent = job.attempts >= job.max_attempts;
        metrics?.jobFailures.inc({ task: name, permanent: String(permanent) });
        log.error(
          {
            err: error,
            task: name,
            jobId: job.id,
            attempt: job.attempts,
            maxAttempts: job.max_attempts,
            permanent,
            payload,
          },
          permanent ? `job ${name} failed for good` : `job ${name} failed; it will be retried`,
        );
        throw error;
      }
      timer?.();
      metrics?.jobsCompleted.inc({ task: name });
      if (metrics && name === PROCESS_STRIPE_EVENT) {
        const lag = await webhookLagOf(ports, payload, startedAt).catch(() => null);
        if (lag !== null) metrics.webhookLag.observe(lag);
      }
    };
  }
  const logger = new Logger((scope) => (level, message, meta) => {
    // Job failures get one line of ours (above); graphile-worker's own goes to debug.
    if (meta?.failure) return log.debug({ scope }, message);
    const line = {
      scope: { label: scope.label, workerId: scope.workerId, taskIdentifier: scope.taskIdentifier },
    };
    if (level === "error") log.error(line, message);
    else if (level === "warning") log.warn(line, message);
    else log.debug(line, message);
  });
  const liveness = new RunnerLiveness(options.connectionString, log);
  const livenessPlugin: GraphileConfig.Plugin = {
    name: "MinutelyRunnerLiveness",
    version: "1.0.0",
    // Awaited by each worker before it fetches its first job: no job is ever locked by an unmarked pool.
    worker: { hooks: { startWorker: (_ctx, event) => liveness.hold(event.worker.workerPool.id) } },
  };
  // The runner's own pool, not one graphile-worker makes: connections time out instead of hanging while
  // PostgreSQL restarts, and every connection keeps an error listener for its whole life (graphile-worker
  // removes its listeners when a runner stops, and an error on a connection without one ends the process).
  const pgPool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.concurrency + 3,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: "minutely-worker",
  });
  pgPool.on("error", (error) => log.warn({ err: error }, "worker: an idle database connection was lost"));
  pgPool.on("connect", (client) => {
    client.on("error", () => {
      // The query that was using it (if any) fails with this error and is handled there.
    });
  });
  const events: WorkerEvents = new EventEmitter();
  let runner: Runner;
  try {
    runner = await run({
      pgPool,
      events,
      concurrency: options.concurrency,
      taskList,
      logger,
      noHandleSignals: true,
      pollInterval: options.pollInterval ?? 1000,
      parsedCronItems: (options.schedule ?? options.tasks === undefined) ? parseCrontab(CRONTAB) : [],
      preset: {
        plugins: [livenessPlugin, ...(options.plugins ?? [])],
        // Batched completion (in the same tick): graphile-worker 0.17 leaves the promise of an unbatched
        // completion unhandled, so a connection lost at that moment (a PostgreSQL restart) would crash the
        // process; batched, the failure stops this runner instead, and superviseWorker replaces it.
        worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 },
      },
    });
  } catch (error) {
    await liveness.stop();
    await pgPool.end().catch(() => undefined);
    throw error;
  }
  let timer: NodeJS.Timeout | undefined;
  let running = true;
  const reclaim = async () => {
    try {
      const gone = await liveness.reclaimDeadRunners();
      if (gone.length > 0) {
        log.warn({ runners: gone }, "unlocked the jobs of worker runners that are gone; they run again now");
      }
    } catch (error) {
      log.warn({ err: error }, "could not check for the jobs of dead worker runners; trying again later");
    }
    if (running) timer = setTimeout(() => void reclaim(), options.reclaimInterval ?? 30_000).unref();
  };
  void reclaim();
  let died = false;
  const ended = new Promise<unknown>((resolve) => {
    events.once("pool:fatalError", ({ error }) => {
      died = true;
      resolve(error ?? new Error("the worker pool failed"));
    });
    runner.promise.then(
      () => resolve(undefined),
      (error: unknown) => {
        died = true;
        resolve(error ?? new Error("the worker runner failed"));
      },
    );
  });
  // However it ended: no more reclaiming, and its liveness lock is let go, so that the jobs it held
  // (their outcome not written) are unlocked by the next runner and run again.
  const closed = ended.then(async () => {
    running = false;
    clearTimeout(timer);
    await liveness.stop();
    // Not awaited: graphile-worker may still hold a client of a runner that died.
    void pgPool.end().catch(() => undefined);
  });
  return {
    ended,
    async stop() {
      // A runner that died is shut down already (asking graphile-worker again would wait forever).
      if (!died) await runner.stop().catch(() => undefined);
      await closed;
    },
  };
}

export interface SupervisedWorker {
  stop(): Promise<void>;
}

/**
 * Runs the background worker for the life of the process: when its runner fails (it stops its pool when it
 * cannot record a job's outcome, as during a PostgreSQL restart), a new runner is started with a growing
 * delay until the database answers again; the failed runner's locked jobs are reclaimed and run again
 * (RunnerLiveness). So a database restart never takes the API process down with it. The first start still
 * fails fast, like the rest of the start-up.
 */
export async function superviseWorker(options: WorkerOptions): Promise<SupervisedWorker> {
  const { log } = options;
  let current = await startWorker(options);
  let stopping = false;
  const replace = async (error: unknown) => {
    log.error({ err: error }, "the background worker stopped with an error; starting a new one");
    for (let attempt = 0; !stopping; attempt++) {
      await sleep(Math.min(500 * 2 ** attempt, 30_000));
      if (stopping) return;
      try {
        const runner = await startWorker(options);
        current = runner;
        if (stopping) {
          await runner.stop();
          return;
        }
        watch(runner);
        log.info({ attempts: attempt + 1 }, "the background worker runs again");
        return;
      } catch (startError) {
        log.warn(
          { err: startError, attempt: attempt + 1 },
          "the background worker could not start yet; retrying",
        );
      }
    }
  };
  // Any end that was not asked for counts as a failure (graphile-worker's runner can end cleanly when its
  // pool died of an error).
  const watch = (runner: WorkerRunner) => {
    void runner.ended.then((error) => {
      if (!stopping && runner === current) void replace(error ?? new Error("the worker runner stopped"));
    });
  };
  watch(current);
  return {
    async stop() {
      stopping = true;
      // A runner that already ended (and is being replaced) has nothing left to stop.
      await current.stop().catch(() => undefined);
    },
  };
}
