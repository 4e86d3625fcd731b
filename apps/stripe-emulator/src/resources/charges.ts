import { paginate } from "../core.ts";
import { resourceMissing } from "../errors.ts";
import type { Router } from "../http/router.ts";
import { buildCharge } from "../objects/charges.ts";

/** Charges are made by payment attempts; the API only reads them. */
export function registerCharges(router: Router): void {
  router.get("/v1/charges", ({ core, p, url }) => {
    const customer = p.str("customer");
    const paymentIntent = p.str("payment_intent");
    const items = Object.values(core.state.charges).filter(
      (c) =>
        (customer === undefined || c.customer === customer) &&
        (paymentIntent === undefined || c.payment_intent === paymentIntent),
    );
    return paginate(items, p, url, buildCharge);
  });
  router.get("/v1/charges/:id", ({ core, path }) => {
    const rec = core.state.charges[path.id ?? ""];
    if (!rec) throw resourceMissing("charge", path.id ?? "", "charge");
    return buildCharge(rec);
  });
}
