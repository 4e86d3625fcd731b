// Selling in EUR and GBP attacked as a careless user and a hostile client: two tabs buying in two
// currencies, a currency's price removed while a Checkout page in it is open, a card update for a EUR customer. Real PostgreSQL, the official Stripe SDK against the
// emulator.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import type { Viewer } from "../../context.ts";
import { advanceSubscriptionClock, testPorts } from "../../testing.ts";
import { applyCouponToSubscription } from "../admin/coupons.ts";
import { adjustAccount } from "../billing/adjustments.ts";
import { syncRecentInvoices } from "../billing/index.ts";
import { syncSubscription } from "../billing/subscription-sync.ts";
import { createPackage, syncCatalogToStripe, updatePackage } from "../catalog/catalog-admin.ts";
import {
  createCoupon,
  createPromotionCode,
  ZCouponInputSchema,
  ZPromotionCodeInputSchema,
} from "../catalog/coupons.ts";
import { dashboard } from "../dashboard/dashboard.ts";
import { packageSelection } from "./package-selection.ts";
import {
  billingHistory,
  completeCheckout,
  downgrade,
  previewUpgrade,
  startPaymentMethodUpdate,
  subscribe,
  subscriptionOverview,
  subscriptionOverviewWithDiscount,
  upgrade,
} from "./subscriptions.ts";
import { address, failure } from "./tax.fixtures.ts";
import { updateTaxDetails } from "./tax-details.ts";

const { db } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
const { stripe } = ports;
await syncCatalogToStripe(ports);
const admin: Viewer = {
  userId: "00000000-0000-4000-8000-000000000001",
  email: "ops@example.com",
  name: "Ops",
  role: "admin",
  accountId: null,
};
const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });

let counter = 0;
async function newAccount() {
  counter += 1;
  const account = await db.account.create({ data: { name: `Currency attacker ${counter}` } });
  const email = `cur-attacker${counter}@example.com`;
  await db.user.create({
    data: {
      email,
      name: `Currency attacker ${counter}`,
      memberships: { create: { accountId: account.id, role: "owner" } },
    },
  });
  return { accountId: account.id, email, name: account.name };
}

async function payCheckout(url: string) {
  return await fetch(`${url}/pay`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "card=visa&address_country=US&address_state=OR&address_postal_code=97201",
    redirect: "manual",
  });
}

async function checkoutOf(
  account: Awaited<ReturnType<typeof newAccount>>,
  packageId: string,
  currency: "usd" | "eur" | "gbp",
) {
  const page = await subscribe(ports, account, { packageId, currency });
  if (page.kind !== "checkout") throw new Error("expected a Checkout page");
  return page;
}

describe("two tabs buying in two currencies", () => {
  it("a Checkout page asked for again in EUR after one in GBP is an open page, and the GBP one is expired", async () => {
    const account = await newAccount();
    const eur = await checkoutOf(account, pro.id, "eur");
    const gbp = await checkoutOf(account, pro.id, "gbp");
    expect((await stripe.checkout.sessions.retrieve(eur.sessionId)).status).toBe("expired");
    // The first tab clicks again in EUR, with no request key (as the REST subscribe sends): the same Stripe
    // key as its first page, which Stripe replays, expired. The page it is sent to can be paid.
    const again = await checkoutOf(account, pro.id, "eur");
    const opened = await stripe.checkout.sessions.retrieve(again.sessionId);
    expect({ status: opened.status, currency: opened.currency }).toEqual({ status: "open", currency: "eur" });
    expect((await stripe.checkout.sessions.retrieve(gbp.sessionId)).status).toBe("expired");
    // A retry of that request (a lost answer) finds the same page, not a third one.
    expect((await checkoutOf(account, pro.id, "eur")).sessionId).toBe(again.sessionId);
    const open = await stripe.checkout.sessions.list({ customer: opened.customer as string, status: "open" });
    expect(open.data.map((s) => s.id)).toEqual([again.sessionId]);
  });
});

