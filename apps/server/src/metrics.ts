// Prometheus metrics (prom-client), served at /metrics by the API and by the worker process. Counters and
// histograms are per process (Prometheus sums them across replicas); the queue and webhook gauges are read
// from PostgreSQL at scrape time, so every replica reports the same cluster-wide value (use max()).
import { type IngestResult, type LiveHub, queueJobsByState } from "@minutely/api";
import type { Database } from "@minutely/db";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<"method" | "route" | "status_code">;
  httpDuration: Histogram<"method" | "route" | "status_code">;
  usageEvents: Counter<"result">;
  usageLateEvents: Counter;
  usageMinutes: Counter;
  jobsCompleted: Counter<"task">;
  jobFailures: Counter<"task" | "permanent">;
  /** Job runs that met an unreachable dependency and were put back without counting an attempt. */
  jobOutageRetries: Counter<"task" | "dependency">;
  jobDuration: Histogram<"task">;
  webhookLag: Histogram;
  /** Counts one ingested batch of usage events (the metering route's hook). */
  observeIngest(result: IngestResult): void;
}

export interface MetricsOptions {
  /** Reads the queue and webhook gauges at scrape time; without it they are not exported. */
  db?: Database;
  /** Process metrics (CPU, memory, event loop lag, GC): once per process, in the entry points. */
  defaultMetrics?: boolean;
  /** Called when a gauge cannot be read (the scrape still answers, without that gauge). */
  onCollectError?: (collector: string, error: unknown) => void;
  /** This replica's live-usage hub: its open streams and whether it is listening. */
  live?: Pick<LiveHub, "stats" | "state">;
}

const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const JOB_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const LAG_BUCKETS = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600];

interface QueueRow {
  task: string;
  state: string;
  jobs: number;
}

interface WebhookRow {
  status: string;
  events: number;
  oldest_seconds: number;
}

