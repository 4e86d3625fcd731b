import { z } from "zod";
import { withRequestKey } from "../idempotency.ts";
import {
  addThreshold,
  dismissAlert,
  listActiveAlerts,
  listThresholds,
  MAX_THRESHOLD_PERCENT,
  MIN_THRESHOLD_PERCENT,
  removeThreshold,
} from "../services/metering/index.ts";
import { accountProcedure, idempotent, router, ZNoInputRequestSchema } from "../trpc.ts";

export const ZAlertDismissRequestSchema = withRequestKey(z.strictObject({ id: z.uuid("Choose an alert.") }));

export const ZAlertThresholdRequestSchema = withRequestKey(
  z.strictObject({
    percent: z
      .number({ error: "Enter a percentage." })
      .int("Use a whole percentage.")
      .min(MIN_THRESHOLD_PERCENT, `Use at least ${MIN_THRESHOLD_PERCENT}%.`)
      .max(MAX_THRESHOLD_PERCENT, `Use at most ${MAX_THRESHOLD_PERCENT}%.`),
  }),
);

export const alertsRouter = router({
  /** Active usage alerts of the caller's account (see listActiveAlerts), newest first. */
  list: accountProcedure
    .input(ZNoInputRequestSchema)
    .query(({ ctx }) => listActiveAlerts(ctx, ctx.accountId)),
  dismiss: accountProcedure
    .input(ZAlertDismissRequestSchema)
    .use(idempotent())
    .mutation(({ ctx, input }) => dismissAlert(ctx, ctx.accountId, input.id)),
  thresholds: router({
    /** The default thresholds (80%, 100%) and the account's own (at most 5). */
    list: accountProcedure
      .input(ZNoInputRequestSchema)
      .query(({ ctx }) => listThresholds(ctx, ctx.accountId)),
    set: accountProcedure
      .input(ZAlertThresholdRequestSchema)
      .use(idempotent())
      .mutation(({ ctx, input }) => addThreshold(ctx, ctx.accountId, input.percent)),
    remove: accountProcedure
      .input(ZAlertThresholdRequestSchema)
      .use(idempotent())
      .mutation(({ ctx, input }) => removeThreshold(ctx, ctx.accountId, input.percent)),
  }),
});
