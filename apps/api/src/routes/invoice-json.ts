// How every REST API shows an invoice: snake_case, integer cents, ISO 8601 times (UTC).

export interface InvoiceLike {
  id: string;
  number: string | null;
  date: Date;
  amountCents: number;
  /** Paid and given back (0 when nothing was refunded). */
  refundedCents: number;
  currency: string;
  status: string;
  hostedInvoiceUrl: string | null;
  invoicePdfUrl: string | null;
  /** Stripe's reason for the invoice, in words ("Plan change (prorated)"). */
  description: string;
  lines: {
    description: string | null;
    amountCents: number;
    currency: string;
    periodStart: Date | null;
    periodEnd: Date | null;
    proration: boolean;
  }[];
}

/** The OpenAPI description of the fields every invoice carries beyond the seed's (added, none changed). */
export const invoiceDetailProperties = {
  description: {
    type: "string",
    description: "Why Stripe issued the invoice, in words",
    examples: ["First payment", "Renewal", "Plan change (prorated)"],
  },
  lines: {
    type: "array",
    description: "What the invoice charges for, line by line, in Stripe's order; they add up to amount_cents",
    items: {
      type: "object",
      required: ["description", "amount_cents", "currency", "period_start", "period_end", "proration"],
      properties: {
        description: {
          type: ["string", "null"],
          examples: ["1 × Pro (at $99.00 / month)", "Remaining time on Pro after 6 Dec 2026"],
        },
        amount_cents: { type: "integer", description: "Negative for a credit" },
        currency: { type: "string" },
        period_start: { type: ["string", "null"], format: "date-time" },
        period_end: { type: ["string", "null"], format: "date-time" },
        proration: { type: "boolean", description: "A prorated charge or credit (a plan change)" },
      },
    },
  },
} as const;

/** The customer API's invoice (amounts in cents only). */
export function invoiceJson(i: InvoiceLike) {
  return {
    id: i.id,
    number: i.number,
    date: i.date.toISOString(),
    amount_cents: i.amountCents,
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
    })),
  };
}

/** The seed's contract (dashboard, billing history action) also carries `amount` in major units. */
export function seedInvoiceJson(i: InvoiceLike) {
  return { ...invoiceJson(i), amount: i.amountCents / 100 };
}
