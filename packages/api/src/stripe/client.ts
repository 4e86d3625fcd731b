import Stripe from "stripe";

export interface StripeClientOptions {
  secretKey: string;
  /**
   * Where the Stripe API is, e.g. http://127.0.0.1:12111 for the project's emulator. Unset means real
   * Stripe. Only configuration decides: the code is the same either way.
   */
  apiBase?: string | undefined;
  /**
   * Retries the SDK makes itself on connection errors, timeouts, 409 and 5xx (not 429: Stripe did not run
   * those). Each retry resends the same Idempotency-Key (ours, or one the SDK makes per POST), so Stripe
   * replays a request whose answer was lost instead of running it twice. Default 2.
   */
  maxNetworkRetries?: number;
  /** Per attempt: a call that keeps hanging fails after about (retries + 1) × this. Default 20 s. */
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
