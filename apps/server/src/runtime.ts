// The real implementations of the ports, built from the configuration: shared by the API process
// (main.ts) and the worker process (worker-main.ts), so both see the same database, Stripe and mail.
import {
  createStripeClient,
  OutboxMailer,
  type Ports,
  PostgresJobQueue,
  StripeBillingProvider,
  usesEmulator,
} from "@minutely/api";
import { type CircuitState, createPrismaClient } from "@minutely/db";
import { systemClock } from "@minutely/domain";
import type { FastifyBaseLogger } from "fastify";
import type { Config } from "./config.ts";
import { SmtpMailer } from "./mailer-smtp.ts";

export interface Runtime {
  ports: Ports;
  /** Closes the database pool and the SMTP connections. */
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** Told when the database circuit breaker opens (PostgreSQL unreachable) or closes again. */
  onDatabaseCircuit?: (state: CircuitState, reason: unknown) => void;
}

export function createRuntime(config: Config, options: RuntimeOptions = {}): Runtime {
  const db = createPrismaClient(config.databaseUrl, {
    poolSize: config.databasePoolSize,
    circuit: options.onDatabaseCircuit ? { onChange: options.onDatabaseCircuit } : {},
  });
  // Production sends mail over SMTP (required there); elsewhere, without SMTP_URL, the outbox is the delivery.
  const mailer = config.smtp
    ? new SmtpMailer({ db, clock: systemClock, url: config.smtp.url, from: config.smtp.from })
    : new OutboxMailer(db, systemClock);
  const ports: Ports = {
    settings: {
      appUrl: config.appUrl,
      publicUrl: config.publicUrl,
      useTestClocks: config.stripe.useTestClocks,
      stripeEmulator: usesEmulator(config.stripe.apiBase),
      secret: config.sessionSecret,
      requireVerifiedEmailToBuy: config.requireVerifiedEmailToBuy,
    },
    db,
    clock: systemClock,
    queue: new PostgresJobQueue(db),
    mailer,
    billing: new StripeBillingProvider(
      createStripeClient({ secretKey: config.stripe.secretKey, apiBase: config.stripe.apiBase }),
    ),
  };
  return {
    ports,
    async close() {
      if (mailer instanceof SmtpMailer) mailer.close();
      await db.$disconnect();
    },
  };
}

/** One log line per change of the database circuit breaker. */
export function logCircuit(
  log: Pick<FastifyBaseLogger, "warn" | "info"> | undefined,
  state: CircuitState,
  reason: unknown,
): void {
  if (state === "open") {
    log?.warn(
      { err: reason },
      "database circuit open: PostgreSQL is unreachable; requests that need it get 503 at once until a probe answers",
    );
  } else if (state === "closed") {
    log?.info("database circuit closed: PostgreSQL answers again");
  }
}
