/**
 * Coupons, promotion codes and their redemption into discounts (`di_…`) on subscriptions, invoice items and
 * Checkout; finalization freezes an invoice's discount amounts and uses up `once` discounts.
 */
import type { EmulatorCore } from "../core.ts";
import { invalidRequest, missingParam, resourceMissing } from "../errors.ts";
import { newId, randomToken } from "../ids.ts";
import {
  buildCoupon,
  buildDiscount,
  buildPromotionCode,
  couponAmountOff,
  couponValid,
  invoiceDiscounts,
} from "../objects/discounts.ts";
import { amountTooLarge, MAX_AMOUNT } from "../objects/prices.ts";
import type { Params } from "../params.ts";
import type { CouponRec, DiscountRec, InvoiceRec, PromotionCodeRec } from "../state.ts";
import { boundary } from "./periods.ts";

const DURATIONS = ["forever", "once", "repeating"] as const;

function decimalParam(p: Params, key: string): number | undefined {
  const raw = p.str(key);
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d+(\.\d+)?$/.test(raw)) throw invalidRequest(`Invalid decimal: ${raw}`, key);
  return Number(raw);
}

export function createCoupon(core: EmulatorCore, p: Params): CouponRec {
  const now = core.realNow();
  const id = p.str("id") ?? randomToken(8);
  if (core.state.coupons[id] && !core.state.coupons[id]?.deleted) {
    throw invalidRequest("Coupon already exists.", "id", "resource_already_exists");
  }
  const percentOff = decimalParam(p, "percent_off");
  const amountOff = p.int("amount_off");
  if (percentOff !== undefined && amountOff !== undefined) {
    throw invalidRequest(
      "You may only specify one of these parameters: amount_off, percent_off.",
      "amount_off",
    );
  }
  if (percentOff === undefined && amountOff === undefined) {
    throw invalidRequest(
      "You must pass either amount_off or percent_off.",
      "percent_off",
      "parameter_missing",
    );
  }
  if (percentOff !== undefined && (percentOff <= 0 || percentOff > 100)) {
    throw invalidRequest("percent_off must be greater than 0 and at most 100.", "percent_off");
  }
  if (amountOff !== undefined && amountOff <= 0) {
    throw invalidRequest("amount_off must be greater than 0.", "amount_off");
  }
  if (amountOff !== undefined && amountOff > MAX_AMOUNT) {
    throw amountTooLarge(`amount_off must be no more than ${MAX_AMOUNT}.`, "amount_off");
  }
  const currency = p.str("currency")?.toLowerCase() ?? null;
  if (amountOff !== undefined && currency === null) throw missingParam("currency");
  if (percentOff !== undefined && currency !== null) {
    throw invalidRequest("currency can only be set on coupons with amount_off.", "currency");
  }
  const duration = p.oneOf("duration", DURATIONS) ?? "once";
  const months = p.int("duration_in_months");
  if (duration === "repeating" && months === undefined) throw missingParam("duration_in_months");
  if (duration !== "repeating" && months !== undefined) {
    throw invalidRequest(
      "duration_in_months can only be set when duration is `repeating`.",
      "duration_in_months",
    );
  }
  const redeemBy = p.int("redeem_by") ?? null;
  if (redeemBy !== null && redeemBy <= now) {
    throw invalidRequest("redeem_by must be in the future.", "redeem_by");
  }
  const products = p.obj("applies_to")?.strList("products");
  products?.forEach((product, index) => {
    core.product(product, `applies_to[products][${index}]`);
  });
  const rec: CouponRec = {
    id,
    seq: core.nextSeq(),
    created: now,
    name: p.str("name") ?? null,
    percent_off: percentOff ?? null,
    amount_off: amountOff ?? null,
    currency,
    duration,
    duration_in_months: months ?? null,
    max_redemptions: p.int("max_redemptions") ?? null,
    redeem_by: redeemBy,
    applies_to_products: products ?? null,
    times_redeemed: 0,
    metadata: p.metadata("metadata", {}),
    deleted: false,
  };
  core.state.coupons[id] = rec;
  core.emit("coupon.created", buildCoupon(rec));
  return rec;
}

