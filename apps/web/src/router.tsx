import type { LiveUsageMessage } from "@minutely/api";
import { EmulatorBanner, httpStatusOf, LiveUpdates, useDocumentTitle } from "@minutely/ui";
import { type Query, useQuery } from "@tanstack/react-query";
import {
  createRootRoute,
  createRoute,
  createRouter,
  Link,
  lazyRouteComponent,
  Outlet,
  redirect,
} from "@tanstack/react-router";
import { PaymentProblemBanner } from "./components/payment-problem-banner.tsx";
import { MAIN_ID, SiteHeader } from "./components/site-header.tsx";
import { TrialBanner } from "./components/trial-banner.tsx";
import { VerifyEmailBanner } from "./components/verify-email-banner.tsx";
import { authSearch } from "./lib/auth-navigation.ts";
import { client, queryClient, trpc } from "./lib/trpc.ts";
import { DashboardPage } from "./routes/dashboard.tsx";

// The dashboard (the first route) is in the entry bundle; every other page is loaded on demand (and
// preloaded when a link to it is hovered or focused), so the first route's JavaScript stays small.
const page = {
  signIn: lazyRouteComponent(() => import("./routes/auth.tsx"), "SignInPage"),
  signUp: lazyRouteComponent(() => import("./routes/auth.tsx"), "SignUpPage"),
  forgotPassword: lazyRouteComponent(() => import("./routes/auth.tsx"), "ForgotPasswordPage"),
  resetPassword: lazyRouteComponent(() => import("./routes/auth.tsx"), "ResetPasswordPage"),
  verifyEmail: lazyRouteComponent(() => import("./routes/auth.tsx"), "VerifyEmailPage"),
  packages: lazyRouteComponent(() => import("./routes/packages.tsx"), "PackagesPage"),
  billing: lazyRouteComponent(() => import("./routes/billing.tsx"), "BillingPage"),
  billingReturn: lazyRouteComponent(() => import("./routes/billing.tsx"), "BillingReturnPage"),
  usage: lazyRouteComponent(() => import("./routes/usage.tsx"), "UsagePage"),
  agents: lazyRouteComponent(() => import("./routes/agents.tsx"), "AgentsPage"),
  analytics: lazyRouteComponent(() => import("./routes/analytics.tsx"), "AnalyticsPage"),
  apiKeys: lazyRouteComponent(() => import("./routes/api-keys.tsx"), "ApiKeysPage"),
  integration: lazyRouteComponent(() => import("./routes/integration.tsx"), "IntegrationPage"),
  account: lazyRouteComponent(() => import("./routes/account.tsx"), "AccountPage"),
  team: lazyRouteComponent(() => import("./routes/team.tsx"), "TeamPage"),
  acceptInvitation: lazyRouteComponent(
    () => import("./routes/accept-invitation.tsx"),
    "AcceptInvitationPage",
  ),
};

const meQuery = trpc.auth.me.queryOptions();

/** Keyboard users skip the header: the first thing Tab reaches, it moves focus to the page's content. */
function SkipLink() {
  return (
    <a
      href={`#${MAIN_ID}`}
      onClick={(event) => {
        event.preventDefault();
        document.getElementById(MAIN_ID)?.focus();
      }}
      className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2 focus:text-sm focus:text-slate-900 focus:shadow"
    >
      Skip to content
    </a>
  );
}

function Layout() {
  const status = useQuery({ ...trpc.system.status.queryOptions(), staleTime: Number.POSITIVE_INFINITY });
  return (
    <div className="min-h-screen">
      <SkipLink />
      {status.data?.stripeEmulator ? <EmulatorBanner /> : null}
      <SiteHeader />
      <main id={MAIN_ID} tabIndex={-1} className="mx-auto max-w-6xl px-4 py-6 focus:outline-none sm:py-8">
        <Outlet />
      </main>
    </div>
  );
}

const rootRoute = createRootRoute({ component: Layout });

const signInRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/sign-in",
  validateSearch: authSearch,
  component: page.signIn,
});

const signUpRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/sign-up",
  validateSearch: authSearch,
  component: page.signUp,
});

const tokenSearch = (search: Record<string, unknown>): { token?: string } =>
  typeof search.token === "string" ? { token: search.token } : {};

const forgotPasswordRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/forgot-password",
  component: page.forgotPassword,
});

/** The link of a password reset mail: works signed out. */
const resetPasswordRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/reset-password",
  validateSearch: tokenSearch,
  component: page.resetPassword,
});

