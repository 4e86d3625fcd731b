// The streams the SPAs subscribe to (tRPC subscriptions over server-sent events). A notification carries
// only ids; the stream re-reads what its viewer may see (the customer's own account, checked when the
// stream opens: notices of other accounts never wake it) and sends it with a tracked id. Resuming with the
// last id seen (lastEventId) always starts with the current state, so nothing that happened while the
// client was away is missed; the id is the state's version, so an unchanged state is not sent twice (the
// first message of a connection excepted: a client resuming at that id learns it is live, nothing changed).
import { createHash, randomUUID } from "node:crypto";
import { isDatabaseUnavailable } from "@minutely/db";
import type { Ports } from "../../context.ts";
import { AppError } from "../../errors.ts";
import {
  LIVE_KINDS,
  type LiveHub,
  type LiveKind,
  type LiveNotice,
  type LiveStream,
} from "../../ports/live.ts";
import { currentUsage, listActiveAlerts } from "../metering/index.ts";

/** A change is read this long after its notification, so the notices of one write are read once. */
export const LIVE_COALESCE_MS = 25;

/** What the customer's dashboard and usage page show live. */
export interface LiveUsageSnapshot {
  periodStart: Date;
  minutesUsed: number;
  minutesLimit: number;
  usagePercentage: number;
  minutesReserved: number;
  calls: number;
  alerts: { id: string; thresholdPercent: number; kind: string }[];
}

export type LiveUsageMessage =
  /** The current state (null: no subscription yet). The client refreshes what it shows. */
  | { status: "live"; usage: LiveUsageSnapshot | null }
  /** Notifications cannot arrive now (PostgreSQL out of reach): poll until a "live" message comes. */
  | { status: "poll" }
  /** Closed for being idle: the client polls and reopens the stream when the user is back. */
  | { status: "idle" };

export type LiveAdminMessage =
  | { status: "live"; kinds: LiveKind[] }
  | { status: "poll" }
  | { status: "idle" };

export interface Tracked<T> {
  id: string;
  data: T;
}

export async function readLiveUsage(
  ports: Pick<Ports, "db" | "clock">,
  accountId: string,
): Promise<LiveUsageSnapshot | null> {
  const [usage, alerts] = await Promise.all([
    currentUsage(ports, accountId),
    listActiveAlerts(ports, accountId),
  ]);
  if (!usage) return null;
  return {
    periodStart: usage.period.start,
    minutesUsed: usage.minutesUsed,
    minutesLimit: usage.minutesLimit,
    usagePercentage: usage.usagePercentage,
    minutesReserved: usage.minutesReserved,
    calls: usage.calls,
    alerts: alerts.map((a) => ({ id: a.id, thresholdPercent: a.thresholdPercent, kind: a.kind })),
  };
}

/** The version of a state: the same state has the same id on every replica. */
function versionOf(usage: LiveUsageSnapshot | null): string {
  return `v1-${createHash("sha256").update(JSON.stringify(usage)).digest("hex").slice(0, 20)}`;
}

/** Wait before reading again when PostgreSQL did not answer. */
export const LIVE_READ_RETRY_MS = 1_000;

