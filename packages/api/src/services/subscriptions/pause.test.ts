// Pausing a subscription end to end: real PostgreSQL, the official Stripe SDK against the emulator, test
// clocks to move through the paused periods. Nothing is charged while paused and no call is authorized.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock, pauseWindow } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import type { Viewer } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { advanceSubscriptionClock, testPorts } from "../../testing.ts";
import { deleteAccount } from "../accounts/index.ts";
import { applyCouponToSubscription } from "../admin/coupons.ts";
import { syncRecentInvoices } from "../billing/index.ts";
import { syncSubscription } from "../billing/subscription-sync.ts";
import { syncCatalogToStripe } from "../catalog/catalog-admin.ts";
import { createCoupon, ZCouponInputSchema } from "../catalog/coupons.ts";
import { authorizeCallRequest } from "../metering/call-authorization.ts";
import { callEvent, createAgentRows } from "../metering/metering.fixtures.ts";
import { billOverage, reportOverage } from "../metering/overage.ts";
import { ingestUsageEvents } from "../metering/usage-ingest.ts";
import { pauseSubscription, rebillVoidedRenewal, resumePausedSubscription } from "./pause.ts";
import { cancel, downgrade, subscribe, subscriptionOverview, upgrade } from "./subscriptions.ts";

const { db } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
await syncCatalogToStripe(ports);
const plans = Object.fromEntries((await db.subscriptionPlan.findMany()).map((p) => [p.name, p])) as Record<
  string,
  { id: string }
>;

const admin: Viewer = {
  userId: "00000000-0000-4000-8000-000000000001",
  email: "ops@example.com",
  name: "Ops",
  role: "admin",
  accountId: null,
};

