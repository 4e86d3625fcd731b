import { Banner, Button, Card, EmulatorBanner, signOut } from "@minutely/ui";
import { useQuery } from "@tanstack/react-query";
import {
  createRootRoute,
  createRoute,
  createRouter,
  Link,
  Outlet,
  redirect,
  useNavigate,
  useRouterState,
} from "@tanstack/react-router";
import { lazy, useEffect } from "react";
import { z } from "zod";
import {
  ZAuditSearch,
  ZClockSearch,
  ZCustomersSearch,
  ZRevenueSearch,
  ZUsageSearch,
  ZWebhooksSearch,
} from "./lib/search.ts";
import { httpStatusOf, queryClient, trpc } from "./lib/trpc.ts";

const SignInPage = lazy(() => import("./routes/sign-in.tsx").then((m) => ({ default: m.SignInPage })));
// Pages load on demand: the first route ships only the shell, the guard and the page it shows.
const AuditPage = lazy(() => import("./routes/audit.tsx").then((m) => ({ default: m.AuditPage })));
const BillingClockPage = lazy(() =>
  import("./routes/billing-clock.tsx").then((m) => ({ default: m.BillingClockPage })),
);
const CustomerDetailPage = lazy(() =>
  import("./routes/customer-detail.tsx").then((m) => ({ default: m.CustomerDetailPage })),
);
const CustomersPage = lazy(() =>
  import("./routes/customers.tsx").then((m) => ({ default: m.CustomersPage })),
);
const EditPackagePage = lazy(() =>
  import("./routes/package-form.tsx").then((m) => ({ default: m.EditPackagePage })),
);
const NewPackagePage = lazy(() =>
  import("./routes/package-form.tsx").then((m) => ({ default: m.NewPackagePage })),
);
const PackagesPage = lazy(() => import("./routes/packages.tsx").then((m) => ({ default: m.PackagesPage })));
const RevenuePage = lazy(() => import("./routes/revenue.tsx").then((m) => ({ default: m.RevenuePage })));
const UsagePage = lazy(() => import("./routes/usage.tsx").then((m) => ({ default: m.UsagePage })));
const WebhookEventPage = lazy(() =>
  import("./routes/webhooks.tsx").then((m) => ({ default: m.WebhookEventPage })),
);
const WebhooksPage = lazy(() => import("./routes/webhooks.tsx").then((m) => ({ default: m.WebhooksPage })));

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
  { to: "/customers", label: "Customers" },
  { to: "/revenue", label: "Revenue" },
  { to: "/usage", label: "Usage" },
  { to: "/webhooks", label: "Webhooks" },
  { to: "/audit", label: "Audit log" },
] as const;

const navLink =
  "rounded-md px-2.5 py-1.5 text-sm whitespace-nowrap text-slate-300 hover:bg-slate-800 hover:text-white [&.active]:bg-slate-800 [&.active]:font-semibold [&.active]:text-white";

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
        <Outlet />
      </main>
    </div>
  );
}

function ForbiddenPage() {
  const doSignOut = useSignOut();
  return (
    <Card className="mx-auto mt-12 max-w-md">
      <Banner tone="danger" title="Admins only">
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
  validateSearch: z.object({ redirect: z.string().optional() }),
  component: SignInPage,
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
  component: PackagesPage,
});

const newPackageRoute = createRoute({
  getParentRoute: () => adminRoute,
  path: "/packages/new",
  component: NewPackagePage,
});

const editPackageRoute = createRoute({
  getParentRoute: () => adminRoute,
  path: "/packages/$id",
  component: function EditPackageRoute() {
    const { id } = editPackageRoute.useParams();
    return <EditPackagePage key={id} id={id} />;
  },
});

const customersRoute = createRoute({
  getParentRoute: () => adminRoute,
  path: "/customers",
  validateSearch: ZCustomersSearch,
  component: function CustomersRoute() {
    const search = customersRoute.useSearch();
    const navigate = customersRoute.useNavigate();
    return <CustomersPage search={search} onSearch={(next) => navigate({ search: next, replace: true })} />;
  },
});

const customerRoute = createRoute({
  getParentRoute: () => adminRoute,
  path: "/customers/$accountId",
  component: function CustomerRoute() {
    const { accountId } = customerRoute.useParams();
    return <CustomerDetailPage key={accountId} accountId={accountId} />;
  },
});

const revenueRoute = createRoute({
  getParentRoute: () => adminRoute,
  path: "/revenue",
  validateSearch: ZRevenueSearch,
  component: function RevenueRoute() {
    const search = revenueRoute.useSearch();
    const navigate = revenueRoute.useNavigate();
    return <RevenuePage search={search} onSearch={(next) => navigate({ search: next, replace: true })} />;
  },
});

const usageRoute = createRoute({
  getParentRoute: () => adminRoute,
  path: "/usage",
  validateSearch: ZUsageSearch,
  component: function UsageRoute() {
    const search = usageRoute.useSearch();
    const navigate = usageRoute.useNavigate();
    return <UsagePage search={search} onSearch={(next) => navigate({ search: next, replace: true })} />;
  },
});

const webhooksRoute = createRoute({
  getParentRoute: () => adminRoute,
  path: "/webhooks",
  validateSearch: ZWebhooksSearch,
  component: function WebhooksRoute() {
    const search = webhooksRoute.useSearch();
    const navigate = webhooksRoute.useNavigate();
    return <WebhooksPage search={search} onSearch={(next) => navigate({ search: next, replace: true })} />;
  },
});

const webhookRoute = createRoute({
  getParentRoute: () => adminRoute,
  path: "/webhooks/$eventId",
  component: function WebhookRoute() {
    const { eventId } = webhookRoute.useParams();
    return <WebhookEventPage key={eventId} eventId={eventId} />;
  },
});

const auditRoute = createRoute({
  getParentRoute: () => adminRoute,
  path: "/audit",
  validateSearch: ZAuditSearch,
  component: function AuditRoute() {
    const search = auditRoute.useSearch();
    const navigate = auditRoute.useNavigate();
    return <AuditPage search={search} onSearch={(next) => navigate({ search: next, replace: true })} />;
  },
});

const billingClockRoute = createRoute({
  getParentRoute: () => adminRoute,
  path: "/billing-clock",
  validateSearch: ZClockSearch,
  component: function BillingClockRoute() {
    const search = billingClockRoute.useSearch();
    const navigate = billingClockRoute.useNavigate();
    return (
      <BillingClockPage search={search} onSearch={(next) => navigate({ search: next, replace: true })} />
    );
  },
});

export const router = createRouter({
  routeTree: rootRoute.addChildren([
    signInRoute,
    forbiddenRoute,
    adminRoute.addChildren([
      indexRoute,
      packagesRoute,
      newPackageRoute,
      editPackageRoute,
      customersRoute,
      customerRoute,
      revenueRoute,
      usageRoute,
      webhooksRoute,
      webhookRoute,
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
