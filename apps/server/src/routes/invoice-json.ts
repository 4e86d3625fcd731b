// How every REST API shows an invoice: snake_case, integer cents, ISO 8601 times (UTC). The customer API
// sends ZInvoiceSchema; the seed contract (dashboard, billing history action) ZSeedContractInvoiceSchema.
import type { DashboardInvoice } from "@minutely/api";
import { z } from "zod";

const ZDateTimeSchema = z.iso.datetime();

export const ZInvoiceSchema = z.object({
  id: z.string(),
  number: z.string().nullable(),
  date: ZDateTimeSchema,
  amount_cents: z.number().int(),
  subtotal_cents: z.number().int().meta({ description: "Before discounts (the lines' sum)" }),
  discount_cents: z.number().int().meta({
    description:
      "What coupons took off (0 or positive): subtotal_cents - discount_cents + tax_cents = amount_cents",
  }),
  tax_cents: z.number().int().meta({
    description: "Tax added on top (Stripe Tax; prices are exclusive of tax, and tax is not revenue)",
  }),
  refunded_cents: z.number().int().meta({
    description:
      "What was paid and refunded, as Stripe has it (an admin's refund, one made in Stripe, or all of an invoice of a second subscription Minutely canceled); 0 otherwise",
  }),
  currency: z.string(),
  status: z.string(),
  hosted_invoice_url: z.string().nullable(),
  invoice_pdf: z.string().nullable(),
  description: z.string().meta({
    description: "Why Stripe issued the invoice, in words",
    examples: ["First payment", "Renewal", "Plan change (prorated)"],
  }),
  lines: z
    .array(
      z.object({
        description: z
          .string()
          .nullable()
          .meta({
            examples: ["1 × Pro (at $99.00 / month)", "Remaining time on Pro after 6 Dec 2026"],
          }),
        amount_cents: z.number().int().meta({ description: "Negative for a credit" }),
        currency: z.string(),
        period_start: ZDateTimeSchema.nullable(),
        period_end: ZDateTimeSchema.nullable(),
        proration: z.boolean().meta({ description: "A prorated charge or credit (a plan change)" }),
        discount_cents: z.number().int().meta({ description: "What coupons took off this line" }),
      }),
    )
    .meta({
      description:
        "What the invoice charges for, line by line, in Stripe's order; they add up to subtotal_cents",
    }),
});

export const ZSeedContractInvoiceSchema = ZInvoiceSchema.extend({
  amount: z.number().meta({ description: "In major units (dollars), as in the seed's contract" }),
});

/** The customer API's invoice (amounts in cents only). */
export function toInvoiceJson(i: DashboardInvoice): z.input<typeof ZInvoiceSchema> {
  return {
    id: i.id,
    number: i.number,
    date: i.date.toISOString(),
    amount_cents: i.amountCents,
    subtotal_cents: i.subtotalCents,
    discount_cents: i.discountCents,
    tax_cents: i.taxCents,
    refunded_cents: i.refundedCents,
    currency: i.currency,
    status: i.status,
    hosted_invoice_url: i.hostedInvoiceUrl,
    invoice_pdf: i.invoicePdfUrl,
    description: i.description,
    lines: i.lines.map((line) => ({
      description: line.description,
      amount_cents: line.amountCents,
      currency: line.currency,
      period_start: line.periodStart?.toISOString() ?? null,
      period_end: line.periodEnd?.toISOString() ?? null,
      proration: line.proration,
      discount_cents: line.discountCents,
    })),
  };
}

/** The seed contract's invoice also carries `amount` in major units. */
export function toSeedContractInvoice(i: DashboardInvoice): z.input<typeof ZSeedContractInvoiceSchema> {
  return { ...toInvoiceJson(i), amount: i.amountCents / 100 };
}
