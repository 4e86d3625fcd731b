import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import rateLimit from "@fastify/rate-limit";
import fastifyStatic from "@fastify/static";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import {
  type AdminRouter,
  type AppRouter,
  type Auth,
  adminRouter,
  appRouter,
  type Context,
  DATABASE_UNAVAILABLE,
  type LiveHub,
  type Ports,
  UpstreamUnavailableError,
} from "@minutely/api";
import { isDatabaseUnavailable, readMigrations } from "@minutely/db";
import { TRPCError } from "@trpc/server";
import { type FastifyTRPCPluginOptions, fastifyTRPCPlugin } from "@trpc/server/adapters/fastify";
import Fastify, { type FastifyInstance } from "fastify";
import helmet from "helmet";
import superjson, { type SuperJSONResult } from "superjson";
import { registerAuthRoutes } from "./auth-routes.ts";
import type { Config } from "./config.ts";
import { fastifyLogging, registerShortRequestLog } from "./logging.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import {
  type Lifecycle,
  registerGracefulDrain,
  registerHttpMetrics,
  registerObservabilityRoutes,
} from "./observability.ts";
import { registerOriginCheck } from "./origin-check.ts";
import { RateLimitBuckets } from "./rate-limit-store.ts";
import {
  frameworkErrorHandler,
  jsonTextProblem,
  RestError,
  registerErrorHandler,
  registerJsonBodyParser,
  registerStrictBodies,
  registerUnavailableResponse,
} from "./rest.ts";
import { registerAdjustmentRoutes } from "./routes/adjustments.ts";
import { registerCustomerApiRoutes } from "./routes/customer-api.ts";
import { registerDashboardRoutes } from "./routes/dashboard.ts";
import { registerMeteringRoutes } from "./routes/metering.ts";
import { registerPackRoutes } from "./routes/packs.ts";
import { registerSpendCapRoutes } from "./routes/spend-cap.ts";
import { registerSubscriptionRoutes } from "./routes/subscriptions.ts";
import { registerTaxDetailsRoutes } from "./routes/tax-details.ts";
import { registerWebhookRoutes } from "./routes/webhooks.ts";
import { viewerOf } from "./session.ts";

/**
 * Calls one tRPC request may batch. Each call runs its own queries, so an unbounded batch lets one client
 * occupy the database pool for seconds (100 dashboards took 6.5 s and slowed everyone else's 100-fold).
 * The SPAs' httpBatchLink uses the same `maxItems`, so they split larger batches themselves.
 */
export const MAX_TRPC_BATCH_CALLS = 10;
/** Body limit of /trpc and /trpc/admin: ten calls of the largest input (1,000 agent ids) fit easily. */
export const TRPC_BODY_LIMIT = 256 * 1024;

export interface ServerDeps extends Ports {
  config: Config;
  auth: Auth;
  /** Prometheus metrics served at /metrics; a fresh registry when omitted (tests). */
  metrics?: Metrics;
  /** Set when the process shuts down (/health/ready answers 503 from then on). */
  lifecycle?: Lifecycle;
  /** Where LOG_FORMAT=pretty writes (stdout when omitted; tests read it). */
  logDestination?: NodeJS.WritableStream;
  /** This replica's live-usage hub (tRPC subscriptions); without it the SPAs poll. Closed with the server. */
  live?: LiveHub;
}

