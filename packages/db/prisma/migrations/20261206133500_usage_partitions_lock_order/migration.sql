-- usage_event_ensure_partitions takes its locks in ingestion's order (usage_call_key, then the DEFAULT
-- partition) with a 2 s lock timeout, so it neither deadlocks with a usage report nor stalls ingestion;
-- and the partition of last month exists from the start (late calls of up to 35 days are accepted, and
-- the migration before created partitions from the current month only, leaving last month's calls in
-- DEFAULT until the daily task ran).

DROP FUNCTION "usage_event_ensure_partitions"(TIMESTAMPTZ, TIMESTAMPTZ);

-- lock_wait: how long to wait for each lock (the daily task: 2 s; this migration: as long as it takes).
CREATE FUNCTION "usage_event_ensure_partitions"(from_ts TIMESTAMPTZ, to_ts TIMESTAMPTZ,
  lock_wait INTERVAL DEFAULT interval '2 seconds')
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
  -- Never queue long in front of ingestion: a lock not had within lock_wait fails the run (the daily task
  -- retries later), instead of every usage report waiting behind this one while a report holds its locks.
  PERFORM set_config('lock_timeout', (extract(epoch FROM lock_wait) * 1000)::bigint::text, true);
  FOR month IN
    SELECT generate_series(date_trunc('month', from_ts AT TIME ZONE 'UTC'),
                           date_trunc('month', to_ts AT TIME ZONE 'UTC'), interval '1 month')
  LOOP
    part := 'usage_event_' || to_char(month, 'YYYY_MM');
    CONTINUE WHEN to_regclass(format('public.%I', part)) IS NOT NULL;
    lo := month AT TIME ZONE 'UTC';
    hi := (month + interval '1 month') AT TIME ZONE 'UTC';
    -- A standalone table, filled with the month's rows from the DEFAULT partition, then attached; ATTACH
    -- adds the indexes and foreign keys. Reads go on meanwhile; usage reports wait for this short
    -- transaction (it locks usage_call_key, which every report writes).
    -- Locks in ingestion's order: it writes usage_call_key, then usage_event (a month's partition, or
    -- DEFAULT). ATTACH must lock usage_call_key too (to add the partition's foreign key to it), so taking
    -- DEFAULT first deadlocked with a report writing a DEFAULT month (a report failed with 40P01).
    LOCK TABLE "usage_call_key" IN SHARE ROW EXCLUSIVE MODE;
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

SELECT count(*) FROM "usage_event_ensure_partitions"(now() - interval '1 month', now() + interval '3 months',
  interval '0');
