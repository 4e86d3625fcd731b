import { TRPCError, tracked } from "@trpc/server";
import { z } from "zod";
import { AppError, toTRPCError } from "../errors.ts";
import type { LiveHub } from "../ports/live.ts";
import { liveUsageStream, sessionStillActive } from "../services/live/index.ts";
import { accountProcedure, router } from "../trpc.ts";

/**
 * A subscription's input: the id of the last message the client saw (sent by tRPC itself on a reconnect).
 * The stream always starts with the current state (a snapshot, so nothing is missed); the client compares
 * its id with this one to know whether anything changed while it was away.
 */
export const ZLiveRequestSchema = z
  .strictObject({ lastEventId: z.string().max(100, "Not an event id").nullish() })
  .optional();

export function requireHub(hub: LiveHub | undefined): LiveHub {
  if (hub) return hub;
  throw new TRPCError({
    code: "NOT_IMPLEMENTED",
    message: "Live updates are not served here: poll instead.",
  });
}

/** Tracked messages (tRPC's `tracked`, so a reconnect sends Last-Event-Id); services' errors as tRPC errors. */
export async function* trackedMessages<T>(messages: AsyncGenerator<{ id: string; data: T }>) {
  try {
    for await (const message of messages) yield tracked(message.id, message.data);
  } catch (error) {
    throw error instanceof AppError ? toTRPCError(error) : error;
  }
}

export const liveRouter = router({
  /**
   * The caller's account's usage, live: minutes used, reserved minutes, alerts. A message when it changes
   * (within a second of a usage report or call authorization on any replica), "poll" while changes cannot
   * be heard, "idle" before it closes an idle stream; TOO_MANY_REQUESTS past the limits.
   */
  usage: accountProcedure.input(ZLiveRequestSchema).subscription(({ ctx, signal }) =>
    trackedMessages(
      liveUsageStream(ctx, {
        hub: requireHub(ctx.live),
        userId: ctx.viewer.userId,
        accountId: ctx.accountId,
        sessionActive: sessionStillActive(ctx.db, ctx.viewer.sessionId, ctx.accountId),
        signal,
      }),
    ),
  ),
});
