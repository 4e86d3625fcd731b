// Overage in EUR on the billing clock: a EUR Pro subscriber uses 100 minutes beyond the included 3,000; the
// renewal invoice Stripe makes at the period's end carries them at Pro's EUR overage price, in EUR, next to
// the EUR renewal (never at the USD rate, never in USD). Real PostgreSQL, the official Stripe SDK against the
// emulator, the admin Billing clock.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import type { Viewer } from "../../context.ts";
import { adminRouter } from "../../root.ts";
import { testPorts } from "../../testing.ts";
import { createCallerFactory } from "../../trpc.ts";
import { syncCatalogToStripe } from "../catalog/catalog-admin.ts";
import { subscribe } from "../subscriptions/subscriptions.ts";
import { runQueuedJobs } from "./metering.fixtures.ts";
import { ingestUsageEvents } from "./usage-ingest.ts";
import { currentUsage } from "./usage-read.ts";

const { db, url } = await testDatabase();
const clock = fixedClock(new Date("2026-12-06T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
await syncCatalogToStripe(ports);
const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
// Pro's EUR overage made distinct from its USD one ($0.03): €0.05 a minute.
await db.subscriptionPlanPrice.update({
  where: { planId_currency: { planId: pro.id, currency: "eur" } },
  data: { overagePriceCentsPerMinute: 5 },
});
const adminUser = await db.user.create({
  data: { email: "eur-renewal-admin@minutely.test", name: "Admin", role: "admin" },
});
const admin: Viewer = {
  userId: adminUser.id,
  email: adminUser.email,
  name: "Admin",
  role: "admin",
  accountId: null,
};
const adminCaller = createCallerFactory(adminRouter)({ ...ports, viewer: admin, requestId: "test" });

describe("overage in EUR on the billing clock", () => {
  it("is billed at Pro's EUR rate on the EUR renewal invoice", async () => {
    const account = await db.account.create({ data: { name: "Euro Overage GmbH" } });
    const owner = await db.user.create({
      data: {
        email: "owner@euro-overage.test",
        name: "Owner",
        memberships: { create: { accountId: account.id, role: "owner" } },
      },
    });
    const ref = { accountId: account.id, email: owner.email, name: owner.name };
    await subscribe(ports, ref, { packageId: pro.id, paymentMethodId: "pm_card_visa", currency: "eur" });
    const agent = await db.agent.create({ data: { accountId: account.id, name: "Desk", active: true } });
    const sub = await db.subscription.findFirstOrThrow({ where: { accountId: account.id } });
    expect(sub.currency).toBe("eur");

    // 3,100 minutes in the period: 100 beyond Pro's 3,000.
    clock.set(new Date("2026-12-09T12:00:00Z"));
    const starts = ["2026-12-06T13:00:00Z", "2026-12-07T14:00:00Z", "2026-12-08T15:00:00Z"];
    const minutes = [1440, 1440, 220];
    const result = await ingestUsageEvents(
      ports,
      starts.map((at, i) => ({
        callId: `eur-${i}`,
        accountId: account.id,
        agentId: agent.id,
        direction: "outbound" as const,
        startedAt: new Date(at),
        durationSeconds: (minutes[i] ?? 0) * 60,
      })),
    );
    expect(result.results.map((r) => r.status)).toEqual(["accepted", "accepted", "accepted"]);
    expect((await currentUsage(ports, account.id))?.overage).toMatchObject({
      minutes: 100,
      cost: { amount: 500, currency: "eur" },
    });
    expect(await runQueuedJobs(url, ports)).toEqual([]);

    await adminCaller.billingClock.advance({
      accountId: account.id,
      to: new Date(sub.currentPeriodEnd.getTime() + 3_600_000),
    });
    const invoices = await ports.stripe.invoices.list({ subscription: sub.stripeSubscriptionId, limit: 10 });
    const renewal = invoices.data.find((i) => i.billing_reason === "subscription_cycle");
    expect(renewal?.currency).toBe("eur");
    const lines = (renewal?.lines.data ?? []).map((l) => ({ amount: l.amount, currency: l.currency }));
    expect(lines).toEqual(
      expect.arrayContaining([
        { amount: 9500, currency: "eur" },
        { amount: 500, currency: "eur" },
      ]),
    );
    expect(renewal?.total).toBe(10000);
    const recorded = await db.billingHistory.findFirstOrThrow({
      where: { accountId: account.id, stripeInvoiceId: renewal?.id ?? "" },
    });
    expect({ total: recorded.totalCents, currency: recorded.currency.trim() }).toEqual({
      total: 10000,
      currency: "eur",
    });
  });
});
