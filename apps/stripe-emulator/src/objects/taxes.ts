/**
 * Tax rates, customer tax IDs, and the tax on an invoice's lines. Like discounts, a draft's taxes are
 * computed whenever it is rendered (so previews show them) and finalization freezes them on its lines
 * (`billing/tax.ts`). Automatic tax (`automatic_tax[enabled]`) uses the fixed rate table below instead of
 * Stripe Tax; its rates are virtual tax rate objects (`txr_auto_…`) that exist without being created.
 */
import type Stripe from "stripe";
import type { EmulatorCore } from "../core.ts";
import type { Address, CustomerRec, InvoiceRec, LineRec } from "../state.ts";
import type { LineTaxRec, TaxabilityReason, TaxBehavior, TaxIdRec, TaxRateRec } from "../tax-state.ts";
import { type InvoiceDiscounts, invoiceDiscounts } from "./discounts.ts";

/** One jurisdiction of the automatic tax table. */
export interface AutoRate {
  country: string;
  state: string | null;
  percentage: number;
  display_name: string;
  tax_type: Stripe.TaxRate.TaxType;
}

/**
 * The automatic tax table (documented in the README): country, or US state / Canadian province. A
 * location found here is taxed at that rate; another country (or US state) is a known location where the
 * account does not collect tax (`taxability_reason: not_collecting`, 0).
 */
export const AUTO_RATES: readonly AutoRate[] = [
  { country: "US", state: "CA", percentage: 7.25, display_name: "Sales Tax", tax_type: "sales_tax" },
  { country: "US", state: "NY", percentage: 4, display_name: "Sales Tax", tax_type: "sales_tax" },
  { country: "US", state: "TX", percentage: 6.25, display_name: "Sales Tax", tax_type: "sales_tax" },
  { country: "US", state: "WA", percentage: 6.5, display_name: "Sales Tax", tax_type: "sales_tax" },
  { country: "CA", state: "ON", percentage: 13, display_name: "HST", tax_type: "hst" },
  { country: "CA", state: null, percentage: 5, display_name: "GST", tax_type: "gst" },
  { country: "GB", state: null, percentage: 20, display_name: "VAT", tax_type: "vat" },
  { country: "DE", state: null, percentage: 19, display_name: "VAT", tax_type: "vat" },
  { country: "FR", state: null, percentage: 20, display_name: "VAT", tax_type: "vat" },
  { country: "NL", state: null, percentage: 21, display_name: "VAT", tax_type: "vat" },
  { country: "IE", state: null, percentage: 23, display_name: "VAT", tax_type: "vat" },
  { country: "ES", state: null, percentage: 21, display_name: "VAT", tax_type: "vat" },
  { country: "IT", state: null, percentage: 22, display_name: "VAT", tax_type: "vat" },
  { country: "AU", state: null, percentage: 10, display_name: "GST", tax_type: "gst" },
  { country: "NZ", state: null, percentage: 15, display_name: "GST", tax_type: "gst" },
  { country: "JP", state: null, percentage: 10, display_name: "JCT", tax_type: "jct" },
];

/** Where a customer is taxed: country (upper case) and, for the US and Canada, state / province. */
export interface TaxLocation {
  country: string;
  state: string | null;
}

/**
 * The customer's tax location from its address, or null when it is not usable: no two-letter country,
 * or a US / Canadian address without a state / province (the emulator prices by state; Stripe uses the
 * US ZIP code and the Canadian postal code).
 */
export function taxLocation(address: Address | null): TaxLocation | null {
  const country = address?.country?.trim().toUpperCase() ?? "";
  if (!/^[A-Z]{2}$/.test(country)) return null;
  const state = address?.state?.trim().toUpperCase() || null;
  if ((country === "US" || country === "CA") && state === null) return null;
  return { country, state: country === "US" || country === "CA" ? state : null };
}

export function autoRateFor(location: TaxLocation): AutoRate | null {
  return (
    AUTO_RATES.find((r) => r.country === location.country && r.state === location.state) ??
    AUTO_RATES.find((r) => r.country === location.country && r.state === null && r.country !== "US") ??
    null
  );
}

