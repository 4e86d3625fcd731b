import { accountSettingsRouter } from "./routers/account-settings.ts";
import { adminAuditRouter } from "./routers/admin/audit.ts";
import { adminBillingClockRouter } from "./routers/admin/billing-clock.ts";
import { adminCouponsRouter } from "./routers/admin/coupons.ts";
import { adminCustomersRouter } from "./routers/admin/customers.ts";
import { adminJobsRouter } from "./routers/admin/jobs.ts";
import { adminLiveRouter } from "./routers/admin/live.ts";
import { adminMailRouter } from "./routers/admin/mail.ts";
import { adminPackagesRouter } from "./routers/admin/packages.ts";
import { adminPacksRouter } from "./routers/admin/packs.ts";
import { adminRevenueRouter } from "./routers/admin/revenue.ts";
import { adminSessionRouter } from "./routers/admin/session.ts";
import { adminUsageRouter } from "./routers/admin/usage.ts";
import { adminWebhooksRouter } from "./routers/admin/webhooks.ts";
import { agentsRouter } from "./routers/agents.ts";
import { alertsRouter } from "./routers/alerts.ts";
import { analyticsRouter } from "./routers/analytics.ts";
import { apiKeysRouter } from "./routers/api-keys.ts";
import { authRouter } from "./routers/auth.ts";
import { catalogRouter } from "./routers/catalog.ts";
import { dashboardRouter } from "./routers/dashboard.ts";
import { integrationRouter } from "./routers/integration.ts";
import { liveRouter } from "./routers/live.ts";
import { packsRouter } from "./routers/packs.ts";
import { sessionsRouter } from "./routers/sessions.ts";
import { spendCapRouter } from "./routers/spend-cap.ts";
import { subscriptionRouter } from "./routers/subscription.ts";
import { systemRouter } from "./routers/system.ts";
import { invitationsRouter, membershipsRouter, teamRouter } from "./routers/team.ts";
import { usageRouter } from "./routers/usage.ts";
import { router } from "./trpc.ts";

/** The customer app's router, served at /trpc. */
export const appRouter = router({
  system: systemRouter,
  auth: authRouter,
  sessions: sessionsRouter,
  accountSettings: accountSettingsRouter,
  team: teamRouter,
  memberships: membershipsRouter,
  invitations: invitationsRouter,
  catalog: catalogRouter,
  subscription: subscriptionRouter,
  apiKeys: apiKeysRouter,
  usage: usageRouter,
  alerts: alertsRouter,
  agents: agentsRouter,
  dashboard: dashboardRouter,
  analytics: analyticsRouter,
  integration: integrationRouter,
  spendCap: spendCapRouter,
  packs: packsRouter,
  live: liveRouter,
});

/** The admin app's router, served at /trpc/admin. Every procedure in it requires the admin role. */
export const adminRouter = router({
  session: adminSessionRouter,
  packages: adminPackagesRouter,
  coupons: adminCouponsRouter,
  packs: adminPacksRouter,
  usage: adminUsageRouter,
  mail: adminMailRouter,
  customers: adminCustomersRouter,
  revenue: adminRevenueRouter,
  webhooks: adminWebhooksRouter,
  jobs: adminJobsRouter,
  audit: adminAuditRouter,
  billingClock: adminBillingClockRouter,
  live: adminLiveRouter,
});

export type AppRouter = typeof appRouter;
export type AdminRouter = typeof adminRouter;
