import type { EmulatorCore } from "../core.ts";
import { invalidRequest, missingParam } from "../errors.ts";
import { newId } from "../ids.ts";
import { buildCreditNote } from "../objects/creditNotes.ts";
import { buildInvoice, invoiceTotal } from "../objects/invoices.ts";
import { share } from "../objects/taxes.ts";
import type { CreditNoteLineRec, CreditNoteRec } from "../payments-state.ts";
import type { InvoiceRec } from "../state.ts";
import type { LineTaxRec } from "../tax-state.ts";
import { changeBalance } from "./balance.ts";
import { formatAmount, markInvoicePaid } from "./invoices.ts";
import { refundPaymentIntent } from "./refunds.ts";

/**
 * Credit notes (`/v1/credit_notes`) against a finalized invoice. On an **open** invoice (`pre_payment`)
 * the credit lowers what is due (the invoice is paid when nothing is left); on a **paid** one
 * (`post_payment`) the amount is split into `refund_amount` (a refund of the invoice's payment),
 * `credit_amount` (the customer's balance, a `credit_note` balance transaction) and `out_of_band_amount`;
 * with none of them given it all goes to the balance.
 */

export interface CreditNoteInput {
  invoice: string;
  lines:
    | {
        type: "invoice_line_item" | "custom_line_item";
        invoice_line_item: string | null;
        amount: number | undefined;
        quantity: number | undefined;
        unit_amount: number | undefined;
        description: string | null;
      }[]
    | undefined;
  amount: number | undefined;
  credit_amount: number | undefined;
  refund_amount: number | undefined;
  out_of_band_amount: number | undefined;
  reason: CreditNoteRec["reason"];
  memo: string | null;
  metadata: Record<string, string>;
}

/** What is already credited on an invoice (issued credit notes). */
export function creditedAmount(core: EmulatorCore, invoiceId: string, type?: CreditNoteRec["type"]): number {
  return Object.values(core.state.creditNotes)
    .filter(
      (cn) => cn.invoice === invoiceId && cn.status === "issued" && (type === undefined || cn.type === type),
    )
    .reduce((sum, cn) => sum + cn.amount, 0);
}

/** Gross amounts already credited per invoice line by issued credit notes of the invoice. */
function creditedPerLine(core: EmulatorCore, invoiceId: string): Map<string, number> {
  const credited = new Map<string, number>();
  for (const cn of Object.values(core.state.creditNotes)) {
    if (cn.invoice !== invoiceId || cn.status !== "issued") continue;
    for (const line of cn.lines) {
      if (line.invoice_line_item === null) continue;
      credited.set(line.invoice_line_item, (credited.get(line.invoice_line_item) ?? 0) + line.amount);
    }
  }
  return credited;
}

/** What a credit note line gives back: its amount less its discounts (its exclusive tax is added apart). */
export function lineNet(line: CreditNoteLineRec): number {
  return line.amount - (line.discount_amounts ?? []).reduce((sum, d) => sum + d.amount, 0);
}

