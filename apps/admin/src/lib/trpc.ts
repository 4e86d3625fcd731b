import type { AdminRouter } from "@minutely/api";
import { QueryClient } from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { createTRPCOptionsProxy } from "@trpc/tanstack-react-query";
import superjson from "superjson";

/** The HTTP status of a failed tRPC call, when the server answered. */
export function httpStatusOf(error: unknown): number | undefined {
  return error instanceof TRPCClientError
    ? (error.data as { httpStatus?: number } | undefined)?.httpStatus
    : undefined;
}

/** The server's per-field messages (`data.fieldErrors`: zod issues and AppErrors naming a field). */
export function fieldErrorsOf(error: unknown): Record<string, string> {
  if (!(error instanceof TRPCClientError)) return {};
  const fieldErrors = (error.data as { fieldErrors?: unknown } | undefined)?.fieldErrors;
  if (typeof fieldErrors !== "object" || fieldErrors === null) return {};
  return Object.fromEntries(
    Object.entries(fieldErrors).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  );
}

/** A sentence for an error banner: the server's message, or a connection problem. */
export function messageOf(error: unknown): string {
  if (error instanceof TRPCClientError && error.data) {
    // Input validation errors carry per-field messages; their own message is zod's JSON.
    const fields = Object.entries(fieldErrorsOf(error));
    if (fields.length > 0 && (error.data as { code?: string }).code === "BAD_REQUEST") {
      return fields.map(([field, message]) => `${field}: ${message}`).join("; ");
    }
    return error.message;
  }
  return "Could not reach Minutely. Check your connection and try again.";
}

export type AdminOutputs = inferRouterOutputs<AdminRouter>;
export type AdminInputs = inferRouterInputs<AdminRouter>;
/** A package as the admin list returns it: every field, its Stripe prices and subscriber counts. */
export type AdminPackage = AdminOutputs["packages"]["list"][number];
export type PackageInput = AdminInputs["packages"]["create"];

export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 15_000,
      // Client errors (4xx) are answers, not glitches: retrying them only delays the message.
      retry: (failureCount, error) => {
        const status = httpStatusOf(error);
        return status !== undefined && status < 500 ? false : failureCount < 2;
      },
    },
    mutations: {
      // Every mutation carries its intent's key (lib/intent.ts), so resending one that may have reached the
      // server is safe: the server answers a repeat with the first answer. Only a lost connection or an
      // unavailable server is retried; every other answer is final.
      retry: (failureCount, error) => {
        const status = httpStatusOf(error);
        return (
          (status === undefined || status === 502 || status === 503 || status === 504) && failureCount < 2
        );
      },
    },
  },
});

export const trpcClient = createTRPCClient<AdminRouter>({
  // At most the server's MAX_TRPC_BATCH_CALLS (apps/api/src/server.ts) calls per request; more are split.
  links: [httpBatchLink({ url: "/trpc/admin", transformer: superjson, maxItems: 10 })],
});

export const trpc = createTRPCOptionsProxy<AdminRouter>({ client: trpcClient, queryClient });
