// The package catalog as customers see it: packages in display order, in minor units with their currency,
// and the comparison table (computed by the domain from package data).
import type { SubscriptionPlan, SubscriptionPlanPrice } from "@minutely/db";
import {
  buildComparisonRows,
  CURRENCIES,
  type Currency,
  isCurrency,
  type Money,
  type PlanCurrencyPrice,
  type PlanDefinition,
  type PlanTrial,
  planCurrencyPrice,
  planTrialOf,
} from "@minutely/domain";
import type { Ports } from "../../context.ts";

/** A package as the product shows it (money in minor units with its currency). */
export interface PackageView {
  id: string;
  name: string;
  description: string;
  monthlyPrice: Money;
  callMinutesLimit: number;
  agentsAllowed: number;
  features: { analytics: boolean; apiAccess: boolean };
  overagePricePerMinute: Money | null;
  recommended: boolean;
  active: boolean;
  sortOrder: number;
  /** The free trial new subscribers get (days, whether a card is required), or null. */
  trial: PlanTrial | null;
  /**
   * What the package costs in each currency it can be bought in (its own currency, `monthlyPrice`'s, always
   * among them), in usd, eur, gbp order. A currency missing here cannot be bought in.
   */
  currencyPrices: PlanCurrencyPrice[];
}

/** A package row, with its prices per currency when the query included them. */
export type PlanRow = SubscriptionPlan & { currencyPrices?: readonly SubscriptionPlanPrice[] };

/** The package rows' include for their prices per currency. */
export const WITH_CURRENCY_PRICES = { currencyPrices: true } as const;

function currencyOf(row: { id: string; currency: string }): Currency {
  const code = row.currency.trim().toLowerCase();
  if (!isCurrency(code)) throw new Error(`package ${row.id} has an unsupported currency "${row.currency}"`);
  return code;
}

/**
 * The package's prices per currency: its own price (the package row's, which its own currency's price row
 * repeats), then the rows of the other currencies.
 */
function pricesOf(row: PlanRow, currency: Currency): PlanCurrencyPrice[] {
  const own = planCurrencyPrice(currency, {
    amountCents: row.monthlyPriceCents,
    overagePriceCentsPerMinute: row.overagePriceCentsPerMinute,
  });
  const others = new Map(
    (row.currencyPrices ?? []).map((p) => [
      currencyOf({ id: row.id, currency: p.currency }),
      planCurrencyPrice(currencyOf({ id: row.id, currency: p.currency }), p),
    ]),
  );
  return CURRENCIES.flatMap((c) =>
    c === currency ? [own] : others.has(c) ? [others.get(c) as PlanCurrencyPrice] : [],
  );
}

/** The package's price in a currency, or null when it cannot be bought in it. */
export function priceIn(
  pkg: Pick<PackageView, "currencyPrices">,
  currency: Currency,
): PlanCurrencyPrice | null {
  return pkg.currencyPrices.find((p) => p.monthlyPrice.currency === currency) ?? null;
}

export function toPackageView(row: PlanRow): PackageView {
  const currency = currencyOf(row);
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    monthlyPrice: { amount: row.monthlyPriceCents, currency },
    callMinutesLimit: row.callMinutesLimit,
    agentsAllowed: row.agentsAllowed,
    features: { analytics: row.analyticsAccess, apiAccess: row.apiAccess },
    overagePricePerMinute:
      row.overagePriceCentsPerMinute === null ? null : { amount: row.overagePriceCentsPerMinute, currency },
    recommended: row.recommended,
    active: row.active,
    sortOrder: row.sortOrder,
    trial: planTrialOf(row),
    currencyPrices: pricesOf(row, currency),
  };
}

export function toPlanDefinition(view: PackageView): PlanDefinition {
  return {
    name: view.name,
    description: view.description,
    monthlyPrice: view.monthlyPrice,
    callMinutesLimit: view.callMinutesLimit,
    agentsAllowed: view.agentsAllowed,
    features: view.features,
    overagePricePerMinute: view.overagePricePerMinute,
    recommended: view.recommended,
    active: view.active,
    sortOrder: view.sortOrder,
  };
}

/** Packages customers can choose from, in display order, with the comparison table. */
export async function listAvailablePackages({ db }: Pick<Ports, "db">) {
  const rows = await db.subscriptionPlan.findMany({
    where: { active: true },
    orderBy: [{ sortOrder: "asc" }, { name: "asc" }],
    include: WITH_CURRENCY_PRICES,
  });
  return availablePackagesOf(rows);
}

/** The catalog from the active packages' rows in display order (sort order, then name). */
export function availablePackagesOf(rows: readonly PlanRow[]) {
  const packages = rows.map(toPackageView);
  return { packages, comparison: buildComparisonRows(packages.map(toPlanDefinition)) };
}
