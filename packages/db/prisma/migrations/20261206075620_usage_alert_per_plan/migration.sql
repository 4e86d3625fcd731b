-- DropIndex
DROP INDEX "usage_alert_account_id_period_start_threshold_percent_key";

-- CreateIndex
CREATE UNIQUE INDEX "usage_alert_account_id_period_start_threshold_percent_minut_key" ON "usage_alert"("account_id", "period_start", "threshold_percent", "minutes_limit");
