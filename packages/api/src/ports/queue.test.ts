// The job queue port on graphile-worker: several jobs in one statement behave as the same jobs added one by
// one (a key replaces its pending job; a key whose job is running gets a new job, the running one keeps going).
import { testDatabase } from "@minutely/db/vitest";
import { describe, expect, it } from "vitest";
import { PostgresJobQueue } from "./queue.ts";

const { db } = await testDatabase();
const queue = new PostgresJobQueue(db);

async function jobs(prefix: string) {
  return await db.$queryRaw<
    {
      key: string | null;
      task_identifier: string;
      queue_name: string | null;
      max_attempts: number;
      locked: boolean;
    }[]
  >`SELECT key, task_identifier, queue_name, max_attempts, locked_at IS NOT NULL AS locked
    FROM graphile_worker.jobs WHERE key LIKE ${`${prefix}%`}
    ORDER BY key NULLS LAST, id`;
}

describe("PostgresJobQueue.enqueueMany", () => {
  it("adds every job in one statement, with its task, key, queue and attempts", async () => {
    await queue.enqueueMany([
      {
        task: "report-overage",
        payload: { accountId: "a", periodStart: "p" },
        options: { jobKey: "many:1" },
      },
      {
        task: "send-usage-alert-email",
        payload: { alertId: "x" },
        options: { jobKey: "many:2", queueName: "q1", maxAttempts: 3 },
      },
    ]);
    expect(await jobs("many:")).toEqual([
      {
        key: "many:1",
        task_identifier: "report-overage",
        queue_name: null,
        max_attempts: expect.any(Number),
        locked: false,
      },
      {
        key: "many:2",
        task_identifier: "send-usage-alert-email",
        queue_name: "q1",
        max_attempts: 3,
        locked: false,
      },
    ]);
    await queue.enqueueMany([]);
  });

  it("replaces a pending job of the same key, and adds a new one beside a running one", async () => {
    await queue.enqueue("report-overage", { accountId: "a", periodStart: "p2" }, { jobKey: "again:pending" });
    await queue.enqueue("report-overage", { accountId: "b", periodStart: "p2" }, { jobKey: "again:running" });
    // A worker has taken the second (graphile-worker marks a running job this way).
    await db.$executeRaw`UPDATE graphile_worker._private_jobs SET locked_at = now(), locked_by = 'test'
      WHERE key = 'again:running'`;
    await queue.enqueueMany([
      {
        task: "report-overage",
        payload: { accountId: "a", periodStart: "p2" },
        options: { jobKey: "again:pending" },
      },
      {
        task: "report-overage",
        payload: { accountId: "b", periodStart: "p2" },
        options: { jobKey: "again:running" },
      },
    ]);
    const rows = await db.$queryRaw<
      { key: string | null; locked: boolean; payload: { accountId: string } }[]
    >`
      SELECT key, locked_at IS NOT NULL AS locked, payload FROM graphile_worker._private_jobs
      WHERE payload->>'periodStart' = 'p2' AND task_id = (SELECT id FROM graphile_worker._private_tasks
        WHERE identifier = 'report-overage')
      ORDER BY payload->>'accountId', locked_at NULLS FIRST`;
    expect(rows.map((r) => [r.payload.accountId, r.key, r.locked])).toEqual([
      ["a", "again:pending", false],
      // The new information gets a job of its own; the running one loses its key and is not retried.
      ["b", "again:running", false],
      ["b", null, true],
    ]);
  });

  it("refuses a key twice in one call", async () => {
    await expect(
      queue.enqueueMany([
        {
          task: "report-overage",
          payload: { accountId: "a", periodStart: "p" },
          options: { jobKey: "twice" },
        },
        {
          task: "report-overage",
          payload: { accountId: "a", periodStart: "p" },
          options: { jobKey: "twice" },
        },
      ]),
    ).rejects.toThrow(/repeats/);
  });
});
