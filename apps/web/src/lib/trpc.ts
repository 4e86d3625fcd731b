import type { AppRouter } from "@minutely/api";
import { QueryClient } from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";
import { createTRPCOptionsProxy } from "@trpc/tanstack-react-query";
import superjson from "superjson";

/** The HTTP status of a failed tRPC call, when the server answered. */
export function httpStatusOf(error: unknown): number | undefined {
  return error instanceof TRPCClientError
    ? (error.data as { httpStatus?: number } | undefined)?.httpStatus
    : undefined;
}

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

export const trpcClient = createTRPCClient<AppRouter>({
  // At most the server's MAX_TRPC_BATCH_CALLS (apps/api/src/server.ts) calls per request; more are split.
  links: [httpBatchLink({ url: "/trpc", transformer: superjson, maxItems: 10 })],
});

export const trpc = createTRPCOptionsProxy<AppRouter>({ client: trpcClient, queryClient });
