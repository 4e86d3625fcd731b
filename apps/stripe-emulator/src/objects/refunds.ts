import type Stripe from "stripe";
import type { RefundRec } from "../state.ts";

export function buildRefund(rec: RefundRec): Stripe.Refund {
  return {
    id: rec.id,
    object: "refund",
    amount: rec.amount,
    balance_transaction: null,
    charge: rec.charge ?? null,
    created: rec.created,
    currency: rec.currency,
    customer: rec.customer,
    customer_account: null,
    destination_details: {
      card: { reference_status: "pending", reference_type: "acquirer_reference_number", type: "refund" },
      type: "card",
    },
    metadata: rec.metadata,
    payment_intent: rec.payment_intent,
    payment_method: rec.payment_method,
    reason: rec.reason,
    receipt_number: null,
    source_transfer_reversal: null,
    status: rec.status,
    transfer_reversal: null,
  };
}
