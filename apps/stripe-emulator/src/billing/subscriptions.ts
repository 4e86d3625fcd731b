import type { EmulatorCore } from "../core.ts";
import { ApiError, invalidRequest, missingParam, notSupported } from "../errors.ts";
import { newId } from "../ids.ts";
import { buildInvoiceItem } from "../objects/invoiceItems.ts";
import { buildInvoice, projectedAmounts } from "../objects/invoices.ts";
import { checkedPriceAmount, hasCurrency, priceAmount } from "../objects/prices.ts";
import { buildSubscription, currentPeriod } from "../objects/subscriptions.ts";
import { Params } from "../params.ts";
import type {
  CustomerRec,
  InvoiceItemRec,
  InvoiceRec,
  LineRec,
  Metadata,
  PriceRec,
  SubscriptionItemRec,
  SubscriptionRec,
} from "../state.ts";
import { createPrice } from "./catalog.ts";
import { expireSubscriptionDiscounts, redeemDiscounts, removeDiscount } from "./discounts.ts";
import { endSubscription } from "./dunning.ts";
import {
  addSubscriptionLine,
  attemptInvoicePayment,
  declineError,
  emitInvoiceCreated,
  finalizeAutomatically,
  finalizeInvoice,
  newInvoice,
  paymentMethodFor,
  planDescription,
  productName,
  pullPendingItems,
  voidInvoice,
} from "./invoices.ts";
import { meterUsage } from "./meters.ts";
import { resolveCustomerPaymentMethod } from "./payments.ts";
import { boundary, nextBoundaryAfter } from "./periods.ts";
import { prorate } from "./proration.ts";
import {
  automaticTaxParam,
  hasTaxLocation,
  refuseRatesWithAutomaticTax,
  taxLocationError,
  taxRatesParam,
} from "./tax.ts";

export type ProrationBehavior = "always_invoice" | "create_prorations" | "none";
export type PaymentBehavior =
  | "allow_incomplete"
  | "default_incomplete"
  | "error_if_incomplete"
  | "pending_if_incomplete";

const PRORATION_BEHAVIORS = ["always_invoice", "create_prorations", "none"] as const;
const PAYMENT_BEHAVIORS = [
  "allow_incomplete",
  "default_incomplete",
  "error_if_incomplete",
  "pending_if_incomplete",
] as const;

export interface ItemSpec {
  price: PriceRec;
  quantity: number;
  metadata: Metadata;
  /** The item's own `tax_rates` (absent: the subscription's `default_tax_rates`). */
  tax_rates?: string[] | null;
}

const NO_PM_MESSAGE =
  "This customer has no attached payment source or default payment method. Please consider adding a default payment method. For more information, visit https://docs.stripe.com/billing/subscriptions/payment-methods-setting#payment-method-priority.";

function formatDate(t: number): string {
  return new Date(t * 1000).toLocaleDateString("en-GB", {
    day: "numeric",
    month: "short",
    year: "numeric",
    timeZone: "UTC",
  });
}

/** Runs a composite change and emits exactly one subscription event for it (placed before its side events). */
export function withSubscriptionEvent<T>(
  core: EmulatorCore,
  sub: SubscriptionRec,
  type: "customer.subscription.created" | "customer.subscription.updated",
  fn: () => T,
): T {
  const before = buildSubscription(core, sub);
  const mark = core.eventMark();
  const alreadyQuiet = core.quietSubscriptions.has(sub.id);
  core.quietSubscriptions.add(sub.id);
  let result: T;
  try {
    result = fn();
  } finally {
    if (!alreadyQuiet) core.quietSubscriptions.delete(sub.id);
  }
  if (alreadyQuiet) return result;
  const current = core.state.subscriptions[sub.id];
  if (!current) return result;
  const after = buildSubscription(core, current);
  if (type === "customer.subscription.created") {
    core.emit(type, after, undefined, { at: mark });
  } else if (JSON.stringify(before) !== JSON.stringify(after)) {
    core.emit(type, after, diff(before, after), { at: mark });
  }
  return result;
}

function diff(before: object, after: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const b = before as Record<string, unknown>;
  for (const [key, value] of Object.entries(after)) {
    if (JSON.stringify(b[key]) !== JSON.stringify(value)) out[key] = b[key] ?? null;
  }
  return out;
}

export function subscriptionInterval(
  core: EmulatorCore,
  sub: SubscriptionRec,
): { interval: PriceRec["recurring"] & object } {
  const first = sub.items[0];
  const price = first ? core.state.prices[first.price] : undefined;
  if (!price?.recurring)
    throw new ApiError(500, { type: "api_error", message: `Subscription ${sub.id} has no recurring item.` });
  return { interval: price.recurring };
}

// ---- item parsing ------------------------------------------------------------------------------------

function priceFromItemParams(core: EmulatorCore, item: Params, index: number, param: string): PriceRec {
  const priceId = item.str("price") ?? item.str("plan");
  if (priceId) return core.price(priceId, `${param}[${index}][price]`);
  const data = item.obj("price_data");
  if (!data) throw missingParam(`${param}[${index}][price]`);
  return createPrice(core, new Params({ ...data.raw, active: "false" }, `${param}[${index}][price_data]`));
}

/**
 * The currency a new subscription bills in: the `currency` asked for, else the customer's when every
 * price has it (its own or in `currency_options`), else the first price's.
 */
export function subscriptionCurrency(
  prices: PriceRec[],
  requested: string | undefined,
  customerCurrency: string | null,
): string | undefined {
  if (requested !== undefined) return requested.toLowerCase();
  if (customerCurrency !== null && prices.every((price) => hasCurrency(price, customerCurrency)))
    return customerCurrency;
  return prices[0]?.currency;
}

export function validatePrices(prices: PriceRec[], param: string, currency?: string): void {
  const first = prices[0];
  if (!first) throw invalidRequest("Missing required param: items.", param, "parameter_missing");
  for (const [index, price] of prices.entries()) {
    if (currency !== undefined && !hasCurrency(price, currency)) {
      throw invalidRequest(
        `The price \`${price.id}\` does not support the currency \`${currency}\`: add it to the price's \`currency_options\`.`,
        `${param}[${index}][price]`,
      );
    }
    if (!price.recurring) {
      throw invalidRequest(
        `The price specified is set to \`type=one_time\` but this field only accepts prices with \`type=recurring\`.`,
        param,
      );
    }
    if (currency === undefined && price.currency !== first.currency) {
      throw invalidRequest("All prices on a subscription must have the same `currency`.", param);
    }
    if (
      price.recurring.interval !== first.recurring?.interval ||
      price.recurring.interval_count !== first.recurring.interval_count
    ) {
      throw invalidRequest(
        "The Stripe emulator requires all prices on a subscription to share one billing interval.",
        param,
      );
    }
  }
}

