-- AlterTable
ALTER TABLE "billing_history" ADD COLUMN     "tax_cents" INTEGER NOT NULL DEFAULT 0;
