// Coupons and promotion codes. Admins create a coupon (percent or amount off, for once / N months /
// forever, with an optional expiry, redemption limit and packages) and customer-facing codes for it; each
// change is written with its audit entry in one transaction, then synced to Stripe like a package (a
// failed sync is reported and retried with `coupons.sync`). Archiving stops new redemptions; discounts
// already on subscriptions keep running. Customers' codes are checked here (`checkPromotionCode`) before
// Checkout, with the reason when refused. The arithmetic and the rules are in packages/domain.
import type { Coupon, Prisma, PromotionCode, SubscriptionPlan } from "@minutely/db";
import {
  COUPON_DURATIONS,
  COUPON_LIMITS,
  type CodeFacts,
  type CodeRefusal,
  type Currency,
  codeRefusal,
  codeRefusalMessage,
  type DiscountOff,
  describeDuration,
  discountAmount,
  discountedPrice,
  isCurrency,
  type Money,
  money,
  PROMOTION_CODE_PATTERN,
  promotionCodeKey,
} from "@minutely/domain";
import { z } from "zod";
import type { Ports, Viewer } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { writeAudit } from "../audit.ts";
import { syncErrorOf, syncPackageToStripe } from "./catalog-admin.ts";
import { packageViewIn, toPackageView } from "./packages.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
const L = COUPON_LIMITS;

const optionalLimit = (name: string, min: number, max: number, what: string) =>
  z
    .number({ error: `${name} must be a number` })
    .int(`${name} must be a whole number`)
    .min(min, `${name} must be at least ${min.toLocaleString("en-US")}`)
    .max(max, `${name} can be at most ${max.toLocaleString("en-US")}${what}`)
    .nullable();

const ZInstant = z.date({ error: "Use a date" });

/** The fields of a coupon; `couponRules` adds the checks across fields (ZCouponInputSchema has both). */
export const ZCouponFieldsSchema = z.strictObject({
  name: z
    .string()
    .trim()
    .min(1, "Name is required")
    .max(L.nameMaxLength, `Name can be at most ${L.nameMaxLength} characters`),
  /** Whole percent, 1-100; or null with amountOffCents set. */
  percentOff: optionalLimit("Percent off", L.percentOff.min, L.percentOff.max, "").default(null),
  /** Minor units, with currency; or null with percentOff set. */
  amountOffCents: optionalLimit(
    "The amount off",
    L.amountOffCents.min,
    L.amountOffCents.max,
    " cents",
  ).default(null),
  currency: z
    .custom<Currency>((value) => isCurrency(value), "Use one of usd, eur, gbp")
    .nullable()
    .default(null),
  duration: z.enum(COUPON_DURATIONS, "Use once, repeating or forever"),
  durationInMonths: optionalLimit("Months", L.durationInMonths.min, L.durationInMonths.max, "").default(null),
  /** No redemption from this instant on; in the future, within 5 years. */
  redeemBy: ZInstant.nullable().default(null),
  maxRedemptions: optionalLimit(
    "The redemption limit",
    L.maxRedemptions.min,
    L.maxRedemptions.max,
    "",
  ).default(null),
  /** Packages it applies to; empty: every package. */
  packageIds: z.array(z.uuid("Not a package id")).max(200).default([]),
});

type CouponFields = z.infer<typeof ZCouponFieldsSchema>;

/** Exactly one of percent and amount off, a currency with an amount only, months with repeating only. */
export function couponRules(input: CouponFields, ctx: z.RefinementCtx): void {
  if (input.percentOff === null && input.amountOffCents === null) {
    ctx.addIssue({ code: "custom", path: ["percentOff"], message: "Give a percent off or an amount off" });
  }
  if (input.percentOff !== null && input.amountOffCents !== null) {
    ctx.addIssue({
      code: "custom",
      path: ["amountOffCents"],
      message: "Give a percent off or an amount off, not both",
    });
  }
  if (input.amountOffCents !== null && input.currency === null) {
    ctx.addIssue({ code: "custom", path: ["currency"], message: "An amount off needs a currency" });
  }
  if (input.percentOff !== null && input.currency !== null) {
    ctx.addIssue({ code: "custom", path: ["currency"], message: "A percent off has no currency" });
  }
  if (input.duration === "repeating" && input.durationInMonths === null) {
    ctx.addIssue({
      code: "custom",
      path: ["durationInMonths"],
      message: "Say for how many months (1-36) it repeats",
    });
  }
  if (input.duration !== "repeating" && input.durationInMonths !== null) {
    ctx.addIssue({
      code: "custom",
      path: ["durationInMonths"],
      message: "Months are only for a repeating coupon",
    });
  }
}

