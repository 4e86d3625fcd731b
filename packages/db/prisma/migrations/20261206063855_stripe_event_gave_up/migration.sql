-- AlterTable
ALTER TABLE "stripe_event" ADD COLUMN     "gave_up" BOOLEAN NOT NULL DEFAULT false;
