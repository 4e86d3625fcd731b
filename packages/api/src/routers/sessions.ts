import { z } from "zod";
import { withRequestKey, ZRequestKeyOnlySchema } from "../idempotency.ts";
import { listSessions, revokeOtherSessions, revokeSession } from "../services/accounts/index.ts";
import { authedProcedure, idempotent, router, ZNoInputRequestSchema } from "../trpc.ts";

export const ZRevokeSessionRequestSchema = withRequestKey(
  z.strictObject({ sessionId: z.uuid("Not a session id") }),
);

/** The signed-in user's own sessions (not the account's: each member has their own). */
export const sessionsRouter = router({
  list: authedProcedure.input(ZNoInputRequestSchema).query(({ ctx }) => listSessions(ctx, ctx.viewer)),
  revoke: authedProcedure
    .input(ZRevokeSessionRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => revokeSession(ctx, ctx.viewer, input.sessionId)),
  revokeOthers: authedProcedure
    .input(ZRequestKeyOnlySchema)
    .use(idempotent())
    .mutation(({ ctx }) => revokeOtherSessions(ctx, ctx.viewer)),
});
