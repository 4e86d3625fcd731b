// The admin's view of background jobs that failed for good, of every task (graphile-worker's queue): each with
// its last error, attempts and a summary of its payload, and a replay that queues it again. A job that could
// not reach a dependency (database, Stripe) is never among them: it is put back without counting an attempt
// (apps/server/src/worker.ts) and only shows in the counts as waiting.
import { Prisma } from "@minutely/db";
import type { Ports, Viewer } from "../../context.ts";
import { writeAudit } from "../audit.ts";

/** A job is failed once its attempts reached the maximum and no runner holds it (4 h: graphile-worker's lock). */
const FAILED = Prisma.sql`j.attempts >= j.max_attempts
  AND (j.locked_at IS NULL OR j.locked_at < now() - interval '4 hours')`;

export type JobState = "running" | "failed" | "waiting_for_dependency" | "retrying" | "scheduled" | "ready";

/**
 * The state of a queued job (`j`, graphile_worker._private_jobs), the one definition shared by the admin's
 * counts (below) and the `minutely_queue_jobs` gauge (apps/server/src/metrics.ts): held by a runner; failed for
 * good; put back after a dependency was unreachable (its last error is the worker's `[outage N]` note,
 * however soon it runs again); waiting for its next attempt after its own error; due later; due now.
 */
export const JOB_STATE = Prisma.sql`CASE
  WHEN j.locked_at IS NOT NULL AND j.locked_at >= now() - interval '4 hours' THEN 'running'
  WHEN j.attempts >= j.max_attempts THEN 'failed'
  WHEN j.last_error LIKE '[outage %' THEN 'waiting_for_dependency'
  WHEN j.last_error IS NOT NULL THEN 'retrying'
  WHEN j.run_at > now() THEN 'scheduled'
  ELSE 'ready'
END`;

/** How many jobs of each task are in each state (the queue gauge). */
export async function queueJobsByState(
  db: Ports["db"],
): Promise<{ task: string; state: JobState; jobs: number }[]> {
  return await db.$queryRaw<{ task: string; state: JobState; jobs: number }[]>`
    SELECT t.identifier AS task, ${JOB_STATE} AS state, count(*)::int AS jobs
    FROM graphile_worker._private_jobs j
    JOIN graphile_worker._private_tasks t ON t.id = j.task_id
    GROUP BY 1, 2`;
}

export interface FailedJobCursor {
  id: string;
}

export interface FailedJob {
  id: string;
  task: string;
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
  /** The payload's fields in one line (`accountId=…, periodStart=…`), cut at 240 characters. */
  payloadSummary: string;
  payload: unknown;
  /** Jobs with the same key replace each other; a named queue runs its jobs one at a time. */
  key: string | null;
  queue: string | null;
  createdAt: Date;
  /** When it last changed: its last failure, usually. */
  updatedAt: Date;
}

interface FailedJobRow {
  id: string;
  task: string;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  payload: unknown;
  key: string | null;
  queue: string | null;
  created_at: Date;
  updated_at: Date;
}

