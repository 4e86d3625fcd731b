// The currency a customer who has not bought yet sees prices in, by default: from the browser's locale
// (de-DE, fr-FR, … -> EUR; en-GB -> GBP; anything else -> USD). Pure, so the rule is tested without a browser.
// Once the account has bought, its billing currency (fixed by that purchase) is used instead.

export type ShopCurrency = "usd" | "eur" | "gbp";
export const SHOP_CURRENCIES: readonly ShopCurrency[] = ["usd", "eur", "gbp"];

/** Regions whose currency is the euro. */
const EURO_REGIONS = new Set([
  "AT",
  "BE",
  "CY",
  "DE",
  "EE",
  "ES",
  "FI",
  "FR",
  "GR",
  "HR",
  "IE",
  "IT",
  "LT",
  "LU",
  "LV",
  "MT",
  "NL",
  "PT",
  "SI",
  "SK",
]);
/** Languages spoken mostly in euro countries, for a locale without a region ("de", "fr"). */
const EURO_LANGUAGES = new Set([
  "de",
  "fr",
  "it",
  "es",
  "nl",
  "pt",
  "fi",
  "el",
  "sk",
  "sl",
  "et",
  "lv",
  "lt",
  "mt",
  "ga",
  "hr",
]);

/** The default currency for a BCP 47 locale (navigator.language); USD for anything unknown or malformed. */
export function currencyForLocale(locale: string | undefined): ShopCurrency {
  if (!locale) return "usd";
  let parsed: Intl.Locale;
  try {
    parsed = new Intl.Locale(locale);
  } catch {
    return "usd";
  }
  const region = parsed.region?.toUpperCase();
  if (region === "GB" || region === "UK" || region === "GG" || region === "JE" || region === "IM")
    return "gbp";
  if (region !== undefined) return EURO_REGIONS.has(region) ? "eur" : "usd";
  return EURO_LANGUAGES.has(parsed.language) ? "eur" : "usd";
}

/** A currency the shop sells in, from a stored or typed value; null for anything else (never coerced). */
export function parseShopCurrency(value: unknown): ShopCurrency | null {
  return typeof value === "string" && (SHOP_CURRENCIES as readonly string[]).includes(value)
    ? (value as ShopCurrency)
    : null;
}

/** A currency code as the selector shows it: "EUR (€)". */
export function currencyLabel(currency: ShopCurrency): string {
  const symbol =
    new Intl.NumberFormat("en", { style: "currency", currency: currency.toUpperCase() })
      .formatToParts(0)
      .find((p) => p.type === "currency")?.value ?? currency.toUpperCase();
  return symbol === currency.toUpperCase() ? symbol : `${currency.toUpperCase()} (${symbol})`;
}
