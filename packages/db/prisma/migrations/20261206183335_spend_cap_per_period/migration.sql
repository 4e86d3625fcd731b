-- DropIndex
DROP INDEX "usage_alert_account_id_period_start_threshold_percent_minut_key";

-- (billing_history.discount_cents is added by 20261206174308_coupons; the schema snapshot lagged behind it.)

-- AlterTable
ALTER TABLE "usage_period_rollup" ADD COLUMN     "spend_cap_cents" INTEGER,
ADD COLUMN     "spend_cap_currency" CHAR(3),
ADD COLUMN     "spend_cap_recorded" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "usage_alert" ADD COLUMN     "budget_cents" INTEGER NOT NULL DEFAULT 0;

-- Backfill: the periods so far record the budget in force now (the best knowledge of it: what billed them
-- until now), and the spend cap alerts so far belong to it.
UPDATE "usage_period_rollup" r SET "spend_cap_recorded" = true, "spend_cap_cents" = a."overage_cap_cents",
  "spend_cap_currency" = a."overage_cap_currency"
FROM "account" a WHERE a."id" = r."account_id";
UPDATE "usage_alert" u SET "budget_cents" = COALESCE(a."overage_cap_cents", 0)
FROM "account" a WHERE a."id" = u."account_id" AND u."kind" = 'spend_cap';

-- CreateIndex
CREATE UNIQUE INDEX "usage_alert_account_id_period_start_threshold_percent_minut_key" ON "usage_alert"("account_id", "period_start", "threshold_percent", "minutes_limit", "kind", "budget_cents");
