import { adminPackagesRouter } from "./routers/admin/packages.ts";
import { adminSessionRouter } from "./routers/admin/session.ts";
import { authRouter } from "./routers/auth.ts";
import { catalogRouter } from "./routers/catalog.ts";
import { systemRouter } from "./routers/system.ts";
import { router } from "./trpc.ts";

/** The customer app's router, served at /trpc. */
export const appRouter = router({
  system: systemRouter,
  auth: authRouter,
  catalog: catalogRouter,
});

/** The admin app's router, served at /trpc/admin. Every procedure in it requires the admin role. */
export const adminRouter = router({
  session: adminSessionRouter,
  packages: adminPackagesRouter,
});

export type AppRouter = typeof appRouter;
export type AdminRouter = typeof adminRouter;
