import type Stripe from "stripe";
import type { BillingProvider } from "../ports/billing.ts";

/** BillingProvider over the official Stripe SDK (real Stripe or the emulator, by configuration). */
export class StripeBillingProvider implements BillingProvider {
  constructor(readonly stripe: Stripe) {}

  async createProduct(input: Parameters<BillingProvider["createProduct"]>[0]) {
    const product = await this.stripe.products.create(
      {
        name: input.name,
        ...(input.description ? { description: input.description } : {}),
        metadata: { minutely_plan_id: input.planId },
      },
      { idempotencyKey: input.idempotencyKey },
    );
    return { productId: product.id };
  }

  async updateProduct(productId: string, input: { name: string; description: string; active: boolean }) {
    await this.stripe.products.update(productId, {
      name: input.name,
      description: input.description || "",
      active: input.active,
    });
  }

  async createMonthlyPrice(input: Parameters<BillingProvider["createMonthlyPrice"]>[0]) {
    const price = await this.stripe.prices.create(
      {
        product: input.productId,
        unit_amount: input.amountCents,
        currency: input.currency,
        recurring: { interval: "month" },
        metadata: { minutely_plan_id: input.planId },
      },
      { idempotencyKey: input.idempotencyKey },
    );
    return { priceId: price.id };
  }

  async addInvoiceItem(input: Parameters<BillingProvider["addInvoiceItem"]>[0]) {
    const item = await this.stripe.invoiceItems.create(
      {
        customer: input.customerId,
        subscription: input.subscriptionId,
        amount: input.amountCents,
        currency: input.currency,
        description: input.description,
        metadata: input.metadata,
      },
      { idempotencyKey: input.idempotencyKey },
    );
    return { invoiceItemId: item.id };
  }
}
