// `pnpm worker`: a process that only runs background jobs (webhook processing, usage alert email, overage
// reporting, the periodic safety nets) from the shared PostgreSQL queue. Run any number of them, with the
// API replicas set to WORKER_MODE=off (or not: runners of both kinds share the queue, each job runs once).
// It listens on WORKER_PORT for /health/live, /health/ready and /metrics only.
import { readMigrations } from "@minutely/db";
import Fastify, { type FastifyBaseLogger } from "fastify";
import { loadConfigOrExit } from "./config.ts";
import { installCrashGuard } from "./crash-guard.ts";
import { fastifyLogging } from "./logging.ts";
import { createMetrics } from "./metrics.ts";
import { type Lifecycle, registerGracefulDrain, registerObservabilityRoutes } from "./observability.ts";
import { createRuntime, logCircuit } from "./runtime.ts";
import { superviseWorker } from "./worker.ts";

const config = loadConfigOrExit("worker");
let log: FastifyBaseLogger | undefined; // the server's, once it exists
const runtime = createRuntime(config, {
  onDatabaseCircuit: (state, reason) => logCircuit(log, state, reason),
});
const { ports } = runtime;
const lifecycle: Lifecycle = { shuttingDown: false };
const app = Fastify(fastifyLogging(config, "minutely-worker"));
log = app.log;
registerGracefulDrain(app, lifecycle);
installCrashGuard(app.log);
const metrics = createMetrics({
  db: ports.db,
  defaultMetrics: true,
  onCollectError: (collector, error) => app.log.warn({ err: error, collector }, "metrics: gauge not read"),
});
registerObservabilityRoutes(app, {
  db: ports.db,
  metrics,
  lifecycle,
  migrations: readMigrations(config.migrationsDir).map((m) => m.name),
});

// Supervised: a runner that fails (PostgreSQL restarted under it) is replaced instead of exiting.
const runner = await superviseWorker({
  connectionString: config.databaseUrl,
  concurrency: config.worker.concurrency,
  ports,
  metrics,
  log: app.log.child({ component: "worker" }),
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (lifecycle.shuttingDown) return;
    lifecycle.shuttingDown = true;
    app.log.info({ signal }, "shutting down: finishing the running jobs");
    const force = setTimeout(() => {
      app.log.error("shutdown took too long; exiting (unfinished jobs are retried by another worker)");
      process.exit(1);
    }, 25_000);
    force.unref();
    (async () => {
      // Jobs still running after 15 s (a Stripe call hanging) are given back without counting an attempt.
      await runner.stop({ interruptAfterMs: 15_000 });
      await app.close();
      await runtime.close();
    })().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, "error during shutdown");
        process.exit(1);
      },
    );
  });
}

await app.listen({ host: config.host, port: config.worker.port });
app.log.info(
  {
    concurrency: config.worker.concurrency,
    port: config.worker.port,
    mail: config.smtp ? "smtp" : "outbox only",
    node: { version: process.version, flags: process.execArgv },
  },
  "Minutely worker started",
);
