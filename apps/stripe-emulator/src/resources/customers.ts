import { changeBalance } from "../billing/balance.ts";
import { attachPaymentMethod, resolveCustomerPaymentMethod } from "../billing/payments.ts";
import { cancelSubscriptionNow } from "../billing/subscriptions.ts";
import { checkTaxId, createTaxId } from "../billing/tax.ts";
import { type EmulatorCore, paginate } from "../core.ts";
import { invalidRequest } from "../errors.ts";
import type { Router } from "../http/router.ts";
import { newId, randomToken } from "../ids.ts";
import { buildCustomer, buildDeletedCustomer } from "../objects/customers.ts";
import { buildPaymentMethod } from "../objects/paymentMethods.ts";
import type { Params } from "../params.ts";
import { searchRecords } from "../search.ts";
import type { Address, CustomerRec } from "../state.ts";

export function addressParam(p: Params, key: string, current: Address | null): Address | null {
  if (p.isEmpty(key)) return null;
  const a = p.obj(key);
  if (!a) return current;
  return {
    city: a.str("city") ?? current?.city ?? null,
    country: a.str("country") ?? current?.country ?? null,
    line1: a.str("line1") ?? current?.line1 ?? null,
    line2: a.str("line2") ?? current?.line2 ?? null,
    postal_code: a.str("postal_code") ?? current?.postal_code ?? null,
    state: a.str("state") ?? current?.state ?? null,
  };
}

const TAX_EXEMPT = ["exempt", "none", "reverse"] as const;

export function createCustomer(core: EmulatorCore, p: Params): CustomerRec {
  const clockId = p.str("test_clock") ?? null;
  if (clockId !== null) core.testClock(clockId, "test_clock");
  // Every tax id is checked before anything is created.
  const taxIds = (p.list("tax_id_data") ?? []).map((entry, index) => {
    const input = { type: entry.reqStr("type"), value: entry.reqStr("value") };
    const params = { type: `tax_id_data[${index}][type]`, value: `tax_id_data[${index}][value]` };
    checkTaxId(input.type, input.value, params);
    return { input, params };
  });
  const rec: CustomerRec = {
    id: newId("cus", 14),
    seq: core.nextSeq(),
    created: core.clockNow(clockId),
    email: p.nullableStr("email") ?? null,
    name: p.nullableStr("name") ?? null,
    description: p.nullableStr("description") ?? null,
    phone: p.nullableStr("phone") ?? null,
    address: addressParam(p, "address", null),
    metadata: p.metadata("metadata", {}),
    balance: 0,
    currency: null,
    default_payment_method: null,
    invoice_prefix: p.str("invoice_prefix") ?? randomToken(8).toUpperCase(),
    next_invoice_sequence: p.int("next_invoice_sequence") ?? 1,
    test_clock: clockId,
    preferred_locales: p.strList("preferred_locales") ?? [],
    tax_exempt: p.oneOf("tax_exempt", TAX_EXEMPT) ?? "none",
    deleted: false,
  };
  core.state.customers[rec.id] = rec;
  const initial = p.int("balance") ?? 0;
  if (initial !== 0) changeBalance(core, rec, initial, { type: "initial", currency: "usd", quiet: true });
  core.emit("customer.created", buildCustomer(core, rec));
  for (const { input, params } of taxIds) createTaxId(core, rec, input, params);
  const pm = p.str("payment_method");
  if (pm) attachPaymentMethod(core, pm, rec.id);
  const defaultPm = p.obj("invoice_settings")?.str("default_payment_method");
  if (defaultPm) {
    const before = buildCustomer(core, rec);
    rec.default_payment_method = resolveCustomerPaymentMethod(
      core,
      rec.id,
      defaultPm,
      "invoice_settings[default_payment_method]",
    ).id;
    core.emitUpdate("customer.updated", before, buildCustomer(core, rec));
  }
  return rec;
}

