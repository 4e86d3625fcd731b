import type Stripe from "stripe";
import type { PaymentMethodRec } from "../state.ts";

export function buildPaymentMethod(rec: PaymentMethodRec): Stripe.PaymentMethod {
  return {
    id: rec.id,
    object: "payment_method",
    allow_redisplay: rec.allow_redisplay,
    billing_details: {
      address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null },
      email: rec.billing_details.email,
      name: rec.billing_details.name,
      phone: rec.billing_details.phone,
      tax_id: null,
    },
    card: {
      brand: rec.card.brand,
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: "pass" },
      country: rec.card.country,
      display_brand: rec.card.display_brand,
      exp_month: rec.card.exp_month,
      exp_year: rec.card.exp_year,
      fingerprint: rec.card.fingerprint,
      funding: rec.card.funding,
      generated_from: null,
      last4: rec.card.last4,
      networks: { available: [rec.card.brand], preferred: null },
      regulated_status: "unregulated",
      three_d_secure_usage: { supported: true },
      wallet: null,
    },
    created: rec.created,
    customer: rec.customer,
    customer_account: null,
    livemode: false,
    metadata: rec.metadata,
    type: "card",
  };
}
