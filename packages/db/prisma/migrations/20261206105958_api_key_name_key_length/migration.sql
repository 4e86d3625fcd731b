-- AlterTable: a name of 80 characters can lower-case to more ("İ" becomes "i̇", two code points), so the
-- lower-cased key of the unique index of active names has room for any name the API accepts.
ALTER TABLE "api_key" ALTER COLUMN "name_key" SET DATA TYPE VARCHAR(240);
