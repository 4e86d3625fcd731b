// One card, several accounts starting its trial at the same moment: up front, in Checkout, both mixed, the
// return page and the webhook racing for each session. Every loser ends up not trialing and charged exactly
// once (the package's price in its currency), the card held by exactly one subscription. Its own database, so
// the emulator's few good cards have started no trial here yet. Real PostgreSQL, the official Stripe SDK
// against the emulator.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { testPorts } from "../../testing.ts";
import { deleteAccount } from "../accounts/index.ts";
import { syncSubscription } from "../billing/index.ts";
import { syncCatalogToStripe } from "../catalog/catalog-admin.ts";
import { applyCompletedCheckout, completeCheckout, subscribe } from "./subscriptions.ts";
import { newTrialAccount, payCheckout, runTrialRefusedMailJobs } from "./trials.fixtures.ts";

const { db } = await testDatabase();
const START = new Date("2026-11-27T12:00:00Z");
const clock = fixedClock(START);
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
await syncCatalogToStripe(ports);
await db.subscriptionPlan.update({ where: { name: "Pro" }, data: { trialDays: 7, trialRequiresCard: true } });
const pro = (await db.subscriptionPlan.findFirstOrThrow({ where: { name: "Pro" } })).id;

const newAccount = () => newTrialAccount(db, "Racer");

/** Each account's one subscription: one trialing holder of the card, every other charged once and not trialing. */
async function expectOneTrialPerCard(accountIds: string[], pm: string) {
  const fingerprint = await ports.billing.paymentMethodFingerprint(pm);
  const rows = await db.subscription.findMany({ where: { accountId: { in: accountIds } } });
  expect(rows).toHaveLength(accountIds.length);
  const trialing = rows.filter((r) => r.status === "trialing");
  expect(trialing).toHaveLength(1);
  const holders = await db.subscription.findMany({ where: { trialCardFingerprint: fingerprint } });
  expect(holders.map((h) => h.id)).toEqual(trialing.map((t) => t.id));
  for (const row of rows.filter((r) => r.status !== "trialing")) {
    expect(row.status).toBe("active");
    const remote = await ports.stripe.subscriptions.retrieve(row.stripeSubscriptionId);
    const price = remote.items.data[0]?.price;
    const invoices = await ports.stripe.invoices.list({ subscription: row.stripeSubscriptionId });
    expect(invoices.data.filter((i) => i.amount_paid > 0).map((i) => [i.amount_paid, i.currency])).toEqual([
      [price?.unit_amount, price?.currency],
    ]);
    // No "your free trial has ended" mail for a trial never given.
    const owner = await db.accountMember.findFirstOrThrow({
      where: { accountId: row.accountId },
      include: { user: true },
    });
    await runTrialRefusedMailJobs(ports);
    const mail = await db.mailMessage.findMany({ where: { to: owner.user.email } });
    expect(mail.map((m) => m.subject)).not.toContain("Your Minutely free trial has ended");
    // Told once why the trial the package page offered did not happen, and what was charged.
    const told = mail.filter((m) => m.subject === "Your Minutely subscription started without a free trial");
    expect(told).toHaveLength(1);
    expect(told[0]?.text).toContain(
      `${((price?.unit_amount ?? 0) / 100).toFixed(2)} ${price?.currency.toUpperCase()}`,
    );
  }
  // The trial that goes on is told nothing of the kind.
  for (const row of trialing) {
    const owner = await db.accountMember.findFirstOrThrow({
      where: { accountId: row.accountId },
      include: { user: true },
    });
    await runTrialRefusedMailJobs(ports);
    const mail = await db.mailMessage.findMany({ where: { to: owner.user.email } });
    expect(mail.map((m) => m.subject)).not.toContain(
      "Your Minutely subscription started without a free trial",
    );
  }
}