describe("two tabs at once: Checkout in EUR paid, then a saved card in GBP", () => {
  it("the GBP purchase is a 409 naming currency, even when Minutely has not synced the EUR page's payment yet", async () => {
    const account = await newAccount();
    const eur = await checkoutOf(account, pro.id, "eur");
    // The first tab pays; its webhook has not reached Minutely yet.
    expect((await payCheckout(eur.url)).status).toBeLessThan(400);
    expect(await db.subscription.count({ where: { accountId: account.accountId } })).toBe(0);
    const refused = await failure(
      subscribe(ports, account, { packageId: pro.id, paymentMethodId: "pm_card_visa", currency: "gbp" }),
    );
    expect(refused).toMatchObject({ code: "CONFLICT", field: "currency" });
    const customer = (await db.account.findUniqueOrThrow({ where: { id: account.accountId } }))
      .stripeCustomerId;
    const subs = await stripe.subscriptions.list({ customer: customer ?? "", status: "all" });
    expect(subs.data.map((s) => s.currency)).toEqual(["eur"]);
    // The EUR subscription the refusal found is Minutely's now: the account is billed in EUR.
    const row = await db.subscription.findFirstOrThrow({ where: { accountId: account.accountId } });
    expect({ currency: row.currency, status: row.status }).toEqual({ currency: "eur", status: "active" });
  });
});

describe("a currency's price removed while a Checkout page in it is open", () => {
  it("expires the open EUR page: it cannot be paid into a EUR subscription to a package no longer sold in EUR", async () => {
    const euro = (
      await createPackage(ports, admin, {
        name: "Euro Lite",
        description: "Briefly in euros",
        monthlyPriceCents: 3900,
        currency: "usd",
        callMinutesLimit: 1500,
        agentsAllowed: 2,
        analyticsAccess: false,
        apiAccess: false,
        overagePriceCentsPerMinute: 4,
        recommended: false,
        prices: { eur: { amountCents: 3700, overagePriceCentsPerMinute: 4 } },
      })
    ).package;
    await syncCatalogToStripe(ports);
    const account = await newAccount();
    const page = await checkoutOf(account, euro.id, "eur");
    // Another customer's page in USD for the same package stays open: only EUR stops being sold.
    const other = await newAccount();
    const usdPage = await checkoutOf(other, euro.id, "usd");
    const row = await db.subscriptionPlan.findUniqueOrThrow({ where: { id: euro.id } });
    const removed = await updatePackage(ports, admin, euro.id, {
      name: row.name,
      description: row.description,
      monthlyPriceCents: row.monthlyPriceCents,
      currency: "usd",
      callMinutesLimit: row.callMinutesLimit,
      agentsAllowed: row.agentsAllowed,
      analyticsAccess: row.analyticsAccess,
      apiAccess: row.apiAccess,
      overagePriceCentsPerMinute: row.overagePriceCentsPerMinute,
      recommended: row.recommended,
      prices: {},
    });
    expect(removed.syncError).toBeNull();
    expect((await stripe.checkout.sessions.retrieve(page.sessionId)).status).toBe("expired");
    expect((await stripe.checkout.sessions.retrieve(usdPage.sessionId)).status).toBe("open");

    // The customer pays the page anyway (a tab left open): nothing is charged, no subscription is made.
    await payCheckout(page.url);
    await completeCheckout(ports, account.accountId, page.sessionId);
    expect(await db.subscription.count({ where: { accountId: account.accountId } })).toBe(0);
    // Nothing is left for the start-up sync to do.
    expect((await syncCatalogToStripe(ports)).synced).toBe(0);
  });

  it("a page opened while the removal is being saved (before its sync) is expired by subscribe itself: 409 naming currency", async () => {
    const euro = (
      await createPackage(ports, admin, {
        name: "Euro Race",
        description: "Removed mid-purchase",
        monthlyPriceCents: 4900,
        currency: "usd",
        callMinutesLimit: 1500,
        agentsAllowed: 2,
        analyticsAccess: false,
        apiAccess: false,
        overagePriceCentsPerMinute: null,
        recommended: false,
        prices: { eur: { amountCents: 4700, overagePriceCentsPerMinute: null } },
      })
    ).package;
    await syncCatalogToStripe(ports);
    // The admin's removal commits just after Stripe opened this page (its sync has not run yet).
    let opened: string | null = null;
    const racing = {
      ...ports,
      billing: Object.assign(Object.create(Object.getPrototypeOf(ports.billing)), ports.billing, {
        createSubscriptionCheckout: async (
          input: Parameters<typeof ports.billing.createSubscriptionCheckout>[0],
        ) => {
          const page = await ports.billing.createSubscriptionCheckout(input);
          opened = page.sessionId;
          await db.subscriptionPlanPrice.deleteMany({ where: { planId: euro.id, currency: "eur" } });
          return page;
        },
      }),
    };
    const account = await newAccount();
    const refused = await failure(subscribe(racing, account, { packageId: euro.id, currency: "eur" }));
    expect(refused).toMatchObject({ code: "CONFLICT", field: "currency" });
    expect(opened).not.toBeNull();
    expect((await stripe.checkout.sessions.retrieve(opened ?? "")).status).toBe("expired");
  });
});

