/**
 * Tax rates, customer tax IDs (format checks and test-mode verification), the tax-related parameters of
 * subscriptions, invoices and invoice items, and freezing an invoice's taxes at finalization.
 */
import type Stripe from "stripe";
import type { EmulatorCore } from "../core.ts";
import { type ApiError, invalidRequest, missingParam, resourceMissing } from "../errors.ts";
import { newId } from "../ids.ts";
import { buildTaxId, buildTaxRate, customerTaxIds, invoiceTaxes, taxLocation } from "../objects/taxes.ts";
import type { Params } from "../params.ts";
import type { CustomerRec, InvoiceRec } from "../state.ts";
import type { TaxIdRec, TaxIdVerificationStatus, TaxRateRec } from "../tax-state.ts";

// ---- tax rates ---------------------------------------------------------------------------------------

/** A decimal percentage, 0–100 (`7.25`); Stripe takes up to four decimals. */
function percentageParam(p: Params, key: string): number | undefined {
  const raw = p.str(key);
  if (raw === undefined) return undefined;
  if (!/^\d+(\.\d{1,4})?$/.test(raw)) throw invalidRequest(`Invalid decimal: ${raw}`, key);
  const value = Number(raw);
  if (value > 100) throw invalidRequest("percentage must be at most 100.", key);
  return value;
}

export function createTaxRate(core: EmulatorCore, p: Params): TaxRateRec {
  const percentage = percentageParam(p, "percentage");
  if (percentage === undefined) throw missingParam("percentage");
  const inclusive = p.bool("inclusive");
  if (inclusive === undefined) throw missingParam("inclusive");
  const rec: TaxRateRec = {
    id: newId("txr"),
    seq: core.nextSeq(),
    created: core.realNow(),
    display_name: p.reqStr("display_name"),
    description: p.nullableStr("description") ?? null,
    percentage,
    inclusive,
    active: p.bool("active") ?? true,
    country: p.nullableStr("country")?.toUpperCase() ?? null,
    state: p.nullableStr("state") ?? null,
    jurisdiction: p.nullableStr("jurisdiction") ?? null,
    tax_type: p.nullableStr("tax_type") ?? null,
    metadata: p.metadata("metadata", {}),
  };
  core.state.taxRates[rec.id] = rec;
  core.emit("tax_rate.created", buildTaxRate(rec));
  return rec;
}

/** A tax rate the account created (automatic tax's `txr_auto_…` ones cannot be changed or applied by hand). */
export function taxRate(core: EmulatorCore, id: string, param = "tax_rate"): TaxRateRec {
  const rec = core.state.taxRates[id];
  if (!rec) throw resourceMissing("tax_rate", id, param);
  return rec;
}

/** Percentage and `inclusive` cannot change (as on Stripe): create a new rate instead. */
export function updateTaxRate(core: EmulatorCore, rec: TaxRateRec, p: Params): void {
  const before = buildTaxRate(rec);
  if (p.has("active")) rec.active = p.bool("active") ?? rec.active;
  if (p.has("display_name")) rec.display_name = p.reqStr("display_name");
  if (p.has("description")) rec.description = p.nullableStr("description") ?? null;
  if (p.has("country")) rec.country = p.nullableStr("country")?.toUpperCase() ?? null;
  if (p.has("state")) rec.state = p.nullableStr("state") ?? null;
  if (p.has("jurisdiction")) rec.jurisdiction = p.nullableStr("jurisdiction") ?? null;
  if (p.has("tax_type")) rec.tax_type = p.nullableStr("tax_type") ?? null;
  rec.metadata = p.metadata("metadata", rec.metadata);
  core.emitUpdate("tax_rate.updated", before, buildTaxRate(rec));
}

/**
 * A `tax_rates` / `default_tax_rates` parameter: `undefined` when absent, `[]` when unset (`''`), else the
 * ids, each an active tax rate the account created (an archived one is refused, as on Stripe; one already
 * set stays in force).
 */
export function taxRatesParam(core: EmulatorCore, p: Params, key: string, param = key): string[] | undefined {
  if (!p.has(key)) return undefined;
  const ids = p.strList(key) ?? [];
  ids.forEach((id, index) => {
    const rec = taxRate(core, id, `${param}[${index}]`);
    if (!rec.active) {
      throw invalidRequest(
        `Tax rate \`${id}\` is inactive: an archived tax rate cannot be added to new objects.`,
        `${param}[${index}]`,
      );
    }
  });
  return ids;
}

// ---- automatic tax -----------------------------------------------------------------------------------

/** `automatic_tax[enabled]` of a request, or undefined when absent. */
export function automaticTaxParam(p: Params, key = "automatic_tax"): boolean | undefined {
  const at = p.obj(key);
  if (!at) return undefined;
  const enabled = at.bool("enabled");
  if (enabled === undefined) throw missingParam(`${key}[enabled]`);
  return enabled;
}