export function coupon(core: EmulatorCore, id: string, param = "coupon"): CouponRec {
  const rec = core.state.coupons[id];
  if (!rec || rec.deleted) throw resourceMissing("coupon", id, param);
  return rec;
}

export function promotionCode(core: EmulatorCore, id: string, param = "promotion_code"): PromotionCodeRec {
  const rec = core.state.promotionCodes[id];
  if (!rec) throw resourceMissing("promotion_code", id, param);
  return rec;
}

export function createPromotionCode(core: EmulatorCore, p: Params): PromotionCodeRec {
  const now = core.realNow();
  const promotion = p.obj("promotion");
  if (!promotion) throw missingParam("promotion");
  if (promotion.reqStr("type") !== "coupon") {
    throw invalidRequest("Invalid promotion[type]: must be one of coupon", "promotion[type]");
  }
  const target = coupon(core, promotion.reqStr("coupon"), "promotion[coupon]");
  const code = p.str("code") ?? randomToken(8).toUpperCase();
  if (!/^[a-zA-Z0-9_-]{1,500}$/.test(code)) {
    throw invalidRequest("A promotion code may only contain letters, digits, `-` and `_`.", "code");
  }
  const active = p.bool("active") ?? true;
  const clash = Object.values(core.state.promotionCodes).find(
    (other) => other.active && other.code.toLowerCase() === code.toLowerCase(),
  );
  if (active && clash) {
    throw invalidRequest(`An active promotion code with \`code: ${code}\` already exists.`, "code");
  }
  const customer = p.str("customer");
  if (customer) core.customer(customer);
  const restrictions = p.obj("restrictions");
  const minimum = restrictions?.int("minimum_amount") ?? null;
  const minimumCurrency = restrictions?.str("minimum_amount_currency")?.toLowerCase() ?? null;
  if (minimum !== null && minimumCurrency === null) {
    throw missingParam("restrictions[minimum_amount_currency]");
  }
  const expiresAt = p.int("expires_at") ?? null;
  if (expiresAt !== null && expiresAt <= now) {
    throw invalidRequest("Invalid timestamp: must be an integer Unix timestamp in the future.", "expires_at");
  }
  if (expiresAt !== null && target.redeem_by !== null && expiresAt > target.redeem_by) {
    throw invalidRequest(
      "The promotion code's expires_at cannot be after its coupon's redeem_by.",
      "expires_at",
    );
  }
  const rec: PromotionCodeRec = {
    id: newId("promo"),
    seq: core.nextSeq(),
    created: now,
    code,
    coupon: target.id,
    active,
    customer: customer ?? null,
    expires_at: expiresAt,
    max_redemptions: p.int("max_redemptions") ?? null,
    first_time_transaction: restrictions?.bool("first_time_transaction") ?? false,
    minimum_amount: minimum,
    minimum_amount_currency: minimumCurrency,
    times_redeemed: 0,
    metadata: p.metadata("metadata", {}),
  };
  core.state.promotionCodes[rec.id] = rec;
  core.emit("promotion_code.created", buildPromotionCode(rec));
  return rec;
}

/** The active promotion code a customer typed (codes are case-insensitive), or undefined. */
export function promotionCodeByCode(core: EmulatorCore, code: string): PromotionCodeRec | undefined {
  const wanted = code.trim().toLowerCase();
  return Object.values(core.state.promotionCodes).find(
    (rec) => rec.active && rec.code.toLowerCase() === wanted,
  );
}

/** What the discounts will be applied to, for the checks a redemption makes. */
export interface RedeemContext {
  customer: string;
  now: number;
  currency: string;
  /** Products of the lines the discount would apply to. */
  products: string[];
  /** The amount before discounts of the first invoice (promotion codes' `minimum_amount`). */
  amount: number;
}

