// The store behind @fastify/rate-limit: fixed-window counters in PostgreSQL (table rate_limit_bucket), so
// every replica counts against the same limit and a restart does not reset it. One atomic statement per hit,
// timed by the database's clock (replicas with skewed clocks agree). A failing database fails the request:
// the error handler answers 503 with Retry-After, as it does for every other query (never a silent pass).
import { createHmac } from "node:crypto";
import type {
  FastifyRateLimitOptions,
  FastifyRateLimitStore,
  FastifyRateLimitStoreCtor,
} from "@fastify/rate-limit";
import type { Database } from "@minutely/db";

/** The largest count kept (PostgreSQL's int4): a key hammered for a whole window cannot overflow it. */
const MAX_COUNT = 2_147_483_647;

export interface RateLimitBucketsOptions {
  db: Database;
  /** Keys are stored as HMAC-SHA256(secret, route + client): no raw addresses or API keys in the table. */
  secret: string;
  /** Expired rows are deleted at most this often per process (sooner while a sweep finds a full batch). */
  sweepEveryMs?: number;
  /** Rows deleted per sweep statement, so a sweep stays short however many rows have piled up. */
  sweepBatch?: number;
  /** Called when a sweep fails (it is retried on a later hit; the hit itself is not affected). */
  onSweepError?: (error: unknown) => void;
}

/** What the plugin passes to a child store besides the limit's options: the route it counts for. */
interface WithRouteInfo {
  routeInfo?: { method?: string | string[]; url?: string };
  /** Routes with the same `groupId` in their rate-limit config share one counter per client. */
  groupId?: string;
}
type IncrCallback = (error: Error | null, result?: { current: number; ttl: number }) => void;

/**
 * The shared counters. `storeClass()` is what @fastify/rate-limit's `store` option takes; each route gets a
 * child store whose keys are prefixed with the route, so sign-in and sign-up keep separate counters per
 * client, as the plugin's in-memory store does; routes with a `groupId` (the customer API) share one.
 */
export class RateLimitBuckets {
  private readonly db: Database;
  private readonly secret: string;
  private readonly sweepEveryMs: number;
  private readonly sweepBatch: number;
  private readonly onSweepError: (error: unknown) => void;
  private nextSweepAt = 0;
  private sweeping: Promise<number> | null = null;

  constructor(options: RateLimitBucketsOptions) {
    this.db = options.db;
    this.secret = options.secret;
    this.sweepEveryMs = options.sweepEveryMs ?? 60_000;
    this.sweepBatch = options.sweepBatch ?? 1000;
    this.onSweepError = options.onSweepError ?? (() => {});
  }

  /** The stored key of a client on a route. */
  keyOf(namespace: string, key: string): string {
    return createHmac("sha256", this.secret).update(`${namespace}\n${key}`).digest("hex");
  }

  /**
   * Counts one hit in the key's window, starting a new window when the stored one has ended. Returns the
   * count in the window and the milliseconds until the window ends.
   */
  async hit(namespace: string, key: string, windowMs: number): Promise<{ current: number; ttl: number }> {
    const rows = await this.db.$queryRaw<{ count: number; ttl: number }[]>`
      INSERT INTO rate_limit_bucket AS b (key, count, window_end)
      VALUES (${this.keyOf(namespace, key)}, 1, now() + ${windowMs}::float8 * interval '1 millisecond')
      ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN b.window_end <= now() THEN 1 ELSE LEAST(b.count, ${MAX_COUNT - 1}) + 1 END,
        window_end = CASE WHEN b.window_end <= now() THEN excluded.window_end ELSE b.window_end END
      RETURNING count, GREATEST(0, extract(epoch FROM window_end - now()) * 1000)::float8 AS ttl`;
    const row = rows[0];
    if (!row) throw new Error("rate_limit_bucket: the upsert returned no row");
    this.maybeSweep();
    return { current: row.count, ttl: Math.ceil(row.ttl) };
  }

  /** Forgets a key's count (a correct password clears the failed attempts before it). */
  async reset(namespace: string, key: string): Promise<void> {
    await this.db.$executeRaw`DELETE FROM rate_limit_bucket WHERE key = ${this.keyOf(namespace, key)}`;
  }

  /** Deletes up to `sweepBatch` rows whose window has ended; returns how many. */
  async sweep(): Promise<number> {
    return await this.db.$executeRaw`
      DELETE FROM rate_limit_bucket WHERE key IN (
        SELECT key FROM rate_limit_bucket WHERE window_end < now() LIMIT ${this.sweepBatch}
        FOR UPDATE SKIP LOCKED)`;
  }

  /** The sweep in flight, if any (tests wait for it). */
  get pendingSweep(): Promise<number> | null {
    return this.sweeping;
  }

  /** Starts a sweep when one is due and none is running; never delays or fails the hit. */
  private maybeSweep(): void {
    if (this.sweeping || Date.now() < this.nextSweepAt) return;
    this.nextSweepAt = Date.now() + this.sweepEveryMs;
    this.sweeping = this.sweep()
      .then((deleted) => {
        // A full batch means more rows are waiting: go again on the next hit rather than a minute later.
        if (deleted >= this.sweepBatch) this.nextSweepAt = 0;
        return deleted;
      })
      .catch((error: unknown) => {
        this.onSweepError(error);
        return 0;
      })
      .finally(() => {
        this.sweeping = null;
      });
  }

  /** A store class for @fastify/rate-limit (`store:`), counting in these buckets. */
  storeClass(): FastifyRateLimitStoreCtor {
    const buckets = this;
    return class PostgresRateLimitStore implements FastifyRateLimitStore {
      private readonly namespace: string;

      constructor(options: FastifyRateLimitOptions | WithRouteInfo) {
        const { routeInfo: route, groupId } = options as WithRouteInfo;
        const method = route?.method;
        const url = route?.url ?? "";
        this.namespace = groupId
          ? `group ${groupId}`
          : `${Array.isArray(method) ? method.join(",") : (method ?? "")} ${url}`.trim();
      }

      incr(key: string, callback: IncrCallback, timeWindow: number): void {
        buckets.hit(this.namespace, key, timeWindow).then(
          (result) => callback(null, result),
          (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
        );
      }

      child(routeOptions: object): FastifyRateLimitStore {
        return new PostgresRateLimitStore(routeOptions as WithRouteInfo);
      }
    };
  }
}
