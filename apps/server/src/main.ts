// The API process: `pnpm dev` runs it with tsx, `pnpm start` runs its bundle (apps/server/dist/main.js) with
// NODE_ENV=production. It serves the API and the built SPAs, and runs the background jobs too unless
// WORKER_MODE=off (then `pnpm worker` processes run them).
import { createAuth, LiveHub, syncCatalogToStripe } from "@minutely/api";
import type { FastifyBaseLogger } from "fastify";
import { loadConfigOrExit } from "./config.ts";
import { installCrashGuard } from "./crash-guard.ts";
import { createMetrics } from "./metrics.ts";
import type { Lifecycle } from "./observability.ts";
import { createRuntime, logCircuit } from "./runtime.ts";
import { buildServer } from "./server.ts";
import { superviseWorker } from "./worker.ts";

const config = loadConfigOrExit("api");
let log: FastifyBaseLogger | undefined; // the server's, once it exists
const runtime = createRuntime(config, {
  onDatabaseCircuit: (state, reason) => logCircuit(log, state, reason),
});
const { ports } = runtime;
const lifecycle: Lifecycle = { shuttingDown: false };
// Live usage: one LISTEN connection of this replica; it reconnects by itself after a PostgreSQL restart.
const live =
  config.live.maxStreamsPerReplica > 0
    ? await LiveHub.listen({
        connectionString: config.databaseUrl,
        limits: config.live,
        onState: (state, reason) => {
          if (state === "down")
            log?.warn({ err: reason }, "live usage: LISTEN connection lost; streams tell clients to poll");
          else log?.info("live usage: listening");
        },
      })
    : undefined;
const metrics = createMetrics({
  db: ports.db,
  ...(live ? { live } : {}),
  defaultMetrics: true,
  onCollectError: (collector, error) => log?.warn({ err: error, collector }, "metrics: gauge not read"),
});
if (config.env === "development") {
  // Development has no SMTP: invitation links are logged, like the sign-in service's links below.
  ports.settings.onLink = (link) => log?.info(link, `${link.kind} link for ${link.to}: ${link.url}`);
}
const auth = createAuth({
  db: ports.db,
  secret: config.sessionSecret,
  baseUrl: config.publicUrl,
  trustedOrigins: config.trustedOrigins,
  secureCookies: config.secureCookies,
  mail: {
    mailer: ports.mailer,
    appUrl: config.appUrl,
    // Development has no SMTP: the link is logged (and the admin app's Mail page shows the outbox).
    ...(config.env === "development"
      ? { onLink: (link) => log?.info(link, `${link.kind} link for ${link.to}: ${link.url}`) }
      : {}),
  },
});
const server = await buildServer({ config, auth, ...ports, metrics, lifecycle, ...(live ? { live } : {}) });
log = server.log;
installCrashGuard(server.log);
if (config.env === "production" && config.stripe.apiBase) {
  server.log.warn(
    { stripeApiBase: config.stripe.apiBase },
    "STRIPE_API_BASE is set: payments go to a Stripe-compatible API, not to Stripe",
  );
}

// Supervised: a runner that fails (PostgreSQL restarted under it) is replaced; the process keeps serving.
const worker =
  config.worker.mode === "inline"
    ? await superviseWorker({
        connectionString: config.databaseUrl,
        concurrency: config.worker.concurrency,
        ports,
        metrics,
        log: server.log.child({ component: "worker" }),
      })
    : undefined;
/** When the shutdown began (ms); the process exits at the latest SHUTDOWN_DEADLINE_MS after the drain. */
let shutdownStartedAt = Date.now();
const SHUTDOWN_DEADLINE_MS = 25_000;
server.addHook("onClose", async () => {
  server.log.info("closed to requests; stopping the worker and closing the database pool");
  // Jobs still running 5 s before the forced exit are given back without counting an attempt.
  const left = shutdownStartedAt + config.shutdownDrainMs + SHUTDOWN_DEADLINE_MS - Date.now();
  await worker?.stop({ interruptAfterMs: Math.max(0, Math.min(15_000, left - 5_000)) });
  await runtime.close();
  server.log.info("shut down");
});

