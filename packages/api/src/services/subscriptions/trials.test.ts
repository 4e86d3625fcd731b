// Free trials end to end: real PostgreSQL, the official Stripe SDK against the emulator, test clocks to reach
// the trial's end. One trial per account and per card, nothing charged and no overage billed during a trial,
// calls stopped at the allowance, and a trial without a card paused at its end.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { advanceSubscriptionClock, testPorts } from "../../testing.ts";
import { syncRecentInvoices } from "../billing/index.ts";
import { syncSubscription } from "../billing/subscription-sync.ts";
import { syncCatalogToStripe } from "../catalog/catalog-admin.ts";
import { authorizeCallRequest } from "../metering/call-authorization.ts";
import { callEvent, createAgentRows } from "../metering/metering.fixtures.ts";
import { reportOverage } from "../metering/overage.ts";
import { ingestUsageEvents } from "../metering/usage-ingest.ts";
import { packageSelection } from "./package-selection.ts";
import {
  cancel,
  completeCheckout,
  downgrade,
  previewUpgrade,
  startPaymentMethodUpdate,
  subscribe,
  subscriptionOverview,
  upgrade,
} from "./subscriptions.ts";
import { newTrialAccount, payCheckout } from "./trials.fixtures.ts";
import { notifyTrialEnded, notifyTrialWillEnd } from "./trials.ts";

const { db } = await testDatabase();
const START = new Date("2026-11-27T12:00:00Z");
const clock = fixedClock(START);
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
await syncCatalogToStripe(ports);
// Starter: 14 days without a card (hard cap, 1,000 minutes); Pro: 7 days, card required (overage priced).
await db.subscriptionPlan.update({
  where: { name: "Starter" },
  data: { trialDays: 14, trialRequiresCard: false },
});
await db.subscriptionPlan.update({ where: { name: "Pro" }, data: { trialDays: 7, trialRequiresCard: true } });
const plans = Object.fromEntries((await db.subscriptionPlan.findMany()).map((p) => [p.name, p.id])) as Record<
  string,
  string
>;
const DAY = 86_400_000;

async function newAccount() {
  const { accountId, email, name } = await newTrialAccount(db, "Trying");
  const [agent] = await createAgentRows(db, accountId, 1);
  return { ref: { accountId, email, name }, agentId: agent?.id ?? "" };
}

async function stripeInvoices(accountId: string) {
  const account = await db.account.findUniqueOrThrow({ where: { id: accountId } });
  const invoices = await ports.billing.listInvoices(account.stripeCustomerId ?? "", 50);
  return invoices
    .sort((a, b) => a.created.getTime() - b.created.getTime())
    .map((i) => [i.billingReason, i.status, i.amountPaid]);
}

async function advanceTo(accountId: string, to: Date) {
  const sub = await advanceSubscriptionClock(ports, accountId, to);
  clock.set(to);
  await syncSubscription(ports, sub.stripeSubscriptionId);
  await syncRecentInvoices(ports, accountId);
}

let calls = 0;
function call(who: { ref: { accountId: string }; agentId: string }) {
  calls += 1;
  return {
    callId: `trial-call-${calls}`,
    accountId: who.ref.accountId,
    agentId: who.agentId,
    direction: "outbound" as const,
  };
}

