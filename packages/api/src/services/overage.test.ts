import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { createTaskList } from "../jobs/tasks.ts";
import { testPorts } from "../testing.ts";
import {
  callEvent,
  createAccount,
  PERIOD_START,
  queuedJobs,
  runQueuedJobs,
  subscribe,
} from "./metering.fixtures.ts";
import {
  BILL_OVERAGE_TASK,
  billOverage,
  type OverageBill,
  REPORT_OVERAGE_TASK,
  reportOverage,
} from "./overage.ts";
import { ingestUsageEvents } from "./usage-ingest.ts";

const { db, url } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
const { stripe } = ports;

/** An account with a real (emulated) Stripe customer and subscription on the Pro package ($0.03/min overage). */
async function stripeCustomer() {
  const { accountId } = await createAccount(db);
  const customer = await stripe.customers.create({ email: `overage-${accountId}@example.com` });
  const product = await stripe.products.create({ name: "Pro" });
  const price = await stripe.prices.create({
    product: product.id,
    unit_amount: 9900,
    currency: "usd",
    recurring: { interval: "month" },
  });
  const subscription = await stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price: price.id }],
    payment_behavior: "default_incomplete",
  });
  await db.account.update({ where: { id: accountId }, data: { stripeCustomerId: customer.id } });
  await subscribe(db, accountId, { plan: "Pro", stripeSubscriptionId: subscription.id });
  return { accountId, customerId: customer.id, subscriptionId: subscription.id };
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
  it("adds the minutes beyond the limit to the next invoice once, however often the jobs run", async () => {
    const { accountId, customerId, subscriptionId } = await stripeCustomer();
    // Pro includes 3,000 minutes: 3,100 used is 100 minutes of overage at $0.03.
    await ingestUsageEvents(ports, [
      callEvent(accountId, 1440 * 60),
      callEvent(accountId, 1440 * 60),
      callEvent(accountId, 220 * 60),
    ]);
    expect(
      (await queuedJobs(db, REPORT_OVERAGE_TASK)).filter((j) => j.payload.accountId === accountId),
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
    await tasks[REPORT_OVERAGE_TASK]?.(
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
    };
    const replayed = await billOverage(ports, bill);
    await tasks[BILL_OVERAGE_TASK]?.(bill, { jobId: "y", attempt: 2 });
    items = await invoiceItems(customerId);
    expect(items).toHaveLength(1);
    expect(replayed.invoiceItemId).toBe(items[0]?.id);

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
    expect(
      (await queuedJobs(db, REPORT_OVERAGE_TASK)).filter((j) => j.payload.accountId === accountId),
    ).toEqual([]);
    expect(await reportOverage(ports, { accountId, periodStart: PERIOD_START })).toBeNull();
  });
});
