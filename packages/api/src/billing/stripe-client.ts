import Stripe from "stripe";

export interface StripeClientOptions {
  secretKey: string;
  /**
   * Where the Stripe API is, e.g. http://127.0.0.1:12111 for the project's emulator. Unset means real
   * Stripe. Only configuration decides: the code is the same either way.
   */
  apiBase?: string | undefined;
  /** Network retries the SDK makes itself (with idempotency keys, so retries never double-charge). */
  maxNetworkRetries?: number;
  timeoutMs?: number;
}

/** The official Stripe SDK, pointed at Stripe or at the emulator. */
export function createStripeClient(options: StripeClientOptions): Stripe {
  const base = options.apiBase ? new URL(options.apiBase) : undefined;
  const protocol = base?.protocol === "http:" ? "http" : "https";
  return new Stripe(options.secretKey, {
    maxNetworkRetries: options.maxNetworkRetries ?? 2,
    timeout: options.timeoutMs ?? 20_000,
    appInfo: { name: "Minutely" },
    telemetry: false,
    ...(base
      ? {
          host: base.hostname,
          port: base.port ? Number(base.port) : protocol === "http" ? 80 : 443,
          protocol,
        }
      : {}),
  });
}

/** True when the client talks to something other than api.stripe.com (the emulator). */
export function usesEmulator(apiBase: string | undefined): boolean {
  return apiBase !== undefined && new URL(apiBase).hostname !== "api.stripe.com";
}
