/**
 * Records of the tax side (issue 22): tax rates, customer tax IDs and the tax an invoice line carries.
 * Part of `State` (see `state.ts`); kept apart so the billing records there stay readable.
 */
type Metadata = Record<string, string>;

export type TaxBehavior = "exclusive" | "inclusive";

export interface TaxRateRec {
  id: string;
  seq: number;
  created: number;
  display_name: string;
  description: string | null;
  /** A decimal percentage (`7.25`). */
  percentage: number;
  inclusive: boolean;
  active: boolean;
  country: string | null;
  state: string | null;
  jurisdiction: string | null;
  tax_type: string | null;
  metadata: Metadata;
}

export type TaxIdVerificationStatus = "pending" | "unavailable" | "unverified" | "verified";

export interface TaxIdRec {
  id: string;
  seq: number;
  created: number;
  customer: string;
  type: string;
  value: string;
  country: string | null;
  verification: TaxIdVerificationStatus;
  deleted: boolean;
}

export type TaxabilityReason = "customer_exempt" | "not_collecting" | "reverse_charge" | "standard_rated";

/** One tax on one invoice line (`line.taxes[]`), frozen at finalization. */
export interface LineTaxRec {
  tax_rate: string;
  amount: number;
  taxable_amount: number;
  tax_behavior: TaxBehavior;
  taxability_reason: TaxabilityReason;
}
