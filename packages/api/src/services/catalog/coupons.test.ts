// Coupons and promotion codes end to end: real PostgreSQL, the official Stripe SDK against the emulator.
import { testDatabase } from "@minutely/db/vitest";
import { type FixedClock, fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import type { Viewer } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { testPorts } from "../../testing.ts";
import { applyCouponToSubscription } from "../admin/coupons.ts";
import { revenueOverview } from "../admin/revenue.ts";
import { processStripeEvent, receiveStripeWebhook } from "../subscriptions/stripe-webhooks.ts";
import {
  billingHistory,
  previewUpgrade,
  subscribe,
  subscriptionOverviewWithDiscount,
  withActionLock,
} from "../subscriptions/subscriptions.ts";
import { syncCatalogToStripe } from "./catalog-admin.ts";
import {
  archiveCoupon,
  archivePromotionCode,
  type CouponInput,
  checkPromotionCode,
  createCoupon,
  createPromotionCode,
  listCouponsForAdmin,
  ZCouponInputSchema,
  ZPromotionCodeInputSchema,
} from "./coupons.ts";

const { db } = await testDatabase();
// The emulator checks expiries against the real time: the tests' clock is a day ahead of it.
const clock: FixedClock = fixedClock(new Date(Date.now() + 24 * 3600_000));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
await syncCatalogToStripe(ports);
const plans = Object.fromEntries(
  (await db.subscriptionPlan.findMany()).map((p) => [p.name, p]),
) as unknown as Record<
  "Starter" | "Pro" | "Enterprise",
  { id: string; stripeProductId: string | null; monthlyPriceCents: number }
>;

const admin: Viewer = {
  userId: "00000000-0000-4000-8000-000000000001",
  email: "ops@example.com",
  name: "Ops",
  role: "admin",
  accountId: null,
};
const inDays = (days: number) => new Date(clock.now().getTime() + days * 24 * 3600_000);

const coupon = (values: Partial<Record<keyof CouponInput, unknown>>): CouponInput =>
  ZCouponInputSchema.parse({ name: "Spring", percentOff: 25, duration: "forever", ...values });

let counter = 0;
async function newAccount() {
  counter += 1;
  const account = await db.account.create({ data: { name: `Coupon customer ${counter}` } });
  const email = `coupon${counter}@example.com`;
  await db.user.create({
    data: {
      email,
      name: `Coupon customer ${counter}`,
      memberships: { create: { accountId: account.id, role: "owner" } },
    },
  });
  return { accountId: account.id, email, name: `Coupon customer ${counter}` };
}

async function failure(
  promise: Promise<unknown>,
): Promise<{ code: string; field?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return { code: error.code, field: error.field, message: error.message };
    throw error;
  }
  throw new Error("expected the call to fail");
}

