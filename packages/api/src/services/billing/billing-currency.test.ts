// An account's billing currency: Stripe fixes a customer's currency at its first subscription, so a
// package without a price in that currency can never be bought by that account; one that has a price in
// it is bought at that price (issue #25: the default catalog in USD, EUR and GBP). Real PostgreSQL, the official Stripe
// SDK against the emulator (which refuses to combine currencies on a customer, as Stripe does).
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import type { Viewer } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { BillingCurrencyConflictError } from "../../ports/billing.ts";
import { advanceSubscriptionClock, testPorts } from "../../testing.ts";
import { createPackage, syncCatalogToStripe } from "../catalog/catalog-admin.ts";
import { toPackageView } from "../catalog/packages.ts";
import { packageSelection } from "../subscriptions/package-selection.ts";
import { cancel, downgrade, subscribe, upgrade } from "../subscriptions/subscriptions.ts";
import { adjustAccount } from "./adjustments.ts";
import { accountBillingCurrency, fromCurrencyConflict } from "./billing-currency.ts";
import { syncSubscription } from "./subscription-sync.ts";

const { db } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
const admin: Viewer = {
  userId: "00000000-0000-4000-8000-000000000001",
  email: "ops@example.com",
  name: "Ops",
  role: "admin",
  accountId: null,
};
await syncCatalogToStripe(ports);
const euroPlus = (
  await createPackage(ports, admin, {
    name: "Euro Plus",
    description: "Billed in euros",
    monthlyPriceCents: 3900,
    currency: "eur",
    callMinutesLimit: 1500,
    agentsAllowed: 3,
    analyticsAccess: true,
    apiAccess: false,
    overagePriceCentsPerMinute: 4,
    recommended: false,
  })
).package;
// A package sold in USD only (no prices in other currencies).
const dollarOnly = (
  await createPackage(ports, admin, {
    name: "Dollar Only",
    description: "Billed in dollars only",
    monthlyPriceCents: 4900,
    currency: "usd",
    callMinutesLimit: 2000,
    agentsAllowed: 3,
    analyticsAccess: true,
    apiAccess: false,
    overagePriceCentsPerMinute: 3,
    recommended: false,
  })
).package;
await syncCatalogToStripe(ports);
const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
const starter = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Starter" } });

let counter = 0;
async function newAccount() {
  counter += 1;
  const account = await db.account.create({ data: { name: `Currency customer ${counter}` } });
  const email = `currency${counter}@example.com`;
  await db.user.create({
    data: {
      email,
      name: `Currency customer ${counter}`,
      memberships: { create: { accountId: account.id, role: "owner" } },
    },
  });
  return { accountId: account.id, email, name: `Currency customer ${counter}` };
}

async function failure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error("expected the action to fail");
}

/** Moves the customer's Stripe test clock (and Minutely's clock) to `to`, then syncs as a webhook would. */
async function advanceTo(accountId: string, to: Date) {
  const sub = await advanceSubscriptionClock(ports, accountId, to);
  clock.set(to);
  return await syncSubscription(ports, sub.stripeSubscriptionId);
}

/** A former EUR customer: subscribed to Euro Plus, cancelled, and the period is over. */
async function formerEuroCustomer() {
  const account = await newAccount();
  await subscribe(ports, account, { packageId: euroPlus.id, paymentMethodId: "pm_card_visa" });
  const cancelled = await cancel(ports, account);
  const after = await advanceTo(
    account.accountId,
    new Date((cancelled.currentPeriodEnd ?? new Date()).getTime() + 3600 * 1000),
  );
  expect(after?.status).toBe("canceled");
  return account;
}

async function stripeSubscriptionCount(accountId: string) {
  const row = await db.account.findUniqueOrThrow({ where: { id: accountId } });
  const list = await ports.stripe.subscriptions.list({ customer: row.stripeCustomerId ?? "", status: "all" });
  return list.data.length;
}

