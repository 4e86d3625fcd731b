export { type Auth, type AuthOptions, createAuth, MIN_PASSWORD_LENGTH, resolveViewer } from "./auth.ts";
export type { Context, Ports, Viewer } from "./context.ts";
export { DEMO_USERS, seedDemoUsers } from "./demo.ts";
export { AppError, type AppErrorCode, httpStatusOf } from "./errors.ts";
export { type AdminRouter, type AppRouter, adminRouter, appRouter } from "./root.ts";
export { listAvailablePackages, type PackageView, toPackageView } from "./services/catalog.ts";
export { createCallerFactory } from "./trpc.ts";
