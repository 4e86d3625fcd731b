import { PrismaPg } from "@prisma/adapter-pg";
import type pg from "pg";
import {
  DatabaseCircuit,
  type DatabaseCircuitOptions,
  guardedPool,
  probeDatabase,
} from "./circuit-breaker.ts";
import { PrismaClient } from "./generated/prisma/client.ts";

export interface CreatePrismaClientOptions {
  /** Maximum connections in this process's pool. */
  poolSize?: number;
  /** The circuit breaker's settings (see circuit-breaker.ts); on by default. */
  circuit?: DatabaseCircuitOptions;
  /** How long to wait for a pooled connection, or to make one (ms, 10 s). */
  connectTimeoutMs?: number;
  /**
   * The most a statement may run on the server (`statement_timeout`, ms, 15 s; 0 for none): a query stuck
   * behind a lock or on an overloaded server is cancelled instead of holding its connection and request.
   */
  statementTimeoutMs?: number;
  /**
   * The most to wait for a query's answer (node-postgres's `query_timeout`, ms, 20 s; 0 for none): a hung
   * server (stopped, frozen host) does not answer at all and `statement_timeout` cannot fire, so requests
   * in flight would otherwise wait for as long as the outage lasts. The connection is dropped and the
   * breaker counts it.
   */
  queryTimeoutMs?: number;
  /** Told the text of every statement sent (tests that check what the hot paths ask the database). */
  onStatement?: (sql: string) => void;
}

const circuits = new WeakMap<PrismaClient, DatabaseCircuit>();

/** The circuit breaker in front of a client's pool (made by createPrismaClient). */
export function databaseCircuitOf(db: PrismaClient): DatabaseCircuit | undefined {
  return circuits.get(db);
}

const pools = new WeakMap<PrismaClient, pg.Pool>();

/**
 * The node-postgres pool under a client (made by createPrismaClient), for what Prisma's driver adapter does
 * not offer: `pnpm bench` runs its dashboard floor as a named prepared statement on it
 * (bench/dashboard-floor.ts). The application itself goes through Prisma.
 */
export function databasePoolOf(db: PrismaClient): pg.Pool | undefined {
  return pools.get(db);
}

/**
 * The one way the application gets a database client: Prisma 7 over node-postgres, behind a circuit
 * breaker that refuses queries at once (no connection attempt) while PostgreSQL is known to be down.
 */
export function createPrismaClient(
  connectionString: string,
  options: CreatePrismaClientOptions = {},
): PrismaClient {
  const config: pg.PoolConfig = {
    connectionString,
    max: options.poolSize ?? 10,
    // Keep a restart of PostgreSQL survivable: idle connections are recycled instead of hanging around dead.
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    // A peer that vanished without closing the socket (a failed-over host) is noticed, not waited on forever.
    keepAlive: true,
  };
  const statementTimeout = options.statementTimeoutMs ?? 15_000;
  const queryTimeout = options.queryTimeoutMs ?? 20_000;
  if (statementTimeout > 0) config.statement_timeout = statementTimeout;
  if (queryTimeout > 0) config.query_timeout = queryTimeout;
  const circuit = new DatabaseCircuit(
    () =>
      probeDatabase({
        connectionString,
        connectionTimeoutMillis: Math.min(5000, config.connectionTimeoutMillis ?? 5000),
      }),
    options.circuit,
  );
  const pool = guardedPool(config, () => circuit, options.onStatement);
  pool.on("error", () => {
    // An idle connection was lost (the breaker counted it); the pool drops it and makes a new one later.
  });
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  // Under load a transaction waits for a pooled connection as long as a plain query does (the pool's
  // connectionTimeoutMillis), not Prisma's default 2 s, after which it would fail as a 500.
  const client = new PrismaClient({ adapter, transactionOptions: { maxWait: 10_000, timeout: 30_000 } });
  circuits.set(client, circuit);
  pools.set(client, pool);
  const end = pool.end.bind(pool);
  pool.end = (() => {
    circuit.dispose();
    return end();
  }) as typeof pool.end;
  return client;
}

