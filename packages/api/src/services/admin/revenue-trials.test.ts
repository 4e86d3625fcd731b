// Revenue counts trials apart: trialing subscribers are not in MRR, a trial is new revenue in the month it
// converts (never if it does not), and trials started, ended and converted are counted per month. Made
// through the real subscription flows against the Stripe emulator, with test clocks to end the trials.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { advanceSubscriptionClock, testPorts } from "../../testing.ts";
import { syncSubscription } from "../billing/subscription-sync.ts";
import { syncCatalogToStripe } from "../catalog/catalog-admin.ts";
import { subscribe } from "../subscriptions/subscriptions.ts";
import { revenueOverview } from "./revenue.ts";

const { db } = await testDatabase();
const START = new Date("2026-11-27T12:00:00Z");
const clock = fixedClock(START);
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
await syncCatalogToStripe(ports);
const plans = Object.fromEntries((await db.subscriptionPlan.findMany()).map((p) => [p.name, p.id])) as Record<
  string,
  string
>;
const DAY = 86_400_000;

async function customer(name: string, plan: string, paymentMethodId?: string) {
  const account = await db.account.create({ data: { name } });
  const email = `${name.toLowerCase()}@trials.test`;
  await db.user.create({
    data: { email, name, memberships: { create: { accountId: account.id, role: "owner" } } },
  });
  const ref = { accountId: account.id, email, name };
  await subscribe(ports, ref, { packageId: plans[plan], ...(paymentMethodId ? { paymentMethodId } : {}) });
  return ref;
}

async function advanceTo(accountId: string, to: Date) {
  const sub = await advanceSubscriptionClock(ports, accountId, to);
  await syncSubscription(ports, sub.stripeSubscriptionId);
}

// Paid at once (no trial offered): Enterprise. Trials: Pro 7 days with a card (converts), Starter 3 days
// without a card (paused at its end: not converted), Starter 14 days without a card (still trialing).
await customer("Payer", "Enterprise", "pm_card_visa");
await db.subscriptionPlan.update({ where: { name: "Pro" }, data: { trialDays: 7, trialRequiresCard: true } });
const converter = await customer("Converter", "Pro", "pm_card_mastercard");
await db.subscriptionPlan.update({
  where: { name: "Starter" },
  data: { trialDays: 3, trialRequiresCard: false },
});
const lapser = await customer("Lapser", "Starter");
await db.subscriptionPlan.update({ where: { name: "Starter" }, data: { trialDays: 14 } });
await customer("Trier", "Starter");
await advanceTo(converter.accountId, new Date(START.getTime() + 7 * DAY + 3_600_000));
await advanceTo(lapser.accountId, new Date(START.getTime() + 3 * DAY + 3_600_000));
const asOf = new Date("2026-12-07T00:00:00Z");
const overview = await revenueOverview({ db, clock: fixedClock(asOf) }, { months: 2 });

describe("revenue with trials", () => {
  it("leaves trialing subscriptions out of MRR and counts them apart", async () => {
    expect(
      (await db.subscription.findMany({ include: { plan: true }, orderBy: { createdAt: "asc" } })).map(
        (s) => [s.plan.name, s.status],
      ),
    ).toEqual([
      ["Enterprise", "active"],
      ["Pro", "active"],
      ["Starter", "paused"],
      ["Starter", "trialing"],
    ]);
    // Enterprise (29,900) and the converted Pro (9,900): the trial and the paused one pay nothing.
    expect(overview.totals).toEqual([
      { currency: "usd", mrrCents: 39800, arrCents: 39800 * 12, subscribers: 2 },
    ]);
    expect(overview.subscribers).toBe(2);
    expect(overview.trialingSubscribers).toBe(1);
    expect(overview.packages.find((p) => p.name === "Starter")).toMatchObject({ subscribers: 0, mrr: [] });
  });

  it("counts trials started, ended and converted per month, and a trial as new when it converts", () => {
    const [november, december] = overview.months;
    expect(november).toMatchObject({ month: "2026-11", trialStarts: 3, trialsEnded: 1, trialConversions: 0 });
    expect(december).toMatchObject({ month: "2026-12", trialStarts: 0, trialsEnded: 1, trialConversions: 1 });
    // New revenue: the payer, and the converted trial in its conversion month; never the other two trials.
    const newCents = overview.months.flatMap((m) => m.mrr).reduce((sum, m) => sum + m.newCents, 0);
    expect(newCents).toBe(29900 + 9900);
    expect(overview.months.reduce((n, m) => n + m.newCount, 0)).toBe(2);
    expect(december?.newCount).toBeGreaterThanOrEqual(1);
  });
});
