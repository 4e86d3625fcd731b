import type Stripe from "stripe";
import { redeemDiscounts } from "../billing/discounts.ts";
import { addInvoiceItemLine } from "../billing/invoices.ts";
import { refuseOtherCurrency } from "../billing/subscriptions.ts";
import { refuseRatesWithAutomaticTax, taxRatesParam } from "../billing/tax.ts";
import { type EmulatorCore, paginate } from "../core.ts";
import { invalidRequest, missingParam, resourceMissing } from "../errors.ts";
import type { Router } from "../http/router.ts";
import { newId } from "../ids.ts";
import { buildInvoiceItem } from "../objects/invoiceItems.ts";
import { amountTooLarge, checkedPriceAmount, hasCurrency, MAX_AMOUNT } from "../objects/prices.ts";
import type { Params } from "../params.ts";

/** An invoice item's amount (either sign) within Stripe's maximum, else `amount_too_large`. */
function checkItemAmount(amount: number, param: string): void {
  if (!Number.isSafeInteger(amount) || Math.abs(amount) > MAX_AMOUNT) {
    throw amountTooLarge(
      `The invoice item amount (${amount}) must be no more than ${MAX_AMOUNT} in absolute value.`,
      param,
    );
  }
}

import type { InvoiceItemRec } from "../state.ts";

function createInvoiceItem(core: EmulatorCore, p: Params): InvoiceItemRec {
  const invoiceId = p.str("invoice");
  const invoice = invoiceId ? core.invoice(invoiceId, "invoice") : undefined;
  if (invoice && invoice.status !== "draft") {
    throw invalidRequest(
      "You can only add invoice items to draft invoices.",
      "invoice",
      "invoice_not_editable",
    );
  }
  const subscriptionId = p.str("subscription");
  const subscription = subscriptionId ? core.subscription(subscriptionId, "subscription") : undefined;
  const customerId = p.str("customer") ?? invoice?.customer ?? subscription?.customer;
  if (!customerId) throw missingParam("customer");
  const customer = core.customer(customerId);
  const now = core.clockNow(customer.test_clock);
  const quantity = p.int("quantity") ?? 1;
  const priceId = p.obj("pricing")?.str("price");
  const price = priceId ? core.price(priceId, "pricing[price]") : undefined;
  const priceData = p.obj("price_data");
  let amount = p.int("amount");
  let currency = p.str("currency")?.toLowerCase();
  if (amount === undefined) {
    if (price) {
      currency = currency ?? price.currency;
      if (!hasCurrency(price, currency)) {
        throw invalidRequest(
          `The price ${price.id} has no amount in ${currency}: add it to the price's currency_options.`,
          "currency",
        );
      }
      amount = checkedPriceAmount(price, quantity, currency, "quantity");
    } else if (priceData) {
      amount =
        (priceData.int("unit_amount") ?? Number(priceData.str("unit_amount_decimal") ?? "0")) * quantity;
      currency = currency ?? priceData.reqStr("currency").toLowerCase();
    } else if (p.has("unit_amount_decimal")) {
      amount = Math.round(Number(p.str("unit_amount_decimal")) * quantity);
    } else {
      throw missingParam("amount");
    }
  }
  checkItemAmount(amount, p.has("amount") ? "amount" : "quantity");
  currency = currency ?? invoice?.currency ?? customer.currency ?? undefined;
  if (!currency) throw missingParam("currency");
  refuseOtherCurrency(customer, currency);
  const period = p.obj("period");
  const taxRates = taxRatesParam(core, p, "tax_rates");
  if (invoice?.automatic_tax) refuseRatesWithAutomaticTax(true, taxRates, "tax_rates");
  const rec: InvoiceItemRec = {
    id: newId("ii"),
    seq: core.nextSeq(),
    created: now,
    customer: customer.id,
    amount,
    currency,
    description: p.str("description") ?? (price ? (core.state.products[price.product]?.name ?? null) : null),
    date: now,
    invoice: null,
    period: { start: period?.reqInt("start") ?? now, end: period?.reqInt("end") ?? now },
    price: price?.id ?? null,
    quantity,
    proration: false,
    subscription: subscription?.id ?? null,
    subscription_item: null,
    metadata: p.metadata("metadata", {}),
    discountable: p.bool("discountable") ?? true,
    tax_rates: taxRates && taxRates.length > 0 ? taxRates : null,
    test_clock: customer.test_clock,
    deleted: false,
  };
  core.state.invoiceItems[rec.id] = rec;
  const discounts = p.list("discounts");
  if (discounts && discounts.length > 0) {
    rec.discounts = redeemDiscounts(
      core,
      discounts,
      "discounts",
      { invoice_item: rec.id },
      {
        customer: customer.id,
        now,
        currency,
        products: price ? [price.product] : [],
        amount,
      },
    );
  }
  if (invoice) addInvoiceItemLine(invoice, rec);
  core.emit("invoiceitem.created", buildInvoiceItem(core, rec));
  return rec;
}

