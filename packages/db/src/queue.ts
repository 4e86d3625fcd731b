// The PostgreSQL-backed job queue (graphile-worker) lives in the same database, in its own schema
// `graphile_worker`. Installing or upgrading it is part of preparing a database, like the migrations.
import { Logger, runMigrations } from "graphile-worker";
import pg from "pg";
import { globalLockKeyLiteral } from "./locks.ts";
import { type MigrateResult, migrate } from "./migrate.ts";

const silent = new Logger(() => () => {});

/**
 * graphile-worker runs the jobs of one named queue one at a time (Minutely queues a Stripe customer's events
 * that way). When a job finishes, its queue is unlocked by the same statement that completes it, but nothing
 * tells the idle workers: the next job of that queue waited for the next poll (about 0.7 s per job at a 1 s
 * poll interval, so a burst of 8 events took 5-6 s). This trigger sends graphile-worker's own "jobs:insert"
 * notification when a queue is unlocked, after the commit, so the next job starts at once. With it,
 * `minutely_job_waiting(key)`, for writers that queue a job only when none of its key waits. Installed after
 * graphile-worker's migrations every time (they may recreate its tables), under a lock so that concurrent
 * installs do not race.
 */
const QUEUE_UNLOCK_NOTIFY = `
DO $install$
BEGIN
  PERFORM pg_advisory_xact_lock(${globalLockKeyLiteral("job-queue-install")});
  CREATE OR REPLACE FUNCTION graphile_worker.minutely_notify_queue_unlocked() RETURNS trigger
    LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM pg_notify('jobs:insert', '{"count":1}');
      RETURN NULL;
    END
    $fn$;
  CREATE OR REPLACE TRIGGER minutely_notify_queue_unlocked
    AFTER UPDATE OF locked_at ON graphile_worker._private_job_queues
    FOR EACH ROW WHEN (OLD.locked_at IS NOT NULL AND NEW.locked_at IS NULL)
    EXECUTE FUNCTION graphile_worker.minutely_notify_queue_unlocked();
  -- Whether a job of this key is waiting with no attempt counted (not held by a worker, never failed; one
  -- put back after an outage, its attempt given back, counts: it runs again in full, at the end of its
  -- backoff). Its next run is still to come. VOLATILE: called in a statement, it reads with a snapshot of
  -- its own, taken when called (why that matters: guardCtes in packages/api, usage-ingest.ts).
  CREATE OR REPLACE FUNCTION graphile_worker.minutely_job_waiting(job_key text) RETURNS boolean
    LANGUAGE sql VOLATILE AS $fn$
      SELECT EXISTS (SELECT 1 FROM graphile_worker._private_jobs j
        WHERE j.key = job_key AND j.locked_at IS NULL AND j.attempts = 0)
    $fn$;
END
$install$;`;

/**
 * Runs `work` with a pg pool of its own for graphile-worker's one-shot calls (`runMigrations`, `runOnce`),
 * and ends that pool, waiting for its connections to close, before returning. Given a connection string,
 * graphile-worker makes such a pool itself but neither waits for it to end nor keeps its error handlers
 * while it ends (it removes them first): a connection the server terminated in that window (a database
 * dropped, a server restarted) raised an unhandled `error` event, which crashes a process. Here the
 * handlers stay on until every connection is closed; such an error is already the caller's failure or
 * harmless (the connection was being closed anyway).
 */
export async function withJobQueuePool<T>(
  connectionString: string,
  work: (pool: pg.Pool) => Promise<T>,
  options: { max?: number } = {},
): Promise<T> {
  const pool = new pg.Pool({ connectionString, max: options.max ?? 10 });
  const ignore = () => {};
  pool.on("error", ignore);
  pool.on("connect", (client) => client.on("error", ignore));
  try {
    return await work(pool);
  } finally {
    await pool.end();
  }
}

export async function installJobQueue(connectionString: string): Promise<void> {
  await withJobQueuePool(
    connectionString,
    async (pgPool) => {
      await runMigrations({ pgPool, logger: silent });
      await pgPool.query(QUEUE_UNLOCK_NOTIFY);
    },
    { max: 1 },
  );
}

/** Applies pending migrations and installs or upgrades the job queue's schema. */
export async function prepareDatabase(
  connectionString: string,
  options: { log?: (line: string) => void } = {},
): Promise<MigrateResult> {
  const result = await migrate(connectionString, options);
  await installJobQueue(connectionString);
  return result;
}
