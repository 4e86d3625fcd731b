// One account, one live subscription: a Checkout page expires the account's other open pages, and when two
// pages were paid anyway (opened before either was paid), the webhooks (or the return page) keep the first
// subscription, cancel the second at once and refund it, once, with a record the admin app shows.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import type Stripe from "stripe";
import { describe, expect, it } from "vitest";
import type { Viewer } from "../../context.ts";
import { adminRouter } from "../../root.ts";
import { testPorts } from "../../testing.ts";
import { createCallerFactory } from "../../trpc.ts";
import { syncCatalogToStripe } from "../catalog/catalog-admin.ts";
import { processStripeEvent } from "../subscriptions/stripe-webhooks.ts";
import {
  billingHistory,
  completeCheckout,
  subscribe,
  subscriptionOverview,
} from "../subscriptions/subscriptions.ts";
import { resolveDuplicateSubscriptions } from "./duplicate-subscriptions.ts";

const { db } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
const stripe = ports.stripe;
await syncCatalogToStripe(ports);
const plans = Object.fromEntries(
  (await db.subscriptionPlan.findMany()).map((p) => [p.name, p]),
) as unknown as Record<"Starter" | "Pro" | "Enterprise", { id: string; stripePriceId: string | null }>;
const admin = await db.user.create({ data: { email: "ops@minutely.test", name: "Ops", role: "admin" } });
const adminViewer: Viewer = {
  userId: admin.id,
  email: admin.email,
  name: "Ops",
  role: "admin",
  accountId: null,
};
const adminCaller = createCallerFactory(adminRouter)({ ...ports, viewer: adminViewer, requestId: "test" });

let counter = 0;
async function newAccount() {
  counter += 1;
  const account = await db.account.create({ data: { name: `Twice ${counter}` } });
  const email = `twice${counter}@example.com`;
  await db.user.create({
    data: {
      email,
      name: `Twice ${counter}`,
      memberships: { create: { accountId: account.id, role: "owner" } },
    },
  });
  return { accountId: account.id, email, name: `Twice ${counter}` };
}

/** Pays a hosted Checkout page with the test Visa, as a person would. */
async function pay(url: string): Promise<Response> {
  return await fetch(`${url}/pay`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "card=visa&address_country=US&address_state=OR&address_postal_code=97201",
    redirect: "manual",
  });
}

/**
 * Two Checkout pages of one account, both open: Pro through `subscribe`, Starter opened alongside it (the
 * race: both opened before either was paid, so opening the second expired nothing that was still open).
 */
async function twoOpenPages() {
  const account = await newAccount();
  const pro = await subscribe(ports, account, { packageId: plans.Pro.id });
  if (pro.kind !== "checkout") throw new Error("expected a Checkout page");
  const customerId =
    (await db.account.findUniqueOrThrow({ where: { id: account.accountId } })).stripeCustomerId ?? "";
  const starter = await ports.billing.createSubscriptionCheckout({
    customerId,
    priceId: plans.Starter.stripePriceId ?? "",
    successUrl: "http://localhost:3000/billing/return?session_id={CHECKOUT_SESSION_ID}",
    cancelUrl: "http://localhost:3000/packages",
    metadata: { minutely_account_id: account.accountId, minutely_plan_id: plans.Starter.id },
    idempotencyKey: `race-${account.accountId}`,
  });
  return { account, customerId, pro, starter };
}

/** Every event Stripe sent about this customer, oldest first. */
async function eventsOf(customerId: string): Promise<Stripe.Event[]> {
  const events: Stripe.Event[] = [];
  for await (const event of stripe.events.list({ limit: 100 })) {
    if (JSON.stringify(event.data.object).includes(customerId)) events.push(event);
  }
  return events.reverse();
}

