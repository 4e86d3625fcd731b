/**
 * Coupons, promotion codes and discounts as Stripe renders them, and what discounts take off an invoice.
 * A draft's discounts are computed whenever it is rendered (so previews show them); finalization freezes
 * them on the invoice (`billing/discounts.ts`).
 */
import type Stripe from "stripe";
import type { EmulatorCore } from "../core.ts";
import type { CouponRec, DiscountRec, InvoiceRec, LineRec, PromotionCodeRec } from "../state.ts";

export function buildCoupon(rec: CouponRec): Stripe.Coupon {
  return {
    id: rec.id,
    object: "coupon",
    amount_off: rec.amount_off,
    ...(rec.applies_to_products ? { applies_to: { products: rec.applies_to_products } } : {}),
    created: rec.created,
    currency: rec.currency,
    duration: rec.duration,
    duration_in_months: rec.duration_in_months,
    livemode: false,
    max_redemptions: rec.max_redemptions,
    metadata: rec.metadata,
    name: rec.name,
    percent_off: rec.percent_off,
    redeem_by: rec.redeem_by,
    times_redeemed: rec.times_redeemed,
    valid: couponValid(rec, null),
  };
}

/** Whether the coupon can still be redeemed (`now` null: only the redemption count is checked). */
export function couponValid(rec: CouponRec, now: number | null): boolean {
  if (rec.deleted) return false;
  if (rec.max_redemptions !== null && rec.times_redeemed >= rec.max_redemptions) return false;
  if (rec.redeem_by !== null && now !== null && now > rec.redeem_by) return false;
  return true;
}

export function buildPromotionCode(rec: PromotionCodeRec): Stripe.PromotionCode {
  return {
    id: rec.id,
    object: "promotion_code",
    active: rec.active,
    code: rec.code,
    created: rec.created,
    customer: rec.customer,
    customer_account: null,
    expires_at: rec.expires_at,
    livemode: false,
    max_redemptions: rec.max_redemptions,
    metadata: rec.metadata,
    promotion: { coupon: rec.coupon, type: "coupon" },
    restrictions: {
      first_time_transaction: rec.first_time_transaction,
      minimum_amount: rec.minimum_amount,
      minimum_amount_currency: rec.minimum_amount_currency,
    },
    times_redeemed: rec.times_redeemed,
  };
}

export function buildDiscount(rec: DiscountRec): Stripe.Discount {
  return {
    id: rec.id,
    object: "discount",
    checkout_session: rec.checkout_session,
    customer: rec.customer,
    customer_account: null,
    end: rec.end,
    invoice: null,
    invoice_item: rec.invoice_item,
    promotion_code: rec.promotion_code,
    source: { coupon: rec.coupon, type: "coupon" },
    start: rec.start,
    subscription: rec.subscription,
    subscription_item: null,
  };
}

/** What one coupon takes off `amount` in `currency` (percent rounded half up; amount_off capped). */
export function couponAmountOff(coupon: CouponRec, amount: number, currency: string): number {
  if (amount <= 0) return 0;
  if (coupon.percent_off !== null) return Math.round((amount * coupon.percent_off) / 100);
  if (coupon.amount_off !== null && coupon.currency === currency) return Math.min(amount, coupon.amount_off);
  return 0;
}

export interface InvoiceDiscounts {
  /** Per line id, the discounts that apply to it in order, with the amount each takes off. */
  lines: Map<string, { discount: string; amount: number }[]>;
  /** The discounts applied to the invoice, in order. */
  discounts: string[];
  total: number;
}

function activeAt(rec: DiscountRec | undefined, t: number): rec is DiscountRec {
  return rec !== undefined && !rec.deleted && (rec.end === null || t < rec.end);
}

/**
 * The discounts of an invoice: frozen ones once finalized, otherwise computed now. The subscription's
 * discounts apply to its discountable, non-proration lines; an invoice item's own discounts to its line.
 * Each discount applies to what the ones before it left; a coupon with `applies_to.products` only to lines
 * of those products; an `amount_off` is spread over the lines it applies to in proportion to their amounts.
 */
export function invoiceDiscounts(core: EmulatorCore, inv: InvoiceRec): InvoiceDiscounts {
  const lines = new Map<string, { discount: string; amount: number }[]>();
  if (inv.status !== "draft") {
    let total = 0;
    for (const line of inv.lines) {
      const amounts = line.discount_amounts ?? [];
      lines.set(line.id, amounts);
      total += amounts.reduce((sum, d) => sum + d.amount, 0);
    }
    return { lines, discounts: inv.discounts ?? [], total };
  }
  const state = core.state;
  const at = inv.created;
  const sub = inv.subscription ? state.subscriptions[inv.subscription] : undefined;
  const subDiscounts = (sub?.discounts ?? []).map((id) => state.discounts[id]).filter((d) => activeAt(d, at));
  const order: DiscountRec[] = [];
  const appliesTo = new Map<string, LineRec[]>();
  const add = (discount: DiscountRec, line: LineRec): void => {
    if (!appliesTo.has(discount.id)) {
      appliesTo.set(discount.id, []);
      order.push(discount);
    }
    appliesTo.get(discount.id)?.push(line);
  };
  for (const line of inv.lines) {
    const item = line.invoice_item ? state.invoiceItems[line.invoice_item] : undefined;
    for (const id of item?.discounts ?? []) {
      const discount = state.discounts[id];
      if (activeAt(discount, at)) add(discount, line);
    }
    const subLine =
      sub !== undefined &&
      line.subscription === sub.id &&
      !line.proration &&
      (item === undefined || item.discountable);
    if (subLine) for (const discount of subDiscounts) add(discount, line);
  }
  const left = new Map(inv.lines.map((line) => [line.id, line.amount]));
  let total = 0;
  const applied: string[] = [];
  for (const discount of order) {
    const coupon = state.coupons[discount.coupon];
    if (!coupon) continue;
    const targets = (appliesTo.get(discount.id) ?? []).filter((line) => {
      if (!coupon.applies_to_products) return true;
      const price = line.price ? state.prices[line.price] : undefined;
      return price !== undefined && coupon.applies_to_products.includes(price.product);
    });
    const base = targets.reduce((sum, line) => sum + Math.max(0, left.get(line.id) ?? 0), 0);
    const off = couponAmountOff(coupon, base, inv.currency);
    applied.push(discount.id);
    let given = 0;
    targets.forEach((line, index) => {
      const remaining = Math.max(0, left.get(line.id) ?? 0);
      let amount: number;
      if (coupon.percent_off !== null) amount = Math.round((remaining * coupon.percent_off) / 100);
      else if (index === targets.length - 1) amount = off - given;
      else amount = base > 0 ? Math.floor((off * remaining) / base) : 0;
      amount = Math.min(amount, remaining);
      given += amount;
      left.set(line.id, (left.get(line.id) ?? 0) - amount);
      const list = lines.get(line.id) ?? [];
      list.push({ discount: discount.id, amount });
      lines.set(line.id, list);
    });
    total += given;
  }
  return { lines, discounts: applied, total };
}

/** `discount_amounts` / `total_discount_amounts` entries (ids; `expand[]` resolves them). */
export function discountAmounts(
  amounts: { discount: string; amount: number }[],
): Stripe.InvoiceLineItem.DiscountAmount[] {
  return amounts.map((d) => ({ amount: d.amount, discount: d.discount }));
}