/** Refuses a coupon that cannot be redeemed here (expired, exhausted, another currency, other products). */
export function checkCoupon(rec: CouponRec, ctx: RedeemContext, param: string): void {
  if (!couponValid(rec, ctx.now)) {
    throw invalidRequest(`Coupon expired: ${rec.id}`, param, "coupon_expired");
  }
  if (rec.amount_off !== null && rec.currency !== ctx.currency) {
    throw invalidRequest(
      `The coupon ${rec.id} is in ${rec.currency ?? "no currency"}, which does not match the currency ${ctx.currency}.`,
      param,
    );
  }
  if (
    rec.applies_to_products &&
    !ctx.products.some((product) => rec.applies_to_products?.includes(product))
  ) {
    throw invalidRequest(
      `The coupon ${rec.id} cannot be applied: it only applies to products ${rec.applies_to_products.join(", ")}, none of which is being purchased.`,
      param,
    );
  }
}

/** Refuses a promotion code that cannot be redeemed here, with the reason. */
export function checkPromotionCode(
  core: EmulatorCore,
  rec: PromotionCodeRec,
  ctx: RedeemContext,
  param: string,
): void {
  const label = `The promotion code \`${rec.code}\``;
  if (!rec.active) throw invalidRequest(`${label} is inactive.`, param);
  if (rec.expires_at !== null && ctx.now > rec.expires_at)
    throw invalidRequest(`${label} has expired.`, param);
  if (rec.max_redemptions !== null && rec.times_redeemed >= rec.max_redemptions) {
    throw invalidRequest(`${label} has been redeemed the maximum number of times.`, param);
  }
  if (rec.customer !== null && rec.customer !== ctx.customer) {
    throw invalidRequest(`${label} cannot be redeemed by this customer.`, param);
  }
  if (rec.first_time_transaction) {
    const paidBefore = Object.values(core.state.invoices).some(
      (inv) => inv.customer === ctx.customer && inv.status === "paid" && inv.amount_paid > 0,
    );
    if (paidBefore) {
      throw invalidRequest(
        `${label} cannot be redeemed because the customer has prior transactions (restrictions[first_time_transaction]).`,
        param,
      );
    }
  }
  if (
    rec.minimum_amount !== null &&
    rec.minimum_amount_currency === ctx.currency &&
    ctx.amount < rec.minimum_amount
  ) {
    throw invalidRequest(
      `${label} requires a minimum amount of ${rec.minimum_amount} ${ctx.currency} (restrictions[minimum_amount]).`,
      param,
    );
  }
  checkCoupon(coupon(core, rec.coupon, param), ctx, param);
}

export interface DiscountTarget {
  subscription?: string;
  invoice_item?: string;
  checkout_session?: string | null;
}

/**
 * Redeems `discounts[]` (`coupon`, `promotion_code`, or an existing `discount` to keep) into discount
 * ids, in order. Counts redemptions and emits `customer.discount.created` for new ones.
 */
export function redeemDiscounts(
  core: EmulatorCore,
  list: Params[],
  param: string,
  target: DiscountTarget,
  ctx: RedeemContext,
): string[] {
  const ids: string[] = [];
  list.forEach((entry, index) => {
    const name = `${param}[${index}]`;
    const given = ["coupon", "promotion_code", "discount"].filter((key) => entry.has(key));
    if (given.length !== 1) {
      throw invalidRequest(
        "You may only specify one of these parameters: coupon, discount, promotion_code.",
        given.length === 0 ? `${name}[coupon]` : `${name}[${given[1]}]`,
      );
    }
    const existingId = entry.str("discount");
    if (existingId !== undefined) {
      const existing = core.state.discounts[existingId];
      const owned =
        existing &&
        !existing.deleted &&
        ((target.subscription !== undefined && existing.subscription === target.subscription) ||
          (target.invoice_item !== undefined && existing.invoice_item === target.invoice_item));
      if (!owned) throw resourceMissing("discount", existingId, `${name}[discount]`);
      ids.push(existingId);
      return;
    }
    const promoId = entry.str("promotion_code");
    const promo = promoId !== undefined ? promotionCode(core, promoId, `${name}[promotion_code]`) : undefined;
    if (promo) checkPromotionCode(core, promo, ctx, `${name}[promotion_code]`);
    const couponRec = promo
      ? coupon(core, promo.coupon, `${name}[promotion_code]`)
      : coupon(core, entry.reqStr("coupon"), `${name}[coupon]`);
    if (!promo) checkCoupon(couponRec, ctx, `${name}[coupon]`);
    ids.push(createDiscount(core, couponRec, promo ?? null, target, ctx).id);
  });
  return ids;
}