const AUTO_PREFIX = "txr_auto_";
/** Automatic tax rates have a fixed creation time: they are part of the emulator, not of the account. */
const AUTO_CREATED = 1_704_067_200;

/** The id of the virtual tax rate of an automatic tax (`txr_auto_us_ca`, `txr_auto_de_inclusive`). */
export function autoRateId(location: TaxLocation, behavior: TaxBehavior, rate: AutoRate | null): string {
  const place = rate
    ? [rate.country, rate.state].filter((part) => part !== null)
    : [location.country, location.state].filter((part) => part !== null);
  const base = `${AUTO_PREFIX}${place.join("_").toLowerCase()}${rate ? "" : "_none"}`;
  return behavior === "inclusive" ? `${base}_inclusive` : base;
}

/** The virtual record behind a `txr_auto_…` id, or undefined for another id. */
export function autoRateRecord(id: string): TaxRateRec | undefined {
  if (!id.startsWith(AUTO_PREFIX)) return undefined;
  let rest = id.slice(AUTO_PREFIX.length);
  const inclusive = rest.endsWith("_inclusive");
  if (inclusive) rest = rest.slice(0, -"_inclusive".length);
  const none = rest.endsWith("_none");
  if (none) rest = rest.slice(0, -"_none".length);
  const [country, state] = rest.toUpperCase().split("_");
  if (!country || !/^[A-Z]{2}$/.test(country)) return undefined;
  const rate = none ? null : AUTO_RATES.find((r) => r.country === country && r.state === (state ?? null));
  if (!none && !rate) return undefined;
  return {
    id,
    seq: 0,
    created: AUTO_CREATED,
    display_name: rate?.display_name ?? "Tax",
    description: null,
    percentage: rate?.percentage ?? 0,
    inclusive,
    active: false,
    country,
    state: state ?? null,
    jurisdiction: rate ? [country, state].filter(Boolean).join("-") : country,
    tax_type: rate?.tax_type ?? null,
    metadata: {},
  };
}

/** A tax rate by id: created ones, then automatic tax's virtual ones. */
export function findTaxRate(core: EmulatorCore, id: string): TaxRateRec | undefined {
  return core.state.taxRates[id] ?? autoRateRecord(id);
}

/** Tax rate objects for a list of ids (unknown ids are left out). */
export function buildTaxRates(
  core: EmulatorCore,
  ids: readonly string[] | null | undefined,
): Stripe.TaxRate[] {
  return (ids ?? [])
    .map((id) => findTaxRate(core, id))
    .filter((rec): rec is TaxRateRec => rec !== undefined)
    .map(buildTaxRate);
}

export function buildTaxRate(rec: TaxRateRec): Stripe.TaxRate {
  return {
    id: rec.id,
    object: "tax_rate",
    active: rec.active,
    country: rec.country,
    created: rec.created,
    description: rec.description,
    display_name: rec.display_name,
    effective_percentage: rec.percentage,
    flat_amount: null,
    inclusive: rec.inclusive,
    jurisdiction: rec.jurisdiction,
    jurisdiction_level: rec.state ? "state" : rec.country ? "country" : null,
    livemode: false,
    metadata: rec.metadata,
    percentage: rec.percentage,
    rate_type: "percentage",
    state: rec.state,
    tax_type: rec.tax_type,
  };
}

export function buildTaxId(rec: TaxIdRec): Stripe.TaxId {
  return {
    id: rec.id,
    object: "tax_id",
    country: rec.country,
    created: rec.created,
    customer: rec.customer,
    customer_account: null,
    livemode: false,
    owner: { customer: rec.customer, customer_account: null, type: "customer" },
    type: rec.type,
    value: rec.value,
    verification: { status: rec.verification, verified_address: null, verified_name: null },
  };
}

export function customerTaxIds(core: EmulatorCore, customerId: string): TaxIdRec[] {
  return Object.values(core.state.taxIds)
    .filter((rec) => rec.customer === customerId && !rec.deleted)
    .sort((a, b) => a.seq - b.seq);
}

export function taxExemptOf(customer: CustomerRec | undefined): "exempt" | "none" | "reverse" {
  return customer?.tax_exempt ?? "none";
}