describe("coupons and promotion codes (admin)", () => {
  it("creates a coupon synced to Stripe with every term, audited", async () => {
    const redeemBy = inDays(90);
    const result = await createCoupon(
      ports,
      admin,
      coupon({
        name: "Pro launch",
        duration: "repeating",
        durationInMonths: 3,
        redeemBy,
        maxRedemptions: 50,
        packageIds: [plans.Pro.id],
      }),
    );
    expect(result.syncError).toBeNull();
    expect(result.coupon.summary).toBe("25% off for 3 months");
    const remote = await ports.stripe.coupons.retrieve(result.coupon.stripeCouponId ?? "");
    expect(remote).toMatchObject({
      name: "Pro launch",
      percent_off: 25,
      duration: "repeating",
      duration_in_months: 3,
      max_redemptions: 50,
      redeem_by: Math.floor(redeemBy.getTime() / 1000),
      applies_to: { products: [plans.Pro.stripeProductId] },
      metadata: { minutely_coupon_id: result.coupon.id },
    });
    const audit = await db.auditLog.findMany({ where: { entityId: result.coupon.id } });
    expect(audit.map((a) => [a.action, a.actorEmail])).toEqual([["coupon.create", "ops@example.com"]]);
  });

  it("creates an amount-off coupon in the package's currency", async () => {
    const result = await createCoupon(
      ports,
      admin,
      coupon({ name: "Ten off", percentOff: null, amountOffCents: 1000, currency: "usd", duration: "once" }),
    );
    expect(result.coupon.summary).toBe("$10.00 off on the first invoice");
    const remote = await ports.stripe.coupons.retrieve(result.coupon.stripeCouponId ?? "");
    expect(remote).toMatchObject({ amount_off: 1000, currency: "usd", duration: "once", percent_off: null });
  });

  it("creates codes (case-insensitive, never twice), synced to Stripe and audited", async () => {
    const { coupon: c } = await createCoupon(ports, admin, coupon({ name: "Codes" }));
    const created = await createPromotionCode(
      ports,
      admin,
      ZPromotionCodeInputSchema.parse({ couponId: c.id, code: " spring-25 ", maxRedemptions: 10 }),
    );
    expect(created.syncError).toBeNull();
    expect(created.promotionCode.code).toBe("SPRING-25");
    const remote = await ports.stripe.promotionCodes.retrieve(
      created.promotionCode.stripePromotionCodeId ?? "",
    );
    expect(remote).toMatchObject({ code: "SPRING-25", active: true, max_redemptions: 10 });
    expect(remote.promotion.coupon).toBe(c.stripeCouponId);
    expect(
      await failure(
        createPromotionCode(
          ports,
          admin,
          ZPromotionCodeInputSchema.parse({ couponId: c.id, code: "Spring-25" }),
        ),
      ),
    ).toMatchObject({ code: "CONFLICT", field: "code" });
    const audit = await db.auditLog.findMany({ where: { entityId: created.promotionCode.id } });
    expect(audit.map((a) => a.action)).toEqual(["promotion_code.create"]);
    const listed = (await listCouponsForAdmin(ports)).find((x) => x.id === c.id);
    expect(listed?.promotionCodes.map((p) => p.code)).toEqual(["SPRING-25"]);
  });

  it("refuses bad input with a message naming the field, and never coerces types", () => {
    const fields = (values: Record<string, unknown>) =>
      ZCouponInputSchema.safeParse({
        name: "X",
        percentOff: 10,
        duration: "once",
        ...values,
      }).error?.issues.map((i) => i.path.join("."));
    expect(fields({ percentOff: 0 })).toEqual(["percentOff"]);
    expect(fields({ percentOff: 101 })).toEqual(["percentOff"]);
    expect(fields({ percentOff: 12.5 })).toEqual(["percentOff"]);
    expect(fields({ percentOff: "20" })).toEqual(["percentOff"]);
    expect(fields({ percentOff: null })).toEqual(["percentOff"]);
    expect(fields({ percentOff: 10, amountOffCents: 100, currency: "usd" })).toEqual([
      "amountOffCents",
      "currency",
    ]);
    expect(fields({ percentOff: null, amountOffCents: 100 })).toEqual(["currency"]);
    expect(fields({ percentOff: null, amountOffCents: 0, currency: "usd" })).toEqual(["amountOffCents"]);
    expect(fields({ percentOff: null, amountOffCents: 100_000_01, currency: "usd" })).toEqual([
      "amountOffCents",
    ]);
    expect(fields({ percentOff: null, amountOffCents: 100, currency: "jpy" })).toEqual(["currency"]);
    expect(fields({ duration: "repeating" })).toEqual(["durationInMonths"]);
    expect(fields({ duration: "repeating", durationInMonths: 37 })).toEqual(["durationInMonths"]);
    expect(fields({ duration: "once", durationInMonths: 3 })).toEqual(["durationInMonths"]);
    expect(fields({ duration: "weekly" })).toEqual(["duration"]);
    expect(fields({ maxRedemptions: 0 })).toEqual(["maxRedemptions"]);
    expect(fields({ maxRedemptions: 1_000_001 })).toEqual(["maxRedemptions"]);
    expect(fields({ redeemBy: "2027-01-01" })).toEqual(["redeemBy"]);
    expect(fields({ packageIds: ["pro"] })).toEqual(["packageIds.0"]);
    expect(fields({ name: " " })).toEqual(["name"]);
    expect(fields({ surprise: true })).toEqual([""]);
    const code = (values: Record<string, unknown>) =>
      ZPromotionCodeInputSchema.safeParse({
        couponId: plans.Pro.id,
        code: "OK1",
        ...values,
      }).error?.issues.map((i) => i.path.join("."));
    expect(code({ code: "has space" })).toEqual(["code"]);
    expect(code({ code: "ab" })).toEqual(["code"]);
    expect(code({ code: "x".repeat(41) })).toEqual(["code"]);
    expect(code({ couponId: "nope" })).toEqual(["couponId"]);
  });

  it("refuses expiries in the past or beyond 5 years, unknown packages and mismatched currencies", async () => {
    const before = await db.coupon.count();
    expect(await failure(createCoupon(ports, admin, coupon({ redeemBy: inDays(-1) })))).toMatchObject({
      code: "BAD_REQUEST",
      field: "redeemBy",
    });
    expect(
      await failure(createCoupon(ports, admin, coupon({ redeemBy: inDays(5 * 366 + 1) }))),
    ).toMatchObject({
      code: "BAD_REQUEST",
      field: "redeemBy",
    });
    expect(
      await failure(
        createCoupon(ports, admin, coupon({ packageIds: ["00000000-0000-4000-8000-00000000dead"] })),
      ),
    ).toMatchObject({ code: "BAD_REQUEST", field: "packageIds" });
    expect(
      await failure(
        createCoupon(
          ports,
          admin,
          coupon({ percentOff: null, amountOffCents: 500, currency: "eur", packageIds: [plans.Pro.id] }),
        ),
      ),
    ).toMatchObject({ code: "BAD_REQUEST", field: "currency" });
    expect(await db.coupon.count()).toBe(before);
    const { coupon: short } = await createCoupon(ports, admin, coupon({ redeemBy: inDays(10) }));
    expect(
      await failure(
        createPromotionCode(
          ports,
          admin,
          ZPromotionCodeInputSchema.parse({ couponId: short.id, code: "LATE", expiresAt: inDays(11) }),
        ),
      ),
    ).toMatchObject({ code: "BAD_REQUEST", field: "expiresAt" });
  });

  it("saves the coupon and reports the failed sync when Stripe is unreachable; sync catches up", async () => {
    const offline = testPorts(db, { stripeApiBase: "http://127.0.0.1:9", clock, stripeTimeoutMs: 200 });
    const result = await createCoupon(offline, admin, coupon({ name: "Offline" }));
    expect(result.syncError).toBeTruthy();
    expect(result.coupon.synced).toBe(false);
    const code = await createPromotionCode(
      offline,
      admin,
      ZPromotionCodeInputSchema.parse({ couponId: result.coupon.id, code: "OFFLINE" }),
    );
    expect(code.promotionCode.synced).toBe(false);
    // Not on Stripe: nothing can redeem it, so it is not offered yet.
    expect(await checkPromotionCode(ports, { code: "offline", packageId: plans.Pro.id })).toMatchObject({
      valid: false,
      reason: "inactive",
    });
    const { syncCouponToStripe } = await import("./coupons.ts");
    await syncCouponToStripe(ports, result.coupon.id);
    const codeRow = await db.promotionCode.findUniqueOrThrow({ where: { id: code.promotionCode.id } });
    expect(codeRow.stripePromotionCodeId).toMatch(/^promo_/);
    expect(await checkPromotionCode(ports, { code: "offline", packageId: plans.Pro.id })).toMatchObject({
      valid: true,
    });
  });
});

