import type Stripe from "stripe";
import {
  attemptInvoicePayment,
  declineError,
  emitInvoiceCreated,
  finalizeInvoice,
  invoiceTotal,
  markInvoicePaid,
  markUncollectible,
  newInvoice,
  projectedAmounts,
  pullPendingItems,
  voidInvoice,
} from "../billing/invoices.ts";
import {
  createSubscriptionFromParams,
  currentPeriod,
  renewSubscription,
  updateSubscription,
} from "../billing/subscriptions.ts";
import { CommitThenThrow, type EmulatorCore, embeddedList, paginate } from "../core.ts";
import { ApiError, invalidRequest, missingParam, notSupported } from "../errors.ts";
import { randomToken } from "../ids.ts";
import { Params } from "../params.ts";
import type { Router } from "../router.ts";
import type { InvoiceRec, LineRec } from "../state.ts";
import { buildInvoicePayment } from "./paymentIntents.ts";
import { resolveCustomerPaymentMethod } from "./paymentMethods.ts";
import { decimal } from "./prices.ts";

export function buildLine(core: EmulatorCore, inv: InvoiceRec, line: LineRec): Stripe.InvoiceLineItem {
  const price = line.price ? core.state.prices[line.price] : undefined;
  const unit =
    price && !line.proration ? price.unit_amount : line.quantity ? line.amount / line.quantity : line.amount;
  return {
    id: line.id,
    object: "line_item",
    amount: line.amount,
    currency: line.currency,
    description: line.description,
    discount_amounts: [],
    discountable: true,
    discounts: [],
    invoice: inv.id,
    livemode: false,
    metadata: line.metadata,
    parent:
      line.kind === "invoice_item"
        ? {
            invoice_item_details: {
              invoice_item: line.invoice_item ?? "",
              proration: line.proration,
              proration_details: {
                credited_items:
                  (line.invoice_item && core.state.invoiceItems[line.invoice_item]?.credited_items) || null,
              },
              subscription: line.subscription,
            },
            subscription_item_details: null,
            type: "invoice_item_details",
          }
        : {
            invoice_item_details: null,
            subscription_item_details: {
              invoice_item: null,
              proration: line.proration,
              proration_details: { credited_items: null },
              subscription: line.subscription,
              subscription_item: line.subscription_item ?? "",
            },
            type: "subscription_item_details",
          },
    period: { end: line.period.end, start: line.period.start },
    pretax_credit_amounts: [],
    pricing: {
      ...(price ? { price_details: { price: price.id, product: price.product } } : {}),
      type: "price_details",
      unit_amount_decimal: decimal(unit),
    },
    quantity: line.quantity,
    quantity_decimal: line.quantity === null ? null : decimal(line.quantity),
    subscription: line.subscription,
    subtotal: line.amount,
    taxes: [],
  };
}

