// The only module that reads process.env. Everything else receives a validated Config.
import { existsSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import { z } from "zod";
import { DEFAULT_ADMIN_DIST_DIR, DEFAULT_MIGRATIONS_DIR, DEFAULT_WEB_DIST_DIR } from "./paths.ts";

const booleanFlag = z
  .enum(["true", "false", "1", "0"])
  .transform((value) => value === "true" || value === "1");

const port = z.coerce
  .number({ error: "must be a port number (0-65535)" })
  .int("must be a port number (0-65535)")
  .min(0, "must be a port number (0-65535)")
  .max(65535, "must be a port number (0-65535)");

/** Names proxy-addr (Fastify's trustProxy) understands besides addresses and CIDR ranges. */
const PROXY_RANGE_NAMES = new Set(["loopback", "linklocal", "uniquelocal"]);

function isProxyAddress(entry: string): boolean {
  if (PROXY_RANGE_NAMES.has(entry)) return true;
  const [address, prefix, ...rest] = entry.split("/");
  if (rest.length > 0 || !address) return false;
  const version = isIP(address);
  if (version === 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128);
}

/**
 * TRUST_PROXY: "true" trusts X-Forwarded-* from any peer (only when nothing but the load balancer can reach
 * the process); a comma-separated list of addresses / CIDR ranges trusts only those proxies.
 */
const trustProxy = z.string().transform((value, ctx): boolean | string[] => {
  const normalized = value.trim().toLowerCase();
  if (normalized === "" || normalized === "false" || normalized === "0") return false;
  if (normalized === "true" || normalized === "1") return true;
  const entries = value
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  const invalid = entries.filter((entry) => !isProxyAddress(entry));
  if (invalid.length > 0) {
    ctx.addIssue({
      code: "custom",
      message: `must be true, false or comma-separated proxy addresses / CIDR ranges (not ${invalid.join(", ")})`,
    });
    return z.NEVER;
  }
  return entries;
});

const smtpUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === "smtp:" || url.protocol === "smtps:") && url.hostname !== "";
  } catch {
    return false;
  }
}, "must be an smtp:// or smtps:// URL such as smtps://user:password@smtp.example.com:465");

const ADDRESS = String.raw`[^\s<>@"]+@[^\s<>@"]+\.[^\s<>@"]+`;
const mailFrom = z
  .string()
  .regex(
    new RegExp(`^(?:${ADDRESS}|[^<>@]+<${ADDRESS}>)$`),
    'must be an address such as billing@example.com or "Minutely <billing@example.com>"',
  );

