export {
  type Auth,
  type AuthOptions,
  createAuth,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  resolveViewer,
} from "./auth.ts";
export { createStripeClient, type StripeClientOptions, usesEmulator } from "./billing/stripe-client.ts";
export { StripeBillingProvider } from "./billing/stripe-provider.ts";
export type { Context, Ports, Settings, Viewer } from "./context.ts";
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
export { type Db, type EnqueueOptions, type JobQueue, PostgresJobQueue } from "./ports/queue.ts";
export { type AdminRouter, type AppRouter, adminRouter, appRouter } from "./root.ts";
export { type JobState, queueJobsByState } from "./services/admin-jobs.ts";
export { enforceAgentLimit, listAgents } from "./services/agents.ts";
export { authenticateApiKey, hasApiAccess } from "./services/api-keys.ts";
export {
  type AuthorizeCallInput,
  authorizeCallRequest,
  CALL_DENIALS,
  type CallAuthorizationResult,
  RESERVATION_MINUTES,
  RESERVATION_TTL_MS,
} from "./services/call-authorization.ts";
export {
  listAvailablePackages,
  type PackageView,
  packageSelection,
  toPackageView,
  toPlanDefinition,
} from "./services/catalog.ts";
export {
  type AdminPackageView,
  listPackagesForAdmin,
  syncCatalogToStripe,
} from "./services/catalog-admin.ts";
export {
  type Dashboard,
  type DashboardInvoice,
  dashboard,
  type QuickAction,
} from "./services/dashboard.ts";
export { type IntegrationView, integrationView } from "./services/integration.ts";
export { isUuid } from "./services/metering-account.ts";
export { billOverage, type OverageBill, reportOverage } from "./services/overage.ts";
export { processStripeEvent, receiveStripeWebhook, replayStripeEvent } from "./services/stripe-webhooks.ts";
export { syncSubscription } from "./services/subscription-sync.ts";
export * as subscriptions from "./services/subscriptions.ts";
export { type UsageCoalescerOptions, UsageIngestCoalescer } from "./services/usage-coalescer.ts";
export {
  type IngestResult,
  ingestUsageEvents,
  LATE_WINDOW_DAYS,
  MAX_EVENTS_PER_BATCH,
  USAGE_REJECTION_REASONS,
  type UsageEventInput,
  type UsageEventResult,
} from "./services/usage-ingest.ts";
export { currentUsage, dailyUsage, usageByAgent } from "./services/usage-read.ts";
export { createCallerFactory } from "./trpc.ts";