function trpcOptions<TRouter extends AppRouter | AdminRouter>(
  deps: ServerDeps,
  router: TRouter,
  prefix: string,
): FastifyTRPCPluginOptions<TRouter> {
  return {
    prefix,
    trpcOptions: {
      router,
      // The onRequest hook refuses larger batches first, with a clearer message; this is the backstop.
      maxBatchSize: MAX_TRPC_BATCH_CALLS,
      createContext: async ({ req }): Promise<Context> => ({
        db: deps.db,
        clock: deps.clock,
        queue: deps.queue,
        mailer: deps.mailer,
        billing: deps.billing,
        settings: deps.settings,
        viewer: await viewerOf(deps.auth, req).catch((error: unknown) => {
          // No session can be looked up while PostgreSQL is unreachable: 503, not a 500.
          if (!isDatabaseUnavailable(error)) throw error;
          throw new TRPCError({
            code: "SERVICE_UNAVAILABLE",
            message: DATABASE_UNAVAILABLE.body.message,
            cause: error,
          });
        }),
        requestId: String(req.id),
        ...(deps.live ? { live: deps.live } : {}),
      }),
      onError({ error, path, req }) {
        if (error.code === "INTERNAL_SERVER_ERROR") {
          req.log.error({ err: error.cause ?? error, path }, "tRPC procedure failed");
        } else if (error.code === "SERVICE_UNAVAILABLE") {
          req.log.warn(
            { err: error.cause ?? error, path },
            "tRPC procedure failed: a dependency is unavailable",
          );
        }
      },
      // A 503 (Stripe or PostgreSQL unavailable) tells the client when to retry, as the REST routes do.
      responseMeta({ errors }) {
        const unavailable = errors.filter((e) => e.code === "SERVICE_UNAVAILABLE");
        if (unavailable.length === 0) return {};
        const seconds = Math.max(
          ...unavailable.map((e) =>
            e.cause instanceof UpstreamUnavailableError
              ? e.cause.retryAfterSeconds
              : DATABASE_UNAVAILABLE.retryAfterSeconds,
          ),
        );
        return { headers: { "retry-after": String(seconds) } };
      },
    },
  } as FastifyTRPCPluginOptions<TRouter>;
}

