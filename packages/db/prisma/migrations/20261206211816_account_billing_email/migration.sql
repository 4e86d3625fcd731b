-- AlterTable
ALTER TABLE "account" ADD COLUMN     "billing_email" VARCHAR(320);
