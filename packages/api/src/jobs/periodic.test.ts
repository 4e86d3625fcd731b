import { testDatabase } from "@minutely/db/vitest";
import { systemClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { UpstreamUnavailableError } from "../errors.ts";
import { resyncStaleSubscriptions } from "../services/billing/index.ts";
import { syncCatalogToStripe } from "../services/catalog/index.ts";
import { expireCallReservations } from "../services/metering/index.ts";
import { subscriptions } from "../services/subscriptions/index.ts";
import { testPorts } from "../testing.ts";
import { classifyFailure } from "./failure-kind.ts";
import { createTaskList } from "./registry.ts";

const { db } = await testDatabase();
const base = testPorts(db, { stripeApiBase: stripeEmulatorUrl() });
// Real time and no test clock: the safety net is about subscriptions living in real time.
const ports = { ...base, clock: systemClock, settings: { ...base.settings, useTestClocks: false } };
const DAY = 24 * 60 * 60 * 1000;

describe("resyncStaleSubscriptions", () => {
  it("re-reads a subscription whose renewal never reached us, once", async () => {
    await syncCatalogToStripe(ports);
    const account = await db.account.create({ data: { name: "Renewing Ltd" } });
    const starter = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Starter" } });
    await subscriptions.subscribe(
      ports,
      { accountId: account.id, email: "renew@example.com", name: "Renewing Ltd" },
      { packageId: starter.id, paymentMethodId: "pm_card_visa" },
    );
    const synced = await db.subscription.findFirstOrThrow({ where: { accountId: account.id } });
    expect(synced.status).toBe("active");
    expect(synced.currentPeriodEnd.getTime()).toBeGreaterThan(Date.now());

    // As if the renewal webhooks were lost: our copy still shows a period that ended a day ago.
    const now = Date.now();
    await db.subscription.update({
      where: { id: synced.id },
      data: {
        currentPeriodStart: new Date(now - 31 * DAY),
        currentPeriodEnd: new Date(now - DAY),
        syncedAt: new Date(now - 2 * DAY),
      },
    });
    // A subscription on a test clock lives in the clock's time and is left alone.
    const clocked = await db.subscription.create({
      data: {
        accountId: (await db.account.create({ data: { name: "Clocked" } })).id,
        stripeSubscriptionId: "sub_on_a_test_clock",
        planId: starter.id,
        stripePriceId: synced.stripePriceId,
        status: "active",
        currentPeriodStart: new Date(now - 31 * DAY),
        currentPeriodEnd: new Date(now - DAY),
        stripeTestClockId: "clock_1",
        syncedAt: new Date(now - 2 * DAY),
      },
    });

    const result = await resyncStaleSubscriptions(ports);
    expect(result).toEqual({ resynced: [synced.stripeSubscriptionId], failed: [] });
    const repaired = await db.subscription.findUniqueOrThrow({ where: { id: synced.id } });
    expect(repaired.currentPeriodEnd).toEqual(synced.currentPeriodEnd);
    expect(repaired.currentPeriodStart).toEqual(synced.currentPeriodStart);
    const untouched = await db.subscription.findUniqueOrThrow({ where: { id: clocked.id } });
    expect(untouched.currentPeriodEnd).toEqual(clocked.currentPeriodEnd);

    expect(await resyncStaleSubscriptions(ports)).toEqual({ resynced: [], failed: [] });
  });
});

describe("expireCallReservations", () => {
  it("marks held reservations past their expiry as expired and nothing else", async () => {
    const account = await db.account.create({ data: { name: "Calling Ltd" } });
    const now = Date.now();
    const reservation = (callId: string, status: "held" | "settled", expiresAt: number) =>
      db.callReservation.create({
        data: {
          callId,
          accountId: account.id,
          direction: "outbound",
          minutes: 5,
          status,
          expiresAt: new Date(expiresAt),
        },
      });
    await reservation("call-abandoned", "held", now - 60_000);
    await reservation("call-in-progress", "held", now + 60_000);
    await reservation("call-settled", "settled", now - 60_000);

    expect(await expireCallReservations(ports)).toBe(1);
    const statuses = Object.fromEntries(
      (await db.callReservation.findMany({ where: { accountId: account.id } })).map((r) => [
        r.callId,
        r.status,
      ]),
    );
    expect(statuses).toEqual({
      "call-abandoned": "expired",
      "call-in-progress": "held",
      "call-settled": "settled",
    });
  });
});

describe("the periodic catalog sync", () => {
  it("makes a price edited while Stripe was down purchasable once Stripe answers again", async () => {
    await syncCatalogToStripe(ports);
    // An admin changed Enterprise's price while Stripe was unreachable: the change is saved, not synced.
    const enterprise = await db.subscriptionPlan.update({
      where: { name: "Enterprise" },
      data: { monthlyPriceCents: 34_900 },
    });
    let outage = true;
    const flaky: typeof ports.billing = Object.create(ports.billing);
    flaky.createMonthlyPrice = async (input) => {
      if (outage) throw new UpstreamUnavailableError("Stripe could not be reached.", 5);
      return await ports.billing.createMonthlyPrice(input);
    };
    const run = createTaskList({ ...ports, billing: flaky })["sync-catalog-to-stripe"];
    const task = () => run({}, { jobId: "0", attempt: 1 });
    await expect(task()).rejects.toThrow(/could not sync Enterprise to Stripe/);
    const stale = await db.planPrice.findFirstOrThrow({
      where: { planId: enterprise.id, currency: "usd", current: true },
    });
    expect(stale.amountCents).not.toBe(34_900);

    outage = false;
    await task();
    const current = await db.planPrice.findFirstOrThrow({
      where: { planId: enterprise.id, currency: "usd", current: true },
    });
    expect(current.amountCents).toBe(34_900);
    const atStripe = await ports.stripe.prices.retrieve(current.stripePriceId);
    expect(atStripe.unit_amount).toBe(34_900);
    await task(); // nothing left to do: no new price
    // One current price per currency (usd, eur, gbp), the EUR and GBP ones untouched.
    expect(await db.planPrice.count({ where: { planId: enterprise.id, current: true } })).toBe(3);
    const rows = await db.subscriptionPlanPrice.findMany({
      where: { planId: enterprise.id },
      orderBy: { currency: "asc" },
    });
    expect(rows.map((r) => [r.currency, r.amountCents, r.stripePriceId !== null])).toEqual([
      ["eur", 28_900, true],
      ["gbp", 25_900, true],
      ["usd", 34_900, true],
    ]);
  });
});

/** The error a task's run ends with (or null when it succeeded). */
async function failureOf(run: () => Promise<void>): Promise<unknown> {
  try {
    await run();
    return null;
  } catch (error) {
    return error;
  }
}

describe("periodic tasks during a Stripe outage", () => {
  it("the catalog sync fails as an outage (put back, no attempt counted) when Stripe cannot be reached or times out, and counts only its own errors", async () => {
    await syncCatalogToStripe(ports);
    await db.subscriptionPlan.update({ where: { name: "Pro" }, data: { monthlyPriceCents: 10_900 } });
    const failing = (error: () => Error) => {
      const billing: typeof ports.billing = Object.create(ports.billing);
      billing.createMonthlyPrice = async () => {
        throw error();
      };
      return createTaskList({ ...ports, billing })["sync-catalog-to-stripe"];
    };
    const context = { jobId: "0", attempt: 1 };
    const unavailable = await failureOf(() =>
      failing(() => new UpstreamUnavailableError("Stripe could not be reached.", 5))({}, context),
    );
    expect(String(unavailable)).toMatch(/could not sync Pro to Stripe/);
    expect(classifyFailure(unavailable)).toEqual({ kind: "infrastructure", dependency: "stripe" });
    const timedOut = await failureOf(() =>
      failing(
        () =>
          new Stripe.errors.StripeConnectionError({
            message: "Request aborted due to timeout being reached",
          }),
      )({}, context),
    );
    expect(classifyFailure(timedOut)).toEqual({ kind: "infrastructure", dependency: "stripe" });
    // Stripe refusing the request on purpose is the task's own failure: it counts.
    const refused = await failureOf(() =>
      failing(() => new Stripe.errors.StripeInvalidRequestError({ message: "No such product" }))({}, context),
    );
    expect(classifyFailure(refused)).toEqual({ kind: "job" });
    await createTaskList(ports)["sync-catalog-to-stripe"]({}, context);
  });

  it("the resync of stale subscriptions fails as an outage when Stripe cannot be read", async () => {
    const plan = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Starter" } });
    const now = Date.now();
    await db.subscription.create({
      data: {
        accountId: (await db.account.create({ data: { name: "Stale during outage" } })).id,
        stripeSubscriptionId: "sub_stale_during_outage",
        planId: plan.id,
        stripePriceId: plan.stripePriceId ?? "",
        status: "active",
        currentPeriodStart: new Date(now - 31 * DAY),
        currentPeriodEnd: new Date(now - DAY),
        syncedAt: new Date(now - 2 * DAY),
      },
    });
    const billing: typeof ports.billing = Object.create(ports.billing);
    billing.retrieveSubscription = async () => {
      throw new UpstreamUnavailableError("Stripe could not be reached.", 5);
    };
    const failure = await failureOf(() =>
      createTaskList({ ...ports, billing })["resync-stale-subscriptions"]({}, { jobId: "0", attempt: 1 }),
    );
    expect(String(failure)).toMatch(/sub_stale_during_outage/);
    expect(classifyFailure(failure)).toEqual({ kind: "infrastructure", dependency: "stripe" });
    await db.subscription.deleteMany({ where: { stripeSubscriptionId: "sub_stale_during_outage" } });
  });
});

describe("a successful periodic run", () => {
  /** A job as the queue leaves it; failed for good when `failed`. */
  async function job(task: string, failed: boolean): Promise<string> {
    const [row] = await db.$queryRaw<{ id: string }[]>`
      SELECT (graphile_worker.add_job(${task}::text, '{}'::json, max_attempts => 1)).id::text AS id`;
    const id = row?.id ?? "";
    if (failed) {
      await db.$executeRaw`
        UPDATE graphile_worker._private_jobs SET attempts = 1, last_error = 'could not sync Pro to Stripe'
        WHERE id = ${id}::bigint`;
    }
    return id;
  }
  async function remaining(ids: string[]) {
    const rows = await db.$queryRaw<{ id: string }[]>`
      SELECT id::text AS id FROM graphile_worker._private_jobs WHERE id = ANY(${ids}::bigint[]) ORDER BY id`;
    return rows.map((row) => row.id);
  }

  it("supersedes the earlier failed runs of its task: they are no longer listed as failed", async () => {
    const earlier = [await job("sync-catalog-to-stripe", true), await job("sync-catalog-to-stripe", true)];
    const otherTask = await job("expire-call-reservations", true);
    const current = await job("sync-catalog-to-stripe", false);
    await createTaskList(ports)["sync-catalog-to-stripe"]({}, { jobId: current, attempt: 1 });
    expect(await remaining([...earlier, otherTask, current])).toEqual([otherTask, current]);

    // A run that fails supersedes nothing.
    const failedBefore = await job("sync-catalog-to-stripe", true);
    await db.subscriptionPlan.update({ where: { name: "Pro" }, data: { monthlyPriceCents: 11_900 } });
    const billing: typeof ports.billing = Object.create(ports.billing);
    billing.createMonthlyPrice = async () => {
      throw new UpstreamUnavailableError("Stripe could not be reached.", 5);
    };
    await expect(
      createTaskList({ ...ports, billing })["sync-catalog-to-stripe"]({}, { jobId: current, attempt: 1 }),
    ).rejects.toThrow();
    expect(await remaining([failedBefore])).toEqual([failedBefore]);
    await createTaskList(ports)["expire-call-reservations"]({}, { jobId: current, attempt: 1 });
    expect(await remaining([failedBefore, otherTask])).toEqual([failedBefore]);
  });
});