describe("customers' codes", () => {
  it("shows the discounted price, or names why a code is refused", async () => {
    const { coupon: c } = await createCoupon(
      ports,
      admin,
      coupon({ name: "Pro only", percentOff: 15, packageIds: [plans.Pro.id], maxRedemptions: 1 }),
    );
    await createPromotionCode(
      ports,
      admin,
      ZPromotionCodeInputSchema.parse({ couponId: c.id, code: "PROFIFTEEN" }),
    );
    const soon = await createPromotionCode(
      ports,
      admin,
      ZPromotionCodeInputSchema.parse({ couponId: c.id, code: "SOON", expiresAt: inDays(2) }),
    );
    expect(soon.syncError).toBeNull();

    const ok = await checkPromotionCode(ports, { code: "profifteen", packageId: plans.Pro.id });
    expect(ok).toMatchObject({
      valid: true,
      code: "PROFIFTEEN",
      price: { amount: 9900, currency: "usd" },
      discount: { amount: 1485, currency: "usd" },
      discountedPrice: { amount: 8415, currency: "usd" },
      summary: "15% off on every invoice",
    });
    expect(await checkPromotionCode(ports, { code: "NOPE-NOPE", packageId: plans.Pro.id })).toMatchObject({
      valid: false,
      reason: "invalid",
      message: '"NOPE-NOPE" is not a valid promotion code. Check the spelling.',
    });
    expect(
      await checkPromotionCode(ports, { code: "PROFIFTEEN", packageId: plans.Starter.id }),
    ).toMatchObject({
      valid: false,
      reason: "not_applicable",
    });
    const later = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock: fixedClock(inDays(3)) });
    expect(await checkPromotionCode(later, { code: "soon", packageId: plans.Pro.id })).toMatchObject({
      valid: false,
      reason: "expired",
    });

    // Subscribing with a refused code is a 400 naming promotionCode, and nothing is created.
    const refused = await newAccount();
    expect(
      await failure(subscribe(ports, refused, { packageId: plans.Starter.id, promotionCode: "PROFIFTEEN" })),
    ).toMatchObject({
      code: "BAD_REQUEST",
      field: "promotionCode",
      message: expect.stringContaining("does not apply"),
    });
    expect(await db.subscription.count({ where: { accountId: refused.accountId } })).toBe(0);

    // The one redemption allowed: the invoice shows the discount, the subscription carries it.
    const customer = await newAccount();
    const result = await subscribe(ports, customer, {
      packageId: plans.Pro.id,
      paymentMethodId: "pm_card_visa",
      promotionCode: "profifteen",
    });
    expect(result.kind).toBe("subscribed");
    const sub = await db.subscription.findFirstOrThrow({ where: { accountId: customer.accountId } });
    expect(sub.couponId).toBe(c.id);
    expect(sub.promotionCodeId).not.toBeNull();
    const [invoice] = await billingHistory(ports, customer.accountId);
    expect(invoice).toMatchObject({ subtotalCents: 9900, discountCents: 1485, amountCents: 8415 });

    // The coupon's limit of one is used up.
    expect(await checkPromotionCode(ports, { code: "PROFIFTEEN", packageId: plans.Pro.id })).toMatchObject({
      valid: false,
      reason: "exhausted",
    });

    // Archived: no new redemptions, and the discount already running stays.
    await archiveCoupon(ports, admin, c.id);
    expect(await checkPromotionCode(ports, { code: "soon", packageId: plans.Pro.id })).toMatchObject({
      valid: false,
      reason: "inactive",
    });
    const remote = await ports.stripe.subscriptions.retrieve(sub.stripeSubscriptionId);
    expect(remote.discounts).toHaveLength(1);
    const codeRow = await db.promotionCode.findUniqueOrThrow({ where: { id: soon.promotionCode.id } });
    expect((await ports.stripe.promotionCodes.retrieve(codeRow.stripePromotionCodeId ?? "")).active).toBe(
      false,
    );
    const audit = await db.auditLog.findMany({ where: { entityId: c.id }, orderBy: { createdAt: "asc" } });
    expect(audit.map((a) => a.action)).toEqual(["coupon.create", "coupon.archive"]);
  });

  it("opens Checkout with the code applied, or with a field to type one", async () => {
    const { coupon: c } = await createCoupon(ports, admin, coupon({ name: "Checkout", percentOff: 10 }));
    await createPromotionCode(
      ports,
      admin,
      ZPromotionCodeInputSchema.parse({ couponId: c.id, code: "TENNER" }),
    );
    const customer = await newAccount();
    const withCode = await subscribe(ports, customer, {
      packageId: plans.Starter.id,
      promotionCode: "tenner",
    });
    if (withCode.kind !== "checkout") throw new Error("expected Checkout");
    const session = await ports.stripe.checkout.sessions.retrieve(withCode.sessionId);
    expect(session.amount_total).toBe(2610);
    expect(session.total_details?.amount_discount).toBe(290);
    const other = await newAccount();
    const plain = await subscribe(ports, other, { packageId: plans.Starter.id });
    if (plain.kind !== "checkout") throw new Error("expected Checkout");
    expect((await ports.stripe.checkout.sessions.retrieve(plain.sessionId)).allow_promotion_codes).toBe(true);
  });

  it("archives a single code: refused as inactive, audited", async () => {
    const { coupon: c } = await createCoupon(ports, admin, coupon({ name: "One code" }));
    const { promotionCode } = await createPromotionCode(
      ports,
      admin,
      ZPromotionCodeInputSchema.parse({ couponId: c.id, code: "GONE" }),
    );
    await archivePromotionCode(ports, admin, promotionCode.id);
    await archivePromotionCode(ports, admin, promotionCode.id); // a retry changes nothing
    expect(await checkPromotionCode(ports, { code: "gone", packageId: plans.Pro.id })).toMatchObject({
      valid: false,
      reason: "inactive",
    });
    const audit = await db.auditLog.findMany({ where: { entityId: promotionCode.id } });
    expect(audit.map((a) => a.action).sort()).toEqual(["promotion_code.archive", "promotion_code.create"]);
  });
});

