// The package form: what the admin types (strings, checkboxes) and how it becomes the admin router's
// package input. The rules mirror the server's ZPackageInputSchema and validatePlan, so most mistakes are
// caught before a round trip; the server stays the authority (duplicate names, say) and its field errors
// are mapped back onto these fields.
import {
  CURRENCIES,
  type Currency,
  isCurrency,
  PACKAGE_LIMITS,
  type PackageNumberField,
  PLAN_DESCRIPTION_MAX_LENGTH,
  PLAN_NAME_MAX_LENGTH,
  packageNumberMessage,
  TRIAL_LIMITS,
} from "@minutely/domain";
import { z } from "zod";
import type { AdminPackage, PackageInput } from "./trpc.ts";

/** The admin API's limits (PACKAGE_LIMITS, which ZPackageInputSchema enforces). */
export const MAX_MONTHLY_PRICE_CENTS = PACKAGE_LIMITS.monthlyPriceCents.max;
export const MAX_CALL_MINUTES = PACKAGE_LIMITS.callMinutesLimit.max;
export const MAX_AGENTS = PACKAGE_LIMITS.agentsAllowed.max;
export const MAX_OVERAGE_CENTS = PACKAGE_LIMITS.overagePriceCentsPerMinute.max;

export interface PackageFormValues {
  name: string;
  description: string;
  /** Major units as typed, e.g. "99.00". */
  price: string;
  currency: Currency;
  callMinutesLimit: string;
  agentsAllowed: string;
  analyticsAccess: boolean;
  apiAccess: boolean;
  /** No overage: calls stop at the included minutes. */
  hardCap: boolean;
  /** Whole cents per minute beyond the limit, as typed. */
  overageCents: string;
  recommended: boolean;
  /** Offer a free trial to new subscribers. */
  offerTrial: boolean;
  /** The trial's length in days (TRIAL_LIMITS), as typed. */
  trialDays: string;
  /** Whether Checkout asks for a card before the trial starts. */
  trialRequiresCard: boolean;
  /**
   * The package's price in each other currency, as typed (major units; empty: not priced in it), and its
   * overage in whole cents a minute (when the package is not a hard cap). The package's own currency's fields
   * are not used (its price is `price`).
   */
  usdPrice: string;
  usdOverageCents: string;
  eurPrice: string;
  eurOverageCents: string;
  gbpPrice: string;
  gbpOverageCents: string;
}

export type PackageFormField = keyof PackageFormValues;

/** The form fields of a currency's price and overage. */
export const CURRENCY_PRICE_FIELDS = {
  usd: { price: "usdPrice", overage: "usdOverageCents" },
  eur: { price: "eurPrice", overage: "eurOverageCents" },
  gbp: { price: "gbpPrice", overage: "gbpOverageCents" },
} as const satisfies Record<Currency, { price: PackageFormField; overage: PackageFormField }>;

export const CURRENCY_OPTIONS = CURRENCIES.map((code) => ({ value: code, label: code.toUpperCase() }));

type Parsed = { ok: true; value: number } | { ok: false; message: string };

/** A number as typed: an optional sign, digits (thousands may be grouped with commas), decimals. */
const NUMBER_TEXT = /^([-+\u2212])?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d*))?$/;

interface NumberText {
  negative: boolean;
  /** The whole part's digits, without commas. */
  whole: string;
  /** The digits after the decimal point ("" when none). */
  fraction: string;
}

function readNumber(text: string): NumberText | null {
  const match = NUMBER_TEXT.exec(text.trim());
  if (!match) return null;
  return {
    negative: match[1] !== undefined && match[1] !== "+",
    whole: (match[2] ?? "").replace(/,/g, ""),
    fraction: match[3] ?? "",
  };
}

/**
 * Reads a decimal amount of major units ("99", "99.5", "1,299.00") as integer minor units, exactly: the
 * digits are read as text, never through a float, so "0.29" is 29 and "1.10" is 110.
 */
export function parseAmountToCents(text: string): Parsed {
  const trimmed = text.trim().replace(/^[$€£]\s*/, "");
  if (trimmed === "") return { ok: false, message: "Enter an amount, e.g. 99.00" };
  const match = /^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d*))?$/.exec(trimmed);
  if (!match) return { ok: false, message: "Enter an amount in digits, e.g. 99.00" };
  const whole = (match[1] ?? "").replace(/,/g, "");
  const fraction = match[2] ?? "";
  if (fraction.length > 2) return { ok: false, message: "Use at most 2 decimal places (whole cents)" };
  if (whole.length > 9) return { ok: false, message: "That amount is too large" };
  return { ok: true, value: Number(whole) * 100 + Number(fraction.padEnd(2, "0")) };
}

