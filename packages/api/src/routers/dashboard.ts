import { dashboard } from "../services/dashboard/index.ts";
import { accountProcedure, router, ZNoInputRequestSchema } from "../trpc.ts";

export const dashboardRouter = router({
  /**
   * Everything the dashboard shows for the caller's own account, in one query: subscription, usage with
   * its daily series, agents, alerts, recent invoices, entitlements, forecast and plan advice, quick actions.
   */
  get: accountProcedure
    .input(ZNoInputRequestSchema)
    .query(({ ctx }) => dashboard(ctx, { ...ctx.viewer, accountId: ctx.accountId })),
});
