// PostgreSQL advisory locks: every lock Minutely takes, by kind, with one way to derive its key. A lock is
// named `minutely:<kind>` (or `minutely:<kind>:<id>` for one entity) and its key is
// `hashtextextended(name, 0)`, a 64-bit hash of the name, so two takers of the same lock always agree and
// locks of different kinds (or entities) practically never share a key. Nothing stores a key: changing this
// derivation is safe as long as every taker goes through these helpers. The one exception is the migration
// lock (`migrate.ts`), which must be Prisma's own key so that `prisma migrate deploy` excludes us too.
import { Prisma } from "./generated/prisma/client.ts";

/** Locks of one entity, taken with its id. */
export const ENTITY_LOCKS = {
  /** A customer's subscription and invoice rows while a Stripe read is written (subscription sync). */
  account: "account",
  /** An account's agents: creation, activation and enforcing the package's agent limit. */
  agents: "agents",
  /** An account's team: memberships, roles, ownership and invitations change one at a time. */
  team: "team",
  /** An account's usage-alert thresholds. */
  thresholds: "thresholds",
  /** Sending one mail (by its dedupe key): concurrent retries cannot both send it. */
  mail: "mail",
  /** A worker runner's liveness (by its pool id), held on a session for as long as the runner lives. */
  workerRunner: "worker-runner",
} as const;

/** Locks of the whole database. */
export const GLOBAL_LOCKS = {
  /** Admin changes to the package catalog and their Stripe sync. */
  catalog: "catalog",
  /** Seeding the default packages into an empty catalog. */
  seedCatalog: "seed-catalog",
  /** The scale seeder (one at a time per database). */
  seedScale: "seed-scale",
  /** Installing Minutely's trigger on graphile-worker's tables. */
  jobQueueInstall: "job-queue-install",
} as const;

export type EntityLock = (typeof ENTITY_LOCKS)[keyof typeof ENTITY_LOCKS];
export type GlobalLock = (typeof GLOBAL_LOCKS)[keyof typeof GLOBAL_LOCKS];
export type LockKind = EntityLock | GlobalLock;

/** The name a lock's key is derived from. */
export function lockName(kind: EntityLock, id: string): string;
export function lockName(kind: GlobalLock): string;
export function lockName(kind: LockKind, id?: string): string {
  return id === undefined ? `minutely:${kind}` : `minutely:${kind}:${id}`;
}

/** The key of a named lock, as an SQL expression (the one hashing form). */
function keyOf(name: string): Prisma.Sql {
  return Prisma.sql`hashtextextended(${name}::text, 0)`;
}

/**
 * `SELECT pg_advisory_xact_lock(…)` for a lock: run it with `$executeRaw` inside the transaction it guards
 * (released at commit or rollback).
 */
export function transactionLock(kind: EntityLock, id: string): Prisma.Sql;
export function transactionLock(kind: GlobalLock): Prisma.Sql;
export function transactionLock(kind: LockKind, id?: string): Prisma.Sql {
  const name = id === undefined ? lockName(kind as GlobalLock) : lockName(kind as EntityLock, id);
  return Prisma.sql`SELECT pg_advisory_xact_lock(${keyOf(name)})`;
}

/**
 * The same key for SQL text run outside Prisma (node-postgres, a DO block): statements taking the lock's
 * name as their `$1` parameter, and an SQL literal of a global lock's key.
 */
export const SESSION_LOCK_SQL = {
  lock: "SELECT pg_advisory_lock(hashtextextended($1::text, 0))",
  tryLock: "SELECT pg_try_advisory_lock(hashtextextended($1::text, 0)) AS free",
  unlock: "SELECT pg_advisory_unlock(hashtextextended($1::text, 0))",
  transactionLock: "SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))",
} as const;

/** `hashtextextended('minutely:<kind>', 0)` as SQL text, for a global lock taken inside a DO block. */
export function globalLockKeyLiteral(kind: GlobalLock): string {
  return `hashtextextended('${lockName(kind)}', 0)`;
}