export const ZCouponInputSchema = ZCouponFieldsSchema.superRefine(couponRules);
export type CouponInput = CouponFields;

export const ZPromotionCodeInputSchema = z.strictObject({
  couponId: z.uuid("Not a coupon id"),
  code: z.string().trim().regex(PROMOTION_CODE_PATTERN, "Use 3 to 40 letters, digits, - or _ (no spaces)"),
  expiresAt: ZInstant.nullable().default(null),
  maxRedemptions: optionalLimit(
    "The redemption limit",
    L.maxRedemptions.min,
    L.maxRedemptions.max,
    "",
  ).default(null),
});
export type PromotionCodeInput = z.infer<typeof ZPromotionCodeInputSchema>;

/** A code as a customer types it: anything up to 100 characters is checked (and refused as `invalid`). */
export const ZTypedCodeSchema = z
  .string()
  .trim()
  .min(1, "Type a promotion code")
  .max(100, "That code is too long");

/** An expiry in the future and at most 5 years away. */
function checkExpiry(at: Date | null, now: Date, field: string): void {
  if (at === null) return;
  if (at.getTime() <= now.getTime())
    throw new AppError("BAD_REQUEST", "The expiry must be in the future", field);
  if (at.getTime() > now.getTime() + L.expiryMaxDays * DAY_MS) {
    throw new AppError("BAD_REQUEST", "The expiry can be at most 5 years away", field);
  }
}

export function offOf(coupon: Pick<Coupon, "percentOff" | "amountOffCents" | "currency">): DiscountOff {
  if (coupon.percentOff !== null) return { kind: "percent", percent: coupon.percentOff };
  const currency = coupon.currency;
  if (coupon.amountOffCents === null || !isCurrency(currency)) {
    throw new Error("coupon row has neither a percent nor an amount in a known currency");
  }
  return { kind: "amount", amount: money(coupon.amountOffCents, currency) };
}

export interface CouponView {
  id: string;
  name: string;
  off: DiscountOff;
  duration: Coupon["duration"];
  durationInMonths: number | null;
  /** "25% off for 3 months" */
  summary: string;
  redeemBy: Date | null;
  maxRedemptions: number | null;
  packageIds: string[];
  active: boolean;
  stripeCouponId: string | null;
  synced: boolean;
  createdAt: Date;
}

function describeOff(off: DiscountOff): string {
  if (off.kind === "percent") return `${off.percent}% off`;
  const major = new Intl.NumberFormat("en-US", { style: "currency", currency: off.amount.currency });
  return `${major.format(off.amount.amount / 100)} off`;
}

export function couponSummary(coupon: Coupon): string {
  return `${describeOff(offOf(coupon))} ${describeDuration(coupon)}`;
}

export function toCouponView(coupon: Coupon): CouponView {
  return {
    id: coupon.id,
    name: coupon.name,
    off: offOf(coupon),
    duration: coupon.duration,
    durationInMonths: coupon.durationInMonths,
    summary: couponSummary(coupon),
    redeemBy: coupon.redeemBy,
    maxRedemptions: coupon.maxRedemptions,
    packageIds: coupon.appliesToPlanIds,
    active: coupon.active,
    stripeCouponId: coupon.stripeCouponId,
    synced: coupon.stripeCouponId !== null,
    createdAt: coupon.createdAt,
  };
}

export interface PromotionCodeView {
  id: string;
  couponId: string;
  code: string;
  expiresAt: Date | null;
  maxRedemptions: number | null;
  active: boolean;
  stripePromotionCodeId: string | null;
  synced: boolean;
  createdAt: Date;
}

