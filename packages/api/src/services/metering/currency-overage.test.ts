// Overage in the subscription's currency (issue #25): a subscription billed in GBP or EUR is metered by its
// package's overage price in that currency, the period records that currency, and the overage invoice item
// Stripe gets is in it. Real PostgreSQL, the official Stripe SDK against the emulator (which refuses an
// invoice item in another currency than the customer's, as Stripe does).
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { testPorts } from "../../testing.ts";
import { callEvent, PERIOD_START, runQueuedJobs, stripeSubscribedAccount } from "./metering.fixtures.ts";
import { setSpendCap, spendCapView } from "./spend-cap.ts";
import { loadMeteringSubscription } from "./subscription.ts";
import { ingestUsageEvents } from "./usage-ingest.ts";
import { currentUsage } from "./usage-read.ts";

const { db, url } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
const { stripe } = ports;

const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
// Pro's overage per currency made distinct for these tests: $0.03, €0.05, £0.04 a minute.
await db.subscriptionPlanPrice.update({
  where: { planId_currency: { planId: pro.id, currency: "eur" } },
  data: { overagePriceCentsPerMinute: 5 },
});
await db.subscriptionPlanPrice.update({
  where: { planId_currency: { planId: pro.id, currency: "gbp" } },
  data: { overagePriceCentsPerMinute: 4 },
});

/** Pro's 3,000 minutes and 100 more, in two days' calls and one of 220 minutes. */
async function use3100Minutes(accountId: string) {
  await ingestUsageEvents(ports, [
    callEvent(accountId, 1440 * 60),
    callEvent(accountId, 1440 * 60),
    callEvent(accountId, 220 * 60),
  ]);
}

describe("overage in the subscription's currency", () => {
  it.each([
    ["gbp", 400],
    ["eur", 500],
    ["usd", 300],
  ] as const)(
    "a Pro subscription billed in %s: 100 minutes beyond the limit are one item of %i in it",
    async (currency, cents) => {
      const { accountId, customerId } = await stripeSubscribedAccount(
        db,
        stripe,
        "Pro",
        `cur-${currency}`,
        currency,
      );
      const metered = await loadMeteringSubscription(db, accountId);
      expect(metered?.plan.currency).toBe(currency);
      expect(metered?.plan.overagePrice).toEqual({ amount: cents / 100, currency });

      await use3100Minutes(accountId);
      expect(await runQueuedJobs(url, ports)).toEqual([]);
      const items = (await stripe.invoiceItems.list({ customer: customerId, limit: 10 })).data;
      expect(items.map((i) => ({ amount: i.amount, currency: i.currency }))).toEqual([
        { amount: cents, currency },
      ]);

      // The period records the terms in that currency (what a late call after the period closes is billed by).
      const rollup = await db.usagePeriodRollup.findUniqueOrThrow({
        where: { accountId_periodStart: { accountId, periodStart: PERIOD_START } },
      });
      expect({ price: rollup.overagePriceCentsPerMinute, currency: rollup.currency?.trim() }).toEqual({
        price: cents / 100,
        currency,
      });
      // And the usage the customer sees costs the same, in the same currency.
      const usage = await currentUsage(ports, accountId);
      expect(usage?.overage).toMatchObject({ minutes: 100, cost: { amount: cents, currency } });
    },
  );

  it("a spend cap is in the subscription's currency: another is refused naming currency, never converted", async () => {
    const { accountId } = await stripeSubscribedAccount(db, stripe, "Pro", "cur-cap", "eur");
    const viewer = {
      userId: "00000000-0000-4000-8000-000000000009",
      email: "owner@example.com",
      name: "Owner",
      role: "user" as const,
      accountId,
    };
    expect((await spendCapView(ports, accountId)).currency).toBe("eur");
    await expect(
      setSpendCap(ports, viewer, accountId, { amountCents: 1000, currency: "usd" }),
    ).rejects.toMatchObject({
      code: "BAD_REQUEST",
      field: "currency",
    });
    const set = await setSpendCap(ports, viewer, accountId, { amountCents: 1000, currency: "eur" });
    expect(set.cap).toEqual({ amountCents: 1000, currency: "eur" });
    // 100 minutes beyond the included 3,000 at €0.05: €5 of the €10 budget spent (at Pro's $0.03 it would be 300).
    await use3100Minutes(accountId);
    expect((await spendCapView(ports, accountId)).status).toMatchObject({
      spentCents: 500,
      percentage: 50,
      cap: { amountCents: 1000, currency: "eur" },
    });
  });
});
