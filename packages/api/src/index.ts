export { type Auth, type AuthOptions, createAuth, MIN_PASSWORD_LENGTH, resolveViewer } from "./auth.ts";
export { createStripeClient, type StripeClientOptions, usesEmulator } from "./billing/stripe-client.ts";
export { StripeBillingProvider } from "./billing/stripe-provider.ts";
export type { Context, Ports, Viewer } from "./context.ts";
export { DEMO_USERS, seedDemoUsers } from "./demo.ts";
export { AppError, type AppErrorCode, httpStatusOf } from "./errors.ts";
export { createTaskList, type TaskContext, type TaskHandler } from "./jobs/tasks.ts";
export { type Mailer, type MailInput, OutboxMailer } from "./ports/mailer.ts";
export { type Db, type EnqueueOptions, type JobQueue, PostgresJobQueue } from "./ports/queue.ts";
export { type AdminRouter, type AppRouter, adminRouter, appRouter } from "./root.ts";
export {
  legacyUserPackages,
  listAvailablePackages,
  type PackageView,
  toPackageView,
} from "./services/catalog.ts";
export {
  legacyAdminPackages,
  syncCatalogToStripe,
} from "./services/catalog-admin.ts";
export { createCallerFactory } from "./trpc.ts";
