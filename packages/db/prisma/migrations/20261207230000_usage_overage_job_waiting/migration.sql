-- Whether a job of this key is waiting in graphile-worker's queue with no attempt counted (not held by a
-- worker, never failed; one the worker put back after an outage, its attempt given back, counts: it runs
-- again in full at the end of its backoff): its next run is still to come. A group of usage reports
-- written alone (packages/api/src/services/metering/usage-ingest.ts, guardCtes) queues its period's
-- report-overage job only when none is waiting: queueing it again would change nothing but its run_at, at
-- the cost of add_jobs' four statements and a NOTIFY.
-- VOLATILE, so it reads with a snapshot of its own taken when called, once the statement holds the period
-- row: a worker that took the job before then is seen (the job is no longer waiting, and a new one is
-- queued), and one that takes it afterwards waits for the row before deciding. PL/pgSQL: its body names
-- graphile-worker's table, which the job queue's install creates after the migrations on a new database.
-- The parameter is named with the function's name (`minutely_job_waiting.job_key`), so that a column of
-- that name in a later graphile-worker could never be read in its place.
CREATE FUNCTION "minutely_job_waiting"(job_key text)
  RETURNS boolean
  LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM graphile_worker._private_jobs j
    WHERE j.key = minutely_job_waiting.job_key AND j.locked_at IS NULL AND j.attempts = 0);
END
$$;
