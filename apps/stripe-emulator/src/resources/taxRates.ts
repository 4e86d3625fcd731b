import type Stripe from "stripe";
import {
  createTaxId,
  createTaxRate,
  customerTaxId,
  deleteTaxId,
  taxRate,
  updateTaxRate,
} from "../billing/tax.ts";
import { paginate } from "../core.ts";
import { resourceMissing } from "../errors.ts";
import type { Router } from "../http/router.ts";
import { buildTaxId, buildTaxRate, customerTaxIds, findTaxRate } from "../objects/taxes.ts";

/** `/v1/tax_rates` and a customer's `/v1/customers/:id/tax_ids`. */
export function registerTaxes(router: Router): void {
  router.post("/v1/tax_rates", ({ core, p }) => buildTaxRate(createTaxRate(core, p)));

  router.get("/v1/tax_rates", ({ core, p, url }) => {
    const active = p.bool("active");
    const inclusive = p.bool("inclusive");
    const items = Object.values(core.state.taxRates).filter(
      (rec) =>
        (active === undefined || rec.active === active) &&
        (inclusive === undefined || rec.inclusive === inclusive),
    );
    return paginate(items, p, url, buildTaxRate);
  });

  router.get("/v1/tax_rates/:id", ({ core, path }) => {
    const id = path.id ?? "";
    const rec = findTaxRate(core, id);
    if (!rec) throw resourceMissing("tax_rate", id, "id");
    return buildTaxRate(rec);
  });

  router.post("/v1/tax_rates/:id", ({ core, p, path }) => {
    const rec = taxRate(core, path.id ?? "", "id");
    updateTaxRate(core, rec, p);
    return buildTaxRate(rec);
  });

  router.post("/v1/customers/:id/tax_ids", ({ core, p, path }) => {
    const customer = core.customer(path.id ?? "", "customer");
    return createTaxId(
      core,
      customer,
      { type: p.reqStr("type"), value: p.reqStr("value") },
      { type: "type", value: "value" },
    ).created;
  });

  router.get("/v1/customers/:id/tax_ids", ({ core, p, path, url }) => {
    const customer = core.customer(path.id ?? "", "customer");
    return paginate(customerTaxIds(core, customer.id), p, url, buildTaxId);
  });

  router.get("/v1/customers/:id/tax_ids/:tax_id", ({ core, path }) => {
    const customer = core.customer(path.id ?? "", "customer");
    return buildTaxId(customerTaxId(core, customer, path.tax_id ?? ""));
  });

  router.del("/v1/customers/:id/tax_ids/:tax_id", ({ core, path }) => {
    const customer = core.customer(path.id ?? "", "customer");
    const rec = customerTaxId(core, customer, path.tax_id ?? "");
    deleteTaxId(core, rec);
    return { id: rec.id, object: "tax_id", deleted: true } satisfies Stripe.DeletedTaxId;
  });
}
