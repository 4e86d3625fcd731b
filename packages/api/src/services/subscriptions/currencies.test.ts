// Subscriptions sold in EUR and GBP (issue #25): a subscription knows its currency, and everything priced
// for it (its overview, upgrade previews and targets, downgrades) is its package's price in that currency,
// never the package's own USD price. Real PostgreSQL, the official Stripe SDK against the emulator.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import type { Viewer } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { advanceSubscriptionClock, testPorts } from "../../testing.ts";
import { accountEntitlements } from "../accounts/entitlements.ts";
import { syncSubscription } from "../billing/subscription-sync.ts";
import { createPackage, syncCatalogToStripe, updatePackage } from "../catalog/catalog-admin.ts";
import { dashboard } from "../dashboard/dashboard.ts";
import {
  cancel,
  downgrade,
  previewUpgrade,
  subscribe,
  subscriptionOverview,
  upgrade,
} from "./subscriptions.ts";

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
const dollarOnly = (
  await createPackage(ports, admin, {
    name: "Dollar Max",
    description: "Sold in dollars only",
    monthlyPriceCents: 59900,
    currency: "usd",
    callMinutesLimit: 20000,
    agentsAllowed: 25,
    analyticsAccess: true,
    apiAccess: true,
    overagePriceCentsPerMinute: 1,
    recommended: false,
  })
).package;
await syncCatalogToStripe(ports);
const plan = async (name: string) => await db.subscriptionPlan.findUniqueOrThrow({ where: { name } });
const [starter, pro, enterprise] = [await plan("Starter"), await plan("Pro"), await plan("Enterprise")];
const priceIdIn = async (planId: string, currency: string) =>
  (await db.subscriptionPlanPrice.findUniqueOrThrow({ where: { planId_currency: { planId, currency } } }))
    .stripePriceId;

