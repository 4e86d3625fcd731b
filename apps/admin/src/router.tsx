import type { LiveAdminMessage } from "@minutely/api";
import {
  AfterDelay,
  type AppRoutes,
  Banner,
  Button,
  Card,
  EmulatorBanner,
  Guard,
  href,
  httpStatusOf,
  Link,
  LiveUpdates,
  Navigate,
  PageFrame,
  Routes,
  type SearchOf,
  Spinner,
  signOut,
  useHere,
  useMatch,
  useNavigate,
  usePathname,
  useScrollToTopOnNavigation,
  useSearch,
} from "@minutely/ui";
import { useQuery } from "@tanstack/react-query";
import { type ComponentType, Fragment, type ReactNode, useEffect } from "react";
import { Router } from "wouter";
import { useDocumentTitle } from "./lib/document-title.ts";
import { client, queryClient, trpc } from "./lib/trpc.ts";
import { type Path, PUBLIC_PATHS, ROUTES } from "./routing.ts";

// The paths, their search validation and their pages' code (loaded on demand, preloaded when a link to
// them is hovered or focused) are in routing.ts. A page whose code (or the session check) takes longer than
// 200 ms shows PendingPage in its place.

/** Shown in the page's place while the session check or the page's code takes longer than 200 ms. */
function PendingPage() {
  return (
    <AfterDelay ms={200}>
      <div className="flex justify-center py-12">
        <Spinner label="Loading" />
      </div>
    </AfterDelay>
  );
}

const meQuery = trpc.session.me.queryOptions();

type Access = { kind: "admin"; email: string } | { kind: "signed-out" } | { kind: "forbidden" };

/** Signed out -> sign-in page; signed in without the admin role -> a clear refusal. */
async function checkAccess(): Promise<Access> {
  try {
    // Asked again on each navigation (never the cached answer): a session ended in another tab, or a role
    // taken away, is noticed.
    const me = await queryClient.fetchQuery({ ...meQuery, staleTime: 0 });
    return { kind: "admin", email: me.user.email };
  } catch (error) {
    const status = httpStatusOf(error);
    if (status === 401) return { kind: "signed-out" };
    if (status === 403) return { kind: "forbidden" };
    throw error;
  }
}

function useSignOut() {
  const navigate = useNavigate();
  return async () => {
    await signOut();
    queryClient.clear();
    await navigate({ to: "/sign-in", search: {} });
  };
}

const NAV = [
  { to: "/packages", label: "Packages" },
  { to: "/coupons", label: "Coupons" },
  { to: "/minute-packs", label: "Minute packs" },
  { to: "/customers", label: "Customers" },
  { to: "/revenue", label: "Revenue" },
  { to: "/usage", label: "Usage" },
  { to: "/webhooks", label: "Webhooks" },
  { to: "/jobs", label: "Failed jobs" },
  { to: "/audit", label: "Audit log" },
] as const;

const navLink =
  "rounded-md px-2.5 py-1.5 text-sm whitespace-nowrap text-slate-300 hover:bg-slate-800 hover:text-white [&.active]:bg-slate-800 [&.active]:font-semibold [&.active]:text-white";

/**
 * What the admin app re-reads live: the webhook log when Stripe events arrive or are processed, the usage
 * page and customers when any account's minutes, reservations or alerts change, the outbox when an alert
 * is mailed (at most once a second).
 */
function liveRefresh(message: LiveAdminMessage | null) {
  const kinds = message?.status === "live" ? message.kinds : ["webhook", "usage", "alert"];
  return [
    ...(kinds.includes("webhook") ? [trpc.webhooks.pathFilter()] : []),
    ...(kinds.some((k) => k !== "webhook") ? [trpc.usage.pathFilter(), trpc.customers.pathFilter()] : []),
    // An alert's mail is marked on the alert once it is in the outbox.
    ...(kinds.includes("alert") ? [trpc.mail.pathFilter()] : []),
  ];
}

function Layout() {
  const me = useQuery({ ...meQuery, retry: false });
  const doSignOut = useSignOut();
  const pathname = usePathname();
  useScrollToTopOnNavigation();
  const signedIn = me.data !== undefined;
  // On a phone the nav scrolls sideways: keep the current page's link in view.
  useEffect(() => {
    if (!signedIn || !pathname) return;
    const current = document.querySelector('nav[aria-label="Admin"] a[aria-current="page"]');
    current?.scrollIntoView({ block: "nearest", inline: "nearest" });
  }, [pathname, signedIn]);
  return (
    <div className="min-h-screen">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2 focus:text-sm focus:text-slate-900"
      >
        Skip to content
      </a>
      {me.data?.stripeEmulator ? <EmulatorBanner /> : null}
      <header className="bg-slate-900 text-white">
        <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3">
          <Link to="/" className="text-lg font-bold">
            Minutely Admin
          </Link>
          {me.data ? (
            <div className="ml-auto flex min-w-0 items-center gap-3">
              <span className="hidden truncate text-sm text-slate-300 sm:inline">{me.data.user.email}</span>
              <Button variant="secondary" onClick={doSignOut}>
                Sign out
              </Button>
            </div>
          ) : null}
        </div>
        {me.data ? (
          <nav aria-label="Admin" className="mx-auto max-w-7xl px-2 pb-2 sm:px-3">
            {/* On a phone the links scroll sideways in their own row. */}
            <ul className="flex gap-1 overflow-x-auto">
              {NAV.map((item) => (
                <li key={item.to}>
                  <Link to={item.to} className={navLink}>
                    {item.label}
                  </Link>
                </li>
              ))}
              {me.data.stripeEmulator ? (
                <li>
                  <Link to="/billing-clock" className={navLink}>
                    Billing clock
                  </Link>
                </li>
              ) : null}
            </ul>
          </nav>
        ) : null}
      </header>
      <main id="main" className="mx-auto max-w-7xl px-4 py-6 sm:py-8">
        {me.data ? (
          <LiveUpdates<LiveAdminMessage>
            subscribe={(lastEventId, handlers) =>
              client.live.events.subscribe(lastEventId ? { lastEventId } : undefined, handlers)
            }
            refresh={liveRefresh}
            minRefreshMs={1_000}
          >
            <CurrentPage />
          </LiveUpdates>
        ) : (
          <CurrentPage />
        )}
      </main>
    </div>
  );
}

