import { publicProcedure, router, ZNoInputRequestSchema } from "../trpc.ts";

export const authRouter = router({
  /** The signed-in user and their account, or null when signed out. */
  me: publicProcedure.input(ZNoInputRequestSchema).query(async ({ ctx }) => {
    if (!ctx.viewer) return null;
    const account = ctx.viewer.accountId
      ? await ctx.db.account.findUnique({
          where: { id: ctx.viewer.accountId },
          select: { id: true, name: true },
        })
      : null;
    return { user: ctx.viewer, account };
  }),
});
