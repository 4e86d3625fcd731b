-- Usage ingestion settles the reservations of the calls it records (packages/api/src/services/metering/
-- usage-ingest.ts) inside its one write statement, through this function, called once that statement
-- holds the period rows it updates. The function is VOLATILE, so its UPDATE runs with a snapshot of its
-- own, taken when it is called: a call authorization that held a period row while the statement waited
-- for it has committed by then, and its reservation is visible here (in the calling statement's snapshot,
-- taken before the wait, it is not). It returns how many reservations it settled.
CREATE FUNCTION "minutely_settle_reservations"(account_ids uuid[], call_ids text[])
  RETURNS integer
  LANGUAGE sql VOLATILE AS $$
  WITH settled AS (
    UPDATE call_reservation r SET status = 'settled'
    FROM unnest(account_ids, call_ids) AS k(account_id, call_id)
    WHERE r.account_id = k.account_id AND r.call_id = k.call_id AND r.status <> 'settled'
    RETURNING 1
  )
  SELECT count(*)::integer FROM settled
$$;