function ForbiddenPage() {
  useDocumentTitle("Admins only");
  const doSignOut = useSignOut();
  return (
    <Card className="mx-auto mt-12 max-w-md">
      <h1 className="mb-3 text-xl font-bold">Admins only</h1>
      <Banner tone="danger">
        <p>
          You are signed in, but this account does not have the admin role, so the admin app is not available
          to it.
        </p>
      </Banner>
      <Button className="mt-4" variant="secondary" onClick={doSignOut}>
        Sign in as someone else
      </Button>
    </Card>
  );
}

/** Admins only: signed-out visitors go to sign-in (and come back, filters included), others to /forbidden. */
function AdminOnly({ children }: { children: ReactNode }) {
  const here = useHere();
  return (
    <Guard
      pending={<PendingPage />}
      check={async () => {
        const access = await checkAccess();
        // The page and its filters (the query string) come back after signing in.
        if (access.kind === "signed-out") return href({ to: "/sign-in", search: { redirect: here } });
        if (access.kind === "forbidden") return href({ to: "/forbidden" });
        return null;
      }}
    >
      {children}
    </Guard>
  );
}

type FilteredPath =
  | "/customers"
  | "/revenue"
  | "/usage"
  | "/webhooks"
  | "/jobs"
  | "/audit"
  | "/billing-clock";

/** A list page whose filters live in the URL: it reads them and replaces them as they change. */
function Filtered<P extends FilteredPath>({
  path,
  page: Page,
}: {
  path: P;
  page: ComponentType<{ search: SearchOf<AppRoutes, P>; onSearch: (next: SearchOf<AppRoutes, P>) => void }>;
}) {
  const search = useSearch(path);
  const navigate = useNavigate();
  return (
    <Page search={search} onSearch={(next) => navigate({ to: path, search: next, replace: true } as never)} />
  );
}

/** The page of a path of the table, with its params. */
function pageOf(path: Path, params: Record<string, string>): ReactNode {
  switch (path) {
    case "/":
      return <Navigate to="/packages" replace />;
    case "/forbidden":
      return <ForbiddenPage />;
    case "/packages/:id": {
      const EditPackage = ROUTES[path].page;
      return <EditPackage key={params.id} id={params.id ?? ""} />;
    }
    case "/customers/:accountId": {
      const CustomerDetail = ROUTES[path].page;
      return <CustomerDetail key={params.accountId} accountId={params.accountId ?? ""} />;
    }
    case "/webhooks/:eventId": {
      const WebhookEvent = ROUTES[path].page;
      return <WebhookEvent key={params.eventId} eventId={params.eventId ?? ""} />;
    }
    case "/customers":
      return <Filtered path={path} page={ROUTES[path].page} />;
    case "/revenue":
      return <Filtered path={path} page={ROUTES[path].page} />;
    case "/usage":
      return <Filtered path={path} page={ROUTES[path].page} />;
    case "/webhooks":
      return <Filtered path={path} page={ROUTES[path].page} />;
    case "/jobs":
      return <Filtered path={path} page={ROUTES[path].page} />;
    case "/audit":
      return <Filtered path={path} page={ROUTES[path].page} />;
    case "/billing-clock":
      return <Filtered path={path} page={ROUTES[path].page} />;
    default: {
      const Page = ROUTES[path].page;
      return <Page />;
    }
  }
}

/** The page of the address, behind the admin check unless anyone may open it; not found otherwise. */
function CurrentPage() {
  const match = useMatch();
  if (!match) return <NotFoundPage />;
  const page = <Fragment key={match.path}>{pageOf(match.path, match.params)}</Fragment>;
  return (
    <PageFrame pending={<PendingPage />}>
      {PUBLIC_PATHS.has(match.path) ? page : <AdminOnly>{page}</AdminOnly>}
    </PageFrame>
  );
}

/** Any address the app does not know: say so in the app's own frame, with a way back. */
function NotFoundPage() {
  useDocumentTitle("Page not found");
  return (
    <div className="mx-auto max-w-xl px-4 py-16 text-center">
      <h1 className="text-2xl font-bold">Page not found</h1>
      <p className="mt-2 text-slate-600">
        There is nothing at this address. It may have moved, or the link is wrong.
      </p>
      <Link to="/" className="mt-6 inline-block font-medium text-brand-700 underline">
        Go to the admin home
      </Link>
    </div>
  );
}

/** The admin app, under /admin: its table of paths for every link, the frame, and the page of the address. */
export function App() {
  return (
    <Router base="/admin">
      <Routes table={ROUTES}>
        <Layout />
      </Routes>
    </Router>
  );
}