/** Reads a whole number ("6000", "6,000"). */
export function parseWholeNumber(text: string): Parsed {
  const trimmed = text.trim();
  if (trimmed === "") return { ok: false, message: "Enter a whole number" };
  if (!/^(\d{1,3}(?:,\d{3})+|\d+)$/.test(trimmed)) return { ok: false, message: "Enter a whole number" };
  const digits = trimmed.replace(/,/g, "");
  if (digits.length > 15) return { ok: false, message: "That number is too large" };
  return { ok: true, value: Number(digits) };
}

/** How one numeric field of the form is read and what its messages say. */
interface NumberFieldRule {
  field: PackageNumberField;
  /** Prices are typed in major units with up to 2 decimals (or, for overage, in whole cents). */
  kind: "amount" | "count";
  /** When the field is empty. */
  empty: string;
  /** When it is not a number at all. */
  notANumber: string;
  /** When it has decimals it may not have (counts and whole cents). */
  fraction?: string;
}

const RULES = {
  price: {
    field: "monthlyPriceCents",
    kind: "amount",
    empty: "Enter the monthly price, e.g. 99.00",
    notANumber: "Enter the monthly price in digits, e.g. 99.00",
  },
  callMinutesLimit: {
    field: "callMinutesLimit",
    kind: "count",
    empty: "Enter the included minutes, e.g. 1000",
    notANumber: "Enter the included minutes in digits, e.g. 1000",
  },
  agentsAllowed: {
    field: "agentsAllowed",
    kind: "count",
    empty: "Enter how many agents the package allows, e.g. 5",
    notANumber: "Enter the agents allowed in digits, e.g. 5",
  },
  overageCents: {
    field: "overagePriceCentsPerMinute",
    kind: "count",
    empty: "Enter the price of a minute in cents, or tick Hard cap",
    notANumber: "Enter the price of a minute in whole cents, e.g. 2 for 0.02",
    fraction: "Enter whole cents, e.g. 2 for 0.02 a minute",
  },
} as const satisfies Record<string, NumberFieldRule>;

/**
 * Reads one numeric field and checks it against the admin API's range, saying what is wrong in words that
 * name the field ("Included minutes must be 0 or more"), the same words the API answers with.
 */
function readField(text: string, rule: NumberFieldRule): Parsed {
  if (text.trim() === "") return { ok: false, message: rule.empty };
  // A price may start with its currency's symbol ("$99", "€ 5.50").
  const number = readNumber(rule.kind === "amount" ? text.trim().replace(/^[$€£]\s*/, "") : text);
  if (!number) return { ok: false, message: rule.notANumber };
  const { min, max } = PACKAGE_LIMITS[rule.field];
  const nonZero = /[1-9]/.test(number.whole + number.fraction);
  if (number.negative && nonZero) return { ok: false, message: packageNumberMessage(rule.field, "below") };
  let value: number;
  if (rule.kind === "amount") {
    if (number.fraction.length > 2)
      return { ok: false, message: "Use at most 2 decimal places (whole cents)" };
    if (number.whole.length > 12) return { ok: false, message: packageNumberMessage(rule.field, "above") };
    value = Number(number.whole) * 100 + Number(number.fraction.padEnd(2, "0"));
  } else {
    if (/[1-9]/.test(number.fraction)) {
      return { ok: false, message: rule.fraction ?? packageNumberMessage(rule.field, "fraction") };
    }
    if (number.whole.length > 15) return { ok: false, message: packageNumberMessage(rule.field, "above") };
    value = Number(number.whole);
  }
  if (value < min) return { ok: false, message: packageNumberMessage(rule.field, "below") };
  if (value > max) return { ok: false, message: packageNumberMessage(rule.field, "above") };
  return { ok: true, value };
}

/** Integer minor units as the form shows them: 9900 -> "99.00". */
export function formatCentsForInput(cents: number): string {
  const whole = Math.trunc(cents / 100);
  const fraction = String(cents % 100).padStart(2, "0");
  return `${whole}.${fraction}`;
}

