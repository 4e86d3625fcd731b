import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type Stripe from "stripe";
import { nextDueTime, processUntil } from "./billing/clock.ts";
import { attemptInvoicePayment } from "./billing/invoices.ts";
import { attachPaymentMethod } from "./billing/payments.ts";
import { cardBySlug } from "./cards.ts";
import {
  type InvoiceNoticeOptions,
  type PaymentRetryOptions,
  validatePaymentRetries,
  type WebhookRetryOptions,
} from "./config.ts";
import { EmulatorCore } from "./core.ts";
import { ApiError, authenticationError, idempotencyError } from "./errors.ts";
import { applyExpand } from "./expand.ts";
import { type FaultRule, Faults } from "./http/faults.ts";
import { IdempotencyStore } from "./http/idempotency.ts";
import { authenticatePage, checkoutPage, invoicePage, invoicePdf, landingPage } from "./http/pages.ts";
import { Router } from "./http/router.ts";
import {
  type ChaosOptions,
  chaosOptionsSchema,
  type DeliveryRecord,
  WebhookDispatcher,
} from "./http/webhooks.ts";
import { newId } from "./ids.ts";
import { createResolver } from "./objects/index.ts";
import { buildWebhookEndpoint } from "./objects/webhookEndpoints.ts";
import { Params, parseForm } from "./params.ts";
import { checkoutSession, completeCheckout } from "./resources/checkout.ts";
import { createWebhookEndpoint } from "./resources/events.ts";
import { registerAll } from "./resources/index.ts";
import { isRecord, type Raw, validateParams, validationError } from "./spec.ts";
import { emptyState, type State } from "./state.ts";
import { API_VERSION, API_VERSION_FORMAT, EMULATOR_DESCRIPTION, SUPPORTED_API_VERSIONS } from "./version.ts";

export interface PreregisteredWebhook {
  url: string;
  secret: string;
  enabled_events?: string[];
}

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

/** Stripe's limit on `Idempotency-Key`. */
const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** How many failed requests `/_emulator/logs/:id` (each error's `request_log_url`) keeps. */
const REQUEST_LOG_SIZE = 500;

interface RequestLogEntry {
  id: string;
  method: string;
  path: string;
  status: number;
  created: number;
  params: Raw;
  response: unknown;
}

/** Card numbers and CVCs (test cards only, but still) stay out of the request log. */
function redact(value: unknown): Raw {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (!isRecord(v)) return v;
    return Object.fromEntries(
      Object.entries(v).map(([k, inner]) => [k, k === "number" || k === "cvc" ? "[redacted]" : walk(inner)]),
    );
  };
  const result = walk(value);
  return isRecord(result) ? result : {};
}

/**
 * The `Stripe-Version` header: absent means the account's version (the SDK's pinned one here); a version
 * the emulator does not speak is refused, naming the one it does; a malformed one gets Stripe's answer.
 */
function checkApiVersion(requested: string | undefined): void {
  if (requested === undefined || SUPPORTED_API_VERSIONS.includes(requested)) return;
  if (!API_VERSION_FORMAT.test(requested)) {
    throw new ApiError(400, {
      type: "invalid_request_error",
      message: `Invalid Stripe API version: ${requested}`,
    });
  }
  throw new ApiError(400, {
    type: "invalid_request_error",
    message: `The Stripe emulator speaks only API version ${SUPPORTED_API_VERSIONS.join(", ")} (the one the installed stripe SDK pins); this request asked for ${requested} in its Stripe-Version header. Use the SDK's default apiVersion with the emulator.`,
  });
}

