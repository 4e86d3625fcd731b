-- CreateEnum
CREATE TYPE "OverageBillStatus" AS ENUM ('pending', 'billed', 'voiding', 'void');

-- CreateTable
CREATE TABLE "overage_bill" (
    "idempotency_key" VARCHAR(255) NOT NULL,
    "account_id" UUID NOT NULL,
    "period_start" TIMESTAMPTZ(3) NOT NULL,
    "epoch" INTEGER NOT NULL,
    "from_minutes" INTEGER NOT NULL,
    "to_minutes" INTEGER NOT NULL,
    "amount_cents" INTEGER NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "request" JSONB NOT NULL,
    "status" "OverageBillStatus" NOT NULL DEFAULT 'pending',
    "invoice_item_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "overage_bill_pkey" PRIMARY KEY ("idempotency_key")
);

-- CreateIndex
CREATE INDEX "overage_bill_account_id_period_start_status_idx" ON "overage_bill"("account_id", "period_start", "status");

-- AddForeignKey
ALTER TABLE "overage_bill" ADD CONSTRAINT "overage_bill_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;