describe("free trials", () => {
  it("starts a trial without a card at once, charges nothing, and pauses at its end without a card", async () => {
    clock.set(START);
    const who = await newAccount();
    const { accountId } = who.ref;
    expect((await packageSelection(ports, accountId)).packages.map((p) => [p.name, p.trialOffer])).toEqual([
      ["Starter", { days: 14, requiresCard: false }],
      ["Pro", { days: 7, requiresCard: true }],
      ["Enterprise", null],
    ]);
    const result = await subscribe(ports, who.ref, { packageId: plans.Starter });
    expect(result.kind).toBe("subscribed");
    const row = await db.subscription.findFirstOrThrow({ where: { accountId } });
    expect(row).toMatchObject({
      status: "trialing",
      trialStart: START,
      trialEnd: new Date(START.getTime() + 14 * DAY),
    });
    expect(await stripeInvoices(accountId)).toEqual([["subscription_create", "paid", 0]]);
    expect(await authorizeCallRequest(ports, call(who))).toMatchObject({ decision: "allow" });
    // The account has had its trial: no package offers it another.
    expect((await packageSelection(ports, accountId)).packages.every((p) => p.trialOffer === null)).toBe(
      true,
    );

    const overview = await subscriptionOverview(ports, accountId);
    expect(overview.trial).toEqual({
      startedAt: START,
      endsAt: new Date(START.getTime() + 14 * DAY),
      endingSoon: false,
      cardOnFile: false,
    });

    // 3 days before the end: Stripe's trial_will_end; the owner is emailed once, the banner shows.
    await advanceTo(accountId, new Date(START.getTime() + 11 * DAY + 60_000));
    expect((await subscriptionOverview(ports, accountId)).trial?.endingSoon).toBe(true);
    await notifyTrialWillEnd(ports, row.stripeSubscriptionId);
    await notifyTrialWillEnd(ports, row.stripeSubscriptionId);
    const warned = await db.mailMessage.findMany({ where: { to: who.ref.email } });
    expect(warned.map((m) => m.subject)).toEqual(["Your Minutely free trial ends on 2026-12-11"]);
    expect(warned[0]?.text).toContain("Add a card");

    // The trial ends without a card: Stripe pauses the subscription, and calls are denied until a card is added.
    await advanceTo(accountId, new Date(START.getTime() + 14 * DAY + 60_000));
    expect((await db.subscription.findFirstOrThrow({ where: { accountId } })).status).toBe("paused");
    expect((await subscriptionOverview(ports, accountId)).trial).toBeNull();
    expect(await authorizeCallRequest(ports, call(who))).toMatchObject({
      decision: "deny",
      reason: "subscription_paused",
    });
    // Told on the day, once.
    await notifyTrialEnded(ports, row.stripeSubscriptionId);
    await notifyTrialEnded(ports, row.stripeSubscriptionId);
    const told = await db.mailMessage.findMany({ where: { to: who.ref.email }, orderBy: { sentAt: "asc" } });
    expect(told.map((m) => m.subject)).toEqual([
      "Your Minutely free trial ends on 2026-12-11",
      "Your Minutely free trial has ended",
    ]);
    expect(told[1]?.text).toContain("paused");
    // Usage reported for calls made while paused is rejected like the calls: nothing recorded nor billed.
    const trialEnd = new Date(START.getTime() + 14 * DAY);
    const status = (r: Awaited<ReturnType<typeof ingestUsageEvents>>) =>
      r.results.map((e) => (e.status === "rejected" ? e.reason : e.status));
    expect(
      status(
        await ingestUsageEvents(ports, [
          callEvent(accountId, 600, { startedAt: new Date(trialEnd.getTime() - 1) }),
          callEvent(accountId, 600, { startedAt: new Date(trialEnd.getTime() + 30_000) }),
        ]),
      ),
    ).toEqual(["accepted", "subscription_paused"]);
    expect(await db.subscriptionPauseSpan.findMany({ where: { accountId } })).toMatchObject([
      { startsAt: trialEnd, endsAt: null, liftedAt: null },
    ]);

    // "Add a card": the card resumes the subscription, which is charged and takes calls again.
    const setup = await startPaymentMethodUpdate(ports, who.ref, "add-card");
    await payCheckout(setup.url, "visa");
    await completeCheckout(ports, accountId, setup.sessionId);
    expect((await db.subscription.findFirstOrThrow({ where: { accountId } })).status).toBe("active");
    expect((await stripeInvoices(accountId)).at(-1)).toEqual(["subscription_cycle", "paid", 2900]);
    expect(await authorizeCallRequest(ports, call(who))).toMatchObject({ decision: "allow" });
    // The span ends at the resume (the new, charged period's start); a late report of a call made while
    // paused is still rejected, a call after the resume counts.
    const resumed = await db.subscription.findFirstOrThrow({ where: { accountId } });
    expect(await db.subscriptionPauseSpan.findMany({ where: { accountId } })).toMatchObject([
      { startsAt: trialEnd, endsAt: resumed.currentPeriodStart },
    ]);
    expect(
      status(
        await ingestUsageEvents(ports, [
          callEvent(accountId, 600, { startedAt: new Date(trialEnd.getTime() + 45_000) }),
          callEvent(accountId, 600, { startedAt: resumed.currentPeriodStart }),
        ]),
      ),
    ).toEqual(["subscription_paused", "accepted"]);
  });

  it("a trial ended without a card is paused from its end before its webhook is in: calls denied, usage rejected", async () => {
    clock.set(START);
    const who = await newAccount();
    const { accountId } = who.ref;
    await subscribe(ports, who.ref, { packageId: plans.Starter });
    const trialEnd = new Date(START.getTime() + 14 * DAY);
    // Stripe's clock passes the trial's end and pauses the subscription; its webhook is not in yet.
    const after = new Date(trialEnd.getTime() + 10 * 60_000);
    const sub = await advanceSubscriptionClock(ports, accountId, after);
    clock.set(after);
    expect((await db.subscription.findFirstOrThrow({ where: { accountId } })).status).toBe("trialing");
    // Failing closed: Stripe pauses a trial without a card at its end, so calls are denied from then.
    expect(await authorizeCallRequest(ports, call(who))).toMatchObject({
      decision: "deny",
      reason: "subscription_paused",
    });
    // The platform reports calls of both sides of the trial's end at once: the trial's counts, the one
    // after it is rejected like a call of the span the sync is about to record.
    const before = await ingestUsageEvents(ports, [
      callEvent(accountId, 600, { startedAt: new Date(trialEnd.getTime() - 1) }),
      callEvent(accountId, 600, { startedAt: trialEnd }),
      callEvent(accountId, 600, { startedAt: new Date(trialEnd.getTime() + 60_000) }),
    ]);
    expect(before.results.map((r) => (r.status === "rejected" ? r.reason : r.status))).toEqual([
      "accepted",
      "subscription_paused",
      "subscription_paused",
    ]);
    await syncSubscription(ports, sub.stripeSubscriptionId);
    expect((await db.subscription.findFirstOrThrow({ where: { accountId } })).status).toBe("paused");
    // Nothing recorded inside the span the sync recorded.
    expect(await db.subscriptionPauseSpan.findMany({ where: { accountId } })).toMatchObject([
      { startsAt: trialEnd, endsAt: null },
    ]);
    expect(await db.usageEvent.count({ where: { accountId, startedAt: { gte: trialEnd } } })).toBe(0);
    expect(
      await db.usagePeriodRollup.count({
        where: { accountId, periodStart: { gte: trialEnd }, minutes: { gt: 0 } },
      }),
    ).toBe(0);
  });

  it("stops calls at the allowance during a trial and bills no overage for the trial's period", async () => {
    clock.set(START);
    const who = await newAccount();
    const { accountId } = who.ref;
    await subscribe(ports, who.ref, { packageId: plans.Pro, paymentMethodId: "pm_card_amex" });
    const sub = await db.subscription.findFirstOrThrow({ where: { accountId } });
    expect(sub.status).toBe("trialing");
    // 3,000 minutes used of Pro's 3,000: an overage package, but its trial stops at the allowance.
    clock.set(new Date(START.getTime() + 3_600_000));
    const ingested = await ingestUsageEvents(
      ports,
      [15, 20, 25, 30].map((m) =>
        callEvent(accountId, 750 * 60, { startedAt: new Date(`2026-11-27T12:${m}:00Z`) }),
      ),
    );
    expect(ingested.accepted).toBe(4);
    expect(await authorizeCallRequest(ports, call(who))).toMatchObject({
      decision: "deny",
      reason: "trial_allowance_reached",
    });
    // Inbound minutes beyond it are answered and recorded, never billed.
    await ingestUsageEvents(ports, [
      callEvent(accountId, 100 * 60, { startedAt: new Date("2026-11-27T12:40:00Z"), direction: "inbound" }),
    ]);
    expect(await reportOverage(ports, { accountId, periodStart: sub.currentPeriodStart })).toBeNull();
    expect(await stripeInvoices(accountId)).toEqual([["subscription_create", "paid", 0]]);

    // Converted at the trial's end (the card is charged): calls beyond the allowance are billed as overage.
    await advanceTo(accountId, new Date(START.getTime() + 7 * DAY + 60_000));
    const after = await db.subscription.findFirstOrThrow({ where: { accountId } });
    expect(after.status).toBe("active");
    expect(await stripeInvoices(accountId)).toEqual([
      ["subscription_create", "paid", 0],
      ["subscription_cycle", "paid", 9900],
    ]);
    expect(await authorizeCallRequest(ports, call(who))).toMatchObject({ decision: "allow" });
  });

  it("upgrades during a trial at once and free, the trial keeping its end; a downgrade waits for the trial's end", async () => {
    clock.set(START);
    const who = await newAccount();
    const { accountId } = who.ref;
    await subscribe(ports, who.ref, { packageId: plans.Starter });
    const trialEnd = new Date(START.getTime() + 14 * DAY);
    clock.set(new Date(START.getTime() + DAY));
    const preview = await previewUpgrade(ports, accountId, plans.Pro ?? "");
    expect(preview.totalDueNowCents).toBe(0);
    await upgrade(ports, who.ref, { packageId: plans.Pro, prorationDate: preview.prorationDate });
    const upgraded = await db.subscription.findFirstOrThrow({
      where: { accountId },
      include: { plan: true },
    });
    expect(upgraded).toMatchObject({ status: "trialing", trialEnd, plan: { name: "Pro" } });
    // Nothing charged during the trial, and Pro's allowance applies at once.
    expect((await stripeInvoices(accountId)).every(([, , paid]) => paid === 0)).toBe(true);
    expect((await subscriptionOverview(ports, accountId)).trial?.endsAt).toEqual(trialEnd);

    // A downgrade back is scheduled for the trial's end: the first charge is at Starter's price.
    await downgrade(ports, who.ref, { packageId: plans.Starter });
    expect((await subscriptionOverview(ports, accountId)).scheduledChange).toMatchObject({
      packageName: "Starter",
      effectiveAt: trialEnd,
    });
  });

  it("gives one trial per account, ever: not again after cancelling", async () => {
    clock.set(START);
    const who = await newAccount();
    const { accountId } = who.ref;
    await subscribe(ports, who.ref, { packageId: plans.Starter });
    await cancel(ports, who.ref);
    await advanceTo(accountId, new Date(START.getTime() + 15 * DAY));
    expect((await subscriptionOverview(ports, accountId)).status).toBe("canceled");
    await subscribe(ports, who.ref, {
      packageId: plans.Pro,
      paymentMethodId: "pm_card_visa_debit",
      requestKey: "again",
    });
    const current = await db.subscription.findFirstOrThrow({
      where: { accountId, status: { not: "canceled" } },
    });
    expect(current).toMatchObject({ status: "active", trialStart: null });
    expect((await stripeInvoices(accountId)).at(-1)).toEqual(["subscription_create", "paid", 9900]);
  });

  it("gives one trial per card: a card that started a trial for another account starts none", async () => {
    clock.set(START);
    const first = await newAccount();
    await subscribe(ports, first.ref, { packageId: plans.Pro, paymentMethodId: "pm_card_mastercard" });
    expect(
      await db.subscription.findFirstOrThrow({ where: { accountId: first.ref.accountId } }),
    ).toMatchObject({
      status: "trialing",
      trialCardFingerprint: expect.any(String),
    });
    // The same card from another sign-up: subscribed and charged, no trial.
    const second = await newAccount();
    await subscribe(ports, second.ref, { packageId: plans.Pro, paymentMethodId: "pm_card_mastercard" });
    expect(
      await db.subscription.findFirstOrThrow({ where: { accountId: second.ref.accountId } }),
    ).toMatchObject({
      status: "active",
      trialStart: null,
    });
    // The same card typed in Checkout: the trial it started is ended at once, and the card charged.
    const third = await newAccount();
    const page = await subscribe(ports, third.ref, { packageId: plans.Pro });
    if (page.kind !== "checkout") throw new Error("expected a Checkout page for a trial that needs a card");
    await payCheckout(page.url, "mastercard");
    await completeCheckout(ports, third.ref.accountId, page.sessionId);
    await completeCheckout(ports, third.ref.accountId, page.sessionId);
    expect(
      (await db.subscription.findFirstOrThrow({ where: { accountId: third.ref.accountId } })).status,
    ).toBe("active");
    // (Both invoices are of the same second: compared in any order.)
    expect((await stripeInvoices(third.ref.accountId)).sort()).toEqual([
      ["subscription_create", "paid", 0],
      ["subscription_update", "paid", 9900],
    ]);
  });

  it("starts a trial through Checkout once, whatever the double clicks and tabs", async () => {
    clock.set(START);
    const who = await newAccount();
    const { accountId } = who.ref;
    // Two tabs opening the page: only the newest can be paid.
    const [one, two] = await Promise.allSettled([
      subscribe(ports, who.ref, { packageId: plans.Pro, requestKey: "tab-1" }),
      subscribe(ports, who.ref, { packageId: plans.Pro, requestKey: "tab-1" }),
    ]);
    const pages = [one, two].flatMap((r) =>
      r.status === "fulfilled" && r.value.kind === "checkout" ? [r.value] : [],
    );
    expect(pages.length).toBeGreaterThan(0);
    const page = pages[0] as { url: string; sessionId: string };
    const other = await subscribe(ports, who.ref, { packageId: plans.Pro, requestKey: "tab-2" });
    if (other.kind !== "checkout") throw new Error("expected a Checkout page");
    // (Visa went on the first test's trial as its card: another account's Checkout with it would start none.)
    await payCheckout(page.url, "visa-debit");
    await payCheckout(other.url, "visa-debit");
    await completeCheckout(ports, accountId, other.sessionId);
    const account = await db.account.findUniqueOrThrow({ where: { id: accountId } });
    const live = await ports.billing.listSubscriptions(account.stripeCustomerId ?? "");
    expect(live.map((s) => s.status)).toEqual(["trialing"]);
    // A double click after it started changes nothing.
    expect((await subscribe(ports, who.ref, { packageId: plans.Pro, requestKey: "tab-3" })).kind).toBe(
      "subscribed",
    );
    expect(await ports.billing.listSubscriptions(account.stripeCustomerId ?? "")).toHaveLength(1);
  });
});
