-- AlterTable
ALTER TABLE "subscription" ADD COLUMN     "test_clock_time" TIMESTAMPTZ(3);
