-- CreateEnum
CREATE TYPE "AdjustmentKind" AS ENUM ('refund', 'credit_note', 'balance_credit');

-- CreateEnum
CREATE TYPE "AdjustmentStatus" AS ENUM ('pending', 'succeeded', 'failed');

-- AlterTable
ALTER TABLE "billing_history" ADD COLUMN     "credited_cents" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "refunded_cents" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "stripe_payment_intent_id" VARCHAR(255);

-- CreateTable
CREATE TABLE "invoice_adjustment" (
    "id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "billing_history_id" UUID,
    "kind" "AdjustmentKind" NOT NULL,
    "status" "AdjustmentStatus" NOT NULL,
    "amount_cents" INTEGER NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "reason" VARCHAR(500) NOT NULL,
    "source" VARCHAR(16) NOT NULL,
    "request_key" VARCHAR(120),
    "stripe_object_id" VARCHAR(255),
    "actor_email" VARCHAR(320),
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "invoice_adjustment_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "invoice_adjustment_request_key_key" ON "invoice_adjustment"("request_key");

-- CreateIndex
CREATE UNIQUE INDEX "invoice_adjustment_stripe_object_id_key" ON "invoice_adjustment"("stripe_object_id");

-- CreateIndex
CREATE INDEX "invoice_adjustment_billing_history_id_kind_status_idx" ON "invoice_adjustment"("billing_history_id", "kind", "status");

-- CreateIndex
CREATE INDEX "invoice_adjustment_account_id_created_at_idx" ON "invoice_adjustment"("account_id", "created_at");

-- CreateIndex
CREATE INDEX "invoice_adjustment_created_at_idx" ON "invoice_adjustment"("created_at");

-- CreateIndex
CREATE INDEX "billing_history_stripe_payment_intent_id_idx" ON "billing_history"("stripe_payment_intent_id");

-- AddForeignKey
ALTER TABLE "invoice_adjustment" ADD CONSTRAINT "invoice_adjustment_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "invoice_adjustment" ADD CONSTRAINT "invoice_adjustment_billing_history_id_fkey" FOREIGN KEY ("billing_history_id") REFERENCES "billing_history"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Money given back is a positive whole number of minor units (hand-added: Prisma cannot declare CHECKs).
ALTER TABLE "invoice_adjustment" ADD CONSTRAINT "invoice_adjustment_amount_check" CHECK ("amount_cents" > 0);
