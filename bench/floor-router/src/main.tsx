// The framework floor plus the router the SPAs use (TanStack Router: a root route, one page): a second floor
// for the SPAs' first-route JavaScript, to show how much of their size is routing and how much their own.
import { QueryClient, QueryClientProvider, useQuery } from "@tanstack/react-query";
import {
  createRootRoute,
  createRoute,
  createRouter,
  Link,
  Outlet,
  RouterProvider,
} from "@tanstack/react-router";
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import { createRoot } from "react-dom/client";
import superjson from "superjson";

const client = createTRPCClient({ links: [httpBatchLink({ url: "/trpc", transformer: superjson })] });
const queryClient = new QueryClient();

function Home() {
  const status = useQuery({
    queryKey: ["status"],
    queryFn: () =>
      (client as unknown as { system: { status: { query(): Promise<unknown> } } }).system.status.query(),
  });
  return <p>{status.isSuccess ? "ok" : "…"}</p>;
}

const rootRoute = createRootRoute({
  component: () => (
    <>
      <Link to="/">Home</Link>
      <Outlet />
    </>
  ),
});
const homeRoute = createRoute({ getParentRoute: () => rootRoute, path: "/", component: Home });
const router = createRouter({ routeTree: rootRoute.addChildren([homeRoute]) });

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
}
