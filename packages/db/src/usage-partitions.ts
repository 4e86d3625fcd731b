// usage_event is partitioned by UTC month of started_at (migration `usage_event_partitions`,
// docs/usage-partitions.md). The partitions of the coming months are created ahead of time by a daily
// periodic task; a month without its partition still takes inserts (the DEFAULT partition), and creating the
// month later moves its rows out of it. Old months are detached for retention by `usage_event_detach_month`.
import type { PrismaClient } from "./generated/prisma/client.ts";

/** The months ahead of now whose partitions exist once the daily task has run (now's month included). */
export const USAGE_PARTITION_MONTHS_AHEAD = 3;

/**
 * Creates the missing partitions of usage_event from the month before `now`'s to `monthsAhead` months after
 * it (idempotent; concurrent callers queue on a lock in the database). Returns the partitions created.
 */
export async function ensureUsagePartitions(
  db: Pick<PrismaClient, "$queryRaw">,
  now: Date,
  monthsAhead: number = USAGE_PARTITION_MONTHS_AHEAD,
): Promise<string[]> {
  const rows = await db.$queryRaw<{ partition: string }[]>`
    SELECT p AS partition FROM usage_event_ensure_partitions(
      ${now}::timestamptz - interval '1 month', ${now}::timestamptz + make_interval(months => ${monthsAhead}::int)) AS p`;
  return rows.map((r) => r.partition);
}

/** The partitions of usage_event attached now, oldest first ("usage_event_2026_11", ..., "usage_event_default"). */
export async function usagePartitions(db: Pick<PrismaClient, "$queryRaw">): Promise<string[]> {
  const rows = await db.$queryRaw<{ name: string }[]>`
    SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'public.usage_event'::regclass ORDER BY c.relname`;
  return rows.map((r) => r.name);
}
