// usage_event's monthly partitions: created ahead by ensureUsagePartitions, idempotently and under
// concurrency; old months detached for retention (usage_event_detach_month) with their rows intact and no
// foreign key left to reach into the archive.
import { describe, expect, it } from "vitest";
import { ensureUsagePartitions, usagePartitions } from "./usage-partitions.ts";
import { testDatabase } from "./vitest.ts";

const { db } = await testDatabase();

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
});
