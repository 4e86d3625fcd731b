-- A card starts one trial, whichever account it comes from: the fingerprint is held by one subscription at
-- most, so two trials claiming one card at the same moment cannot both keep it (the second claim is refused
-- by the index and that trial is ended at once). Of subscriptions already recorded with the same card, the
-- first (created first, the id breaks a tie) keeps it, as the race was settled before.
UPDATE "subscription" AS s
SET "trial_card_fingerprint" = NULL
WHERE s."trial_card_fingerprint" IS NOT NULL
  AND EXISTS (
    SELECT 1
    FROM "subscription" AS o
    WHERE o."trial_card_fingerprint" = s."trial_card_fingerprint"
      AND (o."created_at", o."id") < (s."created_at", s."id")
  );

-- DropIndex
DROP INDEX "subscription_trial_card_fingerprint_idx";

-- CreateIndex
CREATE UNIQUE INDEX "subscription_trial_card_fingerprint_key" ON "subscription"("trial_card_fingerprint");
