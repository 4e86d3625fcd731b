-- AlterTable
ALTER TABLE "usage_period_rollup" ADD COLUMN     "pack_minutes_drawn" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "minute_pack" (
    "id" UUID NOT NULL,
    "name" VARCHAR(60) NOT NULL,
    "minutes" INTEGER NOT NULL,
    "price_cents" INTEGER NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "validity_months" INTEGER NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "stripe_product_id" VARCHAR(255),
    "stripe_price_id" VARCHAR(255),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "minute_pack_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "pack_grant" (
    "id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "pack_id" UUID,
    "source_key" VARCHAR(255) NOT NULL,
    "minutes" INTEGER NOT NULL,
    "remaining" INTEGER NOT NULL,
    "price_cents" INTEGER NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "granted_at" TIMESTAMPTZ(3) NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "pack_grant_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "pack_draw" (
    "grant_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "period_start" TIMESTAMPTZ(3) NOT NULL,
    "minutes" INTEGER NOT NULL,

    CONSTRAINT "pack_draw_pkey" PRIMARY KEY ("grant_id","period_start")
);

-- CreateIndex
CREATE UNIQUE INDEX "minute_pack_stripe_product_id_key" ON "minute_pack"("stripe_product_id");

-- CreateIndex
CREATE UNIQUE INDEX "minute_pack_stripe_price_id_key" ON "minute_pack"("stripe_price_id");

-- CreateIndex
CREATE INDEX "minute_pack_active_created_at_idx" ON "minute_pack"("active", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "pack_grant_source_key_key" ON "pack_grant"("source_key");

-- CreateIndex
CREATE INDEX "pack_grant_account_id_expires_at_idx" ON "pack_grant"("account_id", "expires_at");

-- CreateIndex
CREATE INDEX "pack_draw_account_id_period_start_idx" ON "pack_draw"("account_id", "period_start");

-- AddForeignKey
ALTER TABLE "pack_grant" ADD CONSTRAINT "pack_grant_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pack_grant" ADD CONSTRAINT "pack_grant_pack_id_fkey" FOREIGN KEY ("pack_id") REFERENCES "minute_pack"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pack_draw" ADD CONSTRAINT "pack_draw_grant_id_fkey" FOREIGN KEY ("grant_id") REFERENCES "pack_grant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-added checks (listed in src/drift.test.ts SQL_ONLY_CHECKS): the ranges the domain's minute-packs.ts
-- enforces, and a grant's remaining minutes between none and all (a draw can never overdraw a pack).
ALTER TABLE "minute_pack" ADD CONSTRAINT "minute_pack_terms_check" CHECK (
  "minutes" BETWEEN 1 AND 1000000 AND "price_cents" BETWEEN 1 AND 10000000
  AND "validity_months" BETWEEN 1 AND 36);
ALTER TABLE "pack_grant" ADD CONSTRAINT "pack_grant_remaining_check" CHECK (
  "minutes" > 0 AND "remaining" BETWEEN 0 AND "minutes");
ALTER TABLE "pack_draw" ADD CONSTRAINT "pack_draw_minutes_check" CHECK ("minutes" > 0);
ALTER TABLE "usage_period_rollup" ADD CONSTRAINT "usage_period_rollup_pack_minutes_drawn_check" CHECK (
  "pack_minutes_drawn" >= 0);
