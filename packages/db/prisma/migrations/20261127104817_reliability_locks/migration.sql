-- AlterTable
ALTER TABLE "subscription" ADD COLUMN     "sync_ticket" BIGINT NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "account_action_lock" (
    "account_id" UUID NOT NULL,
    "holder" UUID NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "account_action_lock_pkey" PRIMARY KEY ("account_id")
);
