import pg from "pg";

/**
 * A comparable description of a database's public schema: tables, columns, constraints, indexes, enums.
 * A partitioned table is described once, as its parent (its partitions, made by the migrations and by
 * `usage_event_ensure_partitions`, are left out), and `partitioned` lists how each one is partitioned:
 * the one thing schema.prisma cannot say.
 */
export interface SchemaDescription {
  columns: string[];
  constraints: string[];
  indexes: string[];
  enums: string[];
  partitioned: string[];
}

/** Tables of the public schema that are partitions of another (left out of the description). */
const NOT_A_PARTITION = (table: string) => `NOT EXISTS (
  SELECT 1 FROM pg_class part JOIN pg_namespace pns ON pns.oid = part.relnamespace
  WHERE pns.nspname = 'public' AND part.relname = ${table} AND part.relispartition)`;

export async function describeSchema(connectionString: string): Promise<SchemaDescription> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const lines = async (sql: string) =>
      (await client.query<{ line: string }>(sql)).rows.map((r) => r.line).sort();
    return {
      columns: await lines(`
        SELECT table_name || '.' || column_name || ' ' || data_type
          || coalesce('(' || character_maximum_length || ')', '')
          || CASE WHEN is_nullable = 'NO' THEN ' not null' ELSE '' END
          || coalesce(' default ' || column_default, '') AS line
        FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'
          AND ${NOT_A_PARTITION("table_name")}`),
      constraints: await lines(`
        SELECT rel.relname || ' ' || con.conname || ' ' || pg_get_constraintdef(con.oid) AS line
        FROM pg_constraint con
        JOIN pg_class rel ON rel.oid = con.conrelid
        JOIN pg_namespace ns ON ns.oid = rel.relnamespace
        WHERE ns.nspname = 'public' AND rel.relname <> '_prisma_migrations' AND NOT rel.relispartition`),
      indexes: await lines(`
        SELECT replace(indexdef, ' ON ONLY ', ' ON ') AS line FROM pg_indexes
        WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'
          AND ${NOT_A_PARTITION("tablename")}`),
      enums: await lines(`
        SELECT t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) AS line
        FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
        JOIN pg_namespace ns ON ns.oid = t.typnamespace
        WHERE ns.nspname = 'public' GROUP BY t.typname`),
      partitioned: await lines(`
        SELECT rel.relname || ' ' || pg_get_partkeydef(rel.oid) AS line
        FROM pg_class rel JOIN pg_namespace ns ON ns.oid = rel.relnamespace
        WHERE ns.nspname = 'public' AND rel.relkind = 'p'`),
    };
  } finally {
    await client.end();
  }
}
