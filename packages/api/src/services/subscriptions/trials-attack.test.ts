// Free trials attacked as a careless user and a hostile client: a card added to a trial that started without
// one, and the trial Checkout refused because its card had a trial elsewhere. Real PostgreSQL, the official
// Stripe SDK against the emulator (its own database: the cards' fingerprints here are this file's alone).
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { advanceSubscriptionClock, testPorts } from "../../testing.ts";
import { revenueOverview } from "../admin/revenue.ts";
import { syncRecentInvoices } from "../billing/index.ts";
import { syncSubscription } from "../billing/subscription-sync.ts";
import { syncCatalogToStripe } from "../catalog/catalog-admin.ts";
import { authorizeCallRequest } from "../metering/call-authorization.ts";
import { callEvent, createAgentRows } from "../metering/metering.fixtures.ts";
import { reportOverage } from "../metering/overage.ts";
import { ingestUsageEvents } from "../metering/usage-ingest.ts";
import {
  completeCheckout,
  startPaymentMethodUpdate,
  subscribe,
  subscriptionOverview,
} from "./subscriptions.ts";
import { newTrialAccount, payCheckout, runTrialRefusedMailJobs } from "./trials.fixtures.ts";
import { keepTrialCardOrEndTrial, notifyTrialEnded } from "./trials.ts";

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

const newAccount = () => newTrialAccount(db, "Attacker");

const DAY = 86_400_000;

async function advanceTo(accountId: string, to: Date) {
  const sub = await advanceSubscriptionClock(ports, accountId, to);
  clock.set(to);
  await syncSubscription(ports, sub.stripeSubscriptionId);
  await syncRecentInvoices(ports, accountId);
}

