-- AlterEnum
ALTER TYPE "SubscriptionStatus" ADD VALUE 'unknown';

-- AlterTable
ALTER TABLE "subscription" ADD COLUMN     "stripe_status" VARCHAR(40) NOT NULL DEFAULT '';
