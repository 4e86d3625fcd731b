// The webhook log and the audit log as admins see them: statuses (retrying versus gave up), filters,
// keyset pages, event detail, and a replay that the real queue processes and the audit log records.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import type { Viewer } from "../../context.ts";
import { adminRouter } from "../../root.ts";
import { testPorts } from "../../testing.ts";
import { createCallerFactory } from "../../trpc.ts";
import { runQueuedJobs } from "../metering/metering.fixtures.ts";
import { STRIPE_EVENT_MAX_ATTEMPTS } from "../subscriptions/stripe-webhooks.ts";

const { db, url } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });

async function adminViewer(email: string): Promise<Viewer> {
  const user = await db.user.create({ data: { email, name: email, role: "admin" } });
  return { userId: user.id, email, name: email, role: "admin", accountId: null };
}
const ops = await adminViewer("ops@minutely.test");
const finance = await adminViewer("finance@minutely.test");
const callerFor = (viewer: Viewer) =>
  createCallerFactory(adminRouter)({ ...ports, viewer, requestId: "test" });
const caller = callerFor(ops);

const account = await db.account.create({ data: { name: "Hooked Ltd", stripeCustomerId: "cus_hooked" } });

async function event(
  id: string,
  type: string,
  minute: number,
  state: { status: "received" | "processed" | "failed"; attempts?: number; lastError?: string },
) {
  const at = new Date(Date.UTC(2026, 10, 27, 10, minute));
  await db.stripeEvent.create({
    data: {
      id,
      type,
      payload: {
        id,
        object: "event",
        type,
        data: { object: { id: `obj_${id}`, object: type.split(".")[0], customer: "cus_hooked" } },
      },
      status: state.status,
      attempts: state.attempts ?? (state.status === "received" ? 0 : 1),
      lastError: state.lastError ?? null,
      stripeCreatedAt: at,
      receivedAt: at,
      processedAt: state.status === "processed" ? at : null,
    },
  });
}

await event("evt_1", "customer.subscription.created", 1, { status: "processed" });
await event("evt_2", "invoice.paid", 2, { status: "processed" });
await event("evt_3", "invoice.payment_failed", 3, {
  status: "failed",
  attempts: 3,
  lastError: "Stripe price price_x belongs to no Minutely package",
});
await event("evt_4", "customer.updated", 4, {
  status: "failed",
  attempts: STRIPE_EVENT_MAX_ATTEMPTS,
  lastError: "connect ECONNREFUSED 127.0.0.1:12111",
});
await event("evt_5", "invoice.finalized", 5, { status: "processed" });
await event("evt_6", "customer.subscription.updated", 6, { status: "received" });

