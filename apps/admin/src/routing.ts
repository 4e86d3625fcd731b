// The admin app's paths (under the /admin base): every address it answers, each with its search's
// validation and its page's code, loaded on demand and preloaded when a link to it is hovered or focused.
// Links and navigation are typed by this table (registered with @minutely/ui below): a path that is not in
// it fails `tsc`. The first route ships only the shell, the guard and the search validation.
import { lazyPage } from "@minutely/ui";
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

const packageForm = () => import("./routes/package-form.tsx");
const webhooks = () => import("./routes/webhooks.tsx");

export const ROUTES = {
  // Anyone.
  "/sign-in": {
    search: validateSignInSearch,
    page: lazyPage(() => import("./routes/sign-in.tsx"), "SignInPage"),
  },
  "/forbidden": {},
  // Admins only: signed-out visitors go to sign-in (and come back), others to /forbidden.
  /** Sends admins on to the packages. */
  "/": {},
  "/packages": { page: lazyPage(() => import("./routes/packages.tsx"), "PackagesPage") },
  "/packages/new": { page: lazyPage(packageForm, "NewPackagePage") },
  "/packages/:id": { page: lazyPage(packageForm, "EditPackagePage") },
  "/coupons": { page: lazyPage(() => import("./routes/coupons.tsx"), "CouponsPage") },
  "/minute-packs": { page: lazyPage(() => import("./routes/minute-packs.tsx"), "MinutePacksPage") },
  "/customers": {
    search: validateCustomersSearch,
    page: lazyPage(() => import("./routes/customers.tsx"), "CustomersPage"),
  },
  "/customers/:accountId": {
    page: lazyPage(() => import("./routes/customer-detail.tsx"), "CustomerDetailPage"),
  },
  "/revenue": {
    search: validateRevenueSearch,
    page: lazyPage(() => import("./routes/revenue.tsx"), "RevenuePage"),
  },
  "/usage": { search: validateUsageSearch, page: lazyPage(() => import("./routes/usage.tsx"), "UsagePage") },
  "/webhooks": { search: validateWebhooksSearch, page: lazyPage(webhooks, "WebhooksPage") },
  "/webhooks/:eventId": { page: lazyPage(webhooks, "WebhookEventPage") },
  "/jobs": { search: validateJobsSearch, page: lazyPage(() => import("./routes/jobs.tsx"), "JobsPage") },
  "/audit": { search: validateAuditSearch, page: lazyPage(() => import("./routes/audit.tsx"), "AuditPage") },
  "/billing-clock": {
    search: validateClockSearch,
    page: lazyPage(() => import("./routes/billing-clock.tsx"), "BillingClockPage"),
  },
};

export type Path = keyof typeof ROUTES;

/** The paths anyone may open; every other one is for admins. */
export const PUBLIC_PATHS: ReadonlySet<Path> = new Set<Path>(["/sign-in", "/forbidden"]);

declare module "@minutely/ui" {
  interface Register {
    routes: typeof ROUTES;
  }
}
