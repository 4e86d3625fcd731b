// The scale fill drops the usage tables' keys, indexes and foreign keys and builds them again: what it builds
// must be exactly what the migrations made, and enforced again (a duplicate call and an event without its key
// refused), partitions included.
import { databasePoolOf } from "@minutely/db";
import { testDatabase } from "@minutely/db/vitest";
import { describe, expect, it } from "vitest";
import { dropDefinitions, readDefinitions, restoreDefinitions } from "./deferred-indexes.ts";

const { db } = await testDatabase();
const pool = databasePoolOf(db);
if (!pool) throw new Error("the test database's client has no pg pool");

/** Every index of the usage tables and their partitions, by table, with its definition. */
async function allIndexes(): Promise<string[]> {
  if (!pool) throw new Error("no pool");
  const { rows } = await pool.query<{ def: string }>(
    `SELECT pg_get_indexdef(x.indexrelid) AS def
     FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid
     WHERE t.relname LIKE 'usage_event%' OR t.relname = 'usage_call_key'
     ORDER BY 1`,
  );
  return rows.map((r) => r.def);
}

describe("deferred indexes of the scale fill", () => {
  it("drops the keys, indexes and foreign keys and builds the same ones again, enforced", async () => {
    await pool.query(
      "SELECT count(*) FROM usage_event_ensure_partitions(now() - interval '2 months', now())",
    );
    const before = await readDefinitions(pool);
    expect(before.constraints.map((c) => c.kind).sort()).toEqual(["f", "f", "f", "p", "p"]);
    expect(before.indexes.length).toBeGreaterThanOrEqual(3);
    const indexesBefore = await allIndexes();

    await dropDefinitions(pool, before);
    expect(await readDefinitions(pool)).toEqual({ constraints: [], indexes: [] });
    expect(await allIndexes()).toEqual([]);

    await restoreDefinitions(pool, before);
    expect(await readDefinitions(pool)).toEqual(before);
    expect(await allIndexes()).toEqual(indexesBefore);

    // Enforced again: an event whose call key does not exist, and an unknown account.
    const account = await db.account.create({ data: { name: "deferred" } });
    await expect(
      pool.query(
        `INSERT INTO usage_event (call_id, account_id, direction, started_at, duration_seconds, billable_minutes, period_start)
         VALUES ('no-key', $1, 'inbound', now(), 60, 1, now())`,
        [account.id],
      ),
    ).rejects.toThrow(/foreign key/);
    await pool.query(
      "INSERT INTO usage_call_key (account_id, call_id, started_at) VALUES ($1, 'once', now())",
      [account.id],
    );
    await expect(
      pool.query("INSERT INTO usage_call_key (account_id, call_id, started_at) VALUES ($1, 'once', now())", [
        account.id,
      ]),
    ).rejects.toThrow(/duplicate key/);
  });
});
