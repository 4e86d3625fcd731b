-- CreateExtension
CREATE EXTENSION IF NOT EXISTS "pg_trgm";

-- CreateIndex
CREATE INDEX "account_created_at_id_idx" ON "account"("created_at", "id");

-- CreateIndex
CREATE INDEX "account_name_trgm_idx" ON "account" USING GIN ("name" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "subscription_created_at_idx" ON "subscription"("created_at");

-- CreateIndex
CREATE INDEX "subscription_ended_at_idx" ON "subscription"("ended_at");

-- CreateIndex
CREATE INDEX "stripe_event_type_stripe_created_at_idx" ON "stripe_event"("type", "stripe_created_at");

-- CreateIndex
CREATE INDEX "user_email_trgm_idx" ON "user" USING GIN ("email" gin_trgm_ops);
