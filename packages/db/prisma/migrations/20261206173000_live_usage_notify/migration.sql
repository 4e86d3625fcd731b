-- Live usage (packages/api/src/services/live): every change a customer's dashboard or the admin app shows
-- live sends a notification on the channel `minutely_live`, from the writing transaction itself (delivered at
-- its commit, never for a rollback), so no writer makes an extra round trip. The payload carries only ids:
-- {"a": account id, "k": kind}; each API replica LISTENs and re-reads what the subscriber may see.
-- PostgreSQL folds identical notifications of one transaction into one, so a batch of events notifies once.
CREATE FUNCTION "minutely_live_notify"() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF TG_LEVEL = 'STATEMENT' THEN
    PERFORM pg_notify('minutely_live', json_build_object('k', TG_ARGV[0])::text);
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('minutely_live', json_build_object('a', OLD.account_id, 'k', TG_ARGV[0])::text);
  ELSE
    PERFORM pg_notify('minutely_live', json_build_object('a', NEW.account_id, 'k', TG_ARGV[0])::text);
  END IF;
  RETURN NULL;
END
$$;

-- Minutes used (usage ingest, overage reporting, plan changes of the period).
CREATE TRIGGER "usage_period_rollup_live"
  AFTER INSERT OR UPDATE ON "usage_period_rollup"
  FOR EACH ROW EXECUTE FUNCTION "minutely_live_notify"('usage');

-- Reserved minutes of calls in progress (authorized, settled by their report, expired).
CREATE TRIGGER "call_reservation_live"
  AFTER INSERT OR UPDATE OR DELETE ON "call_reservation"
  FOR EACH ROW EXECUTE FUNCTION "minutely_live_notify"('reservation');

-- Alerts as they fire (and when dismissed).
CREATE TRIGGER "usage_alert_live"
  AFTER INSERT OR UPDATE ON "usage_alert"
  FOR EACH ROW EXECUTE FUNCTION "minutely_live_notify"('alert');

-- The admin app's webhook log: received, processed or failed Stripe events (no account: admins only).
CREATE TRIGGER "stripe_event_live"
  AFTER INSERT OR UPDATE ON "stripe_event"
  FOR EACH STATEMENT EXECUTE FUNCTION "minutely_live_notify"('webhook');
