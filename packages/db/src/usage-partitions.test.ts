// usage_event's monthly partitions: created ahead by ensureUsagePartitions, idempotently and under
// concurrency; old months detached for retention (usage_event_detach_month) with their rows intact and no
// foreign key left to reach into the archive.
import pg from "pg";
import { describe, expect, it, onTestFinished } from "vitest";
import { ensureUsagePartitions, usagePartitions } from "./usage-partitions.ts";
import { testDatabase } from "./vitest.ts";

const { db, url } = await testDatabase();

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  onTestFinished(() => client.end());
  return client;
}

/** Waits (polling, no time limit of its own) until the session of `client` waits on a lock. */
async function waitingOnLock(pid: number): Promise<void> {
  for (;;) {
    const [row] = await db.$queryRaw<{ waiting: boolean }[]>`
      SELECT coalesce(wait_event_type = 'Lock', false) AS waiting FROM pg_stat_activity WHERE pid = ${pid}`;
    if (row?.waiting) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A report's first step for a month that has no partition yet (DEFAULT): its call key, transaction open. */
async function reportHalfWritten(
  callId: string,
  startedAt: string,
): Promise<{ report: pg.Client; accountId: string }> {
  const [account] = await db.$queryRaw<{ id: string }[]>`
    INSERT INTO account (id, name, updated_at) VALUES (gen_random_uuid(), 'Locks', now()) RETURNING id::text`;
  const accountId = account?.id ?? "";
  const report = await connect();
  await report.query("BEGIN");
  await report.query("INSERT INTO usage_call_key (account_id, call_id, started_at) VALUES ($1, $2, $3)", [
    accountId,
    callId,
    startedAt,
  ]);
  return { report, accountId };
}

describe("usage_event partitions", () => {
  it("are created for the month before now to three months ahead, once, however many workers ask", async () => {
    const now = new Date("2040-02-29T23:59:59Z");
    const created = await Promise.all([1, 2, 3].map(() => ensureUsagePartitions(db, now)));
    expect(created.flat().sort()).toEqual([
      "usage_event_2040_01",
      "usage_event_2040_02",
      "usage_event_2040_03",
      "usage_event_2040_04",
      "usage_event_2040_05",
    ]);
    expect(await ensureUsagePartitions(db, now)).toEqual([]);
    const all = await usagePartitions(db);
    expect(all).toEqual(expect.arrayContaining(["usage_event_2040_05", "usage_event_default"]));
    const [bounds] = await db.$queryRaw<{ bound: string }[]>`
      SELECT pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_class c WHERE c.relname = 'usage_event_2040_02'`;
    expect(bounds?.bound).toBe("FOR VALUES FROM ('2040-02-01 00:00:00+00') TO ('2040-03-01 00:00:00+00')");
  });

  it("detach a month with its rows, as a standalone table no later deletion reaches; never a recent one", async () => {
    const [account] = await db.$queryRaw<{ id: string }[]>`
      INSERT INTO account (id, name, updated_at) VALUES (gen_random_uuid(), 'Old', now()) RETURNING id::text`;
    const accountId = account?.id ?? "";
    await db.$queryRaw`SELECT * FROM usage_event_ensure_partitions('2021-03-01Z', '2021-03-01Z')`;
    await db.$executeRaw`
      WITH k AS (INSERT INTO usage_call_key (account_id, call_id, started_at)
                 VALUES (${accountId}::uuid, 'old-1', '2021-03-10Z'), (${accountId}::uuid, 'old-2', '2021-03-11Z')
                 RETURNING *)
      INSERT INTO usage_event (call_id, account_id, direction, started_at, duration_seconds, billable_minutes, period_start)
      SELECT call_id, account_id, 'inbound', started_at, 60, 1, '2021-03-01Z' FROM k`;
    expect(await db.$queryRaw`SELECT usage_event_detach_month('2021-03-15Z') AS detached`).toEqual([
      { detached: "usage_event_2021_03" },
    ]);
    expect(await usagePartitions(db)).not.toContain("usage_event_2021_03");
    expect(await db.usageEvent.count({ where: { accountId } })).toBe(0);
    // The keys go in a second step (docs/usage-partitions.md); the archive keeps its rows whatever happens.
    await db.$executeRaw`
      DELETE FROM usage_call_key k USING usage_event_2021_03 d
      WHERE k.account_id = d.account_id AND k.call_id = d.call_id AND k.started_at = d.started_at`;
    await db.account.delete({ where: { id: accountId } });
    expect(await db.$queryRaw`SELECT count(*)::int AS n FROM usage_event_2021_03`).toEqual([{ n: 2 }]);
    await db.$executeRaw`DROP TABLE usage_event_2021_03`;

    // The current month (and the one before it, whose late calls may still arrive) stays.
    await expect(db.$queryRaw`SELECT usage_event_detach_month(now())`).rejects.toThrow(
      /ended less than 60 days ago/,
    );
    await expect(db.$queryRaw`SELECT usage_event_detach_month('1999-01-01Z')`).rejects.toThrow(
      /not a partition of usage_event/,
    );
  });

  it("creating a month waits for a report writing that month into DEFAULT, in the report's lock order: no deadlock", async () => {
    // A usage report writes usage_call_key, then usage_event. Partition creation used to lock DEFAULT first
    // and then usage_call_key (ATTACH adds the foreign key to it): the two deadlocked and the report got a 500.
    const { report, accountId } = await reportHalfWritten("lock-order-1", "2033-05-10Z");
    const creator = await connect();
    const [{ pid }] = (await creator.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows as [
      { pid: number },
    ];
    const creating = creator.query(
      "SELECT * FROM usage_event_ensure_partitions('2033-05-01Z', '2033-05-01Z')",
    );
    await waitingOnLock(pid);
    await report.query(
      `INSERT INTO usage_event (call_id, account_id, direction, started_at, duration_seconds, billable_minutes, period_start)
       VALUES ('lock-order-1', $1, 'outbound', '2033-05-10Z', 60, 1, '2033-05-01Z')`,
      [accountId],
    );
    await report.query("COMMIT");
    expect((await creating).rows).toEqual([{ usage_event_ensure_partitions: "usage_event_2033_05" }]);
    const rows = await db.$queryRaw<{ partition: string }[]>`
      SELECT tableoid::regclass::text AS partition FROM usage_event WHERE account_id = ${accountId}::uuid`;
    expect(rows).toEqual([{ partition: "usage_event_2033_05" }]);
  });

  it("creating a month gives up after lock_wait rather than hold every report up behind a long one", async () => {
    const { report } = await reportHalfWritten("lock-wait-1", "2034-05-10Z");
    const creator = await connect();
    await expect(
      creator.query(
        "SELECT * FROM usage_event_ensure_partitions('2034-05-01Z', '2034-05-01Z', interval '100 milliseconds')",
      ),
    ).rejects.toThrow(/lock timeout/);
    await report.query("ROLLBACK");
    expect(
      (await creator.query("SELECT * FROM usage_event_ensure_partitions('2034-05-01Z', '2034-05-01Z')")).rows,
    ).toEqual([{ usage_event_ensure_partitions: "usage_event_2034_05" }]);
  });
});
