// The live-usage hub of one API replica: it hears every committed change through PostgreSQL's
// LISTEN/NOTIFY (the triggers of migration 20261206173000_live_usage_notify send {"a": account, "k": kind}
// from the writing transaction, whichever replica wrote), and wakes the open streams that may see it. It
// holds the limits: streams per user and per replica, and how long a stream may stay idle.
import { type ListenerState, PgListener } from "@minutely/db";
import { AppError } from "../errors.ts";

export const LIVE_CHANNEL = "minutely_live";

/** What changed: minutes used, reserved minutes, alerts (per account), the webhook log (no account). */
export type LiveKind = "usage" | "reservation" | "alert" | "webhook";
export const LIVE_KINDS: readonly LiveKind[] = ["usage", "reservation", "alert", "webhook"];

export interface LiveNotice {
  accountId: string | null;
  kind: LiveKind;
}

export interface LiveLimits {
  /** Open streams of one user on this replica (tabs of both apps). */
  maxStreamsPerUser: number;
  /** Open streams on this replica. */
  maxStreamsPerReplica: number;
  /** A stream that heard nothing for this long is closed (the client polls until it reopens it). */
  idleTimeoutMs: number;
}

export const DEFAULT_LIVE_LIMITS: LiveLimits = {
  maxStreamsPerUser: 5,
  maxStreamsPerReplica: 2_000,
  idleTimeoutMs: 15 * 60_000,
};

/** How long a settled shared read still serves streams woken by the same notice. */
const SHARED_READ_KEEP_MS = 1_000;

/** Why a stream's wait ended. */
export type LiveWake = "change" | "down" | "up" | "idle" | "closed";

/** Parses a notification's payload; null for anything else (never trusted further than its ids). */
export function parseLiveNotice(payload: string): LiveNotice | null {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return null;
  }
  if (!value || typeof value !== "object") return null;
  const { a, k } = value as { a?: unknown; k?: unknown };
  if (typeof k !== "string" || !(LIVE_KINDS as readonly string[]).includes(k)) return null;
  if (a !== undefined && a !== null && typeof a !== "string") return null;
  return { accountId: typeof a === "string" ? a : null, kind: k as LiveKind };
}

/** One open stream: which notices it may see, and what woke it since it last looked. */
export class LiveStream {
  #kinds = new Set<LiveKind>();
  #stateChanged = false;
  #closed = false;
  #wake: ((reason: LiveWake) => void) | null = null;
  /** Notices this stream accepted (tests check none of another account's ever reaches it). */
  delivered = 0;
  /** The hub's sequence number of the newest notice this stream accepted (or of its opening). */
  seenSeq: number;

  constructor(
    readonly userId: string,
    readonly accepts: (notice: LiveNotice) => boolean,
    private readonly hub: LiveHub,
    openedAt: number,
  ) {
    this.seenSeq = openedAt;
  }

  /** The kinds that changed since the last call (cleared). */
  takeKinds(): LiveKind[] {
    const kinds = [...this.#kinds];
    this.#kinds.clear();
    return kinds;
  }

  /** @internal the hub's notice */
  notify(notice: LiveNotice, seq: number): void {
    this.delivered += 1;
    this.seenSeq = seq;
    this.#kinds.add(notice.kind);
    this.#wake?.("change");
  }

  /** @internal the hub's state change or close */
  interrupt(reason: "down" | "up" | "closed"): void {
    if (reason === "closed") this.#closed = true;
    else this.#stateChanged = true;
    this.#wake?.(reason);
  }

  /**
   * Waits for something to tell the client: a change (after `coalesceMs`, so a burst is read once), the
   * listener going down or up, `idleMs` without a change, the hub closing or `signal` aborting (closed).
   */
  async next(options: { idleMs: number; coalesceMs: number; signal?: AbortSignal }): Promise<LiveWake> {
    const { signal } = options;
    if (this.#closed || signal?.aborted) return "closed";
    if (this.#stateChanged) {
      this.#stateChanged = false;
      return this.hub.state;
    }
    if (this.#kinds.size === 0) {
      const reason = await new Promise<LiveWake>((resolve) => {
        // Whatever ends the wait clears the others: no idle timer outlives a closed stream.
        const finish = (why: LiveWake) => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          resolve(why);
        };
        const timer = setTimeout(() => finish("idle"), options.idleMs);
        const onAbort = () => finish("closed");
        signal?.addEventListener("abort", onAbort, { once: true });
        this.#wake = finish;
      });
      this.#wake = null;
      if (reason !== "change") {
        if (reason === "down" || reason === "up") this.#stateChanged = false;
        return reason === "down" || reason === "up" ? this.hub.state : reason;
      }
    }
    if (options.coalesceMs > 0) await new Promise((resolve) => setTimeout(resolve, options.coalesceMs));
    return this.#closed || signal?.aborted ? "closed" : "change";
  }

  release(): void {
    this.hub.release(this);
  }
}

export class LiveHub {
  readonly limits: LiveLimits;
  #state: ListenerState;
  #streams = new Set<LiveStream>();
  #perUser = new Map<string, number>();
  #listener: PgListener | null = null;
  #closed = false;
  /** Numbers the notices heard, so a read can be shared by every stream it is recent enough for. */
  #seq = 0;
  #reads = new Map<string, { seq: number; promise: Promise<unknown> }>();

