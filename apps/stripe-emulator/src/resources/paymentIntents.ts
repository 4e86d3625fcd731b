import { paginate } from "../core.ts";
import { resourceMissing } from "../errors.ts";
import type { Router } from "../http/router.ts";
import { buildInvoicePayment, buildPaymentIntent, buildSetupIntent } from "../objects/paymentIntents.ts";

export function registerPaymentIntents(router: Router): void {
  router.get("/v1/payment_intents", ({ core, p, url }) => {
    const customer = p.str("customer");
    const items = Object.values(core.state.paymentIntents).filter(
      (pi) => customer === undefined || pi.customer === customer,
    );
    return paginate(items, p, url, (pi) => buildPaymentIntent(core, pi));
  });
  router.get("/v1/payment_intents/:id", ({ core, path }) => {
    const rec = core.state.paymentIntents[path.id ?? ""];
    if (!rec) throw resourceMissing("payment_intent", path.id ?? "", "intent");
    return buildPaymentIntent(core, rec);
  });
  router.get("/v1/invoice_payments", ({ core, p, url }) => {
    const invoice = p.str("invoice");
    const items = Object.values(core.state.invoicePayments).filter(
      (ip) => invoice === undefined || ip.invoice === invoice,
    );
    return paginate(items, p, url, buildInvoicePayment);
  });
  router.get("/v1/invoice_payments/:id", ({ core, path }) => {
    const rec = core.state.invoicePayments[path.id ?? ""];
    if (!rec) throw resourceMissing("invoice_payment", path.id ?? "", "id");
    return buildInvoicePayment(rec);
  });
  router.get("/v1/setup_intents/:id", ({ core, path }) => {
    const rec = core.state.setupIntents[path.id ?? ""];
    if (!rec) throw resourceMissing("setup_intent", path.id ?? "", "intent");
    return buildSetupIntent(rec);
  });
}