/** Sets Pro's EUR price (an admin's change); answers how to put it back. */
async function raiseProEur(amountCents: number): Promise<() => Promise<unknown>> {
  const full = await db.subscriptionPlan.findUniqueOrThrow({
    where: { id: pro.id },
    include: { currencyPrices: true },
  });
  const priceOf = (currency: string) => {
    const row = full.currencyPrices.find((p) => p.currency === currency);
    if (!row) throw new Error(`Pro has no ${currency} price`);
    return { amountCents: row.amountCents, overagePriceCentsPerMinute: row.overagePriceCentsPerMinute };
  };
  const input = (eur: number) => ({
    name: full.name,
    description: full.description,
    monthlyPriceCents: full.monthlyPriceCents,
    currency: "usd" as const,
    callMinutesLimit: full.callMinutesLimit,
    agentsAllowed: full.agentsAllowed,
    analyticsAccess: full.analyticsAccess,
    apiAccess: full.apiAccess,
    overagePriceCentsPerMinute: full.overagePriceCentsPerMinute,
    recommended: full.recommended,
    prices: { eur: { ...priceOf("eur"), amountCents: eur }, gbp: priceOf("gbp") },
  });
  const raised = await updatePackage(ports, admin, pro.id, input(amountCents));
  expect(raised.syncError).toBeNull();
  return () => updatePackage(ports, admin, pro.id, input(priceOf("eur").amountCents));
}

describe("an admin changing the EUR price while EUR subscribers exist", () => {
  it("a EUR Pro subscriber keeps €95 until changing package: charged €95 at renewal and shown €95, while new buyers pay €105", async () => {
    const account = await newAccount();
    await subscribe(ports, account, { packageId: pro.id, paymentMethodId: "pm_card_visa", currency: "eur" });
    const restore = await raiseProEur(10500);
    try {
      // What the subscriber is shown is what Stripe charges them: their own Stripe price, €95.
      const overview = await subscriptionOverview(ports, account.accountId);
      expect(overview.package?.monthlyPrice).toEqual({ amount: 9500, currency: "eur" });
      const board = await dashboard(ports, {
        accountId: account.accountId,
        userId: "00000000-0000-4000-8000-000000000002",
        email: account.email,
        name: account.name,
        sessionStartedAt: clock.now(),
      });
      expect(board.subscription.package?.monthlyPrice).toEqual({ amount: 9500, currency: "eur" });
      const end = overview.currentPeriodEnd ?? new Date();
      const sub = await advanceSubscriptionClock(
        ports,
        account.accountId,
        new Date(end.getTime() + 3_600_000),
      );
      const invoices = await stripe.invoices.list({ subscription: sub.stripeSubscriptionId, limit: 10 });
      expect(invoices.data.map((i) => ({ total: i.total, currency: i.currency }))).toEqual([
        { total: 9500, currency: "eur" },
        { total: 9500, currency: "eur" },
      ]);
      // A new EUR buyer gets €105.
      const newcomer = await newAccount();
      await subscribe(ports, newcomer, {
        packageId: pro.id,
        paymentMethodId: "pm_card_visa",
        currency: "eur",
      });
      expect((await subscriptionOverview(ports, newcomer.accountId)).package?.monthlyPrice).toEqual({
        amount: 10500,
        currency: "eur",
      });
    } finally {
      await restore();
    }
  });
});

