// The URL search parameters of the admin's list pages: filters and pages live in the URL, so a view can
// be reloaded, shared and navigated back to. Anything invalid falls back to the default.
import { z } from "zod";

const page = z.coerce.number().int().min(1).max(100_000).catch(1).optional();
const text = (max: number) => z.string().trim().max(max).catch("").optional();

export const CUSTOMER_STATUS_OPTIONS = [
  { value: "all", label: "All customers" },
  { value: "access", label: "Paying (active, trial, past due)" },
  { value: "active", label: "Active" },
  { value: "past_due", label: "Past due" },
  { value: "unpaid", label: "Unpaid" },
  { value: "canceled", label: "Canceled" },
  { value: "incomplete", label: "Incomplete" },
  { value: "incomplete_expired", label: "Expired" },
  { value: "trialing", label: "Trial" },
  { value: "paused", label: "Paused" },
  { value: "unknown", label: "Unknown" },
  { value: "none", label: "Never subscribed" },
] as const;
export type CustomerStatusOption = (typeof CUSTOMER_STATUS_OPTIONS)[number]["value"];

export const ZCustomersSearch = z.object({
  q: text(100),
  status: z
    .enum(CUSTOMER_STATUS_OPTIONS.map((o) => o.value) as [CustomerStatusOption, ...CustomerStatusOption[]])
    .catch("all")
    .optional(),
  page,
});
export type CustomersSearch = z.infer<typeof ZCustomersSearch>;

export const ZUsageSearch = z.object({
  min: z.coerce.number().int().min(1).max(1000).catch(80).optional(),
  page,
  mailPage: page,
});
export type UsageSearch = z.infer<typeof ZUsageSearch>;

export const WEBHOOK_STATUS_OPTIONS = ["received", "processed", "retrying", "failed"] as const;
export type WebhookStatusOption = (typeof WEBHOOK_STATUS_OPTIONS)[number];

export const ZWebhooksSearch = z.object({
  status: z.enum(WEBHOOK_STATUS_OPTIONS).optional().catch(undefined),
  type: z
    .string()
    .trim()
    .max(120)
    .regex(/^[a-z0-9_.]*$/)
    .optional()
    .catch(undefined),
});
export type WebhooksSearch = z.infer<typeof ZWebhooksSearch>;

const day = z.iso.date().optional().catch(undefined);

export const ZAuditSearch = z.object({
  actor: z.uuid().optional().catch(undefined),
  entityType: z.string().trim().min(1).max(40).optional().catch(undefined),
  entityId: z.string().trim().min(1).max(255).optional().catch(undefined),
  from: day,
  to: day,
});
export type AuditSearch = z.infer<typeof ZAuditSearch>;

export const ZClockSearch = z.object({
  account: z.uuid().optional().catch(undefined),
  q: text(100),
});
export type ClockSearch = z.infer<typeof ZClockSearch>;

export const ZRevenueSearch = z.object({
  months: z.coerce.number().int().min(3).max(24).catch(12).optional(),
});
export type RevenueSearch = z.infer<typeof ZRevenueSearch>;
