// The customer app's paths: every address it answers, each with its search's validation and, for pages
// loaded on demand, its code (preloaded when a link to it is hovered or focused). Links and navigation are
// typed by this table (registered with @minutely/ui below): a path that is not in it fails `tsc`. The dashboard ("/") is in the entry bundle
// (router.tsx); every other page is loaded on demand, so the first route's JavaScript stays small.
import { lazyPage, type RawSearch } from "@minutely/ui";
import { authSearch } from "./lib/auth-navigation.ts";

const tokenSearch = (search: RawSearch): { token?: string } =>
  typeof search.token === "string" ? { token: search.token } : {};

const auth = () => import("./routes/auth.tsx");
const billing = () => import("./routes/billing.tsx");

export const ROUTES = {
  // Signed out too.
  "/sign-in": { search: authSearch, page: lazyPage(auth, "SignInPage") },
  "/sign-up": { search: authSearch, page: lazyPage(auth, "SignUpPage") },
  "/forgot-password": { page: lazyPage(auth, "ForgotPasswordPage") },
  /** The link of a password reset mail. */
  "/reset-password": { search: tokenSearch, page: lazyPage(auth, "ResetPasswordPage") },
  /** The link of a verification mail (the token names the address). */
  "/verify-email": { search: tokenSearch, page: lazyPage(auth, "VerifyEmailPage") },
  /** The link of an invitation mail (it offers sign-in and sign-up, then comes back). */
  "/accept-invitation": {
    search: tokenSearch,
    page: lazyPage(() => import("./routes/accept-invitation.tsx"), "AcceptInvitationPage"),
  },
  // Signed-in customers only; others are sent to sign-in and brought back afterwards.
  /** The dashboard for subscribed customers; those without a package are sent on to package selection. */
  "/": {},
  "/packages": {
    // Stripe Checkout's cancel URL comes back with ?checkout=cancelled: the page says nothing was charged.
    search: (search: RawSearch): { checkout?: "cancelled" } =>
      search.checkout === "cancelled" ? { checkout: "cancelled" } : {},
    page: lazyPage(() => import("./routes/packages.tsx"), "PackagesPage"),
  },
  "/billing": { page: lazyPage(billing, "BillingPage") },
  "/billing/return": {
    search: (search: RawSearch): { session_id?: string } =>
      typeof search.session_id === "string" ? { session_id: search.session_id } : {},
    page: lazyPage(billing, "BillingReturnPage"),
  },
  "/agents": { page: lazyPage(() => import("./routes/agents.tsx"), "AgentsPage") },
  "/usage": { page: lazyPage(() => import("./routes/usage.tsx"), "UsagePage") },
  "/api-keys": { page: lazyPage(() => import("./routes/api-keys.tsx"), "ApiKeysPage") },
  "/analytics": { page: lazyPage(() => import("./routes/analytics.tsx"), "AnalyticsPage") },
  "/integration": { page: lazyPage(() => import("./routes/integration.tsx"), "IntegrationPage") },
  "/account": { page: lazyPage(() => import("./routes/account.tsx"), "AccountPage") },
  "/team": { page: lazyPage(() => import("./routes/team.tsx"), "TeamPage") },
};

/** The paths a signed-out visitor may open. */
export const PUBLIC_PATHS: ReadonlySet<Path> = new Set<Path>([
  "/sign-in",
  "/sign-up",
  "/forgot-password",
  "/reset-password",
  "/verify-email",
  "/accept-invitation",
]);

export type Path = keyof typeof ROUTES;

declare module "@minutely/ui" {
  interface Register {
    routes: typeof ROUTES;
  }
}