describe("a downgrade at the cycle in GBP", () => {
  it("renews on Starter's GBP price: £25 charged in GBP, the subscription on Starter in GBP, shown £25", async () => {
    const starter = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Starter" } });
    const account = await newAccount();
    await subscribe(ports, account, { packageId: pro.id, paymentMethodId: "pm_card_visa", currency: "gbp" });
    await downgrade(ports, account, { packageId: starter.id });
    const before = await subscriptionOverview(ports, account.accountId);
    expect(before.package?.monthlyPrice).toEqual({ amount: 8500, currency: "gbp" });
    const end = before.currentPeriodEnd ?? new Date();
    const sub = await advanceSubscriptionClock(ports, account.accountId, new Date(end.getTime() + 3_600_000));
    await syncSubscription(ports, sub.stripeSubscriptionId);
    await syncRecentInvoices(ports, account.accountId, 5);
    const row = await db.subscription.findFirstOrThrow({ where: { accountId: account.accountId } });
    const starterGbp = await db.subscriptionPlanPrice.findUniqueOrThrow({
      where: { planId_currency: { planId: starter.id, currency: "gbp" } },
    });
    expect({ plan: row.planId, currency: row.currency, price: row.stripePriceId }).toEqual({
      plan: starter.id,
      currency: "gbp",
      price: starterGbp.stripePriceId,
    });
    const after = await subscriptionOverview(ports, account.accountId);
    expect(after.package?.monthlyPrice).toEqual({ amount: 2500, currency: "gbp" });
    const invoices = await stripe.invoices.list({ subscription: sub.stripeSubscriptionId, limit: 10 });
    expect(invoices.data.map((i) => ({ total: i.total, currency: i.currency }))).toEqual([
      { total: 2500, currency: "gbp" },
      { total: 8500, currency: "gbp" },
    ]);
    const history = await db.billingHistory.findMany({
      where: { accountId: account.accountId },
      orderBy: { issuedAt: "asc" },
    });
    expect(history.map((h) => ({ amount: h.totalCents, currency: h.currency.trim() }))).toEqual([
      { amount: 8500, currency: "gbp" },
      { amount: 2500, currency: "gbp" },
    ]);
  });
});

describe("a Checkout page opened in EUR, then the account's currency fixed in USD elsewhere", () => {
  it("an admin's USD balance credit expires the customer's open EUR Checkout page (Stripe would refuse its payment)", async () => {
    const account = await newAccount();
    const page = await checkoutOf(account, pro.id, "eur");
    await adjustAccount(
      ports,
      admin,
      account.accountId,
      { kind: "balance_credit", amountCents: 500, currency: "usd", reason: "Goodwill" },
      `credit-${account.accountId}`,
    );
    expect((await stripe.checkout.sessions.retrieve(page.sessionId)).status).toBe("expired");
    // The customer's packages page offers USD now, and a USD page can be paid.
    const usd = await checkoutOf(account, pro.id, "usd");
    expect((await payCheckout(usd.url)).status).toBeLessThan(400);
    await completeCheckout(ports, account.accountId, usd.sessionId);
    const row = await db.subscription.findFirstOrThrow({ where: { accountId: account.accountId } });
    expect({ status: row.status, currency: row.currency }).toEqual({ status: "active", currency: "usd" });
  });
});

describe("an upgrade in EUR with tax", () => {
  it("charges exactly the EUR preview (DE 19 %), and a total changed by the tax since is refused in EUR naming expectedTotalCents", async () => {
    const enterprise = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Enterprise" } });
    const account = await newAccount();
    const berlin = address({
      country: "DE",
      city: "Berlin",
      postalCode: "10115",
      line1: "Unter den Linden 1",
    });
    await updateTaxDetails(ports, account, { address: berlin, taxId: null, requestKey: "tax-de-eur-1" });
    await subscribe(ports, account, { packageId: pro.id, paymentMethodId: "pm_card_visa", currency: "eur" });
    const [first] = await billingHistory(ports, account.accountId);
    expect(first).toMatchObject({
      currency: "eur",
      taxCents: Math.round(9500 * 0.19),
      amountCents: 9500 + 1805,
    });

    clock.advance(10 * 24 * 3600 * 1000);
    const preview = await previewUpgrade(ports, account.accountId, enterprise.id);
    expect(preview.currency).toBe("eur");
    const net = preview.creditCents + preview.chargeCents;
    expect(preview.chargeCents).toBeLessThanOrEqual(28900);
    expect(preview.creditCents).toBeGreaterThanOrEqual(-9500);
    expect(preview.taxCents).toBe(Math.round(net * 0.19));
    expect(preview.totalDueNowCents).toBe(net + preview.taxCents);

    // Another tab moves the address to Paris (20 %): the confirmed German total is refused, nothing charged.
    await updateTaxDetails(ports, account, { address: address({}), taxId: null, requestKey: "tax-fr-eur-1" });
    const moved = await failure(
      upgrade(ports, account, {
        packageId: enterprise.id,
        prorationDate: preview.prorationDate,
        expectedTotalCents: preview.totalDueNowCents,
      }),
    );
    expect(moved).toMatchObject({ code: "CONFLICT", field: "expectedTotalCents" });
    expect(moved.message).toContain("EUR");
    expect(moved.message).not.toContain("USD");
    expect((await db.subscription.findFirstOrThrow({ where: { accountId: account.accountId } })).planId).toBe(
      pro.id,
    );

    const again = await previewUpgrade(ports, account.accountId, enterprise.id);
    expect(again.taxCents).toBe(Math.round((again.creditCents + again.chargeCents) * 0.2));
    const done = await upgrade(ports, account, {
      packageId: enterprise.id,
      prorationDate: again.prorationDate,
      expectedTotalCents: again.totalDueNowCents,
    });
    expect(done.upgrade.invoice).toMatchObject({ currency: "eur", totalCents: again.totalDueNowCents });
    const [upgradeInvoice] = await billingHistory(ports, account.accountId);
    expect(upgradeInvoice).toMatchObject({
      currency: "eur",
      amountCents: again.totalDueNowCents,
      taxCents: again.taxCents,
    });
  });
});

