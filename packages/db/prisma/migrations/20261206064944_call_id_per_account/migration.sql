-- A call's key is (account_id, call_id), for its usage event and its reservation: the same call_id reported
-- for two accounts is two calls. Existing rows already satisfy it (call_id was unique on its own). The new
-- unique index is built before the old one is dropped, so uniqueness holds throughout.

-- CreateIndex
CREATE UNIQUE INDEX "usage_event_account_id_call_id_key" ON "usage_event"("account_id", "call_id");

-- DropIndex
DROP INDEX "usage_event_call_id_key";

-- AlterTable
ALTER TABLE "call_reservation" DROP CONSTRAINT "call_reservation_pkey",
ADD CONSTRAINT "call_reservation_pkey" PRIMARY KEY ("account_id", "call_id");
