import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import type Stripe from "stripe";
import { processRealTime } from "./billing/clock.ts";
import {
  type InvoiceNoticeOptions,
  type PaymentRetryOptions,
  validatePaymentRetries,
  type WebhookRetryOptions,
} from "./config.ts";
import { EmulatorCore } from "./core.ts";
import { registerAdmin } from "./http/admin.ts";
import { registerApi } from "./http/api.ts";
import { createApp } from "./http/app.ts";
import { type EmulatorContext, resetEmulator } from "./http/context.ts";
import { Faults } from "./http/faults.ts";
import { registerHostedPages } from "./http/hosted-pages.ts";
import { IdempotencyStore } from "./http/idempotency.ts";
import { StatePersistence } from "./http/persistence.ts";
import { RequestLog } from "./http/request-log.ts";
import { type ChaosOptions, type DeliveryRecord, WebhookDispatcher } from "./http/webhooks.ts";
import { type PreregisteredWebhook, preregisterWebhookEndpoint } from "./resources/events.ts";
import { API_VERSION } from "./version.ts";

export type { PreregisteredWebhook };

export interface StripeEmulatorOptions {
  /** Port to listen on; 0 picks a random free port. Default 12111. */
  port?: number;
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
  /** Webhook endpoints registered at start (and kept across `/_emulator/reset`). */
  webhooks?: PreregisteredWebhook[];
  /** Webhook chaos: duplicate / reorder / delay deliveries, seeded. */
  chaos?: ChaosOptions;
  /** Persist state to this JSON file on every change and load it at start. */
  stateFile?: string;
  /** Base URL used in hosted page links (checkout, invoices). Default: the listening URL. */
  publicUrl?: string;
  /** Webhook retry policy (defaults: 8 attempts, 1 s doubling to 60 s, 10 s timeout). */
  webhookRetry?: Partial<WebhookRetryOptions>;
  /** How often real-time (non test clock) renewals are processed; 0 disables the timer. Default 30 s. */
  tickIntervalMs?: number;
  /** Receives human-readable log lines. */
  log?: (line: string) => void;
  /** Wall clock in ms, for tests. */
  now?: () => number;
  /** Automatic payment retries and the outcome of the last failure (default: Smart Retries, then cancel). */
  paymentRetries?: PaymentRetryOptions;
  /** Days for `invoice.upcoming` (default 7 before a renewal), `invoice.will_be_due`, `invoice.overdue` (off). */
  invoiceNotices?: Partial<InvoiceNoticeOptions>;
  /**
   * Fail (500) when a handler reads a parameter its route spec does not declare, so `route-specs.ts` and
   * the handlers cannot drift apart. Default: on under vitest (every test that drives the emulator checks
   * it), off otherwise.
   */
  checkParamReads?: boolean;
}

export interface StripeEmulator {
  /** e.g. http://127.0.0.1:12111 */
  url: string;
  port: number;
  host: string;
  apiVersion: string;
  core: EmulatorCore;
  webhooks: WebhookDispatcher;
  faults: Faults;
  app: FastifyInstance;
  /** Clears all data (pre-registered webhook endpoints and chaos settings stay). */
  reset(): void;
  /** Resolves when every queued webhook delivery (including retries) has finished. */
  flushWebhooks(): Promise<void>;
  deliveries(): DeliveryRecord[];
  /** Registers a webhook endpoint; returns it with its `secret`. */
  addWebhookEndpoint(input: PreregisteredWebhook): Stripe.WebhookEndpoint;
  close(): Promise<void>;
}

export interface StripeEmulatorInstance extends Omit<StripeEmulator, "url" | "port" | "host"> {
  listen(): Promise<StripeEmulator>;
}

const DEFAULT_PORT = 12111;

/**
 * Builds the emulator without listening yet: the state (`core`), its stores, and the route modules on one
 * Fastify app — the Stripe API (`http/api.ts`, which routes to `resources/`), the admin API
 * (`http/admin.ts`) and the hosted pages (`http/hosted-pages.ts`).
 */
export function createStripeEmulator(options: StripeEmulatorOptions = {}): StripeEmulatorInstance {
  const log = options.log ?? (() => {});
  const core = new EmulatorCore({
    ...(options.now ? { now: options.now } : {}),
    ...(options.paymentRetries ? { paymentRetries: validatePaymentRetries(options.paymentRetries) } : {}),
    ...(options.invoiceNotices ? { invoiceNotices: options.invoiceNotices } : {}),
  });
  const ctx: EmulatorContext = {
    core,
    webhooks: new WebhookDispatcher(core, options.webhookRetry, options.chaos ?? {}),
    faults: new Faults(),
    idempotency: new IdempotencyStore(),
    requestLog: new RequestLog(),
    hangingTimers: new Set(),
    log,
  };
  let tick: NodeJS.Timeout | undefined;

  const persistence = options.stateFile ? new StatePersistence(core, options.stateFile) : undefined;
  if (persistence?.load()) log(`Loaded emulator state from ${options.stateFile}`);
  for (const hook of options.webhooks ?? []) preregisterWebhookEndpoint(core, hook);
  if (persistence) core.onChange(() => persistence.schedule());

  const app = createApp(log);
  registerApi(app, ctx, {
    checkParamReads: options.checkParamReads ?? process.env.VITEST !== undefined,
  });
  registerAdmin(app, ctx);
  registerHostedPages(app, ctx);

  const instance: StripeEmulatorInstance = {
    apiVersion: API_VERSION,
    core,
    webhooks: ctx.webhooks,
    faults: ctx.faults,
    app,
    reset: () => resetEmulator(ctx),
    flushWebhooks: () => ctx.webhooks.flush(),
    deliveries: () => ctx.webhooks.deliveries(),
    addWebhookEndpoint: (hook) => preregisterWebhookEndpoint(core, hook),
    close: async () => {
      if (tick) clearInterval(tick);
      for (const timer of ctx.hangingTimers) clearTimeout(timer);
      ctx.hangingTimers.clear();
      ctx.webhooks.close();
      persistence?.flush();
      await app.close();
    },
    listen: async () => {
      const host = options.host ?? "127.0.0.1";
      await app.listen({ port: options.port ?? DEFAULT_PORT, host });
      const address = app.server.address() as AddressInfo;
      const displayHost =
        host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
      const url = `http://${displayHost}:${address.port}`;
      core.baseUrl = (options.publicUrl ?? url).replace(/\/$/, "");
      const interval = options.tickIntervalMs ?? 30_000;
      if (interval > 0) {
        tick = setInterval(() => {
          try {
            processRealTime(core);
          } catch (error) {
            log(`real-time processing failed: ${error instanceof Error ? error.message : String(error)}`);
          }
        }, interval);
        tick.unref();
      }
      return { ...instance, url, port: address.port, host };
    },
  };
  return instance;
}

/** Creates the emulator and starts listening (port 12111 unless `port` says otherwise; 0 = random). */
export async function startStripeEmulator(options: StripeEmulatorOptions = {}): Promise<StripeEmulator> {
  return createStripeEmulator(options).listen();
}
