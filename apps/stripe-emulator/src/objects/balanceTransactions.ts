import type Stripe from "stripe";
import type { BalanceTransactionRec } from "../payments-state.ts";

export function buildBalanceTransaction(rec: BalanceTransactionRec): Stripe.CustomerBalanceTransaction {
  return {
    id: rec.id,
    object: "customer_balance_transaction",
    amount: rec.amount,
    checkout_session: null,
    created: rec.created,
    credit_note: rec.credit_note,
    currency: rec.currency,
    customer: rec.customer,
    customer_account: null,
    description: rec.description,
    ending_balance: rec.ending_balance,
    invoice: rec.invoice,
    livemode: false,
    metadata: rec.metadata,
    type: rec.type,
  };
}
