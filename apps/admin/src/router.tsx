import type { LiveAdminMessage } from "@minutely/api";
import {
  Banner,
  Button,
  Card,
  EmulatorBanner,
  httpStatusOf,
  LiveUpdates,
  Spinner,
  signOut,
} from "@minutely/ui";
import { useQuery } from "@tanstack/react-query";
import {
  createRootRoute,
  createRoute,
  createRouter,
  Link,
  lazyRouteComponent,
  Outlet,
  redirect,
  useNavigate,
  useRouterState,
} from "@tanstack/react-router";
import { type ReactElement, useEffect } from "react";
import { useDocumentTitle } from "./lib/document-title.ts";
import {
  validateAuditSearch,
  validateClockSearch,
  validateCustomersSearch,
  validateJobsSearch,
  validateRevenueSearch,
  validateSignInSearch,
  validateUsageSearch,
  validateWebhooksSearch,
} from "./lib/search.ts";
import { client, queryClient, trpc } from "./lib/trpc.ts";

// Pages load on demand: the first route ships only the shell, the guard and the search validation. The
// router fetches a page's code while the route loads (links preload it on hover or focus), and shows
// PendingPage in the page's place if that takes more than a moment.
const page = {
  signIn: lazyRouteComponent(() => import("./routes/sign-in.tsx"), "SignInPage"),
  audit: lazyRouteComponent(() => import("./routes/audit.tsx"), "AuditPage"),
  billingClock: lazyRouteComponent(() => import("./routes/billing-clock.tsx"), "BillingClockPage"),
  coupons: lazyRouteComponent(() => import("./routes/coupons.tsx"), "CouponsPage"),
  minutePacks: lazyRouteComponent(() => import("./routes/minute-packs.tsx"), "MinutePacksPage"),
  customerDetail: lazyRouteComponent(() => import("./routes/customer-detail.tsx"), "CustomerDetailPage"),
  customers: lazyRouteComponent(() => import("./routes/customers.tsx"), "CustomersPage"),
  jobs: lazyRouteComponent(() => import("./routes/jobs.tsx"), "JobsPage"),
  editPackage: lazyRouteComponent(() => import("./routes/package-form.tsx"), "EditPackagePage"),
  newPackage: lazyRouteComponent(() => import("./routes/package-form.tsx"), "NewPackagePage"),
  packages: lazyRouteComponent(() => import("./routes/packages.tsx"), "PackagesPage"),
  revenue: lazyRouteComponent(() => import("./routes/revenue.tsx"), "RevenuePage"),
  usage: lazyRouteComponent(() => import("./routes/usage.tsx"), "UsagePage"),
  webhookEvent: lazyRouteComponent(() => import("./routes/webhooks.tsx"), "WebhookEventPage"),
  webhooks: lazyRouteComponent(() => import("./routes/webhooks.tsx"), "WebhooksPage"),
};

/**
 * A route component that renders a lazily loaded page with props from the route (params, search). It
 * preloads like the page itself, so the router loads the page's code before it renders the route.
 */
function withPage(lazyPage: { preload?: () => Promise<void> | undefined }, render: () => ReactElement) {
  return Object.assign(render, { preload: () => lazyPage.preload?.() });
}

/** Shown in the page's place while the session check or the page's code takes longer than a moment. */
function PendingPage() {
  return (
    <div className="flex justify-center py-12">
      <Spinner label="Loading" />
    </div>
  );
}

const meQuery = trpc.session.me.queryOptions();

type Access = { kind: "admin"; email: string } | { kind: "signed-out" } | { kind: "forbidden" };

/** Signed out -> sign-in page; signed in without the admin role -> a clear refusal. */
async function checkAccess(): Promise<Access> {
  try {
    const me = await queryClient.fetchQuery(meQuery);
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
  const pathname = useRouterState({ select: (state) => state.location.pathname });
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
            <Outlet />
          </LiveUpdates>
        ) : (
          <Outlet />
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

const rootRoute = createRootRoute({ component: Layout });

const signInRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/sign-in",
  validateSearch: validateSignInSearch,
  component: page.signIn,
});

const forbiddenRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/forbidden",
  component: ForbiddenPage,
});

const adminRoute = createRoute({
  getParentRoute: () => rootRoute,
  id: "admin",
  beforeLoad: async ({ location }) => {
    const access = await checkAccess();
    if (access.kind === "signed-out") {
      throw redirect({
        to: "/sign-in",
        // The page and its filters (the query string) come back after signing in.
        search: { redirect: (location.pathname.replace(/^\/admin/, "") || "/") + location.searchStr },
      });
    }
    if (access.kind === "forbidden") throw redirect({ to: "/forbidden" });
    return { admin: access };
  },
});

const indexRoute = createRoute({
  getParentRoute: () => adminRoute,
  path: "/",
  beforeLoad: () => {
    throw redirect({ to: "/packages" });
  },
});

const packagesRoute = createRoute({
  getParentRoute: () => adminRoute,
  path: "/packages",
  component: page.packages,
});

const couponsRoute = createRoute({
  getParentRoute: () => adminRoute,
  path: "/coupons",
  component: page.coupons,
});

