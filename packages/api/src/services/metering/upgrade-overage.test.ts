// An upgrade applies to the whole current period: overage reported under the old package before it (a
// pending Stripe invoice item) is withdrawn, not swept into the upgrade's invoice, and the preview shows
// exactly what the upgrade charges. Against the Stripe emulator, with the real queue.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { testPorts } from "../../testing.ts";
import { syncCatalogToStripe } from "../catalog/catalog-admin.ts";
import { previewUpgrade, subscribe, upgrade } from "../subscriptions/subscriptions.ts";
import { callEvent, runQueuedJobs } from "./metering.fixtures.ts";
import { billOverage } from "./overage.ts";
import { ingestUsageEvents } from "./usage-ingest.ts";
import { currentUsage } from "./usage-read.ts";
import { forgetPeriodsSeen } from "./usage-write-guard.ts";

const { db, url } = await testDatabase();
const NOW = new Date("2026-11-27T12:00:00Z");
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock: fixedClock(NOW) });
await syncCatalogToStripe(ports);
const plans = Object.fromEntries((await db.subscriptionPlan.findMany()).map((p) => [p.name, p.id]));

async function proCustomerOver(minutes: number) {
  const account = await db.account.create({ data: { name: `Upgrade ${minutes}` } });
  const email = `owner-${account.id}@upgrade.test`;
  await db.user.create({
    data: { email, name: "Owner", memberships: { create: { accountId: account.id, role: "owner" } } },
  });
  const ref = { accountId: account.id, email, name: "Owner" };
  await subscribe(ports, ref, { packageId: plans.Pro ?? "", paymentMethodId: "pm_card_visa" });
  const hours = Math.floor(minutes / 60);
  const events = Array.from({ length: hours }, (_, i) =>
    callEvent(account.id, 3600, { startedAt: new Date(NOW.getTime() + 60_000 + i * 1000) }),
  );
  await ingestUsageEvents(ports, events);
  expect(await runQueuedJobs(url, ports)).toEqual([]);
  const { stripeCustomerId } = await db.account.findUniqueOrThrow({ where: { id: account.id } });
  return { ref, customerId: stripeCustomerId ?? "" };
}

async function pendingItems(customer: string) {
  return (await ports.stripe.invoiceItems.list({ customer, pending: true })).data;
}

describe("an upgrade after overage was reported", () => {
  it("withdraws the period's pending overage, charges what the preview showed, and bills no overage the new package includes", async () => {
    const { ref, customerId } = await proCustomerOver(3120);
    // 120 minutes beyond Pro's 3,000 at $0.03: one pending item of $3.60.
    expect((await pendingItems(customerId)).map((i) => i.amount)).toEqual([360]);

    const preview = await previewUpgrade(ports, ref.accountId, plans.Enterprise ?? "");
    expect(preview.withdrawnOverageCents).toBe(360);
    expect(preview.totalDueNowCents).toBe(preview.creditCents + preview.chargeCents);

    await upgrade(ports, ref, { packageId: plans.Enterprise, prorationDate: preview.prorationDate });
    expect(await pendingItems(customerId)).toEqual([]);
    const [invoice] = (await ports.stripe.invoices.list({ customer: customerId, limit: 1 })).data;
    expect(invoice?.billing_reason).toBe("subscription_update");
    expect(invoice?.amount_paid).toBe(preview.totalDueNowCents);
    expect(invoice?.lines.data.some((line) => line.description?.startsWith("Overage"))).toBe(false);

    // The period is Enterprise's now: 3,120 of 10,000 minutes, nothing to bill, however often jobs run.
    expect(await runQueuedJobs(url, ports)).toEqual([]);
    expect(await pendingItems(customerId)).toEqual([]);
    const usage = await currentUsage(ports, ref.accountId);
    expect(usage).toMatchObject({ minutesUsed: 3120, minutesLimit: 10000 });
    expect(usage?.overage.minutes).toBe(0);
    const rollup = await db.usagePeriodRollup.findFirstOrThrow({ where: { accountId: ref.accountId } });
    expect(rollup).toMatchObject({ overageReported: 0, overageEpoch: 1 });

    // A bill decided before the withdrawal (a job that was queued, retried late) is void.
    const stale = await billOverage(ports, {
      accountId: ref.accountId,
      periodStart: rollup.periodStart.toISOString(),
      fromMinutes: 0,
      toMinutes: 120,
      pricePerMinuteCents: 3,
      currency: "usd",
      epoch: 0,
    });
    expect(stale).toBeNull();
    expect(await pendingItems(customerId)).toEqual([]);
  });

  it("still bills the overage beyond the new package, once, under a new key", async () => {
    const { ref, customerId } = await proCustomerOver(3120);
    await upgrade(ports, ref, { packageId: plans.Enterprise });
    // 7,020 more minutes: 10,140 of Enterprise's 10,000, 140 minutes at $0.02.
    const more = Array.from({ length: 117 }, (_, i) =>
      callEvent(ref.accountId, 3600, { startedAt: new Date(NOW.getTime() + 120_000 + i * 1000) }),
    );
    await ingestUsageEvents(ports, more);
    expect(await runQueuedJobs(url, ports)).toEqual([]);
    expect((await pendingItems(customerId)).map((i) => [i.amount, i.metadata?.minutely_overage_to])).toEqual([
      [280, "140"],
    ]);
  });
});

describe("an upgrade while the period's report-overage job waits (put back for later after an outage)", () => {
  it("reports before and after it; once the job runs, the new package's overage is billed exactly", async () => {
    const { ref, customerId } = await proCustomerOver(3120);
    forgetPeriodsSeen();
    // One more hour queues the job; an outage puts it back for 10 minutes (attempts 0, as the worker does).
    await ingestUsageEvents(ports, [
      callEvent(ref.accountId, 3600, { startedAt: new Date(NOW.getTime() + 90_000) }),
    ]);
    const moved = await db.$executeRaw`
      UPDATE graphile_worker._private_jobs SET run_at = now() + interval '10 minutes', attempts = 0,
        last_error = '[outage 1] PostgreSQL could not be reached'
      WHERE key LIKE ${`report-overage:${ref.accountId}:%`}`;
    expect(moved).toBe(1);
    await upgrade(ports, ref, { packageId: plans.Enterprise });
    expect(await pendingItems(customerId)).toEqual([]);
    // 7,020 more minutes, hour by hour: 10,200 of Enterprise's 10,000.
    for (let i = 0; i < 117; i++) {
      await ingestUsageEvents(ports, [
        callEvent(ref.accountId, 3600, { startedAt: new Date(NOW.getTime() + 120_000 + i * 1000) }),
      ]);
    }
    await db.$executeRaw`UPDATE graphile_worker._private_jobs SET run_at = now() WHERE run_at > now()`;
    expect(await runQueuedJobs(url, ports)).toEqual([]);
    const rollup = await db.usagePeriodRollup.findFirstOrThrow({ where: { accountId: ref.accountId } });
    expect(rollup).toMatchObject({ minutes: 10200, overageReported: 200, overageEpoch: 1 });
    const items = await pendingItems(customerId);
    expect(items.reduce((sum, i) => sum + i.amount, 0)).toBe(400);
    expect(items.map((i) => i.metadata?.minutely_overage_to).sort()).toContain("200");
  });
});
