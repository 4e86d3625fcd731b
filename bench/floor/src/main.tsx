// The smallest app with the same foundation as the SPAs: React, React DOM, TanStack Query and the tRPC
// client with superjson. The SPAs' first-route JavaScript is compared against this floor.
import { QueryClient, QueryClientProvider, useQuery } from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import { createRoot } from "react-dom/client";
import superjson from "superjson";

const client = createTRPCClient({ links: [httpBatchLink({ url: "/trpc", transformer: superjson })] });
const queryClient = new QueryClient();

function App() {
  const status = useQuery({
    queryKey: ["status"],
    queryFn: () =>
      (client as unknown as { system: { status: { query(): Promise<unknown> } } }).system.status.query(),
  });
  return <p>{status.isSuccess ? "ok" : "…"}</p>;
}

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>,
  );
}
