-- CreateTable
CREATE TABLE "subscription_pause_span" (
    "id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "subscription_id" UUID NOT NULL,
    "starts_at" TIMESTAMPTZ(3) NOT NULL,
    "ends_at" TIMESTAMPTZ(3),
    "lifted_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "subscription_pause_span_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "subscription_pause_span_account_id_starts_at_idx" ON "subscription_pause_span"("account_id", "starts_at");

-- CreateIndex
CREATE INDEX "subscription_pause_span_subscription_id_idx" ON "subscription_pause_span"("subscription_id");

-- AddForeignKey
ALTER TABLE "subscription_pause_span" ADD CONSTRAINT "subscription_pause_span_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "subscription_pause_span" ADD CONSTRAINT "subscription_pause_span_subscription_id_fkey" FOREIGN KEY ("subscription_id") REFERENCES "subscription"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- A span ends after it starts (a pause lifted before it took effect leaves no span).
ALTER TABLE "subscription_pause_span" ADD CONSTRAINT "subscription_pause_span_ends_check" CHECK ("ends_at" IS NULL OR "ends_at" > "starts_at");

-- The pauses set now (a collection pause, or Stripe's status `paused`) get their open span. Pauses that ended
-- before this migration left no record (their fields were cleared at the resume): none can be recovered.
INSERT INTO "subscription_pause_span" ("id", "account_id", "subscription_id", "starts_at", "ends_at", "updated_at")
SELECT gen_random_uuid(), s."account_id", s."id",
       CASE WHEN s."status" = 'paused' THEN COALESCE(s."trial_end", s."current_period_start")
            ELSE COALESCE(s."pause_starts_at", s."current_period_start") END,
       CASE WHEN s."status" = 'paused' THEN NULL ELSE s."pause_resumes_at" END,
       CURRENT_TIMESTAMP
  FROM "subscription" s
 WHERE s."status" NOT IN ('canceled', 'incomplete_expired')
   AND (s."status" = 'paused' OR s."pause_behavior" IS NOT NULL)
   AND (s."status" = 'paused' OR s."pause_resumes_at" IS NULL
        OR s."pause_resumes_at" > COALESCE(s."pause_starts_at", s."current_period_start"));