export type PackageFormResult =
  | { ok: true; input: PackageInput }
  | { ok: false; errors: Partial<Record<PackageFormField, string>> };

/** Validates every field at once (so every problem shows together) and builds the router input. */
export function parsePackageForm(values: PackageFormValues): PackageFormResult {
  const errors: Partial<Record<PackageFormField, string>> = {};

  const name = values.name.trim();
  if (name === "") errors.name = "Name is required";
  else if (name.length > PLAN_NAME_MAX_LENGTH)
    errors.name = `Name must be at most ${PLAN_NAME_MAX_LENGTH} characters`;

  const description = values.description.trim();
  if (description.length > PLAN_DESCRIPTION_MAX_LENGTH) {
    errors.description = `Description must be at most ${PLAN_DESCRIPTION_MAX_LENGTH} characters`;
  }

  const price = readField(values.price, RULES.price);
  if (!price.ok) errors.price = price.message;

  if (!isCurrency(values.currency)) errors.currency = "Choose USD, EUR or GBP";

  const minutes = readField(values.callMinutesLimit, RULES.callMinutesLimit);
  if (!minutes.ok) errors.callMinutesLimit = minutes.message;

  const agents = readField(values.agentsAllowed, RULES.agentsAllowed);
  if (!agents.ok) errors.agentsAllowed = agents.message;

  let overage: number | null = null;
  if (!values.hardCap) {
    const parsed = readField(values.overageCents ?? "", RULES.overageCents);
    if (!parsed.ok) errors.overageCents = parsed.message;
    else overage = parsed.value;
  }

  let trialDays: number | null = null;
  if (values.offerTrial) {
    const days = parseWholeNumber(values.trialDays ?? "");
    if (!days.ok) errors.trialDays = "Enter the trial's length in whole days";
    else if (days.value < TRIAL_LIMITS.minDays || days.value > TRIAL_LIMITS.maxDays)
      errors.trialDays = `Trial days must be between ${TRIAL_LIMITS.minDays} and ${TRIAL_LIMITS.maxDays}.`;
    else trialDays = days.value;
  }

  // The other currencies: a price typed means the package is sold in it; its overage then too (unless a
  // hard cap).
  const prices: NonNullable<PackageInput["prices"]> = {};
  for (const currency of CURRENCIES) {
    if (currency === values.currency) continue;
    const fields = CURRENCY_PRICE_FIELDS[currency];
    const typed = (values[fields.price] ?? "").trim();
    if (typed === "") continue;
    const amount = readField(typed, RULES.price);
    if (!amount.ok) errors[fields.price] = amount.message;
    let currencyOverage: number | null = null;
    if (!values.hardCap) {
      const parsed = readField(values[fields.overage] ?? "", RULES.overageCents);
      if (!parsed.ok) errors[fields.overage] = parsed.message;
      else currencyOverage = parsed.value;
    }
    if (amount.ok)
      prices[currency] = { amountCents: amount.value, overagePriceCentsPerMinute: currencyOverage };
  }

  if (
    Object.keys(errors).length > 0 ||
    !price.ok ||
    !minutes.ok ||
    !agents.ok ||
    !isCurrency(values.currency)
  ) {
    return { ok: false, errors };
  }
  return {
    ok: true,
    input: {
      name,
      description,
      monthlyPriceCents: price.value,
      currency: values.currency,
      callMinutesLimit: minutes.value,
      agentsAllowed: agents.value,
      analyticsAccess: values.analyticsAccess,
      apiAccess: values.apiAccess,
      overagePriceCentsPerMinute: overage,
      recommended: values.recommended,
      trialDays,
      trialRequiresCard: values.trialRequiresCard,
      prices,
    },
  };
}

/** The form schema for react-hook-form's zod resolver: form values in, router input out. */
export const PackageFormSchema = z
  .object({
    name: z.string(),
    description: z.string(),
    price: z.string(),
    currency: z.enum(CURRENCIES as [Currency, ...Currency[]]),
    callMinutesLimit: z.string(),
    agentsAllowed: z.string(),
    analyticsAccess: z.boolean(),
    apiAccess: z.boolean(),
    hardCap: z.boolean(),
    overageCents: z.string(),
    recommended: z.boolean(),
    offerTrial: z.boolean(),
    trialDays: z.string(),
    trialRequiresCard: z.boolean(),
    usdPrice: z.string(),
    usdOverageCents: z.string(),
    eurPrice: z.string(),
    eurOverageCents: z.string(),
    gbpPrice: z.string(),
    gbpOverageCents: z.string(),
  })
  .transform((values, ctx): PackageInput => {
    const result = parsePackageForm(values);
    if (result.ok) return result.input;
    for (const [field, message] of Object.entries(result.errors)) {
      ctx.addIssue({ code: "custom", path: [field], message });
    }
    return z.NEVER;
  });

