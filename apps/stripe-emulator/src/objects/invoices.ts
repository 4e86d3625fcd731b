import type Stripe from "stripe";
import { type EmulatorCore, embeddedList } from "../core.ts";
import type { InvoiceRec, LineRec } from "../state.ts";
import { discountAmounts, type InvoiceDiscounts, invoiceDiscounts } from "./discounts.ts";
import { buildInvoicePayment } from "./paymentIntents.ts";
import { decimal, isTiered, unitAmountIn } from "./prices.ts";
import {
  buildTaxes,
  buildTaxRates,
  customerTaxIds,
  type InvoiceTaxes,
  invoiceTaxes,
  taxExemptOf,
  totalTaxes,
} from "./taxes.ts";

export function buildLine(
  core: EmulatorCore,
  inv: InvoiceRec,
  line: LineRec,
  discounts: InvoiceDiscounts = invoiceDiscounts(core, inv),
  taxes: InvoiceTaxes = invoiceTaxes(core, inv, discounts),
): Stripe.InvoiceLineItem {
  const lineDiscounts = discounts.lines.get(line.id) ?? [];
  const price = line.price ? core.state.prices[line.price] : undefined;
  const unit =
    price && !line.proration && !isTiered(price)
      ? unitAmountIn(price, line.currency)
      : line.quantity
        ? line.amount / line.quantity
        : line.amount;
  return {
    id: line.id,
    object: "line_item",
    amount: line.amount,
    currency: line.currency,
    description: line.description,
    discount_amounts: discountAmounts(lineDiscounts),
    discountable: line.invoice_item
      ? (core.state.invoiceItems[line.invoice_item]?.discountable ?? true)
      : true,
    discounts: lineDiscounts.map((d) => d.discount),
    invoice: inv.id,
    livemode: false,
    metadata: line.metadata,
    parent:
      line.kind === "invoice_item"
        ? {
            invoice_item_details: {
              invoice_item: line.invoice_item ?? "",
              proration: line.proration,
              proration_details: {
                credited_items:
                  (line.invoice_item && core.state.invoiceItems[line.invoice_item]?.credited_items) || null,
              },
              subscription: line.subscription,
            },
            subscription_item_details: null,
            type: "invoice_item_details",
          }
        : {
            invoice_item_details: null,
            subscription_item_details: {
              invoice_item: null,
              proration: line.proration,
              proration_details: { credited_items: null },
              subscription: line.subscription,
              subscription_item: line.subscription_item ?? "",
            },
            type: "subscription_item_details",
          },
    period: { end: line.period.end, start: line.period.start },
    pretax_credit_amounts: [],
    pricing: {
      ...(price ? { price_details: { price: price.id, product: price.product } } : {}),
      type: "price_details",
      unit_amount_decimal: decimal(unit),
    },
    quantity: line.quantity,
    quantity_decimal: line.quantity === null ? null : decimal(line.quantity),
    subscription: line.subscription,
    subtotal: line.amount,
    taxes: buildTaxes(taxes.lines.get(line.id) ?? []),
  };
}

