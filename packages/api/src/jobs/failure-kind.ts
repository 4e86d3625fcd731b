// Why a background job failed: because something it depends on could not be reached (PostgreSQL, Stripe, the
// network), or because of the job itself (its payload, a bug, an answer Stripe gave on purpose). The worker
// retries the first kind without counting an attempt, with exponential backoff, for as long as the outage
// lasts; only the second kind uses up the job's attempts and can make it fail for good.
import { isDatabaseUnavailable } from "@minutely/db";
import Stripe from "stripe";
import { UpstreamUnavailableError } from "../errors.ts";

export type Dependency = "database" | "stripe" | "network";

export type FailureKind =
  | { kind: "infrastructure"; dependency: Dependency }
  /** The job's own error: counted as an attempt. */
  | { kind: "job" };

/** node-postgres's refusal to run a query on a pool that was shut down (a runner's pool after it died). */
const ENDED_POOL = /^Cannot use a pool after calling end on the pool/;
/** Socket errors of Node: the peer could not be reached or the connection broke. */
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

function stripeUnavailable(error: unknown): boolean {
  if (error instanceof UpstreamUnavailableError) return true;
  // The SDK's own errors, when a call did not go through the provider's translation: no answer (connection
  // refused, reset, timed out), Stripe's side failed (5xx) or it asked us to slow down (429).
  if (error instanceof Stripe.errors.StripeConnectionError) return true;
  if (error instanceof Stripe.errors.StripeRateLimitError) return true;
  if (error instanceof Stripe.errors.StripeAPIError) return true;
  if (error instanceof Stripe.errors.StripeError) {
    const status = error.statusCode ?? 0;
    return status === 429 || status >= 500;
  }
  return false;
}

/**
 * Classifies a job's failure. The error and its causes (up to 8 deep) are looked at; the first one that says
 * a dependency is unreachable makes the failure an infrastructure failure. Anything else (a refused request,
 * a constraint violated, a payload that does not parse, a plain bug) is the job's own.
 */
export function classifyFailure(error: unknown): FailureKind {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== null && typeof current === "object"; depth++) {
    if (stripeUnavailable(current)) return { kind: "infrastructure", dependency: "stripe" };
    const candidate = current as { code?: unknown; message?: unknown; syscall?: unknown; cause?: unknown };
    if (typeof candidate.message === "string" && ENDED_POOL.test(candidate.message)) {
      return { kind: "infrastructure", dependency: "database" };
    }
    if (typeof candidate.code === "string" && SOCKET_CODES.has(candidate.code)) {
      return { kind: "infrastructure", dependency: "network" };
    }
    current = candidate.cause;
  }
  // Prisma's, the driver adapter's and node-postgres's ways of saying PostgreSQL is unreachable (one place,
  // shared with the API's 503 answers).
  if (isDatabaseUnavailable(error)) return { kind: "infrastructure", dependency: "database" };
  return { kind: "job" };
}

/** Words for logs and the admin app: what could not be reached. */
export function dependencyName(dependency: Dependency): string {
  switch (dependency) {
    case "database":
      return "the database";
    case "stripe":
      return "Stripe";
    case "network":
      return "the network";
    default: {
      const unreachable: never = dependency;
      return unreachable;
    }
  }
}
