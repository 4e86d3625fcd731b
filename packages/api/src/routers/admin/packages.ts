import { toPackageView } from "../../services/catalog.ts";
import { adminProcedure, router } from "../../trpc.ts";

export const adminPackagesRouter = router({
  /** Every package, archived ones included, with every field. */
  list: adminProcedure.query(async ({ ctx }) => {
    const rows = await ctx.db.subscriptionPlan.findMany({ orderBy: [{ sortOrder: "asc" }, { name: "asc" }] });
    return rows.map(toPackageView);
  }),
});
