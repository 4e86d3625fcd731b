-- CreateEnum
CREATE TYPE "DuplicateSubscriptionStatus" AS ENUM ('detected', 'resolved');

-- CreateTable
CREATE TABLE "duplicate_subscription" (
    "id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "stripe_subscription_id" VARCHAR(255) NOT NULL,
    "kept_stripe_subscription_id" VARCHAR(255) NOT NULL,
    "status" "DuplicateSubscriptionStatus" NOT NULL DEFAULT 'detected',
    "refunded_cents" INTEGER NOT NULL DEFAULT 0,
    "currency" VARCHAR(3),
    "stripe_refund_ids" TEXT[],
    "stripe_event_id" VARCHAR(255),
    "detected_at" TIMESTAMPTZ(3) NOT NULL,
    "resolved_at" TIMESTAMPTZ(3),

    CONSTRAINT "duplicate_subscription_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "duplicate_subscription_stripe_subscription_id_key" ON "duplicate_subscription"("stripe_subscription_id");

-- CreateIndex
CREATE INDEX "duplicate_subscription_account_id_detected_at_idx" ON "duplicate_subscription"("account_id", "detected_at");

-- AddForeignKey
ALTER TABLE "duplicate_subscription" ADD CONSTRAINT "duplicate_subscription_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;