describe("Stripe's discount webhooks", () => {
  it("a discount put on in Stripe directly reaches Minutely's subscription through customer.discount.created", async () => {
    const customer = await newAccount();
    await subscribe(ports, customer, { packageId: plans.Pro.id, paymentMethodId: "pm_card_visa" });
    const sub = await db.subscription.findFirstOrThrow({ where: { accountId: customer.accountId } });
    const { coupon: c } = await createCoupon(ports, admin, coupon({ name: "From Stripe" }));
    await ports.stripe.subscriptions.update(sub.stripeSubscriptionId, {
      discounts: [{ coupon: c.stripeCouponId ?? "" }],
    });
    const secret = "whsec_coupons_test";
    let delivered = 0;
    for await (const event of ports.stripe.events.list({ limit: 100, type: "customer.discount.created" })) {
      if ((event.data.object as { subscription?: string }).subscription !== sub.stripeSubscriptionId)
        continue;
      const payload = JSON.stringify(event);
      const signature = ports.stripe.webhooks.generateTestHeaderString({ payload, secret });
      const received = await receiveStripeWebhook(ports, {
        rawBody: Buffer.from(payload),
        signature,
        secret,
      });
      await processStripeEvent(ports, received.id);
      delivered += 1;
    }
    expect(delivered).toBe(1);
    const after = await db.subscription.findUniqueOrThrow({ where: { id: sub.id } });
    expect(after.couponId).toBe(c.id);
  });
});

