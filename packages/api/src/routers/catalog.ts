import { listAvailablePackages } from "../services/catalog.ts";
import { publicProcedure, router } from "../trpc.ts";

export const catalogRouter = router({
  /** The active packages and their feature comparison, for the package selection page. */
  list: publicProcedure.query(({ ctx }) => listAvailablePackages(ctx)),
});
