// Failed background jobs as admins see them: every task's, with last error, attempts and a payload summary,
// counts of what waits, and a replay that is idempotent, recorded in the audit log and run by the queue.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import type { Viewer } from "../../context.ts";
import { adminRouter, appRouter } from "../../root.ts";
import { testPorts } from "../../testing.ts";
import { createCallerFactory } from "../../trpc.ts";
import { runQueuedJobs } from "../metering/metering.fixtures.ts";
import { payloadSummary, queueJobsByState } from "./jobs.ts";

const { db, url } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });

const user = await db.user.create({ data: { email: "ops@minutely.test", name: "Ops", role: "admin" } });
const ops: Viewer = { userId: user.id, email: user.email, name: "Ops", role: "admin", accountId: null };
const caller = createCallerFactory(adminRouter)({ ...ports, viewer: ops, requestId: "test" });

/** A job as the queue leaves it: failed for good, waiting out an outage, or retrying after its own error. */
async function job(
  task: string,
  payload: Record<string, unknown>,
  state: { attempts: number; maxAttempts?: number; lastError: string | null; key?: string },
): Promise<string> {
  const [row] = await db.$queryRaw<{ id: string }[]>`
    SELECT (graphile_worker.add_job(${task}::text, ${JSON.stringify(payload)}::json,
      max_attempts => ${state.maxAttempts ?? 25}::int, job_key => ${state.key ?? null}::text)).id::text AS id`;
  const id = row?.id ?? "";
  await db.$executeRaw`
    UPDATE graphile_worker._private_jobs SET attempts = ${state.attempts}, last_error = ${state.lastError},
      run_at = now() + interval '1 hour'
    WHERE id = ${id}::bigint`;
  return id;
}

const alertEmail = await job(
  "send-usage-alert-email",
  { alertId: "00000000-0000-4000-8000-000000000001" },
  { attempts: 25, lastError: "SMTP refused the message: mailbox unavailable" },
);
const overage = await job(
  "report-overage",
  { accountId: "00000000-0000-4000-8000-000000000002", periodStart: "2026-11-01T00:00:00.000Z" },
  { attempts: 25, lastError: "account 00000000-0000-4000-8000-000000000002: a plan change is in progress" },
);
await job(
  "bill-overage",
  { accountId: "a" },
  {
    attempts: 0,
    lastError: "[outage 3] Stripe could not be reached; retried without counting an attempt: ...",
  },
);
await job(
  "process-stripe-event",
  { eventId: "evt_retry" },
  { attempts: 2, lastError: "Stripe refused a request" },
);