function creditLines(core: EmulatorCore, inv: InvoiceRec, input: CreditNoteInput): CreditNoteLineRec[] {
  const credited = creditedPerLine(core, inv.id);
  if (input.lines === undefined || input.lines.length === 0) {
    if (input.amount === undefined) {
      throw invalidRequest("You must pass either `lines` or `amount` to create a credit note.", "amount");
    }
    return [
      { id: newId("cnli"), invoice_line_item: null, amount: input.amount, quantity: null, description: null },
    ];
  }
  return input.lines.map((line, index) => {
    const name = `lines[${index}]`;
    if (line.type === "invoice_line_item") {
      if (!line.invoice_line_item) throw missingParam(`${name}[invoice_line_item]`);
      const source = inv.lines.find((l) => l.id === line.invoice_line_item);
      if (!source) {
        throw invalidRequest(
          `No such invoice line item: '${line.invoice_line_item}' on invoice ${inv.id}`,
          `${name}[invoice_line_item]`,
          "resource_missing",
        );
      }
      const unit = source.quantity ? Math.round(source.amount / source.quantity) : source.amount;
      const amount = line.amount ?? (line.quantity !== undefined ? unit * line.quantity : source.amount);
      // Per invoice line, every credit note line (this note's and earlier ones) together: at most the line.
      const already = credited.get(source.id) ?? 0;
      if (already + amount > source.amount) {
        throw invalidRequest(
          `The amount for ${name} (${amount}) is greater than what is left to credit on the invoice line item ${source.id} (${source.amount - already} of ${source.amount}).`,
          line.amount === undefined && line.quantity !== undefined ? `${name}[quantity]` : `${name}[amount]`,
        );
      }
      credited.set(source.id, already + amount);
      return {
        id: newId("cnli"),
        invoice_line_item: source.id,
        amount,
        quantity: line.quantity ?? source.quantity,
        description: line.description ?? source.description,
        // The line's discounts and taxes in proportion: its net is credited, with its share of tax.
        discount_amounts: (source.discount_amounts ?? [])
          .map((d) => ({ discount: d.discount, amount: share(d.amount, amount, source.amount) }))
          .filter((d) => d.amount !== 0),
        taxes: creditedTaxes(source.taxes ?? [], amount, source.amount),
      };
    }
    if (line.unit_amount === undefined) throw missingParam(`${name}[unit_amount]`);
    const quantity = line.quantity ?? 1;
    return {
      id: newId("cnli"),
      invoice_line_item: null,
      amount: line.unit_amount * quantity,
      quantity,
      description: line.description,
    };
  });
}

/** Builds the credit note and books its effects; `preview` only builds it (run it inside `dryRun`). */
export function issueCreditNote(core: EmulatorCore, input: CreditNoteInput): CreditNoteRec {
  const inv = core.invoice(input.invoice);
  if (inv.status !== "open" && inv.status !== "paid") {
    throw invalidRequest(
      `Credit notes can only be issued for open or paid invoices; invoice ${inv.id} is ${inv.status}.`,
      "invoice",
    );
  }
  const lines = creditLines(core, inv, input);
  const amount = lines.reduce((sum, line) => sum + lineNet(line) + exclusiveTax(line), 0);
  if (input.amount !== undefined && input.lines?.length && input.amount !== amount) {
    throw invalidRequest(
      `The amount (${input.amount}) must equal the sum of the lines (${amount}).`,
      "amount",
    );
  }
  if (amount <= 0) throw invalidRequest("The credit note amount must be greater than 0.", "amount");
  const creditable = invoiceTotal(core, inv) - creditedAmount(core, inv.id);
  if (amount > creditable) {
    throw invalidRequest(
      `The credit note amount (${formatAmount(amount, inv.currency)}) is greater than the invoice's remaining creditable amount (${formatAmount(creditable, inv.currency)}).`,
      "amount",
    );
  }
  const type = inv.status === "paid" ? "post_payment" : "pre_payment";
  let credit = input.credit_amount ?? 0;
  const refund = input.refund_amount ?? 0;
  const outOfBand = input.out_of_band_amount ?? 0;
  if (type === "pre_payment") {
    for (const key of ["credit_amount", "refund_amount", "out_of_band_amount"] as const) {
      if (input[key] !== undefined) {
        throw invalidRequest(`\`${key}\` can only be used on a credit note for a paid invoice.`, key);
      }
    }
    if (amount > inv.amount_due - inv.amount_paid) {
      throw invalidRequest(
        `The credit note amount (${formatAmount(amount, inv.currency)}) is greater than the amount remaining on the invoice.`,
        "amount",
      );
    }
  } else {
    if (
      input.credit_amount === undefined &&
      input.refund_amount === undefined &&
      input.out_of_band_amount === undefined
    ) {
      credit = amount;
    }
    if (credit + refund + outOfBand !== amount) {
      throw invalidRequest(
        `The sum of credit_amount, refund_amount and out_of_band_amount (${credit + refund + outOfBand}) must equal the credit note amount (${amount}).`,
        "amount",
      );
    }
  }
  const customer = core.customer(inv.customer);
  const count = Object.values(core.state.creditNotes).filter((cn) => cn.invoice === inv.id).length + 1;
  const rec: CreditNoteRec = {
    id: newId("cn"),
    seq: core.nextSeq(),
    created: core.clockNow(customer.test_clock),
    customer: customer.id,
    invoice: inv.id,
    number: `${inv.number ?? inv.id}-CN-${String(count).padStart(2, "0")}`,
    currency: inv.currency,
    amount,
    lines,
    memo: input.memo,
    metadata: input.metadata,
    reason: input.reason,
    status: "issued",
    type,
    credit_amount: type === "post_payment" ? credit : 0,
    refund_amount: type === "post_payment" ? refund : 0,
    out_of_band_amount: type === "post_payment" ? outOfBand : 0,
    refund: null,
    customer_balance_transaction: null,
    voided_at: null,
  };
  core.state.creditNotes[rec.id] = rec;
  const before = buildInvoice(core, inv);
  if (type === "pre_payment") {
    reduceAmountDue(core, inv, amount);
  } else {
    if (refund > 0) {
      if (!inv.payment_intent)
        throw invalidRequest("This invoice was not paid with a payment to refund.", "refund_amount");
      const reason =
        input.reason === "duplicate" || input.reason === "fraudulent"
          ? input.reason
          : "requested_by_customer";
      rec.refund = refundPaymentIntent(core, inv.payment_intent, {
        amount: refund,
        reason,
        metadata: {},
        param: "refund_amount",
      }).id;
    }
    if (credit > 0) {
      rec.customer_balance_transaction = changeBalance(core, customer, -credit, {
        type: "credit_note",
        currency: inv.currency,
        invoice: inv.id,
        creditNote: rec.id,
      }).id;
    }
  }
  core.emit("credit_note.created", buildCreditNote(core, rec));
  if (inv.status === "open" && inv.amount_due - inv.amount_paid <= 0) {
    markInvoicePaid(core, inv, rec.created, false);
  } else {
    core.emitUpdate("invoice.updated", before, buildInvoice(core, inv));
  }
  return rec;
}

