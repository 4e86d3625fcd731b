-- AlterTable
ALTER TABLE "usage_period_rollup" ADD COLUMN     "call_minutes_limit" INTEGER,
ADD COLUMN     "currency" CHAR(3),
ADD COLUMN     "overage_price_cents_per_minute" INTEGER,
ADD COLUMN     "plan_id" UUID,
ADD COLUMN     "plan_sync_ticket" BIGINT NOT NULL DEFAULT 0;

-- Backfill: each period now records the plan that governs it (its included minutes, overage price and
-- currency), so that a closed period is billed by its own plan. Until now no history of plans was kept,
-- so the rows that exist at migration time record the plan of the account's current subscription (the
-- domain's currentSubscriptionOf: the newest subscription whose status grants access, else the newest
-- live one, else the newest). That is exact for the current period and, for closed periods, the plan
-- their overage was priced by until now. From here on usage records the plan while a period is current
-- and keeps it once it has closed. plan_sync_ticket stays 0, so the next read of the subscription may
-- still replace the record of a current period. Rows of accounts without a subscription stay unrecorded.
UPDATE "usage_period_rollup" r
SET "plan_id" = p."id",
    "call_minutes_limit" = p."call_minutes_limit",
    "overage_price_cents_per_minute" = p."overage_price_cents_per_minute",
    "currency" = lower(btrim(p."currency"))
FROM (
    SELECT DISTINCT ON (s."account_id") s."account_id", s."plan_id"
    FROM "subscription" s
    ORDER BY s."account_id",
        CASE
            WHEN s."status"::text IN ('active', 'trialing', 'past_due') THEN 2
            WHEN s."status"::text IN ('unpaid', 'incomplete', 'paused') THEN 1
            ELSE 0
        END DESC,
        s."created_at" DESC,
        s."id" DESC
) c
JOIN "subscription_plan" p ON p."id" = c."plan_id"
WHERE r."account_id" = c."account_id";
