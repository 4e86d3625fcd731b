/**
 * Billing address, tax IDs and when tax is reverse charged. Stripe is the system of record for both (they
 * live on the Stripe customer) and Stripe Tax (`automatic_tax`) computes the tax from them; these rules
 * check what a customer types before Stripe is asked, so a mistake is a 400 naming the field.
 */

/** The EU member states (ISO 3166-1 alpha-2; Greece's VAT prefix is `EL`). */
export const EU_COUNTRIES: readonly string[] = [
  "AT",
  "BE",
  "BG",
  "CY",
  "CZ",
  "DE",
  "DK",
  "EE",
  "ES",
  "FI",
  "FR",
  "GR",
  "HR",
  "HU",
  "IE",
  "IT",
  "LT",
  "LU",
  "LV",
  "MT",
  "NL",
  "PL",
  "PT",
  "RO",
  "SE",
  "SI",
  "SK",
];

/**
 * Where Minutely (the seller) is established for VAT: a business customer in another EU country with a valid
 * VAT ID is reverse charged (no VAT on the invoice, "Reverse charge"); one in this country pays its VAT.
 */
export const SELLER_TAX_COUNTRY = "IE";

/**
 * The countries an address may be in: ISO 3166-1 alpha-2's assigned codes, and XK (Kosovo, which Stripe
 * takes). A code outside (XX, EU, UK, EL) is no country Stripe Tax can locate: a 400 naming the country.
 */
export const COUNTRY_CODES: ReadonlySet<string> = new Set(
  (
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT " +
    "BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH " +
    "ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT " +
    "HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS " +
    "LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI " +
    "NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG " +
    "SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG " +
    "UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW"
  ).split(" "),
);

const US_STATES = new Set(
  "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR".split(
    " ",
  ),
);
const CA_PROVINCES = new Set("AB BC MB NB NL NS NT NU ON PE QC SK YT".split(" "));

/** A billing address as customers enter it; only the country is always required. */
export interface BillingAddress {
  /** ISO 3166-1 alpha-2, upper case. */
  country: string;
  line1: string | null;
  line2: string | null;
  city: string | null;
  /** State or province: required (two letters) for the US and Canada, where tax depends on it. */
  state: string | null;
  /** Required for the US (ZIP: 12345 or 12345-6789) and Canada (A1A 1A1). */
  postalCode: string | null;
}

/** The tax ID types customers may give (Stripe's names). */
export const TAX_ID_TYPES = ["eu_vat", "gb_vat", "us_ein", "ca_bn", "au_abn", "ch_vat"] as const;
export type TaxIdType = (typeof TAX_ID_TYPES)[number];

export interface TaxIdInput {
  type: TaxIdType;
  value: string;
}

/** A field of the input that is wrong, and why, for people. */
export interface TaxFieldError {
  field: string;
  message: string;
}

export const ADDRESS_LIMITS = { line: 200, city: 100, postalCode: 20 } as const;

const blankToNull = (value: string | null | undefined) => {
  const trimmed = value?.trim() ?? "";
  return trimmed === "" ? null : trimmed;
};

/**
 * Checks and normalizes a billing address (trimmed, upper-case country, state and Canadian postal code).
 * Returns the address or the first field that is wrong (`address.country`, `address.postalCode`, …).
 */