export function toPromotionCodeView(code: PromotionCode): PromotionCodeView {
  return {
    id: code.id,
    couponId: code.couponId,
    code: code.code,
    expiresAt: code.expiresAt,
    maxRedemptions: code.maxRedemptions,
    active: code.active,
    stripePromotionCodeId: code.stripePromotionCodeId,
    synced: code.stripePromotionCodeId !== null,
    createdAt: code.createdAt,
  };
}

export interface CouponChangeResult {
  coupon: CouponView;
  /** Set when the change was saved but Stripe could not be reached; retry with coupons.sync. */
  syncError: string | null;
}

async function syncCouponAndReport(ports: Ports, couponId: string): Promise<CouponChangeResult> {
  const syncError = await syncErrorOf(() => syncCouponToStripe(ports, couponId));
  const row = await ports.db.coupon.findUniqueOrThrow({ where: { id: couponId } });
  return { coupon: toCouponView(row), syncError };
}

async function checkPackages(db: Prisma.TransactionClient, input: CouponInput): Promise<void> {
  if (input.packageIds.length === 0) return;
  const ids = [...new Set(input.packageIds)];
  const plans = await db.subscriptionPlan.findMany({ where: { id: { in: ids } } });
  if (plans.length !== ids.length) throw new AppError("BAD_REQUEST", "No such package", "packageIds");
  // An amount off only discounts prices in its currency: limiting it to packages in another is a mistake.
  if (input.currency !== null && plans.some((p) => p.currency !== input.currency)) {
    throw new AppError(
      "BAD_REQUEST",
      "An amount off applies only to packages in its currency; choose packages priced in it",
      "currency",
    );
  }
}

export async function createCoupon(
  ports: Ports,
  actor: Viewer,
  input: CouponInput,
): Promise<CouponChangeResult> {
  const at = ports.clock.now();
  checkExpiry(input.redeemBy, at, "redeemBy");
  const created = await ports.db.$transaction(async (tx) => {
    await checkPackages(tx, input);
    const row = await tx.coupon.create({
      data: {
        name: input.name,
        percentOff: input.percentOff,
        amountOffCents: input.amountOffCents,
        currency: input.currency,
        duration: input.duration,
        durationInMonths: input.durationInMonths,
        redeemBy: input.redeemBy,
        maxRedemptions: input.maxRedemptions,
        appliesToPlanIds: [...new Set(input.packageIds)],
        createdAt: at,
      },
    });
    await writeAudit(
      tx,
      actor,
      { action: "coupon.create", entityType: "coupon", entityId: row.id, after: row },
      at,
    );
    return row;
  });
  return await syncCouponAndReport(ports, created.id);
}

/** Archives a coupon and its codes: no new redemptions; discounts already redeemed keep running. */
export async function archiveCoupon(ports: Ports, actor: Viewer, id: string): Promise<CouponChangeResult> {
  const at = ports.clock.now();
  await ports.db.$transaction(async (tx) => {
    const before = await tx.coupon.findUnique({ where: { id } });
    if (!before) throw new AppError("NOT_FOUND", "No such coupon", "id");
    if (!before.active) return;
    const after = await tx.coupon.update({ where: { id }, data: { active: false } });
    const codes = await tx.promotionCode.findMany({ where: { couponId: id, active: true } });
    await tx.promotionCode.updateMany({ where: { couponId: id, active: true }, data: { active: false } });
    await writeAudit(
      tx,
      actor,
      {
        action: "coupon.archive",
        entityType: "coupon",
        entityId: id,
        before: { ...before, activeCodes: codes.map((c) => c.code) },
        after,
      },
      at,
    );
  });
  return await syncCouponAndReport(ports, id);
}

export interface PromotionCodeChangeResult {
  promotionCode: PromotionCodeView;
  syncError: string | null;
}

async function syncCodeAndReport(ports: Ports, codeId: string): Promise<PromotionCodeChangeResult> {
  const syncError = await syncErrorOf(() => syncPromotionCodeToStripe(ports, codeId));
  const row = await ports.db.promotionCode.findUniqueOrThrow({ where: { id: codeId } });
  return { promotionCode: toPromotionCodeView(row), syncError };
}

