import {
  CURRENCIES,
  DEFAULT_PLAN_CURRENCY_PRICES,
  DEFAULT_PLANS,
  type PlanDefinition,
} from "@minutely/domain";
import type { PrismaClient } from "./generated/prisma/client.ts";
import type { SubscriptionPlanCreateInput } from "./generated/prisma/models.ts";
import { transactionLock } from "./locks.ts";

export function planToRow(plan: PlanDefinition): SubscriptionPlanCreateInput {
  return {
    name: plan.name,
    description: plan.description,
    monthlyPriceCents: plan.monthlyPrice.amount,
    currency: plan.monthlyPrice.currency,
    callMinutesLimit: plan.callMinutesLimit,
    agentsAllowed: plan.agentsAllowed,
    analyticsAccess: plan.features.analytics,
    apiAccess: plan.features.apiAccess,
    overagePriceCentsPerMinute: plan.overagePricePerMinute?.amount ?? null,
    recommended: plan.recommended,
    active: plan.active,
    sortOrder: plan.sortOrder,
    currencyPrices: { create: currencyPricesOf(plan) },
  };
}

/**
 * A default package's prices: in its own currency, and in the others the default catalog sets for it
 * (DEFAULT_PLAN_CURRENCY_PRICES: Starter $29 / €29 / £25, Pro $99 / €95 / £85, Enterprise $299 / €289 / £259).
 */
function currencyPricesOf(plan: PlanDefinition) {
  const own = {
    currency: plan.monthlyPrice.currency,
    amountCents: plan.monthlyPrice.amount,
    overagePriceCentsPerMinute: plan.overagePricePerMinute?.amount ?? null,
  };
  const others = CURRENCIES.filter((c) => c !== own.currency).flatMap((currency) => {
    const amounts = DEFAULT_PLAN_CURRENCY_PRICES[plan.name]?.[currency];
    return amounts ? [{ currency, ...amounts }] : [];
  });
  return [own, ...others];
}

/**
 * Creates the default packages (Starter, Pro, Enterprise) in an empty catalog. Idempotent: once the
 * catalog has packages it is the admins' and is left alone, so re-running never undoes their edits.
 * A transaction-scoped advisory lock keeps concurrent seeders from both inserting.
 */
export async function seedCatalog(db: PrismaClient): Promise<{ created: number }> {
  return await db.$transaction(async (tx) => {
    await tx.$executeRaw(transactionLock("seed-catalog"));
    if ((await tx.subscriptionPlan.count()) > 0) return { created: 0 };
    for (const plan of DEFAULT_PLANS) {
      await tx.subscriptionPlan.create({ data: planToRow(plan) });
    }
    return { created: DEFAULT_PLANS.length };
  });
}
