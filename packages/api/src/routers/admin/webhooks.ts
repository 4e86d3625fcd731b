import { z } from "zod";
import { withRequestKey } from "../../idempotency.ts";
import {
  listWebhookEvents,
  replayWebhookEvent,
  WEBHOOK_DISPLAY_STATUSES,
  webhookEventDetail,
} from "../../services/admin/index.ts";
import { adminProcedure, idempotent, router } from "../../trpc.ts";
import { ZInstantSchema } from "../dates.ts";

export const MAX_WEBHOOKS_PAGE_SIZE = 100;

const eventId = z.string().trim().min(1, "Not an event id").max(255, "Not an event id");

export const ZWebhookListRequestSchema = z
  .strictObject({
    status: z.enum(WEBHOOK_DISPLAY_STATUSES).optional(),
    /** An exact event type, or a prefix ending in a dot ("invoice."). */
    type: z
      .string()
      .trim()
      .max(120)
      .regex(/^[a-z0-9_.]*$/, "Use an event type such as invoice.paid, or a prefix such as invoice.")
      .optional(),
    cursor: z.strictObject({ receivedAt: ZInstantSchema, id: eventId }).optional(),
    /** Sent by tRPC's infinite queries; pages only go to older events. */
    direction: z.enum(["forward", "backward"]).optional(),
    limit: z.number().int().min(1).max(MAX_WEBHOOKS_PAGE_SIZE).default(25),
  })
  .default({ limit: 25 });

export const ZWebhookEventRequestSchema = z.strictObject({ id: eventId });

export const adminWebhooksRouter = router({
  /** Received Stripe events newest first, by status, with counts of the waiting, retrying and failed ones. */
  list: adminProcedure
    .input(ZWebhookListRequestSchema)
    .query(({ ctx, input }) => listWebhookEvents(ctx, input)),
  /** One event with its payload and last error. */
  get: adminProcedure
    .input(ZWebhookEventRequestSchema)
    .query(({ ctx, input }) => webhookEventDetail(ctx, input.id)),
  /** Queues a failed event again (audit-logged). */
  replay: adminProcedure
    .input(withRequestKey(ZWebhookEventRequestSchema))
    .use(idempotent())
    .mutation(({ ctx, input }) => replayWebhookEvent(ctx, ctx.viewer, input.id)),
});
