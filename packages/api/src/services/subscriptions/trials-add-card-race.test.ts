// "Add a card" on a trial without one, with a card another account starts a trial with at that very moment:
// the card is held by exactly one subscription; an up-front trial that lost it ends at once, charged once.
// Its own database, so the emulator's cards have started no trial here yet. Real PostgreSQL, the official
// Stripe SDK against the emulator.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { testPorts } from "../../testing.ts";
import { syncCatalogToStripe } from "../catalog/catalog-admin.ts";
import { completeCheckout, startPaymentMethodUpdate, subscribe } from "./subscriptions.ts";
import { newTrialAccount } from "./trials.fixtures.ts";

const { db } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
await syncCatalogToStripe(ports);
await db.subscriptionPlan.update({
  where: { name: "Starter" },
  data: { trialDays: 14, trialRequiresCard: false },
});
await db.subscriptionPlan.update({ where: { name: "Pro" }, data: { trialDays: 7, trialRequiresCard: true } });
const plans = Object.fromEntries((await db.subscriptionPlan.findMany()).map((p) => [p.name, p.id])) as Record<
  string,
  string
>;

const newAccount = () => newTrialAccount(db, "Adder");

describe("Add a card racing another account's trial with that card", () => {
  it.each([
    ["visa", "pm_card_visa"],
    ["mastercard", "pm_card_mastercard"],
  ])("gives the card (%s) to exactly one trial", async (slug, pm) => {
    const adder = await newAccount();
    await subscribe(ports, adder, { packageId: plans.Starter });
    const setup = await startPaymentMethodUpdate(ports, adder, `add-${slug}`);
    await fetch(`${setup.url}/pay`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `card=${slug}&address_country=US&address_state=OR&address_postal_code=97201`,
      redirect: "manual",
    });
    const upFront = await newAccount();
    await Promise.all([
      completeCheckout(ports, adder.accountId, setup.sessionId),
      subscribe(ports, upFront, { packageId: plans.Pro, paymentMethodId: pm }),
    ]);
    const fingerprint = await ports.billing.paymentMethodFingerprint(pm);
    const holders = await db.subscription.findMany({ where: { trialCardFingerprint: fingerprint } });
    expect(holders).toHaveLength(1);
    const adderRow = await db.subscription.findFirstOrThrow({ where: { accountId: adder.accountId } });
    const upFrontRow = await db.subscription.findFirstOrThrow({ where: { accountId: upFront.accountId } });
    // The trial given without a card goes on either way (docs/billing.md: decided before any card was known).
    expect(adderRow.status).toBe("trialing");
    if (holders[0]?.id === upFrontRow.id) {
      expect(upFrontRow.status).toBe("trialing");
    } else {
      expect(holders[0]?.id).toBe(adderRow.id);
      expect(upFrontRow.status).toBe("active");
      const remote = await ports.stripe.subscriptions.retrieve(upFrontRow.stripeSubscriptionId);
      const price = remote.items.data[0]?.price;
      const invoices = await ports.stripe.invoices.list({ subscription: upFrontRow.stripeSubscriptionId });
      expect(invoices.data.filter((i) => i.amount_paid > 0).map((i) => [i.amount_paid, i.currency])).toEqual([
        [price?.unit_amount, price?.currency],
      ]);
    }
  });
});
