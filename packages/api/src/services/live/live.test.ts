// Live usage on real PostgreSQL: the triggers' notifications, heard by each replica's own LISTEN
// connection, reach the right subscribers through the routers (the caller's account only), within the
// limits, and a resumed stream starts from the current state.
import { randomUUID } from "node:crypto";
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { TRPCError } from "@trpc/server";
import { afterAll, describe, expect, it } from "vitest";
import type { Context, Viewer } from "../../context.ts";
import { LiveHub, type LiveLimits } from "../../ports/live.ts";
import { adminRouter, appRouter } from "../../root.ts";
import { testPorts } from "../../testing.ts";
import { createCallerFactory } from "../../trpc.ts";
import { authorizeCallRequest, ingestUsageEvents } from "../metering/index.ts";
import {
  callEvent,
  createAccount,
  createAgentRows,
  replicaClients,
  subscribe,
} from "../metering/metering.fixtures.ts";
import type { LiveAdminMessage, LiveUsageMessage } from "./live-streams.ts";

const { db, url } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
const { client, portsOn } = replicaClients(url, ports);

/** Two API replicas: each its own pool and its own LISTEN connection. */
const replicaA = { ports: portsOn(client()), hub: await LiveHub.listen({ connectionString: url }) };
const replicaB = { ports: portsOn(client()), hub: await LiveHub.listen({ connectionString: url }) };
const hubs: LiveHub[] = [replicaA.hub, replicaB.hub];
afterAll(async () => {
  await Promise.all(hubs.map((hub) => hub.close()));
});

function hubWith(limits: Partial<LiveLimits>): LiveHub {
  const hub = new LiveHub(limits);
  hubs.push(hub);
  return hub;
}

/** A session row of the user, as sign-in leaves one (streams check it before every read). */
async function signedInSession(userId: string): Promise<string> {
  const session = await db.session.create({
    data: { userId, token: randomUUID(), expiresAt: new Date(Date.now() + 3_600_000) },
  });
  return session.id;
}

async function customer(plan: "Starter" | "Pro" = "Pro") {
  const { accountId, ownerEmail, userId } = await createAccount(db);
  await subscribe(db, accountId, { plan });
  const [agent] = await createAgentRows(db, accountId, 1);
  const viewer: Viewer = {
    userId,
    email: ownerEmail,
    name: "Owner",
    role: "user",
    accountId,
    sessionId: await signedInSession(userId),
  };
  return { accountId, userId, viewer, agentId: agent?.id ?? "" };
}

type Envelope<T> = [id: string, data: T, ...unknown[]];

/** Reads a subscription message by message; `close()` ends it as a client disconnecting does. */
async function subscribeTo<T>(
  open: (caller: { signal: AbortSignal }) => Promise<AsyncIterable<unknown>>,
): Promise<{ next(): Promise<{ id: string; data: T }>; done(): Promise<boolean>; close(): Promise<void> }> {
  const abort = new AbortController();
  const iterator = (await open({ signal: abort.signal }))[Symbol.asyncIterator]();
  return {
    async next() {
      const result = await iterator.next();
      if (result.done) throw new Error("the stream ended");
      const [id, data] = result.value as Envelope<T>;
      return { id, data };
    },
    async done() {
      return (await iterator.next()).done === true;
    },
    async close() {
      abort.abort();
      await iterator.return?.();
    },
  };
}

function usageStream(hub: LiveHub, replica: typeof replicaA, viewer: Viewer, lastEventId?: string) {
  return subscribeTo<LiveUsageMessage>(({ signal }) => {
    const context: Context = { ...replica.ports, viewer, requestId: "test", live: hub };
    return createCallerFactory(appRouter)(context, { signal }).live.usage(
      lastEventId ? { lastEventId } : undefined,
    );
  });
}

function minutesOf(message: { data: LiveUsageMessage }): number | undefined {
  return message.data.status === "live" ? message.data.usage?.minutesUsed : undefined;
}

async function trpcError(promise: Promise<unknown>): Promise<TRPCError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TRPCError) return error;
    throw error;
  }
  throw new Error("expected a TRPCError");
}

