import pg from "pg";

/** A comparable description of a database's public schema: tables, columns, constraints, indexes, enums. */
export interface SchemaDescription {
  columns: string[];
  constraints: string[];
  indexes: string[];
  enums: string[];
}

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
        WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`),
      constraints: await lines(`
        SELECT rel.relname || ' ' || con.conname || ' ' || pg_get_constraintdef(con.oid) AS line
        FROM pg_constraint con
        JOIN pg_class rel ON rel.oid = con.conrelid
        JOIN pg_namespace ns ON ns.oid = rel.relnamespace
        WHERE ns.nspname = 'public' AND rel.relname <> '_prisma_migrations'`),
      indexes: await lines(`
        SELECT indexdef AS line FROM pg_indexes
        WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'`),
      enums: await lines(`
        SELECT t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) AS line
        FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
        JOIN pg_namespace ns ON ns.oid = t.typnamespace
        WHERE ns.nspname = 'public' GROUP BY t.typname`),
    };
  } finally {
    await client.end();
  }
}