  /** A hub fed by `publish`/`setState` (tests); `listen` wires it to PostgreSQL. */
  constructor(limits: Partial<LiveLimits> = {}, initialState: ListenerState = "up") {
    this.limits = { ...DEFAULT_LIVE_LIMITS, ...limits };
    this.#state = initialState;
  }

  /** A hub listening on `connectionString`'s database (reconnects with backoff after a restart). */
  static async listen(options: {
    connectionString: string;
    limits?: Partial<LiveLimits>;
    onState?: (state: ListenerState, reason?: unknown) => void;
    minBackoffMs?: number;
    maxBackoffMs?: number;
  }): Promise<LiveHub> {
    const hub = new LiveHub(options.limits, "down");
    const listener = new PgListener({
      connectionString: options.connectionString,
      channel: LIVE_CHANNEL,
      onNotification: (payload) => {
        const notice = parseLiveNotice(payload);
        if (notice) hub.publish(notice);
      },
      onState: (state, reason) => {
        hub.setState(state);
        options.onState?.(state, reason);
      },
      ...(options.minBackoffMs === undefined ? {} : { minBackoffMs: options.minBackoffMs }),
      ...(options.maxBackoffMs === undefined ? {} : { maxBackoffMs: options.maxBackoffMs }),
    });
    hub.#listener = listener;
    await listener.start();
    return hub;
  }

  /** up: notifications arrive; down: none can (the streams tell their clients to poll). */
  get state(): ListenerState {
    return this.#state;
  }

  stats(): { streams: number; users: number } {
    return { streams: this.#streams.size, users: this.#perUser.size };
  }

  /** The open streams of one user (for tests and diagnostics). */
  streamsOf(userId: string): LiveStream[] {
    return [...this.#streams].filter((stream) => stream.userId === userId);
  }

  /** Opens a stream for `userId`, or refuses with TOO_MANY_REQUESTS when a limit is reached. */
  open(userId: string, accepts: (notice: LiveNotice) => boolean): LiveStream {
    if (this.#closed) {
      throw new AppError(
        "TOO_MANY_REQUESTS",
        "Live updates are stopping on this server: refresh by polling.",
      );
    }
    if (this.#streams.size >= this.limits.maxStreamsPerReplica) {
      throw new AppError(
        "TOO_MANY_REQUESTS",
        `This server holds its maximum of ${this.limits.maxStreamsPerReplica} live streams: refresh by polling.`,
      );
    }
    const mine = this.#perUser.get(userId) ?? 0;
    if (mine >= this.limits.maxStreamsPerUser) {
      throw new AppError(
        "TOO_MANY_REQUESTS",
        `You have ${mine} live streams open (at most ${this.limits.maxStreamsPerUser}): close a tab, or this one refreshes by polling.`,
      );
    }
    const stream = new LiveStream(userId, accepts, this, this.#seq);
    this.#streams.add(stream);
    this.#perUser.set(userId, mine + 1);
    return stream;
  }

  /** @internal LiveStream.release */
  release(stream: LiveStream): void {
    if (!this.#streams.delete(stream)) return;
    const left = (this.#perUser.get(stream.userId) ?? 1) - 1;
    if (left > 0) this.#perUser.set(stream.userId, left);
    else this.#perUser.delete(stream.userId);
  }

  publish(notice: LiveNotice): void {
    this.#seq += 1;
    for (const stream of this.#streams) {
      if (stream.accepts(notice)) stream.notify(notice, this.#seq);
    }
  }

  /**
   * One read shared by the streams that need the same thing (an account's tabs): `read` runs unless a read
   * of `key` began after the stream's newest notice (so it sees that change), and its answer serves every
   * stream that asks while it is that recent; kept a moment after it settles, for streams woken by the same
   * notice a little later.
   */
  shared<T>(key: string, stream: LiveStream, read: () => Promise<T>): Promise<T> {
    const entry = this.#reads.get(key);
    if (entry && entry.seq >= stream.seenSeq) return entry.promise as Promise<T>;
    const fresh = { seq: this.#seq, promise: read() as Promise<unknown> };
    this.#reads.set(key, fresh);
    const forget = () => {
      if (this.#reads.get(key) === fresh) this.#reads.delete(key);
    };
    fresh.promise.then(() => setTimeout(forget, SHARED_READ_KEEP_MS).unref(), forget);
    return fresh.promise as Promise<T>;
  }

  setState(state: ListenerState): void {
    if (this.#state === state) return;
    this.#state = state;
    // Changes while down were not notified: nothing read before counts as recent.
    this.#seq += 1;
    this.#reads.clear();
    for (const stream of this.#streams) stream.interrupt(state);
  }

  /** Ends every stream (their clients fall back to polling, then reconnect to another replica) and stops listening. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const stream of this.#streams) stream.interrupt("closed");
    await this.#listener?.close();
  }
}