const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: port.default(3000),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** json: one JSON object a line (production, tests); pretty: short coloured lines (development default). */
  LOG_FORMAT: z.enum(["json", "pretty"]).optional(),
  DATABASE_URL: z
    .string({ error: "is required (a postgresql:// URL)" })
    .refine((value) => /^postgres(ql)?:\/\//.test(value), "must be a postgresql:// URL"),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /** Directory of the built customer SPA; served at /. Production defaults to apps/web/dist. */
  WEB_DIST_DIR: z.string().min(1).optional(),
  /** Directory of the built admin SPA; served at /admin/. Production defaults to apps/admin/dist. */
  ADMIN_DIST_DIR: z.string().min(1).optional(),
  TRUST_PROXY: trustProxy.default(false),
  /** Signs session cookies. Required in production; development and tests fall back to a fixed dev secret. */
  SESSION_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  /** The URL browsers use to reach Minutely (the API and, in production, the SPAs it serves). */
  PUBLIC_URL: z.url({ error: "must be an absolute http(s) URL" }).optional(),
  /**
   * Where customers' browsers reach the customer app, when that is not PUBLIC_URL: Stripe's hosted pages
   * return there. `pnpm dev` sets it to the Vite server (http://localhost:5173); in production the API
   * serves the SPAs at PUBLIC_URL, which is the default.
   */
  APP_URL: z.url({ error: "must be an absolute http(s) URL" }).optional(),
  /** Extra origins allowed to make cookie-authenticated changes, comma-separated (the dev SPAs by default). */
  TRUSTED_ORIGINS: z.string().optional(),
  /** Stripe secret key: sk_test_... (any works against the emulator) or a live key in production. */
  STRIPE_SECRET_KEY: z
    .string()
    .regex(/^(sk|rk)_(test|live)_\w+$/, "must look like sk_test_... or sk_live_...")
    .optional(),
  /** Signing secret of the Stripe webhook endpoint (whsec_...). */
  STRIPE_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_\w+$/, "must look like whsec_...")
    .optional(),
  /** Base URL of a Stripe-compatible API (the emulator, http://127.0.0.1:12111). Unset means real Stripe. */
  STRIPE_API_BASE: z.url({ error: "must be an absolute URL such as http://127.0.0.1:12111" }).optional(),
  /** Service token the calling platform uses for the metering API. */
  METERING_API_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  /**
   * Bearer token Prometheus sends to scrape the API's /metrics (`Authorization: Bearer <token>`). Required
   * in production; elsewhere /metrics is open unless it is set. The worker's /metrics is on WORKER_PORT.
   */
  METRICS_TOKEN: z.string().min(32, "must be at least 32 characters").optional(),
  /** Give new Stripe customers a test clock (on by default against the emulator; test mode only). */
  STRIPE_TEST_CLOCKS: booleanFlag.optional(),
  /** SMTP server for outgoing mail. Required in production; without it mail is only stored (mail_message). */
  SMTP_URL: smtpUrl.optional(),
  /** Sender of outgoing mail. Required in production. */
  MAIL_FROM: mailFrom.optional(),
  /**
   * Buying a package (subscribe, upgrade) needs a verified email address. On by default, except with
   * NODE_ENV=test (test fixtures sign up without a mailbox); unverified users can use everything else.
   */
  REQUIRE_VERIFIED_EMAIL_TO_BUY: booleanFlag.optional(),
  /** inline: this process also runs background jobs (default); off: a separate `pnpm worker` does. */
  WORKER_MODE: z.enum(["inline", "off"]).default("inline"),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(5),
  /** Port of the worker process's own HTTP server (/health/live, /health/ready, /metrics). */
  WORKER_PORT: port.default(3001),
  /** Live usage (tRPC subscriptions): open streams of one user on one replica; more are refused (the app polls). */
  LIVE_MAX_STREAMS_PER_USER: z.coerce.number().int().min(1).max(100).default(5),
  /** Open live streams on one replica; more are refused (those apps poll). */
  LIVE_MAX_STREAMS: z.coerce.number().int().min(0).max(100_000).default(2_000),
  /** A live stream that heard of no change for this long is closed (the app polls until the user is back). */
  LIVE_IDLE_TIMEOUT_SECONDS: z.coerce.number().int().min(5).max(86_400).default(900),
  /** On SIGTERM, answer /health/ready with 503 for this long before closing, so load balancers drain. */
  SHUTDOWN_DRAIN_SECONDS: z.coerce
    .number({ error: "must be a number of seconds" })
    .min(0, "must not be negative")
    .max(300, "must be at most 300")
    .default(0),
});

const DEV_STRIPE_SECRET_KEY = "sk_test_minutely_dev";
const DEV_STRIPE_WEBHOOK_SECRET = "whsec_minutely_dev_webhook_secret";
const DEV_METERING_API_TOKEN = "dev-metering-token";
const DEV_STRIPE_API_BASE = "http://127.0.0.1:12111";
const DEV_MAIL_FROM = "Minutely <minutely@localhost>";

/** Which process is starting: the API server (`pnpm start`) or the background worker (`pnpm worker`). */
export type ProcessRole = "api" | "worker";

/** Variables that have development defaults (or are optional) but must be set explicitly in production. */
const REQUIRED_IN_PRODUCTION: Record<ProcessRole, readonly string[]> = {
  api: [
    "SESSION_SECRET",
    "PUBLIC_URL",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "METERING_API_TOKEN",
    "METRICS_TOKEN",
    "SMTP_URL",
    "MAIL_FROM",
  ],
  worker: ["STRIPE_SECRET_KEY", "SMTP_URL", "MAIL_FROM"],
};

