export {
  type Auth,
  type AuthMail,
  type AuthOptions,
  CLIENT_IP_HEADER,
  createAuth,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  RESET_PASSWORD_TOKEN_SECONDS,
  resolveViewer,
  VERIFY_EMAIL_TOKEN_SECONDS,
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
export { createTaskList } from "./jobs/registry.ts";
export {
  CRONTAB,
  InvalidTaskPayloadError,
  isTaskName,
  TASKS,
  type TaskContext,
  type TaskHandler,
  type TaskName,
  type TaskPayload,
} from "./jobs/tasks.ts";
export {
  ACCOUNT_ROLES,
  type Access,
  type AccountRole,
  isAccountRole,
  PROCEDURE_ACCESS,
  procedureAccess,
  ROUTE_ACCESS,
  roleRefusal,
  routeAllows,
} from "./permissions.ts";
export { DEFAULT_LIVE_LIMITS, LiveHub, type LiveLimits } from "./ports/live.ts";
export { type Mailer, type MailInput, OutboxMailer } from "./ports/mailer.ts";
export { type EnqueueOptions, type JobPayload, type JobQueue, PostgresJobQueue } from "./ports/queue.ts";
export { type AdminRouter, type AppRouter, adminRouter, appRouter } from "./root.ts";
export {
  authenticateApiKey,
  enforceAgentLimit,
  hasApiAccess,
  type IntegrationView,
  integrationView,
  listAgents,
} from "./services/accounts/index.ts";
export { type JobState, queueJobsByState } from "./services/admin/index.ts";
export {
  ADJUSTMENT_KINDS,
  type AdjustmentView,
  adjustAccount,
  MAX_ADJUSTMENT_REASON_LENGTH,
  MAX_BALANCE_CREDIT_CENTS,
  syncSubscription,
  type TaxDetailsView,
  taxDetailsOf,
} from "./services/billing/index.ts";
export {
  type AdminPackageView,
  listAvailablePackages,
  listPackagesForAdmin,
  type PackageView,
  syncCatalogToStripe,
  toPackageView,
  toPlanDefinition,
} from "./services/catalog/index.ts";
export {
  type Dashboard,
  type DashboardInvoice,
  dashboard,
  type QuickAction,
} from "./services/dashboard/index.ts";
export { isUuid } from "./services/ids.ts";
export type { LiveAdminMessage, LiveUsageMessage, LiveUsageSnapshot } from "./services/live/index.ts";
export {
  type AuthorizeCallInput,
  authorizeCallRequest,
  billOverage,
  CALL_DENIALS,
  type CallAuthorizationResult,
  currentUsage,
  dailyUsage,
  type IngestResult,
  ingestUsageEvents,
  LATE_WINDOW_DAYS,
  MAX_EVENTS_PER_BATCH,
  type OverageBill,
  RESERVATION_MINUTES,
  RESERVATION_TTL_MS,
  reportOverage,
  type SpendCapView,
  setSpendCap,
  spendCapView,
  USAGE_REJECTION_REASONS,
  type UsageCoalescerOptions,
  type UsageEventInput,
  type UsageEventResult,
  UsageIngestCoalescer,
  usageByAgent,
} from "./services/metering/index.ts";
export {
  type AutoTopUpView,
  assertMayBuyPacks,
  autoTopUpView,
  buyPackWithCheckout,
  buyPackWithSavedCard,
  listMinutePacks,
  listOfferedPacks,
  type MinutePackView,
  type PackLedgerView,
  packLedgerView,
  setAutoTopUp,
} from "./services/packs/index.ts";
export {
  packageSelection,
  pauseSubscription,
  processStripeEvent,
  receiveStripeWebhook,
  recordStripeEvents,
  replayStripeEvent,
  resumePausedSubscription,
  StripeWebhookInbox,
  subscriptions,
  updateTaxDetails,
} from "./services/subscriptions/index.ts";
export { createStripeClient, type StripeClientOptions, usesEmulator } from "./stripe/client.ts";
export { StripeBillingProvider } from "./stripe/provider.ts";
export { ACTING_ACCOUNT_HEADER, actingAccountOf, createCallerFactory } from "./trpc.ts";
