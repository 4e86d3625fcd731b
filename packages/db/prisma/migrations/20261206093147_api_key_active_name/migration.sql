-- AlterTable
ALTER TABLE "api_key" ADD COLUMN     "name_key" VARCHAR(80);

-- Backfill (hand-written): the name trimmed and lower-cased, as the API writes it. Active keys of one account
-- that already share a name are told apart by their prefix on all but the oldest ("ci (mk_3f9a2c1d)"); the
-- prefix is unique, so the new names cannot meet another.
WITH ranked AS (
    SELECT "id",
           btrim("name") AS "trimmed",
           row_number() OVER (
               PARTITION BY "account_id", lower(btrim("name"))
               ORDER BY "created_at", "id"
           ) AS "n"
    FROM "api_key"
    WHERE "revoked_at" IS NULL
)
UPDATE "api_key" k
SET "name" = CASE WHEN r."n" = 1 THEN k."name" ELSE left(r."trimmed", 60) || ' (' || k."prefix" || ')' END
FROM ranked r
WHERE k."id" = r."id";

UPDATE "api_key" SET "name_key" = lower(btrim("name"));

ALTER TABLE "api_key" ALTER COLUMN "name_key" SET NOT NULL;

-- CreateIndex
CREATE UNIQUE INDEX "api_key_active_name_key" ON "api_key"("account_id", "name_key") WHERE (revoked_at IS NULL);