function checkIdempotencyKey(key: string | undefined): void {
  if (key === undefined) return;
  if (key.length < 1 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new ApiError(400, {
      type: "invalid_request_error",
      message: `Idempotent key length is ${key.length}, which is outside accepted lengths. Idempotent Keys must be 1-${MAX_IDEMPOTENCY_KEY_LENGTH} characters long. If you're looking for a decent generator, try using a UUID defined by IETF RFC 4122.`,
    });
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Stripe's authentication: `Authorization: Bearer sk_test_...` (or basic auth with the key as user). */
function apiKey(request: FastifyRequest): string {
  const auth = header(request, "authorization");
  if (!auth) {
    throw authenticationError(
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
    );
  }
  let key = "";
  if (auth.startsWith("Bearer ")) key = auth.slice(7).trim();
  else if (auth.startsWith("Basic "))
    key = Buffer.from(auth.slice(6), "base64").toString("utf8").split(":")[0] ?? "";
  if (!/^(sk|rk)_test_\S+$/.test(key)) {
    const masked =
      key.length > 8
        ? `${key.slice(0, 8)}${"*".repeat(Math.max(0, Math.min(20, key.length - 12)))}${key.slice(-4)}`
        : key;
    throw authenticationError(
      `Invalid API Key provided: ${masked}. The Stripe emulator only accepts test mode keys (sk_test_...).`,
    );
  }
  return key;
}

function faultBody(rule: FaultRule): { error: Record<string, string> } {
  if (rule.status === 429) {
    return {
      error: {
        type: "invalid_request_error",
        code: "rate_limit",
        message: "Too many requests hit the API too quickly (injected by the Stripe emulator).",
      },
    };
  }
  if (rule.status >= 500) {
    return {
      error: { type: "api_error", message: "An unknown error occurred (injected by the Stripe emulator)." },
    };
  }
  return { error: { type: "invalid_request_error", message: "Injected fault (Stripe emulator)." } };
}

function loadState(file: string): { state: State; events: Stripe.Event[] } | undefined {
  if (!existsSync(file)) return undefined;
  const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
  if (!isRecord(parsed) || !isRecord(parsed.state) || !Array.isArray(parsed.events)) return undefined;
  return {
    state: { ...emptyState(), ...(parsed.state as Partial<State>) },
    events: parsed.events as Stripe.Event[],
  };
}

/** Builds the emulator (Fastify app, state, webhooks) without listening yet. */
export function createStripeEmulator(options: StripeEmulatorOptions = {}): StripeEmulatorInstance {
  const log = options.log ?? (() => {});
  const checkParamReads = options.checkParamReads ?? process.env.VITEST !== undefined;
  const requestLog = new Map<string, RequestLogEntry>();
  const core = new EmulatorCore({
    ...(options.now ? { now: options.now } : {}),
    ...(options.paymentRetries ? { paymentRetries: validatePaymentRetries(options.paymentRetries) } : {}),
    ...(options.invoiceNotices ? { invoiceNotices: options.invoiceNotices } : {}),
  });
  const router = new Router();
  registerAll(router);
  const resolver = createResolver(core);
  const idempotency = new IdempotencyStore();
  const faults = new Faults();
  const dispatcher = new WebhookDispatcher(core, options.webhookRetry, options.chaos ?? {});
  const hangingTimers = new Set<NodeJS.Timeout>();
  let tick: NodeJS.Timeout | undefined;
  let persistTimer: NodeJS.Timeout | undefined;

  if (options.stateFile) {
    const loaded = loadState(options.stateFile);
    if (loaded) {
      core.state = loaded.state;
      core.events = loaded.events;
      log(`Loaded emulator state from ${options.stateFile}`);
    }
  }

  const preregister = (hook: PreregisteredWebhook): Stripe.WebhookEndpoint => {
    const existing = Object.values(core.state.webhookEndpoints).find((e) => e.url === hook.url && !e.deleted);
    if (existing) {
      existing.secret = hook.secret;
      existing.preregistered = true;
      if (hook.enabled_events) existing.enabled_events = hook.enabled_events;
      return buildWebhookEndpoint(existing, true);
    }
    const payload: { url: string; secret: string; enabled_events?: string[]; preregistered: boolean } = {
      url: hook.url,
      secret: hook.secret,
      preregistered: true,
    };
    if (hook.enabled_events) payload.enabled_events = hook.enabled_events;
    return buildWebhookEndpoint(
      core.tx(() => createWebhookEndpoint(core, payload)),
      true,
    );
  };
  for (const hook of options.webhooks ?? []) preregister(hook);

  const persist = (): void => {
    const file = options.stateFile;
    if (!file) return;
    if (persistTimer) clearTimeout(persistTimer);
    persistTimer = setTimeout(() => {
      persistTimer = undefined;
      const tmp = `${file}.tmp`;
      writeFileSync(
        tmp,
        JSON.stringify({ version: 1, apiVersion: API_VERSION, state: core.state, events: core.events }),
      );
      renameSync(tmp, file);
    }, 100);
    persistTimer.unref();
  };
  core.onChange(persist);

  const reset = (): void => {
    dispatcher.clear();
    idempotency.clear();
    requestLog.clear();
    faults.clear();
    core.reset((state) => {
      const next = emptyState();
      for (const endpoint of Object.values(state.webhookEndpoints)) {
        if (endpoint.preregistered && !endpoint.deleted) next.webhookEndpoints[endpoint.id] = endpoint;
      }
      next.seq = state.seq;
      return next;
    });
  };

  /** Renewals etc. of subscriptions that are not on a test clock happen in real time. */
  const processRealTime = (): void => {
    const now = core.realNow();
    const due = nextDueTime(core, null);
    if (due !== null && due <= now) core.tx(() => processUntil(core, null, now));
  };

  const app = Fastify({
    logger: false,
    forceCloseConnections: true,
    bodyLimit: 5 * 1024 * 1024,
    routerOptions: { ignoreTrailingSlash: true, querystringParser: (query: string) => parseForm(query) },
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (_request, body, done) => done(null, body));

  const bodyParams = (request: FastifyRequest): Raw => {
    const body = request.body;
    if (typeof body !== "string" || body.trim() === "") return {};
    const type = header(request, "content-type") ?? "";
    if (type.includes("application/json")) {
      const parsed: unknown = JSON.parse(body);
      return isRecord(parsed) ? parsed : {};
    }
    return parseForm(body);
  };

  /** Adds Stripe's `request_log_url` to an error body; here it opens the emulator's log of that request. */
  const withRequestLog = (body: unknown, requestId: string): unknown => {
    if (!isRecord(body) || !isRecord(body.error)) return body;
    return {
      error: {
        ...body.error,
        request_log_url: `${core.baseUrl}/_emulator/logs/${requestId}?t=${core.realNow()}`,
      },
    };
  };

  const remember = (
    id: string,
    method: string,
    path: string,
    status: number,
    params: Raw,
    response: unknown,
  ) => {
    requestLog.set(id, {
      id,
      method,
      path,
      status,
      created: core.realNow(),
      params: redact(params),
      response,
    });
    while (requestLog.size > REQUEST_LOG_SIZE) {
      const oldest = requestLog.keys().next();
      if (oldest.done) break;
      requestLog.delete(oldest.value);
    }
  };

  const sendJson = (reply: FastifyReply, status: number, text: string): FastifyReply =>
    reply.code(status).header("content-type", "application/json; charset=utf-8").send(text);

  const applyFault = (
    rule: FaultRule,
    request: FastifyRequest,
    reply: FastifyReply,
  ): FastifyReply | undefined => {
    log(`fault injected: ${rule.kind} ${request.method} ${request.url}`);
    if (rule.kind === "reset") {
      reply.hijack();
      request.raw.socket.destroy();
      return undefined;
    }
    if (rule.kind === "timeout") {
      reply.hijack();
      const timer = setTimeout(() => {
        hangingTimers.delete(timer);
        request.raw.socket.destroy();
      }, rule.timeoutMs);
      hangingTimers.add(timer);
      return undefined;
    }
    return sendJson(reply, rule.status, JSON.stringify(faultBody(rule), null, 2));
  };

  app.route({
    method: ["GET", "POST", "DELETE"],
    url: "/v1/*",
    handler: async (request, reply) => {
      const requestId = newId("req", 14);
      reply.header("request-id", requestId);
      reply.header("stripe-version", API_VERSION);
      reply.header("x-stripe-emulator", "true");
      reply.header("access-control-allow-origin", "*");
      const method = request.method;
      const path = request.url.split("?")[0] ?? "/";
      /** Stripe's error envelope plus `request_log_url`; failed requests are kept for that URL. */
      const sendError = (error: ApiError, params: Raw): FastifyReply => {
        const body = withRequestLog(error.toJSON(), requestId);
        remember(requestId, method, path, error.status, params, body);
        return sendJson(reply, error.status, JSON.stringify(body, null, 2));
      };
      let key: string;
      const idemKey = method === "POST" ? header(request, "idempotency-key") : undefined;
      try {
        key = apiKey(request);
        checkApiVersion(header(request, "stripe-version"));
        checkIdempotencyKey(idemKey);
      } catch (error) {
        if (error instanceof ApiError) return sendError(error, {});
        throw error;
      }
      const before = faults.take(method, path, "before");
      if (before) return applyFault(before, request, reply);

      let raw: Raw;
      try {
        raw =
          method === "POST" ? { ...(request.query as Raw), ...bodyParams(request) } : (request.query as Raw);
      } catch {
        return sendError(validationError("Invalid request body."), {});
      }
      const fingerprint = IdempotencyStore.fingerprint(raw);
      if (idemKey) {
        const found = idempotency.lookup(key, idemKey, method, path, fingerprint, Date.now());
        if (found.kind === "replay") {
          // A replay is an answer like any other: a rule losing answers loses it too, so a rule's `count`
          // can outlast the client's idempotent retries (otherwise the first retry always got through).
          const lost = faults.take(method, path, "after");
          if (lost) return applyFault(lost, request, reply);
          reply.header("idempotent-replayed", "true");
          reply.header("idempotency-key", idemKey);
          return sendJson(reply, found.saved.status, found.saved.body);
        }
        if (found.kind === "mismatch") return sendError(idempotencyError(idemKey), raw);
        reply.header("idempotency-key", idemKey);
      }

      let status = 200;
      let body: unknown;
      /** Failed validation: Stripe saves no idempotent result, so a corrected retry with the key works. */
      let validationFailed = false;
      const match = router.match(method, path);
      if (!match) {
        status = 404;
        body = {
          error: {
            type: "invalid_request_error",
            message: `Unrecognized request URL (${method}: ${path}). The Stripe emulator does not implement this endpoint; see apps/stripe-emulator/README.md.`,
          },
        };
      } else {
        core.request = { id: requestId, idempotency_key: idemKey ?? null };
        try {
          validateParams(match.spec, raw);
          const onUndeclared = checkParamReads
            ? (name: string) => {
                throw new Error(
                  `${match.name} read the parameter ${name}, which its spec in route-specs.ts does not declare`,
                );
              }
            : undefined;
          const params = new Params(raw, "", match.spec, onUndeclared);
          processRealTime();
          const ctx = { core, p: params, path: match.params, method, url: path };
          // expand[] is applied inside the transaction: an impossible expansion leaves no change behind.
          const paths = new Params(raw).expand();
          const run = () => applyExpand(match.handler(ctx), paths, resolver);
          body = method === "GET" ? run() : core.tx(run);
        } catch (error) {
          if (error instanceof ApiError) {
            status = error.status;
            body = error.toJSON();
            validationFailed = error.validation;
          } else {
            status = 500;
            const message = error instanceof Error ? error.message : String(error);
            log(
              `internal error on ${method} ${path}: ${error instanceof Error ? (error.stack ?? message) : message}`,
            );
            body = { error: { type: "api_error", message: `Stripe emulator internal error: ${message}` } };
          }
        } finally {
          core.request = null;
        }
      }
      if (status >= 400) {
        body = withRequestLog(body, requestId);
        remember(requestId, method, path, status, raw, body);
      }
      const text = JSON.stringify(body, null, 2);
      if (idemKey && !validationFailed && status !== 401 && status !== 409 && status !== 429) {
        idempotency.save(key, idemKey, {
          method,
          path,
          fingerprint,
          status,
          body: text,
          createdAt: Date.now(),
        });
      }
      const after = faults.take(method, path, "after");
      if (after) return applyFault(after, request, reply);
      if (status >= 400) log(`${method} ${path} -> ${status}`);
      return sendJson(reply, status, text);
    },
  });

  app.setErrorHandler((error, request, reply) => {
    log(
      `unhandled error on ${request.method} ${request.url}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    const message = error instanceof Error ? error.message : String(error);
    return sendJson(
      reply,
      500,
      JSON.stringify({ error: { type: "api_error", message: `Stripe emulator internal error: ${message}` } }),
    );
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).header("content-type", "application/json; charset=utf-8");
    return reply.send(
      JSON.stringify({
        error: {
          type: "invalid_request_error",
          message: `Unrecognized request URL (${request.method}: ${request.url}).`,
        },
      }),
    );
  });

  // ---- admin API -------------------------------------------------------------------------------------
  const adminBody = (request: FastifyRequest): Raw => {
    try {
      return bodyParams(request);
    } catch {
      return {};
    }
  };

  app.get("/_emulator/health", async () => ({
    ok: true,
    apiVersion: API_VERSION,
    emulator: true,
    description: EMULATOR_DESCRIPTION,
  }));
  app.post("/_emulator/reset", async () => {
    reset();
    return { ok: true };
  });
  app.get("/_emulator/deliveries", async (request) => {
    const q = request.query as Raw;
    const data = dispatcher
      .deliveries()
      .filter(
        (d) =>
          (typeof q.event_type !== "string" || d.event_type === q.event_type) &&
          (typeof q.event_id !== "string" || d.event_id === q.event_id) &&
          (typeof q.endpoint !== "string" || d.endpoint_id === q.endpoint || d.url === q.endpoint),
      );
    return { object: "list", data, pending: dispatcher.pendingCount() };
  });
  app.delete("/_emulator/deliveries", async () => {
    dispatcher.clearLog();
    return { ok: true };
  });
  app.get("/_emulator/webhook_endpoints", async () => ({
    object: "list",
    data: Object.values(core.state.webhookEndpoints)
      .filter((e) => !e.deleted)
      .map((e) => buildWebhookEndpoint(e, true)),
  }));
  app.post("/_emulator/webhook_endpoints", async (request, reply) => {
    const body = adminBody(request);
    if (typeof body.url !== "string") return reply.code(400).send({ error: { message: "url is required" } });
    const input: PreregisteredWebhook = {
      url: body.url,
      secret: typeof body.secret === "string" ? body.secret : newId("whsec", 32),
    };
    if (Array.isArray(body.enabled_events))
      input.enabled_events = body.enabled_events.filter((e): e is string => typeof e === "string");
    return preregister(input);
  });
  app.get("/_emulator/chaos", async () => dispatcher.getChaos());
  app.post("/_emulator/chaos", async (request, reply) => {
    const parsed = chaosOptionsSchema.safeParse(adminBody(request));
    if (!parsed.success) return reply.code(400).send({ error: { message: parsed.error.message } });
    dispatcher.setChaos(parsed.data);
    return dispatcher.getChaos();
  });
  app.post("/_emulator/webhooks/pause", async () => {
    dispatcher.pause();
    return { ok: true };
  });
  app.post("/_emulator/webhooks/resume", async () => {
    dispatcher.resume();
    return { ok: true };
  });
  app.post("/_emulator/flush", async () => {
    await dispatcher.flush();
    return { ok: true, pending: dispatcher.pendingCount() };
  });
  app.get("/_emulator/faults", async () => ({ object: "list", data: faults.list() }));
  app.post("/_emulator/faults", async (request, reply) => {
    const body = adminBody(request);
    const inputs = Array.isArray(body.rules) ? body.rules : [body];
    try {
      return { object: "list", data: inputs.map((input) => faults.add(input)) };
    } catch (error) {
      return reply
        .code(400)
        .send({ error: { message: error instanceof Error ? error.message : String(error) } });
    }
  });
  app.delete("/_emulator/faults", async () => {
    faults.clear();
    return { ok: true };
  });
  app.post("/_emulator/tick", async () => {
    processRealTime();
    return { ok: true };
  });
  app.get<{ Params: { id: string } }>("/_emulator/logs/:id", async (request, reply) => {
    const entry = requestLog.get(request.params.id);
    if (!entry)
      return reply
        .code(404)
        .send({ error: { message: `No failed request ${request.params.id} is logged.` } });
    return entry;
  });
  app.get("/_emulator/state", async () => ({
    apiVersion: API_VERSION,
    state: core.state,
    events: core.events.length,
  }));

  // ---- hosted pages ----------------------------------------------------------------------------------
  const html = (reply: FastifyReply, status: number, body: string): FastifyReply =>
    reply.code(status).header("content-type", "text/html; charset=utf-8").send(body);

  const formField = (body: Raw, key: string): string => (typeof body[key] === "string" ? body[key] : "");

  app.get("/", async (_request, reply) => html(reply, 200, landingPage(core.baseUrl)));

  app.get<{ Params: { id: string } }>("/checkout/:id", async (request, reply) => {
    const session = core.state.checkoutSessions[request.params.id];
    if (!session)
      return html(
        reply,
        404,
        "<!doctype html><title>Not found</title><p>No such checkout session (Stripe emulator).</p>",
      );
    return html(reply, 200, checkoutPage(core, session));
  });

  const submitCheckout = (
    request: FastifyRequest<{ Params: { id: string } }>,
    reply: FastifyReply,
    authenticated: boolean,
  ) => {
    const session = core.state.checkoutSessions[request.params.id];
    if (!session)
      return html(reply, 404, "<!doctype html><title>Not found</title><p>No such checkout session.</p>");
    const body = adminBody(request);
    const slug = formField(body, "card") || "visa";
    const email = formField(body, "email");
    const name = formField(body, "name");
    const card = cardBySlug(slug);
    if (!card)
      return html(reply, 400, checkoutPage(core, session, { error: "Choose a test card.", email, name }));
    if (authenticated && formField(body, "result") === "fail") {
      return html(
        reply,
        402,
        checkoutPage(core, session, {
          error:
            "We are unable to authenticate your payment method. Please choose a different payment method and try again.",
          selected: slug,
          email,
          name,
        }),
      );
    }
    try {
      const outcome = core.tx(() =>
        completeCheckout(core, checkoutSession(core, session.id), {
          card,
          email: email || null,
          name: name || null,
          authenticated,
        }),
      );
      if (outcome.kind === "authenticate")
        return html(reply, 200, authenticatePage(session, slug, email, name));
      log(`checkout ${session.id} completed`);
      return reply.redirect(outcome.url, 303);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      return html(
        reply,
        error.status,
        checkoutPage(core, session, { error: error.message, selected: slug, email, name }),
      );
    }
  };
  app.post<{ Params: { id: string } }>("/checkout/:id/pay", async (request, reply) =>
    submitCheckout(request, reply, false),
  );
  app.post<{ Params: { id: string } }>("/checkout/:id/authenticate", async (request, reply) =>
    submitCheckout(request, reply, true),
  );
  app.post<{ Params: { id: string } }>("/checkout/:id/cancel", async (request, reply) => {
    const session = core.state.checkoutSessions[request.params.id];
    if (!session)
      return html(reply, 404, "<!doctype html><title>Not found</title><p>No such checkout session.</p>");
    return reply.redirect(session.cancel_url ?? core.baseUrl, 303);
  });

  app.get<{ Params: { id: string } }>("/invoices/:id", async (request, reply) => {
    const inv = core.state.invoices[request.params.id];
    if (!inv || inv.deleted)
      return html(reply, 404, "<!doctype html><title>Not found</title><p>No such invoice.</p>");
    return html(reply, 200, invoicePage(inv));
  });
  app.get<{ Params: { id: string } }>("/invoices/:id/pdf", async (request, reply) => {
    const inv = core.state.invoices[request.params.id];
    if (!inv || inv.deleted) return reply.code(404).send("Not found");
    return reply
      .header("content-type", "application/pdf")
      .header("content-disposition", `inline; filename="${inv.number ?? inv.id}.pdf"`)
      .send(invoicePdf(inv));
  });
  app.post<{ Params: { id: string } }>("/invoices/:id/pay", async (request, reply) => {
    const inv = core.state.invoices[request.params.id];
    if (!inv || inv.deleted)
      return html(reply, 404, "<!doctype html><title>Not found</title><p>No such invoice.</p>");
    const card = cardBySlug(formField(adminBody(request), "card") || "visa");
    if (!card) return html(reply, 400, invoicePage(inv, "Choose a test card."));
    try {
      const attempt = core.tx(() => {
        const pm = attachPaymentMethod(core, card.paymentMethods[0] ?? "pm_card_visa", inv.customer);
        return attemptInvoicePayment(core, inv, core.clockNow(inv.test_clock), {
          paymentMethod: pm.id,
          automatic: false,
          authenticated: true,
        });
      });
      if (!attempt.ok) return html(reply, 402, invoicePage(inv, attempt.decline.message));
      return reply.redirect(`/invoices/${inv.id}`, 303);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      return html(reply, error.status, invoicePage(inv, error.message));
    }
  });

  const instance: StripeEmulatorInstance = {
    apiVersion: API_VERSION,
    core,
    webhooks: dispatcher,
    faults,
    app,
    reset,
    flushWebhooks: () => dispatcher.flush(),
    deliveries: () => dispatcher.deliveries(),
    addWebhookEndpoint: preregister,
    close: async () => {
      if (tick) clearInterval(tick);
      for (const timer of hangingTimers) clearTimeout(timer);
      hangingTimers.clear();
      dispatcher.close();
      if (persistTimer) {
        clearTimeout(persistTimer);
        persistTimer = undefined;
        if (options.stateFile) {
          writeFileSync(
            options.stateFile,
            JSON.stringify({ version: 1, apiVersion: API_VERSION, state: core.state, events: core.events }),
          );
        }
      }
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
            processRealTime();
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