function scalar(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

/** One line naming what the job is about: its payload's fields, cut short. */
export function payloadSummary(payload: unknown): string {
  const line =
    payload !== null && typeof payload === "object" && !Array.isArray(payload)
      ? Object.entries(payload)
          .map(([key, value]) => `${key}=${scalar(value)}`)
          .join(", ")
      : scalar(payload ?? null);
  return line.length > 240 ? `${line.slice(0, 239)}…` : line || "(empty)";
}

function toFailedJob(row: FailedJobRow): FailedJob {
  return {
    id: row.id,
    task: row.task,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    lastError: row.last_error,
    payloadSummary: payloadSummary(row.payload),
    payload: row.payload,
    key: row.key,
    queue: row.queue,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const SELECT_JOB = Prisma.sql`
  SELECT (j.locked_at IS NOT NULL AND j.locked_at >= now() - interval '4 hours') AS locked,
    j.id::text AS id, t.identifier AS task, j.attempts::int AS attempts, j.max_attempts::int AS max_attempts,
    left(j.last_error, 2000) AS last_error, j.payload, j.key, q.queue_name AS queue, j.created_at, j.updated_at
  FROM graphile_worker._private_jobs j
  JOIN graphile_worker._private_tasks t ON t.id = j.task_id
  LEFT JOIN graphile_worker._private_job_queues q ON q.id = j.job_queue_id`;

/** Jobs in three of the states of JOB_STATE (the same counts as the queue gauge's, summed over tasks). */
export interface FailedJobCounts {
  failed: number;
  /** Put back after a dependency could not be reached; not counted as attempts. */
  waitingForDependency: number;
  /** Failed on their own and waiting for their next attempt. */
  retrying: number;
}

/** Failed jobs newest first, `limit` at a time (keyset on the job id), with counts of the queue's troubles. */
export async function listFailedJobs(
  { db }: Pick<Ports, "db">,
  input: { task?: string | undefined; cursor?: FailedJobCursor | undefined; limit: number },
): Promise<{ items: FailedJob[]; nextCursor: FailedJobCursor | null; counts: FailedJobCounts }> {
  const task = input.task ? Prisma.sql`AND t.identifier = ${input.task}` : Prisma.empty;
  const cursor = input.cursor ? Prisma.sql`AND j.id < ${input.cursor.id}::bigint` : Prisma.empty;
  const [rows, counts] = await Promise.all([
    db.$queryRaw<FailedJobRow[]>`
      ${SELECT_JOB}
      WHERE ${FAILED} ${task} ${cursor}
      ORDER BY j.id DESC
      LIMIT ${input.limit + 1}`,
    db.$queryRaw<FailedJobCounts[]>`
      SELECT count(*) FILTER (WHERE state = 'failed')::int AS failed,
        count(*) FILTER (WHERE state = 'waiting_for_dependency')::int AS "waitingForDependency",
        count(*) FILTER (WHERE state = 'retrying')::int AS retrying
      FROM (
        SELECT ${JOB_STATE} AS state FROM graphile_worker._private_jobs j
        WHERE j.last_error IS NOT NULL OR j.attempts >= j.max_attempts
      ) AS jobs`,
  ]);
  const page = rows.slice(0, input.limit);
  const last = page.at(-1);
  return {
    items: page.map(toFailedJob),
    nextCursor: rows.length > input.limit && last ? { id: last.id } : null,
    counts: counts[0] ?? { failed: 0, waitingForDependency: 0, retrying: 0 },
  };
}

/** The task names the queue knows (for the admin's filter). */
export async function listJobTasks({ db }: Pick<Ports, "db">): Promise<string[]> {
  const rows = await db.$queryRaw<{ identifier: string }[]>`
    SELECT identifier FROM graphile_worker._private_tasks ORDER BY identifier`;
  return rows.map((r) => r.identifier);
}

export type ReplayOutcome =
  /** Queued again with a fresh count of attempts; recorded in the audit log. */
  | "replayed"
  /** Already waiting to run (replayed before, or retrying): nothing changed. */
  | "queued"
  /** A worker is running it now: nothing changed. */
  | "running"
  /** No longer in the queue: it ran and completed (after an earlier replay), or was replaced. */
  | "gone";

/**
 * Replays a failed job: it runs again at once with a fresh count of attempts (its last error is kept until
 * the next outcome). Idempotent: replaying a job that is queued, running or gone changes nothing and is not
 * recorded again; a replay that happens is recorded in the audit log with the attempts and error before it.
 */
export async function replayFailedJob(
  ports: Ports,
  actor: Viewer,
  id: string,
): Promise<{ outcome: ReplayOutcome; job: FailedJob | null }> {
  return await ports.db.$transaction(async (tx) => {
    const [row] = await tx.$queryRaw<(FailedJobRow & { locked: boolean })[]>`
      ${SELECT_JOB}
      WHERE j.id = ${id}::bigint
      FOR UPDATE OF j`;
    if (!row) return { outcome: "gone" as const, job: null };
    if (row.locked) return { outcome: "running" as const, job: toFailedJob(row) };
    if (row.attempts < row.max_attempts) return { outcome: "queued" as const, job: toFailedJob(row) };
    await tx.$executeRaw`
      UPDATE graphile_worker._private_jobs SET attempts = 0, run_at = now() WHERE id = ${id}::bigint`;
    // graphile-worker's own wake-up call, so an idle worker takes it now rather than at its next poll.
    await tx.$executeRaw`SELECT pg_notify('jobs:insert', '{"count":1}')`;
    await writeAudit(
      tx,
      actor,
      {
        action: "job.replay",
        entityType: "job",
        entityId: id,
        before: {
          task: row.task,
          attempts: row.attempts,
          maxAttempts: row.max_attempts,
          lastError: row.last_error,
        },
        after: { task: row.task, attempts: 0, payload: payloadSummary(row.payload) },
      },
      ports.clock.now(),
    );
    return { outcome: "replayed" as const, job: { ...toFailedJob(row), attempts: 0 } };
  });
}
