import type Stripe from "stripe";
import type { EmulatorCore } from "../core.ts";
import type { InvoiceItemRec } from "../state.ts";
import { decimal, isTiered, unitAmountIn } from "./prices.ts";
import { buildTaxRates } from "./taxes.ts";

export function buildInvoiceItem(core: EmulatorCore, rec: InvoiceItemRec): Stripe.InvoiceItem {
  const price = rec.price ? core.state.prices[rec.price] : undefined;
  const unit = rec.quantity !== 0 ? rec.amount / rec.quantity : rec.amount;
  return {
    id: rec.id,
    object: "invoiceitem",
    amount: rec.amount,
    currency: rec.currency,
    customer: rec.customer,
    customer_account: null,
    date: rec.date,
    description: rec.description,
    discountable: rec.discountable,
    discounts: rec.discounts ?? [],
    invoice: rec.invoice,
    livemode: false,
    metadata: rec.metadata,
    net_amount: rec.amount,
    parent: rec.subscription
      ? {
          subscription_details: {
            subscription: rec.subscription,
            ...(rec.subscription_item ? { subscription_item: rec.subscription_item } : {}),
          },
          type: "subscription_details",
        }
      : null,
    period: { end: rec.period.end, start: rec.period.start },
    pricing: {
      ...(price ? { price_details: { price: price.id, product: price.product } } : {}),
      type: "price_details",
      unit_amount_decimal: decimal(
        price && !rec.proration && !isTiered(price) ? unitAmountIn(price, rec.currency) : unit,
      ),
    },
    proration: rec.proration,
    proration_details: {
      credited_items: rec.credited_items
        ? { invoice_line_item_details: rec.credited_items, type: "invoice_line_items" }
        : null,
      discount_amounts: [],
    },
    quantity: rec.quantity,
    quantity_decimal: decimal(rec.quantity),
    tax_rates: buildTaxRates(core, rec.tax_rates),
    test_clock: rec.test_clock,
  };
}
