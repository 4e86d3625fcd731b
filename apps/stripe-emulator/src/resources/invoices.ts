import type Stripe from "stripe";
import { markUncollectible } from "../billing/dunning.ts";
import {
  attemptInvoicePayment,
  declineError,
  emitInvoiceCreated,
  finalizeInvoice,
  markInvoicePaid,
  newInvoice,
  pullPendingItems,
  voidInvoice,
} from "../billing/invoices.ts";
import { resolveCustomerPaymentMethod } from "../billing/payments.ts";
import {
  createSubscriptionFromParams,
  renewSubscription,
  updateSubscription,
} from "../billing/subscriptions.ts";
import {
  automaticTaxParam,
  hasTaxLocation,
  refuseRatesWithAutomaticTax,
  taxLocationError,
  taxRatesParam,
} from "../billing/tax.ts";
import { CommitThenThrow, type EmulatorCore, paginate } from "../core.ts";
import { ApiError, invalidRequest, missingParam, notSupported } from "../errors.ts";
import type { Router } from "../http/router.ts";
import { randomToken } from "../ids.ts";
import { buildInvoice, buildLine } from "../objects/invoices.ts";
import { priceAmount } from "../objects/prices.ts";
import { currentPeriod } from "../objects/subscriptions.ts";
import { Params } from "../params.ts";
import type { InvoiceRec } from "../state.ts";

const NO_UPCOMING = (message: string) => invalidRequest(message, undefined, "invoice_upcoming_none");

/** `POST /v1/invoices/create_preview`: runs the real change in a rolled-back transaction. */
export function previewInvoice(core: EmulatorCore, p: Params): Stripe.Invoice {
  return core.dryRun(() => {
    const subscriptionId = p.str("subscription");
    const customerId = p.str("customer");
    const details = p.obj("subscription_details");
    let inv: InvoiceRec;
    if (subscriptionId) {
      const sub = core.subscription(subscriptionId, "subscription");
      if (customerId !== undefined && customerId !== sub.customer) {
        throw invalidRequest("The subscription does not belong to this customer.", "customer");
      }
      if (details?.bool("cancel_now")) throw notSupported("subscription_details[cancel_now] previews");
      let immediate: InvoiceRec | null = null;
      if (details) {
        immediate = updateSubscription(
          core,
          sub,
          new Params(details.raw, "subscription_details"),
          true,
        ).invoice;
      }
      if (immediate) {
        inv = immediate;
      } else {
        if (sub.status === "canceled" || sub.status === "incomplete_expired" || sub.cancel_at_period_end) {
          throw NO_UPCOMING(`No upcoming invoices for customer: ${sub.customer}`);
        }
        inv = renewSubscription(core, sub, currentPeriod(sub).end, true);
      }
    } else if (details?.has("items")) {
      if (!customerId) throw missingParam("customer");
      const raw: Record<string, unknown> = {
        ...details.raw,
        customer: customerId,
        payment_behavior: "default_incomplete",
      };
      delete raw.proration_behavior;
      inv = createSubscriptionFromParams(core, new Params(raw, "subscription_details"), true).invoice;
    } else if (customerId) {
      const customer = core.customer(customerId);
      const now = core.clockNow(customer.test_clock);
      inv = newInvoice(core, {
        customer: customer.id,
        subscription: null,
        billing_reason: "manual",
        period_start: now,
        period_end: now,
        now,
        currency: p.str("currency") ?? customer.currency ?? "usd",
      });
      pullPendingItems(core, inv, () => true);
      addPreviewItems(core, inv, p);
      if (inv.lines.length === 0) throw NO_UPCOMING(`No upcoming invoices for customer: ${customer.id}`);
    } else {
      throw missingParam("customer");
    }
    const automatic = automaticTaxParam(p);
    if (automatic !== undefined) inv.automatic_tax = automatic;
    if (inv.automatic_tax && !hasTaxLocation(core.customer(inv.customer))) throw taxLocationError();
    inv.id = `upcoming_in_${randomToken(24)}`;
    inv.billing_reason = inv.billing_reason === "subscription_cycle" ? "upcoming" : inv.billing_reason;
    return buildInvoice(core, inv);
  });
}

/**
 * `invoice_items[i][price]` (one-time prices) of a customer's preview: lines as if invoice items of those
 * prices were added (the customer's pending items are in the preview too, as on Stripe).
 */
