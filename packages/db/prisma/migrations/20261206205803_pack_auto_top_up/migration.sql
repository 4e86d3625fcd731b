-- CreateEnum
CREATE TYPE "PackTopUpStatus" AS ENUM ('pending', 'succeeded', 'declined', 'requires_action');

-- AlterTable
ALTER TABLE "account" ADD COLUMN     "auto_top_up_max_per_month" INTEGER,
ADD COLUMN     "auto_top_up_pack_id" UUID,
ADD COLUMN     "auto_top_up_stopped_at" TIMESTAMPTZ(3),
ADD COLUMN     "auto_top_up_threshold_minutes" INTEGER;

-- CreateTable
CREATE TABLE "pack_top_up" (
    "id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "pack_id" UUID NOT NULL,
    "month" CHAR(7) NOT NULL,
    "seq" INTEGER NOT NULL,
    "status" "PackTopUpStatus" NOT NULL DEFAULT 'pending',
    "payment_intent_id" VARCHAR(255),
    "message" VARCHAR(500),
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "pack_top_up_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "pack_top_up_account_id_month_seq_key" ON "pack_top_up"("account_id", "month", "seq");

-- AddForeignKey
ALTER TABLE "pack_top_up" ADD CONSTRAINT "pack_top_up_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-added checks (listed in src/drift.test.ts SQL_ONLY_CHECKS): the auto top-up settings' ranges, all
-- three set or none.
ALTER TABLE "account" ADD CONSTRAINT "account_auto_top_up_check" CHECK (
  ("auto_top_up_pack_id" IS NULL AND "auto_top_up_threshold_minutes" IS NULL AND "auto_top_up_max_per_month" IS NULL)
  OR ("auto_top_up_pack_id" IS NOT NULL AND "auto_top_up_threshold_minutes" BETWEEN 1 AND 1000000
    AND "auto_top_up_max_per_month" BETWEEN 1 AND 10));
