-- AlterTable
ALTER TABLE "billing_history" ADD COLUMN     "lines" JSONB NOT NULL DEFAULT '[]';
