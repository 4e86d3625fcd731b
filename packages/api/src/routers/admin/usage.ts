import { z } from "zod";
import { accountsNearLimit } from "../../services/admin/index.ts";
import { adminProcedure, router } from "../../trpc.ts";

export const ZNearLimitRequestSchema = z
  .strictObject({
    page: z.number().int().min(1).default(1),
    pageSize: z.number().int().min(1).max(100).default(20),
    /** Share of the included minutes from which an account counts as near its limit. */
    minPercent: z.number().int().min(1).max(1000).default(80),
  })
  .default({ page: 1, pageSize: 20, minPercent: 80 });

export const adminUsageRouter = router({
  /** Accounts near or over their minute or agent limits, most urgent first, paginated. */
  nearLimit: adminProcedure
    .input(ZNearLimitRequestSchema)
    .query(({ ctx, input }) => accountsNearLimit(ctx, input)),
});
