// Bulk loads of tens of millions of usage events (the dashboard-scale figure, issue #20's 100M run) spend most
// of their time keeping five btrees and two foreign keys up to date row by row. Like pg_restore, the fill
// drops them first and builds them once at the end (a sorted build, checked constraints validated in one
// pass). The definitions are read from the catalog just before, so they are exactly what the migrations made.
import type pg from "pg";

export const DEFERRED_TABLES = ["usage_event", "usage_call_key"] as const;

export interface DeferredDefinitions {
  /** Foreign keys, primary keys and unique constraints: table, name, definition. */
  constraints: { table: string; name: string; kind: "p" | "u" | "f"; definition: string }[];
  /** Indexes that back no constraint: name and CREATE INDEX statement. */
  indexes: { name: string; definition: string }[];
}

/** The constraints and indexes of the usage tables (their partitioned parents' own, not the partitions'). */
export async function readDefinitions(client: pg.Pool | pg.ClientBase): Promise<DeferredDefinitions> {
  const constraints = await client.query<{
    table: string;
    name: string;
    kind: "p" | "u" | "f";
    definition: string;
  }>(
    `SELECT c.conrelid::regclass::text AS "table", c.conname AS name, c.contype AS kind,
            pg_get_constraintdef(c.oid) AS definition
     FROM pg_constraint c
     WHERE c.conrelid = ANY($1::regclass[]) AND c.contype IN ('p', 'u', 'f') AND c.conparentid = 0
     ORDER BY c.conname`,
    [DEFERRED_TABLES],
  );
  const indexes = await client.query<{ name: string; definition: string }>(
    `SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition
     FROM pg_index x
     JOIN pg_class i ON i.oid = x.indexrelid
     WHERE x.indrelid = ANY($1::regclass[])
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid)
     ORDER BY i.relname`,
    [DEFERRED_TABLES],
  );
  return { constraints: constraints.rows, indexes: indexes.rows };
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Drops them: foreign keys first (they depend on the unique indexes), then keys, then plain indexes. */
export async function dropDefinitions(
  client: pg.Pool | pg.ClientBase,
  defs: DeferredDefinitions,
): Promise<void> {
  const order = { f: 0, u: 1, p: 2 } as const;
  for (const c of [...defs.constraints].sort((a, b) => order[a.kind] - order[b.kind]))
    await client.query(`ALTER TABLE ${c.table} DROP CONSTRAINT ${quote(c.name)}`);
  for (const i of defs.indexes) await client.query(`DROP INDEX ${quote(i.name)}`);
}

/** Builds them again from their definitions: plain indexes, keys, then the foreign keys (validated). */
export async function restoreDefinitions(
  client: pg.Pool | pg.ClientBase,
  defs: DeferredDefinitions,
  onBuilt: (name: string, seconds: number) => void = () => {},
): Promise<void> {
  const order = { p: 0, u: 1, f: 2 } as const;
  // pg_get_indexdef writes a partitioned table's index as `ON ONLY` (the parent alone, left invalid until
  // each partition's index is attached); built without ONLY it is built on every partition and attached.
  for (const i of defs.indexes) {
    const started = performance.now();
    await client.query(i.definition.replace(" ON ONLY ", " ON "));
    onBuilt(i.name, (performance.now() - started) / 1000);
  }
  for (const c of [...defs.constraints].sort((a, b) => order[a.kind] - order[b.kind])) {
    const started = performance.now();
    await client.query(`ALTER TABLE ${c.table} ADD CONSTRAINT ${quote(c.name)} ${c.definition}`);
    onBuilt(c.name, (performance.now() - started) / 1000);
  }
}