/** Waits `ms` (a change to read), or less when the client goes away (closed). */
async function pause(ms: number, signal: AbortSignal | undefined): Promise<"change" | "closed"> {
  if (signal?.aborted) return "closed";
  return await new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve("closed");
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve("change");
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

interface StreamOptions {
  hub: LiveHub;
  userId: string;
  /**
   * Whether the session the stream was opened with is still signed in (sessionStillActive). Asked before
   * every read, so nothing is sent once the user signed out, the session expired or was revoked.
   */
  sessionActive: () => Promise<boolean>;
  signal?: AbortSignal | undefined;
}

/**
 * A stream's session check: the session row exists and has not expired (better-auth deletes the row on
 * sign-out and on revocation; its expiry is wall-clock time, as better-auth measures it), and, for a
 * customer's stream, its user is still a member of the stream's account (a member who left or was removed
 * hears nothing more). No session id (a viewer not signed in with a session) is never active: the stream
 * fails closed.
 */
export function sessionStillActive(
  db: Ports["db"],
  sessionId: string | undefined,
  accountId?: string,
): () => Promise<boolean> {
  return async () => {
    if (!sessionId) return false;
    const session = await db.session.findFirst({
      where: {
        id: sessionId,
        expiresAt: { gt: new Date() },
        ...(accountId ? { user: { memberships: { some: { accountId } } } } : {}),
      },
      select: { id: true },
    });
    return session !== null;
  };
}

/** Thrown into a stream whose session ended: the client stops listening and signs in again. */
function sessionEnded(): AppError {
  return new AppError("UNAUTHORIZED", "Your session has ended. Sign in again to see live usage.");
}

async function* follow<T>(
  stream: LiveStream,
  options: StreamOptions,
  read: (kinds: LiveKind[]) => Promise<Tracked<T> | null>,
  poll: () => Tracked<T>,
  idle: () => Tracked<T>,
): AsyncGenerator<Tracked<T>> {
  const { hub, signal } = options;
  // The first state is always sent, also to a client resuming at it (same id): it tells the client the
  // stream is live again; the client compares the id with its last one to know whether anything changed.
  let lastId: string | null = null;
  let wake: Awaited<ReturnType<LiveStream["next"]>> = hub.state === "up" ? "change" : "down";
  let kinds: LiveKind[] = [];
  /** The client was told to poll and has not been told it is live again. */
  let polling = false;
  for (;;) {
    if (wake === "closed") return;
    if (wake === "idle") {
      yield idle();
      return;
    }
    if (wake === "down") {
      const message = poll();
      lastId = message.id; // the next state is sent even if unchanged: it ends the polling
      polling = true;
      yield message;
    } else {
      let message: Tracked<T> | null;
      try {
        if (!(await options.sessionActive())) throw sessionEnded();
        message = await read(kinds);
      } catch (error) {
        // PostgreSQL out of reach (restarting; the pool's circuit still open): poll, and read again shortly.
        if (!isDatabaseUnavailable(error)) throw error;
        if (!polling) {
          const message = poll();
          lastId = message.id;
          polling = true;
          yield message;
        }
        wake = await pause(LIVE_READ_RETRY_MS, signal);
        continue;
      }
      if (message && message.id !== lastId) {
        lastId = message.id;
        polling = false;
        yield message;
      }
    }
    wake = await stream.next({ idleMs: hub.limits.idleTimeoutMs, coalesceMs: LIVE_COALESCE_MS, signal });
    kinds = stream.takeKinds();
  }
}

/** The customer's live usage: the account's minutes used, reserved minutes and active alerts. */
export async function* liveUsageStream(
  ports: Pick<Ports, "db" | "clock">,
  options: StreamOptions & { accountId: string },
): AsyncGenerator<Tracked<LiveUsageMessage>> {
  const { accountId } = options;
  const stream = options.hub.open(
    options.userId,
    (notice: LiveNotice) => notice.accountId === accountId && notice.kind !== "webhook",
  );
  try {
    yield* follow<LiveUsageMessage>(
      stream,
      options,
      // The account's streams (its tabs, on this replica) share one read per change.
      () =>
        options.hub.shared(`usage:${accountId}`, stream, async () => {
          const usage = await readLiveUsage(ports, accountId);
          return { id: versionOf(usage), data: { status: "live" as const, usage } };
        }),
      () => ({ id: `poll-${randomUUID()}`, data: { status: "poll" } }),
      () => ({ id: `idle-${randomUUID()}`, data: { status: "idle" } }),
    );
  } finally {
    stream.release();
  }
}

/**
 * The admin app's live changes: webhook log entries and any account's usage. Carries only which kinds
 * changed (the admin app re-reads its own queries); its first message says everything may have changed,
 * so a resumed stream misses nothing.
 */
export async function* liveAdminStream(options: StreamOptions): AsyncGenerator<Tracked<LiveAdminMessage>> {
  const stream = options.hub.open(options.userId, () => true);
  const boot = randomUUID().slice(0, 8);
  let seq = 0;
  let first = true;
  try {
    yield* follow<LiveAdminMessage>(
      stream,
      options,
      async (kinds) => {
        seq += 1;
        const all = first || kinds.length === 0;
        first = false;
        return { id: `${boot}-${seq}`, data: { status: "live", kinds: all ? [...LIVE_KINDS] : kinds } };
      },
      () => ({ id: `${boot}-poll-${++seq}`, data: { status: "poll" } }),
      () => ({ id: `${boot}-idle-${++seq}`, data: { status: "idle" } }),
    );
  } finally {
    stream.release();
  }
}
