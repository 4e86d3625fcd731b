import { EventEmitter } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import {
  CRONTAB,
  classifyFailure,
  createTaskList,
  type Dependency,
  dependencyName,
  InvalidTaskPayloadError,
  type Ports,
  type TaskHandler,
} from "@minutely/api";
import { lockName, SESSION_LOCK_SQL } from "@minutely/db";
import type { FastifyBaseLogger } from "fastify";
import {
  type Job,
  Logger,
  parseCrontab,
  type Runner,
  run,
  type Task,
  type WorkerEvents,
} from "graphile-worker";
// Not part of graphile-worker's index: its module-level list of live worker pools (see forgetWorkerPool).
import { _allWorkerPools } from "graphile-worker/dist/main.js";
import pg from "pg";
import type { Metrics } from "./metrics.ts";

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
  /**
   * How long a runner's liveness lock must stay free before its jobs are taken as abandoned (ms, default
   * 10 s). A PostgreSQL restart frees every runner's lock at once, also those of runners that are alive
   * and about to take theirs again; only a lock still free after this grace belongs to a dead process.
   */
  reclaimGrace?: number;
  /** Backoff of a job that could not reach a dependency (ms): first retry, and the most (defaults 1 s, 5 min). */
  outageBackoff?: { baseMs: number; maxMs: number };
  /** More graphile-worker plugins (tests use one to make a pool's shutdown hang, as graphile-worker's can). */
  plugins?: GraphileConfig.Plugin[];
}

/** The last error of a job whose last attempt ended with the process running it. */
const PROCESS_ENDED_NOTE =
  "The worker process running this job ended before it finished (killed, out of memory or a lost machine); the attempt counted.";

/** The name of a runner's liveness advisory lock (packages/db `locks.ts`). */
const livenessLock = (poolId: string) => lockName("worker-runner", poolId);

/**
 * graphile-worker locks a job with the id of the runner's pool and frees the locks of a runner that vanished
 * only after 4 hours, so a crash (SIGKILL, OOM, a lost machine) would leave the jobs it was running stuck
 * for that long. Every pool here therefore holds a session advisory lock on its id, on a connection of its
 * own, for as long as it lives (taken before it fetches its first job). When a runner's process dies, its
 * connection closes and the lock is free: any runner (at start and then periodically) sees that and, once the
 * lock has stayed free for a grace period (10 s), unlocks the dead runner's jobs, which then run again. The
 * grace is for PostgreSQL restarts, which free every lock at once: live runners take theirs again within
 * seconds (a lost session reconnects by itself) and keep their jobs. The attempt a dead process's job was
 * fetched with stays counted: the process may have died of the job itself.
 */
class RunnerLiveness {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  /** Pools of this process: their locks are (re)taken on every new session. */
  private readonly pools = new Set<string>();
  private readonly holding = new Map<string, Promise<void>>();
  private readonly ended = new WeakSet<pg.Client>();
  /** Pools of other runners whose lock was seen free, and since when (ms). */
  private readonly suspects = new Map<string, number>();
  private stopped = false;

  constructor(
    private readonly connectionString: string,
    private readonly log: FastifyBaseLogger,
    private readonly graceMs: number,
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
        await client.query(SESSION_LOCK_SQL.lock, [livenessLock(poolId)]);
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
        for (const poolId of this.pools) await client.query(SESSION_LOCK_SQL.lock, [livenessLock(poolId)]);
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
    const wasHolding = this.client === client;
    if (wasHolding) this.client = undefined;
    if (!this.ended.has(client)) {
      this.ended.add(client);
      client.end().catch(() => undefined);
    }
    // The locks went with the session: take them again as soon as the database answers, so that no other
    // runner takes this live one for dead (it waits for a lock to stay free for a grace period).
    if (wasHolding && !this.stopped && this.pools.size > 0) void this.session().catch(() => undefined);
  }

