import {
  createAuth,
  createStripeClient,
  OutboxMailer,
  type Ports,
  PostgresJobQueue,
  StripeBillingProvider,
  syncCatalogToStripe,
  usesEmulator,
} from "@minutely/api";
import { createPrismaClient } from "@minutely/db";
import { systemClock } from "@minutely/domain";
import { ConfigError, loadConfig } from "./config.ts";
import { buildServer } from "./server.ts";
import { startWorker } from "./worker.ts";

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(78);
  }
  throw error;
}

const db = createPrismaClient(config.databaseUrl, { poolSize: config.databasePoolSize });
const ports: Ports = {
  settings: {
    publicUrl: config.publicUrl,
    useTestClocks: config.stripe.useTestClocks,
    stripeEmulator: usesEmulator(config.stripe.apiBase),
  },
  db,
  clock: systemClock,
  queue: new PostgresJobQueue(db),
  mailer: new OutboxMailer(db, systemClock),
  billing: new StripeBillingProvider(
    createStripeClient({ secretKey: config.stripe.secretKey, apiBase: config.stripe.apiBase }),
  ),
};
const auth = createAuth({
  db,
  secret: config.sessionSecret,
  baseUrl: config.publicUrl,
  trustedOrigins: config.trustedOrigins,
  secureCookies: config.secureCookies,
});
const app = await buildServer({ config, auth, ...ports });
const worker =
  config.worker.mode === "inline"
    ? await startWorker({
        connectionString: config.databaseUrl,
        concurrency: config.worker.concurrency,
        ports,
        log: app.log.child({ component: "worker" }),
      })
    : undefined;
app.addHook("onClose", async () => {
  await worker?.stop();
  await db.$disconnect();
});

let closing = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, "shutting down");
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, "error during shutdown");
        process.exit(1);
      },
    );
  });
}

await app.listen({ host: config.host, port: config.port });

// Packages without a Stripe product or price yet (a fresh database, a price edited while Stripe was
// unreachable) get one now; admins can also retry per package.
syncCatalogToStripe(ports).then(
  (result) => {
    if (result.synced > 0 || result.failed.length > 0) app.log.info(result, "catalog synced to Stripe");
  },
  (error: unknown) =>
    app.log.warn({ err: error }, "catalog sync to Stripe failed; will retry on the next start"),
);
