import type Stripe from "stripe";
import type { ChargeRec } from "../state.ts";

/**
 * Charges exist as Stripe makes them — one per payment attempt of a PaymentIntent — so that
 * `charge.succeeded` / `charge.failed` / `charge.refunded` are emitted and `latest_charge`, a refund's
 * `charge` and an invoice payment's `payment.charge` can be expanded. `/v1/charges` only reads them.
 */
export function buildCharge(rec: ChargeRec): Stripe.Charge {
  const succeeded = rec.status === "succeeded";
  return {
    id: rec.id,
    object: "charge",
    amount: rec.amount,
    amount_captured: succeeded ? rec.amount : 0,
    amount_refunded: rec.amount_refunded,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: null,
    billing_details: {
      address: null,
      email: rec.billing_email,
      name: rec.billing_name,
      phone: null,
      tax_id: null,
    },
    calculated_statement_descriptor: succeeded ? "MINUTELY" : null,
    captured: succeeded,
    created: rec.created,
    currency: rec.currency,
    customer: rec.customer,
    description: rec.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: rec.failure_code,
    failure_message: rec.failure_message,
    fraud_details: {},
    livemode: false,
    metadata: {},
    on_behalf_of: null,
    outcome: {
      advice_code: null,
      network_advice_code: null,
      network_decline_code: null,
      network_status: succeeded ? "approved_by_network" : "declined_by_network",
      reason: succeeded ? null : rec.decline_code,
      risk_level: "normal",
      seller_message: succeeded
        ? "Payment complete."
        : "The bank did not return any further details with this decline.",
      type: succeeded ? "authorized" : "issuer_declined",
    },
    paid: succeeded,
    payment_intent: rec.payment_intent,
    payment_method: rec.payment_method,
    payment_method_details: rec.card
      ? {
          card: {
            amount_authorized: succeeded ? rec.amount : null,
            authorization_code: null,
            brand: rec.card.brand,
            checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: null },
            country: rec.card.country,
            electronic_commerce_indicator: null,
            exp_month: rec.card.exp_month,
            exp_year: rec.card.exp_year,
            fingerprint: rec.card.fingerprint,
            funding: rec.card.funding,
            installments: null,
            last4: rec.card.last4,
            mandate: null,
            network: rec.card.brand,
            network_transaction_id: null,
            regulated_status: null,
            three_d_secure: null,
            transaction_link_id: null,
            wallet: null,
          },
          type: "card",
        }
      : null,
    receipt_email: null,
    receipt_number: null,
    receipt_url: null,
    refunded: rec.amount_refunded >= rec.amount && succeeded,
    review: null,
    shipping: null,
    source: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: rec.status,
    transfer_data: null,
    transfer_group: null,
  };
}
