import type { SubscriptionPlan } from "@minutely/db";
import {
  buildComparisonRows,
  type Currency,
  isCurrency,
  type Money,
  type PlanDefinition,
} from "@minutely/domain";
import type { Ports } from "../../context.ts";
import { accountBillingCurrency, availabilityFor } from "../billing/billing-currency.ts";
import { currentSubscription, needsPackageSelection } from "../subscriptions/account-subscription.ts";

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
  const packages = rows.map(toPackageView);
  return { packages, comparison: buildComparisonRows(packages.map(toPlanDefinition)) };
}

/**
 * The package selection page of one account: what it can choose, and what it has. Once the account has
 * subscribed, its billing currency is fixed (Stripe's rule): packages in another currency are listed but
 * marked unavailable, with the reason.
 */
export async function packageSelection(ports: Pick<Ports, "db">, accountId: string) {
  const [{ packages, comparison }, subscription, billingCurrency] = await Promise.all([
    listAvailablePackages(ports),
    currentSubscription(ports.db, accountId),
    accountBillingCurrency(ports, accountId),
  ]);
  const needsSelection = needsPackageSelection(subscription);
  return {
    packages: packages.map((p) => ({ ...p, availability: availabilityFor(billingCurrency, p) })),
    comparison,
    /** The currency the account is billed in (fixed by its first subscription); null before that. */
    billingCurrency,
    currentPackageId: needsSelection ? null : (subscription?.planId ?? null),
    needsPackageSelection: needsSelection,
  };
}
