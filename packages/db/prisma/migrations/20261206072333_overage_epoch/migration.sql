-- AlterTable
ALTER TABLE "usage_period_rollup" ADD COLUMN     "overage_epoch" INTEGER NOT NULL DEFAULT 0;