/** Records each event as the webhook route does and processes it as the queue would. */
async function deliver(events: Stripe.Event[]) {
  for (const event of events) {
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
}

async function refundsOf(subscriptionId: string) {
  const invoices = await stripe.invoices.list({ subscription: subscriptionId, expand: ["data.payments"] });
  const refunds: Stripe.Refund[] = [];
  for (const invoice of invoices.data) {
    for (const payment of invoice.payments?.data ?? []) {
      const pi = payment.payment.payment_intent;
      if (typeof pi === "string") refunds.push(...(await stripe.refunds.list({ payment_intent: pi })).data);
    }
  }
  return refunds;
}

describe("one live subscription per account", () => {
  it("opening a Checkout page expires the account's other open pages, which can then not be paid", async () => {
    const account = await newAccount();
    const pro = await subscribe(ports, account, { packageId: plans.Pro.id });
    const starter = await subscribe(ports, account, { packageId: plans.Starter.id });
    if (pro.kind !== "checkout" || starter.kind !== "checkout") throw new Error("expected Checkout pages");
    expect((await stripe.checkout.sessions.retrieve(pro.sessionId)).status).toBe("expired");
    expect((await stripe.checkout.sessions.retrieve(starter.sessionId)).status).toBe("open");
    expect((await pay(pro.url)).status).toBe(400);
    expect((await pay(starter.url)).status).toBe(303);
    const customerId =
      (await db.account.findUniqueOrThrow({ where: { id: account.accountId } })).stripeCustomerId ?? "";
    expect((await stripe.subscriptions.list({ customer: customerId })).data).toHaveLength(1);
  });

  it("subscribing with a card expires the account's open Checkout pages first", async () => {
    const account = await newAccount();
    const page = await subscribe(ports, account, { packageId: plans.Pro.id });
    if (page.kind !== "checkout") throw new Error("expected a Checkout page");
    const card = await subscribe(ports, account, {
      packageId: plans.Starter.id,
      paymentMethodId: "pm_card_visa",
    });
    expect(card.kind).toBe("subscribed");
    expect((await stripe.checkout.sessions.retrieve(page.sessionId)).status).toBe("expired");
    expect((await pay(page.url)).status).toBe(400);
  });

  it("two pages paid: the webhooks keep the first, cancel the second at once and refund it, once", async () => {
    const { account, customerId, pro, starter } = await twoOpenPages();
    expect((await pay(pro.url)).status).toBe(303);
    expect((await pay(starter.url)).status).toBe(303);
    const [second, first] = (await stripe.subscriptions.list({ customer: customerId })).data;
    expect([first?.items.data[0]?.price.id, second?.items.data[0]?.price.id]).toEqual([
      plans.Pro.stripePriceId,
      plans.Starter.stripePriceId,
    ]);

    const events = await eventsOf(customerId);
    await deliver(events);

    // Stripe: the first (Pro, $99) stays; the second (Starter) is canceled and its $29 refunded.
    expect((await stripe.subscriptions.retrieve(first?.id ?? "")).status).toBe("active");
    expect((await stripe.subscriptions.retrieve(second?.id ?? "")).status).toBe("canceled");
    const refunds = await refundsOf(second?.id ?? "");
    expect(refunds.map((r) => [r.amount, r.currency, r.reason, r.status])).toEqual([
      [2900, "usd", "duplicate", "succeeded"],
    ]);
    expect(await refundsOf(first?.id ?? "")).toEqual([]);

    // Minutely: one package, Pro; the duplicate is recorded as resolved, with an audit entry.
    const overview = await subscriptionOverview(ports, account.accountId);
    expect([overview.package?.name, overview.status]).toEqual(["Pro", "active"]);
    const rows = await db.duplicateSubscription.findMany({ where: { accountId: account.accountId } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      stripeSubscriptionId: second?.id,
      keptStripeSubscriptionId: first?.id,
      status: "resolved",
      refundedCents: 2900,
      currency: "usd",
      stripeRefundIds: [refunds[0]?.id],
    });
    expect(events.map((e) => e.id)).toContain(rows[0]?.stripeEventId);

    // Replayed webhooks (every event again) and a direct re-run change nothing: no second refund.
    await deliver(events);
    await deliver(await eventsOf(customerId));
    expect(await resolveDuplicateSubscriptions(ports, account.accountId)).toEqual([]);
    expect(await refundsOf(second?.id ?? "")).toHaveLength(1);
    // Even a run that crashed after refunding and before recording (another key) finds nothing left to refund.
    expect(await ports.billing.refundSubscriptionPayments(second?.id ?? "", "another-attempt")).toEqual([
      expect.objectContaining({ amountCents: 2900, id: refunds[0]?.id }),
    ]);
    expect(await refundsOf(second?.id ?? "")).toHaveLength(1);
    const audit = await db.auditLog.findMany({
      where: {
        entityType: "account",
        entityId: account.accountId,
        action: "subscription.duplicate_canceled",
      },
    });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorUserId: null, after: { refundedCents: 2900, kept: first?.id } });
    expect(await db.stripeEvent.count({ where: { status: { not: "processed" } } })).toBe(0);

    // The customer is told once.
    const mail = await db.mailMessage.findMany({ where: { to: account.email } });
    expect(mail.map((m) => m.subject)).toEqual([
      "We canceled a second Minutely subscription and refunded it",
    ]);
    expect(mail[0]?.text).toMatch(/keep your Pro package.*\(Starter\).*29\.00 USD/s);

    // The admin's customer page shows it.
    const detail = await adminCaller.customers.get({ accountId: account.accountId });
    expect(detail.duplicateSubscriptions).toEqual([
      expect.objectContaining({
        stripeSubscriptionId: second?.id,
        keptStripeSubscriptionId: first?.id,
        status: "resolved",
        refunded: { amount: 2900, currency: "usd" },
      }),
    ]);
  });

  it("two pages paid: the return from the second page resolves it at once, and the webhooks then do nothing more", async () => {
    const { account, customerId, pro, starter } = await twoOpenPages();
    await pay(pro.url);
    await pay(starter.url);
    const back = await completeCheckout(ports, account.accountId, starter.sessionId);
    expect(back.subscription.package?.name).toBe("Pro");
    expect(back.duplicatesRefunded).toEqual([
      expect.objectContaining({ refundedCents: 2900, currency: "usd" }),
    ]);
    // The return page describes what this session bought (Starter, refunded), not the account's package.
    expect(back.purchase).toEqual({
      packageName: "Starter",
      monthlyPrice: { amount: 2900, currency: "usd" },
      refundedAsDuplicate: { refundedCents: 2900, currency: "usd", resolved: true },
    });
    const kept = await completeCheckout(ports, account.accountId, pro.sessionId);
    expect(kept.purchase).toMatchObject({ packageName: "Pro", refundedAsDuplicate: null });
    // The customer's billing history says which payment came back.
    const history = await billingHistory(ports, account.accountId);
    expect(
      history
        .map((i) => [i.amountPaidCents, i.status, i.refundedCents])
        .sort((a, b) => Number(a[0]) - Number(b[0])),
    ).toEqual([
      [2900, "paid", 2900],
      [9900, "paid", 0],
    ]);
    await deliver(await eventsOf(customerId));
    const [second] = (await stripe.subscriptions.list({ customer: customerId, status: "all" })).data;
    expect(await refundsOf(second?.id ?? "")).toHaveLength(1);
    expect(
      await db.auditLog.count({
        where: { entityId: account.accountId, action: "subscription.duplicate_canceled" },
      }),
    ).toBe(1);
  });
});
