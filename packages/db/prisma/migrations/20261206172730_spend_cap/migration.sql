-- AlterEnum
ALTER TYPE "UsageAlertKind" ADD VALUE 'spend_cap';

-- DropIndex
DROP INDEX "usage_alert_account_id_period_start_threshold_percent_minut_key";

-- AlterTable
ALTER TABLE "account" ADD COLUMN     "overage_cap_cents" INTEGER,
ADD COLUMN     "overage_cap_currency" CHAR(3);

-- CreateIndex
CREATE UNIQUE INDEX "usage_alert_account_id_period_start_threshold_percent_minut_key" ON "usage_alert"("account_id", "period_start", "threshold_percent", "minutes_limit", "kind");
