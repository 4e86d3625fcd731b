-- usage_event becomes a table partitioned by month of started_at (PostgreSQL declarative partitioning), with
-- a DEFAULT partition so that an insert never fails for want of a partition, and usage_call_key, one row per
-- recorded call, keeps each call's key (account_id, call_id) unique across the partitions (a unique index of
-- a partitioned table must contain the partition key). See docs/usage-partitions.md.
--
-- Prisma cannot describe partitioning: schema.prisma models the same columns, keys, indexes and foreign keys
-- (the drift test compares them), and this migration is written by hand around what
-- `pnpm db:migration:create` generated.
--
-- Existing rows are moved in place, inside this migration's transaction: the keys are copied, the table is
-- renamed, the partitioned table created and filled, the old one dropped. Writes to usage_event wait for the
-- whole migration (it holds the table's lock), so on a large production table run it in a maintenance window,
-- or follow the online procedure in docs/usage-partitions.md ("Migrating a large table").

-- 1. The keys of the recorded calls (the primary key is added after the copy: one index build, not 1 per row).
CREATE TABLE "usage_call_key" (
    "account_id" UUID NOT NULL,
    "call_id" VARCHAR(128) NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL
);

INSERT INTO "usage_call_key" ("account_id", "call_id", "started_at")
SELECT "account_id", "call_id", "started_at" FROM "usage_event";

ALTER TABLE "usage_call_key" ADD CONSTRAINT "usage_call_key_pkey" PRIMARY KEY ("account_id","call_id");

CREATE UNIQUE INDEX "usage_call_key_account_id_call_id_started_at_key" ON "usage_call_key"("account_id", "call_id", "started_at");

ALTER TABLE "usage_call_key" ADD CONSTRAINT "usage_call_key_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- 2. The old table steps aside; its sequence goes on numbering the new table's rows.
ALTER TABLE "usage_event" RENAME TO "usage_event_unpartitioned";
ALTER TABLE "usage_event_unpartitioned" DROP CONSTRAINT "usage_event_pkey";
ALTER TABLE "usage_event_unpartitioned" DROP CONSTRAINT "usage_event_account_id_fkey";
DROP INDEX "usage_event_account_id_call_id_key";
DROP INDEX "usage_event_account_id_started_at_idx";
DROP INDEX "usage_event_account_id_late_idx";
ALTER TABLE "usage_event_unpartitioned" ALTER COLUMN "id" DROP DEFAULT;
ALTER SEQUENCE "usage_event_id_seq" OWNED BY NONE;

-- 3. The partitioned table (its NOT NULL constraints named as the old table's were, which still exists).
CREATE TABLE "usage_event" (
    "id" BIGINT CONSTRAINT "usage_event_id_not_null" NOT NULL DEFAULT nextval('usage_event_id_seq'),
    "call_id" VARCHAR(128) CONSTRAINT "usage_event_call_id_not_null" NOT NULL,
    "account_id" UUID CONSTRAINT "usage_event_account_id_not_null" NOT NULL,
    "agent_id" UUID,
    "direction" "CallDirection" CONSTRAINT "usage_event_direction_not_null" NOT NULL,
    "started_at" TIMESTAMPTZ(3) CONSTRAINT "usage_event_started_at_not_null" NOT NULL,
    "duration_seconds" INTEGER CONSTRAINT "usage_event_duration_seconds_not_null" NOT NULL,
    "billable_minutes" INTEGER CONSTRAINT "usage_event_billable_minutes_not_null" NOT NULL,
    "period_start" TIMESTAMPTZ(3) CONSTRAINT "usage_event_period_start_not_null" NOT NULL,
    "late" BOOLEAN CONSTRAINT "usage_event_late_not_null" NOT NULL DEFAULT false,
    "received_at" TIMESTAMPTZ(3) CONSTRAINT "usage_event_received_at_not_null" NOT NULL DEFAULT CURRENT_TIMESTAMP
) PARTITION BY RANGE ("started_at");

ALTER SEQUENCE "usage_event_id_seq" OWNED BY "usage_event"."id";

-- Rows of a month without its own partition (a month far ahead, a test clock) land here; creating the
-- month's partition later moves them into it.
CREATE TABLE "usage_event_default" PARTITION OF "usage_event" DEFAULT;

-- The partition of each UTC month from `from_ts`'s to `to_ts`'s that does not exist yet, moving that month's
-- rows out of the DEFAULT partition if any landed there. Idempotent; concurrent callers queue on a lock.
-- Returns the names of the partitions created. Run daily by the worker (`ensure-usage-partitions`).
CREATE FUNCTION "usage_event_ensure_partitions"(from_ts TIMESTAMPTZ, to_ts TIMESTAMPTZ)
RETURNS SETOF TEXT LANGUAGE plpgsql AS $$
DECLARE
  month TIMESTAMP;
  lo TIMESTAMPTZ;
  hi TIMESTAMPTZ;
  part TEXT;
BEGIN
  IF to_ts - from_ts > interval '100 years' THEN
    RAISE EXCEPTION 'usage_event_ensure_partitions: % to % is more than 100 years', from_ts, to_ts;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('usage_event_ensure_partitions'));
  FOR month IN
    SELECT generate_series(date_trunc('month', from_ts AT TIME ZONE 'UTC'),
                           date_trunc('month', to_ts AT TIME ZONE 'UTC'), interval '1 month')
  LOOP
    part := 'usage_event_' || to_char(month, 'YYYY_MM');
    CONTINUE WHEN to_regclass(format('public.%I', part)) IS NOT NULL;
    lo := month AT TIME ZONE 'UTC';
    hi := (month + interval '1 month') AT TIME ZONE 'UTC';
    -- A standalone table, filled with the month's rows from the DEFAULT partition (inserts routed there wait
    -- for this transaction), then attached: ATTACH needs only SHARE UPDATE EXCLUSIVE on usage_event, so
    -- reads and writes of the other months go on; it adds the indexes and foreign keys.
    LOCK TABLE "usage_event_default" IN SHARE ROW EXCLUSIVE MODE;
    EXECUTE format('CREATE TABLE public.%I (LIKE public."usage_event" INCLUDING DEFAULTS)', part);
    EXECUTE format(
      'WITH moved AS (DELETE FROM public."usage_event_default" WHERE started_at >= $1 AND started_at < $2 RETURNING *)
       INSERT INTO public.%I SELECT * FROM moved', part) USING lo, hi;
    EXECUTE format('ALTER TABLE public.%I ADD CONSTRAINT %I CHECK (started_at >= %L AND started_at < %L)',
      part, part || '_range', lo, hi);
    EXECUTE format('ALTER TABLE public."usage_event" ATTACH PARTITION public.%I FOR VALUES FROM (%L) TO (%L)',
      part, lo, hi);
    EXECUTE format('ALTER TABLE public.%I DROP CONSTRAINT %I', part, part || '_range');
    RETURN NEXT part;
  END LOOP;
END
$$;

-- Every month of the existing rows, and the next three.
SELECT count(*) FROM "usage_event_ensure_partitions"(
  LEAST(now(), (SELECT min("started_at") FROM "usage_event_unpartitioned")), now() + interval '3 months');

-- 4. The rows move over, the keys and indexes are built once, and the old table goes.
INSERT INTO "usage_event" ("id", "call_id", "account_id", "agent_id", "direction", "started_at",
  "duration_seconds", "billable_minutes", "period_start", "late", "received_at")
SELECT "id", "call_id", "account_id", "agent_id", "direction", "started_at",
  "duration_seconds", "billable_minutes", "period_start", "late", "received_at"
FROM "usage_event_unpartitioned";

DROP TABLE "usage_event_unpartitioned";

ALTER TABLE "usage_event" ADD CONSTRAINT "usage_event_pkey" PRIMARY KEY ("account_id", "call_id", "started_at");

CREATE INDEX "usage_event_account_id_started_at_idx" ON "usage_event"("account_id", "started_at");

CREATE INDEX "usage_event_account_id_late_idx" ON "usage_event"("account_id", "late");

ALTER TABLE "usage_event" ADD CONSTRAINT "usage_event_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Every event references its call's key with its own started_at; a key has one started_at (its primary
-- key is (account_id, call_id)), so no call can have two events, in one partition or in two.
ALTER TABLE "usage_event" ADD CONSTRAINT "usage_event_account_id_call_id_started_at_fkey" FOREIGN KEY ("account_id", "call_id", "started_at") REFERENCES "usage_call_key"("account_id", "call_id", "started_at") ON DELETE CASCADE ON UPDATE CASCADE;