/** Stripe's refusal when automatic tax cannot locate the customer (subscription create, finalization). */
export function taxLocationError(): ApiError {
  return invalidRequest(
    "The customer's location isn't recognized. Set a valid address (a country, and for the US and Canada a state or province) on the customer to calculate tax automatically.",
    undefined,
    "customer_tax_location_invalid",
  );
}

export function hasTaxLocation(customer: CustomerRec): boolean {
  return taxLocation(customer.address) !== null;
}

/** Manual tax rates and automatic tax do not mix (Stripe refuses tax rates on automatic tax objects). */
export function refuseRatesWithAutomaticTax(
  automatic: boolean,
  rates: string[] | undefined,
  param: string,
): void {
  if (automatic && rates && rates.length > 0) {
    throw invalidRequest(
      `You cannot set \`${param}\` when \`automatic_tax[enabled]\` is true: automatic tax computes the rates.`,
      param,
    );
  }
}

/**
 * Finalization: freezes the draft's taxes on its lines, and the customer's tax status and tax ids on the
 * invoice. With automatic tax and no usable location, `manual` finalization is refused
 * (`customer_tax_location_invalid`); automatic finalization (renewals) goes on without tax, as Stripe does
 * with `automatic_tax.disabled_reason: finalization_requires_location_inputs`.
 */
export function freezeInvoiceTaxes(core: EmulatorCore, inv: InvoiceRec, manual: boolean): void {
  if (inv.status !== "draft") return;
  const computed = invoiceTaxes(core, inv);
  if (computed.status === "requires_location_inputs") {
    if (manual) throw taxLocationError();
    inv.automatic_tax = false;
    inv.automatic_tax_disabled_reason = "finalization_requires_location_inputs";
    inv.automatic_tax_status = "requires_location_inputs";
    for (const line of inv.lines) line.taxes = [];
  } else {
    inv.automatic_tax_status = computed.status;
    for (const line of inv.lines) line.taxes = computed.lines.get(line.id) ?? [];
  }
  const customer = core.state.customers[inv.customer];
  inv.customer_tax_exempt = customer?.tax_exempt ?? "none";
  inv.customer_tax_ids = customerTaxIds(core, inv.customer).map((t) => ({ type: t.type, value: t.value }));
}

// ---- customer tax ids --------------------------------------------------------------------------------

/** Every `type` the SDK declares (but `unknown`, which Stripe only returns). */
export const TAX_ID_TYPES: readonly string[] = (
  "ad_nrt ae_trn al_tin am_tin ao_tin ar_cuit au_abn au_acn au_arn au_wpn aw_tin az_tin ba_tin bb_tin " +
  "bd_bin bf_ifu bg_uic bh_vat bj_ifu bo_tin br_cnpj br_cpf bs_tin bw_vat by_tin ca_bn ca_gst_hst " +
  "ca_pst_bc ca_pst_mb ca_pst_sk ca_qst cd_nif ch_uid ch_vat ci_vat cl_tin cm_niu cn_tin co_nit cr_tin " +
  "cv_nif cz_dic de_stn do_rcn ec_ruc eg_tin es_cif et_tin eu_oss_vat eu_vat fo_vat fr_siren fr_siret " +
  "fr_spi gb_vat ge_vat gh_tin gi_tin gn_nif hk_br hr_oib hu_tin ic_nif id_npwp il_vat in_gst is_kt " +
  "is_vat it_cf jp_cn jp_rn jp_trn ke_pin kg_tin kh_tin kr_brn kz_bin la_tin li_uid li_vat lk_vat " +
  "ma_vat md_cf md_vat me_pib mk_vat mr_nif mu_vat mx_rfc my_frp my_itn my_sst mz_nuit ng_tin no_vat " +
  "no_voec np_pan nz_bn nz_gst om_vat pe_ruc ph_tin pl_nip pt_nif py_ruc ro_tin rs_pib ru_inn ru_kpp " +
  "sa_vat sg_gst sg_uen si_tin sm_coe sn_ninea sr_fin sv_nit th_vat tj_tin tr_tin tt_bir tt_vat tw_vat " +
  "tz_vat ua_vat ug_tin us_ein uy_ruc uz_tin uz_vat ve_rif vn_tin za_vat zm_tin zw_tin"
).split(" ");

/** EU VAT numbers by country prefix (Greece is `EL`); `XI` is Northern Ireland. */
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
  XI: /^XI(\d{9}|\d{12})$/,
};

