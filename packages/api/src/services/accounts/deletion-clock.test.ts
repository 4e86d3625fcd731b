// Account deletion on the billing clock: a deleted account's subscription, set to end at the period's end,
// really ends there, and nothing charges the deleted account afterwards (no renewal, no overage invoice).
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { testPorts } from "../../testing.ts";
import { setBillingClockCard } from "../admin/index.ts";
import { syncSubscription } from "../billing/index.ts";
import { syncCatalogToStripe } from "../catalog/index.ts";
import { billOverage, ingestUsageEvents, reportOverage } from "../metering/index.ts";
import { callEvent, runQueuedJobs } from "../metering/metering.fixtures.ts";
import { cancel, processStripeEvent, startPaymentMethodUpdate, subscribe } from "../subscriptions/index.ts";
import { deleteAccount } from "./deletion.ts";

const { db, url } = await testDatabase();
const NOW = new Date("2026-11-27T12:00:00Z");
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock: fixedClock(NOW) });
await syncCatalogToStripe(ports);
const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });

/** A Pro customer (test Visa, on a test clock) who used `minutes` this period, its overage billed. */
async function proCustomerOver(name: string, minutes: number) {
  const account = await db.account.create({ data: { name } });
  const owner = await db.user.create({
    data: {
      email: `owner-${account.id}@clock.test`,
      name: "Owner",
      memberships: { create: { accountId: account.id, role: "owner" } },
    },
  });
  await subscribe(
    ports,
    { accountId: account.id, email: owner.email, name: "Owner" },
    { packageId: pro.id, paymentMethodId: "pm_card_visa" },
  );
  const events = Array.from({ length: Math.floor(minutes / 60) }, (_, i) =>
    callEvent(account.id, 3600, { startedAt: new Date(NOW.getTime() + 60_000 + i * 1000) }),
  );
  await ingestUsageEvents(ports, events);
  expect(await runQueuedJobs(url, ports)).toEqual([]);
  const row = await db.account.findUniqueOrThrow({ where: { id: account.id } });
  const sub = await db.subscription.findFirstOrThrow({ where: { accountId: account.id } });
  return {
    accountId: account.id,
    userId: owner.id,
    customerId: row.stripeCustomerId ?? "",
    subscriptionId: sub.stripeSubscriptionId,
    clockId: sub.stripeTestClockId ?? "",
    periodEnd: sub.currentPeriodEnd,
  };
}