/** A fresh registry with every Minutely metric (one per server, so tests can build many servers). */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  const collectErrors = new Counter({
    name: "minutely_metrics_collect_errors_total",
    help: "Scrapes that could not read a gauge from PostgreSQL, by collector",
    labelNames: ["collector"] as const,
    registers,
  });
  const failed = (collector: string, error: unknown) => {
    collectErrors.inc({ collector });
    options.onCollectError?.(collector, error);
  };

  const metrics: Metrics = {
    registry,
    httpRequests: new Counter({
      name: "minutely_http_requests_total",
      help: "HTTP requests answered, by method, route pattern and status code",
      labelNames: ["method", "route", "status_code"] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: "minutely_http_request_duration_seconds",
      help: "Time to answer HTTP requests, by method, route pattern and status code",
      labelNames: ["method", "route", "status_code"] as const,
      buckets: HTTP_BUCKETS,
      registers,
    }),
    usageEvents: new Counter({
      name: "minutely_usage_events_ingested_total",
      help: "Call usage events received by POST /api/v1/usage/calls, by result (accepted, duplicate, rejected)",
      labelNames: ["result"] as const,
      registers,
    }),
    usageLateEvents: new Counter({
      name: "minutely_usage_events_late_total",
      help: "Accepted usage events counted in an already closed billing period",
      registers,
    }),
    usageMinutes: new Counter({
      name: "minutely_usage_minutes_ingested_total",
      help: "Billable call minutes of the accepted usage events",
      registers,
    }),
    jobsCompleted: new Counter({
      name: "minutely_jobs_completed_total",
      help: "Background jobs that ran successfully in this process, by task",
      labelNames: ["task"] as const,
      registers,
    }),
    jobFailures: new Counter({
      name: "minutely_job_failures_total",
      help: "Background job runs that threw in this process, by task; permanent=true when no retry is left",
      labelNames: ["task", "permanent"] as const,
      registers,
    }),
    jobOutageRetries: new Counter({
      name: "minutely_job_outage_retries_total",
      help:
        "Background job runs that could not reach a dependency (database, stripe, network) and were put back " +
        "with backoff without counting an attempt, in this process, by task and dependency",
      labelNames: ["task", "dependency"] as const,
      registers,
    }),
    jobDuration: new Histogram({
      name: "minutely_job_duration_seconds",
      help: "Run time of background jobs in this process, by task",
      labelNames: ["task"] as const,
      buckets: JOB_BUCKETS,
      registers,
    }),
    webhookLag: new Histogram({
      name: "minutely_webhook_processing_lag_seconds",
      help: "Time from receiving a Stripe webhook event to having processed it",
      buckets: LAG_BUCKETS,
      registers,
    }),
    observeIngest(result) {
      metrics.usageEvents.inc({ result: "accepted" }, result.accepted);
      metrics.usageEvents.inc({ result: "duplicate" }, result.duplicates);
      metrics.usageEvents.inc({ result: "rejected" }, result.rejected);
      metrics.usageLateEvents.inc(result.late);
      let minutes = 0;
      for (const event of result.results) if (event.status === "accepted") minutes += event.billableMinutes;
      metrics.usageMinutes.inc(minutes);
    },
  };
  // Every label combination exists from the start, so rates work before the first event.
  for (const result of ["accepted", "duplicate", "rejected"]) metrics.usageEvents.inc({ result }, 0);

  const db = options.db;
  if (db) {
    const readQueue = fresh(async () => {
      try {
        // The states the admin app counts too (one definition: JOB_STATE in packages/api).
        const rows: QueueRow[] = await queueJobsByState(db);
        const [oldest] = await db.$queryRaw<{ seconds: number }[]>`
          SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(run_at)), 0)::float8 AS seconds
          FROM graphile_worker._private_jobs
          WHERE (locked_at IS NULL OR locked_at <= now() - interval '4 hours')
            AND attempts < max_attempts AND run_at <= now()`;
        return { rows, oldest: oldest?.seconds ?? 0 };
      } catch (error) {
        failed("queue", error);
        return null;
      }
    });
    new Gauge({
      name: "minutely_queue_jobs",
      help:
        "Jobs in the PostgreSQL queue (cluster-wide), by task and state: ready (waiting for a worker), " +
        "running, scheduled (to run later), retrying (waiting for its next attempt after its own error), " +
        "waiting_for_dependency (put back after the database or Stripe could not be reached, no attempt " +
        "counted), failed (no attempt left)",
      labelNames: ["task", "state"] as const,
      registers,
      async collect() {
        const result = await readQueue();
        this.reset();
        for (const row of result?.rows ?? []) this.set({ task: row.task, state: row.state }, row.jobs);
      },
    });
    new Gauge({
      name: "minutely_queue_oldest_ready_job_age_seconds",
      help: "How long the oldest ready job has been waiting for a worker (0 when none is waiting)",
      registers,
      async collect() {
        const result = await readQueue();
        this.reset();
        if (result) this.set(result.oldest);
      },
    });

    const readWebhooks = fresh(async () => {
      try {
        return await db.$queryRaw<WebhookRow[]>`
          SELECT status::text AS status, count(*)::int AS events,
            EXTRACT(EPOCH FROM now() - min(received_at))::float8 AS oldest_seconds
          FROM stripe_event WHERE status <> 'processed' GROUP BY status`;
      } catch (error) {
        failed("webhooks", error);
        return null;
      }
    });
    new Gauge({
      name: "minutely_webhook_events_unprocessed",
      help: "Stripe webhook events recorded but not processed yet (cluster-wide), by status (received, failed)",
      labelNames: ["status"] as const,
      registers,
      async collect() {
        const rows = await readWebhooks();
        this.reset();
        if (!rows) return;
        for (const status of ["received", "failed"]) {
          this.set({ status }, rows.find((row) => row.status === status)?.events ?? 0);
        }
      },
    });
    new Gauge({
      name: "minutely_webhook_oldest_unprocessed_age_seconds",
      help: "Age of the oldest Stripe webhook event not processed yet (0 when every event is processed)",
      registers,
      async collect() {
        const rows = await readWebhooks();
        this.reset();
        if (rows) this.set(Math.max(0, ...rows.map((row) => row.oldest_seconds)));
      },
    });
  }
  const { live } = options;
  if (live) {
    new Gauge({
      name: "minutely_live_streams",
      help: "Open live-usage streams (tRPC subscriptions) on this replica (LIVE_MAX_STREAMS is the limit)",
      registers,
      collect() {
        this.set(live.stats().streams);
      },
    });
    new Gauge({
      name: "minutely_live_listening",
      help: "1 while this replica's LISTEN connection for live usage is up, 0 while it reconnects (streams poll)",
      registers,
      collect() {
        this.set(live.state === "up" ? 1 : 0);
      },
    });
  }
  return metrics;
}

/**
 * One database read shared by the gauges of a scrape: prom-client calls every collect() in the same tick,
 * so the first starts the read and the others of that tick reuse it; the next scrape reads again.
 */
function fresh<T>(read: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    if (!pending) {
      pending = read();
      setImmediate(() => {
        pending = undefined;
      });
    }
    return pending;
  };
}
