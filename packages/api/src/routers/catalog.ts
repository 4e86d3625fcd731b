import { listAvailablePackages } from "../services/catalog/index.ts";
import { packageSelection } from "../services/subscriptions/index.ts";
import { accountProcedure, publicProcedure, router, ZNoInputRequestSchema } from "../trpc.ts";

export const catalogRouter = router({
  /** The active packages and their feature comparison (public: the pricing page). */
  list: publicProcedure.input(ZNoInputRequestSchema).query(({ ctx }) => listAvailablePackages(ctx)),
  /** The caller's package selection: packages, comparison, current package, whether one must be chosen. */
  selection: accountProcedure
    .input(ZNoInputRequestSchema)
    .query(({ ctx }) => packageSelection(ctx, ctx.accountId)),
});