async function advance(clockId: string, to: Date) {
  await ports.billing.advanceTestClock(clockId, to);
  for (let i = 0; i < 120; i++) {
    if ((await ports.billing.retrieveTestClock(clockId)).status === "ready") return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error("the test clock never got ready");
}

describe("a deleted account on the billing clock", () => {
  it("its subscription ends at the period's end and nothing is charged after the deletion", async () => {
    const a = await proCustomerOver("Clocked Out", 3120);
    const before = (await ports.stripe.invoices.list({ customer: a.customerId, limit: 100 })).data;
    // 120 minutes beyond Pro's 3,000 at $0.03, reported before the deletion: pending on the next invoice.
    const pending = await ports.stripe.invoiceItems.list({ customer: a.customerId, pending: true });
    expect(pending.data.map((i) => i.amount)).toEqual([360]);

    await deleteAccount(ports, a, { confirmation: "Clocked Out" });
    // The final bill: the overage on Stripe is invoiced and charged at the deletion, while the card is there.
    const billed = (await ports.stripe.invoices.list({ customer: a.customerId, limit: 100 })).data;
    const finalBill = billed.filter((inv) => !before.some((b) => b.id === inv.id));
    expect(finalBill.map((inv) => [inv.status, inv.amount_paid])).toEqual([["paid", 360]]);
    expect((await ports.stripe.invoiceItems.list({ customer: a.customerId, pending: true })).data).toEqual(
      [],
    );
    const mailsBefore = await db.mailMessage.count();
    await advance(a.clockId, new Date(a.periodEnd.getTime() + 3 * 86_400_000));
    expect(await runQueuedJobs(url, ports)).toEqual([]);

    const remote = await ports.stripe.subscriptions.retrieve(a.subscriptionId);
    expect(remote.status).toBe("canceled");
    // No renewal and no final invoice at the period's end (nothing was left pending for one): nothing
    // charged the deleted account after the deletion.
    const after = (await ports.stripe.invoices.list({ customer: a.customerId, limit: 100 })).data;
    expect(after.map((inv) => inv.id)).toEqual(billed.map((inv) => inv.id));
    const charges = (await ports.stripe.charges.list({ customer: a.customerId, limit: 100 })).data;
    expect(charges.map((c) => c.amount).sort((x, y) => x - y)).toEqual([360, 9900]);

    // The webhooks of the period's end arrive after the deletion: processed, nothing mailed, the mirror ends.
    const events = [];
    for await (const event of ports.stripe.events.list({ limit: 100 })) {
      if (JSON.stringify(event.data.object).includes(a.customerId)) events.push(event);
    }
    for (const event of events.reverse()) {
      await db.stripeEvent.upsert({
        where: { id: event.id },
        create: {
          id: event.id,
          type: event.type,
          payload: JSON.parse(JSON.stringify(event)),
          stripeCreatedAt: new Date(event.created * 1000),
        },
        update: { status: "received" },
      });
      await processStripeEvent(ports, event.id);
    }
    const row = await db.subscription.findUniqueOrThrow({
      where: { stripeSubscriptionId: a.subscriptionId },
    });
    expect(row.status).toBe("canceled");
    expect(await db.mailMessage.count()).toBe(mailsBefore);
  });

  it("a new card saved on Checkout racing the deletion, its webhook late, pays nothing of the deleted account", async () => {
    const a = await proCustomerOver("Card Racer", 0);
    const owner = await db.user.findUniqueOrThrow({ where: { id: a.userId } });
    const ref = { accountId: a.accountId, email: owner.email, name: "Owner" };
    // The renewal fails (a declining card): past due, with an open invoice.
    const failing = await ports.stripe.paymentMethods.attach("pm_card_chargeCustomerFail", {
      customer: a.customerId,
    });
    await ports.stripe.subscriptions.update(a.subscriptionId, { default_payment_method: failing.id });
    await advance(a.clockId, new Date(a.periodEnd.getTime() + 3_600_000));
    const open = (await ports.stripe.invoices.list({ customer: a.customerId, status: "open" })).data;
    expect(open).toHaveLength(1);

    // One tab: the owner saves a working card on Stripe's hosted page (its webhook still queued). Another
    // tab: the owner deletes the account.
    const setup = await startPaymentMethodUpdate(ports, ref, "new-card-1");
    const page = await fetch(`${setup.url.replace(/\/checkout\/.*/, "")}/checkout/${setup.sessionId}/pay`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "card=visa&address_country=US&address_state=OR&address_postal_code=97201",
      redirect: "manual",
    });
    expect(page.status).toBeLessThan(400);
    await deleteAccount(ports, a, { confirmation: "Card Racer" });
    const charged = (await ports.stripe.charges.list({ customer: a.customerId, limit: 100 })).data.filter(
      (c) => c.status === "succeeded",
    ).length;

    // The checkout.session.completed webhook arrives: it puts no card on the deleted account's subscription
    // and pays none of its invoices.
    const event = (
      await ports.stripe.events.list({ type: "checkout.session.completed", limit: 100 })
    ).data.find((e) => (e.data.object as { id?: string }).id === setup.sessionId);
    if (!event) throw new Error("the emulator sent no checkout.session.completed event");
    await db.stripeEvent.create({
      data: {
        id: event.id,
        type: event.type,
        payload: JSON.parse(JSON.stringify(event)),
        stripeCreatedAt: new Date(event.created * 1000),
      },
    });
    await processStripeEvent(ports, event.id);
    const recorded = await db.stripeEvent.findUniqueOrThrow({ where: { id: event.id } });
    expect(recorded.lastError).toBeNull();
    expect(recorded.status).toBe("processed");
    const openInvoice = await ports.stripe.invoices.retrieve(open[0]?.id ?? "");
    expect(openInvoice.status).toBe("open");
    expect(openInvoice.amount_paid).toBe(0);
    const after = (await ports.stripe.charges.list({ customer: a.customerId, limit: 100 })).data.filter(
      (c) => c.status === "succeeded",
    ).length;
    expect(after).toBe(charged);
    const remote = await ports.stripe.subscriptions.retrieve(a.subscriptionId);
    // No card on it at all: the deletion detached every card, and the webhook put none back.
    expect(remote.default_payment_method).toBeNull();
    expect(remote.cancel_at_period_end).toBe(true);
  });

  it("a subscription paused at the end of a trial without a card ends at once: nothing was paid for it", async () => {
    await db.subscriptionPlan.update({
      where: { name: "Starter" },
      data: { trialDays: 14, trialRequiresCard: false },
    });
    const starter = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Starter" } });
    const account = await db.account.create({ data: { name: "Paused Trial Co" } });
    const owner = await db.user.create({
      data: {
        email: `owner-${account.id}@clock.test`,
        name: "Owner",
        memberships: { create: { accountId: account.id, role: "owner" } },
      },
    });
    await subscribe(
      ports,
      { accountId: account.id, email: owner.email, name: "Owner" },
      { packageId: starter.id },
    );
    const row = await db.subscription.findFirstOrThrow({ where: { accountId: account.id } });
    // The trial ends without a card: Stripe pauses the subscription.
    await advance(row.stripeTestClockId ?? "", new Date((row.trialEnd ?? NOW).getTime() + 60_000));
    await syncSubscription(ports, row.stripeSubscriptionId);
    expect((await ports.stripe.subscriptions.retrieve(row.stripeSubscriptionId)).status).toBe("paused");

    const result = await deleteAccount(
      ports,
      { userId: owner.id, accountId: account.id },
      { confirmation: "Paused Trial Co" },
    );
    expect(result.subscriptions.map((s) => s.ends)).toEqual(["now"]);
    // Ended at Stripe, not left paused for ever waiting for a card the deleted account cannot add.
    expect((await ports.stripe.subscriptions.retrieve(row.stripeSubscriptionId)).status).toBe("canceled");
  });

  it("the admin's billing clock gives a deleted account no card: nothing pays its open invoice", async () => {
    const a = await proCustomerOver("Clock Card Co", 0);
    const failing = await ports.stripe.paymentMethods.attach("pm_card_chargeCustomerFail", {
      customer: a.customerId,
    });
    await ports.stripe.subscriptions.update(a.subscriptionId, { default_payment_method: failing.id });
    await advance(a.clockId, new Date(a.periodEnd.getTime() + 3_600_000));
    const [open] = (await ports.stripe.invoices.list({ customer: a.customerId, status: "open" })).data;
    expect(open).toBeDefined();
    await deleteAccount(ports, a, { confirmation: "Clock Card Co" });

    const admin = {
      userId: a.userId,
      email: "ops@minutely.test",
      name: "Ops",
      role: "admin" as const,
      accountId: null,
    };
    const refused = await setBillingClockCard(ports, admin, {
      accountId: a.accountId,
      card: "working",
    }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: "NOT_FOUND", field: "accountId" });
    expect((await ports.stripe.invoices.retrieve(open?.id ?? "")).status).toBe("open");
    expect((await ports.stripe.customers.listPaymentMethods(a.customerId)).data).toEqual([]);
  });

  it("overage decided before the deletion and billed after it adds no invoice item to the deleted account", async () => {
    const a = await proCustomerOver("Late Overage Co", 0);
    const sub = await db.subscription.findFirstOrThrow({ where: { accountId: a.accountId } });
    // 3,120 minutes this period (120 beyond Pro's 3,000): decided, its bill-overage job not run yet.
    await ingestUsageEvents(
      ports,
      Array.from({ length: 52 }, (_, i) =>
        callEvent(a.accountId, 3600, { startedAt: new Date(NOW.getTime() + 120_000 + i * 1000) }),
      ),
    );
    const bill = await reportOverage(ports, { accountId: a.accountId, periodStart: sub.currentPeriodStart });
    expect(bill).toMatchObject({ fromMinutes: 0, toMinutes: 120 });
    await deleteAccount(ports, a, { confirmation: "Late Overage Co" });

    // The job runs after the deletion: nothing is put on the deleted account's invoices.
    expect(await billOverage(ports, bill as NonNullable<typeof bill>)).toBeNull();
    const pending = await ports.stripe.invoiceItems.list({ customer: a.customerId, pending: true });
    expect(pending.data).toEqual([]);
    // The minutes stay recorded and unreported (never invoiced), as for any subscription that has ended.
    const [row] = await db.$queryRaw<{ overage_reported: number }[]>`
      SELECT overage_reported FROM usage_period_rollup
      WHERE account_id = ${a.accountId}::uuid AND period_start = ${sub.currentPeriodStart}`;
    expect(row?.overage_reported).toBe(0);
    // And deciding again after the deletion bills nothing.
    expect(
      await reportOverage(ports, { accountId: a.accountId, periodStart: sub.currentPeriodStart }),
    ).toBeNull();
  });
});

