import { type Database, Prisma } from "@minutely/db";
import { maxAttemptsOf, type TaskName, type TaskPayloadInput } from "../jobs/tasks.ts";
import { preparedQuery } from "../prepared.ts";
import type { SqlTransaction } from "../sql-transaction.ts";

/**
 * The payload of a job of `task`: the task's payload type for the product's tasks (jobs/tasks.ts), any
 * object for other names (tests queue tasks of their own).
 */
export type JobPayload<N extends string> = N extends TaskName ? TaskPayloadInput<N> : Record<string, unknown>;

export interface EnqueueOptions {
  /** Deduplicates: a pending job with the same key is replaced rather than added twice. */
  jobKey?: string;
  runAt?: Date;
  /** Defaults to the task's own (jobs/tasks.ts), 25 for other names. */
  maxAttempts?: number;
  /** Jobs in one queue run one at a time, in order (per account, say). */
  queueName?: string;
}

/** One job of `enqueueMany`. */
export interface QueuedJob<N extends string = string> {
  task: N;
  payload: JobPayload<N>;
  options?: EnqueueOptions;
}

/** Background work, shared by every API and worker replica through PostgreSQL. */
export interface JobQueue {
  enqueue<N extends string>(
    task: N,
    payload: JobPayload<N>,
    options?: EnqueueOptions,
    db?: SqlTransaction,
  ): Promise<void>;
  /**
   * Several jobs in one statement (graphile-worker's add_jobs: its per-call work, the task and queue
   * lookups, paid once). Jobs with the same key must not repeat in one call (the later would replace the
   * earlier anyway): the caller passes each key once.
   */
  enqueueMany(jobs: readonly QueuedJob[], db?: SqlTransaction): Promise<void>;
  /**
   * Records rows and queues a job for each row really recorded, in one statement (one round trip, no
   * interactive transaction): for hot paths that record something once and hand it to a job, like
   * webhooks' acknowledgements. `build` writes the statement around `enqueueAll(rows)`, a FROM item that
   * adds one job per row of `rows` (a SELECT of the columns `payload` json, `job_key` text and
   * `queue_name` text) in a single call; the statement's rows are returned. Its text must not change from
   * call to call (values as parameters): it is prepared. `options.db`: the database the statement runs on
   * (the caller's, whose rows it records), as `enqueue`'s `db`; the queue's own by default.
   */
  recordAndEnqueue<T, N extends string>(
    task: N,
    build: (enqueueAll: (rows: Prisma.Sql) => Prisma.Sql) => Prisma.Sql,
    options?: { maxAttempts?: number; db?: Database },
  ): Promise<T[]>;
}

/** graphile-worker's queue, written through SQL so it joins the caller's transaction. */
export class PostgresJobQueue implements JobQueue {
  constructor(private readonly db: Database) {}

  async enqueue<N extends string>(
    task: N,
    payload: JobPayload<N>,
    options: EnqueueOptions = {},
    db: SqlTransaction = this.db,
  ): Promise<void> {
    await db.$executeRaw`SELECT ${addJob(task, payload, options)}`;
  }

  async enqueueMany(jobs: readonly QueuedJob[], db: SqlTransaction = this.db): Promise<void> {
    if (jobs.length === 0) return;
    if (jobs.length === 1) {
      const [job] = jobs as [QueuedJob];
      await this.enqueue(job.task, job.payload, job.options, db);
      return;
    }
    const keys = jobs.map((j) => j.options?.jobKey).filter((k): k is string => k !== undefined);
    if (new Set(keys).size !== keys.length) throw new Error("enqueueMany: a job key repeats in one call");
    const specs = JSON.stringify(
      jobs.map((j) => ({
        identifier: j.task,
        payload: j.payload,
        queue_name: j.options?.queueName ?? null,
        run_at: j.options?.runAt?.toISOString() ?? null,
        max_attempts: j.options?.maxAttempts ?? maxAttemptsOf(j.task),
        job_key: j.options?.jobKey ?? null,
      })),
    );
    await db.$executeRaw`SELECT count(*) FROM graphile_worker.add_jobs(
      array(SELECT json_populate_recordset(NULL::graphile_worker.job_spec, ${specs}::json)))`;
  }

  async recordAndEnqueue<T, N extends string>(
    task: N,
    build: (enqueueAll: (rows: Prisma.Sql) => Prisma.Sql) => Prisma.Sql,
    options: { maxAttempts?: number; db?: Database } = {},
  ): Promise<T[]> {
    const maxAttempts = options.maxAttempts ?? maxAttemptsOf(task);
    // graphile-worker's add_jobs: one call for all the jobs (its per-call work, the task lookup and the
    // queue rows, is paid once a statement instead of once a job). Prepared once a connection. Not called
    // at all without a row (HAVING: no specs row, so the lateral call runs for none): add_jobs notifies
    // `jobs:insert` even for no job (a NULL payload, which the workers take as one job and wake for), and
    // most usage reports written alone and every replayed webhook queue none.
    return await preparedQuery<T>(
      options.db ?? this.db,
      build(
        (rows) => Prisma.sql`(
          SELECT added.* FROM (
            SELECT array_agg(ROW(${task}::text, r.payload, r.queue_name, NULL::timestamptz,
              ${maxAttempts}::int, r.job_key, NULL::int, NULL::text[])::graphile_worker.job_spec) AS specs
            FROM (${rows}) AS r HAVING count(*) > 0) AS s,
          LATERAL graphile_worker.add_jobs(s.specs) AS added) AS added_jobs`,
      ),
    );
  }
}

/** graphile-worker's `add_job` call (its SQL API, which is what its own clients use). */
function addJob(task: string, payload: object, options: EnqueueOptions): Prisma.Sql {
  return Prisma.sql`graphile_worker.add_job(
      identifier => ${task}::text,
      payload => ${JSON.stringify(payload)}::json,
      queue_name => ${options.queueName ?? null}::text,
      run_at => ${options.runAt ?? null}::timestamptz,
      max_attempts => ${options.maxAttempts ?? maxAttemptsOf(task)}::int,
      job_key => ${options.jobKey ?? null}::text
    )`;
}