const DEV_SESSION_SECRET = "minutely-development-session-secret-not-for-production";
const DEV_ORIGINS = [
  "http://localhost:5173",
  "http://localhost:5174",
  "http://127.0.0.1:5173",
  "http://127.0.0.1:5174",
];

export type Config = Readonly<{
  env: "development" | "test" | "production";
  host: string;
  port: number;
  logLevel: z.infer<typeof EnvSchema>["LOG_LEVEL"];
  logFormat: "json" | "pretty";
  databaseUrl: string;
  databasePoolSize: number;
  webDistDir: string | undefined;
  adminDistDir: string | undefined;
  /** The migrations folder: /health/ready reports not ready while any of them is missing from the database. */
  migrationsDir: string;
  /** Fastify's trustProxy: trust X-Forwarded-* from every peer, none, or these addresses / ranges. */
  trustProxy: boolean | string[];
  sessionSecret: string;
  publicUrl: string;
  /** The customer app's address (APP_URL, else PUBLIC_URL): Checkout's success and cancel pages. */
  appUrl: string;
  trustedOrigins: string[];
  /** Secure (HTTPS-only) cookies: everywhere but local development and tests. */
  secureCookies: boolean;
  stripe: { secretKey: string; webhookSecret: string; apiBase: string | undefined; useTestClocks: boolean };
  meteringApiToken: string;
  /** Bearer token of the API's /metrics; undefined (open /metrics) only outside production. */
  metricsToken: string | undefined;
  /** Outgoing mail over SMTP; undefined outside production when SMTP_URL is unset (mail is only stored). */
  smtp: { url: string; from: string } | undefined;
  /** Subscribe and upgrade refuse users whose email address is not verified. */
  requireVerifiedEmailToBuy: boolean;
  worker: { mode: "inline" | "off"; concurrency: number; port: number };
  shutdownDrainMs: number;
  /** Live usage limits per replica (LIVE_*); maxStreamsPerReplica 0 turns live updates off (the apps poll). */
  live: { maxStreamsPerUser: number; maxStreamsPerReplica: number; idleTimeoutMs: number };
}>;

export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(
      `Invalid configuration (${problems.length} ${problems.length === 1 ? "problem" : "problems"}):\n` +
        `${problems.map((p) => `  - ${p}`).join("\n")}\n` +
        "Every variable is described in .env.example.",
    );
  }
}

export interface LoadConfigOptions {
  /** The API server (default) or the worker process: they need different variables in production. */
  role?: ProcessRole;
  /** Checks that a built file exists (tests pass their own). */
  fileExists?: (path: string) => boolean;
}

