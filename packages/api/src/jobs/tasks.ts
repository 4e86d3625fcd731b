// Every background task of the product: its name, the schema of its payload, how many attempts it gets and,
// for a periodic task, its schedule. Enqueuers are typed by it (`JobQueue.enqueue(name, payload)` checks the
// payload against the task's schema type), the worker runs the handlers of registry.ts, which parse every
// payload with these schemas first: a payload that does not parse fails its job for good at once
// (`InvalidTaskPayloadError`), never retried. This module imports no service, so any service may use it.
//
// Tasks are idempotent: the queue delivers at least once and retries failures with backoff, so running a
// task twice must change nothing the second time.
import { z } from "zod";

/** What graphile-worker's cron adds to the payload of a scheduled run. */
const ZPeriodicPayloadSchema = z.object({
  _cron: z.object({ ts: z.string(), backfilled: z.boolean() }).optional(),
});

interface TaskDefinition {
  payload: z.ZodType<unknown, Record<string, unknown>>;
  /** Attempts before the job fails for good (an outage retry never counts one: apps/server worker.ts). */
  maxAttempts: number;
  /** graphile-worker crontab schedule (minute hour day-of-month month day-of-week) of a periodic task. */
  cron?: string;
}

export const TASKS = {
  /** Processes one recorded Stripe webhook event by re-reading Stripe (services/subscriptions). */
  "process-stripe-event": {
    payload: z.object({ eventId: z.string().min(1).max(255) }),
    maxAttempts: 25,
  },
  /**
   * Emails the owner of a subscription whose card's earlier trial elsewhere took away the trial the package
   * page offered: what the first invoice charged, read from Stripe (deduplicated per subscription).
   */
  "send-trial-refused-email": {
    payload: z.object({ stripeSubscriptionId: z.string().min(1).max(255) }),
    maxAttempts: 25,
  },
  /** Emails one usage alert to the account's owner (deduplicated by alert id) and stamps emailedAt. */
  "send-usage-alert-email": {
    payload: z.object({ alertId: z.uuid() }),
    maxAttempts: 25,
  },
  /**
   * Decides which overage minutes of a period are unreported and enqueues their invoice item, priced by the
   * plan the period records (the one that governed it), however late the job runs.
   */
  "report-overage": {
    payload: z.object({ accountId: z.uuid(), periodStart: z.iso.datetime() }),
    maxAttempts: 25,
  },
  /** Adds one decided range of overage minutes to the next Stripe invoice (idempotency key per range). */
  "bill-overage": {
    payload: z.object({
      accountId: z.uuid(),
      periodStart: z.iso.datetime(),
      fromMinutes: z.number().int().min(0),
      toMinutes: z.number().int().min(1),
      pricePerMinuteCents: z.number().int().min(0),
      currency: z.enum(["usd", "eur", "gbp"]),
      /** Absent in jobs queued before epochs existed: epoch 0. */
      epoch: z.number().int().min(0).default(0),
    }),
    maxAttempts: 25,
  },
  /**
   * Buys the account's auto top-up pack with the saved card if its pack balance is below the threshold
   * (services/packs/auto-top-up.ts: one claim per crossing, a failure stops it, never retried in a loop).
   */
  "pack-top-up": {
    payload: z.object({ accountId: z.uuid() }),
    maxAttempts: 10,
  },
  /** Every hour: subscriptions whose period ended without the renewal reaching us are re-read from Stripe. */
  "resync-stale-subscriptions": { payload: ZPeriodicPayloadSchema, maxAttempts: 3, cron: "7 * * * *" },
  /** Every 10 minutes: reservations of calls whose usage never arrived are marked expired. */
  "expire-call-reservations": { payload: ZPeriodicPayloadSchema, maxAttempts: 3, cron: "*/10 * * * *" },
  /**
   * Every 5 minutes: packages whose Stripe product or price is missing or out of date (Stripe was down when
   * the API started or an admin edited a price) are synced, so they become purchasable without anyone acting.
   */
  "sync-catalog-to-stripe": { payload: ZPeriodicPayloadSchema, maxAttempts: 1, cron: "*/5 * * * *" },
  /**
   * Every 15 minutes: refunds, credit notes and balance credits claimed but left pending (Stripe was down and
   * nobody retried) are reconciled with Stripe: recorded when Stripe made them, released when it never did.
   */
  "sweep-adjustment-claims": { payload: ZPeriodicPayloadSchema, maxAttempts: 3, cron: "*/15 * * * *" },
  /** Daily: usage_event's partitions of the coming months are created ahead of time (docs/usage-partitions.md). */
  "ensure-usage-partitions": { payload: ZPeriodicPayloadSchema, maxAttempts: 5, cron: "23 3 * * *" },
} as const satisfies Record<string, TaskDefinition>;

export type TaskName = keyof typeof TASKS;
/** The payload an enqueuer passes (before defaults). */
export type TaskPayloadInput<N extends TaskName> = z.input<(typeof TASKS)[N]["payload"]>;
/** The payload a handler receives (parsed). */
export type TaskPayload<N extends TaskName> = z.output<(typeof TASKS)[N]["payload"]>;

export function isTaskName(name: string): name is TaskName {
  return Object.hasOwn(TASKS, name);
}

/** Attempts a job of `task` gets unless its enqueuer says otherwise (graphile-worker's 25 for unknown tasks). */
export function maxAttemptsOf(task: string): number {
  return isTaskName(task) ? TASKS[task].maxAttempts : 25;
}

/**
 * graphile-worker crontab of the periodic tasks. Each run has the task's name as its job key, so a tick
 * replaces a pending run rather than adding one, and the queue makes it run once however many replicas run.
 */
export const CRONTAB = Object.entries(TASKS)
  .flatMap(([name, task]) =>
    "cron" in task ? [`${task.cron} ${name} ?max=${task.maxAttempts}&jobKey=${name}`] : [],
  )
  .join("\n");

/** A job whose payload does not match its task's schema: it fails for good at once (a retry cannot fix it). */
export class InvalidTaskPayloadError extends Error {
  override name = "InvalidTaskPayloadError";
  constructor(
    readonly task: string,
    readonly issues: string,
  ) {
    super(`job ${task} has an invalid payload: ${issues}`);
  }
}

/** Parses a job's payload with its task's schema, or throws InvalidTaskPayloadError naming the fields. */
export function parseTaskPayload<N extends TaskName>(task: N, payload: unknown): TaskPayload<N> {
  const result = (TASKS[task].payload as z.ZodType).safeParse(payload);
  if (result.success) return result.data as TaskPayload<N>;
  const issues = result.error.issues
    .map((issue) => `${issue.path.join(".") || "(payload)"}: ${issue.message}`)
    .join("; ");
  throw new InvalidTaskPayloadError(task, issues);
}

/** What a background task receives besides its payload. */
export interface TaskContext {
  jobId: string;
  attempt: number;
}

export type TaskHandler = (payload: unknown, context: TaskContext) => Promise<void>;
