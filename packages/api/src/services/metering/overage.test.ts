import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { createTaskList } from "../../jobs/registry.ts";
import { testPorts } from "../../testing.ts";
import { authorizeCallRequest } from "./call-authorization.ts";
import {
  callEvent,
  createAccount,
  PERIOD_END,
  PERIOD_START,
  queuedJobs,
  runQueuedJobs,
  type SeededPlan,
  stripeSubscribedAccount,
  subscribe,
} from "./metering.fixtures.ts";
import { billOverage, type OverageBill, reportOverage, withdrawCurrentOverage } from "./overage.ts";
import { ingestUsageEvents } from "./usage-ingest.ts";
import { currentUsage } from "./usage-read.ts";

const { db, url } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
const { stripe } = ports;

/**
 * An account with a real (emulated) Stripe customer and subscription, on the Pro package ($0.03/min
 * overage) unless told otherwise.
 */
async function stripeCustomer(plan: SeededPlan = "Pro") {
  const { accountId, customerId, subscriptionId, subscriptionRowId } = await stripeSubscribedAccount(
    db,
    stripe,
    plan,
    "overage",
  );
  return { accountId, customerId, subscriptionId, subscriptionRowId };
}

const DECEMBER_END = new Date("2027-01-01T00:00:00Z");

/** What the subscription sync writes when Stripe renews into December, on `plan` from then on. */
async function renewInto(subscriptionRowId: string, plan: SeededPlan) {
  const { id: planId } = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: plan } });
  await db.subscription.update({
    where: { id: subscriptionRowId },
    data: { planId, currentPeriodStart: PERIOD_END, currentPeriodEnd: DECEMBER_END },
  });
}

/** What the subscription sync writes after an immediate change of package (same period). */
async function changePlanNow(subscriptionRowId: string, plan: SeededPlan) {
  const { id: planId } = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: plan } });
  await db.subscription.update({ where: { id: subscriptionRowId }, data: { planId } });
}

/** Runs the queued jobs and checks that none is left: each succeeded (a failed one waits for its retry). */
async function runJobsWithoutFailures(p: typeof ports) {
  expect(await runQueuedJobs(url, p)).toEqual([]);
}

/** Day-long calls (1,440 minutes each) plus one call of the rest, `minutes` in all, started at `at`. */
function callsOf(accountId: string, minutes: number, at: Date) {
  const events = [];
  for (let left = minutes; left > 0; left -= 1440) {
    events.push(callEvent(accountId, Math.min(left, 1440) * 60, { startedAt: at }));
  }
  return events;
}

async function invoiceItems(customerId: string) {
  return (await stripe.invoiceItems.list({ customer: customerId, limit: 100 })).data;
}

async function overageReported(accountId: string) {
  const rollup = await db.usagePeriodRollup.findUniqueOrThrow({
    where: { accountId_periodStart: { accountId, periodStart: PERIOD_START } },
  });
  return rollup.overageReported;
}