export async function createPromotionCode(
  ports: Ports,
  actor: Viewer,
  input: PromotionCodeInput,
): Promise<PromotionCodeChangeResult> {
  const at = ports.clock.now();
  checkExpiry(input.expiresAt, at, "expiresAt");
  const codeKey = promotionCodeKey(input.code);
  const created = await ports.db
    .$transaction(async (tx) => {
      const coupon = await tx.coupon.findUnique({ where: { id: input.couponId } });
      if (!coupon) throw new AppError("NOT_FOUND", "No such coupon", "couponId");
      if (!coupon.active) throw new AppError("BAD_REQUEST", "This coupon is archived", "couponId");
      if (input.expiresAt && coupon.redeemBy && input.expiresAt > coupon.redeemBy) {
        throw new AppError("BAD_REQUEST", "A code cannot outlive its coupon's expiry", "expiresAt");
      }
      // Codes are case-insensitive and never reused (the unique index on code_key is the last word).
      const clash = await tx.promotionCode.findUnique({ where: { codeKey } });
      if (clash) throw new AppError("CONFLICT", `The code "${clash.code}" already exists`, "code");
      const row = await tx.promotionCode.create({
        data: {
          couponId: coupon.id,
          code: codeKey,
          codeKey,
          expiresAt: input.expiresAt,
          maxRedemptions: input.maxRedemptions,
          createdAt: at,
        },
      });
      await writeAudit(
        tx,
        actor,
        { action: "promotion_code.create", entityType: "promotion_code", entityId: row.id, after: row },
        at,
      );
      return row;
    })
    .catch((error: unknown) => {
      // Another admin created the same code meanwhile: the unique index on code_key refused this one.
      if (isCodeKeyViolation(error)) {
        throw new AppError("CONFLICT", `The code "${codeKey}" already exists`, "code");
      }
      throw error;
    });
  return await syncCodeAndReport(ports, created.id);
}

function isCodeKeyViolation(error: unknown): boolean {
  if (typeof error !== "object" || error === null || (error as { code?: unknown }).code !== "P2002") {
    return false;
  }
  return JSON.stringify((error as { meta?: unknown }).meta ?? {}).includes("code_key");
}

export async function archivePromotionCode(
  ports: Ports,
  actor: Viewer,
  id: string,
): Promise<PromotionCodeChangeResult> {
  const at = ports.clock.now();
  await ports.db.$transaction(async (tx) => {
    const before = await tx.promotionCode.findUnique({ where: { id } });
    if (!before) throw new AppError("NOT_FOUND", "No such promotion code", "id");
    if (!before.active) return;
    const after = await tx.promotionCode.update({ where: { id }, data: { active: false } });
    await writeAudit(
      tx,
      actor,
      { action: "promotion_code.archive", entityType: "promotion_code", entityId: id, before, after },
      at,
    );
  });
  return await syncCodeAndReport(ports, id);
}

/**
 * Makes Stripe match the coupon: created once (its packages' products first), deleted once archived (Stripe's
 * archive: existing discounts keep running), and its codes synced. Idempotent: the keys are derived from ids.
 */
export async function syncCouponToStripe(ports: Ports, couponId: string): Promise<void> {
  let coupon = await ports.db.coupon.findUnique({ where: { id: couponId } });
  if (!coupon) throw new AppError("NOT_FOUND", "No such coupon", "id");
  if (!coupon.stripeCouponId) {
    const productIds: string[] = [];
    for (const planId of coupon.appliesToPlanIds) {
      let plan = await ports.db.subscriptionPlan.findUniqueOrThrow({ where: { id: planId } });
      if (!plan.stripeProductId) {
        await syncPackageToStripe(ports, planId);
        plan = await ports.db.subscriptionPlan.findUniqueOrThrow({ where: { id: planId } });
      }
      if (plan.stripeProductId) productIds.push(plan.stripeProductId);
    }
    const off = offOf(coupon);
    const { stripeCouponId } = await ports.billing.createCoupon({
      couponId: coupon.id,
      name: coupon.name,
      off:
        off.kind === "percent"
          ? { percentOff: off.percent }
          : { amountOffCents: off.amount.amount, currency: off.amount.currency },
      duration: coupon.duration,
      durationInMonths: coupon.durationInMonths,
      redeemBy: coupon.redeemBy,
      maxRedemptions: coupon.maxRedemptions,
      productIds,
      idempotencyKey: `minutely-coupon-${coupon.id}`,
    });
    coupon = await ports.db.coupon.update({ where: { id: coupon.id }, data: { stripeCouponId } });
  }
  const codes = await ports.db.promotionCode.findMany({ where: { couponId }, select: { id: true } });
  for (const code of codes) await syncPromotionCodeToStripe(ports, code.id, coupon);
  if (!coupon.active && coupon.stripeCouponId) await ports.billing.deleteCoupon(coupon.stripeCouponId);
}