/** An open invoice's amount due (and its PaymentIntent) shrinks by a pre-payment credit. */
function reduceAmountDue(core: EmulatorCore, inv: InvoiceRec, amount: number): void {
  inv.amount_due -= amount;
  const pi = inv.payment_intent ? core.state.paymentIntents[inv.payment_intent] : undefined;
  if (pi) pi.amount = inv.amount_due;
  const payment = pi ? core.state.invoicePayments[`inpay_${pi.id.slice(3)}`] : undefined;
  if (payment) payment.amount_requested = inv.amount_due;
}

export function voidCreditNote(core: EmulatorCore, rec: CreditNoteRec): void {
  if (rec.status === "void") {
    throw invalidRequest(
      "This credit note has already been voided.",
      undefined,
      "credit_note_already_voided",
    );
  }
  if (rec.refund_amount > 0) {
    throw invalidRequest("You cannot void a credit note that has refunds.", undefined);
  }
  const inv = core.invoice(rec.invoice);
  const customer = core.customer(rec.customer);
  if (rec.type === "pre_payment") {
    if (inv.status !== "open") {
      throw invalidRequest(`You cannot void this credit note: invoice ${inv.id} is ${inv.status}.`);
    }
    reduceAmountDue(core, inv, -rec.amount);
  } else if (rec.credit_amount > 0) {
    changeBalance(core, customer, rec.credit_amount, {
      type: "credit_note",
      currency: rec.currency,
      invoice: inv.id,
      creditNote: rec.id,
    });
  }
  rec.status = "void";
  rec.voided_at = core.clockNow(customer.test_clock);
  core.emit("credit_note.voided", buildCreditNote(core, rec));
}

/**
 * The share of an invoice line's taxes that crediting `amount` of its `lineAmount` gives back: each tax in
 * proportion (rounded half away from zero), so crediting the whole line returns all of its tax.
 */
function creditedTaxes(taxes: LineTaxRec[], amount: number, lineAmount: number): LineTaxRec[] {
  if (lineAmount === 0) return [];
  const part = (value: number) => share(value, amount, lineAmount);
  return taxes.map((tax) => ({ ...tax, amount: part(tax.amount), taxable_amount: part(tax.taxable_amount) }));
}

/** The exclusive tax a credit note line adds on top of its amount. */
export function exclusiveTax(line: { taxes?: LineTaxRec[] }): number {
  return (line.taxes ?? [])
    .filter((t) => t.tax_behavior === "exclusive")
    .reduce((sum, t) => sum + t.amount, 0);
}
