-- Usage ingestion writes a group of reports in one autocommit statement when nothing has to follow the
-- write (packages/api/src/services/metering/usage-write-guard.ts). The statement ends by calling this
-- function with what it checked: when `ok` is not true (false or unknown), it raises SQLSTATE MN001 with the
-- reason (and what it concerns as the error's detail), the whole statement is rolled back, and the group is
-- written again in its transaction.
CREATE FUNCTION "minutely_write_guard"(ok boolean, reason text, detail text)
  RETURNS boolean
  LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  IF ok IS NOT TRUE THEN
    RAISE EXCEPTION 'the usage write needs its transaction: %', reason
      USING ERRCODE = 'MN001', DETAIL = coalesce(detail, '');
  END IF;
  RETURN true;
END
$$;
