-- CreateTable
CREATE TABLE "subscription_plan_price" (
    "id" UUID NOT NULL,
    "plan_id" UUID NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "amount_cents" INTEGER NOT NULL,
    "overage_price_cents_per_minute" INTEGER,
    "stripe_price_id" VARCHAR(255),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "subscription_plan_price_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "subscription_plan_price_stripe_price_id_key" ON "subscription_plan_price"("stripe_price_id");

-- CreateIndex
CREATE UNIQUE INDEX "subscription_plan_price_plan_id_currency_key" ON "subscription_plan_price"("plan_id", "currency");

-- AddForeignKey
ALTER TABLE "subscription_plan_price" ADD CONSTRAINT "subscription_plan_price_plan_id_fkey" FOREIGN KEY ("plan_id") REFERENCES "subscription_plan"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- A price is in a supported currency, in the ranges the admin API allows (packages/domain PACKAGE_LIMITS).
ALTER TABLE "subscription_plan_price" ADD CONSTRAINT "subscription_plan_price_amounts_check" CHECK (
    "currency" IN ('usd', 'eur', 'gbp')
    AND "amount_cents" BETWEEN 0 AND 10000000
    AND ("overage_price_cents_per_minute" IS NULL OR "overage_price_cents_per_minute" BETWEEN 0 AND 100000)
);

-- Every package's single price becomes its price in its own currency, with the Stripe price it has now.
INSERT INTO "subscription_plan_price" ("id", "plan_id", "currency", "amount_cents", "overage_price_cents_per_minute", "stripe_price_id", "updated_at")
SELECT gen_random_uuid(), p."id", lower(p."currency"), p."monthly_price_cents", p."overage_price_cents_per_minute",
       (SELECT pp."stripe_price_id" FROM "plan_price" pp
         WHERE pp."plan_id" = p."id" AND pp."current" AND pp."currency" = p."currency"
           AND pp."amount_cents" = p."monthly_price_cents"
         ORDER BY pp."created_at" DESC LIMIT 1),
       CURRENT_TIMESTAMP
  FROM "subscription_plan" p;
