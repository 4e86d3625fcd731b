export {
  type CreatePrismaClientOptions,
  createPrismaClient,
  type Database,
  isDatabaseUnavailable,
} from "./client.ts";
export * from "./generated/prisma/client.ts";
export { type MigrateResult, MigrationError, migrate, readMigrations } from "./migrate.ts";
export { installJobQueue, prepareDatabase } from "./queue.ts";
export { planToRow, seedCatalog } from "./seed.ts";
