/**
 * Records of the payments side (issue 22): customer balance transactions, credit notes. Part of `State`
 * (see `state.ts`); kept apart so the billing records there stay readable.
 */
import type { LineTaxRec } from "./tax-state.ts";

type Metadata = Record<string, string>;

export type BalanceTransactionType =
  | "adjustment"
  | "applied_to_invoice"
  | "credit_note"
  | "initial"
  | "unapplied_from_invoice";

export interface BalanceTransactionRec {
  id: string;
  seq: number;
  created: number;
  customer: string;
  amount: number;
  currency: string;
  description: string | null;
  ending_balance: number;
  invoice: string | null;
  credit_note: string | null;
  metadata: Metadata;
  type: BalanceTransactionType;
}

export interface CreditNoteLineRec {
  id: string;
  /** The invoice line it credits (`type: invoice_line_item`), or null for a custom amount. */
  invoice_line_item: string | null;
  amount: number;
  quantity: number | null;
  description: string | null;
  /** The credited share of the invoice line's taxes (absent in older state files). */
  taxes?: LineTaxRec[];
  /** The credited share of the invoice line's discounts: the line credits `amount` less these. */
  discount_amounts?: { discount: string; amount: number }[];
}

export interface CreditNoteRec {
  id: string;
  seq: number;
  created: number;
  customer: string;
  invoice: string;
  number: string;
  currency: string;
  amount: number;
  lines: CreditNoteLineRec[];
  memo: string | null;
  metadata: Metadata;
  reason: "duplicate" | "fraudulent" | "order_change" | "product_unsatisfactory" | null;
  status: "issued" | "void";
  type: "post_payment" | "pre_payment";
  credit_amount: number;
  refund_amount: number;
  out_of_band_amount: number;
  refund: string | null;
  customer_balance_transaction: string | null;
  voided_at: number | null;
}

/** A customer portal session (`/v1/billing_portal/sessions`); its page is served by the emulator. */
export interface PortalSessionRec {
  id: string;
  seq: number;
  created: number;
  customer: string;
  return_url: string | null;
}