// Requests being answered, for the shutdown's log when something keeps a connection open.
const inFlight = new Map<string, { method: string; url: string; since: number }>();
server.addHook("onRequest", async (req) => {
  inFlight.set(req.id, { method: req.method, url: req.url.split("?")[0] ?? "", since: Date.now() });
});
server.addHook("onResponse", async (req) => {
  inFlight.delete(req.id);
});
server.addHook("onRequestAbort", async (req) => {
  inFlight.delete(req.id);
});
const openRequests = () =>
  [...inFlight.values()].map((r) => ({ method: r.method, url: r.url, ageMs: Date.now() - r.since }));

/** After the drain, connections still open this long are cut, so the worker and the pool stop in order. */
const CLOSE_GRACE_MS = 10_000;

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (lifecycle.shuttingDown) return;
    // Not ready from now on, so the load balancer stops sending requests; then drain and close.
    lifecycle.shuttingDown = true;
    shutdownStartedAt = Date.now();
    server.log.info({ signal, drainMs: config.shutdownDrainMs }, "shutting down");
    const force = setTimeout(() => {
      server.server.getConnections((_error, connections) => {
        server.log.error(
          { connections, requests: openRequests(), resources: process.getActiveResourcesInfo() },
          "shutdown took too long; exiting",
        );
        process.exit(1);
      });
    }, config.shutdownDrainMs + SHUTDOWN_DEADLINE_MS);
    force.unref();
    setTimeout(() => {
      server.server.getConnections((_error, connections) => {
        if (connections === 0) return;
        // Idle keep-alive connections were closed with the server; what is left is a request that has not
        // finished in the grace period (or a client that never sent one). Clients retry; every write is
        // idempotent.
        server.log.warn(
          { connections, requests: openRequests() },
          "connections still open after the grace period; closing them",
        );
        server.server.closeAllConnections();
      });
    }, config.shutdownDrainMs + CLOSE_GRACE_MS).unref();
    setTimeout(() => {
      server.log.info("closing: no new connections, finishing the requests in flight");
      server.close().then(
        () => process.exit(0),
        (error: unknown) => {
          server.log.error({ err: error }, "error during shutdown");
          process.exit(1);
        },
      );
    }, config.shutdownDrainMs);
  });
}

await server.listen({ host: config.host, port: config.port });
server.log.info(
  {
    env: config.env,
    worker: config.worker.mode,
    spas: { web: config.webDistDir ?? null, admin: config.adminDistDir ?? null },
    mail: config.smtp ? "smtp" : "outbox only",
    // Which Node and flags this replica runs: `pnpm start` sets the memory flags (docs/deploy.md, "Memory").
    node: { version: process.version, flags: process.execArgv },
  },
  "Minutely API started",
);

// Packages without a Stripe product or price yet (a fresh database, a price edited while Stripe was
// unreachable) get one now; admins can also retry per package. Until it succeeds (the database may not be
// migrated yet, Stripe may be unreachable) it is retried with a growing delay.
async function syncCatalog(attempt: number): Promise<void> {
  if (lifecycle.shuttingDown) return;
  try {
    const result = await syncCatalogToStripe(ports);
    if (result.synced > 0 || result.failed.length > 0)
      server.log.info({ synced: result.synced, failed: result.failed }, "catalog synced to Stripe");
    // Packages that could not be synced are not purchasable: keep trying (the worker's periodic sync does too).
    if (result.failed.length > 0) throw new Error(`not synced: ${result.failed.join(", ")}`);
  } catch (error) {
    // Shutting down closed the pool under it: nothing failed, and nothing is left to retry.
    if (lifecycle.shuttingDown) return;
    const delayMs = Math.min(2000 * 2 ** attempt, 300_000);
    server.log.warn({ err: error, retryInMs: delayMs }, "catalog sync to Stripe failed; retrying");
    setTimeout(() => void syncCatalog(attempt + 1), delayMs).unref();
  }
}
void syncCatalog(0);