describe("a coupon with an amount off in USD on a EUR subscription", () => {
  it("is refused naming couponId (admin) and promotionCode (typed), never applied as $10 off €95; a EUR amount off applies", async () => {
    const account = await newAccount();
    await subscribe(ports, account, { packageId: pro.id, paymentMethodId: "pm_card_visa", currency: "eur" });
    const dollars = (
      await createCoupon(
        ports,
        admin,
        ZCouponInputSchema.parse({
          name: "Ten dollars off",
          percentOff: null,
          amountOffCents: 1000,
          currency: "usd",
          duration: "forever",
        }),
      )
    ).coupon;
    const refused = await failure(
      applyCouponToSubscription(ports, admin, { accountId: account.accountId, couponId: dollars.id }),
    );
    expect(refused).toMatchObject({ code: "BAD_REQUEST", field: "couponId" });
    const row = await db.subscription.findFirstOrThrow({ where: { accountId: account.accountId } });
    expect(row.couponId).toBeNull();
    const remote = await stripe.subscriptions.retrieve(row.stripeSubscriptionId);
    expect(remote.discounts ?? []).toEqual([]);

    // The same code typed for a EUR purchase by a new customer: not applicable in EUR.
    await createPromotionCode(
      ports,
      admin,
      ZPromotionCodeInputSchema.parse({ couponId: dollars.id, code: "TENDOLLARS" }),
    );
    const newcomer = await newAccount();
    const typed = await failure(
      subscribe(ports, newcomer, {
        packageId: pro.id,
        paymentMethodId: "pm_card_visa",
        currency: "eur",
        promotionCode: "TENDOLLARS",
      }),
    );
    expect(typed).toMatchObject({ code: "BAD_REQUEST", field: "promotionCode" });
    expect(await db.subscription.count({ where: { accountId: newcomer.accountId } })).toBe(0);

    const euros = (
      await createCoupon(
        ports,
        admin,
        ZCouponInputSchema.parse({
          name: "Ten euros off",
          percentOff: null,
          amountOffCents: 1000,
          currency: "eur",
          duration: "forever",
        }),
      )
    ).coupon;
    await applyCouponToSubscription(ports, admin, { accountId: account.accountId, couponId: euros.id });
    const overview = await subscriptionOverviewWithDiscount(ports, account.accountId);
    expect(overview.discount?.discountedMonthlyPrice).toEqual({ amount: 8500, currency: "eur" });
  });
});