export function parseCreateItems(
  core: EmulatorCore,
  list: Params[] | undefined,
  param = "items",
  currency?: (prices: PriceRec[]) => string | undefined,
): ItemSpec[] {
  if (!list || list.length === 0) throw missingParam(param);
  const specs = list.map((item, index) => {
    const price = priceFromItemParams(core, item, index, param);
    if (!price.active && item.has("price")) {
      throw invalidRequest(
        "The price specified is inactive. This field only accepts active prices.",
        `${param}[${index}][price]`,
      );
    }
    const taxRates = item.declares("tax_rates")
      ? taxRatesParam(core, item, "tax_rates", `${param}[${index}][tax_rates]`)
      : undefined;
    return {
      price,
      quantity: item.int("quantity") ?? 1,
      metadata: item.metadata("metadata", {}),
      ...(taxRates && taxRates.length > 0 ? { tax_rates: taxRates } : {}),
    };
  });
  const prices = specs.map((s) => s.price);
  const billed = currency?.(prices);
  validatePrices(prices, param, billed);
  specs.forEach((spec, index) => {
    checkedPriceAmount(
      spec.price,
      spec.quantity,
      billed ?? spec.price.currency,
      `${param}[${index}][quantity]`,
    );
  });
  return specs;
}

// ---- create ------------------------------------------------------------------------------------------

export interface StartArgs {
  customer: CustomerRec;
  items: ItemSpec[];
  /** Billing currency (default: the first price's); every price must have it (`currency_options`). */
  currency?: string;
  now: number;
  defaultPaymentMethod: string | null;
  paymentBehavior: Exclude<PaymentBehavior, "pending_if_incomplete">;
  metadata: Metadata;
  description: string | null;
  collectionMethod: "charge_automatically" | "send_invoice";
  daysUntilDue: number | null;
  trialEnd: number | null;
  trialMissingPm: SubscriptionRec["trial_missing_pm_behavior"];
  billingCycleAnchor: number | null;
  prorationBehavior: ProrationBehavior;
  cancelAtPeriodEnd: boolean;
  cancelAt: number | null;
  schedule: string | null;
  preview: boolean;
  /** The payer completed 3-D Secure on session (hosted checkout), so the first charge may go through. */
  authenticated?: boolean;
  /** `discounts[]` to redeem onto the subscription (`param` names them in errors). */
  discounts?: { list: Params[]; param: string; checkoutSession?: string };
  /** `default_tax_rates` (tax rate ids) and `automatic_tax[enabled]`. */
  defaultTaxRates?: string[];
  automaticTax?: boolean;
}

/** Creates a subscription and its first invoice, and charges it per `payment_behavior`. */
/** A customer's currency is fixed by its first purchase; another one is Stripe's 400 on `currency`. */
export function refuseOtherCurrency(customer: CustomerRec, currency: string): void {
  if (customer.currency !== null && customer.currency !== currency) {
    throw invalidRequest(
      `You cannot combine currencies on a single customer. This customer has an active subscription, subscription schedule, discount, quote, or invoice item with currency ${customer.currency}.`,
      "currency",
    );
  }
}

