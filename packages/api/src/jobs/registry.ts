// The handler of every background task (tasks.ts says what each task is). Both the worker (apps/server
// worker.ts, which also schedules tasks.ts's CRONTAB) and the tests run jobs through `createTaskList`, so
// every payload is parsed by its task's schema before its handler sees it.
import { ensureUsagePartitions } from "@minutely/db";
import type { Ports } from "../context.ts";
import { resyncStaleSubscriptions, sweepStaleAdjustmentClaims } from "../services/billing/index.ts";
import { syncCatalogToStripe } from "../services/catalog/index.ts";
import {
  billOverage,
  expireCallReservations,
  reportOverage,
  sendUsageAlertEmail,
} from "../services/metering/index.ts";
import { runPackTopUp } from "../services/packs/index.ts";
import { notifyTrialRefusedForCard, processStripeEvent } from "../services/subscriptions/index.ts";
import { clearSupersededFailures, periodicFailure } from "./periodic.ts";
import {
  parseTaskPayload,
  TASKS,
  type TaskContext,
  type TaskHandler,
  type TaskName,
  type TaskPayload,
} from "./tasks.ts";

type Handlers = { [N in TaskName]: (payload: TaskPayload<N>, context: TaskContext) => Promise<void> };

function handlers(ports: Ports): Handlers {
  return {
    "process-stripe-event": async ({ eventId }) => {
      await processStripeEvent(ports, eventId);
    },
    "send-trial-refused-email": async ({ stripeSubscriptionId }) => {
      await notifyTrialRefusedForCard(ports, stripeSubscriptionId);
    },
    "send-usage-alert-email": async ({ alertId }) => {
      await sendUsageAlertEmail(ports, alertId);
    },
    "report-overage": async ({ accountId, periodStart }) => {
      await reportOverage(ports, { accountId, periodStart: new Date(periodStart) });
    },
    "bill-overage": async (bill) => {
      await billOverage(ports, bill);
    },
    "pack-top-up": async ({ accountId }) => {
      await runPackTopUp(ports, accountId);
    },
    "resync-stale-subscriptions": async () => {
      const result = await resyncStaleSubscriptions(ports);
      if (result.failed.length > 0) {
        throw periodicFailure(
          `could not re-read ${result.failed.length} subscription(s) from Stripe: ` +
            result.failed.map((f) => `${f.id} (${f.error})`).join(", "),
          result.failed.map((f) => f.cause),
        );
      }
    },
    "expire-call-reservations": async () => {
      await expireCallReservations(ports);
    },
    "sweep-adjustment-claims": async () => {
      const result = await sweepStaleAdjustmentClaims(ports);
      if (result.failed.length > 0) {
        throw periodicFailure(
          `could not reconcile ${result.failed.length} pending refund or credit claim(s) with Stripe: ` +
            result.failed.map((f) => `${f.id} (${f.error})`).join(", "),
          result.failed.map((f) => f.cause),
        );
      }
    },
    "ensure-usage-partitions": async () => {
      await ensureUsagePartitions(ports.db, ports.clock.now());
    },
    "sync-catalog-to-stripe": async () => {
      const result = await syncCatalogToStripe(ports);
      if (result.failed.length > 0) {
        throw periodicFailure(
          `could not sync ${result.failed.join(", ")} to Stripe; the next tick tries again`,
          result.errors,
        );
      }
    },
  };
}

/**
 * Every background task by name, ready for the worker: the payload is parsed first (an invalid one throws
 * InvalidTaskPayloadError, which fails the job for good), and a periodic task's successful run supersedes
 * its earlier failed runs.
 */
export function createTaskList(ports: Ports): Record<TaskName, TaskHandler> {
  const byName = handlers(ports) as Record<
    TaskName,
    (payload: unknown, context: TaskContext) => Promise<void>
  >;
  const list = {} as Record<TaskName, TaskHandler>;
  for (const name of Object.keys(TASKS) as TaskName[]) {
    const handler = byName[name];
    const periodic = "cron" in TASKS[name];
    list[name] = async (payload, context) => {
      await handler(parseTaskPayload(name, payload), context);
      if (periodic) await clearSupersededFailures(ports.db, name, context.jobId);
    };
  }
  return list;
}