export function validateBillingAddress(
  input: BillingAddress,
): { ok: true; address: BillingAddress } | { ok: false; error: TaxFieldError } {
  const country = input.country.trim().toUpperCase();
  if (!COUNTRY_CODES.has(country)) {
    return fail("address.country", "Choose a country (its two-letter ISO code, e.g. DE, US or GB).");
  }
  const line1 = blankToNull(input.line1);
  const line2 = blankToNull(input.line2);
  const city = blankToNull(input.city);
  let state = blankToNull(input.state)?.toUpperCase() ?? null;
  let postalCode = blankToNull(input.postalCode);
  for (const [field, value, max] of [
    ["address.line1", line1, ADDRESS_LIMITS.line],
    ["address.line2", line2, ADDRESS_LIMITS.line],
    ["address.city", city, ADDRESS_LIMITS.city],
    ["address.postalCode", postalCode, ADDRESS_LIMITS.postalCode],
  ] as const) {
    if (value !== null && value.length > max) return fail(field, `At most ${max} characters.`);
  }
  if (country === "US") {
    if (state === null || !US_STATES.has(state)) {
      return fail("address.state", "Choose the state (two letters, e.g. CA): US sales tax depends on it.");
    }
    if (postalCode === null || !/^\d{5}(-\d{4})?$/.test(postalCode)) {
      return fail("address.postalCode", "Enter the ZIP code (12345 or 12345-6789).");
    }
  } else if (country === "CA") {
    if (state === null || !CA_PROVINCES.has(state)) {
      return fail("address.state", "Choose the province (two letters, e.g. ON): Canadian tax depends on it.");
    }
    const compact = postalCode?.toUpperCase().replace(/\s+/g, "") ?? "";
    if (!/^[A-Z]\d[A-Z]\d[A-Z]\d$/.test(compact)) {
      return fail("address.postalCode", "Enter the postal code (A1A 1A1).");
    }
    postalCode = `${compact.slice(0, 3)} ${compact.slice(3)}`;
  } else if (state !== null && state.length > 100) {
    return fail("address.state", "At most 100 characters.");
  }
  if (country !== "US" && country !== "CA") state = blankToNull(input.state);
  return { ok: true, address: { country, line1, line2, city, state, postalCode } };
}

/** EU VAT number formats by prefix (Stripe's; Greece is `EL`, Northern Ireland `XI`). */
const EU_VAT: Record<string, RegExp> = {
  AT: /^ATU\d{8}$/,
  BE: /^BE[01]\d{9}$/,
  BG: /^BG\d{9,10}$/,
  CY: /^CY\d{8}[A-Z]$/,
  CZ: /^CZ\d{8,10}$/,
  DE: /^DE\d{9}$/,
  DK: /^DK\d{8}$/,
  EE: /^EE\d{9}$/,
  EL: /^EL\d{9}$/,
  ES: /^ES[A-Z0-9]\d{7}[A-Z0-9]$/,
  FI: /^FI\d{8}$/,
  FR: /^FR[A-Z0-9]{2}\d{9}$/,
  HR: /^HR\d{11}$/,
  HU: /^HU\d{8}$/,
  IE: /^IE\d{7}[A-W][A-I]?$|^IE\d[A-Z+*]\d{5}[A-W]$/,
  IT: /^IT\d{11}$/,
  LT: /^LT(\d{9}|\d{12})$/,
  LU: /^LU\d{8}$/,
  LV: /^LV\d{11}$/,
  MT: /^MT\d{8}$/,
  NL: /^NL\d{9}B\d{2}$/,
  PL: /^PL\d{10}$/,
  PT: /^PT\d{9}$/,
  RO: /^RO\d{2,10}$/,
  SE: /^SE\d{12}$/,
  SI: /^SI\d{8}$/,
  SK: /^SK\d{10}$/,
};

const FORMATS: Record<Exclude<TaxIdType, "eu_vat">, { pattern: RegExp; example: string }> = {
  gb_vat: { pattern: /^GB(\d{9}|\d{12}|GD\d{3}|HA\d{3})$/, example: "GB123456789" },
  us_ein: { pattern: /^\d{2}-\d{7}$/, example: "12-3456789" },
  ca_bn: { pattern: /^\d{9}$/, example: "123456789" },
  au_abn: { pattern: /^\d{11}$/, example: "12345678912" },
  ch_vat: { pattern: /^CHE-\d{3}\.\d{3}\.\d{3} (MWST|TVA|IVA)$/, example: "CHE-123.456.789 MWST" },
};

