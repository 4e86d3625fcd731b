// Liveness, readiness and Prometheus metrics for the API and the worker process, and the HTTP request
// metrics of the API. The health routes need no authentication; /metrics needs the bearer METRICS_TOKEN
// when one is configured (always on the API in production), since it tells anyone how the business runs.
import { createHash, timingSafeEqual } from "node:crypto";
import type { Database } from "@minutely/db";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Metrics } from "./metrics.ts";

/** Shared between the signal handler and /health/ready: a shutting-down process is not ready. */
export interface Lifecycle {
  shuttingDown: boolean;
}

export interface ObservabilityDeps {
  db: Database;
  metrics: Metrics;
  lifecycle: Lifecycle;
  /** Names of the migrations this build expects (the folder); missing ones make the process not ready. */
  migrations: readonly string[];
  /** When set, /metrics answers only requests with `Authorization: Bearer <metricsToken>` (401 otherwise). */
  metricsToken?: string | undefined;
}

/** Whether an Authorization header carries exactly this bearer token (compared in constant time). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer (.+)$/i.exec(header ?? "")?.[1] ?? "";
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(given), digest(token)) && given.length > 0;
}

export type Readiness =
  | { ready: true; checks: { database: "up"; migrations: "applied" }; unknownMigrations: string[] }
  | {
      ready: false;
      reason: "shutting_down" | "database_down" | "migrations_pending";
      pendingMigrations?: string[];
    };

/** How long readiness waits for the database before it says `database_down` (ms). */
export const READINESS_TIMEOUT_MS = 2000;

/**
 * Ready when the database answers and has every migration this build knows. Migrations the build does not
 * know (a newer release migrated first, as a rolling upgrade does) do not make it unready. Only a database
 * that answered that it has no `_prisma_migrations` table has nothing migrated: a query that failed (a
 * flap between two queries) is `database_down`, never every migration "pending". The probe answers within
 * `timeoutMs` (2 s) whatever the database does: a hung one is `database_down` too.
 */
export async function readiness(
  deps: Omit<ObservabilityDeps, "metrics">,
  options: { timeoutMs?: number } = {},
): Promise<Readiness> {
  if (deps.lifecycle.shuttingDown) return { ready: false, reason: "shutting_down" };
  const down: Readiness = { ready: false, reason: "database_down" };
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Readiness>((resolve) => {
    timer = setTimeout(() => resolve(down), options.timeoutMs ?? READINESS_TIMEOUT_MS);
  });
  const check = async (): Promise<Readiness> => {
    let applied: Set<string>;
    try {
      const [table] = await deps.db.$queryRaw<{ present: boolean }[]>`
        SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS present`;
      if (!table) return down;
      const rows = table.present
        ? await deps.db.$queryRaw<{ migration_name: string }[]>`
            SELECT migration_name FROM "_prisma_migrations"
            WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`
        : [];
      applied = new Set(rows.map((row) => row.migration_name));
    } catch {
      return down;
    }
    const pending = deps.migrations.filter((name) => !applied.has(name));
    if (pending.length > 0) return { ready: false, reason: "migrations_pending", pendingMigrations: pending };
    const known = new Set(deps.migrations);
    return {
      ready: true,
      checks: { database: "up", migrations: "applied" },
      unknownMigrations: [...applied].filter((name) => !known.has(name)),
    };
  };
  try {
    return await Promise.race([check(), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** GET /health/live, GET /health/ready and GET /metrics (quiet in the logs: probes call them often). */
export function registerObservabilityRoutes(app: FastifyInstance, deps: ObservabilityDeps): void {
  const quiet = { logLevel: "warn", schema: { hide: true } } as const;
  app.get("/health/live", quiet, async () => ({ status: "ok" }));
  app.get("/health/ready", quiet, async (_req, reply) => {
    const result = await readiness(deps);
    if (result.ready)
      return { status: "ready", ...result.checks, unknown_migrations: result.unknownMigrations };
    return reply.code(503).send({
      status: "not_ready",
      reason: result.reason,
      ...(result.pendingMigrations ? { pending_migrations: result.pendingMigrations } : {}),
    });
  });
  app.get("/metrics", quiet, async (req, reply) => {
    const token = deps.metricsToken;
    if (token !== undefined && !bearerMatches(req.headers.authorization, token)) {
      return reply.code(401).header("www-authenticate", 'Bearer realm="metrics"').send({
        error: "unauthorized",
        message: "Send the metrics token as `Authorization: Bearer <token>`.",
      });
    }
    const body = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(body);
  });
}

/**
 * Graceful drain: once the process is shutting down, every answer says `Connection: close`, so clients drop
 * their keep-alive connections during the drain window, and a request still in flight when the server
 * closes ends its connection with its answer. (Closing the server only closes idle connections; one busy
 * at that moment would otherwise stay open for the keep-alive timeout, 72 s in Fastify, and hold the
 * shutdown.)
 */
export function registerGracefulDrain(app: FastifyInstance, lifecycle: Lifecycle): void {
  app.addHook("onSend", async (_req, reply) => {
    if (lifecycle.shuttingDown && reply.raw.req.httpVersionMajor === 1) reply.header("connection", "close");
  });
}

/** The route label of a request: its pattern (never the raw URL, which would explode the series). */
export function routeLabel(req: FastifyRequest, statusCode: number): string {
  const pattern = req.routeOptions.url;
  if (pattern === undefined) return statusCode === 404 ? "(not found)" : "(spa)";
  if (/^\/(api|trpc|health|metrics)(\/|$)/.test(pattern)) return pattern;
  return "(static)";
}

/** Counts and times every answered request by method, route pattern and status. */
export function registerHttpMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook("onResponse", async (req, reply) => {
    const labels = {
      method: req.method,
      route: routeLabel(req, reply.statusCode),
      status_code: String(reply.statusCode),
    };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });
}
