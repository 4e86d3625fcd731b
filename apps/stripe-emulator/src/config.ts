import type { WebhookRetryOptions } from "./webhooks.ts";

/** The SDK's connection settings (`host`/`port`/`protocol`) parsed from `STRIPE_API_BASE`. */
export interface StripeConnection {
  host: string;
  port: number;
  protocol: "http" | "https";
}

/**
 * `STRIPE_API_BASE=http://127.0.0.1:12111` → `{ host: "127.0.0.1", port: 12111, protocol: "http" }`.
 * Unset or empty means real Stripe (returns undefined: use the SDK defaults).
 */
export function parseStripeApiBase(value: string | undefined): StripeConnection | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const url = new URL(value.trim());
  const protocol = url.protocol === "https:" ? "https" : url.protocol === "http:" ? "http" : undefined;
  if (!protocol) throw new Error(`STRIPE_API_BASE must be an http(s) URL, got ${value}`);
  const port = url.port ? Number(url.port) : protocol === "https" ? 443 : 80;
  return { host: url.hostname.replace(/^\[|\]$/g, ""), port, protocol };
}

/** Environment variables that tune webhook retries (tests shorten them; the defaults follow Stripe's spirit). */
const RETRY_ENV = {
  STRIPE_EMULATOR_WEBHOOK_MAX_ATTEMPTS: "maxAttempts",
  STRIPE_EMULATOR_WEBHOOK_RETRY_BASE_MS: "baseDelayMs",
  STRIPE_EMULATOR_WEBHOOK_RETRY_MAX_MS: "maxDelayMs",
  STRIPE_EMULATOR_WEBHOOK_TIMEOUT_MS: "timeoutMs",
} as const satisfies Record<string, keyof WebhookRetryOptions>;

/**
 * The webhook retry policy set in the environment (only the variables present), or undefined when none is:
 * `STRIPE_EMULATOR_WEBHOOK_RETRY_BASE_MS=200` makes a crash test's redeliveries arrive within seconds.
 */
export function webhookRetryFromEnv(
  env: Record<string, string | undefined>,
): Partial<WebhookRetryOptions> | undefined {
  const retry: Partial<WebhookRetryOptions> = {};
  for (const [name, key] of Object.entries(RETRY_ENV)) {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === "") continue;
    const value = Number(raw);
    const min = key === "maxAttempts" ? 1 : 0;
    if (!Number.isInteger(value) || value < min) {
      throw new Error(`${name} must be an integer of at least ${min}, got ${raw}`);
    }
    retry[key] = value;
  }
  return Object.keys(retry).length > 0 ? retry : undefined;
}