export function buildInvoice(core: EmulatorCore, rec: InvoiceRec): Stripe.Invoice {
  const total = invoiceTotal(rec);
  const amounts = projectedAmounts(core, rec);
  const customer = core.state.customers[rec.customer];
  const sub = rec.subscription ? core.state.subscriptions[rec.subscription] : undefined;
  const finalized = rec.status !== "draft";
  const remaining =
    rec.status === "paid" || rec.status === "void" ? 0 : Math.max(0, amounts.due - rec.amount_paid);
  return {
    id: rec.id,
    object: "invoice",
    account_country: "US",
    account_name: "Minutely (Stripe emulator)",
    account_tax_ids: null,
    amount_due: amounts.due,
    amount_overpaid: 0,
    amount_paid: rec.amount_paid,
    amount_remaining: remaining,
    amount_shipping: 0,
    application: null,
    attempt_count: rec.attempt_count,
    attempted: rec.attempted,
    auto_advance: rec.auto_advance,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: rec.status === "draft" && rec.auto_advance ? rec.created + 3600 : null,
    billing_reason: rec.billing_reason,
    collection_method: rec.collection_method,
    created: rec.created,
    currency: rec.currency,
    custom_fields: null,
    customer: rec.customer,
    customer_account: null,
    customer_address: customer?.address ?? null,
    customer_email: rec.customer_email,
    customer_name: rec.customer_name,
    customer_phone: customer?.phone ?? null,
    customer_shipping: null,
    customer_tax_exempt: "none",
    customer_tax_ids: [],
    default_payment_method: rec.default_payment_method,
    default_source: null,
    default_tax_rates: [],
    description: rec.description,
    discounts: [],
    due_date: rec.due_date,
    effective_at: rec.finalized_at,
    ending_balance: finalized ? rec.ending_balance : null,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: finalized ? `${core.baseUrl}/invoices/${rec.id}` : null,
    invoice_pdf: finalized ? `${core.baseUrl}/invoices/${rec.id}/pdf` : null,
    issuer: { type: "self" },
    last_finalization_error: null,
    latest_revision: null,
    lines: embeddedList(
      rec.lines.map((line) => buildLine(core, rec, line)),
      `/v1/invoices/${rec.id}/lines`,
    ),
    livemode: false,
    metadata: rec.metadata,
    next_payment_attempt: rec.next_payment_attempt,
    number: rec.number,
    on_behalf_of: null,
    parent: rec.subscription
      ? {
          quote_details: null,
          subscription_details: {
            metadata: sub?.metadata ?? null,
            subscription: rec.subscription,
            ...(rec.subscription_proration_date !== null
              ? { subscription_proration_date: rec.subscription_proration_date }
              : {}),
          },
          type: "subscription_details",
        }
      : null,
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: rec.period_end,
    period_start: rec.period_start,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: amounts.starting,
    statement_descriptor: null,
    status: rec.status,
    ...(rec.status === "uncollectible" && rec.uncollectible_reason
      ? { status_details: { uncollectible: { reason: rec.uncollectible_reason } } }
      : {}),
    status_transitions: {
      finalized_at: rec.finalized_at,
      marked_uncollectible_at: rec.marked_uncollectible_at,
      paid_at: rec.paid_at,
      voided_at: rec.voided_at,
    },
    subtotal: total,
    subtotal_excluding_tax: total,
    test_clock: rec.test_clock,
    total,
    total_discount_amounts: [],
    total_excluding_tax: total,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: finalized ? rec.created : null,
  };
}

/** Fields Stripe only returns when expanded. */
export function invoiceIncludable(core: EmulatorCore, invoiceId: string, key: string): unknown {
  const rec = core.state.invoices[invoiceId];
  if (!rec) return undefined;
  if (key === "payments") {
    const payments = Object.values(core.state.invoicePayments).filter((ip) => ip.invoice === rec.id);
    return embeddedList(payments.map(buildInvoicePayment), `/v1/invoice_payments?invoice=${rec.id}`);
  }
  if (key === "confirmation_secret") {
    const pi = rec.payment_intent ? core.state.paymentIntents[rec.payment_intent] : undefined;
    return pi && rec.status === "open" ? { client_secret: pi.client_secret, type: "payment_intent" } : null;
  }
  return undefined;
}

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
      if (inv.lines.length === 0) throw NO_UPCOMING(`No upcoming invoices for customer: ${customer.id}`);
    } else {
      throw missingParam("customer");
    }
    inv.id = `upcoming_in_${randomToken(24)}`;
    inv.billing_reason = inv.billing_reason === "subscription_cycle" ? "upcoming" : inv.billing_reason;
    return buildInvoice(core, inv);
  });
}

function payInvoice(core: EmulatorCore, inv: InvoiceRec, p: Params): void {
  const now = core.clockNow(inv.test_clock);
  if (inv.status === "paid")
    throw invalidRequest("Invoice is already paid", undefined, "invoice_payment_intent_requires_action");
  if (inv.status === "void") throw invalidRequest("This invoice is void and cannot be paid.");
  if (inv.status === "draft") finalizeInvoice(core, inv, now);
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
    const draftOnly = ["default_payment_method", "collection_method", "days_until_due", "auto_advance"];
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
    finalizeInvoice(core, inv, core.clockNow(inv.test_clock));
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
