import { Banner, Button, Card, EmulatorBanner, SignInForm, signIn, signOut } from "@minutely/ui";
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
import { httpStatusOf, queryClient, trpc } from "./lib/trpc.ts";
import { EditPackagePage, NewPackagePage } from "./routes/package-form.tsx";
import { PackagesPage } from "./routes/packages.tsx";

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

function safeRedirect(target: string | undefined): string {
  return target?.startsWith("/") && !target.startsWith("//") ? target : "/";
}

function useSignOut() {
  const navigate = useNavigate();
  return async () => {
    await signOut();
    queryClient.clear();
    await navigate({ to: "/sign-in", search: {} });
  };
}

function Layout() {
  const me = useQuery({ ...meQuery, retry: false });
  const doSignOut = useSignOut();
  return (
    <div className="min-h-screen">
      {me.data?.stripeEmulator ? <EmulatorBanner /> : null}
      <div className="bg-slate-900 text-white">
        <nav
          className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3"
          aria-label="Admin"
        >
          <Link to="/" className="text-lg font-bold">
            Minutely Admin
          </Link>
          {me.data ? (
            <>
              <Link to="/packages" className="text-sm text-slate-300 [&.active]:text-white">
                Packages
              </Link>
              <span className="ml-auto text-sm text-slate-300">{me.data.user.email}</span>
              <Button variant="secondary" onClick={doSignOut}>
                Sign out
              </Button>
            </>
          ) : null}
        </nav>
      </div>
      <main className="mx-auto max-w-7xl px-4 py-6 sm:py-8">
        <Outlet />
      </main>
    </div>
  );
}

function SignInPage() {
  const navigate = useNavigate();
  const search = useSearch({ from: "/sign-in" });
  return (
    <SignInForm
      title="Admin sign in"
      onSubmit={async (values) => {
        await signIn(values);
        await queryClient.resetQueries();
        await navigate({ to: safeRedirect(search.redirect) });
      }}
    />
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
        search: { redirect: location.pathname.replace(/^\/admin/, "") || "/" },
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

export const router = createRouter({
  routeTree: rootRoute.addChildren([
    signInRoute,
    forbiddenRoute,
    adminRoute.addChildren([indexRoute, packagesRoute, newPackageRoute, editPackageRoute]),
  ]),
  basepath: "/admin",
});

declare module "@tanstack/react-router" {
  interface Register {
    router: typeof router;
  }
}
