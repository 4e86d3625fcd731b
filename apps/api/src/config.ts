// The only module that reads process.env. Everything else receives a validated Config.
import { z } from "zod";

const booleanFlag = z
  .enum(["true", "false", "1", "0"])
  .transform((value) => value === "true" || value === "1");

const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: z.coerce.number({ error: "must be a port number (0-65535)" }).int().min(0).max(65535).default(3000),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  DATABASE_URL: z
    .string({ error: "is required (a postgresql:// URL)" })
    .refine((value) => /^postgres(ql)?:\/\//.test(value), "must be a postgresql:// URL"),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /** Directory of the built customer SPA; served at / when set. */
  WEB_DIST_DIR: z.string().min(1).optional(),
  /** Directory of the built admin SPA; served at /admin/ when set. */
  ADMIN_DIST_DIR: z.string().min(1).optional(),
  TRUST_PROXY: booleanFlag.default(false),
  /** Signs session cookies. Required in production; development and tests fall back to a fixed dev secret. */
  SESSION_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  /** The URL browsers use to reach Minutely (the API and, in production, the SPAs it serves). */
  PUBLIC_URL: z.url({ error: "must be an absolute http(s) URL" }).optional(),
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
  /** inline: this process also runs background jobs (default); off: a separate `pnpm worker` does. */
  /** Give new Stripe customers a test clock (on by default against the emulator; test mode only). */
  STRIPE_TEST_CLOCKS: booleanFlag.optional(),
  WORKER_MODE: z.enum(["inline", "off"]).default("inline"),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(5),
});

const DEV_STRIPE_SECRET_KEY = "sk_test_minutely_dev";
const DEV_STRIPE_WEBHOOK_SECRET = "whsec_minutely_dev_webhook_secret";
const DEV_METERING_API_TOKEN = "dev-metering-token";
const DEV_STRIPE_API_BASE = "http://127.0.0.1:12111";

/** Variables that have development defaults but must be set explicitly in production. */
const REQUIRED_IN_PRODUCTION = [
  "SESSION_SECRET",
  "PUBLIC_URL",
  "STRIPE_SECRET_KEY",
  "STRIPE_WEBHOOK_SECRET",
  "METERING_API_TOKEN",
] as const;

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
  databaseUrl: string;
  databasePoolSize: number;
  webDistDir: string | undefined;
  adminDistDir: string | undefined;
  trustProxy: boolean;
  sessionSecret: string;
  publicUrl: string;
  trustedOrigins: string[];
  /** Secure (HTTPS-only) cookies: everywhere but local development and tests. */
  secureCookies: boolean;
  stripe: { secretKey: string; webhookSecret: string; apiBase: string | undefined; useTestClocks: boolean };
  meteringApiToken: string;
  worker: { mode: "inline" | "off"; concurrency: number };
}>;

export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/** Validates the environment; throws one ConfigError listing every missing or malformed variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`);
  if (env.NODE_ENV === "production") {
    for (const key of REQUIRED_IN_PRODUCTION)
      if (!env[key]) problems.push(`${key} is required in production`);
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT || 3000}`).replace(/\/$/, "");
  const extraOrigins = (e.TRUSTED_ORIGINS ?? "")
    .split(",")
    .map((origin) => origin.trim())
    .filter(Boolean);
  const trustedOrigins = [
    ...new Set([
      new URL(publicUrl).origin,
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
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    webDistDir: e.WEB_DIST_DIR,
    adminDistDir: e.ADMIN_DIST_DIR,
    trustProxy: e.TRUST_PROXY,
    sessionSecret: e.SESSION_SECRET ?? DEV_SESSION_SECRET,
    publicUrl,
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
    worker: { mode: e.WORKER_MODE, concurrency: e.WORKER_CONCURRENCY },
  };
}
