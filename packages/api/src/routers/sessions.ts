import { z } from "zod";
import { withRequestKey, ZRequestKeyOnlySchema } from "../idempotency.ts";
import { listSessions, revokeOtherSessions, revokeSession } from "../services/accounts/index.ts";
import { idempotent, router, userProcedure, ZNoInputRequestSchema } from "../trpc.ts";

export const ZRevokeSessionRequestSchema = withRequestKey(
  z.strictObject({ sessionId: z.uuid("Not a session id") }),
);

/** The signed-in user's own sessions (not the account's: each member has their own). */
export const sessionsRouter = router({
  list: userProcedure.input(ZNoInputRequestSchema).query(({ ctx }) => listSessions(ctx, ctx.viewer)),
  revoke: userProcedure
    .input(ZRevokeSessionRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => revokeSession(ctx, ctx.viewer, input.sessionId)),
  revokeOthers: userProcedure
    .input(ZRequestKeyOnlySchema)
    .use(idempotent())
    .mutation(({ ctx }) => revokeOtherSessions(ctx, ctx.viewer)),
});