const minutePacksRoute = createRoute({
  getParentRoute: () => adminRoute,
  path: "/minute-packs",
  component: page.minutePacks,
});

const newPackageRoute = createRoute({
  getParentRoute: () => adminRoute,
  path: "/packages/new",
  component: page.newPackage,
});

const editPackageRoute = createRoute({
  getParentRoute: () => adminRoute,
  path: "/packages/$id",
  component: withPage(page.editPackage, function EditPackageRoute() {
    const { id } = editPackageRoute.useParams();
    return <page.editPackage key={id} id={id} />;
  }),
});

const customersRoute = createRoute({
  getParentRoute: () => adminRoute,
  path: "/customers",
  validateSearch: validateCustomersSearch,
  component: withPage(page.customers, function CustomersRoute() {
    const search = customersRoute.useSearch();
    const navigate = customersRoute.useNavigate();
    return <page.customers search={search} onSearch={(next) => navigate({ search: next, replace: true })} />;
  }),
});

const customerRoute = createRoute({
  getParentRoute: () => adminRoute,
  path: "/customers/$accountId",
  component: withPage(page.customerDetail, function CustomerRoute() {
    const { accountId } = customerRoute.useParams();
    return <page.customerDetail key={accountId} accountId={accountId} />;
  }),
});

const revenueRoute = createRoute({
  getParentRoute: () => adminRoute,
  path: "/revenue",
  validateSearch: validateRevenueSearch,
  component: withPage(page.revenue, function RevenueRoute() {
    const search = revenueRoute.useSearch();
    const navigate = revenueRoute.useNavigate();
    return <page.revenue search={search} onSearch={(next) => navigate({ search: next, replace: true })} />;
  }),
});

const usageRoute = createRoute({
  getParentRoute: () => adminRoute,
  path: "/usage",
  validateSearch: validateUsageSearch,
  component: withPage(page.usage, function UsageRoute() {
    const search = usageRoute.useSearch();
    const navigate = usageRoute.useNavigate();
    return <page.usage search={search} onSearch={(next) => navigate({ search: next, replace: true })} />;
  }),
});

const webhooksRoute = createRoute({
  getParentRoute: () => adminRoute,
  path: "/webhooks",
  validateSearch: validateWebhooksSearch,
  component: withPage(page.webhooks, function WebhooksRoute() {
    const search = webhooksRoute.useSearch();
    const navigate = webhooksRoute.useNavigate();
    return <page.webhooks search={search} onSearch={(next) => navigate({ search: next, replace: true })} />;
  }),
});

const jobsRoute = createRoute({
  getParentRoute: () => adminRoute,
  path: "/jobs",
  validateSearch: validateJobsSearch,
  component: withPage(page.jobs, function JobsRoute() {
    const search = jobsRoute.useSearch();
    const navigate = jobsRoute.useNavigate();
    return <page.jobs search={search} onSearch={(next) => navigate({ search: next, replace: true })} />;
  }),
});

const webhookRoute = createRoute({
  getParentRoute: () => adminRoute,
  path: "/webhooks/$eventId",
  component: withPage(page.webhookEvent, function WebhookRoute() {
    const { eventId } = webhookRoute.useParams();
    return <page.webhookEvent key={eventId} eventId={eventId} />;
  }),
});

const auditRoute = createRoute({
  getParentRoute: () => adminRoute,
  path: "/audit",
  validateSearch: validateAuditSearch,
  component: withPage(page.audit, function AuditRoute() {
    const search = auditRoute.useSearch();
    const navigate = auditRoute.useNavigate();
    return <page.audit search={search} onSearch={(next) => navigate({ search: next, replace: true })} />;
  }),
});

const billingClockRoute = createRoute({
  getParentRoute: () => adminRoute,
  path: "/billing-clock",
  validateSearch: validateClockSearch,
  component: withPage(page.billingClock, function BillingClockRoute() {
    const search = billingClockRoute.useSearch();
    const navigate = billingClockRoute.useNavigate();
    return (
      <page.billingClock search={search} onSearch={(next) => navigate({ search: next, replace: true })} />
    );
  }),
});

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

export const router = createRouter({
  defaultPreload: "intent",
  defaultNotFoundComponent: NotFoundPage,
  // A page whose code (or the session check) takes longer than 200 ms shows PendingPage, for at least
  // 300 ms so it does not flash; until then the previous page stays (the first load has none to keep).
  defaultPendingComponent: PendingPage,
  defaultPendingMs: 200,
  defaultPendingMinMs: 300,
  routeTree: rootRoute.addChildren([
    signInRoute,
    forbiddenRoute,
    adminRoute.addChildren([
      indexRoute,
      packagesRoute,
      newPackageRoute,
      editPackageRoute,
      couponsRoute,
      minutePacksRoute,
      customersRoute,
      customerRoute,
      revenueRoute,
      usageRoute,
      webhooksRoute,
      webhookRoute,
      jobsRoute,
      auditRoute,
      billingClockRoute,
    ]),
  ]),
  basepath: "/admin",
});

declare module "@tanstack/react-router" {
  interface Register {
    router: typeof router;
  }
}
