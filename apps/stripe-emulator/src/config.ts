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