export function startSubscription(
  core: EmulatorCore,
  args: StartArgs,
): { sub: SubscriptionRec; invoice: InvoiceRec } {
  const { customer, now } = args;
  const firstPrice = args.items[0]?.price;
  if (!firstPrice?.recurring) throw missingParam("items");
  const recurring = firstPrice.recurring;
  const currency = args.currency ?? firstPrice.currency;
  refuseOtherCurrency(customer, currency);
  validatePrices(
    args.items.map((item) => item.price),
    "items",
    currency,
  );
  if (args.automaticTax) {
    refuseRatesWithAutomaticTax(true, args.defaultTaxRates, "default_tax_rates");
    args.items.forEach((item, index) => {
      refuseRatesWithAutomaticTax(true, item.tax_rates ?? undefined, `items[${index}][tax_rates]`);
    });
    if (!hasTaxLocation(customer)) throw taxLocationError();
  }
  customer.currency = currency;

  const trialEnd = args.trialEnd !== null && args.trialEnd > now ? args.trialEnd : null;
  const anchor = args.billingCycleAnchor ?? trialEnd ?? now;
  if (anchor < now)
    throw invalidRequest("billing_cycle_anchor cannot be in the past.", "billing_cycle_anchor");
  const periodEnd = anchor > now ? anchor : boundary(anchor, recurring.interval, recurring.interval_count, 1);

  const sub: SubscriptionRec = {
    id: newId("sub"),
    seq: core.nextSeq(),
    created: now,
    customer: customer.id,
    status: "incomplete",
    items: [],
    currency,
    billing_cycle_anchor: anchor,
    start_date: now,
    cancel_at: args.cancelAt,
    cancel_at_period_end: args.cancelAtPeriodEnd,
    canceled_at: args.cancelAtPeriodEnd || args.cancelAt !== null ? now : null,
    ended_at: null,
    cancellation_details: {
      comment: null,
      feedback: null,
      reason: args.cancelAtPeriodEnd || args.cancelAt !== null ? "cancellation_requested" : null,
    },
    default_payment_method: args.defaultPaymentMethod,
    latest_invoice: null,
    schedule: args.schedule,
    metadata: args.metadata,
    description: args.description,
    collection_method: args.collectionMethod,
    days_until_due: args.daysUntilDue,
    trial_start: trialEnd !== null ? now : null,
    trial_end: trialEnd,
    trial_missing_pm_behavior: args.trialMissingPm,
    trial_will_end_sent: false,
    test_clock: customer.test_clock,
    failed_attempts: 0,
    default_tax_rates: args.defaultTaxRates ?? [],
    automatic_tax: args.automaticTax ?? false,
  };
  if (args.cancelAtPeriodEnd) sub.cancel_at = periodEnd;
  core.state.subscriptions[sub.id] = sub;
  for (const spec of args.items) {
    sub.items.push({
      id: newId("si", 14),
      created: now,
      price: spec.price.id,
      quantity: spec.quantity,
      metadata: spec.metadata,
      current_period_start: now,
      current_period_end: periodEnd,
      ...(spec.tax_rates ? { tax_rates: spec.tax_rates } : {}),
    });
  }

  return withSubscriptionEvent(core, sub, "customer.subscription.created", () => {
    if (args.discounts && args.discounts.list.length > 0) {
      sub.discounts = redeemDiscounts(
        core,
        args.discounts.list,
        args.discounts.param,
        { subscription: sub.id, checkout_session: args.discounts.checkoutSession ?? null },
        {
          customer: customer.id,
          now,
          currency,
          products: args.items.map((item) => item.price.product),
          amount: args.items.reduce((sum, item) => sum + priceAmount(item.price, item.quantity, currency), 0),
        },
      );
    }
    const invoice = newInvoice(core, {
      customer: customer.id,
      subscription: sub,
      billing_reason: "subscription_create",
      period_start: now,
      period_end: now,
      now,
      currency: sub.currency,
    });
    sub.latest_invoice = invoice.id;
    pullPendingItems(core, invoice, (item) => item.subscription === null);
    for (const item of sub.items) {
      const price = core.price(item.price);
      const full = priceAmount(price, item.quantity, sub.currency);
      const metered = price.recurring?.usage_type === "metered";
      let amount = metered ? 0 : full;
      let description = planDescription(core, price, item.quantity, sub.currency);
      if (trialEnd !== null) {
        amount = 0;
        description = `Trial period for ${productName(core, price)}`;
      } else if (anchor > now && !metered) {
        const fullStart = boundary(anchor, recurring.interval, recurring.interval_count, -1);
        amount = args.prorationBehavior === "none" ? 0 : prorate(full, fullStart, anchor, now);
        description = `Remaining time on ${item.quantity} × ${productName(core, price)} after ${formatDate(now)}`;
      }
      addSubscriptionLine(
        invoice,
        sub,
        item,
        price,
        amount,
        metered ? 0 : item.quantity,
        { start: now, end: periodEnd },
        description,
      );
    }
    if (args.preview) return { sub, invoice };

    const due = projectedAmounts(core, invoice).due;
    const pm = args.defaultPaymentMethod ?? customer.default_payment_method;
    if (
      due > 0 &&
      pm === null &&
      sub.collection_method === "charge_automatically" &&
      args.paymentBehavior !== "default_incomplete"
    ) {
      throw invalidRequest(NO_PM_MESSAGE, undefined, "resource_missing");
    }
    emitInvoiceCreated(core, invoice);
    finalizeInvoice(core, invoice, now);
    if (invoice.status === "paid") {
      sub.status = trialEnd !== null ? "trialing" : "active";
      return { sub, invoice };
    }
    if (sub.collection_method === "send_invoice") {
      sub.status = trialEnd !== null ? "trialing" : "active";
      return { sub, invoice };
    }
    if (args.paymentBehavior === "default_incomplete") return { sub, invoice };
    const attempt = attemptInvoicePayment(core, invoice, now, {
      automatic: false,
      authenticated: args.authenticated ?? false,
    });
    if (attempt.ok) {
      sub.status = trialEnd !== null ? "trialing" : "active";
    } else if (args.paymentBehavior === "error_if_incomplete") {
      throw declineError(core, attempt);
    }
    return { sub, invoice };
  });
}

/** Stripe's longest trial. */
export const MAX_TRIAL_DAYS = 730;

/**
 * A `trial_end` timestamp must be in the future (`now` is the way to end a trial at once) and at most
 * `MAX_TRIAL_DAYS` ahead; `minimumAhead` seconds ahead at least (Checkout: 48 hours).
 */
export function checkTrialEnd(trialEnd: number, now: number, param: string, minimumAhead = 1): void {
  if (trialEnd < now + minimumAhead) {
    throw invalidRequest(
      minimumAhead > 1
        ? `Invalid timestamp: must be at least ${minimumAhead / 3600} hours in the future.`
        : "Invalid timestamp: must be an integer Unix timestamp in the future.",
      param,
    );
  }
  if (trialEnd > now + MAX_TRIAL_DAYS * 86_400) {
    throw invalidRequest(
      `Invalid timestamp: can be no more than ${MAX_TRIAL_DAYS} days in the future.`,
      param,
    );
  }
}

function readTrialEnd(p: Params, now: number, items: ItemSpec[]): number | null {
  if (p.raw.trial_end === "now") return null;
  const trialEnd = p.int("trial_end");
  if (trialEnd !== undefined) {
    checkTrialEnd(trialEnd, now, "trial_end");
    return trialEnd;
  }
  const days = p.int("trial_period_days");
  if (days !== undefined && days > 0) return now + days * 86_400;
  if (p.bool("trial_from_plan")) {
    const planDays = items[0]?.price.recurring?.trial_period_days;
    if (planDays) return now + planDays * 86_400;
  }
  return null;
}

export function createSubscriptionFromParams(
  core: EmulatorCore,
  p: Params,
  preview = false,
): { sub: SubscriptionRec; invoice: InvoiceRec } {
  const customer = core.customer(p.reqStr("customer"));
  const now = core.clockNow(customer.test_clock);
  const requestedCurrency = p.str("currency");
  const items = parseCreateItems(core, p.list("items"), "items", (prices) =>
    subscriptionCurrency(prices, requestedCurrency, customer.currency),
  );
  const currency = subscriptionCurrency(
    items.map((item) => item.price),
    requestedCurrency,
    customer.currency,
  );
  const behavior = p.oneOf("payment_behavior", PAYMENT_BEHAVIORS) ?? "allow_incomplete";
  if (behavior === "pending_if_incomplete") {
    throw invalidRequest(
      "payment_behavior=pending_if_incomplete is only supported when updating subscriptions.",
      "payment_behavior",
    );
  }
  const pmParam = p.str("default_payment_method");
  const pm = pmParam
    ? resolveCustomerPaymentMethod(core, customer.id, pmParam, "default_payment_method").id
    : null;
  const trialSettings = p.obj("trial_settings")?.obj("end_behavior");
  const cancelAtRaw = p.raw.cancel_at;
  if (cancelAtRaw !== undefined && typeof cancelAtRaw !== "string") {
    throw notSupported("cancel_at with a non-timestamp value");
  }
  return startSubscription(core, {
    customer,
    items,
    ...(currency !== undefined ? { currency } : {}),
    now,
    defaultPaymentMethod: pm,
    paymentBehavior: behavior,
    metadata: p.metadata("metadata", {}),
    description: p.str("description") ?? null,
    collectionMethod:
      p.oneOf("collection_method", ["charge_automatically", "send_invoice"] as const) ??
      "charge_automatically",
    daysUntilDue: p.int("days_until_due") ?? null,
    trialEnd: readTrialEnd(p, now, items),
    trialMissingPm:
      trialSettings?.oneOf("missing_payment_method", ["cancel", "create_invoice", "pause"] as const) ??
      "create_invoice",
    billingCycleAnchor: p.int("billing_cycle_anchor") ?? null,
    prorationBehavior: p.oneOf("proration_behavior", PRORATION_BEHAVIORS) ?? "create_prorations",
    cancelAtPeriodEnd: p.bool("cancel_at_period_end") ?? false,
    cancelAt: p.int("cancel_at") ?? null,
    schedule: null,
    preview,
    discounts: { list: p.list("discounts") ?? [], param: "discounts" },
    ...taxArgs(core, p),
  });
}