/** Makes Stripe match the code: created once while its coupon is offered, deactivated once archived. */
export async function syncPromotionCodeToStripe(
  ports: Ports,
  codeId: string,
  syncedCoupon?: Coupon,
): Promise<void> {
  const code = await ports.db.promotionCode.findUnique({ where: { id: codeId }, include: { coupon: true } });
  if (!code) throw new AppError("NOT_FOUND", "No such promotion code", "id");
  let coupon = syncedCoupon ?? code.coupon;
  if (!coupon.stripeCouponId) {
    await syncCouponToStripe(ports, coupon.id);
    coupon = await ports.db.coupon.findUniqueOrThrow({ where: { id: coupon.id } });
  }
  if (!coupon.stripeCouponId) return;
  if (!code.stripePromotionCodeId) {
    // A code archived before it ever reached Stripe stays unknown there: nothing can redeem it.
    if (!code.active || !coupon.active) return;
    const { stripePromotionCodeId } = await ports.billing.createPromotionCode({
      stripeCouponId: coupon.stripeCouponId,
      promotionCodeId: code.id,
      code: code.code,
      expiresAt: code.expiresAt,
      maxRedemptions: code.maxRedemptions,
      idempotencyKey: `minutely-promotion-code-${code.id}`,
    });
    await ports.db.promotionCode.update({ where: { id: code.id }, data: { stripePromotionCodeId } });
    return;
  }
  if (!code.active) await ports.billing.setPromotionCodeActive(code.stripePromotionCodeId, false);
}

export interface AdminCouponView extends CouponView {
  promotionCodes: PromotionCodeView[];
  /** Live subscriptions carrying this coupon now. */
  subscriptions: number;
}

const LIVE_STATUSES = ["active", "trialing", "past_due", "unpaid", "incomplete", "paused"] as const;

/** Every coupon, newest first, archived ones included, with its codes. */
export async function listCouponsForAdmin({ db }: Pick<Ports, "db">): Promise<AdminCouponView[]> {
  const [coupons, counts] = await Promise.all([
    db.coupon.findMany({
      orderBy: [{ createdAt: "desc" }, { id: "asc" }],
      include: { promotionCodes: { orderBy: [{ createdAt: "asc" }, { code: "asc" }] } },
    }),
    db.subscription.groupBy({
      by: ["couponId"],
      where: { couponId: { not: null }, status: { in: [...LIVE_STATUSES] } },
      _count: { _all: true },
    }),
  ]);
  const byCoupon = new Map(counts.map((c) => [c.couponId, c._count._all]));
  return coupons.map((coupon) => ({
    ...toCouponView(coupon),
    promotionCodes: coupon.promotionCodes.map(toPromotionCodeView),
    subscriptions: byCoupon.get(coupon.id) ?? 0,
  }));
}

/**
 * Why a coupon cannot go on a subscription to `plan` now (an admin applying it), in words; null when it can.
 * The same rules as a typed code (packages/domain `codeRefusal`), without a code of its own.
 */
export function couponApplicability(
  coupon: Coupon,
  plan: SubscriptionPlan,
  timesRedeemed: number,
  now: Date,
  /** The currency the subscription bills in (an amount off applies in its own currency only). */
  currency: Currency = toPackageView(plan).monthlyPrice.currency,
): string | null {
  const reason = codeRefusal(
    {
      code: coupon.name,
      codeActive: coupon.stripeCouponId !== null,
      couponActive: coupon.active,
      expiresAt: coupon.redeemBy,
      codeRedemptions: { times: 0, max: null },
      couponRedemptions: { times: timesRedeemed, max: coupon.maxRedemptions },
      off: offOf(coupon),
      packageIds: coupon.appliesToPlanIds,
    },
    { packageId: plan.id, currency },
    now,
  );
  switch (reason) {
    case null:
      return null;
    case "invalid":
    case "inactive":
      return coupon.active ? "This coupon is not on Stripe yet; sync it first" : "This coupon is archived";
    case "expired":
      return "This coupon has expired";
    case "exhausted":
      return "This coupon has been redeemed the maximum number of times";
    case "not_applicable":
      return `This coupon does not apply to the ${plan.name} package`;
  }
}

