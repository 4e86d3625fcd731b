-- AlterTable
ALTER TABLE "subscription" ADD COLUMN     "currency" CHAR(3) NOT NULL DEFAULT 'usd';

-- A subscription bills in a supported currency.
ALTER TABLE "subscription" ADD CONSTRAINT "subscription_currency_check" CHECK ("currency" IN ('usd', 'eur', 'gbp'));

-- Every subscription so far bills in its Stripe price's currency (plan_price records each price a package
-- has had), else, for a price Minutely never recorded, in its package's own currency.
UPDATE "subscription" s
   SET "currency" = COALESCE(
         (SELECT lower(pp."currency") FROM "plan_price" pp WHERE pp."stripe_price_id" = s."stripe_price_id"),
         (SELECT lower(spp."currency") FROM "subscription_plan_price" spp WHERE spp."stripe_price_id" = s."stripe_price_id"),
         (SELECT lower(p."currency") FROM "subscription_plan" p WHERE p."id" = s."plan_id"));
