import { changeBalance } from "../billing/balance.ts";
import { type EmulatorCore, paginate } from "../core.ts";
import { invalidRequest, missingParam, resourceMissing } from "../errors.ts";
import type { Router } from "../http/router.ts";
import { buildBalanceTransaction } from "../objects/balanceTransactions.ts";
import type { BalanceTransactionRec } from "../payments-state.ts";

function transaction(core: EmulatorCore, customer: string, id: string): BalanceTransactionRec {
  const rec = core.state.balanceTransactions[id];
  if (!rec || rec.customer !== customer)
    throw resourceMissing("customer_balance_transaction", id, "transaction");
  return rec;
}

/** `/v1/customers/:id/balance_transactions`: the customer's credit balance ledger (see `billing/balance.ts`). */
export function registerCustomerBalance(router: Router): void {
  router.post("/v1/customers/:id/balance_transactions", ({ core, p, path }) => {
    const customer = core.customer(path.id ?? "", "customer");
    const amount = p.int("amount");
    if (amount === undefined) throw missingParam("amount");
    const currency = p.str("currency");
    if (!currency) throw missingParam("currency");
    if (amount === 0) throw invalidRequest("The amount must be a non-zero integer.", "amount");
    const rec = changeBalance(core, customer, amount, {
      type: "adjustment",
      currency: currency.toLowerCase(),
      description: p.str("description") || null,
      metadata: p.metadata("metadata", {}),
    });
    return buildBalanceTransaction(rec);
  });
  router.get("/v1/customers/:id/balance_transactions", ({ core, p, path, url }) => {
    const customer = core.customer(path.id ?? "", "customer");
    const items = Object.values(core.state.balanceTransactions).filter((t) => t.customer === customer.id);
    return paginate(items, p, url, buildBalanceTransaction);
  });
  router.get("/v1/customers/:id/balance_transactions/:txn", ({ core, path }) =>
    buildBalanceTransaction(transaction(core, path.id ?? "", path.txn ?? "")),
  );
  router.post("/v1/customers/:id/balance_transactions/:txn", ({ core, p, path }) => {
    const rec = transaction(core, path.id ?? "", path.txn ?? "");
    if (p.has("description")) rec.description = p.str("description") || null;
    rec.metadata = p.metadata("metadata", rec.metadata);
    return buildBalanceTransaction(rec);
  });
}
