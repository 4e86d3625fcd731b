import { z } from "zod";
import { listMail } from "../../services/admin/index.ts";
import { adminProcedure, router } from "../../trpc.ts";

export const ZMailListRequestSchema = z
  .strictObject({
    page: z.number().int().min(1).default(1),
    pageSize: z.number().int().min(1).max(100).default(20),
  })
  .default({ page: 1, pageSize: 20 });

export const adminMailRouter = router({
  /** The mail outbox (in development the outbox is the delivery), newest first. */
  list: adminProcedure.input(ZMailListRequestSchema).query(({ ctx, input }) => listMail(ctx, input)),
});