export type CodeCheck =
  | {
      valid: true;
      code: string;
      promotionCodeId: string;
      stripePromotionCodeId: string;
      couponName: string;
      /** "25% off for 3 months" */
      summary: string;
      duration: Coupon["duration"];
      durationInMonths: number | null;
      packageId: string;
      price: Money;
      discount: Money;
      discountedPrice: Money;
    }
  | { valid: false; code: string; reason: CodeRefusal; message: string };

/**
 * Whether a typed code discounts a package now, and by how much (the package page shows it before Checkout;
 * subscribing checks it again). Refusals name why: invalid, inactive, expired, exhausted, not_applicable.
 */
export async function checkPromotionCode(
  ports: Pick<Ports, "db" | "billing" | "clock">,
  /** `currency`: the one the purchase is made in (absent: the package's own); the price is the package's in it. */
  input: { code: string; packageId: string; currency?: Currency | undefined },
): Promise<CodeCheck> {
  const plan = await ports.db.subscriptionPlan.findUnique({
    where: { id: input.packageId },
    include: { currencyPrices: true },
  });
  if (!plan?.active) throw new AppError("NOT_FOUND", "No such package", "packageId");
  const view = input.currency === undefined ? toPackageView(plan) : packageViewIn(plan, input.currency);
  if (!view) {
    throw new AppError(
      "CONFLICT",
      `${plan.name} has no price in ${input.currency?.toUpperCase()}.`,
      "currency",
    );
  }
  const typed = input.code.trim();
  const refuse = (reason: CodeRefusal): CodeCheck => ({
    valid: false,
    code: typed,
    reason,
    message: codeRefusalMessage(reason, typed),
  });
  if (!PROMOTION_CODE_PATTERN.test(typed)) return refuse("invalid");
  const row = await ports.db.promotionCode.findUnique({
    where: { codeKey: promotionCodeKey(typed) },
    include: { coupon: true },
  });
  if (!row) return refuse("invalid");
  const coupon = row.coupon;
  // Redemptions are counted by Stripe (each Checkout and subscription redeems there): ask it.
  const redeemed =
    row.stripePromotionCodeId && row.active && coupon.active
      ? await ports.billing.retrieveRedemptions(row.stripePromotionCodeId)
      : { code: 0, coupon: 0 };
  const expiries = [row.expiresAt, coupon.redeemBy].filter((d): d is Date => d !== null);
  const facts: CodeFacts = {
    code: row.code,
    // A code not on Stripe yet (its sync failed) cannot be redeemed there: not offered yet.
    codeActive: row.active && row.stripePromotionCodeId !== null,
    couponActive: coupon.active,
    expiresAt: expiries.length > 0 ? new Date(Math.min(...expiries.map((d) => d.getTime()))) : null,
    codeRedemptions: { times: redeemed.code, max: row.maxRedemptions },
    couponRedemptions: { times: redeemed.coupon, max: coupon.maxRedemptions },
    off: offOf(coupon),
    packageIds: coupon.appliesToPlanIds,
  };
  const reason = codeRefusal(
    facts,
    { packageId: plan.id, currency: view.monthlyPrice.currency },
    ports.clock.now(),
  );
  if (reason) return { ...refuse(reason), code: row.code };
  const price = view.monthlyPrice;
  return {
    valid: true,
    code: row.code,
    promotionCodeId: row.id,
    stripePromotionCodeId: row.stripePromotionCodeId ?? "",
    couponName: coupon.name,
    summary: couponSummary(coupon),
    duration: coupon.duration,
    durationInMonths: coupon.durationInMonths,
    packageId: plan.id,
    price,
    discount: discountAmount(price, facts.off),
    discountedPrice: discountedPrice(price, facts.off),
  };
}