/** Validates the environment; throws one ConfigError listing every missing or malformed variable. */
export function loadConfig(
  environment: Record<string, string | undefined> = process.env,
  options: LoadConfigOptions = {},
): Config {
  // An empty variable (`SESSION_SECRET=` in an env file) counts as unset.
  const env = Object.fromEntries(
    Object.entries(environment).filter(([, value]) => value !== undefined && value.trim() !== ""),
  );
  const role = options.role ?? "api";
  const fileExists = options.fileExists ?? existsSync;
  const production = env.NODE_ENV === "production";
  const parsed = EnvSchema.safeParse(env);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`);
  if (production) {
    for (const key of REQUIRED_IN_PRODUCTION[role])
      if (!env[key]) problems.push(`${key} is required in production`);
    if (env.PUBLIC_URL?.startsWith("http://")) {
      problems.push("PUBLIC_URL must be an https:// URL in production (session cookies are Secure)");
    }
    if (env.APP_URL?.startsWith("http://")) {
      problems.push("APP_URL must be an https:// URL in production");
    }
  }
  // Production serves the built SPAs; they default to the build output of `pnpm build`.
  const webDistDir = env.WEB_DIST_DIR || (production && role === "api" ? DEFAULT_WEB_DIST_DIR : undefined);
  const adminDistDir =
    env.ADMIN_DIST_DIR || (production && role === "api" ? DEFAULT_ADMIN_DIST_DIR : undefined);
  if (role === "api") {
    for (const [key, dir, app] of [
      ["WEB_DIST_DIR", webDistDir, "customer app"],
      ["ADMIN_DIST_DIR", adminDistDir, "admin app"],
    ] as const) {
      if (dir !== undefined && !fileExists(join(dir, "index.html"))) {
        problems.push(
          `${key}: ${dir} has no index.html (run \`pnpm build\`, or point ${key} at the built ${app})`,
        );
      }
    }
  }
  if (production && !fileExists(DEFAULT_MIGRATIONS_DIR)) {
    problems.push(
      `${DEFAULT_MIGRATIONS_DIR} is missing: deploy the whole repository, not only apps/server/dist`,
    );
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT || 3000}`).replace(/\/$/, "");
  const appUrl = (e.APP_URL ?? publicUrl).replace(/\/$/, "");
  const extraOrigins = (e.TRUSTED_ORIGINS ?? "")
    .split(",")
    .map((origin) => origin.trim())
    .filter(Boolean);
  const trustedOrigins = [
    ...new Set([
      new URL(publicUrl).origin,
      new URL(appUrl).origin,
      ...extraOrigins,
      ...(e.NODE_ENV === "production" ? [] : DEV_ORIGINS),
    ]),
  ];
  const stripeApiBase =
    e.STRIPE_API_BASE ??
    (e.NODE_ENV !== "production" && !e.STRIPE_SECRET_KEY ? DEV_STRIPE_API_BASE : undefined);
  const stripeKey = e.STRIPE_SECRET_KEY ?? DEV_STRIPE_SECRET_KEY;
  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT ?? (e.NODE_ENV === "development" ? "pretty" : "json"),
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    webDistDir,
    adminDistDir,
    migrationsDir: DEFAULT_MIGRATIONS_DIR,
    trustProxy: e.TRUST_PROXY,
    sessionSecret: e.SESSION_SECRET ?? DEV_SESSION_SECRET,
    publicUrl,
    appUrl,
    trustedOrigins,
    secureCookies: e.NODE_ENV === "production" || publicUrl.startsWith("https://"),
    stripe: {
      secretKey: stripeKey,
      webhookSecret: e.STRIPE_WEBHOOK_SECRET ?? DEV_STRIPE_WEBHOOK_SECRET,
      // Outside production, no key means the project's Stripe emulator on its default port.
      apiBase: stripeApiBase,
      // Test clocks exist only in test mode; by default they are used against the emulator.
      useTestClocks: stripeKey.includes("_test_") && (e.STRIPE_TEST_CLOCKS ?? stripeApiBase !== undefined),
    },
    meteringApiToken: e.METERING_API_TOKEN ?? DEV_METERING_API_TOKEN,
    metricsToken: e.METRICS_TOKEN,
    smtp: e.SMTP_URL ? { url: e.SMTP_URL, from: e.MAIL_FROM ?? DEV_MAIL_FROM } : undefined,
    requireVerifiedEmailToBuy: e.REQUIRE_VERIFIED_EMAIL_TO_BUY ?? e.NODE_ENV !== "test",
    worker: { mode: e.WORKER_MODE, concurrency: e.WORKER_CONCURRENCY, port: e.WORKER_PORT },
    shutdownDrainMs: Math.round(e.SHUTDOWN_DRAIN_SECONDS * 1000),
    live: {
      maxStreamsPerUser: e.LIVE_MAX_STREAMS_PER_USER,
      maxStreamsPerReplica: e.LIVE_MAX_STREAMS,
      idleTimeoutMs: e.LIVE_IDLE_TIMEOUT_SECONDS * 1000,
    },
  };
}

/** For entry points: the configuration, or the list of problems on stderr and exit code 78 (EX_CONFIG). */
export function loadConfigOrExit(role: ProcessRole): Config {
  try {
    return loadConfig(process.env, { role });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78);
    }
    throw error;
  }
}