describe("overage billing", () => {
  it("queues one report for each account a batch takes into overage, and bills each once", async () => {
    const accounts = await Promise.all([stripeCustomer(), stripeCustomer(), stripeCustomer("Enterprise")]);
    // One batch: Pro includes 3,000 minutes (3,100: 100 over), Enterprise 10,000 (10,050: 50 over).
    await ingestUsageEvents(ports, [
      ...callsOf(accounts[0].accountId, 3_100, new Date("2026-11-20T10:00:00Z")),
      ...callsOf(accounts[1].accountId, 3_100, new Date("2026-11-20T10:00:00Z")),
      ...callsOf(accounts[2].accountId, 10_050, new Date("2026-11-20T10:00:00Z")),
    ]);
    const queued = (await queuedJobs(db, "report-overage")).filter((j) =>
      accounts.some((a) => a.accountId === j.payload.accountId),
    );
    expect(queued.map((j) => j.payload.accountId).sort()).toEqual(accounts.map((a) => a.accountId).sort());
    await runJobsWithoutFailures(ports);
    for (const { accountId } of accounts) {
      expect(await overageReported(accountId)).toBe(accountId === accounts[2].accountId ? 50 : 100);
    }
  });

  it("adds the minutes beyond the limit to the next invoice once, however often the jobs run", async () => {
    const { accountId, customerId, subscriptionId } = await stripeCustomer();
    // Pro includes 3,000 minutes: 3,100 used is 100 minutes of overage at $0.03.
    await ingestUsageEvents(ports, [
      callEvent(accountId, 1440 * 60),
      callEvent(accountId, 1440 * 60),
      callEvent(accountId, 220 * 60),
    ]);
    expect(
      (await queuedJobs(db, "report-overage")).filter((j) => j.payload.accountId === accountId),
    ).toHaveLength(1);
    const left = await runQueuedJobs(url, ports);
    expect(left).toEqual([]);
    let items = await invoiceItems(customerId);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ amount: 300, currency: "usd" });
    expect(items[0]?.parent?.subscription_details?.subscription).toBe(subscriptionId);
    expect(items[0]?.metadata).toMatchObject({ minutely_account_id: accountId, minutely_overage_to: "100" });
    expect(await overageReported(accountId)).toBe(100);

    // The report job runs again (a retry, a duplicate delivery): nothing new to report.
    const tasks = createTaskList(ports);
    await tasks["report-overage"]?.(
      { accountId, periodStart: PERIOD_START.toISOString() },
      { jobId: "x", attempt: 2 },
    );
    await runQueuedJobs(url, ports);
    expect(await invoiceItems(customerId)).toHaveLength(1);

    // The billing job is retried after Stripe answered but before the job was marked done: same item.
    const bill: OverageBill = {
      accountId,
      periodStart: PERIOD_START.toISOString(),
      fromMinutes: 0,
      toMinutes: 100,
      pricePerMinuteCents: 3,
      currency: "usd",
      epoch: 0,
    };
    const replayed = await billOverage(ports, bill);
    await tasks["bill-overage"]?.(bill, { jobId: "y", attempt: 2 });
    items = await invoiceItems(customerId);
    expect(items).toHaveLength(1);
    expect(replayed?.invoiceItemId).toBe(items[0]?.id);

    // Fifty more minutes: only those are billed next.
    await ingestUsageEvents(ports, [callEvent(accountId, 50 * 60)]);
    expect(await runQueuedJobs(url, ports)).toEqual([]);
    items = await invoiceItems(customerId);
    expect(items.map((i) => i.amount).sort((a, b) => a - b)).toEqual([150, 300]);
    expect(await overageReported(accountId)).toBe(150);
  });

  it("decides each range once even when reports race", async () => {
    const { accountId, customerId } = await stripeCustomer();
    await ingestUsageEvents(ports, [
      callEvent(accountId, 1440 * 60),
      callEvent(accountId, 1440 * 60),
      callEvent(accountId, 130 * 60),
    ]);
    const bills = await Promise.all(
      Array.from({ length: 5 }, () => reportOverage(ports, { accountId, periodStart: PERIOD_START })),
    );
    expect(bills.filter((b) => b !== null)).toEqual([
      expect.objectContaining({ fromMinutes: 0, toMinutes: 10 }),
    ]);
    expect(await runQueuedJobs(url, ports)).toEqual([]);
    expect((await invoiceItems(customerId)).map((i) => i.amount)).toEqual([30]);
  });

  it("reports nothing for a hard-cap package, even when inbound calls ran over", async () => {
    const { accountId } = await createAccount(db);
    await subscribe(db, accountId, { plan: "Starter" });
    await ingestUsageEvents(ports, [callEvent(accountId, 1100 * 60, { direction: "inbound" })]);
    expect((await queuedJobs(db, "report-overage")).filter((j) => j.payload.accountId === accountId)).toEqual(
      [],
    );
    expect(await reportOverage(ports, { accountId, periodStart: PERIOD_START })).toBeNull();
  });
});

