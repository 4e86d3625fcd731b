// The "started without a free trial" mail attacked: what it says was charged must be what was charged.
// Real PostgreSQL, the official Stripe SDK against the emulator.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import type { Viewer } from "../../context.ts";
import { testPorts } from "../../testing.ts";
import { syncCatalogToStripe } from "../catalog/catalog-admin.ts";
import {
  createCoupon,
  createPromotionCode,
  ZCouponInputSchema,
  ZPromotionCodeInputSchema,
} from "../catalog/coupons.ts";
import { subscribe } from "./subscriptions.ts";
import { newTrialAccount, runTrialRefusedMailJobs } from "./trials.fixtures.ts";

const { db } = await testDatabase();
const START = new Date("2026-11-27T12:00:00Z");
const clock = fixedClock(START);
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
await syncCatalogToStripe(ports);
await db.subscriptionPlan.update({ where: { name: "Pro" }, data: { trialDays: 7, trialRequiresCard: true } });
const pro = await db.subscriptionPlan.findFirstOrThrow({ where: { name: "Pro" } });
const admin: Viewer = {
  userId: "00000000-0000-4000-8000-000000000001",
  email: "ops@example.com",
  name: "Ops",
  role: "admin",
  accountId: null,
};
const SUBJECT = "Your Minutely subscription started without a free trial";

const newAccount = () => newTrialAccount(db, "Mail");

describe("the trial-refused mail", () => {
  it("names the amount the first invoice charged when a promotion code took part of it off", async () => {
    const first = await newAccount();
    await subscribe(ports, first, { packageId: pro.id, paymentMethodId: "pm_card_mastercard" });
    const half = (
      await createCoupon(
        ports,
        admin,
        ZCouponInputSchema.parse({
          name: "Half off",
          percentOff: 50,
          amountOffCents: null,
          currency: null,
          duration: "forever",
        }),
      )
    ).coupon;
    await createPromotionCode(
      ports,
      admin,
      ZPromotionCodeInputSchema.parse({ couponId: half.id, code: "HALF" }),
    );
    const second = await newAccount();
    await subscribe(ports, second, {
      packageId: pro.id,
      paymentMethodId: "pm_card_mastercard",
      promotionCode: "HALF",
    });
    const row = await db.subscription.findFirstOrThrow({ where: { accountId: second.accountId } });
    expect(row.trialStart).toBeNull();
    const invoices = await ports.stripe.invoices.list({ subscription: row.stripeSubscriptionId });
    const paid = invoices.data.filter((i) => i.amount_paid > 0).map((i) => i.amount_paid);
    expect(paid).toHaveLength(1);
    await runTrialRefusedMailJobs(ports);
    const told = await db.mailMessage.findMany({ where: { to: second.email, subject: SUBJECT } });
    expect(told).toHaveLength(1);
    expect(told[0]?.text).toContain(`charged ${((paid[0] ?? 0) / 100).toFixed(2)} USD`);
  });

  it("names the amount in the subscription's currency (EUR), not the package's USD price", async () => {
    const first = await newAccount();
    await subscribe(ports, first, { packageId: pro.id, paymentMethodId: "pm_card_amex" });
    const second = await newAccount();
    await subscribe(ports, second, { packageId: pro.id, paymentMethodId: "pm_card_amex", currency: "eur" });
    const row = await db.subscription.findFirstOrThrow({ where: { accountId: second.accountId } });
    expect(row).toMatchObject({ currency: "eur", trialStart: null });
    const invoices = await ports.stripe.invoices.list({ subscription: row.stripeSubscriptionId });
    const paid = invoices.data.filter((i) => i.amount_paid > 0);
    expect(paid.map((i) => i.currency)).toEqual(["eur"]);
    await runTrialRefusedMailJobs(ports);
    const told = await db.mailMessage.findMany({ where: { to: second.email, subject: SUBJECT } });
    expect(told.map((m) => m.text)).toEqual([
      expect.stringContaining(`charged ${((paid[0]?.amount_paid ?? 0) / 100).toFixed(2)} EUR`),
    ]);
    expect(told[0]?.text).not.toContain("USD");
  });

  it("never says the card was charged when the charge that ended the trial failed: it says so and what to do", async () => {
    // Two accounts start trials with one card at the same moment (a card that saves but whose charges fail):
    // one keeps the trial, the other's ends at once and its charge is declined.
    const a = await newAccount();
    const b = await newAccount();
    await Promise.all(
      [a, b].map((who) =>
        subscribe(ports, who, { packageId: pro.id, paymentMethodId: "pm_card_chargeCustomerFail" }),
      ),
    );
    const rows = await db.subscription.findMany({ where: { accountId: { in: [a.accountId, b.accountId] } } });
    expect(rows.map((r) => r.status).sort()).toEqual(["past_due", "trialing"]);
    const loser = rows.find((r) => r.status === "past_due");
    const owner = loser?.accountId === a.accountId ? a : b;
    await runTrialRefusedMailJobs(ports);
    const told = await db.mailMessage.findMany({ where: { to: owner.email, subject: SUBJECT } });
    expect(told).toHaveLength(1);
    expect(told[0]?.text).not.toMatch(/was charged/);
    expect(told[0]?.text).toContain("could not be charged 99.00 USD");
    expect(told[0]?.text).toContain("Update card");
  });
});
