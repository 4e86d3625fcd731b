-- Usage ingestion measures the spend cap alerts and the overage it reports by the account's budget as it is
-- once its write statement holds the period rows (packages/api/src/services/metering/usage-ingest.ts), not
-- as the context read before the statement found it: a budget changed in between (setSpendCap locks the
-- period row, writes the budget and records the alerts its change reaches, then commits) would otherwise be
-- missed, its 80%/100% alerts never recorded. VOLATILE, so it reads with a snapshot of its own taken when
-- called (after the statement waited for the rows), as minutely_settle_reservations does.
CREATE FUNCTION "minutely_spend_caps"(account_ids uuid[])
  RETURNS jsonb
  LANGUAGE sql VOLATILE AS $$
  SELECT coalesce(jsonb_agg(jsonb_build_object('account_id', a.id, 'cents', a.overage_cap_cents,
      'currency', a.overage_cap_currency) ORDER BY a.id), '[]'::jsonb)
  FROM account a
  WHERE a.id = ANY(account_ids) AND a.overage_cap_cents IS NOT NULL
$$;
