// The tRPC client of both SPAs: one factory, generic over the router type, so each app passes only the type
// of its router (`import type` from @minutely/api: no server code reaches a browser bundle, nor this package)
// and the path the API serves it at.
import { QueryClient } from "@tanstack/react-query";
import {
  createTRPCClient,
  httpBatchLink,
  httpSubscriptionLink,
  splitLink,
  TRPCClientError,
} from "@trpc/client";
import type { AnyTRPCRouter } from "@trpc/server";
import { createTRPCOptionsProxy } from "@trpc/tanstack-react-query";
import superjson from "superjson";

/** The HTTP status of a failed tRPC call, when the server answered. */
export function httpStatusOf(error: unknown): number | undefined {
  return error instanceof TRPCClientError
    ? (error.data as { httpStatus?: number } | undefined)?.httpStatus
    : undefined;
}

/** The query client of an SPA: which failures are worth another try, and how long data stays fresh. */
export function createQueryClient(): QueryClient {
  return new QueryClient({
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
        // Every mutation carries its intent's key (intent.ts), so resending one that may have reached the
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
}

/** A router whose procedures speak superjson (the API's routers do): dates and the like survive the wire. */
type SuperjsonRouter = AnyTRPCRouter & { _def: { _config: { $types: { transformer: true } } } };

/**
 * An SPA's tRPC set-up for the router served at `url` (superjson, batched over HTTP; subscriptions as
 * server-sent events): its query client, the TanStack Query options proxy (`trpc.x.y.queryOptions()`) and
 * the client itself (subscriptions: `client.live.usage.subscribe(...)`).
 */
export function createTrpc<TRouter extends SuperjsonRouter>(
  url: string,
  options: { headers?: () => Record<string, string> } = {},
) {
  const queryClient = createQueryClient();
  const trpcClient = createTRPCClient<TRouter>({
    // At most the server's MAX_TRPC_BATCH_CALLS (apps/server/src/server.ts) calls per request; more are split.
    // The link is typed for any router: the constraint on TRouter is what checks the transformer.
    links: [
      splitLink<AnyTRPCRouter>({
        condition: (op) => op.type === "subscription",
        true: httpSubscriptionLink({ url, transformer: superjson }),
        false: httpBatchLink<AnyTRPCRouter>({
          url,
          transformer: superjson,
          maxItems: 10,
          ...(options.headers ? { headers: options.headers } : {}),
        }),
      }),
    ],
  });
  const trpc = createTRPCOptionsProxy<TRouter>({ client: trpcClient, queryClient });
  return { queryClient, trpc, client: trpcClient };
}