export type Database = PrismaClient;

/**
 * Prisma error codes meaning the server could not be reached or the connection was lost, or that it could
 * not serve the request in time: P2024 (no connection from the pool in time) and P2028 (the interactive
 * transaction expired, for example waiting on a row lock): the work was rolled back, a retry may succeed.
 */
const UNAVAILABLE_PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024", "P2028", "P2037"]);
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

/** PostgreSQL cancelled the statement for running past `statement_timeout` (57014 is also a user's cancel). */
const STATEMENT_TIMEOUT = /canceling statement due to statement timeout/;

/**
 * Node's socket errors (an `errno` code on the error node-postgres passes on as it is, from a connection
 * refused while the server restarts or reset while it goes away): the server cannot be reached.
 */
const UNAVAILABLE_SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);

function unavailableCode(code: unknown): boolean {
  return (
    typeof code === "string" &&
    (UNAVAILABLE_PRISMA_CODES.has(code) ||
      UNAVAILABLE_SQLSTATE.test(code) ||
      UNAVAILABLE_SOCKET_CODES.has(code))
  );
}

/** An error and its causes (`cause`, then its `cause`, ...), at most 8 deep: what the checks below walk. */
function* causeChain(error: unknown): Generator<object> {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== null && typeof current === "object"; depth++) {
    yield current;
    current = (current as { cause?: unknown }).cause;
  }
}

/**
 * The SQLSTATE PostgreSQL answered with, found on the error or one of its causes (node-postgres's `code`,
 * or the driver adapter's `originalCode` inside a Prisma error), else undefined.
 */
export function sqlStateOf(error: unknown): string | undefined {
  // Five characters, not one of Prisma's own codes (P1000-P6999; PL/pgSQL's are P0000-P0004).
  const SQLSTATE = /^(?!P[1-9])[0-9A-Z]{5}$/;
  for (const current of causeChain(error)) {
    const candidate = current as {
      code?: unknown;
      originalCode?: unknown;
      meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } };
    };
    const adapterCode = candidate.meta?.driverAdapterError?.cause?.originalCode;
    if (typeof adapterCode === "string" && SQLSTATE.test(adapterCode)) return adapterCode;
    if (typeof candidate.originalCode === "string" && SQLSTATE.test(candidate.originalCode))
      return candidate.originalCode;
    if (typeof candidate.code === "string" && SQLSTATE.test(candidate.code)) return candidate.code;
  }
  return undefined;
}

/**
 * True when an error (or one of its causes) says PostgreSQL cannot be reached right now, as opposed to a
 * query that is wrong: the caller should answer 503 and retry later, not 500. The pool reconnects by itself
 * once the server is back, so nothing else needs to happen.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (const current of causeChain(error)) {
    const candidate = current as {
      code?: unknown;
      message?: unknown;
      meta?: { driverAdapterError?: { cause?: { kind?: unknown; originalCode?: unknown } } };
    };
    if (unavailableCode(candidate.code)) return true;
    if (
      candidate.code === "57014" &&
      typeof candidate.message === "string" &&
      STATEMENT_TIMEOUT.test(candidate.message)
    )
      return true;
    const adapterCause = candidate.meta?.driverAdapterError?.cause;
    if (adapterCause) {
      if (typeof adapterCause.kind === "string" && UNAVAILABLE_ADAPTER_KINDS.has(adapterCause.kind))
        return true;
      if (unavailableCode(adapterCause.originalCode)) return true;
      const original = adapterCause as { originalCode?: unknown; originalMessage?: unknown };
      if (
        original.originalCode === "57014" &&
        typeof original.originalMessage === "string" &&
        STATEMENT_TIMEOUT.test(original.originalMessage)
      )
        return true;
    }
    if (typeof candidate.message === "string" && UNAVAILABLE_DRIVER_MESSAGES.test(candidate.message))
      return true;
  }
  return false;
}