let calls = 0;
function outbound(accountId: string, agentId: string) {
  calls += 1;
  return { callId: `attack-call-${calls}`, accountId, agentId, direction: "outbound" as const };
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
    // The package page had offered that account a trial: it is told why none started and what was charged.
    await runTrialRefusedMailJobs(ports);
    const told = await db.mailMessage.findMany({
      where: { to: second.email, subject: "Your Minutely subscription started without a free trial" },
    });
    expect(told.map((m) => m.text)).toEqual([expect.stringContaining("charged 99.00 USD")]);
    // The first account (its trial goes on with the card) is told nothing of the kind.
    expect(
      await db.mailMessage.count({
        where: { to: first.email, subject: "Your Minutely subscription started without a free trial" },
      }),
    ).toBe(0);
  });

  it("treats a trial Checkout refused (its card had one elsewhere) as none: no trial-ended mail, not in the trial figures", async () => {
    clock.set(START);
    const first = await newAccount();
    await subscribe(ports, first, { packageId: plans.Pro, paymentMethodId: "pm_card_amex" });
    const trialsOf = async () => {
      const month = (await revenueOverview(ports, { months: 1 })).months.at(-1);
      return [month?.trialStarts, month?.trialsEnded, month?.trialConversions];
    };
    const before = await trialsOf();
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
    // Nor is it a trial in the revenue figures: not started, not ended, not converted.
    expect(await trialsOf()).toEqual(before);
  });

  it("bills no minutes of the trial reported late, after it converted, as overage", async () => {
    clock.set(START);
    const who = await newAccount();
    const [agent] = await createAgentRows(db, who.accountId, 1);
    const agentId = agent?.id ?? "";
    await subscribe(ports, who, { packageId: plans.Pro, paymentMethodId: "pm_card_visa_debit" });
    const trial = await db.subscription.findFirstOrThrow({ where: { accountId: who.accountId } });
    expect(trial.status).toBe("trialing");
    // Recorded when it started, as in production (the row's created_at is the database's clock, not this test's).
    await db.subscription.update({ where: { id: trial.id }, data: { createdAt: START } });
    const trialEnd = new Date(START.getTime() + 7 * DAY);
    // Pro's 3,000 minutes used up in the trial (Pro has an overage price: its trial stops at the allowance).
    clock.set(new Date(START.getTime() + 3_600_000));
    await ingestUsageEvents(
      ports,
      [15, 20, 25, 30].map((m) =>
        callEvent(who.accountId, 750 * 60, { startedAt: new Date(`2026-11-27T12:${m}:00Z`) }),
      ),
    );
    expect(await authorizeCallRequest(ports, outbound(who.accountId, agentId))).toMatchObject({
      decision: "deny",
      reason: "trial_allowance_reached",
    });
    // Converted; then inbound minutes of the trial, reported late: recorded, never billed as overage.
    await advanceTo(who.accountId, new Date(trialEnd.getTime() + 120_000));
    expect((await db.subscription.findFirstOrThrow({ where: { accountId: who.accountId } })).status).toBe(
      "active",
    );
    // 3,600 minutes (3 inbound calls of 20 hours), more than Pro's 3,000: over the allowance wherever counted.
    const late = await ingestUsageEvents(
      ports,
      [28, 29, 30].map((d) =>
        callEvent(who.accountId, 1200 * 60, {
          startedAt: new Date(`2026-11-${d}T01:00:00Z`),
          direction: "inbound",
        }),
      ),
    );
    expect(late.results.map((r) => r.status)).toEqual(["accepted", "accepted", "accepted"]);
    const rollups = await db.usagePeriodRollup.findMany({ where: { accountId: who.accountId } });
    const before = rollups.filter((r) => r.periodStart.getTime() < trialEnd.getTime());
    expect(before.some((r) => r.minutes >= 3_600)).toBe(true);
    for (const r of before) {
      expect(await reportOverage(ports, { accountId: who.accountId, periodStart: r.periodStart })).toBeNull();
    }
  });

  it("gives one trial to a card that two accounts start trials with at the same moment", async () => {
    clock.set(START);
    const [one, two] = [await newAccount(), await newAccount()];
    await Promise.all(
      [one, two].map((who) =>
        subscribe(ports, who, { packageId: plans.Pro, paymentMethodId: "pm_card_mastercard" }),
      ),
    );
    const rows = await db.subscription.findMany({
      where: { accountId: { in: [one.accountId, two.accountId] } },
    });
    expect(rows.map((r) => r.status).sort()).toEqual(["active", "trialing"]);
    // The card is the trial's that goes on, not also the one ended at once.
    expect(rows.filter((r) => r.trialCardFingerprint !== null).map((r) => r.status)).toEqual(["trialing"]);
  });

  it("gives a card one trial when the later-created trial claims it first (the card's holder is unique)", async () => {
    clock.set(START);
    // Two trials without a card (Starter), then one card claimed by both, the newer subscription first: the
    // older one was settled "first created keeps it" before, so both trials went on with the card.
    const [older, newer] = [await newAccount(), await newAccount()];
    await subscribe(ports, older, { packageId: plans.Starter });
    await subscribe(ports, newer, { packageId: plans.Starter });
    const rowOf = (accountId: string) => db.subscription.findFirstOrThrow({ where: { accountId } });
    const [a, b] = [await rowOf(older.accountId), await rowOf(newer.accountId)];
    expect(a.createdAt.getTime()).toBeLessThanOrEqual(b.createdAt.getTime());
    await keepTrialCardOrEndTrial(ports, b.stripeSubscriptionId, "fp-claimed-out-of-order");
    await keepTrialCardOrEndTrial(ports, a.stripeSubscriptionId, "fp-claimed-out-of-order");
    // Claimed again (a retried request or webhook): nothing changes.
    await keepTrialCardOrEndTrial(ports, a.stripeSubscriptionId, "fp-claimed-out-of-order");
    await keepTrialCardOrEndTrial(ports, b.stripeSubscriptionId, "fp-claimed-out-of-order");
    const holders = await db.subscription.findMany({
      where: { trialCardFingerprint: "fp-claimed-out-of-order" },
    });
    expect(holders.map((h) => h.accountId)).toEqual([newer.accountId]);
    expect((await rowOf(newer.accountId)).status).toBe("trialing");
    expect((await rowOf(older.accountId)).status).not.toBe("trialing");
  });

  it("gives a card claimed by several trials at the same moment to exactly one of them", async () => {
    clock.set(START);
    for (let round = 0; round < 3; round += 1) {
      const accounts = [await newAccount(), await newAccount(), await newAccount()];
      for (const who of accounts) await subscribe(ports, who, { packageId: plans.Starter });
      const rows = await db.subscription.findMany({
        where: { accountId: { in: accounts.map((w) => w.accountId) } },
      });
      const fingerprint = `fp-concurrent-${round}`;
      await Promise.all(rows.map((r) => keepTrialCardOrEndTrial(ports, r.stripeSubscriptionId, fingerprint)));
      const after = await db.subscription.findMany({ where: { id: { in: rows.map((r) => r.id) } } });
      expect(after.filter((r) => r.trialCardFingerprint === fingerprint)).toHaveLength(1);
      expect(after.filter((r) => r.status === "trialing")).toHaveLength(1);
      expect(after.find((r) => r.status === "trialing")?.trialCardFingerprint).toBe(fingerprint);
    }
  });

  it("keeps a card that started another account's trial that trial's card when added to a trial without one", async () => {
    clock.set(START);
    // A trial started with the card (the emulator's four good cards may all have had one in this file already).
    const fingerprint = await ports.billing.paymentMethodFingerprint("pm_card_mastercard");
    if ((await db.subscription.count({ where: { trialCardFingerprint: fingerprint } })) === 0) {
      const owner = await newAccount();
      await subscribe(ports, owner, { packageId: plans.Pro, paymentMethodId: "pm_card_mastercard" });
    }
    const before = await db.subscription.findMany({ where: { trialCardFingerprint: fingerprint } });
    expect(before).toHaveLength(1);
    // Another account's trial without a card, then "Add a card" with that same card: the trial goes on (it was
    // given before any card was known), but the card stays the first trial's: one account's trial per card.
    const other = await newAccount();
    await subscribe(ports, other, { packageId: plans.Starter });
    await addCard(other, "mastercard", "add-card-shared");
    expect((await subscriptionOverview(ports, other.accountId)).status).toBe("trialing");
    const holders = await db.subscription.findMany({ where: { trialCardFingerprint: fingerprint } });
    expect(holders.map((h) => h.accountId)).toEqual(before.map((h) => h.accountId));
  });
});
