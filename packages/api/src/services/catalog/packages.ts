// The package catalog as customers see it: packages in display order, in minor units with their currency,
// and the comparison table (computed by the domain from package data).
import type { PlanPrice, SubscriptionPlan, SubscriptionPlanPrice } from "@minutely/db";
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

/**
 * A package row, with its prices per currency when the query included them (and every Stripe price it has
 * had, `prices`, where a subscription's price is read).
 */
export type PlanRow = SubscriptionPlan & {
  currencyPrices?: readonly SubscriptionPlanPrice[];
  prices?: readonly PlanPrice[];
};

/** The package rows' include for their prices per currency. */
export const WITH_CURRENCY_PRICES = { currencyPrices: true } as const;

/** The include for a subscription's package: its prices per currency and every Stripe price it has had. */
export const WITH_SUBSCRIBED_PRICES = { currencyPrices: true, prices: true } as const;

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

/**
 * The package as bought in `currency`: its monthly and overage prices are its prices in that currency (its
 * `currencyPrices` entry; the row must include them), everything else as `toPackageView`. Null when the
 * package is not sold in `currency`. Prices are never converted between currencies.
 */
export function packageViewIn(row: PlanRow, currency: Currency): PackageView | null {
  const view = toPackageView(row);
  if (view.monthlyPrice.currency === currency) return view;
  if (row.currencyPrices === undefined) {
    throw new Error(
      `package ${row.id}: its prices per currency were not read (include WITH_CURRENCY_PRICES)`,
    );
  }
  const price = priceIn(view, currency);
  if (!price) return null;
  return { ...view, monthlyPrice: price.monthlyPrice, overagePricePerMinute: price.overagePricePerMinute };
}

/**
 * The Stripe price that sells the package in `currency` (its own currency's: the package row's), or null
 * while the catalog sync has not made it yet or when it is not sold in that currency.
 */
export function stripePriceIn(row: PlanRow, currency: Currency): string | null {
  if (currencyOf(row) === currency && row.stripePriceId) return row.stripePriceId;
  if (row.currencyPrices === undefined) {
    throw new Error(
      `package ${row.id}: its prices per currency were not read (include WITH_CURRENCY_PRICES)`,
    );
  }
  return row.currencyPrices.find((p) => p.currency.trim().toLowerCase() === currency)?.stripePriceId ?? null;
}

/**
 * The package as a subscription billed in its currency has it: its prices in the subscription's currency,
 * the monthly one being what the subscription's own Stripe price charges (`prices`, when read: a subscriber
 * keeps the price they subscribed at after an admin changes it, until they change package).
 * A package loses a currency's price only while no live subscription bills in it (catalog-admin refuses the
 * removal); for an ended subscription whose currency the package no longer sells in, the monthly price is
 * the one its Stripe price charged (`prices`, every Stripe price the package has had) and no overage price
 * is shown. Never a price in another currency: anything else is an error.
 */
export function subscribedPackageView(
  row: PlanRow,
  subscription: { currency: string; stripePriceId: string },
): PackageView {
  const code = subscription.currency.trim().toLowerCase();
  if (!isCurrency(code)) throw new Error(`a subscription to ${row.id} bills in "${subscription.currency}"`);
  const paid = row.prices?.find(
    (p) => p.stripePriceId === subscription.stripePriceId && p.currency.trim().toLowerCase() === code,
  );
  const view = packageViewIn(row, code);
  // A subscriber keeps the price they subscribed at until they change package (an admin's new price is a new
  // Stripe price, for new subscriptions): the monthly price shown is the one their Stripe price charges.
  if (view) return paid ? { ...view, monthlyPrice: { amount: paid.amountCents, currency: code } } : view;
  if (!paid)
    throw new Error(`package ${row.id} has no price in ${code}, the currency of a subscription to it`);
  return {
    ...toPackageView(row),
    monthlyPrice: { amount: paid.amountCents, currency: code },
    overagePricePerMinute: null,
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

/**
 * Packages customers can choose from, in display order, with the comparison table. With `currency`: the
 * packages sold in it, priced in it (a package without a price in it is left out); without: each in its own.
 */
export async function listAvailablePackages({ db }: Pick<Ports, "db">, currency?: Currency) {
  const rows = await db.subscriptionPlan.findMany({
    where: { active: true },
    orderBy: [{ sortOrder: "asc" }, { name: "asc" }],
    include: WITH_CURRENCY_PRICES,
  });
  return availablePackagesOf(rows, currency);
}

/** The catalog from the active packages' rows in display order (sort order, then name), optionally in a currency. */
export function availablePackagesOf(rows: readonly PlanRow[], currency?: Currency) {
  const packages =
    currency === undefined
      ? rows.map(toPackageView)
      : rows.flatMap((row) => {
          const view = packageViewIn(row, currency);
          return view ? [view] : [];
        });
  return { packages, comparison: buildComparisonRows(packages.map(toPlanDefinition)) };
}
