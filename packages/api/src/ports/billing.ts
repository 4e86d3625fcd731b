import type { Currency } from "@minutely/domain";

/**
 * The payment provider, as Minutely's services need it. Stripe is the system of record for payments and
 * invoices; the implementation talks to Stripe (or the emulator) through the official SDK. Every write
 * carries an idempotency key so a retried call never creates or charges twice.
 */
export interface BillingProvider {
  /** Creates the product for a package, or returns it when the idempotency key was used before. */
  createProduct(input: {
    name: string;
    description: string;
    planId: string;
    idempotencyKey: string;
  }): Promise<{
    productId: string;
  }>;
  updateProduct(
    productId: string,
    input: { name: string; description: string; active: boolean },
  ): Promise<void>;
  /** A monthly recurring price; prices are immutable, so a price change is a new price. */
  createMonthlyPrice(input: {
    productId: string;
    amountCents: number;
    currency: Currency;
    planId: string;
    idempotencyKey: string;
  }): Promise<{ priceId: string }>;
  /** Adds an item (overage minutes, say) to the customer's next invoice of that subscription. */
  addInvoiceItem(input: {
    customerId: string;
    subscriptionId: string;
    amountCents: number;
    currency: Currency;
    description: string;
    metadata: Record<string, string>;
    idempotencyKey: string;
  }): Promise<{ invoiceItemId: string }>;
}
