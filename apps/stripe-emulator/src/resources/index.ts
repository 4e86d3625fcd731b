import type { Router } from "../http/router.ts";
import { registerBillingMeters } from "./billingMeters.ts";
import { registerCharges } from "./charges.ts";
import { registerCheckout } from "./checkout.ts";
import { registerCreditNotes } from "./creditNotes.ts";
import { registerCustomerBalance } from "./customerBalance.ts";
import { registerCustomers } from "./customers.ts";
import { registerEvents } from "./events.ts";
import { registerInvoiceItems } from "./invoiceItems.ts";
import { registerInvoices } from "./invoices.ts";
import { registerPaymentIntents } from "./paymentIntents.ts";
import { registerPaymentMethods } from "./paymentMethods.ts";
import { registerPrices } from "./prices.ts";
import { registerProducts } from "./products.ts";
import { registerRefunds } from "./refunds.ts";
import { registerSchedules } from "./subscriptionSchedules.ts";
import { registerSubscriptions } from "./subscriptions.ts";
import { registerTestClocks } from "./testClocks.ts";

export function registerAll(router: Router): void {
  registerCustomers(router);
  registerPaymentMethods(router);
  registerProducts(router);
  registerPrices(router);
  registerSubscriptions(router);
  registerSchedules(router);
  registerInvoices(router);
  registerInvoiceItems(router);
  registerPaymentIntents(router);
  registerRefunds(router);
  registerCheckout(router);
  registerEvents(router);
  registerTestClocks(router);
  registerBillingMeters(router);
  registerCharges(router);
  registerCustomerBalance(router);
  registerCreditNotes(router);
}