-- Detaching a month (retention, docs/usage-partitions.md): the partition becomes a standalone table
-- `usage_event_YYYY_MM` (archive it, then drop it), without the foreign keys that would let a later
-- deletion of an account or a key reach into the archive. Refused for a month that ended less than 60 days
-- ago: late calls are accepted for 35 days, so its events may still be counted or compared.
CREATE FUNCTION "usage_event_detach_month"(month_start TIMESTAMPTZ)
RETURNS TEXT LANGUAGE plpgsql AS $$
DECLARE
  part TEXT := 'usage_event_' || to_char(month_start AT TIME ZONE 'UTC', 'YYYY_MM');
  lo TIMESTAMPTZ := date_trunc('month', month_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
BEGIN
  IF (lo AT TIME ZONE 'UTC' + interval '1 month') AT TIME ZONE 'UTC' > now() - interval '60 days' THEN
    RAISE EXCEPTION 'usage_event_detach_month: % ended less than 60 days ago', part;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_inherits WHERE inhparent = 'public.usage_event'::regclass
                   AND inhrelid = to_regclass(format('public.%I', part))) THEN
    RAISE EXCEPTION 'usage_event_detach_month: % is not a partition of usage_event', part;
  END IF;
  EXECUTE format('ALTER TABLE public."usage_event" DETACH PARTITION public.%I', part);
  EXECUTE format('ALTER TABLE public.%I DROP CONSTRAINT IF EXISTS "usage_event_account_id_call_id_started_at_fkey"', part);
  EXECUTE format('ALTER TABLE public.%I DROP CONSTRAINT IF EXISTS "usage_event_account_id_fkey"', part);
  RETURN part;
END
$$;
