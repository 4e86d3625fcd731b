// The package catalog as customers see it: packages in display order, in minor units with their currency,
// and the comparison table (computed by the domain from package data).
import type { SubscriptionPlan } from "@minutely/db";
import {
  buildComparisonRows,
  type Currency,
  isCurrency,
  type Money,
  type PlanDefinition,
  type PlanTrial,
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
}

function currencyOf(row: SubscriptionPlan): Currency {
  const code = row.currency.trim().toLowerCase();
  if (!isCurrency(code)) throw new Error(`package ${row.id} has an unsupported currency "${row.currency}"`);
  return code;
}

export function toPackageView(row: SubscriptionPlan): PackageView {
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
  });
  return availablePackagesOf(rows);
}

/** The catalog from the active packages' rows in display order (sort order, then name). */
export function availablePackagesOf(rows: readonly SubscriptionPlan[]) {
  const packages = rows.map(toPackageView);
  return { packages, comparison: buildComparisonRows(packages.map(toPlanDefinition)) };
}
