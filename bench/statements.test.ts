// The statement profile of the dashboard-scale figure: a PostgreSQL started with the bench's settings counts
// each statement's calls and buffers, and the comparison lines the large run's statements up with the small
// run's by query id.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedPostgres } from "@minutely/db/embedded";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import {
  compareStatementStats,
  labelOf,
  readStatementStats,
  resetStatementStats,
  STATEMENT_STATS_SETTINGS,
  type StatementStats,
} from "./statements.ts";

const server = await startEmbeddedPostgres({
  dataDir: join(mkdtempSync(join(tmpdir(), "minutely-statements-")), "data"),
  ephemeral: true,
  settings: STATEMENT_STATS_SETTINGS,
});
const pool = new pg.Pool({ connectionString: server.urlFor("postgres"), max: 2 });
// pool.end() starts closing the idle connections and resolves before they are closed; the server stopped
// right after may end one first (57P01, "terminating connection due to administrator command"), an error
// event of the pool that, without a listener, Node throws as an uncaught exception in this file.
pool.on("error", () => {});
afterAll(async () => {
  await pool.end();
  await server.stop();
});

describe("statement profile", () => {
  it("counts the calls and buffers of each statement since the reset, in this database only", async () => {
    await pool.query("CREATE TABLE IF NOT EXISTS t (id int PRIMARY KEY, v text)");
    await pool.query(
      "INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 5000) g ON CONFLICT DO NOTHING",
    );
    await resetStatementStats(pool);
    for (let i = 1; i <= 7; i++) await pool.query("SELECT v FROM t WHERE id = $1", [i]);
    await pool.query("SELECT count(*) FROM t");
    const stats = await readStatementStats(pool);
    const lookup = stats.find((s) => s.label === "SELECT v FROM t WHERE id = $1");
    const scan = stats.find((s) => s.label.startsWith("SELECT count(*) FROM t"));
    expect(lookup?.calls).toBe(7);
    // An index probe touches a few pages; the scan of 5,000 rows of 200 bytes touches more than a hundred.
    expect(lookup?.blocksPerCall).toBeGreaterThan(0);
    expect(lookup?.blocksPerCall).toBeLessThan(10);
    expect(scan?.blocksPerCall).toBeGreaterThan(100);
    expect(stats.some((s) => s.label.includes("pg_stat_statements"))).toBe(false);

    await resetStatementStats(pool);
    expect(await readStatementStats(pool)).toEqual([]);
  });

  it("lines statements up by query id, a dash where the small run did not have one", () => {
    const stat = (queryId: string, label: string, calls: number, blocks: number): StatementStats => ({
      queryId,
      label,
      calls,
      msPerCall: 1.25,
      blocksPerCall: blocks,
      readsPerCall: 0,
    });
    const table = compareStatementStats(
      [stat("1", "SELECT a", 10, 4)],
      [stat("1", "SELECT a", 12, 40), stat("2", "SELECT b | c", 3, 2)],
      { small: "10k", large: "1M" },
    );
    expect(table[0]).toContain("calls (10k / 1M)");
    expect(table[2]).toBe("| `SELECT a` | 10 / 12 | 1.25 / 1.25 | 4 / 40 | 0 / 0 |");
    expect(table[3]).toBe("| `SELECT b \\| c` | — / 3 | — / 1.25 | — / 2 | — / 0 |");
    expect(labelOf(`SELECT\n   x\n FROM ${"y".repeat(200)}`)).toHaveLength(90);
  });
});
