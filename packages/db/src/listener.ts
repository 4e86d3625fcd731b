// One dedicated PostgreSQL connection that LISTENs on a channel (live usage: `minutely_live`, sent by the
// triggers of migration 20261206173000_live_usage_notify). It outlives PostgreSQL restarts: a lost
// connection is reopened with exponential backoff, and whoever uses it is told when it is down (no
// notification can arrive then) and up again (what happened meanwhile was not notified: re-read it).
import pg from "pg";

export type ListenerState = "up" | "down";

export interface PgListenerOptions {
  connectionString: string;
  channel: string;
  /** Each notification's payload, in order of commit. */
  onNotification: (payload: string) => void;
  /** Told each time the connection is lost (down) or listening again (up). */
  onState?: (state: ListenerState, reason?: unknown) => void;
  /** First wait before reconnecting (doubled up to maxBackoffMs). Default 250 ms. */
  minBackoffMs?: number;
  /** Default 5 s. */
  maxBackoffMs?: number;
}

export class PgListener {
  #client: pg.Client | null = null;
  #state: ListenerState = "down";
  #closed = false;
  #backoffMs: number;
  #timer: NodeJS.Timeout | null = null;
  readonly #options: PgListenerOptions;

  constructor(options: PgListenerOptions) {
    if (!/^[a-z_][a-z0-9_]*$/.test(options.channel)) throw new Error(`bad channel name ${options.channel}`);
    this.#options = options;
    this.#backoffMs = options.minBackoffMs ?? 250;
  }

  get state(): ListenerState {
    return this.#state;
  }

  /** Connects and listens; resolves after the first attempt (when it failed, retries continue in the background). */
  async start(): Promise<void> {
    await this.#connect();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => {});
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client({
      connectionString: this.#options.connectionString,
      keepAlive: true,
      connectionTimeoutMillis: 5_000,
    });
    let lost = false;
    const onLost = (reason: unknown) => {
      if (lost) return;
      lost = true;
      client.removeAllListeners("notification");
      client.end().catch(() => {});
      if (this.#client === client) this.#client = null;
      this.#setState("down", reason);
      this.#scheduleReconnect();
    };
    client.on("error", onLost);
    client.on("end", () => onLost(new Error("connection ended")));
    client.on("notification", (message) => {
      if (message.channel === this.#options.channel) this.#options.onNotification(message.payload ?? "");
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${this.#options.channel}`);
    } catch (error) {
      onLost(error);
      return;
    }
    if (this.#closed) {
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
    this.#backoffMs = this.#options.minBackoffMs ?? 250;
    this.#setState("up");
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#timer) return;
    const wait = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, this.#options.maxBackoffMs ?? 5_000);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#connect();
    }, wait);
    this.#timer.unref();
  }

  #setState(state: ListenerState, reason?: unknown): void {
    if (this.#state === state || this.#closed) return;
    this.#state = state;
    this.#options.onState?.(state, reason);
  }
}