export function buildInvoice(core: EmulatorCore, rec: InvoiceRec): Stripe.Invoice {
  const discounts = invoiceDiscounts(core, rec);
  const taxes = invoiceTaxes(core, rec, discounts);
  const subtotal = invoiceSubtotal(rec);
  const total = subtotal - discounts.total + taxes.exclusive;
  const amounts = projectedAmounts(core, rec);
  const customer = core.state.customers[rec.customer];
  const sub = rec.subscription ? core.state.subscriptions[rec.subscription] : undefined;
  const finalized = rec.status !== "draft";
  const remaining =
    rec.status === "paid" || rec.status === "void" ? 0 : Math.max(0, amounts.due - rec.amount_paid);
  return {
    id: rec.id,
    object: "invoice",
    account_country: "US",
    account_name: "Minutely (Stripe emulator)",
    account_tax_ids: null,
    amount_due: amounts.due,
    amount_overpaid: 0,
    amount_paid: rec.amount_paid,
    amount_remaining: remaining,
    amount_shipping: 0,
    application: null,
    attempt_count: rec.attempt_count,
    attempted: rec.attempted,
    auto_advance: rec.auto_advance,
    automatic_tax: {
      disabled_reason: rec.automatic_tax_disabled_reason ?? null,
      enabled: rec.automatic_tax ?? false,
      liability: rec.automatic_tax ? { type: "self" } : null,
      provider: rec.automatic_tax ? "stripe" : null,
      status: taxes.status,
    },
    automatically_finalizes_at: rec.status === "draft" && rec.auto_advance ? rec.created + 3600 : null,
    billing_reason: rec.billing_reason,
    collection_method: rec.collection_method,
    created: rec.created,
    currency: rec.currency,
    custom_fields: null,
    customer: rec.customer,
    customer_account: null,
    customer_address: customer?.address ?? null,
    customer_email: rec.customer_email,
    customer_name: rec.customer_name,
    customer_phone: customer?.phone ?? null,
    customer_shipping: null,
    customer_tax_exempt: finalized ? (rec.customer_tax_exempt ?? "none") : taxExemptOf(customer),
    customer_tax_ids: finalized
      ? (rec.customer_tax_ids ?? [])
      : customerTaxIds(core, rec.customer).map((t) => ({ type: t.type, value: t.value })),
    default_payment_method: rec.default_payment_method,
    default_source: null,
    default_tax_rates: buildTaxRates(core, rec.default_tax_rates),
    description: rec.description,
    discounts: discounts.discounts,
    due_date: rec.due_date,
    effective_at: rec.finalized_at,
    ending_balance: finalized ? rec.ending_balance : null,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: finalized ? `${core.baseUrl}/invoices/${rec.id}` : null,
    invoice_pdf: finalized ? `${core.baseUrl}/invoices/${rec.id}/pdf` : null,
    issuer: { type: "self" },
    last_finalization_error: rec.last_finalization_error ?? null,
    latest_revision: null,
    lines: embeddedList(
      rec.lines.map((line) => buildLine(core, rec, line, discounts, taxes)),
      `/v1/invoices/${rec.id}/lines`,
    ),
    livemode: false,
    metadata: rec.metadata,
    next_payment_attempt: rec.next_payment_attempt,
    number: rec.number,
    on_behalf_of: null,
    parent: rec.subscription
      ? {
          quote_details: null,
          subscription_details: {
            metadata: sub?.metadata ?? null,
            subscription: rec.subscription,
            ...(rec.subscription_proration_date !== null
              ? { subscription_proration_date: rec.subscription_proration_date }
              : {}),
          },
          type: "subscription_details",
        }
      : null,
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: rec.period_end,
    period_start: rec.period_start,
    post_payment_credit_notes_amount: creditNotesAmount(core, rec.id, "post_payment"),
    pre_payment_credit_notes_amount: creditNotesAmount(core, rec.id, "pre_payment"),
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: amounts.starting,
    statement_descriptor: null,
    status: rec.status,
    ...(rec.status === "uncollectible" && rec.uncollectible_reason
      ? { status_details: { uncollectible: { reason: rec.uncollectible_reason } } }
      : {}),
    status_transitions: {
      finalized_at: rec.finalized_at,
      marked_uncollectible_at: rec.marked_uncollectible_at,
      paid_at: rec.paid_at,
      voided_at: rec.voided_at,
    },
    subtotal,
    subtotal_excluding_tax: subtotal - taxes.inclusive,
    test_clock: rec.test_clock,
    total,
    total_discount_amounts: discounts.discounts.map((id) => ({
      amount: [...discounts.lines.values()]
        .flat()
        .filter((d) => d.discount === id)
        .reduce((sum, d) => sum + d.amount, 0),
      discount: id,
    })),
    total_excluding_tax: total - taxes.exclusive - taxes.inclusive,
    total_pretax_credit_amounts: [],
    total_taxes: buildTaxes(totalTaxes(taxes.lines.values())),
    webhooks_delivered_at: finalized ? rec.created : null,
  };
}

/** Issued (not voided) credit notes of one kind on the invoice (`billing/creditNotes.ts`). */
function creditNotesAmount(
  core: EmulatorCore,
  invoiceId: string,
  type: "post_payment" | "pre_payment",
): number {
  return Object.values(core.state.creditNotes ?? {})
    .filter((cn) => cn.invoice === invoiceId && cn.type === type && cn.status === "issued")
    .reduce((sum, cn) => sum + cn.amount, 0);
}

/** Fields Stripe only returns when expanded. */
export function invoiceIncludable(core: EmulatorCore, invoiceId: string, key: string): unknown {
  const rec = core.state.invoices[invoiceId];
  if (!rec) return undefined;
  if (key === "payments") {
    const payments = Object.values(core.state.invoicePayments).filter((ip) => ip.invoice === rec.id);
    return embeddedList(payments.map(buildInvoicePayment), `/v1/invoice_payments?invoice=${rec.id}`);
  }
  if (key === "confirmation_secret") {
    const pi = rec.payment_intent ? core.state.paymentIntents[rec.payment_intent] : undefined;
    return pi && rec.status === "open" ? { client_secret: pi.client_secret, type: "payment_intent" } : null;
  }
  return undefined;
}

/** The sum of the lines, before discounts. */
export function invoiceSubtotal(inv: InvoiceRec): number {
  return inv.lines.reduce((sum, line) => sum + line.amount, 0);
}

/** What the invoice charges: its lines less their discounts, plus exclusive tax. */
export function invoiceTotal(core: EmulatorCore, inv: InvoiceRec): number {
  const discounts = invoiceDiscounts(core, inv);
  return invoiceSubtotal(inv) - discounts.total + invoiceTaxes(core, inv, discounts).exclusive;
}

/** Balance application: debit balance is added, credit balance (negative) is used up, negative totals are credited. */
export function projectedAmounts(
  core: EmulatorCore,
  inv: InvoiceRec,
): { starting: number; due: number; ending: number } {
  if (inv.status !== "draft") {
    return { starting: inv.starting_balance, due: inv.amount_due, ending: inv.ending_balance ?? 0 };
  }
  const balance = core.state.customers[inv.customer]?.balance ?? 0;
  const gross = invoiceTotal(core, inv) + balance;
  const due = Math.max(0, gross);
  return { starting: balance, due, ending: gross - due };
}