/** `default_tax_rates` and `automatic_tax` of a create request (or a preview's `subscription_details`). */
function taxArgs(core: EmulatorCore, p: Params): Pick<StartArgs, "defaultTaxRates" | "automaticTax"> {
  const rates = p.declares("default_tax_rates") ? taxRatesParam(core, p, "default_tax_rates") : undefined;
  const automatic = p.declares("automatic_tax") ? automaticTaxParam(p) : undefined;
  return {
    ...(rates !== undefined ? { defaultTaxRates: rates } : {}),
    ...(automatic !== undefined ? { automaticTax: automatic } : {}),
  };
}

// ---- item changes & prorations -----------------------------------------------------------------------

export interface ItemChange {
  /** Existing item, or null for a new one. */
  item: SubscriptionItemRec | null;
  /** New price; null deletes the item. */
  price: PriceRec | null;
  quantity: number;
  metadata: Metadata | null;
  /** New `tax_rates` of the item (`[]` removes them); undefined keeps them. */
  taxRates?: string[];
}

/**
 * The invoice, and its lines, that last charged the subscription item for the time around `t` (the latest
 * finalized one whose line period covers `t`): Stripe's `proration_details.credited_items` of a credit.
 */
function lastDebit(
  core: EmulatorCore,
  sub: SubscriptionRec,
  itemId: string,
  t: number,
): { inv: InvoiceRec; lines: LineRec[] } | undefined {
  return Object.values(core.state.invoices)
    .filter(
      (inv) => inv.subscription === sub.id && !inv.deleted && inv.status !== "draft" && inv.status !== "void",
    )
    .sort((a, b) => b.seq - a.seq)
    .map((inv) => ({
      inv,
      lines: inv.lines.filter(
        (line) =>
          line.subscription_item === itemId &&
          line.amount > 0 &&
          line.period.start <= t &&
          t < line.period.end,
      ),
    }))
    .find((found) => found.lines.length > 0);
}

function creditedItems(
  core: EmulatorCore,
  sub: SubscriptionRec,
  itemId: string,
  t: number,
): { invoice: string; invoice_line_items: string[] } | null {
  const charged = lastDebit(core, sub, itemId, t);
  return charged
    ? { invoice: charged.inv.id, invoice_line_items: charged.lines.map((line) => line.id) }
    : null;
}

/** `amount × (100 − p) / 100`, rounded half away from zero (so a credit is the mirror of a charge). */
function percentLeft(amount: number, percentOff: number): number {
  const off = Math.round((Math.abs(amount) * percentOff) / 100);
  return amount < 0 ? amount + off : amount - off;
}

/**
 * Flexible billing mode (`proration_discounts: included`): a proration is discounted by the subscription's
 * discounts in effect at `t` that apply to the price — `percent_off` coupons that are not `once`, one after
 * another. `amount_off` coupons (a fixed sum per invoice) and `once` coupons (for one invoice) leave
 * prorations alone.
 */
function discountedProration(
  core: EmulatorCore,
  sub: SubscriptionRec,
  price: PriceRec,
  amount: number,
  t: number,
): number {
  let left = amount;
  for (const id of sub.discounts ?? []) {
    const discount = core.state.discounts[id];
    if (!discount || discount.deleted || (discount.end !== null && t >= discount.end)) continue;
    const coupon = core.state.coupons[discount.coupon];
    if (!coupon || coupon.percent_off === null || coupon.duration === "once") continue;
    if (coupon.applies_to_products && !coupon.applies_to_products.includes(price.product)) continue;
    left = percentLeft(left, coupon.percent_off);
  }
  return left;
}

/** A proration charge for `amount` (the full-period amount) from `t` to the period end, discounted. */
function prorationCharge(
  core: EmulatorCore,
  sub: SubscriptionRec,
  price: PriceRec,
  amount: number,
  period: { start: number; end: number },
  t: number,
): number {
  return discountedProration(core, sub, price, prorate(amount, period.start, period.end, t), t);
}

/**
 * The credit (negative) for the unused time from `t` of a subscription item, as flexible billing mode
 * computes it: from what was last debited for it (the line's amount after its discounts, over that line's
 * period; its tax follows from the credit's tax rates). When no finalized invoice charged this very price and
 * quantity for the period (a pending proration, a change made with `proration_behavior: none`), from the
 * price discounted as a charge would be.
 */
function prorationCredit(
  core: EmulatorCore,
  sub: SubscriptionRec,
  item: { id: string; quantity: number },
  price: PriceRec,
  period: { start: number; end: number },
  t: number,
): number {
  const debit = lastDebit(core, sub, item.id, t);
  const line = debit?.lines.length === 1 ? debit.lines[0] : undefined;
  if (line && line.price === price.id && line.quantity === item.quantity && line.period.end === period.end) {
    const net = line.amount - (line.discount_amounts ?? []).reduce((sum, d) => sum + d.amount, 0);
    return 0 - prorate(net, line.period.start, line.period.end, t);
  }
  return 0 - prorationCharge(core, sub, price, priceAmount(price, item.quantity, sub.currency), period, t);
}

function prorationItem(
  core: EmulatorCore,
  sub: SubscriptionRec,
  itemId: string,
  price: PriceRec,
  quantity: number,
  amount: number,
  period: { start: number; end: number },
  description: string,
  now: number,
  taxRates: string[] | null | undefined = sub.items.find((i) => i.id === itemId)?.tax_rates,
): InvoiceItemRec {
  const rec: InvoiceItemRec = {
    id: newId("ii"),
    seq: core.nextSeq(),
    created: now,
    customer: sub.customer,
    amount,
    currency: sub.currency,
    description,
    date: now,
    invoice: null,
    period,
    price: price.id,
    quantity,
    proration: true,
    subscription: sub.id,
    subscription_item: itemId,
    metadata: {},
    discountable: false,
    test_clock: sub.test_clock,
    deleted: false,
    credited_items: amount < 0 ? creditedItems(core, sub, itemId, period.start) : null,
    tax_rates: taxRates && taxRates.length > 0 ? taxRates : null,
  };
  core.state.invoiceItems[rec.id] = rec;
  core.emit("invoiceitem.created", buildInvoiceItem(core, rec));
  return rec;
}

