-- AlterEnum (hand-edited: the new roles go before 'member', in the order schema.prisma lists them)
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "AccountRole" ADD VALUE 'admin' BEFORE 'member';
ALTER TYPE "AccountRole" ADD VALUE 'billing' BEFORE 'member';

-- AlterTable
ALTER TABLE "session" ADD COLUMN     "active_account_id" UUID;

-- CreateTable
CREATE TABLE "account_member" (
    "account_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "role" "AccountRole" NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "account_member_pkey" PRIMARY KEY ("account_id","user_id")
);

-- CreateTable
CREATE TABLE "account_invitation" (
    "id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "email" VARCHAR(320) NOT NULL,
    "role" "AccountRole" NOT NULL,
    "token_hash" CHAR(64) NOT NULL,
    "invited_by_id" UUID,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "sent_at" TIMESTAMPTZ(3) NOT NULL,
    "send_count" INTEGER NOT NULL DEFAULT 1,
    "accepted_at" TIMESTAMPTZ(3),
    "accepted_by_id" UUID,
    "revoked_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "account_invitation_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "account_member_user_id_idx" ON "account_member"("user_id");

-- CreateIndex
CREATE UNIQUE INDEX "account_member_one_owner_key" ON "account_member"("account_id") WHERE (role = 'owner');

-- CreateIndex
CREATE UNIQUE INDEX "account_invitation_token_hash_key" ON "account_invitation"("token_hash");

-- CreateIndex
CREATE INDEX "account_invitation_account_id_created_at_idx" ON "account_invitation"("account_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "account_invitation_pending_key" ON "account_invitation"("account_id", "email") WHERE (accepted_at IS NULL AND revoked_at IS NULL);

-- CreateIndex
CREATE INDEX "session_active_account_id_idx" ON "session"("active_account_id");

-- AddForeignKey
ALTER TABLE "session" ADD CONSTRAINT "session_active_account_id_fkey" FOREIGN KEY ("active_account_id") REFERENCES "account"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "account_member" ADD CONSTRAINT "account_member_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "account_member" ADD CONSTRAINT "account_member_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "account_invitation" ADD CONSTRAINT "account_invitation_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "account_invitation" ADD CONSTRAINT "account_invitation_invited_by_id_fkey" FOREIGN KEY ("invited_by_id") REFERENCES "user"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Data (hand-written): every user's account becomes a membership. Of several users marked owner in one
-- account (the old column's default), the first (by role, then sign-up) stays owner and the others members.
INSERT INTO "account_member" ("account_id", "user_id", "role", "created_at", "updated_at")
SELECT "account_id", "id",
       CASE WHEN row_number() OVER (PARTITION BY "account_id" ORDER BY "account_role", "created_at", "id") = 1
                 AND "account_role" = 'owner' THEN 'owner'::"AccountRole" ELSE 'member'::"AccountRole" END,
       "created_at", CURRENT_TIMESTAMP
FROM "user" WHERE "account_id" IS NOT NULL;

-- DropForeignKey
ALTER TABLE "user" DROP CONSTRAINT "user_account_id_fkey";

-- DropIndex
DROP INDEX "user_account_id_idx";

-- AlterTable
ALTER TABLE "user" DROP COLUMN "account_id",
DROP COLUMN "account_role";