export const EMPTY_PACKAGE_FORM: PackageFormValues = {
  name: "",
  description: "",
  price: "",
  currency: "usd",
  callMinutesLimit: "",
  agentsAllowed: "1",
  analyticsAccess: false,
  apiAccess: false,
  hardCap: true,
  overageCents: "",
  recommended: false,
  offerTrial: false,
  trialDays: "14",
  trialRequiresCard: true,
  usdPrice: "",
  usdOverageCents: "",
  eurPrice: "",
  eurOverageCents: "",
  gbpPrice: "",
  gbpOverageCents: "",
};

export function formValuesOf(pkg: AdminPackage): PackageFormValues {
  const own = pkg.monthlyPrice.currency;
  const other = (currency: Currency) =>
    currency === own ? undefined : pkg.currencyPrices.find((p) => p.monthlyPrice.currency === currency);
  const priceText = (currency: Currency) => {
    const price = other(currency);
    return price ? formatCentsForInput(price.monthlyPrice.amount) : "";
  };
  const overageText = (currency: Currency) => {
    const overage = other(currency)?.overagePricePerMinute;
    return overage ? String(overage.amount) : "";
  };
  return {
    name: pkg.name,
    description: pkg.description,
    price: formatCentsForInput(pkg.monthlyPrice.amount),
    currency: pkg.monthlyPrice.currency,
    callMinutesLimit: String(pkg.callMinutesLimit),
    agentsAllowed: String(pkg.agentsAllowed),
    analyticsAccess: pkg.features.analytics,
    apiAccess: pkg.features.apiAccess,
    hardCap: pkg.overagePricePerMinute === null,
    overageCents: pkg.overagePricePerMinute === null ? "" : String(pkg.overagePricePerMinute.amount),
    recommended: pkg.recommended,
    offerTrial: pkg.trial !== null,
    trialDays: String(pkg.trial?.days ?? 14),
    trialRequiresCard: pkg.trial?.requiresCard ?? true,
    usdPrice: priceText("usd"),
    usdOverageCents: overageText("usd"),
    eurPrice: priceText("eur"),
    eurOverageCents: overageText("eur"),
    gbpPrice: priceText("gbp"),
    gbpOverageCents: overageText("gbp"),
  };
}

/** The server's input field names (also as `values.<field>` for update) -> the form field showing them. */
const FORM_FIELD_OF: Record<string, PackageFormField> = {
  name: "name",
  description: "description",
  monthlyPriceCents: "price",
  currency: "currency",
  callMinutesLimit: "callMinutesLimit",
  agentsAllowed: "agentsAllowed",
  analyticsAccess: "analyticsAccess",
  apiAccess: "apiAccess",
  overagePriceCentsPerMinute: "overageCents",
  recommended: "recommended",
  trialDays: "trialDays",
  trialRequiresCard: "trialRequiresCard",
  ...Object.fromEntries(
    CURRENCIES.flatMap((currency) => [
      [`prices.${currency}`, CURRENCY_PRICE_FIELDS[currency].price],
      [`prices.${currency}.amountCents`, CURRENCY_PRICE_FIELDS[currency].price],
      [`prices.${currency}.overagePriceCentsPerMinute`, CURRENCY_PRICE_FIELDS[currency].overage],
    ]),
  ),
};

/** Splits server field errors into the ones a form field can show and the rest (for a banner). */
export function mapServerFieldErrors(fieldErrors: Record<string, string>): {
  fields: Partial<Record<PackageFormField, string>>;
  other: string[];
} {
  const fields: Partial<Record<PackageFormField, string>> = {};
  const other: string[] = [];
  for (const [key, message] of Object.entries(fieldErrors)) {
    const field = FORM_FIELD_OF[key.replace(/^values\./, "")];
    if (field && fields[field] === undefined) fields[field] = message;
    else if (!field) other.push(message);
  }
  return { fields, other };
}