describe("one card, trials started at the same moment", () => {
  it("five accounts up front with one card: one trial", async () => {
    const accounts = await Promise.all([1, 2, 3, 4, 5].map(() => newAccount()));
    const results = await Promise.allSettled(
      accounts.map((who) => subscribe(ports, who, { packageId: pro, paymentMethodId: "pm_card_visa" })),
    );
    expect(results.map((r) => r.status)).toEqual(accounts.map(() => "fulfilled"));
    await expectOneTrialPerCard(
      accounts.map((a) => a.accountId),
      "pm_card_visa",
    );
  });

  it("up front and Checkout mixed, the return page and the webhook racing for each session: one trial", async () => {
    const upFront = [await newAccount(), await newAccount()];
    const viaCheckout = [await newAccount(), await newAccount(), await newAccount()];
    const pages = await Promise.all(viaCheckout.map((who) => subscribe(ports, who, { packageId: pro })));
    for (const page of pages) if (page.kind !== "checkout") throw new Error("expected a Checkout page");
    const sessions = pages.map((p) => (p.kind === "checkout" ? p : null)).filter((p) => p !== null);
    await Promise.all([
      ...upFront.map((who) =>
        subscribe(ports, who, { packageId: pro, paymentMethodId: "pm_card_mastercard" }),
      ),
      ...sessions.map(async (page, i) => {
        expect(await payCheckout(page.url, "mastercard")).toBeLessThan(400);
        const who = viaCheckout[i];
        if (!who) throw new Error("no account");
        // The return page (twice: a reload) and the webhook at once.
        await Promise.all([
          completeCheckout(ports, who.accountId, page.sessionId),
          completeCheckout(ports, who.accountId, page.sessionId),
          applyCompletedCheckout(ports, page.sessionId),
        ]);
      }),
    ]);
    await expectOneTrialPerCard(
      [...upFront, ...viaCheckout].map((a) => a.accountId),
      "pm_card_mastercard",
    );
  });

  it("the same account twice at once (a double click): one subscription, one trial", async () => {
    const who = await newAccount();
    const results = await Promise.allSettled([
      subscribe(ports, who, { packageId: pro, paymentMethodId: "pm_card_amex", requestKey: "double-1" }),
      subscribe(ports, who, { packageId: pro, paymentMethodId: "pm_card_amex", requestKey: "double-2" }),
    ]);
    expect(results.some((r) => r.status === "fulfilled")).toBe(true);
    for (const r of results) {
      if (r.status === "rejected") expect(r.reason).toMatchObject({ code: "CONFLICT" });
    }
    const rows = await db.subscription.findMany({ where: { accountId: who.accountId } });
    expect(rows.map((r) => r.status)).toEqual(["trialing"]);
    expect(rows[0]?.trialCardFingerprint).toBe(await ports.billing.paymentMethodFingerprint("pm_card_amex"));
  });

  it("a card whose trial's account was deleted starts no trial elsewhere (one trial per card, ever)", async () => {
    const gone = await newAccount();
    await subscribe(ports, gone, { packageId: pro, paymentMethodId: "pm_card_visa_debit" });
    await deleteAccount(ports, gone, { confirmation: gone.name });
    // Its customer.subscription.deleted webhook.
    const row = await db.subscription.findFirstOrThrow({ where: { accountId: gone.accountId } });
    await syncSubscription(ports, row.stripeSubscriptionId);
    const kept = await db.subscription.findFirstOrThrow({ where: { accountId: gone.accountId } });
    expect(kept.status).toBe("canceled");
    expect(kept.trialCardFingerprint).toBe(
      await ports.billing.paymentMethodFingerprint("pm_card_visa_debit"),
    );
    // The same card from a new sign-up, up front and in Checkout: subscribed and charged once, no trial.
    const upFront = await newAccount();
    await subscribe(ports, upFront, { packageId: pro, paymentMethodId: "pm_card_visa_debit" });
    const checkout = await newAccount();
    const page = await subscribe(ports, checkout, { packageId: pro });
    if (page.kind !== "checkout") throw new Error("expected a Checkout page");
    expect(await payCheckout(page.url, "visa-debit")).toBeLessThan(400);
    await completeCheckout(ports, checkout.accountId, page.sessionId);
    for (const who of [upFront, checkout]) {
      const row = await db.subscription.findFirstOrThrow({ where: { accountId: who.accountId } });
      expect(row.status).toBe("active");
      expect(row.trialCardFingerprint).toBeNull();
      const remote = await ports.stripe.subscriptions.retrieve(row.stripeSubscriptionId);
      const price = remote.items.data[0]?.price;
      const invoices = await ports.stripe.invoices.list({ subscription: row.stripeSubscriptionId });
      expect(invoices.data.filter((i) => i.amount_paid > 0).map((i) => [i.amount_paid, i.currency])).toEqual([
        [price?.unit_amount, price?.currency],
      ]);
    }
  });
});
