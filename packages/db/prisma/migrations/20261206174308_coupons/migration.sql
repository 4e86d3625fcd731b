-- CreateEnum
CREATE TYPE "CouponDuration" AS ENUM ('once', 'repeating', 'forever');

-- AlterTable
ALTER TABLE "subscription" ADD COLUMN     "coupon_id" UUID,
ADD COLUMN     "discount_ends_at" TIMESTAMPTZ(3),
ADD COLUMN     "promotion_code_id" UUID,
ADD COLUMN     "stripe_discount_id" VARCHAR(255);

-- AlterTable
ALTER TABLE "billing_history" ADD COLUMN     "discount_cents" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "coupon" (
    "id" UUID NOT NULL,
    "name" VARCHAR(60) NOT NULL,
    "percent_off" INTEGER,
    "amount_off_cents" INTEGER,
    "currency" CHAR(3),
    "duration" "CouponDuration" NOT NULL,
    "duration_in_months" INTEGER,
    "redeem_by" TIMESTAMPTZ(3),
    "max_redemptions" INTEGER,
    "applies_to_plan_ids" UUID[] DEFAULT ARRAY[]::UUID[],
    "active" BOOLEAN NOT NULL DEFAULT true,
    "stripe_coupon_id" VARCHAR(255),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "coupon_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "promotion_code" (
    "id" UUID NOT NULL,
    "coupon_id" UUID NOT NULL,
    "code" VARCHAR(40) NOT NULL,
    "code_key" VARCHAR(40) NOT NULL,
    "expires_at" TIMESTAMPTZ(3),
    "max_redemptions" INTEGER,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "stripe_promotion_code_id" VARCHAR(255),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "promotion_code_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "coupon_stripe_coupon_id_key" ON "coupon"("stripe_coupon_id");

-- CreateIndex
CREATE INDEX "coupon_active_created_at_idx" ON "coupon"("active", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "promotion_code_code_key_key" ON "promotion_code"("code_key");

-- CreateIndex
CREATE UNIQUE INDEX "promotion_code_stripe_promotion_code_id_key" ON "promotion_code"("stripe_promotion_code_id");

-- CreateIndex
CREATE INDEX "promotion_code_coupon_id_idx" ON "promotion_code"("coupon_id");

-- AddForeignKey
ALTER TABLE "promotion_code" ADD CONSTRAINT "promotion_code_coupon_id_fkey" FOREIGN KEY ("coupon_id") REFERENCES "coupon"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "subscription" ADD CONSTRAINT "subscription_coupon_id_fkey" FOREIGN KEY ("coupon_id") REFERENCES "coupon"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "subscription" ADD CONSTRAINT "subscription_promotion_code_id_fkey" FOREIGN KEY ("promotion_code_id") REFERENCES "promotion_code"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- What a coupon may never hold (packages/domain `discounts.ts` holds the same ranges for the API).
ALTER TABLE "coupon" ADD CONSTRAINT "coupon_off_check" CHECK (
  ("percent_off" IS NOT NULL AND "percent_off" BETWEEN 1 AND 100 AND "amount_off_cents" IS NULL AND "currency" IS NULL)
  OR ("percent_off" IS NULL AND "amount_off_cents" > 0 AND "currency" IS NOT NULL)
);
ALTER TABLE "coupon" ADD CONSTRAINT "coupon_duration_check" CHECK (
  ("duration" = 'repeating' AND "duration_in_months" BETWEEN 1 AND 36)
  OR ("duration" <> 'repeating' AND "duration_in_months" IS NULL)
);
ALTER TABLE "coupon" ADD CONSTRAINT "coupon_max_redemptions_check" CHECK ("max_redemptions" IS NULL OR "max_redemptions" >= 1);
ALTER TABLE "promotion_code" ADD CONSTRAINT "promotion_code_key_check" CHECK ("code_key" = upper("code"));
ALTER TABLE "promotion_code" ADD CONSTRAINT "promotion_code_max_redemptions_check" CHECK ("max_redemptions" IS NULL OR "max_redemptions" >= 1);