/** The link of a verification mail: works signed out too (the token names the address). */
const verifyEmailRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/verify-email",
  validateSearch: tokenSearch,
  component: page.verifyEmail,
});

/** The link of an invitation mail: works signed out (it offers sign-in and sign-up, then comes back). */
const acceptInvitationRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/accept-invitation",
  validateSearch: tokenSearch,
  component: page.acceptInvitation,
});

/**
 * What live usage re-reads when the account's usage, reservations or alerts change (the usage page's
 * analytics are left alone while refused: a package without analytics does not gain them by calling).
 */
const LIVE_REFRESH = [
  trpc.dashboard.pathFilter(),
  { ...trpc.usage.pathFilter(), predicate: (query: Query) => httpStatusOf(query.state.error) !== 403 },
  trpc.alerts.pathFilter(),
  // The spend cap card: its spend and "used up" follow the minutes.
  trpc.spendCap.get.pathFilter(),
];

/**
 * The stream's first message is the state as of its start: when the dashboard just read the same state
 * (the usual case when a page opens), there is nothing to re-read; otherwise it changed in between.
 */
function liveRefresh(message: LiveUsageMessage | null, reason: string) {
  if (reason !== "first" || message?.status !== "live") return LIVE_REFRESH;
  const shown = queryClient.getQueryData(trpc.dashboard.get.queryKey());
  const live = message.usage;
  const same =
    shown !== undefined &&
    (shown.usage?.minutesUsed ?? null) === (live?.minutesUsed ?? null) &&
    (shown.usage?.minutesReserved ?? null) === (live?.minutesReserved ?? null) &&
    shown.alerts.map((a) => a.id).join() === (live?.alerts.map((a) => a.id).join() ?? "");
  return same ? [] : LIVE_REFRESH;
}

/** Everything below needs a signed-in customer; others are sent to sign-in and brought back afterwards. */
function AppLayout() {
  return (
    <LiveUpdates<LiveUsageMessage>
      subscribe={(lastEventId, handlers) =>
        client.live.usage.subscribe(lastEventId ? { lastEventId } : undefined, handlers)
      }
      refresh={liveRefresh}
    >
      <div className="space-y-6">
        <VerifyEmailBanner />
        <PaymentProblemBanner />
        <TrialBanner />
        <Outlet />
      </div>
    </LiveUpdates>
  );
}

const appRoute = createRoute({
  getParentRoute: () => rootRoute,
  id: "app",
  component: AppLayout,
  beforeLoad: async ({ location }) => {
    const me = await queryClient.fetchQuery(meQuery);
    if (!me) throw redirect({ to: "/sign-in", search: { redirect: location.href } });
    return { me };
  },
});

/** The dashboard for subscribed customers; those without a package are sent on to package selection. */
const indexRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/",
  component: DashboardPage,
});

const analyticsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/analytics",
  component: page.analytics,
});

const apiKeysRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/api-keys",
  component: page.apiKeys,
});

const billingRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/billing",
  component: page.billing,
});

const billingReturnRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/billing/return",
  validateSearch: (search: Record<string, unknown>): { session_id?: string } =>
    typeof search.session_id === "string" ? { session_id: search.session_id } : {},
  component: page.billingReturn,
});

const usageRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/usage",
  component: page.usage,
});

const agentsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/agents",
  component: page.agents,
});

const integrationRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/integration",
  component: page.integration,
});

const accountRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/account",
  component: page.account,
});

const teamRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/team",
  component: page.team,
});

const packagesRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/packages",
  // Stripe Checkout's cancel URL comes back with ?checkout=cancelled: the page says nothing was charged.
  validateSearch: (search: Record<string, unknown>): { checkout?: "cancelled" } =>
    search.checkout === "cancelled" ? { checkout: "cancelled" } : {},
  component: page.packages,
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
        Go to the dashboard
      </Link>
    </div>
  );
}

export const router = createRouter({
  defaultPreload: "intent",
  defaultNotFoundComponent: NotFoundPage,
  routeTree: rootRoute.addChildren([
    signInRoute,
    signUpRoute,
    forgotPasswordRoute,
    resetPasswordRoute,
    verifyEmailRoute,
    acceptInvitationRoute,
    appRoute.addChildren([
      indexRoute,
      packagesRoute,
      billingRoute,
      billingReturnRoute,
      agentsRoute,
      usageRoute,
      apiKeysRoute,
      analyticsRoute,
      integrationRoute,
      accountRoute,
      teamRoute,
    ]),
  ]),
});

declare module "@tanstack/react-router" {
  interface Register {
    router: typeof router;
  }
}
