import { integrationView } from "../services/accounts/index.ts";
import { accountProcedure, router, ZNoInputRequestSchema } from "../trpc.ts";

export const integrationRouter = router({
  /** The account and agent ids the calling platform reports usage with, and where it reports it. */
  get: accountProcedure.input(ZNoInputRequestSchema).query(({ ctx }) => integrationView(ctx, ctx.accountId)),
});
