// Background tasks of metering. Each is idempotent: running one twice changes nothing the second time.
import { z } from "zod";
import type { Ports } from "../context.ts";
import {
  BILL_OVERAGE_TASK,
  billOverage,
  REPORT_OVERAGE_TASK,
  reportOverage,
} from "../services/metering/overage.ts";
import { SEND_USAGE_ALERT_EMAIL_TASK, sendUsageAlertEmail } from "../services/metering/usage-alerts.ts";
import type { TaskHandler } from "./tasks.ts";

const ZUsageAlertEmailPayloadSchema = z.object({ alertId: z.uuid() });
const ZReportOveragePayloadSchema = z.object({ accountId: z.uuid(), periodStart: z.iso.datetime() });
const ZBillOveragePayloadSchema = z.object({
  accountId: z.uuid(),
  periodStart: z.iso.datetime(),
  fromMinutes: z.number().int().min(0),
  toMinutes: z.number().int().min(1),
  pricePerMinuteCents: z.number().int().min(0),
  currency: z.enum(["usd", "eur", "gbp"]),
  /** Absent in jobs queued before epochs existed: epoch 0. */
  epoch: z.number().int().min(0).default(0),
});

export function meteringTasks(ports: Ports): Record<string, TaskHandler> {
  return {
    /** Emails one usage alert to the account's owner (deduplicated by alert id) and stamps emailedAt. */
    [SEND_USAGE_ALERT_EMAIL_TASK]: async (payload) => {
      const { alertId } = ZUsageAlertEmailPayloadSchema.parse(payload);
      await sendUsageAlertEmail(ports, alertId);
    },
    /**
     * Decides which overage minutes of a period are unreported and enqueues their invoice item, priced by
     * the plan the period records (the one that governed it), however late the job runs.
     */
    [REPORT_OVERAGE_TASK]: async (payload) => {
      const input = ZReportOveragePayloadSchema.parse(payload);
      await reportOverage(ports, { accountId: input.accountId, periodStart: new Date(input.periodStart) });
    },
    /** Adds one decided range of overage minutes to the next Stripe invoice (idempotency key per range). */
    [BILL_OVERAGE_TASK]: async (payload) => {
      await billOverage(ports, ZBillOveragePayloadSchema.parse(payload));
    },
  };
}