let counter = 0;
async function newAccount() {
  counter += 1;
  const account = await db.account.create({ data: { name: `Euro customer ${counter}` } });
  const email = `euro${counter}@example.com`;
  await db.user.create({
    data: {
      email,
      name: `Euro ${counter}`,
      memberships: { create: { accountId: account.id, role: "owner" } },
    },
  });
  return { accountId: account.id, email, name: `Euro ${counter}` };
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

describe("a subscription in EUR", () => {
  it("is on Pro's EUR price, shown at €95; its upgrade is priced and charged in EUR on Enterprise's EUR price", async () => {
    const account = await newAccount();
    await subscribe(ports, account, { packageId: pro.id, paymentMethodId: "pm_card_visa", currency: "eur" });
    const row = await db.subscription.findFirstOrThrow({ where: { accountId: account.accountId } });
    expect({ currency: row.currency, price: row.stripePriceId }).toEqual({
      currency: "eur",
      price: await priceIdIn(pro.id, "eur"),
    });
    const overview = await subscriptionOverview(ports, account.accountId);
    expect(overview.package?.monthlyPrice).toEqual({ amount: 9500, currency: "eur" });
    const entitled = await accountEntitlements(ports, account.accountId);
    expect(entitled.package?.monthlyPrice).toEqual({ amount: 9500, currency: "eur" });
    expect(entitled.package?.overagePricePerMinute).toEqual({ amount: 3, currency: "eur" });

    const preview = await previewUpgrade(ports, account.accountId, enterprise.id);
    expect(preview.currency).toBe("eur");
    // Stripe prorates €289 against €95 (not $299 against $99): the charge is at most €289.
    expect(preview.chargeCents).toBeGreaterThan(0);
    expect(preview.chargeCents).toBeLessThanOrEqual(28900);
    expect(preview.creditCents).toBeGreaterThanOrEqual(-9500);

    const upgraded = await upgrade(ports, account, {
      packageId: enterprise.id,
      prorationDate: preview.prorationDate,
      expectedTotalCents: preview.totalDueNowCents,
    });
    expect(upgraded.upgrade.monthlyPrice).toEqual({ amount: 28900, currency: "eur" });
    expect(upgraded.upgrade.invoice).toMatchObject({ currency: "eur", totalCents: preview.totalDueNowCents });
    const after = await db.subscription.findFirstOrThrow({ where: { accountId: account.accountId } });
    expect({ currency: after.currency, price: after.stripePriceId, planId: after.planId }).toEqual({
      currency: "eur",
      price: await priceIdIn(enterprise.id, "eur"),
      planId: enterprise.id,
    });
  });

  it("a downgrade is scheduled on Starter's EUR price; a package without a EUR price is refused, 409 naming packageId", async () => {
    const account = await newAccount();
    await subscribe(ports, account, { packageId: pro.id, paymentMethodId: "pm_card_visa", currency: "eur" });
    const refusedUp = await failure(previewUpgrade(ports, account.accountId, dollarOnly.id));
    expect(refusedUp).toMatchObject({ code: "CONFLICT", field: "packageId" });
    expect(refusedUp.message).toContain("no price in EUR");

    await downgrade(ports, account, { packageId: starter.id });
    const row = await db.subscription.findFirstOrThrow({ where: { accountId: account.accountId } });
    expect(row.scheduledPlanId).toBe(starter.id);
    const schedule = await ports.stripe.subscriptionSchedules.retrieve(row.stripeScheduleId ?? "");
    const next = schedule.phases.at(-1)?.items[0]?.price;
    expect(typeof next === "string" ? next : next?.id).toBe(await priceIdIn(starter.id, "eur"));
  });

  it("a package's EUR price cannot be removed while a live subscription bills in EUR (409 naming prices.eur)", async () => {
    const account = await newAccount();
    await subscribe(ports, account, {
      packageId: enterprise.id,
      paymentMethodId: "pm_card_visa",
      currency: "eur",
    });
    const full = await db.subscriptionPlan.findUniqueOrThrow({
      where: { id: enterprise.id },
      include: { currencyPrices: true },
    });
    const gbp = full.currencyPrices.find((p) => p.currency === "gbp");
    const refused = await failure(
      updatePackage(ports, admin, enterprise.id, {
        name: full.name,
        description: full.description,
        monthlyPriceCents: full.monthlyPriceCents,
        currency: "usd",
        callMinutesLimit: full.callMinutesLimit,
        agentsAllowed: full.agentsAllowed,
        analyticsAccess: full.analyticsAccess,
        apiAccess: full.apiAccess,
        overagePriceCentsPerMinute: full.overagePriceCentsPerMinute,
        recommended: full.recommended,
        prices: {
          gbp: {
            amountCents: gbp?.amountCents ?? 0,
            overagePriceCentsPerMinute: gbp?.overagePriceCentsPerMinute ?? null,
          },
        },
      }),
    );
    expect(refused).toMatchObject({ code: "CONFLICT", field: "prices.eur" });
    expect(await db.subscriptionPlanPrice.count({ where: { planId: enterprise.id, currency: "eur" } })).toBe(
      1,
    );
  });

  it("an ended EUR subscription whose package no longer sells in EUR shows the EUR price it was charged, never another currency's", async () => {
    const basic = (
      await createPackage(ports, admin, {
        name: "Euro Basic",
        description: "For a while in euros too",
        monthlyPriceCents: 1900,
        currency: "usd",
        callMinutesLimit: 500,
        agentsAllowed: 1,
        analyticsAccess: false,
        apiAccess: false,
        overagePriceCentsPerMinute: null,
        recommended: false,
        prices: { eur: { amountCents: 1700, overagePriceCentsPerMinute: null } },
      })
    ).package;
    await syncCatalogToStripe(ports);
    const account = await newAccount();
    await subscribe(ports, account, {
      packageId: basic.id,
      paymentMethodId: "pm_card_visa",
      currency: "eur",
    });
    const cancelled = await cancel(ports, account);
    const end = new Date((cancelled.currentPeriodEnd ?? new Date()).getTime() + 3_600_000);
    const sub = await advanceSubscriptionClock(ports, account.accountId, end);
    clock.set(end);
    expect((await syncSubscription(ports, sub.stripeSubscriptionId))?.status).toBe("canceled");

    // Now no live subscription bills Euro Basic in EUR: the admin may stop selling it in EUR.
    const row = await db.subscriptionPlan.findUniqueOrThrow({ where: { id: basic.id } });
    await updatePackage(ports, admin, basic.id, {
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
    expect(await db.subscriptionPlanPrice.count({ where: { planId: basic.id, currency: "eur" } })).toBe(0);

    const overview = await subscriptionOverview(ports, account.accountId);
    expect(overview.package?.monthlyPrice).toEqual({ amount: 1700, currency: "eur" });
    const entitled = await accountEntitlements(ports, account.accountId);
    expect(entitled.package?.monthlyPrice).toEqual({ amount: 1700, currency: "eur" });
    const board = await dashboard(ports, {
      accountId: account.accountId,
      userId: "00000000-0000-4000-8000-000000000002",
      email: account.email,
      name: account.name,
      sessionStartedAt: clock.now(),
    });
    expect(board.subscription.package?.monthlyPrice).toEqual({ amount: 1700, currency: "eur" });
  });
});
