import type { LiveUsageMessage } from "@minutely/api";
import {
  EmulatorBanner,
  Guard,
  href,
  httpStatusOf,
  Link,
  LiveUpdates,
  PageFrame,
  Routes,
  useDocumentTitle,
  useHere,
  useMatch,
  useScrollToTopOnNavigation,
} from "@minutely/ui";
import { type Query, useQuery } from "@tanstack/react-query";
import { type ComponentType, type ReactNode, Suspense } from "react";
import { PaymentProblemBanner } from "./components/payment-problem-banner.tsx";
import { MAIN_ID, SiteHeader } from "./components/site-header.tsx";
import { TrialBanner } from "./components/trial-banner.tsx";
import { VerifyEmailBanner } from "./components/verify-email-banner.tsx";
import { client, queryClient, trpc } from "./lib/trpc.ts";
import { DashboardPage } from "./routes/dashboard.tsx";
import { type Path, PUBLIC_PATHS, ROUTES } from "./routing.ts";

// The paths and their search validation are in routing.ts. The dashboard (the first route) is in the entry
// bundle; every other page is loaded on demand (and preloaded when a link to it is hovered or focused), so
// the first route's JavaScript stays small.
function viewOf(path: Path): ComponentType {
  const route = ROUTES[path];
  return "page" in route ? route.page : DashboardPage;
}

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

/** The app: its table of paths for every link, the frame, and the page of the address. */
export function App() {
  return (
    <Routes table={ROUTES}>
      <Layout />
    </Routes>
  );
}

function Layout() {
  useScrollToTopOnNavigation();
  const status = useQuery({ ...trpc.system.status.queryOptions(), staleTime: Number.POSITIVE_INFINITY });
  return (
    <div className="min-h-screen">
      <SkipLink />
      {status.data?.stripeEmulator ? <EmulatorBanner /> : null}
      <SiteHeader />
      <main id={MAIN_ID} tabIndex={-1} className="mx-auto max-w-6xl px-4 py-6 focus:outline-none sm:py-8">
        <PageFrame>
          <CurrentPage />
        </PageFrame>
      </main>
    </div>
  );
}

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
function SignedIn({ children }: { children: ReactNode }) {
  const here = useHere();
  return (
    <Guard
      check={async () => {
        // Asked again on each navigation (never the cached answer): a session ended in another tab is noticed.
        const me = await queryClient.fetchQuery({ ...meQuery, staleTime: 0 });
        return me ? null : href({ to: "/sign-in", search: { redirect: here + window.location.hash } });
      }}
    >
      <AppLayout>{children}</AppLayout>
    </Guard>
  );
}

function AppLayout({ children }: { children: ReactNode }) {
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
        {children}
      </div>
    </LiveUpdates>
  );
}

/** The page of the address: in the signed-in frame unless signed-out visitors may open it. */
function CurrentPage() {
  const match = useMatch();
  if (!match) return <NotFoundPage />;
  const View = viewOf(match.path);
  // While a page's code loads, only the page's place is empty (the banners around it stay).
  const page = (
    <Suspense fallback={null}>
      <View key={match.path} />
    </Suspense>
  );
  return PUBLIC_PATHS.has(match.path) ? page : <SignedIn>{page}</SignedIn>;
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
        Go to the dashboard
      </Link>
    </div>
  );
}
