// A transaction of raw SQL on a plain node-postgres client of the database client's own pool (the same
// pool, circuit breaker, statement counting and timeouts Prisma uses), for hot paths whose transactions are
// raw statements only: usage ingestion. Prisma's interactive transaction sends the same statements, but
// each one passes through its query engine (about 15 % of the API's CPU on single usage reports).
import { type Database, databasePoolOf, Prisma } from "@minutely/db";
import { statementName } from "./prepared.ts";

/** What the hot paths' SQL needs of a transaction: raw statements, as Prisma's transaction client has them. */
export type SqlTransaction = Pick<Prisma.TransactionClient, "$queryRaw" | "$executeRaw">;

/** Prisma's tagged-template arguments (or one Prisma.Sql) as one Prisma.Sql. */
function sqlOf(query: TemplateStringsArray | Prisma.Sql, values: unknown[]): Prisma.Sql {
  return query instanceof Prisma.Sql ? query : Prisma.sql(query, ...values);
}

/**
 * Runs `work` in one transaction (BEGIN … COMMIT, rolled back if it throws) on a client of `db`'s pool,
 * each statement prepared once a connection. Rows come as node-postgres parses them: timestamptz as Date,
 * json as values, int4 as numbers, but int8 and numeric as strings (Prisma gives bigint and Decimal), so
 * the statements cast what they return to int or to json. Without a pool (a client not made by
 * createPrismaClient) it is Prisma's interactive transaction.
 */
export async function withSqlTransaction<T>(
  db: Database,
  options: { timeout: number; maxWait: number },
  work: (tx: SqlTransaction) => Promise<T>,
): Promise<T> {
  const pool = databasePoolOf(db);
  if (!pool) return await db.$transaction((tx) => work(tx), options);
  const client = await pool.connect();
  let broken = false;
  try {
    // Each statement keeps the pool's statement_timeout, as under Prisma; `options` is Prisma's (fallback).
    await client.query("BEGIN");
    const run = async (sql: Prisma.Sql) =>
      await client.query({ name: statementName(sql.text), text: sql.text, values: sql.values });
    const tx = {
      $queryRaw: async (query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) =>
        (await run(sqlOf(query, values))).rows,
      $executeRaw: async (query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) =>
        (await run(sqlOf(query, values))).rowCount ?? 0,
    } as unknown as SqlTransaction;
    const result = await work(tx);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    try {
      await client.query("ROLLBACK");
    } catch {
      // The connection is gone (or unusable): it leaves the pool instead of going back to it.
      broken = true;
    }
    throw error;
  } finally {
    client.release(broken);
  }
}