/**
 * Applies item changes at time `t`, creating proration invoice items per second of the period
 * (see `billing/proration.ts`). Returns the invoice when one must be issued now.
 */
export function applyItemChanges(
  core: EmulatorCore,
  sub: SubscriptionRec,
  changes: ItemChange[],
  opts: { prorationBehavior: ProrationBehavior; t: number; now: number; resetAnchor: boolean },
): InvoiceRec | null {
  const { start, end } = currentPeriod(sub);
  const { t, now } = opts;
  const prorate_ = opts.prorationBehavior !== "none";
  const label = formatDate(t);
  const newItemIds = new Map<ItemChange, string>();
  for (const change of changes) {
    if (!change.item && change.price) newItemIds.set(change, newId("si", 14));
  }

  if (opts.resetAnchor) {
    if (prorate_) {
      for (const item of sub.items) {
        const price = core.price(item.price);
        if (price.recurring?.usage_type === "metered") continue;
        const credit = prorationCredit(core, sub, item, price, { start, end }, t);
        if (credit !== 0) {
          prorationItem(
            core,
            sub,
            item.id,
            price,
            item.quantity,
            credit,
            { start: t, end },
            `Unused time on ${item.quantity} × ${productName(core, price)} after ${label}`,
            now,
          );
        }
      }
    }
  } else if (prorate_) {
    for (const change of changes) {
      const oldPrice = change.item ? core.price(change.item.price) : null;
      const oldQty = change.item?.quantity ?? 0;
      const oldAmount =
        oldPrice && oldPrice.recurring?.usage_type !== "metered"
          ? priceAmount(oldPrice, oldQty, sub.currency)
          : 0;
      const newAmount =
        change.price && change.price.recurring?.usage_type !== "metered"
          ? priceAmount(change.price, change.quantity, sub.currency)
          : 0;
      const samePrice = oldPrice !== null && change.price !== null && oldPrice.id === change.price.id;
      if (samePrice && oldQty === change.quantity) continue;
      const itemId = change.item?.id ?? newItemIds.get(change) ?? "";
      if (oldPrice && oldAmount !== 0) {
        const credit = change.item ? prorationCredit(core, sub, change.item, oldPrice, { start, end }, t) : 0;
        if (credit !== 0) {
          prorationItem(
            core,
            sub,
            itemId,
            oldPrice,
            oldQty,
            credit,
            { start: t, end },
            `Unused time on ${oldQty} × ${productName(core, oldPrice)} after ${label}`,
            now,
          );
        }
      }
      if (change.price && newAmount !== 0) {
        const charge = prorationCharge(core, sub, change.price, newAmount, { start, end }, t);
        if (charge !== 0) {
          prorationItem(
            core,
            sub,
            itemId,
            change.price,
            change.quantity,
            charge,
            { start: t, end },
            `Remaining time on ${change.quantity} × ${productName(core, change.price)} after ${label}`,
            now,
            change.taxRates ?? change.item?.tax_rates,
          );
        }
      }
    }
  }

  // Apply the changes.
  for (const change of changes) {
    if (change.item) {
      const existing = sub.items.find((i) => i.id === change.item?.id);
      if (!existing) continue;
      if (change.price === null) {
        sub.items = sub.items.filter((i) => i.id !== existing.id);
      } else {
        existing.price = change.price.id;
        existing.quantity = change.quantity;
        if (change.metadata) existing.metadata = change.metadata;
        if (change.taxRates !== undefined) existing.tax_rates = change.taxRates;
      }
    } else if (change.price) {
      sub.items.push({
        id: newItemIds.get(change) ?? newId("si", 14),
        created: now,
        price: change.price.id,
        quantity: change.quantity,
        metadata: change.metadata ?? {},
        current_period_start: start,
        current_period_end: end,
        ...(change.taxRates && change.taxRates.length > 0 ? { tax_rates: change.taxRates } : {}),
      });
    }
  }
  if (sub.items.length === 0)
    throw invalidRequest("A subscription must have at least one active plan.", "items");
  validatePrices(
    sub.items.map((i) => core.price(i.price)),
    "items",
    sub.currency,
  );

  if (opts.resetAnchor) {
    const { interval } = subscriptionInterval(core, sub);
    const newEnd = boundary(t, interval.interval, interval.interval_count, 1);
    sub.billing_cycle_anchor = t;
    for (const item of sub.items) {
      item.current_period_start = t;
      item.current_period_end = newEnd;
    }
    const inv = newInvoice(core, {
      customer: sub.customer,
      subscription: sub,
      billing_reason: "subscription_update",
      period_start: t,
      period_end: t,
      now,
      currency: sub.currency,
    });
    pullPendingItems(core, inv, (ii) => ii.subscription === sub.id);
    for (const item of sub.items) {
      const price = core.price(item.price);
      const metered = price.recurring?.usage_type === "metered";
      addSubscriptionLine(
        inv,
        sub,
        item,
        price,
        metered ? 0 : priceAmount(price, item.quantity, sub.currency),
        metered ? 0 : item.quantity,
        { start: t, end: newEnd },
        planDescription(core, price, item.quantity, sub.currency),
      );
    }
    return inv;
  }
  if (opts.prorationBehavior === "always_invoice") {
    const inv = newInvoice(core, {
      customer: sub.customer,
      subscription: sub,
      billing_reason: "subscription_update",
      period_start: t,
      period_end: t,
      now,
      currency: sub.currency,
    });
    pullPendingItems(core, inv, (ii) => ii.subscription === sub.id);
    if (inv.lines.length === 0) {
      // Nothing to prorate (e.g. a change at the very end of the period): no invoice, like Stripe.
      delete core.state.invoices[inv.id];
      return null;
    }
    return inv;
  }
  return null;
}

// ---- update ------------------------------------------------------------------------------------------

