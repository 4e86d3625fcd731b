// withJobQueuePool: the pool graphile-worker's one-shot calls run on keeps its error handlers until every
// connection is closed, and is ended before it returns (graphile-worker's own pool for a connection string
// was neither: a connection terminated while it ended raised an unhandled error, seen in CI when a test
// file's database was dropped right after running its queued jobs).
import type pg from "pg";
import { describe, expect, it } from "vitest";
import { installJobQueue, withJobQueuePool } from "./queue.ts";
import { testDatabase } from "./vitest.ts";

const { db, url } = await testDatabase();

async function terminate(pid: number): Promise<void> {
  await db.$queryRaw`SELECT pg_terminate_backend(${pid}::int)`;
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe("withJobQueuePool", () => {
  it("ends its pool, every connection closed, before it returns", async () => {
    let kept: pg.Pool | undefined;
    const answer = await withJobQueuePool(url, async (pool) => {
      kept = pool;
      await Promise.all([pool.query("SELECT pg_sleep(0.05)"), pool.query("SELECT pg_sleep(0.05)")]);
      expect(pool.totalCount).toBe(2);
      return "done";
    });
    expect(answer).toBe("done");
    expect(kept?.ended).toBe(true);
    expect(kept?.totalCount).toBe(0);
  });

  it("takes a connection the server terminates while idle in the pool without an unhandled error", async () => {
    await withJobQueuePool(url, async (pool) => {
      const { rows } = await pool.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      expect(pool.idleCount).toBe(1);
      await terminate(rows[0]?.pid ?? 0);
      // pg-pool drops the broken connection once its error arrives (emitted on the pool).
      await until(() => pool.totalCount === 0);
    });
  });

  it("takes a connection the server terminates while checked out without an unhandled error", async () => {
    await withJobQueuePool(url, async (pool) => {
      const client = await pool.connect();
      const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      await terminate(rows[0]?.pid ?? 0);
      // node-postgres marks the client unusable when the server's error arrives (and emits it as an event).
      await until(() => (client as unknown as { _queryable: boolean })._queryable === false);
      await expect(client.query("SELECT 1")).rejects.toThrow();
      client.release(true);
    });
  });

  it("ends its pool when the work fails", async () => {
    let kept: pg.Pool | undefined;
    await expect(
      withJobQueuePool(url, async (pool) => {
        kept = pool;
        await pool.query("SELECT 1");
        throw new Error("the work failed");
      }),
    ).rejects.toThrow("the work failed");
    expect(kept?.ended).toBe(true);
    expect(kept?.totalCount).toBe(0);
  });
});

describe("installJobQueue", () => {
  it("installs graphile-worker's schema and the queue-unlock trigger, again without harm", async () => {
    // The test database was made from a template it ran on; a second run (a deploy, a restart) changes nothing.
    await installJobQueue(url);
    const triggers = await db.$queryRaw<{ name: string; enabled: string }[]>`
      SELECT t.tgname AS name, t.tgenabled::text AS enabled FROM pg_trigger t
      JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'graphile_worker' AND c.relname = '_private_job_queues'
        AND t.tgname = 'minutely_notify_queue_unlocked'`;
    expect(triggers).toEqual([{ name: "minutely_notify_queue_unlocked", enabled: "O" }]);
    const [migrations] = await db.$queryRaw<{ count: number }[]>`
      SELECT count(*)::int AS count FROM graphile_worker.migrations`;
    expect(migrations?.count).toBeGreaterThan(0);
  });
});