describe("an account's billing currency", () => {
  it("is unknown before the first subscription, and every active package is available", async () => {
    const account = await newAccount();
    expect(await accountBillingCurrency(ports, account.accountId)).toBeNull();
    const selection = await packageSelection(ports, account.accountId);
    expect(selection.billingCurrency).toBeNull();
    expect(selection.packages.every((p) => p.availability.available)).toBe(true);
  });

  it("a former EUR customer subscribing to a package without a EUR price gets a 409 naming packageId, not Stripe's refusal", async () => {
    const account = await formerEuroCustomer();
    expect(await accountBillingCurrency(ports, account.accountId)).toBe("eur");
    const before = await stripeSubscriptionCount(account.accountId);

    const direct = await failure(
      subscribe(ports, account, { packageId: dollarOnly.id, paymentMethodId: "pm_card_visa" }),
    );
    expect(direct).toMatchObject({ code: "CONFLICT", field: "packageId" });
    expect(direct.message).toBe(
      "Your account is billed in EUR, and Dollar Only has no price in EUR: choose a package sold in EUR.",
    );

    // Checkout is refused too, instead of a page whose Pay button Stripe would refuse.
    const checkout = await failure(subscribe(ports, account, { packageId: dollarOnly.id }));
    expect(checkout).toMatchObject({ code: "CONFLICT", field: "packageId" });
    expect(await stripeSubscriptionCount(account.accountId)).toBe(before);

    // A USD package with a EUR price is bought in EUR, at its EUR price (Pro: €95, not $99).
    const again = await subscribe(ports, account, { packageId: pro.id, paymentMethodId: "pm_card_visa" });
    expect(again).toMatchObject({
      kind: "subscribed",
      subscription: { package: { id: pro.id, monthlyPrice: { amount: 9500, currency: "eur" } } },
    });
    const row = await db.subscription.findFirstOrThrow({
      where: { accountId: account.accountId, planId: pro.id },
    });
    expect(row.currency).toBe("eur");
  });

  it("a subscribe asking for a currency the account is not billed in is a 409 naming currency, before Stripe", async () => {
    const account = await formerEuroCustomer();
    const before = await stripeSubscriptionCount(account.accountId);
    for (const paymentMethodId of ["pm_card_visa", undefined]) {
      const refused = await failure(
        subscribe(ports, account, { packageId: euroPlus.id, paymentMethodId, currency: "usd" }),
      );
      expect(refused).toMatchObject({ code: "CONFLICT", field: "currency" });
      expect(refused.message).toBe("Your account is billed in EUR: every purchase is made in EUR, not USD.");
    }
    expect(await stripeSubscriptionCount(account.accountId)).toBe(before);
    // Its own currency, said explicitly, goes through.
    const again = await subscribe(ports, account, {
      packageId: euroPlus.id,
      paymentMethodId: "pm_card_visa",
      currency: "eur",
    });
    expect(again).toMatchObject({ kind: "subscribed", subscription: { package: { id: euroPlus.id } } });
    expect(await accountBillingCurrency(ports, account.accountId)).toBe("eur");
    // Asking again for the package it is on, in another currency, is refused too (not "subscribed").
    const onIt = await failure(subscribe(ports, account, { packageId: euroPlus.id, currency: "gbp" }));
    expect(onIt).toMatchObject({ code: "CONFLICT", field: "currency" });
  });

  it("a first purchase in a currency the package has no price in is a 409 naming currency; one it has is bought", async () => {
    const account = await newAccount();
    const none = await failure(subscribe(ports, account, { packageId: euroPlus.id, currency: "gbp" }));
    expect(none).toMatchObject({ code: "CONFLICT", field: "currency" });
    expect(none.message).toBe("Euro Plus has no price in GBP: choose EUR.");
    const dollars = await failure(
      subscribe(ports, account, {
        packageId: dollarOnly.id,
        paymentMethodId: "pm_card_visa",
        currency: "eur",
      }),
    );
    expect(dollars).toMatchObject({ code: "CONFLICT", field: "currency" });
    expect(await accountBillingCurrency(ports, account.accountId)).toBeNull();
    expect(await stripeSubscriptionCount(account.accountId)).toBe(0);

    // Pro in GBP (the seed's £85): a Checkout page for its GBP price.
    const checkout = await subscribe(ports, account, { packageId: pro.id, currency: "gbp" });
    expect(checkout).toMatchObject({ kind: "checkout" });
    if (checkout.kind !== "checkout") throw new Error("expected Checkout");
    const session = await ports.stripe.checkout.sessions.retrieve(checkout.sessionId, {
      expand: ["line_items"],
    });
    expect(session.currency).toBe("gbp");
    expect(session.amount_total).toBe(8500);
    const gbpPrice = await db.subscriptionPlanPrice.findUniqueOrThrow({
      where: { planId_currency: { planId: pro.id, currency: "gbp" } },
    });
    expect(session.line_items?.data[0]?.price?.id).toBe(gbpPrice.stripePriceId);
  });

  it("a first purchase with a card in GBP: the subscription, its invoice and its overview are in GBP", async () => {
    const account = await newAccount();
    const result = await subscribe(ports, account, {
      packageId: pro.id,
      paymentMethodId: "pm_card_visa",
      currency: "gbp",
    });
    expect(result).toMatchObject({
      kind: "subscribed",
      subscription: { package: { id: pro.id, monthlyPrice: { amount: 8500, currency: "gbp" } } },
    });
    const row = await db.subscription.findFirstOrThrow({ where: { accountId: account.accountId } });
    expect(row.currency).toBe("gbp");
    expect(await accountBillingCurrency(ports, account.accountId)).toBe("gbp");
    const invoice = await db.billingHistory.findFirstOrThrow({ where: { accountId: account.accountId } });
    expect({ total: invoice.subtotalCents, currency: invoice.currency }).toEqual({
      total: 8500,
      currency: "gbp",
    });
    // Later purchases default to the account's currency: asking for none is GBP.
    const selection = await packageSelection(ports, account.accountId);
    expect(selection.billingCurrency).toBe("gbp");
    expect(selection.packages.find((p) => p.id === pro.id)?.monthlyPrice).toEqual({
      amount: 8500,
      currency: "gbp",
    });
  });

  it("the package selection marks packages in another currency unavailable, with the reason", async () => {
    const account = await formerEuroCustomer();
    const selection = await packageSelection(ports, account.accountId);
    expect(selection.billingCurrency).toBe("eur");
    const byName = Object.fromEntries(selection.packages.map((p) => [p.name, p.availability]));
    expect(byName["Euro Plus"]).toEqual({ available: true, reason: null });
    // The default catalog has EUR prices: available, priced in EUR.
    expect(byName.Pro).toEqual({ available: true, reason: null });
    expect(selection.packages.find((p) => p.id === pro.id)?.monthlyPrice).toEqual({
      amount: 9500,
      currency: "eur",
    });
    expect(byName["Dollar Only"]).toEqual({
      available: false,
      reason: "Your account is billed in EUR, and Dollar Only has no price in EUR.",
    });
  });

  it("a USD subscriber is offered no change to a EUR package, and upgrade/downgrade to it are a 409 before Stripe", async () => {
    const account = await newAccount();
    await subscribe(ports, account, { packageId: pro.id, paymentMethodId: "pm_card_visa" });
    const selection = await packageSelection(ports, account.accountId);
    expect(selection.billingCurrency).toBe("usd");
    const euro = selection.packages.find((p) => p.id === euroPlus.id);
    expect(euro?.availability).toEqual({
      available: false,
      reason: "Your account is billed in USD, and Euro Plus has no price in USD.",
    });
    expect(selection.packages.find((p) => p.id === starter.id)?.availability.available).toBe(true);

    const down = await failure(downgrade(ports, account, { packageId: euroPlus.id }));
    expect(down).toMatchObject({ code: "CONFLICT", field: "packageId" });
    expect(down.message).toContain("billed in USD");
    const up = await failure(upgrade(ports, account, { packageId: euroPlus.id, prorationDate: clock.now() }));
    expect(up).toMatchObject({ code: "CONFLICT", field: "packageId" });
    const sub = await db.subscription.findFirstOrThrow({ where: { accountId: account.accountId } });
    expect(sub.stripeScheduleId).toBeNull();
  });

  it("is Stripe's customer currency when this database forgot the subscriptions: subscribe is refused before Stripe charges", async () => {
    const account = await newAccount();
    await subscribe(ports, account, { packageId: starter.id, paymentMethodId: "pm_card_visa" });
    // Stripe's customer had a USD subscription this database no longer knows of (a lost sync, say), now ended.
    const sub = await db.subscription.findFirstOrThrow({ where: { accountId: account.accountId } });
    await ports.stripe.subscriptions.cancel(sub.stripeSubscriptionId);
    await db.billingHistory.deleteMany({ where: { accountId: account.accountId } });
    await db.subscription.deleteMany({ where: { accountId: account.accountId } });
    expect(await accountBillingCurrency(ports, account.accountId)).toBeNull();

    const refused = await failure(
      subscribe(ports, account, { packageId: euroPlus.id, paymentMethodId: "pm_card_visa" }),
    );
    expect(refused).toMatchObject({ code: "CONFLICT", field: "packageId" });
    expect(refused.message).toContain("billed in USD");
    expect(await stripeSubscriptionCount(account.accountId)).toBe(1);
  });

  it("Stripe's own refusal to combine currencies (a race) is a typed error naming the customer's currency", async () => {
    const account = await newAccount();
    await subscribe(ports, account, { packageId: starter.id, paymentMethodId: "pm_card_visa" });
    const row = await db.account.findUniqueOrThrow({ where: { id: account.accountId } });
    const euro = await db.subscriptionPlan.findUniqueOrThrow({ where: { id: euroPlus.id } });
    const refused = await ports.billing
      .createSubscription({
        customerId: row.stripeCustomerId ?? "",
        priceId: euro.stripePriceId ?? "",
        paymentMethodId: "pm_card_visa",
        automaticTax: false,
        metadata: {},
        idempotencyKey: `currency-race-${account.accountId}`,
      })
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(refused).toBeInstanceOf(BillingCurrencyConflictError);
    expect((refused as BillingCurrencyConflictError).customerCurrency).toBe("usd");
    // And the service turns it into the same 409 as its own check.
    const mapped = await failure(
      Promise.reject(refused).catch((error: unknown) => fromCurrencyConflict(error, toPackageView(euro))),
    );
    expect(mapped).toMatchObject({ code: "CONFLICT", field: "packageId" });
    expect(mapped.message).toBe(
      "Your account is billed in USD, and Euro Plus has no price in USD: choose a package sold in USD.",
    );
  });

  it("a balance credit an admin gave before any purchase fixes the currency: the selection prices in it, another is refused", async () => {
    const account = await newAccount();
    // A Stripe customer without a purchase yet (a billing address entered, say).
    const { stripeCustomerId } = await db.account.update({
      where: { id: account.accountId },
      data: {
        stripeCustomerId: (await ports.stripe.customers.create({ email: account.email })).id,
      },
    });
    expect(stripeCustomerId).not.toBeNull();
    await adjustAccount(
      ports,
      admin,
      account.accountId,
      { kind: "balance_credit", amountCents: 500, currency: "gbp", reason: "goodwill" },
      `credit-${account.accountId}`,
    );
    expect(await accountBillingCurrency(ports, account.accountId)).toBe("gbp");
    const selection = await packageSelection(ports, account.accountId, "eur");
    expect(selection.currency).toBe("gbp");
    expect(selection.packages.find((p) => p.id === pro.id)?.monthlyPrice).toEqual({
      amount: 8500,
      currency: "gbp",
    });
    const refused = await failure(
      subscribe(ports, account, { packageId: pro.id, paymentMethodId: "pm_card_visa", currency: "eur" }),
    );
    expect(refused).toMatchObject({ code: "CONFLICT", field: "currency" });
    expect(await stripeSubscriptionCount(account.accountId)).toBe(0);
  });
});