function updateCustomer(core: EmulatorCore, rec: CustomerRec, p: Params): void {
  const before = buildCustomer(core, rec);
  if (p.has("email")) rec.email = p.nullableStr("email") ?? null;
  if (p.has("name")) rec.name = p.nullableStr("name") ?? null;
  if (p.has("description")) rec.description = p.nullableStr("description") ?? null;
  if (p.has("phone")) rec.phone = p.nullableStr("phone") ?? null;
  if (p.has("balance")) {
    const delta = (p.int("balance") ?? 0) - rec.balance;
    if (delta !== 0) {
      changeBalance(core, rec, delta, { type: "adjustment", currency: rec.currency ?? "usd", quiet: true });
    }
  }
  if (p.has("preferred_locales")) rec.preferred_locales = p.strList("preferred_locales") ?? [];
  if (p.has("tax_exempt")) rec.tax_exempt = p.oneOf("tax_exempt", TAX_EXEMPT) ?? "none";
  rec.address = addressParam(p, "address", rec.address);
  rec.metadata = p.metadata("metadata", rec.metadata);
  const settings = p.obj("invoice_settings");
  if (settings?.has("default_payment_method")) {
    const value = settings.str("default_payment_method");
    rec.default_payment_method = value
      ? resolveCustomerPaymentMethod(core, rec.id, value, "invoice_settings[default_payment_method]").id
      : null;
  }
  core.emitUpdate("customer.updated", before, buildCustomer(core, rec));
}

export function registerCustomers(router: Router): void {
  router.post("/v1/customers", ({ core, p }) => buildCustomer(core, createCustomer(core, p)));

  router.get("/v1/customers", ({ core, p, url }) => {
    const email = p.str("email");
    const clock = p.str("test_clock");
    const items = Object.values(core.state.customers).filter(
      (c) =>
        !c.deleted &&
        (email === undefined || c.email === email) &&
        (clock === undefined || c.test_clock === clock),
    );
    return paginate(items, p, url, (c) => buildCustomer(core, c));
  });

  router.get("/v1/customers/search", ({ core, p, url }) => {
    const items = Object.values(core.state.customers).filter((c) => !c.deleted);
    return searchRecords(
      items,
      p,
      url,
      (c, field) => {
        if (field === "email") return c.email;
        if (field === "name") return c.name;
        if (field === "phone") return c.phone;
        if (field === "created") return String(c.created);
        return undefined;
      },
      (c) => buildCustomer(core, c),
    );
  });

  router.get("/v1/customers/:id", ({ core, path }) => {
    const rec = core.state.customers[path.id ?? ""];
    if (rec?.deleted) return buildDeletedCustomer(rec);
    return buildCustomer(core, core.customer(path.id ?? "", "id"));
  });

  router.post("/v1/customers/:id", ({ core, p, path }) => {
    const rec = core.customer(path.id ?? "", "id");
    updateCustomer(core, rec, p);
    return buildCustomer(core, rec);
  });

  router.del("/v1/customers/:id", ({ core, path }) => {
    const rec = core.customer(path.id ?? "", "id");
    for (const sub of Object.values(core.state.subscriptions)) {
      if (sub.customer === rec.id && sub.status !== "canceled" && sub.status !== "incomplete_expired") {
        cancelSubscriptionNow(core, sub, {
          prorate: false,
          invoiceNow: false,
          reason: "cancellation_requested",
        });
      }
    }
    const snapshot = buildCustomer(core, rec);
    rec.deleted = true;
    core.emit("customer.deleted", snapshot);
    return buildDeletedCustomer(rec);
  });

  router.get("/v1/customers/:id/payment_methods", ({ core, p, path, url }) => {
    const customer = core.customer(path.id ?? "", "customer");
    const type = p.str("type");
    if (type !== undefined && type !== "card") return { object: "list", data: [], has_more: false, url };
    const items = Object.values(core.state.paymentMethods).filter((pm) => pm.customer === customer.id);
    return paginate(items, p, url, (pm) => buildPaymentMethod(pm));
  });

  router.get("/v1/customers/:id/payment_methods/:pm", ({ core, path }) => {
    const customer = core.customer(path.id ?? "", "customer");
    const pm = core.paymentMethod(path.pm ?? "", "payment_method");
    if (pm.customer !== customer.id) {
      throw invalidRequest(
        `No such PaymentMethod: '${pm.id}' for customer '${customer.id}'`,
        "payment_method",
        "resource_missing",
      );
    }
    return buildPaymentMethod(pm);
  });
}