function addPreviewItems(core: EmulatorCore, inv: InvoiceRec, p: Params): void {
  for (const [index, entry] of (p.list("invoice_items") ?? []).entries()) {
    const param = `invoice_items[${index}][price]`;
    const priceId = entry.str("price");
    if (!priceId) throw missingParam(param);
    const price = core.price(priceId, param);
    if (price.recurring) {
      throw invalidRequest(
        "The price specified is set to `type=recurring` but this field only accepts prices with `type=one_time`.",
        param,
      );
    }
    if (price.currency !== inv.currency && !price.currency_options?.[inv.currency]) {
      throw invalidRequest(`The price specified does not support the currency ${inv.currency}.`, param);
    }
    const quantity = entry.int("quantity") ?? 1;
    inv.lines.push({
      id: `il_tmp_${randomToken(24)}`,
      amount: priceAmount(price, quantity, inv.currency),
      currency: inv.currency,
      description: core.state.products[price.product]?.name ?? null,
      period: { start: inv.period_start, end: inv.period_end },
      price: price.id,
      quantity,
      proration: false,
      kind: "invoice_item",
      invoice_item: null,
      subscription: null,
      subscription_item: null,
      metadata: entry.metadata("metadata", {}),
      tax_rates: null,
    });
  }
}

function payInvoice(core: EmulatorCore, inv: InvoiceRec, p: Params): void {
  const now = core.clockNow(inv.test_clock);
  if (inv.status === "paid")
    throw invalidRequest("Invoice is already paid", undefined, "invoice_payment_intent_requires_action");
  if (inv.status === "void") throw invalidRequest("This invoice is void and cannot be paid.");
  if (inv.status === "draft") finalizeInvoice(core, inv, now, true);
  if (p.bool("paid_out_of_band")) {
    markInvoicePaid(core, inv, now, true);
    return;
  }
  const pmParam = p.str("payment_method");
  const pm = pmParam ? resolveCustomerPaymentMethod(core, inv.customer, pmParam, "payment_method").id : null;
  if (inv.status === "uncollectible") inv.status = "open";
  const attempt = attemptInvoicePayment(core, inv, now, { paymentMethod: pm, automatic: false });
  if (!attempt.ok) {
    throw new CommitThenThrow(declineError(core, attempt));
  }
}

