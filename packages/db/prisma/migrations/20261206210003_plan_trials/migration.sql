-- AlterTable
ALTER TABLE "subscription_plan" ADD COLUMN     "trial_days" INTEGER,
ADD COLUMN     "trial_requires_card" BOOLEAN NOT NULL DEFAULT true;

-- AlterTable
ALTER TABLE "subscription" ADD COLUMN     "default_payment_method_id" VARCHAR(255),
ADD COLUMN     "trial_card_fingerprint" VARCHAR(64),
ADD COLUMN     "trial_end" TIMESTAMPTZ(3),
ADD COLUMN     "trial_start" TIMESTAMPTZ(3);

-- CreateIndex
CREATE INDEX "subscription_trial_card_fingerprint_idx" ON "subscription"("trial_card_fingerprint");

-- A trial is 1 to 90 days (packages/domain TRIAL_LIMITS), or none.
ALTER TABLE "subscription_plan" ADD CONSTRAINT "subscription_plan_trial_days_check" CHECK ("trial_days" IS NULL OR "trial_days" BETWEEN 1 AND 90);
