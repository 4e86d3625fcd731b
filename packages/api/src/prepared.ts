import { createHash } from "node:crypto";
import { type Database, databasePoolOf, type Prisma } from "@minutely/db";
import type { Db } from "./db.ts";

/** Statement names by SQL text: a name is PostgreSQL's handle for a statement prepared on a connection. */
const names = new Map<string, string>();

export function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `m_${createHash("sha1").update(text).digest("hex").slice(0, 20)}`;
    names.set(text, name);
  }
  return name;
}

/**
 * Runs one statement of a hot path as a named prepared statement on the client's own pg pool (the same
 * pool, circuit breaker and timeouts Prisma uses): each connection parses and plans it once, and the
 * result skips Prisma's engine. Rows come as node-postgres parses them (timestamptz as Date, bigint and
 * numeric as strings). In an interactive transaction, or without a pool (a client not made by
 * createPrismaClient), it runs through Prisma on that handle.
 */
export async function preparedQuery<T>(db: Db, sql: Prisma.Sql): Promise<T[]> {
  const pool = databasePoolOf(db as Database);
  if (!pool) return await db.$queryRaw<T[]>(sql);
  const result = await pool.query({ name: statementName(sql.text), text: sql.text, values: sql.values });
  return result.rows as T[];
}