/** `default_tax_rates` and `automatic_tax[enabled]` on update; they apply from the next invoice on. */
function updateTaxSettings(core: EmulatorCore, sub: SubscriptionRec, p: Params): void {
  const rates = taxRatesParam(core, p, "default_tax_rates");
  if (rates !== undefined) sub.default_tax_rates = rates;
  const automatic = automaticTaxParam(p);
  if (automatic !== undefined) {
    if (automatic && !hasTaxLocation(core.customer(sub.customer))) throw taxLocationError();
    sub.automatic_tax = automatic;
  }
  if (sub.automatic_tax) {
    refuseRatesWithAutomaticTax(true, sub.default_tax_rates, "default_tax_rates");
    sub.items.forEach((item, index) => {
      refuseRatesWithAutomaticTax(true, item.tax_rates ?? undefined, `items[${index}][tax_rates]`);
    });
  }
}

/** `discounts[]` on update: the new list (existing ones kept by `discount: di_…`); `''` removes all. */
function updateDiscounts(core: EmulatorCore, sub: SubscriptionRec, list: Params[], now: number): void {
  const ids = redeemDiscounts(
    core,
    list,
    "discounts",
    { subscription: sub.id },
    {
      customer: sub.customer,
      now,
      currency: sub.currency,
      products: sub.items.map((item) => core.price(item.price).product),
      amount: sub.items.reduce(
        (sum, item) => sum + priceAmount(core.price(item.price), item.quantity, sub.currency),
        0,
      ),
    },
  );
  for (const old of sub.discounts ?? []) if (!ids.includes(old)) removeDiscount(core, old, now);
  sub.discounts = ids;
}

export interface UpdateResult {
  invoice: InvoiceRec | null;
}

/** What an `incomplete` subscription accepts in an update. */
const INCOMPLETE_UPDATABLE = ["metadata", "default_payment_method", "description", "expand"];

/** `POST /v1/subscriptions/:id` (also used, rolled back, by `invoices.createPreview`). */
export function updateSubscription(
  core: EmulatorCore,
  sub: SubscriptionRec,
  p: Params,
  preview = false,
): UpdateResult {
  const now = core.clockNow(sub.test_clock);
  if (sub.status === "canceled" || sub.status === "incomplete_expired") {
    const allowed = p.keys().every((k) => ["metadata", "cancellation_details", "expand"].includes(k));
    if (!allowed) {
      throw invalidRequest("A canceled subscription can only update its cancellation_details and metadata.");
    }
  }
  if (sub.status === "incomplete") {
    // Stripe: "A subscription in this status can only have metadata and default_source updated" (and the
    // payment method its first invoice will be paid with); pay or let it expire first.
    const refused = p.keys().find((k) => !INCOMPLETE_UPDATABLE.includes(k));
    if (refused !== undefined) {
      throw invalidRequest(
        `A subscription with status \`incomplete\` can only update ${INCOMPLETE_UPDATABLE.filter((k) => k !== "expand").join(", ")}; \`${refused}\` can be changed once its first invoice is paid.`,
        refused,
      );
    }
  }
  const behavior = p.oneOf("payment_behavior", PAYMENT_BEHAVIORS) ?? "allow_incomplete";
  if (behavior === "pending_if_incomplete") throw notSupported("payment_behavior=pending_if_incomplete");
  const prorationBehavior = p.oneOf("proration_behavior", PRORATION_BEHAVIORS) ?? "create_prorations";
  const { start, end } = currentPeriod(sub);
  const t = p.int("proration_date") ?? now;
  if (p.has("proration_date") && (t < start || t > end)) {
    throw invalidRequest(
      "The proration_date must be within the current billing period of the subscription.",
      "proration_date",
    );
  }
  if (sub.schedule && (p.has("cancel_at_period_end") || p.has("cancel_at"))) {
    throw invalidRequest(
      `The subscription is managed by the subscription schedule \`${sub.schedule}\`, and updating any cancelation behavior directly is not allowed. Please update the schedule instead.`,
    );
  }

  return withSubscriptionEvent(core, sub, "customer.subscription.updated", () => {
    let invoice: InvoiceRec | null = null;
    updateTaxSettings(core, sub, p);
    const itemsP = p.list("items");
    const anchorParam = p.oneOf("billing_cycle_anchor", ["now", "unchanged"] as const);
    if (itemsP && itemsP.length > 0) {
      const changes: ItemChange[] = itemsP.map((itemP, index) => {
        const id = itemP.str("id");
        const existing = id ? sub.items.find((i) => i.id === id) : undefined;
        if (id && !existing) {
          throw invalidRequest(
            `Invalid subscription_item id: ${id}`,
            `items[${index}][id]`,
            "resource_missing",
          );
        }
        if (existing && itemP.bool("deleted")) {
          return { item: existing, price: null, quantity: 0, metadata: null };
        }
        const hasPrice = itemP.has("price") || itemP.has("plan") || itemP.has("price_data");
        const price = hasPrice
          ? priceFromItemParams(core, itemP, index, "items")
          : existing
            ? core.price(existing.price)
            : null;
        if (!price) throw missingParam(`items[${index}][price]`);
        const taxRates = taxRatesParam(core, itemP, "tax_rates", `items[${index}][tax_rates]`);
        const quantity = itemP.int("quantity") ?? existing?.quantity ?? 1;
        if (hasCurrency(price, sub.currency)) {
          checkedPriceAmount(price, quantity, sub.currency, `items[${index}][quantity]`);
        }
        return {
          item: existing ?? null,
          price,
          quantity,
          metadata: itemP.has("metadata") ? itemP.metadata("metadata", existing?.metadata ?? {}) : null,
          ...(taxRates !== undefined ? { taxRates } : {}),
        };
      });
      const before = subscriptionInterval(core, sub).interval;
      const resulting = changes.filter((c) => c.price !== null).map((c) => c.price);
      const after = resulting[0]?.recurring;
      const intervalChanged =
        after !== undefined &&
        after !== null &&
        (after.interval !== before.interval || after.interval_count !== before.interval_count);
      if (intervalChanged) {
        // Every remaining item must move to the new interval in the same request.
        const untouched = sub.items.filter((i) => !changes.some((c) => c.item?.id === i.id));
        if (untouched.length > 0) {
          throw invalidRequest("All prices on a subscription must share one billing interval.", "items");
        }
      }
      invoice = applyItemChanges(core, sub, changes, {
        prorationBehavior,
        t,
        now,
        resetAnchor: intervalChanged || anchorParam === "now",
      });
    } else if (anchorParam === "now") {
      invoice = applyItemChanges(core, sub, [], { prorationBehavior, t, now, resetAnchor: true });
    }

    if (p.has("cancel_at_period_end")) {
      const value = p.bool("cancel_at_period_end") ?? false;
      sub.cancel_at_period_end = value;
      if (value) {
        sub.cancel_at = currentPeriod(sub).end;
        sub.canceled_at = now;
        sub.cancellation_details.reason = "cancellation_requested";
      } else {
        sub.cancel_at = null;
        sub.canceled_at = null;
        sub.cancellation_details.reason = null;
      }
    }
    if (p.has("cancel_at")) {
      const value = p.int("cancel_at") ?? null;
      sub.cancel_at = value;
      sub.cancel_at_period_end = value !== null && value === currentPeriod(sub).end;
      sub.canceled_at = value === null ? null : now;
      sub.cancellation_details.reason = value === null ? null : "cancellation_requested";
    }
    const details = p.obj("cancellation_details");
    if (details) {
      if (details.has("comment")) sub.cancellation_details.comment = details.nullableStr("comment") ?? null;
      if (details.has("feedback"))
        sub.cancellation_details.feedback = details.nullableStr("feedback") ?? null;
    }
    if (p.has("default_payment_method")) {
      const value = p.nullableStr("default_payment_method") ?? null;
      sub.default_payment_method = value
        ? resolveCustomerPaymentMethod(core, sub.customer, value, "default_payment_method").id
        : null;
    }
    if (p.has("description")) sub.description = p.nullableStr("description") ?? null;
    if (p.has("discounts")) updateDiscounts(core, sub, p.list("discounts") ?? [], now);
    if (p.has("pause_collection")) updatePauseCollection(sub, p, now);
    const trialSettings = p.obj("trial_settings")?.obj("end_behavior");
    const missingPm = trialSettings?.oneOf("missing_payment_method", [
      "cancel",
      "create_invoice",
      "pause",
    ] as const);
    if (missingPm) sub.trial_missing_pm_behavior = missingPm;
    sub.metadata = p.metadata("metadata", sub.metadata);
    const collection = p.oneOf("collection_method", ["charge_automatically", "send_invoice"] as const);
    if (collection) sub.collection_method = collection;
    if (p.has("days_until_due")) sub.days_until_due = p.int("days_until_due") ?? null;
    if (p.raw.trial_end === "now" && sub.status === "trialing") {
      sub.trial_end = now;
      sub.status = "active";
      invoice = applyItemChanges(core, sub, [], {
        prorationBehavior: "none",
        t: now,
        now,
        resetAnchor: true,
      });
    } else if (p.has("trial_end") && p.raw.trial_end !== "now") {
      const trialEnd = p.int("trial_end") ?? null;
      if (trialEnd !== null) checkTrialEnd(trialEnd, now, "trial_end");
      if (trialEnd !== null && trialEnd > now) {
        sub.trial_end = trialEnd;
        sub.trial_start = sub.trial_start ?? now;
        sub.status = "trialing";
        sub.trial_will_end_sent = false;
        for (const item of sub.items) item.current_period_end = trialEnd;
      }
    }

    if (invoice) {
      sub.latest_invoice = invoice.id;
      invoice.subscription_proration_date = p.has("proration_date") ? t : null;
      if (preview) return { invoice };
      emitInvoiceCreated(core, invoice);
      if (sub.pause_collection) {
        // Paused collection: the invoice is made, then voided / marked uncollectible / kept as a draft.
        collectPaused(core, invoice, sub.pause_collection.behavior, now);
        return { invoice };
      }
      finalizeInvoice(core, invoice, now);
      if (
        invoice.status === "open" &&
        sub.collection_method === "charge_automatically" &&
        behavior !== "default_incomplete"
      ) {
        const attempt = attemptInvoicePayment(core, invoice, now, { automatic: false });
        if (!attempt.ok && behavior === "error_if_incomplete") throw declineError(core, attempt);
      } else if (invoice.status === "open" && sub.collection_method === "charge_automatically") {
        if (sub.status === "active") sub.status = "past_due";
      }
    }
    return { invoice };
  });
}

