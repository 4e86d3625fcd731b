import { usageAnalytics } from "../services/accounts/index.ts";
import { accountProcedure, router, ZNoInputRequestSchema } from "../trpc.ts";

export const analyticsRouter = router({
  /** Minutes by agent, by direction and by day. FORBIDDEN when the package lacks analytics. */
  overview: accountProcedure
    .input(ZNoInputRequestSchema)
    .query(({ ctx }) => usageAnalytics(ctx, ctx.accountId)),
});
