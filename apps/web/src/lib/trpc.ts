import type { AppRouter } from "@minutely/api";
import { createTrpc } from "@minutely/ui";

export const { queryClient, trpc, client } = createTrpc<AppRouter>("/trpc");