/** The country a tax ID belongs to (an EU VAT number's prefix; `EL` is GR). */
export function taxIdCountry(taxId: TaxIdInput): string {
  if (taxId.type === "eu_vat") {
    const prefix = taxId.value.slice(0, 2);
    return prefix === "EL" ? "GR" : prefix;
  }
  return taxId.type.slice(0, 2).toUpperCase();
}

/**
 * Checks a tax ID's format (as Stripe does) and normalizes it: VAT numbers upper case without spaces, dots
 * or dashes; a US EIN as 12-3456789. The error names `taxId.value` (or `taxId.type`).
 */
export function validateTaxId(
  input: TaxIdInput,
): { ok: true; taxId: TaxIdInput } | { ok: false; error: TaxFieldError } {
  const raw = input.value.trim().toUpperCase();
  if (raw === "") return fail("taxId.value", "Enter the tax ID, or leave it out.");
  if (raw.length > 40) return fail("taxId.value", "At most 40 characters.");
  if (input.type === "eu_vat") {
    const value = raw.replace(/[\s.-]+/g, "");
    const pattern = EU_VAT[value.slice(0, 2)];
    if (!pattern?.test(value)) {
      return fail(
        "taxId.value",
        "Not an EU VAT number: the country prefix and its digits, e.g. DE123456789 or FRAB123456789.",
      );
    }
    return { ok: true, taxId: { type: "eu_vat", value } };
  }
  let value = raw;
  if (input.type === "gb_vat") value = raw.replace(/[\s.-]+/g, "");
  if (input.type === "ca_bn" || input.type === "au_abn") value = raw.replace(/\s+/g, "");
  if (input.type === "us_ein" && /^\d{9}$/.test(raw)) value = `${raw.slice(0, 2)}-${raw.slice(2)}`;
  const format = FORMATS[input.type];
  if (!format.pattern.test(value)) {
    return fail("taxId.value", `Not a valid ${TAX_ID_LABELS[input.type]}: e.g. ${format.example}.`);
  }
  return { ok: true, taxId: { type: input.type, value } };
}

export const TAX_ID_LABELS: Record<TaxIdType, string> = {
  eu_vat: "EU VAT number",
  gb_vat: "UK VAT number",
  us_ein: "US EIN",
  ca_bn: "Canadian business number",
  au_abn: "Australian ABN",
  ch_vat: "Swiss VAT number",
};

/**
 * Whether an invoice to this customer is reverse charged: an EU VAT ID that Stripe verified, of the same EU
 * country as the billing address, which is not the seller's country. A domestic customer pays VAT even with
 * a VAT ID; a VAT ID not (yet) verified pays VAT.
 */
export function reverseChargeApplies(
  address: BillingAddress | null,
  taxId: (TaxIdInput & { verified: boolean }) | null,
  sellerCountry: string = SELLER_TAX_COUNTRY,
): boolean {
  if (address === null || taxId === null || taxId.type !== "eu_vat" || !taxId.verified) return false;
  const country = taxIdCountry(taxId);
  return country === address.country && EU_COUNTRIES.includes(country) && country !== sellerCountry;
}

/** Whether Stripe Tax can compute tax for the address (a country; for the US and Canada, a state too). */
export function hasTaxLocation(address: BillingAddress | null): boolean {
  if (address === null || !/^[A-Z]{2}$/.test(address.country)) return false;
  return (address.country !== "US" && address.country !== "CA") || address.state !== null;
}

/**
 * The invoice identity every invoice must satisfy: total = subtotal − discounts + exclusive tax (integer
 * minor units; prices here are exclusive of tax).
 */
export function invoiceTotalsAgree(invoice: {
  subtotalCents: number;
  discountCents: number;
  taxCents: number;
  totalCents: number;
}): boolean {
  return invoice.totalCents === invoice.subtotalCents - invoice.discountCents + invoice.taxCents;
}

function fail(field: string, message: string): { ok: false; error: TaxFieldError } {
  return { ok: false, error: { field, message } };
}