function item(core: EmulatorCore, id: string): InvoiceItemRec {
  const rec = core.state.invoiceItems[id];
  if (!rec || rec.deleted) throw resourceMissing("invoiceitem", id, "id");
  return rec;
}

export function registerInvoiceItems(router: Router): void {
  router.post("/v1/invoiceitems", ({ core, p }) => buildInvoiceItem(core, createInvoiceItem(core, p)));

  router.get("/v1/invoiceitems", ({ core, p, url }) => {
    const customer = p.str("customer");
    const invoice = p.str("invoice");
    const pending = p.bool("pending");
    const items = Object.values(core.state.invoiceItems).filter(
      (ii) =>
        !ii.deleted &&
        (customer === undefined || ii.customer === customer) &&
        (invoice === undefined || ii.invoice === invoice) &&
        (pending === undefined || (ii.invoice === null) === pending),
    );
    return paginate(items, p, url, (ii) => buildInvoiceItem(core, ii));
  });

  router.get("/v1/invoiceitems/:id", ({ core, path }) => buildInvoiceItem(core, item(core, path.id ?? "")));

  router.post("/v1/invoiceitems/:id", ({ core, p, path }) => {
    const rec = item(core, path.id ?? "");
    const inv = rec.invoice ? core.state.invoices[rec.invoice] : undefined;
    if (inv && inv.status !== "draft") {
      throw invalidRequest(
        "This invoice item is on a finalized invoice and cannot be edited.",
        undefined,
        "invoice_not_editable",
      );
    }
    if (p.has("amount")) rec.amount = p.int("amount") ?? rec.amount;
    if (p.has("quantity")) {
      const q = p.int("quantity") ?? rec.quantity;
      const price = rec.price ? core.state.prices[rec.price] : undefined;
      if (price && !p.has("amount")) rec.amount = checkedPriceAmount(price, q, rec.currency, "quantity");
      rec.quantity = q;
    }
    checkItemAmount(rec.amount, "amount");
    if (p.has("description")) rec.description = p.nullableStr("description") ?? null;
    const taxRates = taxRatesParam(core, p, "tax_rates");
    if (taxRates !== undefined) {
      if (inv?.automatic_tax) refuseRatesWithAutomaticTax(true, taxRates, "tax_rates");
      rec.tax_rates = taxRates.length > 0 ? taxRates : null;
    }
    rec.metadata = p.metadata("metadata", rec.metadata);
    if (inv) {
      const line = inv.lines.find((l) => l.invoice_item === rec.id);
      if (line) {
        line.amount = rec.amount;
        line.quantity = rec.quantity;
        line.description = rec.description;
        line.tax_rates = rec.tax_rates ?? null;
      }
    }
    return buildInvoiceItem(core, rec);
  });

  router.del("/v1/invoiceitems/:id", ({ core, path }) => {
    const rec = item(core, path.id ?? "");
    const inv = rec.invoice ? core.state.invoices[rec.invoice] : undefined;
    if (inv && inv.status !== "draft") {
      throw invalidRequest(
        "This invoice item is on a finalized invoice and cannot be deleted.",
        undefined,
        "invoice_not_editable",
      );
    }
    if (inv) inv.lines = inv.lines.filter((l) => l.invoice_item !== rec.id);
    rec.deleted = true;
    core.emit("invoiceitem.deleted", buildInvoiceItem(core, rec));
    return { id: rec.id, object: "invoiceitem", deleted: true } satisfies Stripe.DeletedInvoiceItem;
  });
}
