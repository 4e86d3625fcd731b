// A circuit breaker in front of the application's PostgreSQL pool. While the database is known to be down
// (new connections failed), a request that needs it is refused at once, without a connection attempt: the
// 503 costs nothing, however many clients ask at once. The breaker is fed by the pool's own connection
// attempts and lost connections; while it is open one probe (a fresh connection and `SELECT 1`) is made
// after a cooldown that doubles on every failed probe, and the first probe that works closes it.
import pg from "pg";

export type CircuitState = "closed" | "open" | "half-open";

export interface DatabaseCircuitOptions {
  /** Connection failures, with no success in between and within `windowMs`, that open the circuit (2). */
  failureThreshold?: number;
  /** How recent those failures must be (ms, 10 s). */
  windowMs?: number;
  /** Wait before the first probe, doubled after each failed probe up to `maxMs` (500 ms, 5 s). */
  cooldown?: { baseMs: number; maxMs: number };
  /** Told when the state changes (logs). */
  onChange?: (state: CircuitState, reason: unknown) => void;
}

/**
 * Refused without touching the database: PostgreSQL's own SQLSTATE 57P03 ("cannot connect now") and the
 * shape of a node-postgres server error, so Prisma's driver adapter and `isDatabaseUnavailable` treat it
 * like the server refusing a connection (503 with Retry-After).
 */
export class DatabaseCircuitOpenError extends Error {
  override name = "DatabaseCircuitOpenError";
  readonly code = "57P03";
  readonly severity = "FATAL";
  constructor() {
    super("PostgreSQL could not be reached a moment ago; not trying again until a probe succeeds");
  }
}

/**
 * A query that got no answer within the pool's `query_timeout`: the server hangs (stopped, or overloaded
 * beyond use). Its connection is dropped. Shaped like a node-postgres server error with SQLSTATE 08006
 * (connection failure), so Prisma's driver adapter and `isDatabaseUnavailable` take it as the database
 * being unreachable (503 with Retry-After, an uncounted job attempt).
 */
export class DatabaseTimeoutError extends Error {
  override name = "DatabaseTimeoutError";
  readonly code = "08006";
  readonly severity = "ERROR";
  constructor(timeoutMs: number, cause: unknown) {
    super(`PostgreSQL did not answer within ${timeoutMs} ms; the connection was dropped`, { cause });
  }
}

/** node-postgres's pool: no connection became free (or could be made) within `connectionTimeoutMillis`. */
const ACQUIRE_TIMEOUT = /^timeout exceeded when trying to connect/;

export class DatabaseCircuit {
  private current: CircuitState = "closed";
  private failures: number[] = [];
  private probes = 0;
  private timer: NodeJS.Timeout | undefined;
  private closedForGood = false;
  private readonly threshold: number;
  private readonly windowMs: number;
  private readonly cooldown: { baseMs: number; maxMs: number };

  constructor(
    private readonly probe: () => Promise<void>,
    private readonly options: DatabaseCircuitOptions = {},
  ) {
    this.threshold = options.failureThreshold ?? 2;
    this.windowMs = options.windowMs ?? 10_000;
    this.cooldown = options.cooldown ?? { baseMs: 500, maxMs: 5000 };
  }

  get state(): CircuitState {
    return this.current;
  }

  /** Throws DatabaseCircuitOpenError unless the circuit is closed. */
  check(): void {
    if (this.current !== "closed") throw new DatabaseCircuitOpenError();
  }

  /** A new connection worked: the database answers. */
  recordSuccess(): void {
    this.failures = [];
  }

  /**
   * A connection could not be made, or one broke: two of them within the window open the circuit (one
   * lost connection is not an outage). Or (`timeout`) a query got no answer within `query_timeout`, or no
   * pooled connection could be had within the pool's timeout: that alone opens it. The caller already
   * waited seconds, so waiting for a second one would let a lone caller (one worker of the calling
   * platform, a small replica), whose timeouts come one wait apart, wait out the whole outage; and if the
   * database was only busy, the probe finds it answering and closes the circuit within a cooldown.
   */
  recordFailure(reason: unknown, kind: "connection" | "timeout" = "connection"): void {
    if (this.current !== "closed" || this.closedForGood) return;
    if (kind === "timeout") {
      this.open(reason);
      return;
    }
    const now = Date.now();
    this.failures = [...this.failures.filter((at) => now - at < this.windowMs), now];
    if (this.failures.length >= this.threshold) this.open(reason);
  }

  /** Stops probing (the pool is being closed). */
  dispose(): void {
    this.closedForGood = true;
    clearTimeout(this.timer);
  }

  private open(reason: unknown): void {
    this.current = "open";
    this.failures = [];
    this.options.onChange?.("open", reason);
    this.scheduleProbe();
  }

  private scheduleProbe(): void {
    if (this.closedForGood) return;
    const delay = Math.min(this.cooldown.maxMs, this.cooldown.baseMs * 2 ** Math.min(this.probes, 20));
    this.timer = setTimeout(() => void this.runProbe(), delay);
    this.timer.unref();
  }

  private async runProbe(): Promise<void> {
    if (this.closedForGood) return;
    this.current = "half-open";
    try {
      await this.probe();
    } catch {
      this.probes += 1;
      this.current = "open";
      this.scheduleProbe();
      return;
    }
    this.probes = 0;
    this.current = "closed";
    this.options.onChange?.("closed", null);
  }
}

