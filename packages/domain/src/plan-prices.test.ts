import { describe, expect, it } from "vitest";
import { CURRENCIES } from "./money";
import { DEFAULT_PLAN_CURRENCY_PRICES, planCurrencyPrice, validateCurrencyPrices } from "./plan-prices";
import { DEFAULT_PLANS } from "./plans";

describe("default prices per currency", () => {
  it("prices every default package in USD, EUR and GBP as the docs state", () => {
    const table = Object.fromEntries(
      DEFAULT_PLANS.map((plan) => [
        plan.name,
        CURRENCIES.map((c) => DEFAULT_PLAN_CURRENCY_PRICES[plan.name]?.[c]?.amountCents),
      ]),
    );
    expect(table).toEqual({
      Starter: [2900, 2900, 2500],
      Pro: [9900, 9500, 8500],
      Enterprise: [29900, 28900, 25900],
    });
  });

  it("agrees with the default package's own USD price and overage", () => {
    for (const plan of DEFAULT_PLANS) {
      const usd = DEFAULT_PLAN_CURRENCY_PRICES[plan.name]?.usd;
      expect(usd?.amountCents).toBe(plan.monthlyPrice.amount);
      expect(usd?.overagePriceCentsPerMinute).toBe(plan.overagePricePerMinute?.amount ?? null);
      const others = {
        eur: DEFAULT_PLAN_CURRENCY_PRICES[plan.name]?.eur,
        gbp: DEFAULT_PLAN_CURRENCY_PRICES[plan.name]?.gbp,
      };
      expect(
        validateCurrencyPrices(
          { currency: "usd", chargesOverage: plan.overagePricePerMinute !== null },
          others,
        ),
      ).toEqual([]);
    }
  });
});

describe("planCurrencyPrice", () => {
  it("gives money in the currency, overage null for a hard cap", () => {
    expect(planCurrencyPrice("gbp", { amountCents: 8500, overagePriceCentsPerMinute: 3 })).toEqual({
      monthlyPrice: { amount: 8500, currency: "gbp" },
      overagePricePerMinute: { amount: 3, currency: "gbp" },
    });
    expect(
      planCurrencyPrice("eur", { amountCents: 2900, overagePriceCentsPerMinute: null }).overagePricePerMinute,
    ).toBeNull();
  });
});

describe("validateCurrencyPrices", () => {
  it("refuses the base currency again, naming it", () => {
    expect(
      validateCurrencyPrices(
        { currency: "usd", chargesOverage: false },
        { usd: { amountCents: 1, overagePriceCentsPerMinute: null } },
      ),
    ).toEqual([{ field: "prices.usd", message: expect.stringContaining("own currency") }]);
  });

  it("refuses overage in one currency and not in another, naming the field", () => {
    expect(
      validateCurrencyPrices(
        { currency: "usd", chargesOverage: true },
        { eur: { amountCents: 9500, overagePriceCentsPerMinute: null } },
      ).map((i) => i.field),
    ).toEqual(["prices.eur.overagePriceCentsPerMinute"]);
    expect(
      validateCurrencyPrices(
        { currency: "usd", chargesOverage: false },
        { gbp: { amountCents: 2500, overagePriceCentsPerMinute: 2 } },
      ).map((i) => i.field),
    ).toEqual(["prices.gbp.overagePriceCentsPerMinute"]);
  });
});
