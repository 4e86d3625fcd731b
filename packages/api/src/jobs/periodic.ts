// What every periodic task shares (the tasks themselves are in registry.ts, their schedules in tasks.ts).
// They are safety nets, scheduled by graphile-worker's cron on every worker runner; the queue makes each tick
// run once however many replicas run a worker. Billing periods themselves need no timer: a subscription's
// usage period is its current Stripe period, moved forward by the renewal webhooks. These tasks only repair
// what a lost webhook, an abandoned call or a Stripe outage left behind.
//
// A run fails in one of two ways (the worker tells them apart with `classifyFailure`): when every item it
// could not do failed because a dependency was unreachable (Stripe down or hanging, the database gone), the
// run's error carries the first such error as its cause, so the worker puts the job back without counting an
// attempt and with a growing delay, like any job meeting an outage; otherwise the run's own failure counts. A
// run that succeeds supersedes the runs of the same task that failed for good before it
// (`clearSupersededFailures`): what they could not do is done now, so they are deleted from the queue and no
// longer listed in the admin's Failed jobs (their errors were logged when they failed).
import type { Db } from "../db.ts";
import { classifyFailure } from "./failure-kind.ts";

/**
 * The error of a run whose items failed: an outage (its cause is the first error, which the worker's
 * classifier sees) when every item failed for want of a dependency, the run's own failure otherwise.
 */
export function periodicFailure(message: string, errors: readonly unknown[]): Error {
  const outage =
    errors.length > 0 && errors.every((error) => classifyFailure(error).kind === "infrastructure");
  return outage ? new Error(message, { cause: errors[0] }) : new Error(message);
}

/**
 * After a successful run of `task` (job `jobId`): deletes the jobs of the same task that failed for good
 * (attempts used up, not held by a live runner), which this run supersedes. Returns them.
 */
export async function clearSupersededFailures(
  db: Db,
  task: string,
  jobId: string,
): Promise<{ id: string; lastError: string | null }[]> {
  const current = /^\d{1,18}$/.test(jobId) ? jobId : "0";
  return await db.$queryRaw<{ id: string; lastError: string | null }[]>`
    DELETE FROM graphile_worker._private_jobs AS j USING graphile_worker._private_tasks AS t
    WHERE t.id = j.task_id AND t.identifier = ${task} AND j.id <> ${current}::bigint
      AND j.attempts >= j.max_attempts
      AND (j.locked_at IS NULL OR j.locked_at < now() - interval '4 hours')
    RETURNING j.id::text AS id, j.last_error AS "lastError"`;
}
