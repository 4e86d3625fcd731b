import { createTaskList, type Ports, type TaskHandler } from "@minutely/api";
import type { FastifyBaseLogger } from "fastify";
import { Logger, parseCrontab, type Runner, run, type Task } from "graphile-worker";
import type { Metrics } from "./metrics.ts";
import { CRONTAB, periodicTasks } from "./periodic.ts";

/** The task that processes one recorded Stripe webhook event (packages/api, services/stripe-webhooks.ts). */
const PROCESS_STRIPE_EVENT = "process-stripe-event";

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

/**
 * Runs the background tasks from the shared PostgreSQL queue until stopped. Any number of runners (in API
 * replicas or `pnpm worker` processes) share the queue: a job is locked by one of them (SELECT ... FOR
 * UPDATE SKIP LOCKED), so it runs once; a runner that dies leaves its jobs to be retried by another.
 */
export async function startWorker(options: WorkerOptions): Promise<Runner> {
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
  return await run({
    connectionString: options.connectionString,
    concurrency: options.concurrency,
    taskList,
    logger,
    noHandleSignals: true,
    pollInterval: options.pollInterval ?? 1000,
    parsedCronItems: (options.schedule ?? options.tasks === undefined) ? parseCrontab(CRONTAB) : [],
  });
}
