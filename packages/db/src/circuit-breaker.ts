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

  /** A connection could not be made, or one broke. */
  recordFailure(reason: unknown): void {
    if (this.current !== "closed" || this.closedForGood) return;
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
export function guardedPool(config: pg.PoolConfig, circuit: () => DatabaseCircuit): pg.Pool {
  class ReportingClient extends pg.Client {
    constructor(clientConfig?: pg.ClientConfig) {
      super(clientConfig);
      // A connection that breaks later (the server went away): its query fails on its own; the pool
      // removes it. The breaker counts it.
      this.on("error", (error) => circuit().recordFailure(error));
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
      // biome-ignore lint/suspicious/noExplicitAny: forwarded as given.
      return (super.connect as (...a: any[]) => any)(...args);
    }
  }

  return new GuardedPool({ ...config, Client: ReportingClient });
}

/** One round trip on a connection of its own: can a connection be made and does the server answer? */
export async function probeDatabase(config: pg.ClientConfig): Promise<void> {
  const client = new pg.Client(config);
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
  } finally {
    await client.end().catch(() => undefined);
  }
}