describe("MRR", () => {
  it("counts what subscribers pay after a recurring discount; a once coupon leaves it as it is", async () => {
    const mrr = async () =>
      (await revenueOverview(ports, { months: 1 })).totals.find((t) => t.currency === "usd")?.mrrCents ?? 0;
    const withCoupon = async (values: Partial<Record<keyof CouponInput, unknown>>, code: string) => {
      const { coupon: c } = await createCoupon(ports, admin, coupon({ name: code, ...values }));
      await createPromotionCode(ports, admin, ZPromotionCodeInputSchema.parse({ couponId: c.id, code }));
      const before = await mrr();
      const customer = await newAccount();
      await subscribe(ports, customer, {
        packageId: plans.Enterprise.id,
        paymentMethodId: "pm_card_visa",
        promotionCode: code,
      });
      return (await mrr()) - before;
    };
    // 33% of 29900 is 9867 off (9867.00); 10% for 2 months: 2990 off while it lasts.
    expect(await withCoupon({ percentOff: 33, duration: "forever" }, "MRR-FOREVER")).toBe(29900 - 9867);
    expect(await withCoupon({ percentOff: 10, duration: "repeating", durationInMonths: 2 }, "MRR-TWO")).toBe(
      29900 - 2990,
    );
    expect(
      await withCoupon(
        { percentOff: null, amountOffCents: 5000, currency: "usd", duration: "forever" },
        "MRR-AMOUNT",
      ),
    ).toBe(24900);
    expect(await withCoupon({ percentOff: 50, duration: "once" }, "MRR-ONCE")).toBe(29900);
  });
});

