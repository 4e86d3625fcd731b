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
}

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
  };
}

/** The seed's contract (dashboard, billing history action) also carries `amount` in major units. */
export function seedInvoiceJson(i: InvoiceLike) {
  return { ...invoiceJson(i), amount: i.amountCents / 100 };
}
