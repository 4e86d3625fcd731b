import type { Database, Prisma } from "@minutely/db";

/** A database handle: the client, or an interactive transaction so a job is enqueued atomically with data. */
export type Db = Database | Prisma.TransactionClient;

export interface EnqueueOptions {
  /** Deduplicates: a pending job with the same key is replaced rather than added twice. */
  jobKey?: string;
  runAt?: Date;
  maxAttempts?: number;
  /** Jobs in one queue run one at a time, in order (per account, say). */
  queueName?: string;
}

/** Background work, shared by every API and worker replica through PostgreSQL. */
export interface JobQueue {
  enqueue(task: string, payload: Record<string, unknown>, options?: EnqueueOptions, db?: Db): Promise<void>;
}

/** graphile-worker's queue, written through SQL so it joins the caller's transaction. */
export class PostgresJobQueue implements JobQueue {
  constructor(private readonly db: Database) {}

  async enqueue(
    task: string,
    payload: Record<string, unknown>,
    options: EnqueueOptions = {},
    db: Db = this.db,
  ): Promise<void> {
    await db.$executeRaw`SELECT graphile_worker.add_job(
      identifier => ${task}::text,
      payload => ${JSON.stringify(payload)}::json,
      queue_name => ${options.queueName ?? null}::text,
      run_at => ${options.runAt ?? null}::timestamptz,
      max_attempts => ${options.maxAttempts ?? 25}::int,
      job_key => ${options.jobKey ?? null}::text
    )`;
  }
}