describe("admin refunds and credits on a GBP invoice", () => {
  it("refund and credit note are in GBP against the £85 paid; more than is left is refused; a USD balance credit is refused naming currency", async () => {
    const account = await newAccount();
    await subscribe(ports, account, { packageId: pro.id, paymentMethodId: "pm_card_visa", currency: "gbp" });
    const invoice = await db.billingHistory.findFirstOrThrow({ where: { accountId: account.accountId } });
    expect({ paid: invoice.amountPaidCents, currency: invoice.currency.trim() }).toEqual({
      paid: 8500,
      currency: "gbp",
    });
    const refund = await adjustAccount(
      ports,
      admin,
      account.accountId,
      { kind: "refund", invoiceId: invoice.id, amountCents: 2000, reason: "Outage" },
      `gbp-refund-${account.accountId}`,
    );
    expect(refund).toMatchObject({ status: "succeeded", amountCents: 2000, currency: "gbp" });
    const refunds = await stripe.refunds.list({ limit: 100 });
    const made = refunds.data.find((r) => r.id === refund.stripeObjectId);
    expect({ amount: made?.amount, currency: made?.currency }).toEqual({ amount: 2000, currency: "gbp" });
    const tooMuch = await failure(
      adjustAccount(
        ports,
        admin,
        account.accountId,
        { kind: "refund", invoiceId: invoice.id, amountCents: 7000, reason: "More" },
        `gbp-more-${account.accountId}`,
      ),
    );
    expect(tooMuch.field).toBe("amountCents");
    expect(tooMuch.message).toContain("65.00 GBP");
    const note = await adjustAccount(
      ports,
      admin,
      account.accountId,
      { kind: "credit_note", invoiceId: invoice.id, amountCents: null, reason: "The rest as credit" },
      `gbp-note-${account.accountId}`,
    );
    expect(note).toMatchObject({ status: "succeeded", amountCents: 6500, currency: "gbp" });
    const usd = await failure(
      adjustAccount(
        ports,
        admin,
        account.accountId,
        { kind: "balance_credit", amountCents: 500, currency: "usd", reason: "Goodwill" },
        `gbp-credit-${account.accountId}`,
      ),
    );
    expect(usd.field).toBe("currency");
    const customer = await stripe.customers.retrieve(
      (await db.account.findUniqueOrThrow({ where: { id: account.accountId } })).stripeCustomerId ?? "",
    );
    expect(customer.deleted ? null : { balance: customer.balance, currency: customer.currency }).toEqual({
      balance: -6500,
      currency: "gbp",
    });
  });
});

describe("an upgrade decided by what the subscriber pays", () => {
  it("a EUR Pro subscriber at €95 upgrades to Enterprise (€289) after an admin raised Pro's EUR price to €300", async () => {
    const enterprise = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Enterprise" } });
    const account = await newAccount();
    await subscribe(ports, account, { packageId: pro.id, paymentMethodId: "pm_card_visa", currency: "eur" });
    const restore = await raiseProEur(30000);
    try {
      const preview = await previewUpgrade(ports, account.accountId, enterprise.id);
      expect(preview.currency).toBe("eur");
      expect(preview.chargeCents).toBeGreaterThan(0);
      const done = await upgrade(ports, account, {
        packageId: enterprise.id,
        prorationDate: preview.prorationDate,
        expectedTotalCents: preview.totalDueNowCents,
      });
      expect(done.upgrade.monthlyPrice).toEqual({ amount: 28900, currency: "eur" });
    } finally {
      await restore();
    }
  });

  it("the package selection shows the current package at what the subscriber pays, so Enterprise is offered as an upgrade", async () => {
    const account = await newAccount();
    await subscribe(ports, account, { packageId: pro.id, paymentMethodId: "pm_card_visa", currency: "eur" });
    const restore = await raiseProEur(30000);
    try {
      const selection = await packageSelection(ports, account.accountId);
      expect(selection.packages.find((p) => p.id === pro.id)?.monthlyPrice).toEqual({
        amount: 9500,
        currency: "eur",
      });
      // A new EUR buyer's selection prices Pro at the new €300.
      const newcomer = await newAccount();
      const offered = await packageSelection(ports, newcomer.accountId, "eur");
      expect(offered.packages.find((p) => p.id === pro.id)?.monthlyPrice).toEqual({
        amount: 30000,
        currency: "eur",
      });
    } finally {
      await restore();
    }
  });
});

describe("a card update for a EUR customer", () => {
  it("opens the setup page in the account's currency, not USD", async () => {
    const account = await newAccount();
    await subscribe(ports, account, { packageId: pro.id, paymentMethodId: "pm_card_visa", currency: "eur" });
    const setup = await startPaymentMethodUpdate(ports, account, "update-1");
    expect((await stripe.checkout.sessions.retrieve(setup.sessionId)).currency).toBe("eur");
  });
});
