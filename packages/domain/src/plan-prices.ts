/**
 * A package's prices in several currencies. A package has a price in its base currency (the one it was
 * created in; USD for the default catalog) and may have prices in the other supported currencies. Each
 * price is set per market, never converted from another (Minutely converts no money): the default catalog's
 * EUR and GBP prices are price points chosen for those markets (see DEFAULT_PLAN_CURRENCY_PRICES).
 * The overage per minute is priced per currency too, and a package either charges overage in every
 * currency it is priced in or in none (a hard cap at the limit is a property of the package, not of a
 * currency).
 */
import { CURRENCIES, type Currency, type Money, money } from "./money";
import type { ValidationIssue } from "./plans";

/** What a package costs in one currency: its monthly price and the price of a minute beyond the limit. */
export interface PlanCurrencyPrice {
  monthlyPrice: Money;
  /** `null`: the package has no overage (a hard cap at the limit). */
  overagePricePerMinute: Money | null;
}

/** Minor units of one currency's price as the admin API and the database hold it. */
export interface PlanCurrencyAmounts {
  amountCents: number;
  overagePriceCentsPerMinute: number | null;
}

/**
 * The default catalog's prices per currency, by package name. The rule: a price per market, not a
 * conversion. EUR prices equal the USD price for the entry package and sit a little below it for the others
 * (€29, €95, €289 for $29, $99, $299); GBP prices are about 86% of the USD price, rounded to a price point
 * ending in 5 or 9 (£25, £85, £259). Overage per minute is the same number of minor units in every currency
 * (2 or 3 cents, pence): at that size a finer step would mean nothing.
 */
export const DEFAULT_PLAN_CURRENCY_PRICES: Readonly<
  Record<string, Readonly<Record<Currency, PlanCurrencyAmounts>>>
> = Object.freeze({
  Starter: Object.freeze({
    usd: { amountCents: 2900, overagePriceCentsPerMinute: null },
    eur: { amountCents: 2900, overagePriceCentsPerMinute: null },
    gbp: { amountCents: 2500, overagePriceCentsPerMinute: null },
  }),
  Pro: Object.freeze({
    usd: { amountCents: 9900, overagePriceCentsPerMinute: 3 },
    eur: { amountCents: 9500, overagePriceCentsPerMinute: 3 },
    gbp: { amountCents: 8500, overagePriceCentsPerMinute: 3 },
  }),
  Enterprise: Object.freeze({
    usd: { amountCents: 29900, overagePriceCentsPerMinute: 2 },
    eur: { amountCents: 28900, overagePriceCentsPerMinute: 2 },
    gbp: { amountCents: 25900, overagePriceCentsPerMinute: 2 },
  }),
});

/** The price in one currency as money. */
export function planCurrencyPrice(currency: Currency, amounts: PlanCurrencyAmounts): PlanCurrencyPrice {
  return {
    monthlyPrice: money(amounts.amountCents, currency),
    overagePricePerMinute:
      amounts.overagePriceCentsPerMinute === null
        ? null
        : money(amounts.overagePriceCentsPerMinute, currency),
  };
}

/**
 * Checks a package's prices in its other currencies against its base price: a currency at most once, not the
 * base currency again (the base price is the package's own), and overage in every currency or in none.
 * Fields are named as the admin API names them: `prices.eur.overagePriceCentsPerMinute`.
 */
export function validateCurrencyPrices(
  base: { currency: Currency; chargesOverage: boolean },
  prices: Partial<Record<Currency, PlanCurrencyAmounts>>,
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const currency of CURRENCIES) {
    const price = prices[currency];
    if (price === undefined) continue;
    if (currency === base.currency) {
      issues.push({
        field: `prices.${currency}`,
        message: `${currency.toUpperCase()} is the package's own currency: set its price above, not again here`,
      });
      continue;
    }
    const hasOverage = price.overagePriceCentsPerMinute !== null;
    if (hasOverage !== base.chargesOverage) {
      issues.push({
        field: `prices.${currency}.overagePriceCentsPerMinute`,
        message: base.chargesOverage
          ? `The package charges overage: give its ${currency.toUpperCase()} price per minute too`
          : `The package has a hard cap at its minutes: it has no ${currency.toUpperCase()} overage price either`,
      });
    }
  }
  return issues;
}