/** Why a tRPC input (one superjson envelope, or a batch of them by index) does not deserialize, or null. */
function superjsonProblem(text: string, batch: boolean): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null; // tRPC answers JSON that does not parse itself
  }
  const envelopes = batch && parsed && typeof parsed === "object" ? Object.values(parsed) : [parsed];
  for (const envelope of envelopes) {
    try {
      superjson.deserialize(envelope as SuperJSONResult);
    } catch {
      return "is not valid superjson, the format of the tRPC client ({ json, meta })";
    }
  }
  return null;
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    ...fastifyLogging(config, "minutely-api", deps.logDestination),
    trustProxy: config.trustProxy,
    genReqId: (req) => {
      const incoming = req.headers["x-request-id"];
      return typeof incoming === "string" && /^[\w.-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    },
    routerOptions: { maxParamLength: 5000, ignoreTrailingSlash: true },
    bodyLimit: 1024 * 1024,
    frameworkErrors: frameworkErrorHandler,
    // JSON bodies are taken as sent: Fastify's default ajv settings would coerce them (an array of one
    // string becomes the string, null becomes 0 or "", a number becomes a string) and silently drop
    // undeclared fields, so a wrong type would be accepted as something the client never sent. No route
    // has a querystring schema, and the only params schemas are plain strings, so nothing needs coercion.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true } },
  });

  registerErrorHandler(app);
  registerJsonBodyParser(app);
  registerStrictBodies(app);
  registerUnavailableResponse(app);
  const metrics = deps.metrics ?? createMetrics({ db: deps.db, ...(deps.live ? { live: deps.live } : {}) });
  const lifecycle = deps.lifecycle ?? { shuttingDown: false };
  app.addHook("preClose", async () => {
    lifecycle.shuttingDown = true;
    // Open live streams would hold the server open: they end now and their clients poll another replica.
    await deps.live?.close();
  });
  registerGracefulDrain(app, lifecycle);
  registerHttpMetrics(app, metrics);
  registerShortRequestLog(app, config);
  app.addHook("onSend", async (req, reply) => {
    reply.header("x-request-id", req.id);
  });

  // Helmet's security headers on every response. Its middleware is built once: @fastify/helmet built it
  // (parsing the CSP directives again) on every request, 3 % of a webhook acknowledgement's CPU.
  const securityHeaders = helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", "data:"],
        connectSrc: ["'self'"],
        formAction: ["'self'", "http:", "https:"],
        frameAncestors: ["'none'"],
      },
    },
  });
  app.addHook("onRequest", (req, reply, done) => {
    securityHeaders(req.raw, reply.raw, (error) => done(error instanceof Error ? error : undefined));
  });
  // Counted in PostgreSQL, so every replica shares one limit and a restart does not reset it. A store
  // failure is not skipped (skipOnError: false): an unreachable database answers 503 with Retry-After
  // through the error handler, never an unlimited sign-in attempt.
  const rateLimitBuckets = new RateLimitBuckets({
    db: deps.db,
    secret: config.sessionSecret,
    onSweepError: (error) => app.log.warn({ err: error }, "could not delete expired rate-limit buckets"),
  });
  await app.register(rateLimit, {
    global: false,
    store: rateLimitBuckets.storeClass(),
    skipOnError: false,
    // Thrown by the plugin (after it set the rate-limit headers) and answered by the error handler as is.
    errorResponseBuilder: (_req, context) =>
      new RestError(context.statusCode, {
        error: "rate_limited",
        message: `Too many attempts. Try again in ${Math.ceil(context.ttl / 1000)} seconds.`,
      }),
  });
  registerOriginCheck(app, config.trustedOrigins);

  app.get("/health", async (_req, reply) => {
    try {
      await deps.db.$queryRaw`SELECT 1`;
      return { status: "ok", database: "up" };
    } catch (error) {
      app.log.warn({ err: error }, "health check: database unreachable");
      return reply.code(503).send({ status: "unavailable", database: "down" });
    }
  });

  registerObservabilityRoutes(app, {
    db: deps.db,
    metrics,
    lifecycle,
    migrations: readMigrations(config.migrationsDir).map((m) => m.name),
    metricsToken: config.metricsToken,
  });

  await app.register(swagger, {
    // Only the documented REST surface: tRPC (/trpc) and better-auth's catch-all stay out.
    hideUntagged: true,
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Minutely API",
        version: "1.0.0",
        description:
          "REST endpoints of Minutely: the sign-in endpoints that take a body (better-auth, session cookie), " +
          "the seed's subscription contract (session cookie), the metering API (service token) and the " +
          "customer API (API keys). Bodies are taken as sent (no type coercion) and neither bodies nor query " +
          "strings may carry fields a route does not declare (a 400 names them). A session-cookie route acts in " +
          "the session's active account and only for the roles the role table gives it (owner, admin, billing, " +
          "member; docs/accounts.md): another role answers 403 naming the role. The SPAs use tRPC at /trpc " +
          "and /trpc/admin (at most 10 calls a batch).",
      },
      components: {
        securitySchemes: {
          session: {
            type: "apiKey",
            in: "cookie",
            name: "better-auth.session_token",
            description:
              "A signed-in member of the session's active account, checked against the route's roles",
          },
          meteringToken: { type: "http", scheme: "bearer", description: "METERING_API_TOKEN" },
          apiKey: { type: "http", scheme: "bearer", description: "An account API key" },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: "/api/docs", staticCSP: true });
  app.get("/api/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  await registerAuthRoutes(app, deps.auth, deps.db, rateLimitBuckets);
  await registerSubscriptionRoutes(app, deps);
  await registerSpendCapRoutes(app, deps);
  await registerTaxDetailsRoutes(app, deps);
  await registerAdjustmentRoutes(app, deps);
  await registerPackRoutes(app, deps);
  await registerMeteringRoutes(app, { ...deps, onUsageIngested: (result) => metrics.observeIngest(result) });
  await registerDashboardRoutes(app, deps);
  await registerCustomerApiRoutes(app, deps);
  await registerWebhookRoutes(app, { ...deps, webhookSecret: config.stripe.webhookSecret });
  await app.register(async (scope) => {
    // tRPC takes JSON only. Its adapter hands other bodies (multipart) over unread, so they would escape
    // the body limit and fail deep in tRPC; no procedure takes FormData, so they are refused up front.
    scope.addHook("onRequest", async (req) => {
      const type = req.headers["content-type"];
      if (req.method === "GET" || req.method === "HEAD" || type === undefined) return;
      if (/^application\/json\s*(;|$)/i.test(type)) return;
      throw new RestError(415, {
        error: "unsupported_media_type",
        message: "Send tRPC requests with Content-Type: application/json.",
      });
    });
    // A batch names its calls in the path (`/trpc/a,b,c?batch=1`, read as tRPC reads it): too many are
    // refused before any of them runs.
    scope.addHook("onRequest", async (req) => {
      if (new URLSearchParams(req.url.split("?")[1] ?? "").get("batch") !== "1") return;
      const calls = String((req.params as { path?: unknown }).path ?? "").split(",").length;
      if (calls <= MAX_TRPC_BATCH_CALLS) return;
      throw new RestError(400, {
        error: "batch_too_large",
        message: `A tRPC batch may hold at most ${MAX_TRPC_BATCH_CALLS} calls; this one has ${calls}. Send the others in further requests.`,
      });
    });
    scope.addHook("onRoute", (route) => {
      route.bodyLimit = TRPC_BODY_LIMIT;
    });
    // tRPC parses its input itself (the body, or ?input= of a query): the same limits as REST bodies,
    // and superjson that does not deserialize is refused here with a clear message (malformed meta sends
    // superjson into endless recursion or a TypeError, which tRPC would echo as the error message).
    scope.addHook("preHandler", async (req) => {
      const query = (req.query ?? {}) as Record<string, unknown>;
      for (const text of [req.body, query.input].flat()) {
        if (typeof text !== "string") continue;
        const problem = jsonTextProblem(text) ?? superjsonProblem(text, query.batch === "1");
        if (problem) throw new RestError(400, { error: "invalid_input", message: `The input ${problem}.` });
      }
    });
    await scope.register(fastifyTRPCPlugin, trpcOptions(deps, adminRouter, "/trpc/admin"));
    await scope.register(fastifyTRPCPlugin, trpcOptions(deps, appRouter, "/trpc"));
  });

  await registerSpas(app, config);
  return app;
}

/** Serves the built SPAs (production and browser tests): the customer app at /, the admin app at /admin/. */
async function registerSpas(app: FastifyInstance, config: Config): Promise<void> {
  const spas = [
    { dir: config.adminDistDir, prefix: "/admin/" },
    { dir: config.webDistDir, prefix: "/" },
  ].filter((spa): spa is { dir: string; prefix: string } => spa.dir !== undefined);
  for (const [index, spa] of spas.entries()) {
    if (!existsSync(join(spa.dir, "index.html"))) {
      throw new Error(`${spa.dir} has no index.html: build the SPA first (pnpm build)`);
    }
    await app.register(fastifyStatic, {
      root: spa.dir,
      prefix: spa.prefix,
      decorateReply: index === 0,
      wildcard: false,
      index: ["index.html"],
      // Vite names every built asset by its content hash: cache those for good, revalidate the rest
      // (index.html, favicon), so a deploy is picked up at the next load.
      cacheControl: false,
      setHeaders: (reply, file) => {
        reply.header(
          "cache-control",
          /[/\\]assets[/\\]/.test(file) ? "public, max-age=31536000, immutable" : "no-cache",
        );
      },
    });
  }
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split("?")[0] ?? "/";
    const isApi = path.startsWith("/api/") || path.startsWith("/trpc");
    const spa = spas.find((s) => path.startsWith(s.prefix) || `${path}/` === s.prefix);
    // A file that is not there (an asset of an older build, say) is a 404, not the app's page: a browser
    // asking for a script must not get HTML. Routes of the apps have no dot in their last segment.
    const isFile = /\.[A-Za-z0-9]+$/.test(path.slice(path.lastIndexOf("/") + 1));
    if (req.method !== "GET" || isApi || !spa || isFile) {
      return reply.code(404).send({ error: "not_found", message: `No route for ${req.method} ${path}` });
    }
    return reply.header("cache-control", "no-cache").type("text/html").sendFile("index.html", spa.dir);
  });
}