describe("admins apply a coupon to a customer's subscription", () => {
  it("puts it on the subscription from the next invoice, audited; refuses one that does not apply", async () => {
    const customer = await newAccount();
    await subscribe(ports, customer, { packageId: plans.Starter.id, paymentMethodId: "pm_card_visa" });
    const { coupon: proOnly } = await createCoupon(
      ports,
      admin,
      coupon({ name: "Pro deal", packageIds: [plans.Pro.id] }),
    );
    expect(
      await failure(
        applyCouponToSubscription(ports, admin, { accountId: customer.accountId, couponId: proOnly.id }),
      ),
    ).toMatchObject({
      code: "BAD_REQUEST",
      field: "couponId",
      message: "This coupon does not apply to the Starter package",
    });
    const { coupon: goodwill } = await createCoupon(
      ports,
      admin,
      coupon({ name: "Goodwill", percentOff: 50 }),
    );
    await applyCouponToSubscription(ports, admin, { accountId: customer.accountId, couponId: goodwill.id });
    const sub = await db.subscription.findFirstOrThrow({ where: { accountId: customer.accountId } });
    expect(sub.couponId).toBe(goodwill.id);
    expect(sub.promotionCodeId).toBeNull();
    const overview = await subscriptionOverviewWithDiscount(ports, customer.accountId);
    expect(overview.discount).toMatchObject({
      couponName: "Goodwill",
      summary: "50% off on every invoice",
      code: null,
      discountedMonthlyPrice: { amount: 1450, currency: "usd" },
    });
    // The discount stays on the subscription through an upgrade: the preview charges the new package at half.
    const plain = await newAccount();
    await subscribe(ports, plain, { packageId: plans.Starter.id, paymentMethodId: "pm_card_visa" });
    const full = await previewUpgrade(ports, plain.accountId, plans.Pro.id);
    const discounted = await previewUpgrade(ports, customer.accountId, plans.Pro.id);
    expect(full.chargeCents).toBeGreaterThan(0);
    expect(Math.abs(discounted.chargeCents - full.chargeCents / 2)).toBeLessThanOrEqual(1);
    const audit = await db.auditLog.findMany({ where: { entityId: customer.accountId } });
    expect(audit.map((a) => a.action)).toEqual(["subscription.apply_coupon"]);
    const { coupon: archived } = await createCoupon(ports, admin, coupon({ name: "Old" }));
    await archiveCoupon(ports, admin, archived.id);
    expect(
      await failure(
        applyCouponToSubscription(ports, admin, { accountId: customer.accountId, couponId: archived.id }),
      ),
    ).toMatchObject({ code: "BAD_REQUEST", field: "couponId", message: "This coupon is archived" });
  });
});