/** `amount × numerator / denominator`, rounded half away from zero in exact integer arithmetic. */
export function share(amount: number, numerator: number, denominator: number): number {
  if (denominator === 0) return 0;
  const product = BigInt(Math.abs(amount)) * BigInt(numerator);
  const d = BigInt(denominator);
  const rounded = Number((product * 2n + d) / (d * 2n));
  return amount < 0 ? -rounded : rounded;
}

/** Percentages in millionths of a percent, so 7.25 % is exact. */
const PCT = 1_000_000;
function pct(percentage: number): number {
  return Math.round(percentage * PCT);
}

/**
 * The taxes of one amount (after discounts) at the given rates: inclusive rates take their share out of
 * the amount (`amount × p / (100 + Σ inclusive p)`), exclusive ones add `net × p / 100` on top, where
 * `net` is the amount less its inclusive taxes (each tax's `taxable_amount`).
 */
export function taxesOn(
  amount: number,
  rates: { id: string; percentage: number; inclusive: boolean; reason?: TaxabilityReason; zero?: boolean }[],
): LineTaxRec[] {
  const inclusive = rates.filter((r) => r.inclusive);
  const totalInclusive = inclusive.reduce((sum, r) => sum + pct(r.percentage), 0);
  const inclusiveTaxes = inclusive.map((r) =>
    r.zero ? 0 : share(amount, pct(r.percentage), 100 * PCT + totalInclusive),
  );
  const net = amount - inclusiveTaxes.reduce((sum, t) => sum + t, 0);
  return rates.map((r) => {
    const index = inclusive.indexOf(r);
    const tax = r.zero
      ? 0
      : index >= 0
        ? (inclusiveTaxes[index] ?? 0)
        : share(net, pct(r.percentage), 100 * PCT);
    return {
      tax_rate: r.id,
      amount: tax,
      taxable_amount: net,
      tax_behavior: r.inclusive ? "inclusive" : "exclusive",
      taxability_reason: r.reason ?? "standard_rated",
    };
  });
}

export interface InvoiceTaxes {
  /** Per line id, its taxes. */
  lines: Map<string, LineTaxRec[]>;
  exclusive: number;
  inclusive: number;
  /** `automatic_tax.status` (null when automatic tax is off). */
  status: "complete" | "requires_location_inputs" | null;
}

/** The tax rate ids a draft line is taxed at by hand: its own, else the invoice's defaults. */
function manualRates(core: EmulatorCore, inv: InvoiceRec, line: LineRec): string[] {
  if (line.tax_rates && line.tax_rates.length > 0) return line.tax_rates;
  if (inv.default_tax_rates && inv.default_tax_rates.length > 0) return inv.default_tax_rates;
  const sub = inv.subscription ? core.state.subscriptions[inv.subscription] : undefined;
  return sub?.default_tax_rates ?? [];
}

/** What automatic tax makes of the customer: a location (with its rate) or none. */
export function automaticTaxContext(
  core: EmulatorCore,
  customerId: string,
): { location: TaxLocation; rate: AutoRate | null; exempt: "exempt" | "none" | "reverse" } | null {
  const customer = core.state.customers[customerId];
  const location = taxLocation(customer?.address ?? null);
  if (!location) return null;
  return { location, rate: autoRateFor(location), exempt: taxExemptOf(customer) };
}

/** The automatic taxes of one amount of a price with `behavior` for that customer context. */
export function automaticTaxesOn(
  amount: number,
  behavior: TaxBehavior,
  ctx: NonNullable<ReturnType<typeof automaticTaxContext>>,
): LineTaxRec[] {
  const id = autoRateId(ctx.location, behavior, ctx.rate);
  const reason: TaxabilityReason =
    ctx.rate === null
      ? "not_collecting"
      : ctx.exempt === "exempt"
        ? "customer_exempt"
        : ctx.exempt === "reverse"
          ? "reverse_charge"
          : "standard_rated";
  return taxesOn(amount, [
    {
      id,
      percentage: ctx.rate?.percentage ?? 0,
      inclusive: behavior === "inclusive",
      reason,
      zero: reason !== "standard_rated",
    },
  ]);
}

