import { describe, expect, it } from "vitest";
import { currencyForLocale, currencyLabel, parseShopCurrency } from "./currency.ts";

describe("currencyForLocale", () => {
  it("gives EUR to euro-area locales, GBP to the UK's, USD to the rest", () => {
    for (const locale of [
      "de-DE",
      "fr-FR",
      "es-ES",
      "it-IT",
      "nl-NL",
      "de-AT",
      "en-IE",
      "fr-BE",
      "de",
      "fr",
    ]) {
      expect(currencyForLocale(locale), locale).toBe("eur");
    }
    expect(currencyForLocale("en-GB")).toBe("gbp");
    for (const locale of [
      "en-US",
      "en",
      "de-CH",
      "fr-CA",
      "ja-JP",
      "sv-SE",
      "pl",
      undefined,
      "",
      "not a locale!",
    ]) {
      expect(currencyForLocale(locale), String(locale)).toBe("usd");
    }
  });
});

describe("currencyLabel", () => {
  it("names the code with its symbol", () => {
    expect(currencyLabel("eur")).toBe("EUR (€)");
    expect(currencyLabel("gbp")).toBe("GBP (£)");
    expect(currencyLabel("usd")).toBe("USD ($)");
  });
});

describe("parseShopCurrency", () => {
  it("takes usd, eur and gbp as stored, nothing else (no casing or type coerced)", () => {
    expect(["usd", "eur", "gbp"].map(parseShopCurrency)).toEqual(["usd", "eur", "gbp"]);
    for (const value of ["EUR", "eur ", "", "xxx", null, undefined, 1, ["eur"]]) {
      expect(parseShopCurrency(value), JSON.stringify(value)).toBeNull();
    }
  });
});