/**
 * A node-postgres pool guarded by `circuit`: `connect()` (and so `query()`) is refused at once while the
 * circuit is not closed, and every new connection reports whether it could be made, and later whether it
 * broke.
 */
export function guardedPool(
  config: pg.PoolConfig,
  circuit: () => DatabaseCircuit,
  onStatement?: (sql: string) => void,
): pg.Pool {
  class ReportingClient extends pg.Client {
    constructor(clientConfig?: pg.ClientConfig) {
      super(clientConfig);
      // A connection that breaks later (the server went away): its query fails on its own; the pool
      // removes it. The breaker counts it.
      this.on("error", (error) => circuit().recordFailure(error));
    }

    /**
     * A query the server did not answer in time (node-postgres's `query_timeout`, a hung server) counts as
     * a failure: a database that stopped answering opens the circuit as one that refuses connections does.
     * A connection whose query got no answer is dropped (the server may still answer it later, out of
     * turn). A statement the server cancelled for running past `statement_timeout` does not count: the
     * server answered, so it is up; a slow query or a long lock wait under load must not turn every other
     * request into a 503 (that statement's own request still gets one, see isDatabaseUnavailable).
     */
    private failed(error: unknown): unknown {
      if (error instanceof Error && error.message === "Query read timeout") {
        circuit().recordFailure(error, "timeout");
        (this as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
        return new DatabaseTimeoutError(Number(config.query_timeout ?? 0), error);
      }
      return error;
    }

    // biome-ignore lint/suspicious/noExplicitAny: pg's query has promise, callback and submittable forms.
    override query(...args: any[]): any {
      if (onStatement) {
        const text: unknown = typeof args[0] === "string" ? args[0] : args[0]?.text;
        if (typeof text === "string") onStatement(text);
      }
      const last = args.length - 1;
      if (typeof args[last] === "function") {
        const callback = args[last] as (error: unknown, result?: unknown) => void;
        args[last] = (error: unknown, result?: unknown) =>
          callback(error ? this.failed(error) : error, result);
        // biome-ignore lint/suspicious/noExplicitAny: forwarded as given.
        return (super.query as (...a: any[]) => any)(...args);
      }
      // biome-ignore lint/suspicious/noExplicitAny: forwarded as given.
      const result = (super.query as (...a: any[]) => any)(...args);
      if (result && typeof result.then === "function" && typeof result.submit !== "function") {
        return result.then(undefined, (error: unknown) => {
          throw this.failed(error);
        });
      }
      return result;
    }

    // pg-pool connects its clients with a callback; the promise form is kept for anyone else.
    // biome-ignore lint/suspicious/noExplicitAny: pg's connect has a promise and a callback form.
    override connect(...args: any[]): any {
      const report = (error: Error | null | undefined) => {
        if (error) circuit().recordFailure(error);
        else circuit().recordSuccess();
      };
      const callback = args[0] as ((error: Error | null, client?: pg.Client) => void) | undefined;
      if (typeof callback === "function") {
        return super.connect((error: Error | null) => {
          report(error);
          callback(error);
        });
      }
      return super.connect().then(
        (client) => {
          report(undefined);
          return client;
        },
        (error: Error) => {
          report(error);
          throw error;
        },
      );
    }
  }

  class GuardedPool extends pg.Pool {
    // biome-ignore lint/suspicious/noExplicitAny: pg-pool's connect has a promise and a callback form.
    override connect(...args: any[]): any {
      const callback = args[0] as ((error: Error) => void) | undefined;
      try {
        circuit().check();
      } catch (error) {
        if (typeof callback === "function") {
          process.nextTick(() => callback(error as Error));
          return undefined;
        }
        return Promise.reject(error);
      }
      // No connection within the pool's timeout: every pooled one is stuck on a server that stopped
      // answering (or none can be made). That counts as a failure too, or a hung server (SIGSTOP, a
      // frozen host) would never open the circuit: it accepts connections and answers nothing.
      const report = (error: unknown) => {
        if (error instanceof Error && ACQUIRE_TIMEOUT.test(error.message)) {
          circuit().recordFailure(error, "timeout");
        }
      };
      if (typeof callback === "function") {
        // biome-ignore lint/suspicious/noExplicitAny: forwarded as given.
        return (super.connect as (...a: any[]) => any)((error: Error, ...rest: any[]) => {
          if (error) report(error);
          // biome-ignore lint/suspicious/noExplicitAny: forwarded as given.
          (callback as (...a: any[]) => void)(error, ...rest);
        });
      }
      // biome-ignore lint/suspicious/noExplicitAny: forwarded as given.
      return (super.connect as (...a: any[]) => any)(...args).catch((error: unknown) => {
        report(error);
        throw error;
      });
    }
  }

  return new GuardedPool({ ...config, Client: ReportingClient });
}

/** One round trip on a connection of its own: can a connection be made and does the server answer? */
export async function probeDatabase(config: pg.ClientConfig): Promise<void> {
  // A hung server accepts the connection and never answers: the probe gives up as a query would.
  const client = new pg.Client({ query_timeout: 5000, ...config });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
  } finally {
    await client.end().catch(() => undefined);
  }
}
