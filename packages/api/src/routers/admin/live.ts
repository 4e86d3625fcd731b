import { liveAdminStream, sessionStillActive } from "../../services/live/index.ts";
import { adminProcedure, router } from "../../trpc.ts";
import { requireHub, trackedMessages, ZLiveRequestSchema } from "../live.ts";

export const adminLiveRouter = router({
  /** Which kinds changed (webhook log, any account's usage, reservations, alerts): the admin app re-reads them. */
  events: adminProcedure.input(ZLiveRequestSchema).subscription(({ ctx, signal }) =>
    trackedMessages(
      liveAdminStream({
        hub: requireHub(ctx.live),
        userId: ctx.viewer.userId,
        sessionActive: sessionStillActive(ctx.db, ctx.viewer.sessionId),
        signal,
      }),
    ),
  ),
});