describe("hostile clients and careless users", () => {
  const withCode = async (code: string, values: Partial<Record<keyof CouponInput, unknown>>) => {
    const { coupon: c } = await createCoupon(ports, admin, coupon({ name: code, ...values }));
    await createPromotionCode(ports, admin, ZPromotionCodeInputSchema.parse({ couponId: c.id, code }));
    return c;
  };

  it("a subscribe retried after its own redemption used the code up replays the subscription", async () => {
    await withCode("ONLY-ONE", { maxRedemptions: 1 });
    const customer = await newAccount();
    const input = { packageId: plans.Pro.id, paymentMethodId: "pm_card_visa", promotionCode: "only-one" };
    const first = await subscribe(ports, customer, input);
    expect(first.kind).toBe("subscribed");
    // The answer was lost (or the button clicked again): the retry is the same subscription, not a 400.
    const again = await subscribe(ports, customer, input);
    expect(again).toMatchObject({ kind: "subscribed", subscription: { package: { id: plans.Pro.id } } });
    expect(await db.subscription.count({ where: { accountId: customer.accountId } })).toBe(1);
    // A bad code is still refused, subscribed or not.
    expect(await failure(subscribe(ports, customer, { ...input, promotionCode: "NOPE-NOPE" }))).toMatchObject(
      {
        code: "BAD_REQUEST",
        field: "promotionCode",
      },
    );
    // Another customer is refused: the code is used up.
    expect(await failure(subscribe(ports, await newAccount(), input))).toMatchObject({
      code: "BAD_REQUEST",
      field: "promotionCode",
    });
  });

  it("re-applying the coupon already on a subscription changes nothing, even once it is used up", async () => {
    const customer = await newAccount();
    await subscribe(ports, customer, { packageId: plans.Starter.id, paymentMethodId: "pm_card_visa" });
    const { coupon: single } = await createCoupon(
      ports,
      admin,
      coupon({ name: "Single goodwill", maxRedemptions: 1 }),
    );
    const apply = (requestKey: string) =>
      applyCouponToSubscription(ports, admin, {
        accountId: customer.accountId,
        couponId: single.id,
        requestKey,
      });
    await apply("first-click");
    const again = await apply("second-tab");
    expect(again.discount).toMatchObject({ couponName: "Single goodwill" });
    const audit = await db.auditLog.findMany({ where: { entityId: customer.accountId } });
    expect(audit.map((a) => a.action)).toEqual(["subscription.apply_coupon"]);
  });

  it("applying a coupon waits its turn: refused while another change to the subscription runs", async () => {
    const customer = await newAccount();
    await subscribe(ports, customer, { packageId: plans.Starter.id, paymentMethodId: "pm_card_visa" });
    const { coupon: c } = await createCoupon(ports, admin, coupon({ name: "Locked out" }));
    const refused = await withActionLock(ports, customer.accountId, () =>
      failure(applyCouponToSubscription(ports, admin, { accountId: customer.accountId, couponId: c.id })),
    );
    expect(refused).toMatchObject({ code: "CONFLICT" });
    const sub = await db.subscription.findFirstOrThrow({ where: { accountId: customer.accountId } });
    const remote = await ports.stripe.subscriptions.retrieve(sub.stripeSubscriptionId);
    expect(remote.discounts).toEqual([]);
    expect(sub.couponId).toBeNull();
  });

  it("a code used up or archived between Minutely's check and Stripe's redemption is a 400 naming promotionCode", async () => {
    await withCode("LAST-SEAT", { maxRedemptions: 1 });
    const archivedMeanwhile = await withCode("GONE-SOON", {});
    // Another customer's redemption (or an admin's archive) lands after this request counted the uses: the
    // check saw the code free, Stripe refuses it.
    const racing = (race: () => Promise<unknown>) => {
      const billing = Object.create(ports.billing) as typeof ports.billing;
      billing.retrieveRedemptions = async (id) => {
        const seen = await ports.billing.retrieveRedemptions(id);
        await race();
        return seen;
      };
      return { ...ports, billing };
    };
    const rival = await newAccount();
    const customer = await newAccount();
    const used = await failure(
      subscribe(
        racing(() =>
          subscribe(ports, rival, {
            packageId: plans.Pro.id,
            paymentMethodId: "pm_card_visa",
            promotionCode: "LAST-SEAT",
          }),
        ),
        customer,
        { packageId: plans.Pro.id, paymentMethodId: "pm_card_visa", promotionCode: "LAST-SEAT" },
      ),
    );
    expect(used).toMatchObject({ code: "BAD_REQUEST", field: "promotionCode" });
    expect(used.message).toMatch(/LAST-SEAT/);
    const archived = await failure(
      subscribe(
        racing(() => archiveCoupon(ports, admin, archivedMeanwhile.id)),
        customer,
        { packageId: plans.Pro.id, paymentMethodId: "pm_card_visa", promotionCode: "GONE-SOON" },
      ),
    );
    expect(archived).toMatchObject({ code: "BAD_REQUEST", field: "promotionCode" });
    // Nothing was charged or subscribed; without the code it goes through.
    expect(await db.subscription.count({ where: { accountId: customer.accountId } })).toBe(0);
    const plain = await subscribe(ports, customer, {
      packageId: plans.Pro.id,
      paymentMethodId: "pm_card_visa",
    });
    expect(plain.kind).toBe("subscribed");
  });

  it("two admins creating the same code at once: one code, the other a 409 naming code", async () => {
    const { coupon: c } = await createCoupon(ports, admin, coupon({ name: "Twice" }));
    // The other admin's insert is in flight (not committed) when this one checks for a clash: the check sees
    // nothing, the insert waits on the unique index, then fails once the other commits.
    let second: Promise<unknown> = Promise.resolve();
    await db.$transaction(async (tx) => {
      await tx.promotionCode.create({ data: { couponId: c.id, code: "SAME-TIME", codeKey: "SAME-TIME" } });
      second = failure(
        createPromotionCode(
          ports,
          admin,
          ZPromotionCodeInputSchema.parse({ couponId: c.id, code: "same-time" }),
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
    });
    expect(await second).toMatchObject({ code: "CONFLICT", field: "code" });
    expect(await db.promotionCode.count({ where: { codeKey: "SAME-TIME" } })).toBe(1);
  });

  it("a coupon discounts the package price only, never overage (as Stripe's applies_to products)", async () => {
    await withCode("ALL-25", { percentOff: 25 });
    const customer = await newAccount();
    await subscribe(ports, customer, {
      packageId: plans.Pro.id,
      paymentMethodId: "pm_card_visa",
      promotionCode: "ALL-25",
    });
    const sub = await db.subscription.findFirstOrThrow({ where: { accountId: customer.accountId } });
    const account = await db.account.findUniqueOrThrow({ where: { id: customer.accountId } });
    await ports.billing.addInvoiceItem({
      customerId: account.stripeCustomerId ?? "",
      subscriptionId: sub.stripeSubscriptionId,
      amountCents: 1000,
      currency: "usd",
      description: "Overage",
      metadata: { minutely_account_id: customer.accountId },
      idempotencyKey: `overage-${customer.accountId}`,
    });
    const next = await ports.stripe.invoices.createPreview({
      customer: account.stripeCustomerId ?? "",
      subscription: sub.stripeSubscriptionId,
    });
    const off = (line: (typeof next.lines.data)[number]) =>
      (line.discount_amounts ?? []).reduce((sum, d) => sum + d.amount, 0);
    const overage = next.lines.data.find((line) => line.description === "Overage");
    const pkg = next.lines.data.find((line) => line.description !== "Overage");
    expect(overage && off(overage)).toBe(0);
    expect(pkg && off(pkg)).toBe(2475);
    expect(next.total).toBe(9900 - 2475 + 1000);
  });
});