function createDiscount(
  core: EmulatorCore,
  couponRec: CouponRec,
  promo: PromotionCodeRec | null,
  target: DiscountTarget,
  ctx: RedeemContext,
): DiscountRec {
  const rec: DiscountRec = {
    id: newId("di"),
    seq: core.nextSeq(),
    created: ctx.now,
    coupon: couponRec.id,
    promotion_code: promo?.id ?? null,
    customer: ctx.customer,
    subscription: target.subscription ?? null,
    invoice_item: target.invoice_item ?? null,
    checkout_session: target.checkout_session ?? null,
    start: ctx.now,
    end:
      couponRec.duration === "repeating" && couponRec.duration_in_months !== null
        ? boundary(ctx.now, "month", couponRec.duration_in_months, 1)
        : null,
    deleted: false,
  };
  core.state.discounts[rec.id] = rec;
  couponRec.times_redeemed += 1;
  if (promo) promo.times_redeemed += 1;
  core.emit("customer.discount.created", buildDiscount(rec));
  return rec;
}

/** Ends a discount now (`customer.discount.deleted`). */
export function removeDiscount(core: EmulatorCore, id: string, now: number): void {
  const rec = core.state.discounts[id];
  if (!rec || rec.deleted) return;
  rec.deleted = true;
  rec.end = rec.end === null ? now : Math.min(rec.end, now);
  core.emit("customer.discount.deleted", buildDiscount(rec));
}

/** What a set of coupons takes off an amount, applied one after another (Checkout's totals). */
export function discountedAmount(
  core: EmulatorCore,
  couponIds: string[],
  amount: number,
  currency: string,
): number {
  let left = amount;
  for (const id of couponIds) {
    const rec = core.state.coupons[id];
    if (rec) left -= couponAmountOff(rec, left, currency);
  }
  return amount - left;
}

/**
 * Finalization, step one: freezes the discount amounts the draft has. It changes nothing else, so the
 * invoice's amounts can be computed from these frozen discounts before `useUpOnceDiscounts` runs.
 */
export function freezeInvoiceDiscounts(core: EmulatorCore, inv: InvoiceRec): void {
  if (inv.status !== "draft") return;
  const computed = invoiceDiscounts(core, inv);
  inv.discounts = computed.discounts;
  for (const line of inv.lines) line.discount_amounts = computed.lines.get(line.id) ?? [];
}

/**
 * Finalization, step two (once the invoice is no longer a draft, so its amounts read the frozen
 * discounts): the subscription's `once` discounts that took something off end (`customer.discount.deleted`).
 */
export function useUpOnceDiscounts(core: EmulatorCore, inv: InvoiceRec, now: number): void {
  if (inv.status === "draft") throw new Error("useUpOnceDiscounts: the invoice is still a draft");
  const sub = inv.subscription ? core.state.subscriptions[inv.subscription] : undefined;
  if (!sub?.discounts) return;
  const amounts = inv.lines.flatMap((line) => line.discount_amounts ?? []);
  for (const id of inv.discounts ?? []) {
    const rec = core.state.discounts[id];
    const used = amounts.some((d) => d.discount === id && d.amount > 0);
    if (!rec || rec.subscription !== sub.id || !used) continue;
    if (core.state.coupons[rec.coupon]?.duration !== "once") continue;
    sub.discounts = sub.discounts.filter((other) => other !== id);
    removeDiscount(core, id, now);
  }
}

/** Drops the subscription's discounts that ended by `t` (a `repeating` coupon's months are over). */
export function expireSubscriptionDiscounts(
  core: EmulatorCore,
  sub: { discounts?: string[] },
  t: number,
): void {
  if (!sub.discounts) return;
  const ended = sub.discounts.filter((id) => {
    const rec = core.state.discounts[id];
    return !rec || rec.deleted || (rec.end !== null && rec.end <= t);
  });
  if (ended.length === 0) return;
  sub.discounts = sub.discounts.filter((id) => !ended.includes(id));
  for (const id of ended) {
    const rec = core.state.discounts[id];
    if (!rec || rec.deleted) continue;
    rec.deleted = true;
    core.emit("customer.discount.deleted", buildDiscount(rec));
  }
}
