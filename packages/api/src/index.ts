export {
  type Auth,
  type AuthOptions,
  createAuth,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  resolveViewer,
} from "./auth.ts";
export type { Context, Ports, Settings, Viewer } from "./context.ts";
export type { Db } from "./db.ts";
export { DEMO_USERS, seedDemoUsers } from "./demo.ts";
export {
  AppError,
  type AppErrorCode,
  DATABASE_UNAVAILABLE,
  httpStatusOf,
  UpstreamUnavailableError,
} from "./errors.ts";
export { runIdempotently, ZRequestKeySchema } from "./idempotency.ts";
export {
  classifyFailure,
  type Dependency,
  dependencyName,
  type FailureKind,
} from "./jobs/failure-kind.ts";
export { createTaskList, type TaskContext, type TaskHandler } from "./jobs/tasks.ts";
export { type Mailer, type MailInput, OutboxMailer } from "./ports/mailer.ts";
export { type EnqueueOptions, type JobQueue, PostgresJobQueue } from "./ports/queue.ts";
export { type AdminRouter, type AppRouter, adminRouter, appRouter } from "./root.ts";
export { enforceAgentLimit, listAgents } from "./services/accounts/agents.ts";
export { authenticateApiKey, hasApiAccess } from "./services/accounts/api-keys.ts";
export { type IntegrationView, integrationView } from "./services/accounts/integration.ts";
export { type JobState, queueJobsByState } from "./services/admin/jobs.ts";
export { syncSubscription } from "./services/billing/subscription-sync.ts";
export {
  type AdminPackageView,
  listPackagesForAdmin,
  syncCatalogToStripe,
} from "./services/catalog/catalog-admin.ts";
export {
  listAvailablePackages,
  type PackageView,
  packageSelection,
  toPackageView,
  toPlanDefinition,
} from "./services/catalog/packages.ts";
export {
  type Dashboard,
  type DashboardInvoice,
  dashboard,
  type QuickAction,
} from "./services/dashboard/dashboard.ts";
export { isUuid } from "./services/ids.ts";
export {
  type AuthorizeCallInput,
  authorizeCallRequest,
  CALL_DENIALS,
  type CallAuthorizationResult,
  RESERVATION_MINUTES,
  RESERVATION_TTL_MS,
} from "./services/metering/call-authorization.ts";
export { billOverage, type OverageBill, reportOverage } from "./services/metering/overage.ts";
export { type UsageCoalescerOptions, UsageIngestCoalescer } from "./services/metering/usage-coalescer.ts";
export {
  type IngestResult,
  ingestUsageEvents,
  LATE_WINDOW_DAYS,
  MAX_EVENTS_PER_BATCH,
  USAGE_REJECTION_REASONS,
  type UsageEventInput,
  type UsageEventResult,
} from "./services/metering/usage-ingest.ts";
export { currentUsage, dailyUsage, usageByAgent } from "./services/metering/usage-read.ts";
export {
  processStripeEvent,
  receiveStripeWebhook,
  replayStripeEvent,
} from "./services/subscriptions/stripe-webhooks.ts";
export * as subscriptions from "./services/subscriptions/subscriptions.ts";
export { createStripeClient, type StripeClientOptions, usesEmulator } from "./stripe/client.ts";
export { StripeBillingProvider } from "./stripe/provider.ts";
export { createCallerFactory } from "./trpc.ts";