describe("live usage across replicas", () => {
  it("a report accepted by replica A reaches a customer connected to replica B", async () => {
    const { accountId, viewer, agentId } = await customer();
    const stream = await usageStream(replicaB.hub, replicaB, viewer);
    const first = await stream.next();
    expect(first.data).toEqual({
      status: "live",
      usage: expect.objectContaining({ minutesUsed: 0, minutesReserved: 0, minutesLimit: 3000 }),
    });

    await ingestUsageEvents(replicaA.ports, [callEvent(accountId, 125)]);
    const afterReport = await stream.next();
    expect(minutesOf(afterReport)).toBe(3);
    expect(afterReport.id).not.toBe(first.id);

    // A call authorization on replica A reserves minutes: the customer on B sees them.
    const auth = await authorizeCallRequest(replicaA.ports, {
      accountId,
      callId: "live-call-1",
      agentId,
      direction: "outbound",
    });
    expect(auth.decision).toBe("allow");
    const afterAuthorization = await stream.next();
    expect(afterAuthorization.data).toMatchObject({ status: "live", usage: { minutesReserved: 5 } });
    await stream.close();
    expect(replicaB.hub.stats().streams).toBe(0);
  });

  it("alerts arrive as they fire", async () => {
    const { accountId, viewer } = await customer("Starter");
    const stream = await usageStream(replicaA.hub, replicaA, viewer);
    expect((await stream.next()).data).toMatchObject({ usage: { alerts: [] } });
    await ingestUsageEvents(replicaB.ports, [callEvent(accountId, 850 * 60)]);
    let message = await stream.next();
    // The rollup and the alert commit together (one notification each); a later read may fold them.
    while (message.data.status === "live" && message.data.usage?.alerts.length === 0)
      message = await stream.next();
    expect(message.data).toMatchObject({
      status: "live",
      usage: { minutesUsed: 850, alerts: [expect.objectContaining({ thresholdPercent: 80 })] },
    });
    await stream.close();
  });

  it("never wakes a customer for another account's changes", async () => {
    const mine = await customer();
    const other = await customer();
    const stream = await usageStream(replicaB.hub, replicaB, mine.viewer);
    await stream.next();
    const [open] = replicaB.hub.streamsOf(mine.viewer.userId);
    expect(open?.delivered).toBe(0);

    await ingestUsageEvents(replicaA.ports, [callEvent(other.accountId, 600)]);
    await authorizeCallRequest(replicaA.ports, {
      accountId: other.accountId,
      callId: "other-call",
      agentId: other.agentId,
      direction: "outbound",
    });
    await ingestUsageEvents(replicaA.ports, [callEvent(mine.accountId, 60)]);
    // The next message is this account's own report, and nothing of the other account woke the stream.
    expect(minutesOf(await stream.next())).toBe(1);
    expect(open?.delivered).toBe(1);
    await stream.close();
  });

  it("takes no account from the input: the stream is always the caller's own", async () => {
    const { viewer } = await customer();
    const other = await customer();
    const caller = createCallerFactory(appRouter)({ ...ports, viewer, requestId: "t", live: replicaA.hub });
    const error = await trpcError(
      caller.live.usage({ accountId: other.accountId } as unknown as { lastEventId: string }),
    );
    expect(error.code).toBe("BAD_REQUEST");
    expect(error.message).toContain("accountId");
    const admin = createCallerFactory(adminRouter)({ ...ports, viewer, requestId: "t", live: replicaA.hub });
    expect((await trpcError(admin.live.events())).code).toBe("FORBIDDEN");
  });
});

describe("limits", () => {
  it("refuses a user's stream past the per-user limit with a clear error", async () => {
    const hub = hubWith({ maxStreamsPerUser: 2 });
    const { viewer } = await customer();
    const streams = [await usageStream(hub, replicaA, viewer), await usageStream(hub, replicaA, viewer)];
    await Promise.all(streams.map((s) => s.next()));
    const third = await usageStream(hub, replicaA, viewer);
    const error = await trpcError(third.next());
    expect(error.code).toBe("TOO_MANY_REQUESTS");
    expect(error.message).toBe(
      "You have 2 live streams open (at most 2): close a tab, or this one refreshes by polling.",
    );
    // Another user is not affected; closing a stream frees its place.
    const someoneElse = await customer();
    const theirs = await usageStream(hub, replicaA, someoneElse.viewer);
    await theirs.next();
    await streams[0]?.close();
    const again = await usageStream(hub, replicaA, viewer);
    expect((await again.next()).data.status).toBe("live");
    await Promise.all([streams[1], theirs, again].map((s) => s?.close()));
    expect(hub.stats()).toEqual({ streams: 0, users: 0 });
  });

  it("refuses streams past the per-replica limit", async () => {
    const hub = hubWith({ maxStreamsPerReplica: 1 });
    const a = await customer();
    const b = await customer();
    const first = await usageStream(hub, replicaA, a.viewer);
    await first.next();
    const error = await trpcError((await usageStream(hub, replicaA, b.viewer)).next());
    expect(error.code).toBe("TOO_MANY_REQUESTS");
    expect(error.message).toContain("maximum of 1 live streams");
    await first.close();
  });

  it("closes an idle stream after telling the client", async () => {
    const hub = hubWith({ idleTimeoutMs: 200 });
    const { viewer } = await customer();
    const stream = await usageStream(hub, replicaA, viewer);
    expect((await stream.next()).data.status).toBe("live");
    expect((await stream.next()).data).toEqual({ status: "idle" });
    expect(await stream.done()).toBe(true);
    expect(hub.stats().streams).toBe(0);
  });
});

