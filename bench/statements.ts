// The per-statement profile of a measurement (issue #20: "what bounds it, with the profile that shows it"):
// pg_stat_statements (loaded by the bench's PostgreSQL) counts each statement's calls, execution time and
// shared buffers touched. Buffers per call do not depend on what else the machine runs, so they show
// whether a read grows with the table (more pages per call) or only got slower (the same pages, not in
// memory, or a busy machine) — the question the dashboard-scale figure raises.
import type pg from "pg";

/** Server settings that load pg_stat_statements. */
export const STATEMENT_STATS_SETTINGS = [
  "shared_preload_libraries=pg_stat_statements",
  "pg_stat_statements.track=all",
] as const;

export interface StatementStats {
  queryId: string;
  /** The statement's text, whitespace folded, cut to `LABEL_LENGTH` characters. */
  label: string;
  calls: number;
  /** Milliseconds of execution per call (planning excluded). */
  msPerCall: number;
  /** Shared buffers hit or read per call. */
  blocksPerCall: number;
  /** Of those, read from outside PostgreSQL's buffer cache (the OS cache or the disk) per call. */
  readsPerCall: number;
}

const LABEL_LENGTH = 90;

/** Creates the extension in the bench's database (once) and forgets every counter so far. */
export async function resetStatementStats(pool: pg.Pool): Promise<void> {
  await pool.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  await pool.query("SELECT pg_stat_statements_reset()");
}

/** The statements run since the last reset in this database, most total execution time first. */
export async function readStatementStats(pool: pg.Pool, limit = 12): Promise<StatementStats[]> {
  const { rows } = await pool.query<{
    queryid: string;
    query: string;
    calls: string;
    total_exec_time: number;
    blocks: string;
    reads: string;
  }>(
    `SELECT queryid::text, query, calls::text, total_exec_time,
       (shared_blks_hit + shared_blks_read)::text AS blocks, shared_blks_read::text AS reads
     FROM pg_stat_statements
     WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND calls > 0 AND query NOT ILIKE '%pg_stat_statements%'
     ORDER BY total_exec_time DESC
     LIMIT $1`,
    [limit],
  );
  return rows.map((r) => {
    const calls = Number(r.calls);
    return {
      queryId: r.queryid,
      label: labelOf(r.query),
      calls,
      msPerCall: r.total_exec_time / calls,
      blocksPerCall: Number(r.blocks) / calls,
      readsPerCall: Number(r.reads) / calls,
    };
  });
}

export function labelOf(query: string): string {
  const folded = query.replace(/\s+/g, " ").trim();
  return folded.length > LABEL_LENGTH ? `${folded.slice(0, LABEL_LENGTH - 1)}…` : folded;
}

/**
 * A markdown table of the statements of the large measurement beside the same statements (by query id) of
 * the small one: which grew in pages per call, which only in time.
 */
export function compareStatementStats(
  small: readonly StatementStats[],
  large: readonly StatementStats[],
  names: { small: string; large: string },
): string[] {
  const bySmall = new Map(small.map((s) => [s.queryId, s]));
  const num = (n: number, digits = 1) => n.toLocaleString("en-US", { maximumFractionDigits: digits });
  const pipe = (text: string) => text.replace(/\|/g, "\\|");
  return [
    `| statement | calls (${names.small} / ${names.large}) | ms per call | buffers per call | of them read from outside shared buffers |`,
    "| --- | --- | --- | --- | --- |",
    ...large.map((l) => {
      const s = bySmall.get(l.queryId);
      const pair = (a: number | undefined, b: number, digits?: number) =>
        `${a === undefined ? "—" : num(a, digits)} / ${num(b, digits)}`;
      return `| \`${pipe(l.label)}\` | ${pair(s?.calls, l.calls, 0)} | ${pair(s?.msPerCall, l.msPerCall, 2)} | ${pair(s?.blocksPerCall, l.blocksPerCall)} | ${pair(s?.readsPerCall, l.readsPerCall)} |`;
    }),
  ];
}
