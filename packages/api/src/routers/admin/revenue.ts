import { z } from "zod";
import { MAX_REVENUE_MONTHS, revenueOverview } from "../../services/admin/index.ts";
import { adminProcedure, router } from "../../trpc.ts";

export const ZRevenueOverviewRequestSchema = z
  .strictObject({ months: z.number().int().min(1).max(MAX_REVENUE_MONTHS).default(12) })
  .default({ months: 12 });

export const adminRevenueRouter = router({
  /** MRR, ARR, subscribers per package and monthly movements, from Minutely's own records. */
  overview: adminProcedure
    .input(ZRevenueOverviewRequestSchema)
    .query(({ ctx, input }) => revenueOverview(ctx, input)),
});