let counter = 0;
async function subscribed(plan = "Pro") {
  counter += 1;
  const account = await db.account.create({ data: { name: `Pausing ${counter}` } });
  const email = `pausing${counter}@example.com`;
  await db.user.create({
    data: {
      email,
      name: `Pausing ${counter}`,
      memberships: { create: { accountId: account.id, role: "owner" } },
    },
  });
  const ref = { accountId: account.id, email, name: account.name };
  await subscribe(ports, ref, { packageId: plans[plan]?.id ?? "", paymentMethodId: "pm_card_visa" });
  const [agent] = await createAgentRows(db, account.id, 1);
  return { ref, agentId: agent?.id ?? "" };
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

/** Moves the customer's Stripe test clock (and Minutely's clock) to `to`, then syncs as the webhooks would. */
async function advanceTo(accountId: string, to: Date) {
  const sub = await advanceSubscriptionClock(ports, accountId, to);
  clock.set(to);
  await syncSubscription(ports, sub.stripeSubscriptionId);
  await syncRecentInvoices(ports, accountId);
}

/** Every invoice Stripe has for the account, oldest first: [billing reason, status, amount paid]. */
async function stripeInvoices(accountId: string) {
  const account = await db.account.findUniqueOrThrow({ where: { id: accountId } });
  const invoices = await ports.billing.listInvoices(account.stripeCustomerId ?? "", 50);
  return invoices
    .sort((a, b) => a.created.getTime() - b.created.getTime())
    .map((i) => [i.billingReason, i.status, i.amountPaid]);
}

const call = (who: { ref: { accountId: string }; agentId: string }, n: number) => ({
  callId: `pause-call-${counter}-${n}`,
  accountId: who.ref.accountId,
  agentId: who.agentId,
  direction: "outbound" as const,
});

describe("pausing a subscription", () => {
  it("keeps the paid period, voids the paused periods' invoices, denies calls, and resumes by itself", async () => {
    clock.set(new Date("2026-11-27T12:00:00Z"));
    const who = await subscribed();
    const { accountId } = who.ref;
    const before = await subscriptionOverview(ports, accountId);
    const end = before.currentPeriodEnd as Date;

    const paused = await pauseSubscription(ports, accountId, 1);
    expect(paused.pause).toEqual({
      startsAt: end,
      resumesAt: new Date("2027-01-27T12:00:00Z"),
      paused: false,
    });
    // A retry of the same pause changes nothing; another pause is refused while one is set.
    expect((await pauseSubscription(ports, accountId, 1)).pause).toEqual(paused.pause);
    expect((await failure(pauseSubscription(ports, accountId, 2))).code).toBe("CONFLICT");
    // Package changes wait until the pause is lifted (an upgrade's charge would be voided).
    expect(
      (await failure(upgrade(ports, who.ref, { packageId: plans.Enterprise?.id, prorationDate: undefined })))
        .code,
    ).toBe("CONFLICT");
    // The period already paid is kept: calls are allowed until its end.
    expect(await authorizeCallRequest(ports, call(who, 1))).toMatchObject({ decision: "allow" });

    // The renewal at the end of the period is voided: nothing charged, calls denied.
    await advanceTo(accountId, new Date(end.getTime() + 60_000));
    expect((await subscriptionOverview(ports, accountId)).pause?.paused).toBe(true);
    expect(await authorizeCallRequest(ports, call(who, 2))).toMatchObject({
      decision: "deny",
      reason: "subscription_paused",
    });
    expect(await stripeInvoices(accountId)).toEqual([
      ["subscription_create", "paid", 9900],
      ["subscription_cycle", "void", 0],
    ]);

    // At resumes_at Stripe lifts the pause: the next renewal is charged, calls are allowed again.
    await advanceTo(accountId, new Date("2027-01-27T12:01:00Z"));
    const resumed = await subscriptionOverview(ports, accountId);
    expect(resumed.pause).toBeNull();
    expect(resumed.status).toBe("active");
    expect(await authorizeCallRequest(ports, call(who, 3))).toMatchObject({ decision: "allow" });
    expect(await stripeInvoices(accountId)).toEqual([
      ["subscription_create", "paid", 9900],
      ["subscription_cycle", "void", 0],
      ["subscription_cycle", "paid", 9900],
    ]);
  });

  it("until resumed: paused until the customer resumes early; resuming twice changes nothing", async () => {
    clock.set(new Date("2026-11-27T12:00:00Z"));
    const who = await subscribed();
    const { accountId } = who.ref;
    const paused = await pauseSubscription(ports, accountId, null);
    expect(paused.pause?.resumesAt).toBeNull();
    const end = paused.currentPeriodEnd as Date;
    // Three renewals later it is still paused, every renewal voided (a test clock moves two periods at most).
    await advanceTo(accountId, new Date("2027-01-01T00:00:00Z"));
    await advanceTo(accountId, new Date("2027-02-28T00:00:00Z"));
    expect((await subscriptionOverview(ports, accountId)).pause?.paused).toBe(true);
    expect(await authorizeCallRequest(ports, call(who, 4))).toMatchObject({ reason: "subscription_paused" });
    const voided = (await stripeInvoices(accountId)).filter(([, status]) => status === "void");
    expect(voided).toHaveLength(3);
    expect(end.getTime()).toBeLessThan(clock.now().getTime());

    const resumed = await resumePausedSubscription(ports, accountId);
    expect(resumed.pause).toBeNull();
    expect((await resumePausedSubscription(ports, accountId)).pause).toBeNull();
    expect(await authorizeCallRequest(ports, call(who, 5))).toMatchObject({ decision: "allow" });
    // Collection resumed: the next renewal is charged.
    await advanceTo(accountId, new Date("2027-03-28T00:00:00Z"));
    const invoices = await stripeInvoices(accountId);
    expect(invoices.at(-1)).toEqual(["subscription_cycle", "paid", 9900]);
    expect(invoices.filter(([, s]) => s === "paid")).toHaveLength(2);
  });

  it("never forgives overage: the overage pending on the voided renewal is billed again at once", async () => {
    clock.set(new Date("2026-11-27T12:00:00Z"));
    const who = await subscribed("Pro");
    const { accountId } = who.ref;
    const sub = await db.subscription.findFirstOrThrow({ where: { accountId } });
    // 3,100 minutes on Pro: 100 beyond the 3,000 included, at $0.03: $3.00 pending on the next invoice.
    clock.set(new Date("2026-11-27T13:00:00Z"));
    const results = await ingestUsageEvents(
      ports,
      [15, 20, 25, 30].map((m) =>
        callEvent(accountId, 775 * 60, { startedAt: new Date(`2026-11-27T12:${m}:00Z`) }),
      ),
    );
    expect(results.results, JSON.stringify(results.results)).toHaveLength(4);
    expect(results.accepted, JSON.stringify(results.results)).toBe(4);
    const bill = await reportOverage(ports, { accountId, periodStart: sub.currentPeriodStart });
    expect(bill).not.toBeNull();
    await billOverage(ports, bill as NonNullable<typeof bill>);
    const paused = await pauseSubscription(ports, accountId, 1);
    await advanceTo(accountId, new Date((paused.currentPeriodEnd as Date).getTime() + 60_000));
    const invoices = await ports.billing.listInvoices(
      (await db.account.findUniqueOrThrow({ where: { id: accountId } })).stripeCustomerId ?? "",
      50,
    );
    const voided = invoices.find((i) => i.status === "void");
    expect(voided?.total).toBe(9900 + 300);
    // The webhook of the voided renewal, processed as the queue would.
    await rebillVoidedRenewal(ports, voided?.id ?? "");
    await rebillVoidedRenewal(ports, voided?.id ?? "");
    const after = await stripeInvoices(accountId);
    expect(after).toEqual([
      ["subscription_create", "paid", 9900],
      ["subscription_cycle", "void", 0],
      ["manual", "paid", 300],
    ]);
  });

  it("a voided renewal's webhook arriving after the account's deletion bills nothing again (no card, no invoice)", async () => {
    clock.set(new Date("2026-11-27T12:00:00Z"));
    const who = await subscribed("Pro");
    const { accountId } = who.ref;
    const sub = await db.subscription.findFirstOrThrow({ where: { accountId } });
    clock.set(new Date("2026-11-27T13:00:00Z"));
    await ingestUsageEvents(
      ports,
      [15, 20, 25, 30].map((m) =>
        callEvent(accountId, 775 * 60, { startedAt: new Date(`2026-11-27T12:${m}:00Z`) }),
      ),
    );
    const bill = await reportOverage(ports, { accountId, periodStart: sub.currentPeriodStart });
    await billOverage(ports, bill as NonNullable<typeof bill>);
    const paused = await pauseSubscription(ports, accountId, 1);
    await advanceTo(accountId, new Date((paused.currentPeriodEnd as Date).getTime() + 60_000));
    const customerId =
      (await db.account.findUniqueOrThrow({ where: { id: accountId } })).stripeCustomerId ?? "";
    const voided = (await ports.billing.listInvoices(customerId, 50)).find((i) => i.status === "void");
    expect(voided?.total).toBe(9900 + 300);

    // The owner deletes the account before the invoice.voided webhook is processed.
    const owner = await db.accountMember.findFirstOrThrow({ where: { accountId, role: "owner" } });
    await deleteAccount(ports, { userId: owner.userId, accountId }, { confirmation: who.ref.name });
    await rebillVoidedRenewal(ports, voided?.id ?? "");
    // Nothing is invoiced to the deleted account after its deletion (its cards are gone: an invoice made now
    // could only stay open, dunning a customer that no longer exists).
    expect(await stripeInvoices(accountId)).toEqual([
      ["subscription_create", "paid", 9900],
      ["subscription_cycle", "void", 0],
    ]);
  });

  it("a pause retried after its answer was lost (Stripe paused, Minutely not told) succeeds and is recorded", async () => {
    clock.set(new Date("2026-11-27T12:00:00Z"));
    const who = await subscribed();
    const { accountId } = who.ref;
    const sub = await db.subscription.findFirstOrThrow({ where: { accountId } });
    // The first try reached Stripe, then the process died before the sync (or the answer never came back).
    const window = pauseWindow(sub.currentPeriodEnd, 2);
    await ports.billing.setPauseCollection(sub.stripeSubscriptionId, window, `lost-pause-${accountId}`);
    const retried = await pauseSubscription(ports, accountId, 2);
    expect(retried.pause).toMatchObject({ startsAt: window.startsAt, resumesAt: window.resumesAt });
    // Another pause than the one Stripe has is still a conflict.
    expect((await failure(pauseSubscription(ports, accountId, 1))).code).toBe("CONFLICT");
  });

  it("a once or repeating coupon is not applied while paused (the voided renewal would spend it); forever is", async () => {
    clock.set(new Date("2026-11-27T12:00:00Z"));
    const who = await subscribed("Pro");
    const { accountId } = who.ref;
    const paused = await pauseSubscription(ports, accountId, 1);
    const make = async (name: string, values: Record<string, unknown>) =>
      (await createCoupon(ports, admin, ZCouponInputSchema.parse({ name, ...values }))).coupon;
    const once = await make("Sorry", { amountOffCents: 1000, currency: "usd", duration: "once" });
    const twoMonths = await make("Two months", {
      percentOff: 10,
      duration: "repeating",
      durationInMonths: 2,
    });
    for (const coupon of [once, twoMonths]) {
      const refused = await failure(
        applyCouponToSubscription(ports, admin, { accountId, couponId: coupon.id }),
      );
      expect(refused).toMatchObject({ code: "CONFLICT", field: "couponId" });
      expect(refused.message).toMatch(/paused/);
    }
    const forever = await make("Forever", { percentOff: 10, duration: "forever" });
    await applyCouponToSubscription(ports, admin, { accountId, couponId: forever.id });
    // The paused renewal is voided, the next one is charged with the discount.
    const end = paused.currentPeriodEnd as Date;
    await advanceTo(accountId, new Date(end.getTime() + 60_000));
    await advanceTo(accountId, new Date(end.getTime() + 32 * 24 * 3600_000));
    expect(await stripeInvoices(accountId)).toEqual([
      ["subscription_create", "paid", 9900],
      ["subscription_cycle", "void", 0],
      ["subscription_cycle", "paid", 8910],
    ]);
    // Once resumed, the once coupon goes on and discounts the next renewal.
    await applyCouponToSubscription(ports, admin, { accountId, couponId: once.id });
  });

  it("a resume after a pause Minutely never recorded (lost answer, webhook not in yet) lifts it at Stripe", async () => {
    clock.set(new Date("2026-11-27T12:00:00Z"));
    const who = await subscribed();
    const { accountId } = who.ref;
    const sub = await db.subscription.findFirstOrThrow({ where: { accountId } });
    await ports.billing.setPauseCollection(
      sub.stripeSubscriptionId,
      pauseWindow(sub.currentPeriodEnd, null),
      `lost-pause-${accountId}`,
    );
    const resumed = await resumePausedSubscription(ports, accountId);
    expect(resumed.pause).toBeNull();
    expect((await ports.billing.retrieveSubscription(sub.stripeSubscriptionId)).pauseCollection).toBeNull();
  });

  it("refuses a pause while a downgrade is to come, not once it took effect (its schedule in its last phase)", async () => {
    clock.set(new Date("2026-11-27T12:00:00Z"));
    const who = await subscribed("Pro");
    const { accountId } = who.ref;
    await downgrade(ports, who.ref, { packageId: plans.Starter?.id });
    expect((await failure(pauseSubscription(ports, accountId, 1))).message).toMatch(/change is scheduled/);
    // The renewal makes the downgrade: Stripe keeps the schedule on the subscription until its last phase
    // ends, but nothing is to come (Minutely shows no scheduled change): the pause goes through.
    const end = (await db.subscription.findFirstOrThrow({ where: { accountId } })).currentPeriodEnd;
    await advanceTo(accountId, new Date(end.getTime() + 60_000));
    const row = await db.subscription.findFirstOrThrow({ where: { accountId }, include: { plan: true } });
    expect(row.plan.name).toBe("Starter");
    expect((await ports.billing.retrieveSubscription(row.stripeSubscriptionId)).scheduleId).not.toBeNull();
    expect((await subscriptionOverview(ports, accountId)).scheduledChange).toBeNull();
    expect((await pauseSubscription(ports, accountId, 1)).pause?.startsAt).toEqual(row.currentPeriodEnd);
  });

  it("refuses a pause while cancelling, and without a subscription", async () => {
    clock.set(new Date("2026-11-27T12:00:00Z"));
    const who = await subscribed();
    await cancel(ports, who.ref);
    expect((await failure(pauseSubscription(ports, who.ref.accountId, 1))).code).toBe("CONFLICT");
    const lonely = await db.account.create({ data: { name: "No subscription" } });
    expect((await failure(pauseSubscription(ports, lonely.id, 1))).code).toBe("PRECONDITION_FAILED");
  });
});

/** The account's pause spans as recorded, oldest first: [starts_at, ends_at, lifted]. */
async function spans(accountId: string) {
  const rows = await db.subscriptionPauseSpan.findMany({
    where: { accountId },
    orderBy: { startsAt: "asc" },
  });
  return rows.map((r) => [r.startsAt.toISOString(), r.endsAt?.toISOString() ?? null, r.liftedAt !== null]);
}

/** Each result as [status, reason or late]. */
function outcomes(result: Awaited<ReturnType<typeof ingestUsageEvents>>) {
  return result.results.map((r) =>
    r.status === "rejected"
      ? [r.status, r.reason]
      : r.status === "accepted"
        ? [r.status, r.late]
        : [r.status],
  );
}

describe("usage during a pause (docs/billing.md: rejected subscription_paused, never billed)", () => {
  it("rejects calls started while paused, also reported after the pause ended; the paid period's overage is still billed", async () => {
    clock.set(new Date("2026-11-27T12:00:00Z"));
    const who = await subscribed("Pro");
    const { accountId } = who.ref;
    const sub = await db.subscription.findFirstOrThrow({ where: { accountId } });
    const end = sub.currentPeriodEnd;
    const resumesAt = new Date("2027-01-27T12:00:00Z");
    await pauseSubscription(ports, accountId, 1);
    // Recorded when set, with the pause's start and planned end.
    expect(await spans(accountId)).toEqual([[end.toISOString(), resumesAt.toISOString(), false]]);
    // The paid period: 3,100 minutes on Pro, 100 beyond the 3,000 included.
    clock.set(new Date("2026-11-27T13:00:00Z"));
    const paid = await ingestUsageEvents(
      ports,
      [15, 20, 25, 30].map((m) =>
        callEvent(accountId, 775 * 60, { startedAt: new Date(`2026-11-27T12:${m}:00Z`) }),
      ),
    );
    expect(paid.accepted, JSON.stringify(paid.results)).toBe(4);

    // The renewal is voided, the pause in effect: the platform still reports day-long calls.
    await advanceTo(accountId, new Date(end.getTime() + 10 * 60_000));
    const during = await ingestUsageEvents(ports, [
      // Just before the pause: a late call of the paid period, counted and billed there.
      callEvent(accountId, 86_400, { startedAt: new Date(end.getTime() - 1) }),
      callEvent(accountId, 86_400, { startedAt: end }),
      callEvent(accountId, 86_400, { startedAt: new Date(end.getTime() + 5 * 60_000) }),
    ]);
    expect(outcomes(during)).toEqual([
      ["accepted", true],
      ["rejected", "subscription_paused"],
      ["rejected", "subscription_paused"],
    ]);
    const rejected = during.results[1];
    expect(rejected?.status === "rejected" && rejected.message).toContain(end.toISOString());
    // Nothing recorded for the paused period: no event, no rollup, nothing to report.
    expect(await db.usageEvent.count({ where: { accountId, startedAt: { gte: end } } })).toBe(0);
    expect(await db.usagePeriodRollup.count({ where: { accountId, periodStart: { gte: end } } })).toBe(0);
    expect(await reportOverage(ports, { accountId, periodStart: end })).toBeNull();
    // The paid period's overage is billed: 3,100 + 1,440 - 3,000 = 1,540 minutes at $0.03.
    const bill = await reportOverage(ports, { accountId, periodStart: sub.currentPeriodStart });
    expect(bill).toMatchObject({ fromMinutes: 0, toMinutes: 1540 });
    await billOverage(ports, bill as NonNullable<typeof bill>);

    // Stripe lifts the pause at resumes_at: the span ends there.
    await advanceTo(accountId, new Date(resumesAt.getTime() + 60_000));
    expect(await spans(accountId)).toEqual([[end.toISOString(), resumesAt.toISOString(), true]]);
    const late = await ingestUsageEvents(ports, [
      // Reported after the resume, for calls made during the pause: still rejected.
      callEvent(accountId, 86_400, { startedAt: new Date("2027-01-10T00:00:00Z") }),
      callEvent(accountId, 60, { startedAt: new Date(resumesAt.getTime() - 1) }),
      // From resumes_at on: the charged period.
      callEvent(accountId, 60, { startedAt: resumesAt }),
    ]);
    expect(outcomes(late)).toEqual([
      ["rejected", "subscription_paused"],
      ["rejected", "subscription_paused"],
      ["accepted", false],
    ]);
    // Charged: the first period, the renewal at resumes_at with the paid period's overage ($46.20); nothing
    // for the paused period.
    expect(await stripeInvoices(accountId)).toEqual([
      ["subscription_create", "paid", 9900],
      ["subscription_cycle", "void", 0],
      ["subscription_cycle", "paid", 9900 + 4620],
    ]);
    expect(await db.overageBill.count({ where: { accountId, periodStart: { gte: end } } })).toBe(0);
  });

  it("resumed early: the span ends at the resume; calls after it count, those before it stay rejected", async () => {
    clock.set(new Date("2026-11-27T12:00:00Z"));
    const who = await subscribed("Pro");
    const { accountId } = who.ref;
    const end = (await db.subscription.findFirstOrThrow({ where: { accountId } })).currentPeriodEnd;
    await pauseSubscription(ports, accountId, null);
    expect(await spans(accountId)).toEqual([[end.toISOString(), null, false]]);
    const resumeAt = new Date(end.getTime() + 3 * 86_400_000);
    await advanceTo(accountId, resumeAt);
    expect(
      outcomes(
        await ingestUsageEvents(ports, [
          callEvent(accountId, 600, { startedAt: new Date(end.getTime() + 3_600_000) }),
        ]),
      ),
    ).toEqual([["rejected", "subscription_paused"]]);

    await resumePausedSubscription(ports, accountId);
    expect(await spans(accountId)).toEqual([[end.toISOString(), resumeAt.toISOString(), true]]);
    clock.set(new Date(resumeAt.getTime() + 60_000));
    const after = await ingestUsageEvents(ports, [
      callEvent(accountId, 600, { startedAt: new Date(resumeAt.getTime() - 1) }),
      callEvent(accountId, 600, { startedAt: resumeAt }),
    ]);
    expect(outcomes(after)).toEqual([
      ["rejected", "subscription_paused"],
      ["accepted", false],
    ]);
    // A month on (the renewal charged), a late report of a call made during the pause is still rejected.
    await advanceTo(accountId, new Date(end.getTime() + 32 * 86_400_000));
    expect(
      outcomes(
        await ingestUsageEvents(ports, [
          callEvent(accountId, 600, { startedAt: new Date(end.getTime() + 3_600_000) }),
        ]),
      ),
    ).toEqual([["rejected", "subscription_paused"]]);
  });

  it("a pause recorded by its webhook (the action's answer lost) has its span; a pause resumed before it starts has none", async () => {
    clock.set(new Date("2026-11-27T12:00:00Z"));
    const who = await subscribed();
    const { accountId } = who.ref;
    const sub = await db.subscription.findFirstOrThrow({ where: { accountId } });
    const window = pauseWindow(sub.currentPeriodEnd, 2);
    // Stripe paused, Minutely was never told; customer.subscription.updated syncs it.
    await ports.billing.setPauseCollection(sub.stripeSubscriptionId, window, `lost-span-${accountId}`);
    await syncSubscription(ports, sub.stripeSubscriptionId);
    await syncSubscription(ports, sub.stripeSubscriptionId);
    expect(await spans(accountId)).toEqual([
      [window.startsAt.toISOString(), window.resumesAt?.toISOString(), false],
    ]);
    // Resumed before the pause took effect: no span is left, calls after the period's end count.
    await resumePausedSubscription(ports, accountId);
    expect(await spans(accountId)).toEqual([]);
    await advanceTo(accountId, new Date(sub.currentPeriodEnd.getTime() + 60_000));
    expect(
      outcomes(
        await ingestUsageEvents(ports, [callEvent(accountId, 60, { startedAt: sub.currentPeriodEnd })]),
      ),
    ).toEqual([["accepted", false]]);
  });

  it("a call recorded before its pause was (started_at within the 5-minute future tolerance) is answered the same on a retry: duplicate, not subscription_paused", async () => {
    clock.set(new Date("2026-11-27T12:00:00Z"));
    const who = await subscribed();
    const { accountId } = who.ref;
    const end = (await db.subscription.findFirstOrThrow({ where: { accountId } })).currentPeriodEnd;
    await advanceTo(accountId, new Date(end.getTime() - 3 * 60_000));
    // The platform reports a call starting one minute after the period's end (its clock slightly ahead):
    // no pause is set yet, so it is recorded.
    const early = callEvent(accountId, 60, { startedAt: new Date(end.getTime() + 60_000) });
    expect(outcomes(await ingestUsageEvents(ports, [early]))).toEqual([["accepted", false]]);
    // The customer pauses a minute later: the span starts at the period's end, after the recorded call.
    await pauseSubscription(ports, accountId, 1);
    expect(await spans(accountId)).toMatchObject([[end.toISOString(), expect.any(String), false]]);
    // The same event retried (its answer lost): it is recorded, so the answer is duplicate, never a
    // subscription_paused claiming it is "neither recorded nor billed"; the same call_id with other details
    // is a call_id_conflict, and a new call in the span is still rejected.
    const retried = await ingestUsageEvents(ports, [
      early,
      { ...early, startedAt: new Date(end.getTime() + 2 * 60_000) },
      callEvent(accountId, 60, { startedAt: new Date(end.getTime() + 60_000) }),
    ]);
    expect(outcomes(retried)).toEqual([
      ["duplicate"],
      ["rejected", "call_id_conflict"],
      ["rejected", "subscription_paused"],
    ]);
    expect(await db.usageEvent.count({ where: { accountId, startedAt: { gte: end } } })).toBe(1);
  });

  it("paused, resumed early, paused again: two spans, kept as they are by repeated syncs; the gap between them counts", async () => {
    clock.set(new Date("2026-11-27T12:00:00Z"));
    const who = await subscribed();
    const { accountId } = who.ref;
    const sub = await db.subscription.findFirstOrThrow({ where: { accountId } });
    const end = sub.currentPeriodEnd;
    await pauseSubscription(ports, accountId, null);
    const resumeAt = new Date(end.getTime() + 2 * 86_400_000);
    await advanceTo(accountId, resumeAt);
    await resumePausedSubscription(ports, accountId);
    const second = (await db.subscription.findFirstOrThrow({ where: { accountId } })).currentPeriodEnd;
    expect(second.getTime()).toBeGreaterThan(resumeAt.getTime());
    await pauseSubscription(ports, accountId, 1);
    // The webhooks of all this arrive again, late and twice: the spans stay as they are.
    await syncSubscription(ports, sub.stripeSubscriptionId);
    await syncSubscription(ports, sub.stripeSubscriptionId);
    await advanceTo(accountId, new Date(second.getTime() + 86_400_000));
    await syncSubscription(ports, sub.stripeSubscriptionId);
    const spansNow = await spans(accountId);
    expect(spansNow).toHaveLength(2);
    expect(spansNow[0]).toEqual([end.toISOString(), resumeAt.toISOString(), true]);
    expect(spansNow[1]?.[0]).toBe(second.toISOString());
    expect(spansNow[1]?.[2]).toBe(false);
    const report = await ingestUsageEvents(ports, [
      callEvent(accountId, 60, { startedAt: new Date(end.getTime() + 1) }),
      callEvent(accountId, 60, { startedAt: new Date(resumeAt.getTime() - 1) }),
      callEvent(accountId, 60, { startedAt: resumeAt }),
      callEvent(accountId, 60, { startedAt: new Date(second.getTime() - 1) }),
      callEvent(accountId, 60, { startedAt: second }),
      callEvent(accountId, 60, { startedAt: new Date(second.getTime() + 3_600_000) }),
    ]);
    expect(outcomes(report)).toEqual([
      ["rejected", "subscription_paused"],
      ["rejected", "subscription_paused"],
      ["accepted", true],
      ["accepted", true],
      ["rejected", "subscription_paused"],
      ["rejected", "subscription_paused"],
    ]);
  });

  it("a batch mixing a paused account's calls with another account's (same call_ids) leaves the other unaffected", async () => {
    clock.set(new Date("2026-11-27T12:00:00Z"));
    const paused = await subscribed();
    const other = await subscribed();
    const end = (await db.subscription.findFirstOrThrow({ where: { accountId: paused.ref.accountId } }))
      .currentPeriodEnd;
    await pauseSubscription(ports, paused.ref.accountId, 1);
    await advanceTo(paused.ref.accountId, new Date(end.getTime() + 3_600_000));
    await advanceTo(other.ref.accountId, new Date(end.getTime() + 3_600_000));
    const at = new Date(end.getTime() + 60_000);
    const batch = [
      callEvent(paused.ref.accountId, 600, { callId: "mixed-1", startedAt: at }),
      callEvent(other.ref.accountId, 600, { callId: "mixed-1", startedAt: at }),
      callEvent(paused.ref.accountId, 600, {
        callId: "mixed-2",
        startedAt: new Date(end.getTime() - 600_000),
      }),
      callEvent(other.ref.accountId, 600, { callId: "mixed-2", startedAt: at }),
      callEvent(paused.ref.accountId, 600, { callId: "mixed-1", startedAt: at }),
    ];
    expect(outcomes(await ingestUsageEvents(ports, batch))).toEqual([
      ["rejected", "subscription_paused"],
      ["accepted", false],
      ["accepted", true],
      ["accepted", false],
      ["rejected", "subscription_paused"],
    ]);
    // Replayed whole: the recorded ones are duplicates, the paused one still rejected.
    expect(outcomes(await ingestUsageEvents(ports, batch))).toEqual([
      ["rejected", "subscription_paused"],
      ["duplicate"],
      ["duplicate"],
      ["duplicate"],
      ["rejected", "subscription_paused"],
    ]);
    expect(
      await db.usageEvent.count({ where: { accountId: paused.ref.accountId, startedAt: { gte: end } } }),
    ).toBe(0);
    expect(await db.usageEvent.count({ where: { accountId: other.ref.accountId } })).toBe(2);
  });

  it("cancelled while paused: the span ends with the subscription; later calls are no_active_subscription", async () => {
    clock.set(new Date("2026-11-27T12:00:00Z"));
    const who = await subscribed();
    const { accountId } = who.ref;
    const end = (await db.subscription.findFirstOrThrow({ where: { accountId } })).currentPeriodEnd;
    await pauseSubscription(ports, accountId, 2);
    await advanceTo(accountId, new Date(end.getTime() + 60_000));
    await cancel(ports, who.ref);
    const row = await db.subscription.findFirstOrThrow({ where: { accountId } });
    const endsAt = row.currentPeriodEnd;
    await advanceTo(accountId, new Date(endsAt.getTime() + 60_000));
    const ended = await db.subscription.findFirstOrThrow({ where: { accountId } });
    expect(ended.status).toBe("canceled");
    expect(await spans(accountId)).toEqual([
      [end.toISOString(), (ended.endedAt ?? endsAt).toISOString(), true],
    ]);
    expect(
      outcomes(
        await ingestUsageEvents(ports, [
          callEvent(accountId, 60, { startedAt: new Date(endsAt.getTime() - 60_000) }),
          callEvent(accountId, 60, { startedAt: endsAt }),
        ]),
      ),
    ).toEqual([
      ["rejected", "subscription_paused"],
      ["rejected", "no_active_subscription"],
    ]);
  });
});
