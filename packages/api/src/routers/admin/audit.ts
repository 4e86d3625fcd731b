import { z } from "zod";
import { auditFilterOptions, listAuditLog } from "../../services/admin/index.ts";
import { adminProcedure, router, ZNoInputRequestSchema } from "../../trpc.ts";
import { ZDaySchema, ZInstantSchema } from "../dates.ts";

export const MAX_AUDIT_PAGE_SIZE = 100;
const DAY_MS = 86_400_000;

/** A calendar day, "2026-11-27", read as UTC. */
const day = ZDaySchema;

export const ZAuditListRequestSchema = z
  .strictObject({
    actorUserId: z.uuid("Not an admin id").optional(),
    entityType: z.string().trim().min(1).max(40).optional(),
    entityId: z.string().trim().min(1).max(255).optional(),
    /** First day shown (UTC, inclusive). */
    from: day.optional(),
    /** Last day shown (UTC, inclusive). */
    to: day.optional(),
    cursor: z.strictObject({ createdAt: ZInstantSchema, id: z.uuid() }).optional(),
    /** Sent by tRPC's infinite queries; pages only go to older entries. */
    direction: z.enum(["forward", "backward"]).optional(),
    limit: z.number().int().min(1).max(MAX_AUDIT_PAGE_SIZE).default(25),
  })
  .refine((input) => !input.from || !input.to || input.from <= input.to, {
    message: "The end date is before the start date",
    path: ["to"],
  })
  .default({ limit: 25 });

export const adminAuditRouter = router({
  /** Admin actions newest first, filtered by admin, entity and date range (UTC days). */
  list: adminProcedure.input(ZAuditListRequestSchema).query(({ ctx, input }) =>
    listAuditLog(ctx, {
      actorUserId: input.actorUserId,
      entityType: input.entityType,
      entityId: input.entityId,
      from: input.from ? new Date(`${input.from}T00:00:00Z`) : undefined,
      to: input.to ? new Date(new Date(`${input.to}T00:00:00Z`).getTime() + DAY_MS) : undefined,
      cursor: input.cursor,
      limit: input.limit,
    }),
  ),
  /** The admins and entity types present in the log, for the filters. */
  filters: adminProcedure.input(ZNoInputRequestSchema).query(({ ctx }) => auditFilterOptions(ctx)),
});