/** Formats of other types (Stripe's documented examples); types not listed take any non-empty value. */
const FORMATS: Record<string, RegExp> = {
  gb_vat: /^GB(\d{9}|\d{12}|GD\d{3}|HA\d{3})$/,
  us_ein: /^\d{2}-?\d{7}$/,
  au_abn: /^\d{11}$/,
  au_arn: /^\d{12}$/,
  ca_bn: /^\d{9}$/,
  ca_gst_hst: /^\d{9}RT\d{4}$/,
  ca_qst: /^\d{10}TQ\d{4}$/,
  ca_pst_bc: /^PST-\d{4}-\d{4}$/,
  ch_vat: /^CHE-\d{3}\.\d{3}\.\d{3} (MWST|TVA|IVA)$/,
  ch_uid: /^CHE-\d{3}\.\d{3}\.\d{3}$/,
  no_vat: /^\d{9}MVA$/,
  nz_gst: /^\d{8,9}$/,
  jp_cn: /^\d{13}$/,
  in_gst: /^\d{2}[A-Z]{5}\d{4}[A-Z][1-9A-Z]Z[0-9A-Z]$/,
  sg_gst: /^M\d{8}[A-Z]$/,
  sg_uen: /^\d{9}[A-Z]$/,
};

/** Types Stripe verifies with a government database (VIES, HMRC, ABR). */
const VERIFIED_TYPES = new Set(["eu_vat", "gb_vat", "au_abn"]);

/** Stripe's test-mode magic values: a number ending in these digits verifies, fails or stays pending. */
function verificationOutcome(type: string, value: string): TaxIdVerificationStatus {
  if (!VERIFIED_TYPES.has(type)) return "unavailable";
  if (/111111111$/.test(value)) return "unverified";
  if (/222222222$/.test(value)) return "pending";
  return "verified";
}

function normalize(type: string, value: string): string {
  const compact = value.trim().toUpperCase();
  if (type === "au_abn" || type === "au_arn" || type === "nz_gst" || type === "ca_bn") {
    return compact.replace(/\s+/g, "");
  }
  if (type === "eu_vat" || type === "gb_vat") return compact.replace(/[\s.-]+/g, "");
  return value.trim();
}

/** Checks a tax id's format; returns its normalized value and country, or throws `tax_id_invalid`. */
export function checkTaxId(
  type: string,
  value: string,
  params: { type: string; value: string },
): { value: string; country: string | null } {
  if (!TAX_ID_TYPES.includes(type)) {
    throw invalidRequest(`Invalid ${params.type}: must be one of ${TAX_ID_TYPES.join(", ")}`, params.type);
  }
  const normalized = normalize(type, value);
  const invalid = (): ApiError =>
    invalidRequest(`Invalid value for ${type}.`, params.value, "tax_id_invalid");
  if (normalized === "") throw invalid();
  if (type === "eu_vat") {
    const prefix = normalized.slice(0, 2);
    const pattern = EU_VAT[prefix];
    if (!pattern?.test(normalized)) throw invalid();
    return { value: normalized, country: prefix === "EL" ? "GR" : prefix === "XI" ? "GB" : prefix };
  }
  const pattern = FORMATS[type];
  if (pattern && !pattern.test(normalized)) throw invalid();
  return { value: normalized, country: type === "eu_oss_vat" ? null : type.slice(0, 2).toUpperCase() };
}

/**
 * Adds a tax id to a customer (`customer.tax_id.created`). Verified types start `pending`, as on Stripe, and
 * the verification finishes at once with `customer.tax_id.updated` (test-mode magic values decide); the
 * create response is the `pending` object, as Stripe answers before verifying.
 */
export function createTaxId(
  core: EmulatorCore,
  customer: CustomerRec,
  input: { type: string; value: string },
  params: { type: string; value: string },
): { rec: TaxIdRec; created: Stripe.TaxId } {
  const checked = checkTaxId(input.type, input.value, params);
  const outcome = verificationOutcome(input.type, checked.value);
  const rec: TaxIdRec = {
    id: newId("txi"),
    seq: core.nextSeq(),
    created: core.clockNow(customer.test_clock),
    customer: customer.id,
    type: input.type,
    value: checked.value,
    country: checked.country,
    verification: outcome === "unavailable" ? "unavailable" : "pending",
    deleted: false,
  };
  core.state.taxIds[rec.id] = rec;
  const created = buildTaxId(rec);
  core.emit("customer.tax_id.created", created);
  if (rec.verification !== outcome) {
    rec.verification = outcome;
    core.emitUpdate("customer.tax_id.updated", created, buildTaxId(rec));
  }
  return { rec, created };
}

export function customerTaxId(core: EmulatorCore, customer: CustomerRec, id: string): TaxIdRec {
  const rec = core.state.taxIds[id];
  if (!rec || rec.deleted || rec.customer !== customer.id) throw resourceMissing("tax_id", id, "id");
  return rec;
}

export function deleteTaxId(core: EmulatorCore, rec: TaxIdRec): void {
  const snapshot = buildTaxId(rec);
  rec.deleted = true;
  core.emit("customer.tax_id.deleted", snapshot);
}