// ---- renewals, cancellation ----------------------------------------------------------------------------

export function cancelSubscriptionNow(
  core: EmulatorCore,
  sub: SubscriptionRec,
  opts: {
    prorate: boolean;
    invoiceNow: boolean;
    reason: "cancellation_requested" | "payment_failed" | null;
    at?: number;
  },
): void {
  if (sub.status === "canceled") return;
  const now = opts.at ?? core.clockNow(sub.test_clock);
  const before = buildSubscription(core, sub);
  const { start, end } = currentPeriod(sub);
  if (opts.prorate && now < end && sub.status !== "incomplete") {
    for (const item of sub.items) {
      const price = core.price(item.price);
      if (price.recurring?.usage_type === "metered") continue;
      const credit = prorationCredit(core, sub, item, price, { start, end }, now);
      if (credit !== 0) {
        prorationItem(
          core,
          sub,
          item.id,
          price,
          item.quantity,
          credit,
          { start: now, end },
          `Unused time on ${item.quantity} × ${productName(core, price)} after ${formatDate(now)}`,
          now,
        );
      }
    }
  }
  if (opts.invoiceNow) {
    const inv = newInvoice(core, {
      customer: sub.customer,
      subscription: sub,
      billing_reason: "subscription_update",
      period_start: start,
      period_end: now,
      now,
      currency: sub.currency,
    });
    pullPendingItems(core, inv, (ii) => ii.subscription === sub.id);
    if (inv.lines.length > 0) {
      emitInvoiceCreated(core, inv);
      if (sub.pause_collection) collectPaused(core, inv, sub.pause_collection.behavior, now);
      else finalizeInvoice(core, inv, now);
      if (inv.status === "open" && sub.collection_method === "charge_automatically") {
        attemptInvoicePayment(core, inv, now, { automatic: false });
      }
      sub.latest_invoice = inv.id;
    } else {
      delete core.state.invoices[inv.id];
    }
  }
  endSubscription(core, sub, before, now, opts.reason);
}

/**
 * A subscription's invoice (renewal, proration, final) while collection is paused (`pause_collection.behavior`): `keep_as_draft` leaves it a
 * draft that does not advance, `void` finalizes and voids it, `mark_uncollectible` finalizes it and marks
 * it uncollectible. No payment is attempted.
 */