describe("failed jobs", () => {
  it("lists the failed jobs of every task, newest first, with error, attempts and payload", async () => {
    const page = await caller.jobs.failed();
    expect(page.items.map((j) => [j.id, j.task, j.attempts, j.maxAttempts])).toEqual([
      [overage, "report-overage", 25, 25],
      [alertEmail, "send-usage-alert-email", 25, 25],
    ]);
    expect(page.items[0]).toMatchObject({
      lastError: "account 00000000-0000-4000-8000-000000000002: a plan change is in progress",
      payloadSummary: "accountId=00000000-0000-4000-8000-000000000002, periodStart=2026-11-01T00:00:00.000Z",
    });
    expect(page.counts).toEqual({ failed: 2, waitingForDependency: 1, retrying: 1 });
    expect(page.nextCursor).toBeNull();

    const first = await caller.jobs.failed({ limit: 1 });
    expect(first.items.map((j) => j.id)).toEqual([overage]);
    const second = await caller.jobs.failed({ limit: 1, cursor: first.nextCursor ?? undefined });
    expect(second.items.map((j) => j.id)).toEqual([alertEmail]);
    expect((await caller.jobs.failed({ task: "send-usage-alert-email" })).items.map((j) => j.id)).toEqual([
      alertEmail,
    ]);
    expect(await caller.jobs.tasks()).toEqual(
      expect.arrayContaining([
        "bill-overage",
        "process-stripe-event",
        "report-overage",
        "send-usage-alert-email",
      ]),
    );
  });

  it("counts what the queue gauge reports: one definition of a job's state (a put-back job that is due too)", async () => {
    // Put back after an outage and due again now: the gauge said "ready", the admin app "waiting".
    const due = await job(
      "bill-overage",
      { accountId: "due" },
      { attempts: 0, lastError: "[outage 1] the database could not be reached; retried without counting" },
    );
    await db.$executeRaw`UPDATE graphile_worker._private_jobs SET run_at = now() - interval '1 minute'
      WHERE id = ${due}::bigint`;
    try {
      const { counts } = await caller.jobs.failed();
      const byState = new Map<string, number>();
      for (const row of await queueJobsByState(db)) {
        byState.set(row.state, (byState.get(row.state) ?? 0) + row.jobs);
      }
      expect(counts).toEqual({ failed: 2, waitingForDependency: 2, retrying: 1 });
      expect({
        failed: byState.get("failed") ?? 0,
        waitingForDependency: byState.get("waiting_for_dependency") ?? 0,
        retrying: byState.get("retrying") ?? 0,
      }).toEqual(counts);
    } finally {
      await db.$executeRaw`DELETE FROM graphile_worker._private_jobs WHERE id = ${due}::bigint`;
    }
  });

  it("refuses a malformed id or task, naming the field, and is for admins only", async () => {
    await expect(caller.jobs.replay({ id: "1; DROP TABLE x" })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: expect.stringContaining("id"),
    });
    // Beyond bigint would be PostgreSQL's error (a 500): refused before, as not an id.
    await expect(caller.jobs.replay({ id: "9".repeat(19) })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    expect((await caller.jobs.replay({ id: "9".repeat(18) })).outcome).toBe("gone");
    await expect(caller.jobs.failed({ task: "Report Overage!" })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    const customer = createCallerFactory(adminRouter)({
      ...ports,
      viewer: { ...ops, role: "user" },
      requestId: "test",
    });
    await expect(customer.jobs.failed()).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(appRouter._def.procedures).not.toHaveProperty("jobs.failed");
  });

  it("replays a failed job once (idempotent), audit-logged, and the queue runs it", async () => {
    // The alert does not exist: the replayed job fails again at once, on its own error, counted.
    const first = await caller.jobs.replay({ id: alertEmail });
    expect(first).toMatchObject({ outcome: "replayed", job: { id: alertEmail, attempts: 0 } });
    const again = await caller.jobs.replay({ id: alertEmail });
    expect(again.outcome).toBe("queued");
    const entries = (await caller.audit.list({ entityType: "job" })).items;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      actorEmail: "ops@minutely.test",
      action: "job.replay",
      entityId: alertEmail,
      before: { task: "send-usage-alert-email", attempts: 25, maxAttempts: 25 },
      after: { task: "send-usage-alert-email", attempts: 0 },
    });
    expect((await caller.jobs.failed()).counts.failed).toBe(1);

    // The overage report runs and completes (nothing to bill for an unknown account): gone from the queue.
    await caller.jobs.replay({ id: overage });
    await runQueuedJobs(url, ports);
    expect((await caller.jobs.replay({ id: overage })).outcome).toBe("gone");
    expect((await caller.audit.list({ entityType: "job" })).items).toHaveLength(2);
  });
});

describe("payloadSummary", () => {
  it("names the fields in one line, cut short", () => {
    expect(payloadSummary({ eventId: "evt_1" })).toBe("eventId=evt_1");
    expect(payloadSummary({ n: 3, nested: { a: 1 } })).toBe('n=3, nested={"a":1}');
    expect(payloadSummary({})).toBe("(empty)");
    expect(payloadSummary(null)).toBe("null");
    expect(payloadSummary({ long: "x".repeat(100) })).toBe(`long=${"x".repeat(59)}…`);
    expect(
      payloadSummary(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, "v".repeat(20)]))),
    ).toHaveLength(240);
  });
});
