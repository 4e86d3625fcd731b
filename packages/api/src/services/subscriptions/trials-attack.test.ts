// Free trials attacked as a careless user and a hostile client: a card added to a trial that started without
// one, and the trial Checkout refused because its card had a trial elsewhere. Real PostgreSQL, the official
// Stripe SDK against the emulator (its own database: the cards' fingerprints here are this file's alone).
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { testPorts } from "../../testing.ts";
import { syncCatalogToStripe } from "../catalog/catalog-admin.ts";
import {
  completeCheckout,
  startPaymentMethodUpdate,
  subscribe,
  subscriptionOverview,
} from "./subscriptions.ts";
import { notifyTrialEnded } from "./trials.ts";

const { db } = await testDatabase();
const START = new Date("2026-11-27T12:00:00Z");
const clock = fixedClock(START);
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
await syncCatalogToStripe(ports);
// Starter: 14 days without a card; Pro: 7 days, card required.
await db.subscriptionPlan.update({
  where: { name: "Starter" },
  data: { trialDays: 14, trialRequiresCard: false },
});
await db.subscriptionPlan.update({ where: { name: "Pro" }, data: { trialDays: 7, trialRequiresCard: true } });
const plans = Object.fromEntries((await db.subscriptionPlan.findMany()).map((p) => [p.name, p.id])) as Record<
  string,
  string
>;

let counter = 0;
async function newAccount() {
  counter += 1;
  const account = await db.account.create({ data: { name: `Attacker ${counter}` } });
  const email = `attacker${counter}@example.com`;
  await db.user.create({ data: { email, name: `Attacker ${counter}`, accountId: account.id } });
  return { accountId: account.id, email, name: account.name };
}

async function payCheckout(url: string, card: string) {
  await fetch(`${url}/pay`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: `card=${card}`,
    redirect: "manual",
  });
}

async function addCard(who: { accountId: string; email: string; name: string }, card: string, key: string) {
  const setup = await startPaymentMethodUpdate(ports, who, key);
  await payCheckout(setup.url, card);
  await completeCheckout(ports, who.accountId, setup.sessionId);
}

describe("free trials under attack", () => {
  it("gives a card added to a trial started without one no second trial on another account", async () => {
    clock.set(START);
    const first = await newAccount();
    await subscribe(ports, first, { packageId: plans.Starter });
    // "Add a card" during the trial (twice: a double click, then another card): the trial goes on.
    await addCard(first, "visa", "add-card-1");
    await addCard(first, "visa", "add-card-1");
    expect((await subscriptionOverview(ports, first.accountId)).trial).toMatchObject({ cardOnFile: true });
    await addCard(first, "mastercard", "add-card-2");
    expect((await subscriptionOverview(ports, first.accountId)).status).toBe("trialing");
    // The card that went on that trial, from another sign-up: subscribed and charged, no trial.
    const second = await newAccount();
    await subscribe(ports, second, { packageId: plans.Pro, paymentMethodId: "pm_card_visa" });
    expect(await db.subscription.findFirstOrThrow({ where: { accountId: second.accountId } })).toMatchObject({
      status: "active",
      trialStart: null,
    });
  });

  it("does not tell a customer whose trial Checkout refused (card used elsewhere) that a free trial ended", async () => {
    clock.set(START);
    const first = await newAccount();
    await subscribe(ports, first, { packageId: plans.Pro, paymentMethodId: "pm_card_amex" });
    const other = await newAccount();
    const page = await subscribe(ports, other, { packageId: plans.Pro });
    if (page.kind !== "checkout") throw new Error("expected a Checkout page for a trial that needs a card");
    await payCheckout(page.url, "amex");
    await completeCheckout(ports, other.accountId, page.sessionId);
    const row = await db.subscription.findFirstOrThrow({ where: { accountId: other.accountId } });
    expect(row.status).toBe("active");
    // The customer.subscription.updated webhook of that trial's end: no "Your free trial has ended" mail.
    await notifyTrialEnded(ports, row.stripeSubscriptionId);
    const mail = await db.mailMessage.findMany({ where: { to: other.email } });
    expect(mail.map((m) => m.subject)).not.toContain("Your Minutely free trial has ended");
  });
});