export function registerInvoices(router: Router): void {
  router.get("/v1/invoices/upcoming", ({ method, url }) => {
    throw new ApiError(404, {
      type: "invalid_request_error",
      message: `Unrecognized request URL (${method}: ${url}). The upcoming invoice endpoints were removed; use POST /v1/invoices/create_preview.`,
    });
  });
  router.get("/v1/invoices/upcoming/lines", ({ method, url }) => {
    throw new ApiError(404, {
      type: "invalid_request_error",
      message: `Unrecognized request URL (${method}: ${url}).`,
    });
  });

  router.post("/v1/invoices/create_preview", ({ core, p }) => previewInvoice(core, p));

  router.post("/v1/invoices", ({ core, p }) => {
    const customer = core.customer(p.reqStr("customer"));
    const subscriptionId = p.str("subscription");
    const sub = subscriptionId ? core.subscription(subscriptionId, "subscription") : null;
    const now = core.clockNow(customer.test_clock);
    const pmParam = p.str("default_payment_method");
    const automatic = automaticTaxParam(p) ?? false;
    const defaultTaxRates = taxRatesParam(core, p, "default_tax_rates") ?? [];
    refuseRatesWithAutomaticTax(automatic, defaultTaxRates, "default_tax_rates");
    const inv = newInvoice(core, {
      customer: customer.id,
      subscription: sub,
      billing_reason: "manual",
      period_start: now,
      period_end: now,
      now,
      currency: p.str("currency")?.toLowerCase() ?? customer.currency ?? "usd",
      collection_method:
        p.oneOf("collection_method", ["charge_automatically", "send_invoice"] as const) ??
        "charge_automatically",
      days_until_due: p.int("days_until_due") ?? null,
      description: p.str("description") ?? null,
      metadata: p.metadata("metadata", {}),
      default_payment_method: pmParam
        ? resolveCustomerPaymentMethod(core, customer.id, pmParam, "default_payment_method").id
        : null,
      auto_advance: p.bool("auto_advance") ?? false,
      automatic_tax: automatic,
      default_tax_rates: defaultTaxRates,
    });
    if (p.oneOf("pending_invoice_items_behavior", ["include", "exclude"] as const) === "include") {
      pullPendingItems(
        core,
        inv,
        (ii) => sub === null || ii.subscription === null || ii.subscription === sub.id,
      );
    }
    emitInvoiceCreated(core, inv);
    return buildInvoice(core, inv);
  });

  router.get("/v1/invoices", ({ core, p, url }) => {
    const customer = p.str("customer");
    const subscription = p.str("subscription");
    const status = p.str("status");
    const collection = p.str("collection_method");
    const items = Object.values(core.state.invoices).filter(
      (inv) =>
        !inv.deleted &&
        (customer === undefined || inv.customer === customer) &&
        (subscription === undefined || inv.subscription === subscription) &&
        (status === undefined || inv.status === status) &&
        (collection === undefined || inv.collection_method === collection),
    );
    return paginate(items, p, url, (inv) => buildInvoice(core, inv));
  });

  router.get("/v1/invoices/search", () => {
    throw notSupported("Invoice search");
  });

  router.get("/v1/invoices/:id", ({ core, path }) =>
    buildInvoice(core, core.invoice(path.id ?? "", "invoice")),
  );

  router.get("/v1/invoices/:id/lines", ({ core, p, path, url }) => {
    const inv = core.invoice(path.id ?? "", "invoice");
    const lines = inv.lines.map((line, index) => ({ ...line, created: 0, seq: -index }));
    return paginate(lines, p, url, (line) => buildLine(core, inv, line));
  });

  router.post("/v1/invoices/:id", ({ core, p, path }) => {
    const inv = core.invoice(path.id ?? "", "invoice");
    const before = buildInvoice(core, inv);
    const draftOnly = [
      "default_payment_method",
      "collection_method",
      "days_until_due",
      "auto_advance",
      "automatic_tax",
      "default_tax_rates",
    ];
    if (inv.status !== "draft" && draftOnly.some((k) => p.has(k))) {
      throw invalidRequest(
        "Finalized invoices can't be updated in this way.",
        undefined,
        "invoice_not_editable",
      );
    }
    if (p.has("description")) inv.description = p.nullableStr("description") ?? null;
    if (p.has("auto_advance")) inv.auto_advance = p.bool("auto_advance") ?? inv.auto_advance;
    if (p.has("default_payment_method")) {
      const value = p.nullableStr("default_payment_method") ?? null;
      inv.default_payment_method = value
        ? resolveCustomerPaymentMethod(core, inv.customer, value, "default_payment_method").id
        : null;
    }
    const collection = p.oneOf("collection_method", ["charge_automatically", "send_invoice"] as const);
    if (collection) inv.collection_method = collection;
    const rates = taxRatesParam(core, p, "default_tax_rates");
    if (rates !== undefined) inv.default_tax_rates = rates;
    const automatic = automaticTaxParam(p);
    if (automatic !== undefined) inv.automatic_tax = automatic;
    refuseRatesWithAutomaticTax(inv.automatic_tax ?? false, inv.default_tax_rates, "default_tax_rates");
    inv.metadata = p.metadata("metadata", inv.metadata);
    core.emitUpdate("invoice.updated", before, buildInvoice(core, inv));
    return buildInvoice(core, inv);
  });

  router.del("/v1/invoices/:id", ({ core, path }) => {
    const inv = core.invoice(path.id ?? "", "invoice");
    if (inv.status !== "draft")
      throw invalidRequest("You can only delete draft invoices.", undefined, "invoice_not_editable");
    for (const line of inv.lines) {
      const ii = line.invoice_item ? core.state.invoiceItems[line.invoice_item] : undefined;
      if (ii) ii.invoice = null;
    }
    const snapshot = buildInvoice(core, inv);
    inv.deleted = true;
    core.emit("invoice.deleted", snapshot);
    return { id: inv.id, object: "invoice", deleted: true } satisfies Stripe.DeletedInvoice;
  });

  router.post("/v1/invoices/:id/finalize", ({ core, p, path }) => {
    const inv = core.invoice(path.id ?? "", "invoice");
    if (inv.status !== "draft")
      throw invalidRequest("This invoice is already finalized.", undefined, "invoice_not_editable");
    if (p.has("auto_advance")) inv.auto_advance = p.bool("auto_advance") ?? inv.auto_advance;
    finalizeInvoice(core, inv, core.clockNow(inv.test_clock), true);
    return buildInvoice(core, inv);
  });

  router.post("/v1/invoices/:id/pay", ({ core, p, path }) => {
    const inv = core.invoice(path.id ?? "", "invoice");
    payInvoice(core, inv, p);
    return buildInvoice(core, inv);
  });

  router.post("/v1/invoices/:id/void", ({ core, path }) => {
    const inv = core.invoice(path.id ?? "", "invoice");
    if (inv.status !== "open" && inv.status !== "uncollectible") {
      throw invalidRequest(`You can only void open or uncollectible invoices (this one is ${inv.status}).`);
    }
    voidInvoice(core, inv, core.clockNow(inv.test_clock));
    return buildInvoice(core, inv);
  });

  router.post("/v1/invoices/:id/mark_uncollectible", ({ core, path }) => {
    const inv = core.invoice(path.id ?? "", "invoice");
    if (inv.status !== "open") throw invalidRequest("You can only mark open invoices as uncollectible.");
    markUncollectible(core, inv, core.clockNow(inv.test_clock), "user_forgiven");
    return buildInvoice(core, inv);
  });

  router.post("/v1/invoices/:id/send", ({ core, path }) => {
    const inv = core.invoice(path.id ?? "", "invoice");
    if (inv.status !== "open") throw invalidRequest("You can only send open invoices.");
    core.emit("invoice.sent", buildInvoice(core, inv));
    return buildInvoice(core, inv);
  });
}
