-- AlterTable
ALTER TABLE "subscription" ADD COLUMN     "pause_behavior" VARCHAR(40),
ADD COLUMN     "pause_resumes_at" TIMESTAMPTZ(3),
ADD COLUMN     "pause_starts_at" TIMESTAMPTZ(3);
