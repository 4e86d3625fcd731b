import type { EmulatorCore } from "../core.ts";
import { invalidRequest } from "../errors.ts";
import { newId } from "../ids.ts";
import { buildCustomer } from "../objects/customers.ts";
import type { BalanceTransactionRec, BalanceTransactionType } from "../payments-state.ts";
import type { CustomerRec } from "../state.ts";

/**
 * The customer's credit balance (`customer.balance`, negative = credit the customer has, positive = owed)
 * and its ledger, `/v1/customers/:id/balance_transactions`: every change of the balance is a transaction,
 * so the ledger always sums to the balance. Invoices use it up at finalization (`applied_to_invoice`),
 * voiding gives it back (`unapplied_from_invoice`), credit notes add to it (`credit_note`).
 */
export function changeBalance(
  core: EmulatorCore,
  customer: CustomerRec,
  amount: number,
  input: {
    type: BalanceTransactionType;
    currency: string;
    invoice?: string | null;
    creditNote?: string | null;
    description?: string | null;
    metadata?: Record<string, string>;
    /** The caller emits its own `customer.updated` (or none, inside finalization). */
    quiet?: boolean;
  },
): BalanceTransactionRec {
  if (!input.quiet && customer.currency !== null && customer.currency !== input.currency) {
    throw invalidRequest(
      `The currency of this balance transaction (${input.currency}) does not match the customer's currency (${customer.currency}).`,
      "currency",
    );
  }
  const before = input.quiet ? undefined : buildCustomer(core, customer);
  customer.balance += amount;
  if (customer.currency === null) customer.currency = input.currency;
  const rec: BalanceTransactionRec = {
    id: newId("cbtxn"),
    seq: core.nextSeq(),
    created: core.clockNow(customer.test_clock),
    customer: customer.id,
    amount,
    currency: input.currency,
    description: input.description ?? null,
    ending_balance: customer.balance,
    invoice: input.invoice ?? null,
    credit_note: input.creditNote ?? null,
    metadata: input.metadata ?? {},
    type: input.type,
  };
  core.state.balanceTransactions[rec.id] = rec;
  if (before) core.emitUpdate("customer.updated", before, buildCustomer(core, customer));
  return rec;
}