describe("admin.webhooks", () => {
  it("lists every event newest first with its status: retrying until the queue gives up", async () => {
    const page = await caller.webhooks.list();
    expect(page.items.map((e) => [e.id, e.status, e.attempts])).toEqual([
      ["evt_6", "received", 0],
      ["evt_5", "processed", 1],
      ["evt_4", "failed", STRIPE_EVENT_MAX_ATTEMPTS],
      ["evt_3", "retrying", 3],
      ["evt_2", "processed", 1],
      ["evt_1", "processed", 1],
    ]);
    expect(page.items[2]).toMatchObject({
      lastError: "connect ECONNREFUSED 127.0.0.1:12111",
      objectId: "obj_evt_4",
    });
    expect(page.counts).toEqual({ received: 1, retrying: 1, failed: 1 });
    expect(page.nextCursor).toBeNull();
  });

  it("filters by status and by type or type prefix", async () => {
    const ids = async (input: Parameters<typeof caller.webhooks.list>[0]) =>
      (await caller.webhooks.list(input)).items.map((e) => e.id);
    expect(await ids({ status: "retrying" })).toEqual(["evt_3"]);
    expect(await ids({ status: "failed" })).toEqual(["evt_4"]);
    expect(await ids({ status: "processed" })).toEqual(["evt_5", "evt_2", "evt_1"]);
    expect(await ids({ type: "invoice." })).toEqual(["evt_5", "evt_3", "evt_2"]);
    expect(await ids({ type: "invoice.paid" })).toEqual(["evt_2"]);
    await expect(caller.webhooks.list({ type: "invoice.%" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });

  it("pages with a cursor: each event once, in order", async () => {
    const seen: string[] = [];
    let cursor: { receivedAt: Date; id: string } | undefined;
    for (let i = 0; i < 5; i++) {
      const page = await caller.webhooks.list({ limit: 4, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((e) => e.id));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(["evt_6", "evt_5", "evt_4", "evt_3", "evt_2", "evt_1"]);
  });

  it("shows one event's payload, error and account", async () => {
    const detail = await caller.webhooks.get({ id: "evt_3" });
    expect(detail).toMatchObject({
      id: "evt_3",
      type: "invoice.payment_failed",
      status: "retrying",
      attempts: 3,
      maxAttempts: STRIPE_EVENT_MAX_ATTEMPTS,
      lastError: "Stripe price price_x belongs to no Minutely package",
      account: { id: account.id, name: "Hooked Ltd" },
    });
    expect(detail.payload).toMatchObject({ data: { object: { id: "obj_evt_3" } } });
    await expect(caller.webhooks.get({ id: "evt_missing" })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("replays a failed event only: the queue processes it again and the audit log says who did it", async () => {
    await expect(caller.webhooks.replay({ id: "evt_5" })).rejects.toMatchObject({ code: "CONFLICT" });
    await expect(caller.webhooks.replay({ id: "evt_6" })).rejects.toMatchObject({ code: "CONFLICT" });

    const replayed = await caller.webhooks.replay({ id: "evt_4" });
    expect(replayed).toMatchObject({ status: "received", attempts: 0 });
    const [entry] = (await caller.audit.list({ entityType: "stripe_event" })).items;
    expect(entry).toMatchObject({
      actorEmail: "ops@minutely.test",
      action: "webhook.replay",
      entityId: "evt_4",
      before: {
        status: "failed",
        attempts: STRIPE_EVENT_MAX_ATTEMPTS,
        lastError: "connect ECONNREFUSED 127.0.0.1:12111",
      },
    });

    await runQueuedJobs(url, ports);
    const processed = await caller.webhooks.get({ id: "evt_4" });
    expect(processed).toMatchObject({ status: "processed", attempts: 1, lastError: null });
    expect((await caller.webhooks.list()).counts).toEqual({ received: 1, retrying: 1, failed: 0 });
  });
});

describe("an event about an object Stripe does not know", () => {
  it("fails at once for good (Stripe's 404 is permanent), says why, and is not retried", async () => {
    await event("evt_ghost", "customer.subscription.updated", 7, { status: "received" });
    await db.stripeEvent.update({
      where: { id: "evt_ghost" },
      data: {
        payload: {
          id: "evt_ghost",
          object: "event",
          type: "customer.subscription.updated",
          data: { object: { id: "sub_never_created", object: "subscription", customer: "cus_hooked" } },
        },
      },
    });
    await db.$executeRaw`
      SELECT graphile_worker.add_job('process-stripe-event', json_build_object('eventId', 'evt_ghost'),
        job_key => 'stripe-event:evt_ghost', max_attempts => ${STRIPE_EVENT_MAX_ATTEMPTS})`;
    await runQueuedJobs(url, ports);

    const detail = await caller.webhooks.get({ id: "evt_ghost" });
    expect(detail).toMatchObject({ status: "failed", attempts: 1 });
    expect(detail.lastError).toMatch(/^Not retried: Stripe has no such object: .*sub_never_created/);
    expect(detail.lastError).toMatch(/404 resource_missing/);
    expect(await caller.webhooks.list({ status: "failed" })).toMatchObject({
      items: [{ id: "evt_ghost", status: "failed" }],
    });
    // Nothing left for the queue: the job ended instead of waiting for its next attempt.
    const jobs = await db.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM graphile_worker.jobs WHERE key = 'stripe-event:evt_ghost'`;
    expect(Number(jobs[0]?.n)).toBe(0);

    // An admin may still replay it: it is processed again (and fails for good again).
    await caller.webhooks.replay({ id: "evt_ghost" });
    expect(await caller.webhooks.get({ id: "evt_ghost" })).toMatchObject({ status: "received" });
    await runQueuedJobs(url, ports);
    expect(await caller.webhooks.get({ id: "evt_ghost" })).toMatchObject({ status: "failed", attempts: 1 });
    await db.stripeEvent.delete({ where: { id: "evt_ghost" } });
  });
});

describe("admin.audit", () => {
  it("filters by admin, entity and date range, newest first, with keyset pages", async () => {
    const entry = (actor: Viewer, entityType: string, entityId: string, at: string) =>
      db.auditLog.create({
        data: {
          actorUserId: actor.userId,
          actorEmail: actor.email,
          action: `${entityType}.update`,
          entityType,
          entityId,
          after: { at },
          createdAt: new Date(at),
        },
      });
    await entry(ops, "package", "pkg-1", "2026-11-01T09:00:00Z");
    await entry(finance, "package", "pkg-2", "2026-11-10T09:00:00Z");
    await entry(finance, "account", account.id, "2026-11-10T23:59:59Z");
    await entry(ops, "account", account.id, "2026-11-11T00:00:00Z");
    await entry(finance, "catalog", "catalog", "2026-11-20T09:00:00Z");

    const ids = async (input: Parameters<typeof caller.audit.list>[0]) =>
      (await caller.audit.list(input)).items.filter((e) => e.action !== "webhook.replay").map((e) => e.after);
    expect(await ids({ actorUserId: finance.userId })).toEqual([
      { at: "2026-11-20T09:00:00Z" },
      { at: "2026-11-10T23:59:59Z" },
      { at: "2026-11-10T09:00:00Z" },
    ]);
    expect(await ids({ entityType: "account" })).toEqual([
      { at: "2026-11-11T00:00:00Z" },
      { at: "2026-11-10T23:59:59Z" },
    ]);
    expect(await ids({ entityType: "account", entityId: account.id, actorUserId: ops.userId })).toEqual([
      { at: "2026-11-11T00:00:00Z" },
    ]);
    // Dates are whole UTC days, both ends included.
    expect(await ids({ from: "2026-11-10", to: "2026-11-10" })).toEqual([
      { at: "2026-11-10T23:59:59Z" },
      { at: "2026-11-10T09:00:00Z" },
    ]);
    expect(await ids({ from: "2026-11-11" })).toEqual([
      { at: "2026-11-20T09:00:00Z" },
      { at: "2026-11-11T00:00:00Z" },
    ]);
    await expect(caller.audit.list({ from: "2026-11-12", to: "2026-11-11" })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });

    const first = await caller.audit.list({ limit: 2, to: "2026-11-30" });
    expect(first.items).toHaveLength(2);
    const second = await caller.audit.list({
      limit: 10,
      to: "2026-11-30",
      cursor: first.nextCursor ?? undefined,
    });
    expect([...first.items, ...second.items].map((e) => e.id)).toEqual(
      (await caller.audit.list({ limit: 100, to: "2026-11-30" })).items.map((e) => e.id),
    );
    expect(second.nextCursor).toBeNull();
  });

  it("offers the admins and entity types found in the log as filters", async () => {
    const filters = await callerFor(finance).audit.filters();
    expect(filters.actors).toEqual([
      { userId: finance.userId, email: "finance@minutely.test" },
      { userId: ops.userId, email: "ops@minutely.test" },
    ]);
    expect(filters.entityTypes).toEqual(["account", "catalog", "package", "stripe_event"]);
  });
});

describe("dates the admin lists refuse (found by the attack on issue 19)", () => {
  it("answers a day or a cursor outside 1970-9999 with a 400 naming the field, never a database error", async () => {
    const farPast = new Date(-8.64e15);
    const farFuture = new Date(8.64e15);
    const attempts: [string, Promise<unknown>][] = [
      ["from", caller.audit.list({ from: "0000-01-01" })],
      ["to", caller.audit.list({ to: "0001-12-31" })],
      [
        "cursor",
        caller.audit.list({ cursor: { createdAt: farPast, id: "00000000-0000-4000-8000-000000000000" } }),
      ],
      [
        "cursor",
        caller.audit.list({ cursor: { createdAt: farFuture, id: "00000000-0000-4000-8000-000000000000" } }),
      ],
      ["cursor", caller.webhooks.list({ cursor: { receivedAt: farPast, id: "evt_1" } })],
    ];
    for (const [field, attempt] of attempts) {
      const error = (await attempt.then(
        () => null,
        (e: unknown) => e,
      )) as { code?: string; message?: string } | null;
      expect(error?.code, field).toBe("BAD_REQUEST");
      expect(error?.message, field).toContain(field);
    }
    // The first day of 1970 and today are fine.
    await caller.audit.list({ from: "1970-01-01", to: "2026-12-06" });
  });
});
