// Free trials whose subscribe request lost Stripe's answer: the subscription exists at Stripe (trialing, the
// card given up front on it) while the request failed before the card was recorded as the trial's. Its own
// database, so the emulator's few good cards have started no trial here yet. Real PostgreSQL, the official
// Stripe SDK against the emulator; the lost answer is a billing port whose call reaches Stripe and then fails,
// as a reset connection does.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import type { Ports } from "../../context.ts";
import { testPorts } from "../../testing.ts";
import { syncCatalogToStripe } from "../catalog/catalog-admin.ts";
import { processStripeEvent, receiveStripeWebhook } from "./stripe-webhooks.ts";
import { subscribe } from "./subscriptions.ts";
import { newTrialAccount } from "./trials.fixtures.ts";

const { db } = await testDatabase();
const START = new Date("2026-11-27T12:00:00Z");
const clock = fixedClock(START);
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
await syncCatalogToStripe(ports);
await db.subscriptionPlan.update({ where: { name: "Pro" }, data: { trialDays: 7, trialRequiresCard: true } });
const pro = (await db.subscriptionPlan.findFirstOrThrow({ where: { name: "Pro" } })).id;

const newAccount = () => newTrialAccount(db, "Lost answer");

/** Ports whose subscription creation reaches Stripe and then loses the answer (the request fails). */
function losingCreation(): Ports {
  const billing = Object.create(ports.billing) as Ports["billing"];
  billing.createSubscription = async (args) => {
    await ports.billing.createSubscription(args);
    throw new Error("socket hang up (the answer was lost)");
  };
  return { ...ports, billing };
}

describe("a trial whose subscribe answer was lost", () => {
  it("records its card when the retry adopts it: the card starts no other account's trial", async () => {
    const first = await newAccount();
    await expect(
      subscribe(losingCreation(), first, { packageId: pro, paymentMethodId: "pm_card_visa" }),
    ).rejects.toThrow(/answer was lost/);
    // The retry (a second click) adopts the trialing subscription Stripe holds.
    await subscribe(ports, first, { packageId: pro, paymentMethodId: "pm_card_visa" });
    const trial = await db.subscription.findFirstOrThrow({ where: { accountId: first.accountId } });
    expect(trial.status).toBe("trialing");
    const fingerprint = await ports.billing.paymentMethodFingerprint("pm_card_visa");
    expect(trial.trialCardFingerprint).toBe(fingerprint);
    // That card from another sign-up: subscribed and charged, no second trial.
    const second = await newAccount();
    await subscribe(ports, second, { packageId: pro, paymentMethodId: "pm_card_visa" });
    expect(await db.subscription.findFirstOrThrow({ where: { accountId: second.accountId } })).toMatchObject({
      status: "active",
      trialStart: null,
    });
  });

  it("records its card from the customer.subscription.created webhook when nobody retries", async () => {
    const first = await newAccount();
    await expect(
      subscribe(losingCreation(), first, { packageId: pro, paymentMethodId: "pm_card_mastercard" }),
    ).rejects.toThrow(/answer was lost/);
    // The customer closed the tab; Stripe's webhook of the creation arrives.
    const account = await db.account.findUniqueOrThrow({ where: { id: first.accountId } });
    const [remote] = (await ports.stripe.subscriptions.list({ customer: account.stripeCustomerId ?? "" }))
      .data;
    if (!remote) throw new Error("expected the subscription the lost answer created");
    const payload = JSON.stringify({
      id: `evt_lost_created_${remote.id}`,
      object: "event",
      type: "customer.subscription.created",
      created: Math.floor(START.getTime() / 1000),
      data: { object: remote },
    });
    const secret = "whsec_lost_answer";
    const { id } = await receiveStripeWebhook(ports, {
      rawBody: Buffer.from(payload),
      signature: ports.stripe.webhooks.generateTestHeaderString({ payload, secret }),
      secret,
    });
    await processStripeEvent(ports, id);
    const trial = await db.subscription.findFirstOrThrow({ where: { accountId: first.accountId } });
    expect(trial.status).toBe("trialing");
    expect(trial.trialCardFingerprint).toBe(
      await ports.billing.paymentMethodFingerprint("pm_card_mastercard"),
    );
    const second = await newAccount();
    await subscribe(ports, second, { packageId: pro, paymentMethodId: "pm_card_mastercard" });
    expect(await db.subscription.findFirstOrThrow({ where: { accountId: second.accountId } })).toMatchObject({
      status: "active",
      trialStart: null,
    });
  });

  it("ends the trial of a card whose fingerprint could not be read up front when it had a trial elsewhere", async () => {
    const holder = await newAccount();
    await subscribe(ports, holder, { packageId: pro, paymentMethodId: "pm_card_amex" });
    const fingerprint = await ports.billing.paymentMethodFingerprint("pm_card_amex");
    expect(
      (await db.subscription.findFirstOrThrow({ where: { accountId: holder.accountId } }))
        .trialCardFingerprint,
    ).toBe(fingerprint);
    // Another sign-up with that card while Stripe fails the look-up of its fingerprint (once).
    let failures = 0;
    const billing = Object.create(ports.billing) as Ports["billing"];
    billing.paymentMethodFingerprint = async (id) => {
      if (failures === 0) {
        failures += 1;
        throw new Error("Stripe is unreachable (the fingerprint look-up failed)");
      }
      return await ports.billing.paymentMethodFingerprint(id);
    };
    const other = await newAccount();
    await subscribe({ ...ports, billing }, other, { packageId: pro, paymentMethodId: "pm_card_amex" });
    expect(failures).toBe(1);
    const row = await db.subscription.findFirstOrThrow({ where: { accountId: other.accountId } });
    expect(row.status).not.toBe("trialing");
    const holders = await db.subscription.findMany({ where: { trialCardFingerprint: fingerprint } });
    expect(holders.map((h) => h.accountId)).toEqual([holder.accountId]);
    // Charged once, the package's price in its currency.
    const remote = await ports.stripe.subscriptions.retrieve(row.stripeSubscriptionId);
    const price = remote.items.data[0]?.price;
    const invoices = await ports.stripe.invoices.list({ subscription: row.stripeSubscriptionId });
    const paid = invoices.data.filter((i) => i.amount_paid > 0);
    expect(paid.map((i) => [i.amount_paid, i.currency])).toEqual([[price?.unit_amount, price?.currency]]);
  });
});