describe("shared reads", () => {
  it("an account's streams share one read per change, and never a read older than their notice", async () => {
    const hub = hubWith({});
    const accountId = "00000000-0000-4000-8000-000000000001";
    const accepts = (notice: { accountId: string | null }) => notice.accountId === accountId;
    const tabs = [hub.open("u1", accepts), hub.open("u1", accepts)];
    let reads = 0;
    const read = async () => ++reads;
    const [a, b] = tabs as [(typeof tabs)[0], (typeof tabs)[0]];
    expect([await hub.shared("k", a, read), await hub.shared("k", b, read)]).toEqual([1, 1]);
    hub.publish({ accountId, kind: "usage" });
    // Both woke for the same notice: one new read serves both.
    expect([await hub.shared("k", a, read), await hub.shared("k", b, read)]).toEqual([2, 2]);
    // Another account's notice does not make these streams read again.
    hub.publish({ accountId: "00000000-0000-4000-8000-000000000002", kind: "usage" });
    expect(await hub.shared("k", a, read)).toBe(2);
    // After an outage nothing read before counts.
    hub.setState("down");
    hub.setState("up");
    expect(await hub.shared("k", a, read)).toBe(3);
    for (const tab of tabs) tab.release();
  });
});

describe("resuming and outages", () => {
  it("resumes from the last event id without a gap", async () => {
    const { accountId, viewer } = await customer();
    const stream = await usageStream(replicaA.hub, replicaA, viewer);
    const seen = await stream.next();
    await stream.close();

    // Reported while the client was away (its connection dropped): the resumed stream starts with it.
    await ingestUsageEvents(replicaB.ports, [callEvent(accountId, 240)]);
    const resumed = await usageStream(replicaB.hub, replicaB, viewer, seen.id);
    const first = await resumed.next();
    expect(minutesOf(first)).toBe(4);
    await resumed.close();

    // Resuming at the current state sends that state again (same id: nothing changed), then each change.
    const current = await usageStream(replicaA.hub, replicaA, viewer, first.id);
    expect((await current.next()).id).toBe(first.id);
    await ingestUsageEvents(replicaB.ports, [callEvent(accountId, 30)]);
    expect(minutesOf(await current.next())).toBe(5);
    await current.close();
  });

  it("tells clients to poll while notifications cannot arrive, and goes live again", async () => {
    const hub = hubWith({});
    const { accountId, viewer } = await customer();
    const stream = await usageStream(hub, replicaA, viewer);
    const first = await stream.next();
    hub.setState("down");
    expect((await stream.next()).data).toEqual({ status: "poll" });
    await ingestUsageEvents(replicaA.ports, [callEvent(accountId, 60)]);
    hub.setState("up");
    const live = await stream.next();
    expect(minutesOf(live)).toBe(1);
    expect(live.id).not.toBe(first.id);
    await stream.close();
  });

  it("ends a stream whose session ended (signed out, expired) before it sends anything more", async () => {
    const { accountId, viewer } = await customer();
    const stream = await usageStream(replicaA.hub, replicaA, viewer);
    expect(minutesOf(await stream.next())).toBe(0);
    await ingestUsageEvents(replicaA.ports, [callEvent(accountId, 60)]);
    expect(minutesOf(await stream.next())).toBe(1);
    await db.session.delete({ where: { id: viewer.sessionId ?? "" } });
    await ingestUsageEvents(replicaB.ports, [callEvent(accountId, 120)]);
    const error = await trpcError(stream.next());
    expect(error.code).toBe("UNAUTHORIZED");
    expect(error.message).toMatch(/session has ended/);

    const expired = await customer();
    await db.session.update({
      where: { id: expired.viewer.sessionId ?? "" },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    expect((await trpcError((await usageStream(replicaA.hub, replicaA, expired.viewer)).next())).code).toBe(
      "UNAUTHORIZED",
    );
    const noSession = await customer();
    const { sessionId: _, ...withoutSession } = noSession.viewer;
    expect((await trpcError((await usageStream(replicaA.hub, replicaA, withoutSession)).next())).code).toBe(
      "UNAUTHORIZED",
    );
  });

  it("the admin stream hears webhooks and any account's usage, starting with everything", async () => {
    const staff = await customer();
    const admin: Viewer = { ...staff.viewer, role: "admin", accountId: null };
    const { accountId } = await customer();
    const stream = await subscribeTo<LiveAdminMessage>(({ signal }) =>
      createCallerFactory(adminRouter)(
        { ...replicaB.ports, viewer: admin, requestId: "t", live: replicaB.hub },
        { signal },
      ).live.events(),
    );
    expect((await stream.next()).data).toEqual({
      status: "live",
      kinds: ["usage", "reservation", "alert", "webhook"],
    });
    await ingestUsageEvents(replicaA.ports, [callEvent(accountId, 60)]);
    expect((await stream.next()).data).toEqual({ status: "live", kinds: ["usage"] });
    await replicaA.ports.db.stripeEvent.create({
      data: {
        id: `evt_live_${accountId}`,
        type: "invoice.paid",
        payload: {},
        stripeCreatedAt: clock.now(),
      },
    });
    expect((await stream.next()).data).toEqual({ status: "live", kinds: ["webhook"] });
    await stream.close();
  });
});
