import type Stripe from "stripe";
import { type EmulatorCore, embeddedList } from "../core.ts";
import type { CreditNoteLineRec, CreditNoteRec } from "../payments-state.ts";
import { decimal } from "./prices.ts";
import { buildTaxes, buildTaxRates, totalTaxes } from "./taxes.ts";

export function buildCreditNoteLine(core: EmulatorCore, line: CreditNoteLineRec): Stripe.CreditNoteLineItem {
  const unit = line.quantity ? line.amount / line.quantity : line.amount;
  return {
    id: line.id,
    object: "credit_note_line_item",
    amount: line.amount,
    description: line.description,
    discount_amount: (line.discount_amounts ?? []).reduce((sum, d) => sum + d.amount, 0),
    discount_amounts: (line.discount_amounts ?? []).map((d) => ({ amount: d.amount, discount: d.discount })),
    ...(line.invoice_line_item ? { invoice_line_item: line.invoice_line_item } : {}),
    livemode: false,
    metadata: {},
    pretax_credit_amounts: [],
    quantity: line.quantity,
    tax_rates: buildTaxRates(
      core,
      (line.taxes ?? []).map((t) => t.tax_rate),
    ),
    taxes: buildTaxes(line.taxes ?? []),
    type: line.invoice_line_item ? "invoice_line_item" : "custom_line_item",
    unit_amount: Number.isInteger(unit) ? unit : null,
    unit_amount_decimal: decimal(unit),
  };
}

export function buildCreditNote(core: EmulatorCore, rec: CreditNoteRec): Stripe.CreditNote {
  const taxes = totalTaxes(rec.lines.map((line) => line.taxes ?? []));
  const exclusive = taxes.filter((t) => t.tax_behavior === "exclusive").reduce((sum, t) => sum + t.amount, 0);
  const inclusive = taxes.filter((t) => t.tax_behavior === "inclusive").reduce((sum, t) => sum + t.amount, 0);
  const discounts = new Map<string, number>();
  for (const line of rec.lines) {
    for (const d of line.discount_amounts ?? [])
      discounts.set(d.discount, (discounts.get(d.discount) ?? 0) + d.amount);
  }
  const discount = [...discounts.values()].reduce((sum, amount) => sum + amount, 0);
  // `subtotal`: before discounts and exclusive tax; `amount` / `total`: after both.
  const subtotal = rec.amount - exclusive + discount;
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
    discount_amount: discount,
    discount_amounts: [...discounts].map(([id, amount]) => ({ amount, discount: id })),
    effective_at: rec.created,
    invoice: rec.invoice,
    lines: embeddedList(
      rec.lines.map((line) => buildCreditNoteLine(core, line)),
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
    subtotal,
    subtotal_excluding_tax: subtotal - inclusive,
    total: rec.amount,
    total_excluding_tax: rec.amount - exclusive - inclusive,
    total_taxes: buildTaxes(taxes),
    type: rec.type,
    voided_at: rec.voided_at,
  };
}
