import type Stripe from "stripe";
import { type EmulatorCore, embeddedList } from "../core.ts";
import type { CreditNoteLineRec, CreditNoteRec } from "../payments-state.ts";
import { decimal } from "./prices.ts";

export function buildCreditNoteLine(line: CreditNoteLineRec): Stripe.CreditNoteLineItem {
  const unit = line.quantity ? line.amount / line.quantity : line.amount;
  return {
    id: line.id,
    object: "credit_note_line_item",
    amount: line.amount,
    description: line.description,
    discount_amount: 0,
    discount_amounts: [],
    ...(line.invoice_line_item ? { invoice_line_item: line.invoice_line_item } : {}),
    livemode: false,
    metadata: {},
    pretax_credit_amounts: [],
    quantity: line.quantity,
    tax_rates: [],
    taxes: [],
    type: line.invoice_line_item ? "invoice_line_item" : "custom_line_item",
    unit_amount: Number.isInteger(unit) ? unit : null,
    unit_amount_decimal: decimal(unit),
  };
}

export function buildCreditNote(core: EmulatorCore, rec: CreditNoteRec): Stripe.CreditNote {
  return {
    id: rec.id,
    object: "credit_note",
    amount: rec.amount,
    amount_shipping: 0,
    created: rec.created,
    currency: rec.currency,
    customer: rec.customer,
    customer_account: null,
    customer_balance_transaction: rec.customer_balance_transaction,
    discount_amount: 0,
    discount_amounts: [],
    effective_at: rec.created,
    invoice: rec.invoice,
    lines: embeddedList(
      rec.lines.map((line) => buildCreditNoteLine(line)),
      `/v1/credit_notes/${rec.id}/lines`,
    ),
    livemode: false,
    memo: rec.memo,
    metadata: rec.metadata,
    number: rec.number,
    out_of_band_amount: rec.type === "post_payment" ? rec.out_of_band_amount : null,
    pdf: `${core.baseUrl}/credit_notes/${rec.id}/pdf`,
    post_payment_amount: rec.type === "post_payment" ? rec.amount : 0,
    pre_payment_amount: rec.type === "pre_payment" ? rec.amount : 0,
    pretax_credit_amounts: [],
    reason: rec.reason,
    refunds: rec.refund
      ? [
          {
            amount_refunded: rec.refund_amount,
            payment_record_refund: null,
            refund: rec.refund,
            type: "refund",
          },
        ]
      : [],
    shipping_cost: null,
    status: rec.status,
    subtotal: rec.amount,
    subtotal_excluding_tax: rec.amount,
    total: rec.amount,
    total_excluding_tax: rec.amount,
    total_taxes: [],
    type: rec.type,
    voided_at: rec.voided_at,
  };
}