function collectPaused(
  core: EmulatorCore,
  inv: InvoiceRec,
  behavior: NonNullable<SubscriptionRec["pause_collection"]>["behavior"],
  t: number,
): void {
  if (behavior === "keep_as_draft") {
    inv.auto_advance = false;
    return;
  }
  finalizeAutomatically(core, inv, t);
  if (inv.status !== "open") return;
  if (behavior === "void") {
    voidInvoice(core, inv, t);
    return;
  }
  const before = buildInvoice(core, inv);
  inv.status = "uncollectible";
  inv.marked_uncollectible_at = t;
  inv.next_payment_attempt = null;
  core.emitUpdate("invoice.marked_uncollectible", before, buildInvoice(core, inv));
}

/**
 * `POST /v1/subscriptions/:id/resume` of a `paused` subscription (a trial that ended without a payment
 * method, `missing_payment_method: pause`): a new period starts now and is invoiced and charged at once;
 * `customer.subscription.resumed`.
 */
export function resumeSubscription(core: EmulatorCore, sub: SubscriptionRec): InvoiceRec | null {
  if (sub.status !== "paused") {
    throw invalidRequest(
      `Only subscriptions with status \`paused\` can be resumed (this one is \`${sub.status}\`).`,
    );
  }
  const now = core.clockNow(sub.test_clock);
  const invoice = withSubscriptionEvent(core, sub, "customer.subscription.updated", () => {
    sub.status = "active";
    const inv = applyItemChanges(core, sub, [], {
      prorationBehavior: "none",
      t: now,
      now,
      resetAnchor: true,
    });
    if (!inv) return null;
    inv.billing_reason = "subscription_cycle";
    sub.latest_invoice = inv.id;
    emitInvoiceCreated(core, inv);
    finalizeInvoice(core, inv, now);
    if (inv.status === "open" && sub.collection_method === "charge_automatically") {
      attemptInvoicePayment(core, inv, now, { automatic: true });
    }
    return inv;
  });
  core.emit("customer.subscription.resumed", buildSubscription(core, sub));
  return invoice;
}

/** `pause_collection` on update: `''` resumes collection, `{behavior, resumes_at}` pauses it. */
function updatePauseCollection(sub: SubscriptionRec, p: Params, now: number): void {
  if (p.isEmpty("pause_collection")) {
    sub.pause_collection = null;
    return;
  }
  const pause = p.obj("pause_collection");
  if (!pause) return;
  const behavior = pause.oneOf("behavior", ["keep_as_draft", "mark_uncollectible", "void"] as const);
  if (!behavior) throw missingParam("pause_collection[behavior]");
  const resumesAt = pause.int("resumes_at") ?? null;
  if (resumesAt !== null && resumesAt <= now) {
    throw invalidRequest(
      "pause_collection[resumes_at] must be in the future.",
      "pause_collection[resumes_at]",
    );
  }
  if (sub.status === "canceled" || sub.status === "incomplete" || sub.status === "incomplete_expired") {
    throw invalidRequest(
      `A subscription with status \`${sub.status}\` cannot pause collection.`,
      "pause_collection",
    );
  }
  sub.pause_collection = { behavior, resumes_at: resumesAt };
}

/** Rolls a subscription into its next period at `t` (= the old period end) and invoices it. */
export function renewSubscription(
  core: EmulatorCore,
  sub: SubscriptionRec,
  t: number,
  preview = false,
): InvoiceRec {
  const { interval } = subscriptionInterval(core, sub);
  const { start: oldStart } = currentPeriod(sub);
  const newEnd = nextBoundaryAfter(sub.billing_cycle_anchor, t, interval.interval, interval.interval_count);
  const trialEnding = sub.status === "trialing" && sub.trial_end !== null && sub.trial_end <= t;

  const run = (): InvoiceRec => {
    for (const item of sub.items) {
      item.current_period_start = t;
      item.current_period_end = newEnd;
    }
    if (sub.cancel_at_period_end) sub.cancel_at = newEnd;
    expireSubscriptionDiscounts(core, sub, t);
    const inv = newInvoice(core, {
      customer: sub.customer,
      subscription: sub,
      billing_reason: "subscription_cycle",
      period_start: oldStart,
      period_end: t,
      now: t,
      currency: sub.currency,
    });
    pullPendingItems(core, inv, (ii) => ii.subscription === sub.id || ii.subscription === null);
    for (const item of sub.items) {
      const price = core.price(item.price);
      if (price.recurring?.usage_type === "metered") {
        const usage = meterUsage(core, sub.customer, price, oldStart, t);
        addSubscriptionLine(
          inv,
          sub,
          item,
          price,
          priceAmount(price, usage, sub.currency),
          usage,
          { start: oldStart, end: t },
          planDescription(core, price, usage, sub.currency),
        );
      } else {
        addSubscriptionLine(
          inv,
          sub,
          item,
          price,
          priceAmount(price, item.quantity, sub.currency),
          item.quantity,
          { start: t, end: newEnd },
          planDescription(core, price, item.quantity, sub.currency),
        );
      }
    }
    if (preview) return inv;
    const previousInvoice = sub.latest_invoice;
    sub.latest_invoice = inv.id;
    if (trialEnding) {
      sub.status = "active";
      const noPaymentMethod =
        paymentMethodFor(core, inv) === null && sub.collection_method === "charge_automatically";
      if (noPaymentMethod && sub.trial_missing_pm_behavior !== "create_invoice") {
        // `cancel` / `pause`: no invoice at all.
        delete core.state.invoices[inv.id];
        for (const line of inv.lines) {
          if (line.invoice_item) {
            const ii = core.state.invoiceItems[line.invoice_item];
            if (ii) ii.invoice = null;
          }
        }
        if (sub.trial_missing_pm_behavior === "pause") {
          sub.latest_invoice = previousInvoice;
          sub.status = "paused";
          core.emit("customer.subscription.paused", buildSubscription(core, sub));
          return inv;
        }
        sub.latest_invoice = null;
        cancelSubscriptionNow(core, sub, { prorate: false, invoiceNow: false, reason: null, at: t });
        return inv;
      }
    }
    emitInvoiceCreated(core, inv);
    if (sub.pause_collection) {
      collectPaused(core, inv, sub.pause_collection.behavior, t);
      return inv;
    }
    finalizeAutomatically(core, inv, t);
    // An `unpaid` subscription keeps invoicing, but Stripe attempts none of its invoices.
    if (
      inv.status === "open" &&
      sub.collection_method === "charge_automatically" &&
      sub.status !== "unpaid"
    ) {
      attemptInvoicePayment(core, inv, t, { automatic: true });
    }
    return inv;
  };
  if (preview) return run();
  return withSubscriptionEvent(core, sub, "customer.subscription.updated", run);
}
