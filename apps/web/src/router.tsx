import { Button, EmulatorBanner, SignInForm, SignUpForm, signIn, signOut, signUp } from "@minutely/ui";
import { useQuery } from "@tanstack/react-query";
import {
  createRootRoute,
  createRoute,
  createRouter,
  Link,
  Outlet,
  redirect,
  useNavigate,
  useSearch,
} from "@tanstack/react-router";
import { z } from "zod";
import { queryClient, trpc } from "./lib/trpc.ts";
import { AgentsPage } from "./routes/agents.tsx";
import { BillingPage, BillingReturnPage, PaymentProblemBanner } from "./routes/billing.tsx";
import { PackagesPage } from "./routes/packages.tsx";
import { UsagePage } from "./routes/usage.tsx";

const meQuery = trpc.auth.me.queryOptions();

/** Only same-app paths are followed after sign-in (no open redirects). */
function safeRedirect(target: string | undefined): string {
  return target?.startsWith("/") && !target.startsWith("//") ? target : "/";
}

async function afterAuthChange(navigate: ReturnType<typeof useNavigate>, target: string | undefined) {
  await queryClient.resetQueries();
  await navigate({ to: safeRedirect(target) });
}

function Header() {
  const me = useQuery(meQuery);
  const navigate = useNavigate();
  return (
    <header className="border-b border-slate-200 bg-white">
      <nav
        className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3"
        aria-label="Main"
      >
        <Link to="/" className="text-lg font-bold text-brand-700">
          Minutely
        </Link>
        {me.data ? (
          <>
            <Link
              to="/packages"
              className="text-sm text-slate-600 [&.active]:font-semibold [&.active]:text-slate-900"
            >
              Subscription &amp; Packages
            </Link>
            <Link
              to="/billing"
              className="text-sm text-slate-600 [&.active]:font-semibold [&.active]:text-slate-900"
            >
              Billing
            </Link>
            <Link
              to="/usage"
              className="text-sm text-slate-600 [&.active]:font-semibold [&.active]:text-slate-900"
            >
              Usage
            </Link>
            <Link
              to="/agents"
              className="text-sm text-slate-600 [&.active]:font-semibold [&.active]:text-slate-900"
            >
              Agents
            </Link>
            <span className="ml-auto text-sm text-slate-500">{me.data.user.email}</span>
            <Button
              variant="ghost"
              onClick={async () => {
                await signOut();
                await afterAuthChange(navigate, "/sign-in");
              }}
            >
              Sign out
            </Button>
          </>
        ) : null}
      </nav>
    </header>
  );
}

function Layout() {
  const status = useQuery({ ...trpc.system.status.queryOptions(), staleTime: Number.POSITIVE_INFINITY });
  return (
    <div className="min-h-screen">
      {status.data?.stripeEmulator ? <EmulatorBanner /> : null}
      <Header />
      <main className="mx-auto max-w-6xl px-4 py-8">
        <Outlet />
      </main>
    </div>
  );
}

const authSearch = z.object({ redirect: z.string().optional() });

function SignInPage() {
  const navigate = useNavigate();
  const search = useSearch({ from: "/sign-in" });
  return (
    <SignInForm
      onSubmit={async (values) => {
        await signIn(values);
        await afterAuthChange(navigate, search.redirect);
      }}
      footer={
        <p className="text-center text-sm text-slate-600">
          New to Minutely?{" "}
          <Link to="/sign-up" search={search} className="font-medium text-brand-700 underline">
            Create an account
          </Link>
        </p>
      }
    />
  );
}

function SignUpPage() {
  const navigate = useNavigate();
  const search = useSearch({ from: "/sign-up" });
  return (
    <SignUpForm
      onSubmit={async (values) => {
        await signUp(values);
        await afterAuthChange(navigate, search.redirect);
      }}
      footer={
        <p className="text-center text-sm text-slate-600">
          Already have an account?{" "}
          <Link to="/sign-in" search={search} className="font-medium text-brand-700 underline">
            Sign in
          </Link>
        </p>
      }
    />
  );
}

const rootRoute = createRootRoute({ component: Layout });

const signInRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/sign-in",
  validateSearch: authSearch,
  component: SignInPage,
});

const signUpRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/sign-up",
  validateSearch: authSearch,
  component: SignUpPage,
});

/** Everything below needs a signed-in customer; others are sent to sign-in and brought back afterwards. */
function AppLayout() {
  return (
    <div className="space-y-6">
      <PaymentProblemBanner />
      <Outlet />
    </div>
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

/** Signed-in customers without a package land on package selection; the others on their billing. */
const indexRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/",
  beforeLoad: async () => {
    const selection = await queryClient.fetchQuery(trpc.catalog.selection.queryOptions());
    throw redirect({ to: selection.needsPackageSelection ? "/packages" : "/billing" });
  },
});

const billingRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/billing",
  component: BillingPage,
});

const billingReturnRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/billing/return",
  validateSearch: z.object({ session_id: z.string().optional() }),
  component: BillingReturnPage,
});

const usageRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/usage",
  component: UsagePage,
});

const agentsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/agents",
  component: AgentsPage,
});

const packagesRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/packages",
  component: PackagesPage,
});

export const router = createRouter({
  routeTree: rootRoute.addChildren([
    signInRoute,
    signUpRoute,
    appRoute.addChildren([
      indexRoute,
      packagesRoute,
      billingRoute,
      billingReturnRoute,
      agentsRoute,
      usageRoute,
    ]),
  ]),
});

declare module "@tanstack/react-router" {
  interface Register {
    router: typeof router;
  }
}
