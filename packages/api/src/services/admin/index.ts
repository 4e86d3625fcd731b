// The admin app's services: audit log, billing clock, customers, failed jobs, revenue, usage and mail,
// webhook log. Only the admin routers use them (and the queue gauge uses the jobs' state definition).
export { auditFilterOptions, listAuditLog } from "./audit-log.ts";
export {
  advanceBillingClock,
  billingClockState,
  CLOCK_CARDS,
  type ClockCard,
  clockAccounts,
  requireEmulator,
  setBillingClockCard,
} from "./billing-clock.ts";
export { applyCouponToSubscription } from "./coupons.ts";
export {
  CUSTOMER_SPEND_CAP_FILTERS,
  CUSTOMER_STATUS_FILTERS,
  customerDetail,
  listCustomers,
} from "./customers.ts";
export { adminResendInvitation } from "./invitations.ts";
export { type JobState, listFailedJobs, listJobTasks, queueJobsByState, replayFailedJob } from "./jobs.ts";
export { adminPauseSubscription, adminResumePausedSubscription } from "./pause.ts";
export { MAX_REVENUE_MONTHS, revenueOverview } from "./revenue.ts";
export { MAX_SEARCH_LENGTH } from "./sql.ts";
export { accountsNearLimit, listMail } from "./usage.ts";
export { RESENDS_PER_HOUR, resendVerificationEmail, type VerificationResent } from "./verification.ts";
export {
  listWebhookEvents,
  replayWebhookEvent,
  WEBHOOK_DISPLAY_STATUSES,
  webhookEventDetail,
} from "./webhooks.ts";