describe("a subscription canceled at the period's end (the account kept)", () => {
  it("its overage billed before the end is collected on a final invoice, charged, in the billing history", async () => {
    const a = await proCustomerOver("Leaving Normally", 3120);
    const owner = await db.user.findUniqueOrThrow({ where: { id: a.userId } });
    await cancel(ports, { accountId: a.accountId, email: owner.email, name: "Owner" });
    const before = (await ports.stripe.invoices.list({ customer: a.customerId, limit: 100 })).data;
    await advance(a.clockId, new Date(a.periodEnd.getTime() + 3_600_000));
    expect((await ports.stripe.subscriptions.retrieve(a.subscriptionId)).status).toBe("canceled");
    // Stripe collects the items left pending at a scheduled cancellation on a final invoice: the 120
    // minutes beyond Pro's 3,000 at $0.03, never forgiven, never billed twice.
    const after = (await ports.stripe.invoices.list({ customer: a.customerId, limit: 100 })).data;
    const final = after.filter((inv) => !before.some((b) => b.id === inv.id));
    expect(final.map((inv) => [inv.status, inv.amount_paid, inv.currency])).toEqual([["paid", 360, "usd"]]);
    for await (const event of ports.stripe.events.list({ limit: 100 })) {
      if (!JSON.stringify(event.data.object).includes(a.customerId)) continue;
      await db.stripeEvent.upsert({
        where: { id: event.id },
        create: {
          id: event.id,
          type: event.type,
          payload: JSON.parse(JSON.stringify(event)),
          stripeCreatedAt: new Date(event.created * 1000),
        },
        update: {},
      });
      await processStripeEvent(ports, event.id);
    }
    const history = await db.billingHistory.findMany({ where: { accountId: a.accountId } });
    expect(history.find((h) => h.stripeInvoiceId === final[0]?.id)).toMatchObject({
      status: "paid",
      amountPaidCents: 360,
    });
    // Nothing is billed for the period after the end.
    expect(await runQueuedJobs(url, ports)).toEqual([]);
    expect((await ports.stripe.invoiceItems.list({ customer: a.customerId, pending: true })).data).toEqual(
      [],
    );
  });
});
