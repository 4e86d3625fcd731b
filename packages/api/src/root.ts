import { adminMailRouter } from "./routers/admin/mail.ts";
import { adminPackagesRouter } from "./routers/admin/packages.ts";
import { adminSessionRouter } from "./routers/admin/session.ts";
import { adminUsageRouter } from "./routers/admin/usage.ts";
import { agentsRouter } from "./routers/agents.ts";
import { alertsRouter } from "./routers/alerts.ts";
import { authRouter } from "./routers/auth.ts";
import { catalogRouter } from "./routers/catalog.ts";
import { subscriptionRouter } from "./routers/subscription.ts";
import { systemRouter } from "./routers/system.ts";
import { usageRouter } from "./routers/usage.ts";
import { router } from "./trpc.ts";

/** The customer app's router, served at /trpc. */
export const appRouter = router({
  system: systemRouter,
  auth: authRouter,
  catalog: catalogRouter,
  subscription: subscriptionRouter,
  usage: usageRouter,
  alerts: alertsRouter,
  agents: agentsRouter,
});

/** The admin app's router, served at /trpc/admin. Every procedure in it requires the admin role. */
export const adminRouter = router({
  session: adminSessionRouter,
  packages: adminPackagesRouter,
  usage: adminUsageRouter,
  mail: adminMailRouter,
});

export type AppRouter = typeof appRouter;
export type AdminRouter = typeof adminRouter;
