import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/prisma/client.ts";

export interface CreatePrismaClientOptions {
  /** Maximum connections in this process's pool. */
  poolSize?: number;
}

/** The one way the application gets a database client: Prisma 7 over node-postgres. */
export function createPrismaClient(
  connectionString: string,
  options: CreatePrismaClientOptions = {},
): PrismaClient {
  const adapter = new PrismaPg({
    connectionString,
    max: options.poolSize ?? 10,
    // Keep a restart of PostgreSQL survivable: idle connections are recycled instead of hanging around dead.
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    // A peer that vanished without closing the socket (a failed-over host) is noticed, not waited on forever.
    keepAlive: true,
  });
  // Under load a transaction waits for a pooled connection as long as a plain query does (the pool's
  // connectionTimeoutMillis), not Prisma's default 2 s, after which it would fail as a 500.
  return new PrismaClient({ adapter, transactionOptions: { maxWait: 10_000, timeout: 30_000 } });
}

export type Database = PrismaClient;

/** Prisma error codes meaning the server could not be reached or the connection was lost. */
const UNAVAILABLE_PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024", "P2037"]);
/** Driver adapter error kinds with the same meaning (Prisma 7 with @prisma/adapter-pg). */
const UNAVAILABLE_ADAPTER_KINDS = new Set([
  "DatabaseNotReachable",
  "ConnectionClosed",
  "SocketTimeout",
  "TooManyConnections",
]);
/**
 * SQLSTATEs of a server that is going away, starting up or full: class 08 (connection exception),
 * 57P01-57P03 (shutdown, crash, cannot connect now) and 53300 (too many connections).
 */
const UNAVAILABLE_SQLSTATE = /^(08[0-9A-Z]{3}|57P0[123]|53300)$/;
/** node-postgres's own errors for a connection that broke or could not be made in time. */
const UNAVAILABLE_DRIVER_MESSAGES =
  /^(Connection terminated|Client has encountered a connection error and is not queryable|timeout exceeded when trying to connect|Client was closed and is not queryable)/;

function unavailableCode(code: unknown): boolean {
  return typeof code === "string" && (UNAVAILABLE_PRISMA_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code));
}

/**
 * True when an error (or one of its causes) says PostgreSQL cannot be reached right now, as opposed to a
 * query that is wrong: the caller should answer 503 and retry later, not 500. The pool reconnects by itself
 * once the server is back, so nothing else needs to happen.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== null && typeof current === "object"; depth++) {
    const candidate = current as {
      code?: unknown;
      message?: unknown;
      meta?: { driverAdapterError?: { cause?: { kind?: unknown; originalCode?: unknown } } };
      cause?: unknown;
    };
    if (unavailableCode(candidate.code)) return true;
    const adapterCause = candidate.meta?.driverAdapterError?.cause;
    if (adapterCause) {
      if (typeof adapterCause.kind === "string" && UNAVAILABLE_ADAPTER_KINDS.has(adapterCause.kind))
        return true;
      if (unavailableCode(adapterCause.originalCode)) return true;
    }
    if (typeof candidate.message === "string" && UNAVAILABLE_DRIVER_MESSAGES.test(candidate.message))
      return true;
    current = candidate.cause;
  }
  return false;
}