  /**
   * Unlocks the jobs (and named queues) locked by runners whose liveness lock has been free for the grace
   * period, that is runners whose process is gone. A lock seen free for the first time is only noted: right
   * after a PostgreSQL restart every lock is free, and live runners take theirs again within seconds.
   * Returns the pool ids unlocked, and whether some runner is suspected (look again after the grace).
   */
  async reclaimDeadRunners(): Promise<{ gone: string[]; suspects: number }> {
    const client = await this.session();
    const { rows } = await client.query<{ id: string }>(`
      SELECT locked_by AS id FROM graphile_worker._private_jobs WHERE locked_by IS NOT NULL
      UNION SELECT locked_by FROM graphile_worker._private_job_queues WHERE locked_by IS NOT NULL`);
    const gone: string[] = [];
    const seen = new Set<string>();
    try {
      for (const { id } of rows) {
        if (this.pools.has(id)) continue;
        seen.add(id);
        const free = await client.query<{ free: boolean }>(SESSION_LOCK_SQL.tryLock, [livenessLock(id)]);
        if (!free.rows[0]?.free) {
          this.suspects.delete(id);
          continue;
        }
        const since = this.suspects.get(id);
        if (since !== undefined && Date.now() - since >= this.graceMs) {
          // Holding the dead runner's lock until its jobs are unlocked; a live runner keeps its own.
          gone.push(id);
          this.suspects.delete(id);
        } else {
          if (since === undefined) this.suspects.set(id, Date.now());
          await client.query(SESSION_LOCK_SQL.unlock, [livenessLock(id)]);
        }
      }
      for (const id of this.suspects.keys()) if (!seen.has(id)) this.suspects.delete(id);
      if (gone.length > 0) {
        // A job that add_job superseded while the dead runner held it (graphile-worker then clears its key
        // and sets its attempts to the maximum, so that it never runs again) is left behind: the newer job
        // with its key does the work. Without this it would stay as a "failed" job with no error.
        await client.query(
          `DELETE FROM graphile_worker._private_jobs
           WHERE locked_by = ANY($1::text[]) AND key IS NULL AND attempts >= max_attempts
             AND (last_error IS NULL OR last_error LIKE '${OUTAGE_MARK}%')`,
          [gone],
        );
        // A job whose last attempt the dead process took (a max=1 cron job, say) would end failed with no
        // error: it says what happened. Its attempt stays counted (the process may have died of the job);
        // a shutdown gives its jobs back before it exits (WorkerRunner.stop).
        await client.query(
          `UPDATE graphile_worker._private_jobs
           SET last_error = left('${PROCESS_ENDED_NOTE}' || coalesce(E'\nBefore: ' || last_error, ''), 2000)
           WHERE locked_by = ANY($1::text[]) AND attempts >= max_attempts`,
          [gone],
        );
        await client.query("SELECT graphile_worker.force_unlock_workers($1::text[])", [gone]);
      }
    } finally {
      for (const id of gone) {
        await client.query(SESSION_LOCK_SQL.unlock, [livenessLock(id)]).catch(() => undefined);
      }
    }
    return { gone, suspects: this.suspects.size };
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

/**
 * How `last_error` marks a job put back because a dependency was unreachable: `[outage N] ...`, N the number
 * of such retries in a row (it sets the backoff of the next one). A real failure overwrites it (and N starts
 * again); the admin app shows it as the reason the job waits.
 */
const OUTAGE_MARK = "[outage ";

/** The outage retries in a row recorded on a job (0 when its last error, if any, was its own). */
export function outageRetriesOf(lastError: string | null | undefined): number {
  const match = /^\[outage (\d+)\]/.exec(lastError ?? "");
  return match ? Number(match[1]) : 0;
}

/**
 * The wait before the `retry`th outage retry in a row (1-based): doubling from `baseMs` up to `maxMs`, with
 * full jitter on the upper half (between half and all of it), so jobs put back together spread out.
 */
export function outageDelayMs(
  retry: number,
  backoff: { baseMs: number; maxMs: number },
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(Math.max(retry - 1, 0), 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

const DEFAULT_OUTAGE_BACKOFF = { baseMs: 1000, maxMs: 5 * 60_000 };

/**
 * Puts a job back that could not reach a dependency, as if this run never happened: the attempt taken when
 * the job was fetched is given back, and it runs again after the backoff. A job that add_job superseded
 * meanwhile (graphile-worker set its attempts to the maximum and cleared its key) is deleted instead: the
 * newer job with its key does the work. Its named queue, if any, is unlocked. Only while this runner still
 * holds the job.
 *
 * The job goes back under a new id (the row is moved: deleted and inserted again, key, payload, queue,
 * priority and creation time kept). graphile-worker still writes its own failure for the run (PutBack is
 * thrown to it), matching the job's id and this runner's pool, and that write may land late: after the
 * backoff, when this same runner may have fetched the job again. Had the job kept its id, that late write
 * would hit the new run (unlocking a job that runs, so that another runner could take it too, and counting
 * an attempt); under a new id it matches nothing, whenever it lands.
 */
const PUT_BACK_SQL = `
WITH taken AS (
  DELETE FROM graphile_worker._private_jobs
  WHERE id = $1::bigint AND locked_by = $2::text
  RETURNING *
), back AS (
  INSERT INTO graphile_worker._private_jobs
    (job_queue_id, task_id, payload, priority, run_at, attempts, max_attempts, last_error, created_at, key,
     revision, flags)
  SELECT job_queue_id, task_id, payload, priority, now() + make_interval(secs => $4::float8 / 1000),
    greatest(0, attempts - 1), max_attempts, $5::text, created_at, key, revision, flags
  FROM taken WHERE attempts = $3::int
)
UPDATE graphile_worker._private_job_queues AS q SET locked_by = NULL, locked_at = NULL
FROM taken WHERE q.id = taken.job_queue_id AND q.locked_by = $2::text`;

/** Thrown to graphile-worker after a job was put back: its own failure update then matches nothing (id gone). */
class PutBack extends Error {
  override name = "PutBack";
}

/** What became of a job a runner took, kept until its outcome is surely written (see JobLedger). */
interface Taken {
  job: Job;
  attempts: number;
  outcome?:
    | { kind: "completed" }
    | { kind: "failed"; message: string }
    | { kind: "put-back"; written: boolean };
  /** When the outcome was known (ms). */
  at?: number;
  running?: Promise<void>;
}

/**
 * The jobs a runner took and what became of them. graphile-worker writes an outcome (deletes a completed job,
 * records a failure) after the task returns, without telling whether the write worked; when PostgreSQL goes
 * away at that moment the write fails and the runner dies with jobs still locked by it. The ledger lets the
 * runner write those outcomes itself once the database is back, instead of leaving the jobs to be fetched
 * again (which would count another attempt, and leave a superseded job failed with no error).
 */
class JobLedger {
  private readonly jobs = new Map<string, Taken>();

  take(job: Job): Taken {
    if (this.jobs.size > 500) this.prune();
    const taken: Taken = { job, attempts: job.attempts };
    this.jobs.set(job.id, taken);
    return taken;
  }

  get(jobId: string): Taken | undefined {
    return this.jobs.get(jobId);
  }

  /** The jobs whose task has not returned yet. */
  unfinished(): Taken[] {
    return [...this.jobs.values()].filter((taken) => taken.outcome === undefined);
  }

  /** Resolves once every task this runner started has returned. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.jobs.values()].map((taken) => taken.running));
  }

  /** Outcomes known for a minute were written long ago (writes are immediate) or the runner died already. */
  private prune(): void {
    const before = Date.now() - 60_000;
    for (const [id, taken] of this.jobs) {
      if (taken.at !== undefined && taken.at < before) this.jobs.delete(id);
    }
  }
}

/** Retries `work` with backoff (0.2 s doubling to 5 s) until it succeeds or `stopping()` says to give up. */
async function untilWritten(
  work: () => Promise<unknown>,
  stopping: () => boolean,
  onError: (error: unknown, attempt: number) => void,
): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    try {
      await work();
      return true;
    } catch (error) {
      onError(error, attempt);
      if (stopping()) return false;
      await sleep(outageDelayMs(attempt + 1, { baseMs: 200, maxMs: 5000 }));
      if (stopping()) return false;
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
  /** Whether graphile-worker's cron of this runner still runs (scheduled periodic tasks). */
  readonly cronActive: boolean;
  /**
   * Stops taking jobs, finishes the running ones and closes the runner's connections. Jobs still running
   * after `interruptAfterMs` (default 15 s, within the processes' 25 s shutdown deadline) are given back
   * their attempt and unlocked, so another runner runs them at once: a job interrupted by a shutdown (a
   * Stripe call hanging, say) never uses up an attempt. The stop then returns without waiting for them.
   */
  stop(options?: StopOptions): Promise<void>;
}

export interface StopOptions {
  interruptAfterMs?: number;
}

const DEFAULT_INTERRUPT_AFTER_MS = 15_000;

/**
 * Runs the background tasks from the shared PostgreSQL queue until stopped. Any number of runners (in API
 * replicas or `pnpm worker` processes) share the queue: a job is locked by one of them (SELECT ... FOR
 * UPDATE SKIP LOCKED), so it runs once; a runner that dies leaves its jobs to be retried by another.
 */
export async function startWorker(options: WorkerOptions): Promise<WorkerRunner> {
  const { ports, log, metrics } = options;
  const handlers = options.tasks ?? createTaskList(ports);
  const backoff = options.outageBackoff ?? DEFAULT_OUTAGE_BACKOFF;
  const ledger = new JobLedger();
  let stopping = false;
  // Set below; the tasks only run once it is.
  let pgPool: pg.Pool | undefined;

  /**
   * A dependency was unreachable: the job goes back to the queue without counting this attempt and runs
   * again after an exponential backoff. The write needs PostgreSQL, so it waits for it (an outage of the
   * database is the usual reason to be here); only a runner that is being stopped gives up, leaving the job
   * locked to be reclaimed like any job of a runner that stopped mid-way.
   */
  const putBack = async (name: string, job: Job, taken: Taken, dependency: Dependency, error: unknown) => {
    const retry = outageRetriesOf(job.last_error) + 1;
    const delayMs = outageDelayMs(retry, backoff);
    const reason = error instanceof Error ? error.message : String(error);
    const note = `${OUTAGE_MARK}${retry}] ${dependencyName(dependency)} could not be reached; retried without counting an attempt: ${reason}`;
    const written = await untilWritten(
      async () => {
        if (!pgPool) throw new Error("the worker pool is not ready");
        await pgPool.query(PUT_BACK_SQL, [
          job.id,
          job.locked_by,
          taken.attempts,
          delayMs,
          note.slice(0, 2000),
        ]);
      },
      () => stopping,
      (writeError, attempt) => {
        if (attempt === 0) {
          log.warn(
            { err: writeError, task: name, jobId: job.id },
            "cannot put the job back yet; waiting for the database",
          );
        }
      },
    );
    taken.outcome = { kind: "put-back", written };
    taken.at = Date.now();
    metrics?.jobOutageRetries.inc({ task: name, dependency });
    log.warn(
      { err: error, task: name, jobId: job.id, dependency, outageRetry: retry, retryInMs: delayMs, written },
      `job ${name} could not reach ${dependencyName(dependency)}; it runs again later without counting an attempt`,
    );
  };

  /** Uses up a job's attempts (while this runner holds it), so the failure graphile-worker records is final. */
  const failForGood = async (job: Job): Promise<boolean> => {
    if (!pgPool) return false;
    const result = await pgPool
      .query(
        `UPDATE graphile_worker._private_jobs SET attempts = greatest(attempts, max_attempts)
         WHERE id = $1::bigint AND locked_by = $2::text`,
        [job.id, job.locked_by],
      )
      .catch(() => null);
    return (result?.rowCount ?? 0) > 0;
  };

  const taskList: Record<string, Task> = {};
  for (const [name, handler] of Object.entries(handlers)) {
    taskList[name] = async (payload, helpers) => {
      const job = helpers.job;
      const taken = ledger.take(job);
      let done: () => void = () => {};
      taken.running = new Promise<void>((resolve) => {
        done = resolve;
      });
      const startedAt = new Date();
      const timer = metrics?.jobDuration.startTimer({ task: name });
      try {
        await handler(payload, { jobId: job.id, attempt: job.attempts });
      } catch (error) {
        timer?.();
        const failure = classifyFailure(error);
        if (failure.kind === "infrastructure") {
          await putBack(name, job, taken, failure.dependency, error);
          done();
          throw new PutBack(`put back: ${dependencyName(failure.dependency)} could not be reached`);
        }
        // A payload its task's schema refuses fails for good at once: no retry can make it parse.
        const invalid = error instanceof InvalidTaskPayloadError && (await failForGood(job));
        const permanent = invalid || job.attempts >= job.max_attempts;
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
        // The message graphile-worker records as the job's last error.
        const message = (error instanceof Error ? error.message : "") || String(error);
        taken.outcome = { kind: "failed", message };
        taken.at = Date.now();
        done();
        throw error;
      }
      timer?.();
      taken.outcome = { kind: "completed" };
      taken.at = Date.now();
      done();
      metrics?.jobsCompleted.inc({ task: name });
      if (metrics && name === "process-stripe-event") {
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
  const liveness = new RunnerLiveness(options.connectionString, log, options.reclaimGrace ?? 10_000);
  let poolId: string | undefined;
  const livenessPlugin: GraphileConfig.Plugin = {
    name: "MinutelyRunnerLiveness",
    version: "1.0.0",
    // Awaited by each worker before it fetches its first job: no job is ever locked by an unmarked pool.
    worker: {
      hooks: {
        startWorker: (_ctx, event) => {
          poolId = event.worker.workerPool.id;
          return liveness.hold(poolId);
        },
      },
    },
  };
  // The runner's own pool, not one graphile-worker makes: connections time out instead of hanging while
  // PostgreSQL restarts, and every connection keeps an error listener for its whole life (graphile-worker
  // removes its listeners when a runner stops, and an error on a connection without one ends the process).
  const runnerPool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.concurrency + 3,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: "minutely-worker",
  });
  pgPool = runnerPool;
  runnerPool.on("error", (error) => log.warn({ err: error }, "worker: an idle database connection was lost"));
  runnerPool.on("connect", (client) => {
    client.on("error", () => {
      // The query that was using it (if any) fails with this error and is handled there.
    });
  });
  const events: WorkerEvents = new EventEmitter();
  // graphile-worker's cron and worker pool of this runner: a runner that died is never settled by
  // graphile-worker (its pool's shutdown may never finish), so they are let go of here (see `closed`).
  let cron: { _active: boolean; release(): unknown } | undefined;
  let graphilePool: unknown;
  events.on("cron:starting", ({ cron: started }) => {
    cron = started;
  });
  events.on("pool:create", ({ workerPool }) => {
    graphilePool = workerPool;
  });
  let runner: Runner;
  try {
    runner = await run({
      pgPool: runnerPool,
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
    await runnerPool.end().catch(() => undefined);
    throw error;
  }
  let timer: NodeJS.Timeout | undefined;
  let running = true;
  const reclaimEvery = options.reclaimInterval ?? 30_000;
  const reclaim = async () => {
    let next = reclaimEvery;
    try {
      const { gone, suspects } = await liveness.reclaimDeadRunners();
      if (gone.length > 0) {
        log.warn({ runners: gone }, "unlocked the jobs of worker runners that are gone; they run again now");
      }
      // A runner whose lock was just seen free is looked at again once the grace is over.
      if (suspects > 0) next = Math.min(reclaimEvery, (options.reclaimGrace ?? 10_000) + 100);
    } catch (error) {
      log.warn({ err: error }, "could not check for the jobs of dead worker runners; trying again later");
    }
    if (running) timer = setTimeout(() => void reclaim(), next).unref();
  };
  void reclaim();

  /**
   * After the runner died: writes the outcomes graphile-worker could not write, once PostgreSQL answers.
   * A completed job is deleted, a failed one records its error as graphile-worker would have, and a job
   * with no outcome (put back while the database was down, or fetched just as the runner died) gets back
   * the attempt it was fetched with; a superseded one is deleted (its successor does the work).
   */
  const settleLostOutcomes = async (id: string) => {
    await ledger.idle();
    // graphile-worker may still be writing outcomes that it queued before it gave up (or may hang).
    await Promise.race([runner.promise.catch(() => undefined), sleep(5000)]);
    let settled: Record<string, number> = {};
    const written = await untilWritten(
      async () => {
        const client = await runnerPool.connect();
        try {
          await client.query("BEGIN");
          const { rows } = await client.query<{ id: string; attempts: number }>(
            `SELECT id::text, attempts FROM graphile_worker._private_jobs WHERE locked_by = $1 FOR UPDATE`,
            [id],
          );
          const completed: string[] = [];
          const failed: { id: string; message: string }[] = [];
          const returned: string[] = [];
          const superseded: string[] = [];
          for (const row of rows) {
            const taken = ledger.get(row.id);
            const outcome = taken?.outcome;
            if (outcome?.kind === "completed") completed.push(row.id);
            else if (outcome?.kind === "failed") failed.push({ id: row.id, message: outcome.message });
            else if (taken && row.attempts !== taken.attempts) superseded.push(row.id);
            else returned.push(row.id);
          }
          await client.query(
            "DELETE FROM graphile_worker._private_jobs WHERE id = ANY($1::bigint[]) AND locked_by = $2",
            [[...completed, ...superseded], id],
          );
          // graphile-worker's own failure update (failJobs.ts): error, backoff by attempts, unlocked.
          await client.query(
            `UPDATE graphile_worker._private_jobs AS jobs
             SET last_error = el->>'message',
                 run_at = greatest(now(), run_at) + (exp(least(attempts, 10)) * interval '1 second'),
                 locked_by = NULL, locked_at = NULL
             FROM json_array_elements($1::json) AS els(el)
             WHERE id = (el->>'id')::bigint AND locked_by = $2`,
            [JSON.stringify(failed), id],
          );
          await client.query(
            `UPDATE graphile_worker._private_jobs
             SET attempts = greatest(0, attempts - 1), locked_by = NULL, locked_at = NULL
             WHERE id = ANY($1::bigint[]) AND locked_by = $2`,
            [returned, id],
          );
          await client.query(
            "UPDATE graphile_worker._private_job_queues SET locked_by = NULL, locked_at = NULL WHERE locked_by = $1",
            [id],
          );
          await client.query("COMMIT");
          settled = {
            completed: completed.length,
            failed: failed.length,
            returned: returned.length,
            superseded: superseded.length,
          };
        } catch (error) {
          await client.query("ROLLBACK").catch(() => undefined);
          client.release(error instanceof Error ? error : true);
          throw error;
        }
        client.release();
      },
      () => stopping,
      (error, attempt) => {
        if (attempt === 0) {
          log.warn(
            { err: error },
            "cannot record the outcomes of the dead runner's jobs yet; waiting for the database",
          );
        }
      },
    );
    if (written) log.info({ pool: id, ...settled }, "recorded the outcomes of the jobs the dead runner held");
  };

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
  // However it ended: no more reclaiming. A runner that died first writes the outcomes of the jobs it held
  // (its liveness lock keeps other runners from reclaiming them meanwhile), then lets go of its lock and
  // pool. The pool is ended only then: ending it earlier made every outcome still on its way fail ("Cannot
  // use a pool after calling end on the pool"), leaving those jobs to be fetched again at the cost of an
  // attempt.
  // A runner that died also stops its cron, whose timer graphile-worker would otherwise keep (it schedules
  // the periodic tasks on a pool that is ended below: "Cannot use a pool after calling end on the pool" on
  // every tick, for the life of the process), and is forgotten by graphile-worker's list of pools, which
  // kept every dead pool (and all it references) for the life of the process: one per restart.
  const closed = ended.then(async () => {
    running = false;
    clearTimeout(timer);
    if (died) cron?.release();
    if (died && poolId) await settleLostOutcomes(poolId);
    await liveness.stop();
    if (died) forgetWorkerPool(graphilePool);
    // Not awaited: graphile-worker may still hold a client of a runner that died.
    void runnerPool.end().catch(() => undefined);
  });
  /**
   * The shutdown could not wait for these jobs any longer: each goes back to the queue as if this run never
   * happened (its attempt given back, unlocked, due now; a superseded one deleted), with PUT_BACK_SQL, so
   * graphile-worker's own outcome for it, should its task still return, matches nothing. One try: a
   * database that cannot take it leaves the job to the reclaim of dead runners.
   */
  const giveBackInterrupted = async () => {
    const unfinished = ledger.unfinished();
    for (const taken of unfinished) {
      const { job } = taken;
      try {
        await runnerPool.query(PUT_BACK_SQL, [job.id, job.locked_by, taken.attempts, 0, job.last_error]);
        taken.outcome = { kind: "put-back", written: true };
      } catch (error) {
        log.warn({ err: error, jobId: job.id }, "could not give back the job interrupted by the shutdown");
        taken.outcome = { kind: "put-back", written: false };
      }
      taken.at = Date.now();
    }
    if (unfinished.length > 0) {
      log.warn(
        { jobs: unfinished.map((taken) => ({ id: taken.job.id, task: taken.job.task_identifier })) },
        "stopping: jobs still running were given back without counting an attempt; they run again elsewhere",
      );
    }
  };

  return {
    ended,
    get cronActive() {
      return cron?._active === true;
    },
    async stop(stopOptions: StopOptions = {}) {
      stopping = true;
      // A runner that died is shut down already (asking graphile-worker again would wait forever).
      if (died) {
        await closed;
        return;
      }
      const stopped = runner.stop().catch(() => undefined);
      let interrupt: NodeJS.Timeout | undefined;
      const late = new Promise<"late">((resolve) => {
        interrupt = setTimeout(
          () => resolve("late"),
          stopOptions.interruptAfterMs ?? DEFAULT_INTERRUPT_AFTER_MS,
        );
      });
      const first = await Promise.race([stopped.then(() => "stopped" as const), late]);
      clearTimeout(interrupt);
      if (first === "stopped") {
        await closed;
        return;
      }
      // graphile-worker waits for the tasks that still run (it cannot cancel them): give their jobs back and
      // let go without waiting. No more reclaiming; the liveness lock goes (their jobs are unlocked already).
      await giveBackInterrupted();
      running = false;
      clearTimeout(timer);
      await liveness.stop();
    },
  };
}

/**
 * graphile-worker keeps every worker pool of the process in a module-level list until the pool has shut
 * down; the pool of a runner that died never finishes shutting down (see WorkerRunner.ended), so each
 * restart after a database flap would leave one more entry there.
 */
function forgetWorkerPool(pool: unknown): void {
  const index = pool === undefined ? -1 : _allWorkerPools.indexOf(pool as (typeof _allWorkerPools)[number]);
  if (index >= 0) _allWorkerPools.splice(index, 1);
}

/** How many graphile-worker pools this process keeps (tests: dead runners must not pile up). */
export function workerPoolsKept(): number {
  return _allWorkerPools.length;
}

export interface SupervisedWorker {
  stop(options?: StopOptions): Promise<void>;
}

/**
 * Runs the background worker for the life of the process: when its runner fails (it stops its pool when it
 * cannot record a job's outcome, as during a PostgreSQL restart), a new runner is started with a growing
 * delay until the database answers again, while the failed one writes the outcomes it could not (see
 * startWorker: completed jobs deleted, failures recorded, the others given back their attempt). So a
 * database restart never takes the API process down with it, nor uses up a job's attempts. The first start
 * still fails fast, like the rest of the start-up.
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
    async stop(stopOptions?: StopOptions) {
      stopping = true;
      // A runner that already ended (and is being replaced) has nothing left to stop.
      await current.stop(stopOptions).catch(() => undefined);
    },
  };
}
