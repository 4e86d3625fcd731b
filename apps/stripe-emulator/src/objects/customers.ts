import type Stripe from "stripe";
import type { EmulatorCore } from "../core.ts";
import type { CustomerRec } from "../state.ts";

export function buildCustomer(core: EmulatorCore, rec: CustomerRec): Stripe.Customer {
  const delinquent = Object.values(core.state.invoices).some(
    (inv) => inv.customer === rec.id && inv.status === "open" && inv.attempt_count > 0,
  );
  return {
    id: rec.id,
    object: "customer",
    address: rec.address,
    balance: rec.balance,
    created: rec.created,
    currency: rec.currency,
    customer_account: null,
    default_source: null,
    delinquent,
    description: rec.description,
    discount: null,
    email: rec.email,
    invoice_prefix: rec.invoice_prefix,
    invoice_settings: {
      custom_fields: null,
      default_payment_method: rec.default_payment_method,
      footer: null,
      rendering_options: null,
    },
    livemode: false,
    metadata: rec.metadata,
    name: rec.name,
    next_invoice_sequence: rec.next_invoice_sequence,
    phone: rec.phone,
    preferred_locales: rec.preferred_locales,
    shipping: null,
    tax_exempt: rec.tax_exempt ?? "none",
    test_clock: rec.test_clock,
  };
}

export function buildDeletedCustomer(rec: CustomerRec): Stripe.DeletedCustomer {
  return { id: rec.id, object: "customer", deleted: true };
}
