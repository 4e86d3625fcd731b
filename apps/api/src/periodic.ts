// Periodic safety nets, scheduled by graphile-worker's cron on every worker runner. The queue makes each
// tick run once however many replicas run a worker (the schedule is recorded in PostgreSQL).
//
// Billing periods themselves need no timer: a subscription's usage period is its current Stripe period,
// moved forward by the renewal webhooks (customer.subscription.updated, invoice.paid). These tasks only
// repair what a lost webhook or an abandoned call would leave behind.
//
// A run fails in one of two ways (apps/api/src/worker.ts tells them apart with `classifyFailure`): when every
// item it could not do failed because a dependency was unreachable (Stripe down or hanging, the database
// gone), the run's error carries the first such error as its cause, so the worker puts the job back without
// counting an attempt and with a growing delay, like any job meeting an outage; otherwise the run's own
// failure counts. A run that succeeds supersedes the runs of the same task that failed for good before it
// (`clearSupersededFailures`): what they could not do is done now, so they are deleted from the queue and
// no longer listed in the admin's Failed jobs (their errors were logged when they failed).

import {
  classifyFailure,
  type Ports,
  syncCatalogToStripe,
  syncSubscription,
  type TaskContext,
} from "@minutely/api";
import { ensureUsagePartitions } from "@minutely/db";

export const RESYNC_STALE_SUBSCRIPTIONS_TASK = "resync-stale-subscriptions";
export const EXPIRE_CALL_RESERVATIONS_TASK = "expire-call-reservations";
export const SYNC_CATALOG_TASK = "sync-catalog-to-stripe";
export const ENSURE_USAGE_PARTITIONS_TASK = "ensure-usage-partitions";

/** graphile-worker crontab: minute hour day-of-month month day-of-week task ?options. */
export const CRONTAB = [
  // Every hour: subscriptions whose period ended without the renewal reaching us are re-read from Stripe.
  `7 * * * * ${RESYNC_STALE_SUBSCRIPTIONS_TASK} ?max=3&jobKey=${RESYNC_STALE_SUBSCRIPTIONS_TASK}`,
  // Every 10 minutes: reservations of calls whose usage never arrived are marked expired.
  `*/10 * * * * ${EXPIRE_CALL_RESERVATIONS_TASK} ?max=3&jobKey=${EXPIRE_CALL_RESERVATIONS_TASK}`,
  // Every 5 minutes: packages whose Stripe product or price is missing or out of date (Stripe was down when
  // the API started or an admin edited a price) are synced, so they become purchasable without anyone acting.
  `*/5 * * * * ${SYNC_CATALOG_TASK} ?max=1&jobKey=${SYNC_CATALOG_TASK}`,
  // Daily: usage_event's partitions of the coming months are created ahead of time (docs/usage-partitions.md).
  `23 3 * * * ${ENSURE_USAGE_PARTITIONS_TASK} ?max=5&jobKey=${ENSURE_USAGE_PARTITIONS_TASK}`,
].join("\n");

/** A period is stale once it ended this long ago (Stripe renews and notifies within minutes). */
const STALE_AFTER_MS = 15 * 60 * 1000;
/** A stale subscription is re-read at most this often while Stripe still reports the old period. */
const RESYNC_EVERY_MS = 6 * 60 * 60 * 1000;

/**
 * Re-reads from Stripe the live subscriptions whose current period ended and that were not read since (or
 * not for hours). Subscriptions on a Stripe test clock keep the clock's time, not ours, and are skipped.
 */
export async function resyncStaleSubscriptions(
  ports: Ports,
  options: { limit?: number } = {},
): Promise<{ resynced: string[]; failed: { id: string; error: string; cause: unknown }[] }> {
  const now = ports.clock.now();
  const staleBefore = new Date(now.getTime() - STALE_AFTER_MS);
  const resyncBefore = new Date(now.getTime() - RESYNC_EVERY_MS);
  const stale = await ports.db.$queryRaw<{ id: string }[]>`
    SELECT stripe_subscription_id AS id FROM subscription
    WHERE status IN ('active', 'trialing', 'past_due')
      AND stripe_test_clock_id IS NULL
      AND current_period_end < ${staleBefore}
      AND (synced_at < current_period_end OR synced_at < ${resyncBefore})
    ORDER BY current_period_end
    LIMIT ${options.limit ?? 200}`;
  const resynced: string[] = [];
  const failed: { id: string; error: string; cause: unknown }[] = [];
  for (const { id } of stale) {
    try {
      await syncSubscription(ports, id);
      resynced.push(id);
    } catch (error) {
      failed.push({ id, error: error instanceof Error ? error.message : String(error), cause: error });
    }
  }
  return { resynced, failed };
}

/**
 * Marks held reservations past their expiry as expired (reads already ignore them; this keeps rows true).
 * By Minutely's clock: a reservation made on an account's test clock ahead of it (see `accountNow`) is left
 * held here, and the account's reads and authorizations, which go by the clock's time, judge it.
 */
export async function expireCallReservations(ports: Pick<Ports, "db" | "clock">): Promise<number> {
  return await ports.db.$executeRaw`
    UPDATE call_reservation SET status = 'expired'
    WHERE status = 'held' AND expires_at <= ${ports.clock.now()}`;
}

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
  db: Ports["db"],
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

export function periodicTasks(ports: Ports) {
  const tasks = {
    [RESYNC_STALE_SUBSCRIPTIONS_TASK]: async () => {
      const result = await resyncStaleSubscriptions(ports);
      if (result.failed.length > 0) {
        throw periodicFailure(
          `could not re-read ${result.failed.length} subscription(s) from Stripe: ` +
            result.failed.map((f) => `${f.id} (${f.error})`).join(", "),
          result.failed.map((f) => f.cause),
        );
      }
    },
    [EXPIRE_CALL_RESERVATIONS_TASK]: async () => {
      await expireCallReservations(ports);
    },
    [ENSURE_USAGE_PARTITIONS_TASK]: async () => {
      await ensureUsagePartitions(ports.db, ports.clock.now());
    },
    [SYNC_CATALOG_TASK]: async () => {
      const result = await syncCatalogToStripe(ports);
      if (result.failed.length > 0) {
        throw periodicFailure(
          `could not sync ${result.failed.join(", ")} to Stripe; the next tick tries again`,
          result.errors,
        );
      }
    },
  };
  return Object.fromEntries(
    Object.entries(tasks).map(([name, run]) => [
      name,
      async (_payload: unknown, context: TaskContext) => {
        await run();
        await clearSupersededFailures(ports.db, name, context.jobId);
      },
    ]),
  ) as Record<keyof typeof tasks, (payload: unknown, context: TaskContext) => Promise<void>>;
}
