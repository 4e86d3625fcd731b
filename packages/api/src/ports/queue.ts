import { type Database, Prisma } from "@minutely/db";
import type { Db } from "../db.ts";
import { maxAttemptsOf, type TaskName, type TaskPayloadInput } from "../jobs/tasks.ts";
import { preparedQuery } from "../prepared.ts";

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

/** Background work, shared by every API and worker replica through PostgreSQL. */
export interface JobQueue {
  enqueue<N extends string>(
    task: N,
    payload: JobPayload<N>,
    options?: EnqueueOptions,
    db?: Db,
  ): Promise<void>;
  /**
   * Runs `insert` (an `INSERT … ON CONFLICT DO NOTHING RETURNING …`) and, only if it inserted a row, enqueues
   * the job, atomically and in one statement (one round trip, no interactive transaction): for hot paths
   * that record something once and hand it to a job, like a webhook's acknowledgement. True if inserted.
   */
  insertAndEnqueue<N extends string>(
    insert: Prisma.Sql,
    task: N,
    payload: JobPayload<N>,
    options?: EnqueueOptions,
  ): Promise<boolean>;
}

/** graphile-worker's queue, written through SQL so it joins the caller's transaction. */
export class PostgresJobQueue implements JobQueue {
  constructor(private readonly db: Database) {}

  async enqueue<N extends string>(
    task: N,
    payload: JobPayload<N>,
    options: EnqueueOptions = {},
    db: Db = this.db,
  ): Promise<void> {
    await db.$executeRaw`SELECT ${addJob(task, payload, options)}`;
  }

  async insertAndEnqueue<N extends string>(
    insert: Prisma.Sql,
    task: N,
    payload: JobPayload<N>,
    options: EnqueueOptions = {},
  ): Promise<boolean> {
    // A data-modifying CTE: the job is added for the inserted row only, in the statement's own transaction.
    // Prepared once a connection (a webhook's acknowledgement is a hot path).
    const rows = await preparedQuery<unknown>(
      this.db,
      Prisma.sql`
      WITH inserted AS (${insert})
      SELECT ${addJob(task, payload, options)} FROM inserted`,
    );
    return rows.length > 0;
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
