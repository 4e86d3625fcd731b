export {
  type CircuitState,
  DatabaseCircuit,
  DatabaseCircuitOpenError,
  type DatabaseCircuitOptions,
} from "./circuit-breaker.ts";
export {
  type CreatePrismaClientOptions,
  createPrismaClient,
  type Database,
  databaseCircuitOf,
  databasePoolOf,
  isDatabaseUnavailable,
  sqlStateOf,
} from "./client.ts";
export * from "./generated/prisma/client.ts";
export { type ListenerState, PgListener, type PgListenerOptions } from "./listener.ts";
export {
  ENTITY_LOCKS,
  type EntityLock,
  GLOBAL_LOCKS,
  type GlobalLock,
  type LockKind,
  lockName,
  SESSION_LOCK_SQL,
  transactionLock,
} from "./locks.ts";
export { type MigrateResult, MigrationError, migrate, readMigrations } from "./migrate.ts";
export { installJobQueue, prepareDatabase, withJobQueuePool } from "./queue.ts";
export { planToRow, seedCatalog } from "./seed.ts";
export { ensureUsagePartitions, USAGE_PARTITION_MONTHS_AHEAD, usagePartitions } from "./usage-partitions.ts";
