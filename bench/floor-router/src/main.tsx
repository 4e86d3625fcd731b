// The framework floor plus the router the SPAs use (wouter: a root with a link and one page): a second floor
// for the SPAs' first-route JavaScript, to show how much of their size is routing and how much their own.
import { QueryClient, QueryClientProvider, useQuery } from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import { createRoot } from "react-dom/client";
import superjson from "superjson";
import { Link, Route, Switch } from "wouter";

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

function Root() {
  return (
    <>
      <Link href="/">Home</Link>
      <Switch>
        <Route path="/" component={Home} />
      </Switch>
    </>
  );
}

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <QueryClientProvider client={queryClient}>
      <Root />
    </QueryClientProvider>,
  );
}
