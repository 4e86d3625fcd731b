import { z } from "zod";
import { withRequestKey } from "../../idempotency.ts";
import { listFailedJobs, listJobTasks, replayFailedJob } from "../../services/admin/index.ts";
import { adminProcedure, idempotent, router, ZNoInputRequestSchema } from "../../trpc.ts";

export const MAX_JOBS_PAGE_SIZE = 100;

/** graphile-worker's job id (a bigint), as a string of at most 18 digits (always within bigint). */
const jobId = z.string().regex(/^[1-9][0-9]{0,17}$/, "Not a job id");

export const ZFailedJobListRequestSchema = z
  .strictObject({
    /** One task's failed jobs ("report-overage"); all tasks when absent. */
    task: z
      .string()
      .trim()
      .max(120)
      .regex(/^[a-z0-9_:.-]*$/, "Use a task name such as report-overage")
      .optional(),
    cursor: z.strictObject({ id: jobId }).optional(),
    /** Sent by tRPC's infinite queries; pages only go to older jobs. */
    direction: z.enum(["forward", "backward"]).optional(),
    limit: z.number().int().min(1).max(MAX_JOBS_PAGE_SIZE).default(25),
  })
  .default({ limit: 25 });

export const ZFailedJobRequestSchema = z.strictObject({ id: jobId });

export const adminJobsRouter = router({
  /** Background jobs that failed for good (every task), newest first, with counts of the queue's troubles. */
  failed: adminProcedure
    .input(ZFailedJobListRequestSchema)
    .query(({ ctx, input }) =>
      listFailedJobs(ctx, { task: input.task || undefined, cursor: input.cursor, limit: input.limit }),
    ),
  /** The task names the queue knows. */
  tasks: adminProcedure.input(ZNoInputRequestSchema).query(({ ctx }) => listJobTasks(ctx)),
  /** Queues a failed job again with a fresh count of attempts (idempotent, audit-logged). */
  replay: adminProcedure
    .input(withRequestKey(ZFailedJobRequestSchema))
    .use(idempotent())
    .mutation(({ ctx, input }) => replayFailedJob(ctx, ctx.viewer, input.id)),
});
