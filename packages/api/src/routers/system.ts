import { publicProcedure, router, ZNoInputRequestSchema } from "../trpc.ts";

export const systemRouter = router({
  /** Liveness of the API and its database, as the SPAs see it. */
  status: publicProcedure.input(ZNoInputRequestSchema).query(async ({ ctx }) => {
    await ctx.db.$queryRaw`SELECT 1`;
    return { ok: true as const, time: ctx.clock.now(), stripeEmulator: ctx.settings.stripeEmulator };
  }),
});