/**
 * The billing port with `addInvoiceItem` held at a gate: `entered` resolves once a call reached it (before
 * or after Stripe made the item), and the call goes on once `release()` is called.
 */
function gatedBilling(at: "before-stripe" | "after-stripe") {
  let entered: () => void = () => {};
  let release: () => void = () => {};
  const reached = new Promise<void>((resolve) => {
    entered = resolve;
  });
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const billing: typeof ports.billing = Object.create(ports.billing);
  billing.addInvoiceItem = async (input) => {
    if (at === "before-stripe") {
      entered();
      await gate;
      return await ports.billing.addInvoiceItem(input);
    }
    const item = await ports.billing.addInvoiceItem(input);
    entered();
    await gate;
    return item;
  };
  return { ports: { ...ports, billing }, reached, release };
}

async function claimOf(accountId: string) {
  return await db.overageBill.findMany({ where: { accountId }, orderBy: { createdAt: "asc" } });
}

describe("overage billing while Stripe hangs", () => {
  it("holds no lock or transaction while Stripe answers: the account's ingestion goes on meanwhile", async () => {
    const { accountId, customerId } = await stripeCustomer();
    await ingestUsageEvents(ports, callsOf(accountId, 3100, new Date("2026-11-20T10:00:00Z")));
    const bill = await reportOverage(ports, { accountId, periodStart: PERIOD_START });
    expect(bill).toMatchObject({ fromMinutes: 0, toMinutes: 100 });
    const gated = gatedBilling("before-stripe");
    const billing = billOverage(gated.ports, bill as OverageBill);
    await gated.reached;

    // The period's row is free (it was locked across the Stripe call: NOWAIT failed with 55P03)...
    const locked = await db.$transaction(
      async (tx) =>
        await tx.$queryRaw<{ minutes: number }[]>`
          SELECT minutes FROM usage_period_rollup
          WHERE account_id = ${accountId}::uuid AND period_start = ${PERIOD_START} FOR UPDATE NOWAIT`,
    );
    expect(locked).toEqual([{ minutes: 3100 }]);
    // ... no transaction is left open by the bill, and the claim is recorded before Stripe is asked...
    const [open] = await db.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND state LIKE 'idle in transaction%'`;
    expect(open?.n).toBe(0);
    expect(await claimOf(accountId)).toEqual([
      expect.objectContaining({ status: "pending", toMinutes: 100 }),
    ]);
    // ... so the same account's usage is recorded while Stripe still has not answered.
    const more = await ingestUsageEvents(ports, [callEvent(accountId, 10 * 60)]);
    expect(more).toMatchObject({ accepted: 1 });

    gated.release();
    const item = await billing;
    const items = await invoiceItems(customerId);
    expect(items.map((i) => [i.id, i.amount])).toEqual([[item?.invoiceItemId, 300]]);
    expect(await claimOf(accountId)).toEqual([
      expect.objectContaining({ status: "billed", invoiceItemId: item?.invoiceItemId }),
    ]);
  });

  it("completes a claim left pending (the answer was lost) with the same key: one item", async () => {
    const { accountId, customerId } = await stripeCustomer();
    await ingestUsageEvents(ports, callsOf(accountId, 3100, new Date("2026-11-20T10:00:00Z")));
    const bill = (await reportOverage(ports, { accountId, periodStart: PERIOD_START })) as OverageBill;
    const lost: typeof ports.billing = Object.create(ports.billing);
    lost.addInvoiceItem = async (input) => {
      await ports.billing.addInvoiceItem(input);
      throw new Error("socket hang up");
    };
    await expect(billOverage({ ...ports, billing: lost }, bill)).rejects.toThrow("socket hang up");
    expect(await claimOf(accountId)).toEqual([expect.objectContaining({ status: "pending" })]);

    const retried = await billOverage(ports, bill);
    const again = await billOverage(ports, bill);
    const items = await invoiceItems(customerId);
    expect(items).toHaveLength(1);
    expect(retried?.invoiceItemId).toBe(items[0]?.id);
    expect(again).toEqual(retried);
    expect(await claimOf(accountId)).toEqual([expect.objectContaining({ status: "billed" })]);
  });

  for (const at of ["before-stripe", "after-stripe"] as const) {
    it(`leaves nothing billed when an upgrade withdraws the overage while Stripe answers (${at})`, async () => {
      const { accountId, customerId } = await stripeCustomer();
      await ingestUsageEvents(ports, callsOf(accountId, 3100, new Date("2026-11-20T10:00:00Z")));
      const bill = (await reportOverage(ports, { accountId, periodStart: PERIOD_START })) as OverageBill;
      const gated = gatedBilling(at);
      const billing = billOverage(gated.ports, bill);
      await gated.reached;

      // The withdrawal does not wait for the bill: it deletes the item the bill's key makes.
      const withdrawn = await withdrawCurrentOverage(ports, {
        accountId,
        customerId,
        periodStart: PERIOD_START,
      });
      expect(withdrawn).toBe(300);
      gated.release();
      expect(await billing).toBeNull();
      expect((await stripe.invoiceItems.list({ customer: customerId, pending: true })).data).toEqual([]);
      expect(await claimOf(accountId)).toEqual([expect.objectContaining({ status: "void" })]);
      expect(await overageReported(accountId)).toBe(0);
      // The bill's retry changes nothing.
      expect(await billOverage(ports, bill)).toBeNull();
      expect((await stripe.invoiceItems.list({ customer: customerId, pending: true })).data).toEqual([]);
    });
  }
});

describe("overage of a period no subscription covers", () => {
  it("is never billed, even when a rollup for it exists", async () => {
    const { accountId, customerId } = await stripeCustomer("Pro");
    // What ingestion wrote before it refused absurd dates: three 24-hour calls of 1990 in an invented
    // period, recorded on Pro's terms (4,320 minutes, 1,320 beyond 3,000: $39.60).
    const invented = new Date("1990-01-01T00:00:00Z");
    const plan = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
    await db.usagePeriodRollup.create({
      data: {
        accountId,
        periodStart: invented,
        periodEnd: new Date("1990-02-01T00:00:00Z"),
        minutes: 4320,
        seconds: 3 * 86_400,
        calls: 3,
        planId: plan.id,
        callMinutesLimit: 3000,
        overagePriceCentsPerMinute: 3,
        currency: "usd",
      },
    });
    expect(await reportOverage(ports, { accountId, periodStart: invented })).toBeNull();
    expect((await queuedJobs(db, "bill-overage")).filter((j) => j.payload.accountId === accountId)).toEqual(
      [],
    );
    expect(await invoiceItems(customerId)).toEqual([]);
  });
});

describe("overage after a change of package", () => {
  it("bills a closed period by the package that governed it, after a downgrade at renewal", async () => {
    const renewalClock = fixedClock(new Date("2026-11-27T12:00:00Z"));
    const p = { ...ports, clock: renewalClock };
    const { accountId, customerId, subscriptionRowId } = await stripeCustomer("Enterprise");
    // Enterprise: 10,000 included, $0.02 a minute beyond. November ends 400 minutes over.
    await ingestUsageEvents(p, callsOf(accountId, 10_400, new Date("2026-11-20T00:00:00Z")));

    // Stripe renews the subscription into December on Pro (the scheduled downgrade) before the report job
    // runs: November's overage is still Enterprise's.
    await renewInto(subscriptionRowId, "Pro");
    renewalClock.set(new Date("2026-12-05T00:00:00Z"));
    await runJobsWithoutFailures(p);
    let items = await invoiceItems(customerId);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ amount: 400 * 2, currency: "usd" });
    expect(items[0]?.metadata).toMatchObject({
      minutely_period_start: PERIOD_START.toISOString(),
      minutely_overage_from: "0",
      minutely_overage_to: "400",
    });

    // A late report of a November call: its minutes are billed as Enterprise's too.
    const late = await ingestUsageEvents(p, callsOf(accountId, 100, new Date("2026-11-30T20:00:00Z")));
    expect(late).toMatchObject({ accepted: 1, late: 1 });
    await runJobsWithoutFailures(p);
    items = await invoiceItems(customerId);
    expect(items.map((i) => [i.amount, i.metadata?.minutely_overage_to]).sort()).toEqual([
      [100 * 2, "500"],
      [400 * 2, "400"],
    ]);

    // December is Pro's: 3,100 minutes are 100 beyond its 3,000, at $0.03.
    await ingestUsageEvents(p, callsOf(accountId, 3_100, new Date("2026-12-02T00:00:00Z")));
    await runJobsWithoutFailures(p);
    items = await invoiceItems(customerId);
    expect(items.map((i) => i.amount).sort((a, b) => a - b)).toEqual([100 * 2, 100 * 3, 400 * 2]);
    expect(await overageReported(accountId)).toBe(500);
  });

  it("still bills a closed period's overage after a downgrade to a hard-cap package", async () => {
    const renewalClock = fixedClock(new Date("2026-11-27T12:00:00Z"));
    const p = { ...ports, clock: renewalClock };
    const { accountId, customerId, subscriptionRowId } = await stripeCustomer("Pro");
    await ingestUsageEvents(p, callsOf(accountId, 3_000, new Date("2026-11-20T00:00:00Z")));
    await renewInto(subscriptionRowId, "Starter");
    renewalClock.set(new Date("2026-12-05T00:00:00Z"));

    // November's last calls are reported late: 200 minutes beyond Pro's 3,000, at Pro's $0.03.
    await ingestUsageEvents(p, callsOf(accountId, 200, new Date("2026-11-30T23:00:00Z")));
    await runJobsWithoutFailures(p);
    expect((await invoiceItems(customerId)).map((i) => i.amount)).toEqual([200 * 3]);

    // December on Starter is a hard cap: inbound calls beyond it are not billed.
    await ingestUsageEvents(p, [
      callEvent(accountId, 1_100 * 60, { direction: "inbound", startedAt: new Date("2026-12-02T00:00:00Z") }),
    ]);
    expect(await reportOverage(p, { accountId, periodStart: PERIOD_END })).toBeNull();
    await runJobsWithoutFailures(p);
    expect(await invoiceItems(customerId)).toHaveLength(1);
  });

  it("applies an upgrade to the current period at once", async () => {
    const { accountId, customerId, subscriptionRowId } = await stripeCustomer("Pro");
    // 3,500 minutes on Pro; the customer upgrades to Enterprise before the report job runs.
    await ingestUsageEvents(ports, callsOf(accountId, 3_500, new Date("2026-11-20T00:00:00Z")));
    await changePlanNow(subscriptionRowId, "Enterprise");
    await runJobsWithoutFailures(ports);
    expect(await invoiceItems(customerId)).toEqual([]);

    // Enterprise's 10,000 minutes are the period's allowance: 10,100 is 100 over, at $0.02.
    await ingestUsageEvents(ports, callsOf(accountId, 6_600, new Date("2026-11-21T00:00:00Z")));
    await runJobsWithoutFailures(ports);
    expect((await invoiceItems(customerId)).map((i) => i.amount)).toEqual([100 * 2]);
  });
});

describe("usage after the account's subscription ended", () => {
  /** Cancelled at the end of November; the test clock stands an hour past that end (December 1st, 01:00). */
  async function endSubscription(subscriptionRowId: string, subscriptionId: string) {
    await stripe.subscriptions.cancel(subscriptionId);
    await db.subscription.update({
      where: { id: subscriptionRowId },
      data: {
        status: "canceled",
        cancelAtPeriodEnd: true,
        canceledAt: PERIOD_END,
        endedAt: PERIOD_END,
        testClockTime: new Date(PERIOD_END.getTime() + 60 * 60_000),
      },
    });
  }
  const afterEnd = new Date(PERIOD_END.getTime() + 33 * 60_000);

  it("refuses calls that started after the end, stores no period for them and bills nothing", async () => {
    const { accountId, customerId, subscriptionId, subscriptionRowId } = await stripeCustomer("Pro");
    await endSubscription(subscriptionRowId, subscriptionId);
    const events = [1, 2, 3].map(() =>
      callEvent(accountId, 86_400, { startedAt: afterEnd, direction: "inbound" }),
    );
    const result = await ingestUsageEvents(ports, events);
    expect(result.results).toEqual(
      events.map((e) =>
        expect.objectContaining({ callId: e.callId, status: "rejected", reason: "no_active_subscription" }),
      ),
    );
    expect(await db.usageEvent.count({ where: { accountId } })).toBe(0);
    expect(await db.usagePeriodRollup.findMany({ where: { accountId } })).toEqual([]);
    expect(await runQueuedJobs(url, ports)).toEqual([]);
    expect(await invoiceItems(customerId)).toEqual([]);

    // Authorization denies for the same reason, and makes up no period either.
    const agent = await db.agent.create({ data: { accountId, name: "Agent" } });
    const decision = await authorizeCallRequest(ports, {
      callId: "after-end",
      accountId,
      agentId: agent.id,
      direction: "inbound",
    });
    expect(decision).toMatchObject({ decision: "deny", reason: "no_active_subscription" });
    expect(await db.usagePeriodRollup.findMany({ where: { accountId } })).toEqual([]);

    // The usage read shows the last real period (November), ended, not a made-up December one.
    const usage = await currentUsage(ports, accountId);
    expect(usage?.period).toEqual({ start: PERIOD_START, end: PERIOD_END });
    expect(usage).toMatchObject({ status: "canceled", accessGranted: false, minutesUsed: 0 });
  });

  it("counts a call that started before the end, late, in the last period, without invoicing it", async () => {
    const { accountId, customerId, subscriptionId, subscriptionRowId } = await stripeCustomer("Pro");
    await endSubscription(subscriptionRowId, subscriptionId);
    // 3,100 minutes of November (100 beyond Pro's 3,000), reported after the subscription was cancelled.
    const events = callsOf(accountId, 3100, new Date("2026-11-20T10:00:00Z"));
    const result = await ingestUsageEvents(ports, events);
    expect(result.results).toEqual(
      events.map(() =>
        expect.objectContaining({ status: "accepted", late: true, periodStart: PERIOD_START }),
      ),
    );
    expect(await runQueuedJobs(url, ports)).toEqual([]);
    // Stripe invoices no item of a canceled subscription: nothing is billed, nothing claims to be.
    expect(await invoiceItems(customerId)).toEqual([]);
    expect(await overageReported(accountId)).toBe(0);
  });

  it("voids a bill decided before the end and billed after it", async () => {
    const { accountId, customerId, subscriptionId, subscriptionRowId } = await stripeCustomer("Pro");
    await ingestUsageEvents(ports, callsOf(accountId, 3100, new Date("2026-11-20T10:00:00Z")));
    const bill = await reportOverage(ports, { accountId, periodStart: PERIOD_START });
    expect(bill).toMatchObject({ fromMinutes: 0, toMinutes: 100 });
    await endSubscription(subscriptionRowId, subscriptionId);
    expect(await billOverage(ports, bill as OverageBill)).toBeNull();
    expect(await invoiceItems(customerId)).toEqual([]);
    expect(await overageReported(accountId)).toBe(0);
  });
});
