import { TRPCError } from "@trpc/server";

/**
 * The one error type services throw. It is mapped once to a tRPC error (procedures) and once to an
 * HTTP status (REST routes); a field, when given, names the input that was wrong.
 */
export type AppErrorCode =
  | "BAD_REQUEST"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "CONFLICT"
  | "PAYMENT_REQUIRED"
  | "PRECONDITION_FAILED"
  | "TOO_MANY_REQUESTS"
  | "UPSTREAM_UNAVAILABLE";

export class AppError extends Error {
  override name = "AppError";
  constructor(
    readonly code: AppErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export function httpStatusOf(code: AppErrorCode): number {
  switch (code) {
    case "BAD_REQUEST":
      return 400;
    case "UNAUTHORIZED":
      return 401;
    case "PAYMENT_REQUIRED":
      return 402;
    case "FORBIDDEN":
      return 403;
    case "NOT_FOUND":
      return 404;
    case "CONFLICT":
      return 409;
    case "PRECONDITION_FAILED":
      return 412;
    case "TOO_MANY_REQUESTS":
      return 429;
    case "UPSTREAM_UNAVAILABLE":
      return 503;
    default: {
      const unreachable: never = code;
      return unreachable;
    }
  }
}

function trpcCodeOf(code: AppErrorCode): TRPCError["code"] {
  switch (code) {
    case "PAYMENT_REQUIRED":
      return "PAYMENT_REQUIRED";
    case "UPSTREAM_UNAVAILABLE":
      return "SERVICE_UNAVAILABLE";
    default:
      return code;
  }
}

export function toTRPCError(error: AppError): TRPCError {
  return new TRPCError({ code: trpcCodeOf(error.code), message: error.message, cause: error });
}

/**
 * An upstream service (Stripe) failed on its side or could not be reached: the caller did nothing wrong
 * and may retry. `retryAfterSeconds` is a hint for a Retry-After header; `cause` keeps the original error
 * for logs, while the message stays fit for people (no ids, codes or hosts).
 */
export class UpstreamUnavailableError extends AppError {
  override name = "UpstreamUnavailableError";
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    options: { cause?: unknown } = {},
  ) {
    super("UPSTREAM_UNAVAILABLE", message);
    if (options.cause !== undefined) this.cause = options.cause;
  }
}

/**
 * The answer to a request that needs PostgreSQL while it cannot be reached (restarting, failing over): a
 * 503 with Retry-After in REST and tRPC alike, since the caller did nothing wrong and the same request will
 * work again shortly. The pool reconnects by itself.
 */
export const DATABASE_UNAVAILABLE = {
  retryAfterSeconds: 5,
  body: {
    error: "service_unavailable",
    message: "Minutely cannot reach its database right now. Please try again in a few seconds.",
  },
} as const;