/** A price's tax behavior for automatic tax (`unspecified` is taxed as `exclusive`, see the README). */
export function priceTaxBehavior(core: EmulatorCore, priceId: string | null, currency: string): TaxBehavior {
  const price = priceId ? core.state.prices[priceId] : undefined;
  const behavior =
    price && currency !== price.currency
      ? (price.currency_options?.[currency]?.tax_behavior ?? price.tax_behavior)
      : price?.tax_behavior;
  return behavior === "inclusive" ? "inclusive" : "exclusive";
}

function sumTaxes(lines: Map<string, LineTaxRec[]>): { exclusive: number; inclusive: number } {
  let exclusive = 0;
  let inclusive = 0;
  for (const taxes of lines.values()) {
    for (const tax of taxes) {
      if (tax.tax_behavior === "inclusive") inclusive += tax.amount;
      else exclusive += tax.amount;
    }
  }
  return { exclusive, inclusive };
}

/**
 * The taxes of an invoice: frozen ones once finalized, otherwise computed now on each line's amount after
 * its discounts (discounts apply before tax, as on Stripe). Automatic tax taxes every line at the customer's
 * location; otherwise each line is taxed at its own tax rates, else the invoice's (or its subscription's)
 * `default_tax_rates`. Inactive rates stay in force where they were already set, as on Stripe.
 */
export function invoiceTaxes(
  core: EmulatorCore,
  inv: InvoiceRec,
  discounts: InvoiceDiscounts = invoiceDiscounts(core, inv),
): InvoiceTaxes {
  const lines = new Map<string, LineTaxRec[]>();
  if (inv.status !== "draft") {
    for (const line of inv.lines) lines.set(line.id, line.taxes ?? []);
    return { lines, ...sumTaxes(lines), status: inv.automatic_tax_status ?? null };
  }
  const net = (line: LineRec): number =>
    line.amount - (discounts.lines.get(line.id) ?? []).reduce((sum, d) => sum + d.amount, 0);
  if (inv.automatic_tax) {
    const ctx = automaticTaxContext(core, inv.customer);
    if (!ctx) {
      for (const line of inv.lines) lines.set(line.id, []);
      return { lines, exclusive: 0, inclusive: 0, status: "requires_location_inputs" };
    }
    for (const line of inv.lines) {
      lines.set(line.id, automaticTaxesOn(net(line), priceTaxBehavior(core, line.price, inv.currency), ctx));
    }
    return { lines, ...sumTaxes(lines), status: "complete" };
  }
  for (const line of inv.lines) {
    const rates = manualRates(core, inv, line)
      .map((id) => findTaxRate(core, id))
      .filter((rec): rec is TaxRateRec => rec !== undefined);
    lines.set(line.id, rates.length === 0 ? [] : taxesOn(net(line), rates));
  }
  return { lines, ...sumTaxes(lines), status: null };
}

/** `taxes[]` / `total_taxes[]` entries. */
export function buildTaxes(taxes: LineTaxRec[]): Stripe.InvoiceLineItem.Tax[] {
  return taxes.map((tax) => ({
    amount: tax.amount,
    tax_behavior: tax.tax_behavior,
    tax_rate_details: { tax_rate: tax.tax_rate },
    taxability_reason: tax.taxability_reason,
    taxable_amount: tax.taxable_amount,
    type: "tax_rate_details",
  }));
}

/** Sums taxes by rate and behavior (an invoice's `total_taxes`), in the order they first appear. */
export function totalTaxes(taxes: Iterable<LineTaxRec[]>): LineTaxRec[] {
  const out: LineTaxRec[] = [];
  for (const list of taxes) {
    for (const tax of list) {
      const same = out.find(
        (t) =>
          t.tax_rate === tax.tax_rate &&
          t.tax_behavior === tax.tax_behavior &&
          t.taxability_reason === tax.taxability_reason,
      );
      if (same) {
        same.amount += tax.amount;
        same.taxable_amount += tax.taxable_amount;
      } else {
        out.push({ ...tax });
      }
    }
  }
  return out;
}
