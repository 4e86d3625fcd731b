import { requireAnalytics } from "../services/accounts/index.ts";
import { currentUsage, dailyUsage, usageByAgent, usageByDirection } from "../services/metering/index.ts";
import { accountProcedure, router, ZNoInputRequestSchema } from "../trpc.ts";

/** No input: the account is always the caller's own (unknown keys such as an account id are refused). */
export { ZNoInputRequestSchema };

/** The breakdowns are analytics: FORBIDDEN unless the package includes analytics (checked after the input). */
const analyticsQuery = accountProcedure.input(ZNoInputRequestSchema).use(async ({ ctx, next }) => {
  await requireAnalytics(ctx, ctx.accountId);
  return next();
});

export const usageRouter = router({
  /** The current period's usage (minutesUsed, minutesLimit, minutesRemaining, usagePercentage), or null. */
  current: accountProcedure.input(ZNoInputRequestSchema).query(({ ctx }) => currentUsage(ctx, ctx.accountId)),
  /** One point per UTC day of the current period, zero-filled. Every package shows it. */
  daily: accountProcedure.input(ZNoInputRequestSchema).query(({ ctx }) => dailyUsage(ctx, ctx.accountId)),
  /** Minutes per agent in the current period (analytics: FORBIDDEN without them). */
  byAgent: analyticsQuery.query(({ ctx }) => usageByAgent(ctx, ctx.accountId)),
  /** Minutes per call direction in the current period (analytics: FORBIDDEN without them). */
  byDirection: analyticsQuery.query(({ ctx }) => usageByDirection(ctx, ctx.accountId)),
});
