// The subscription lifecycle end to end: real PostgreSQL, the official Stripe SDK against the emulator,
// test clocks to move through billing periods.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { AppError } from "../../errors.ts";
import { appRouter } from "../../root.ts";
import { advanceSubscriptionClock, testPorts } from "../../testing.ts";
import { createCallerFactory } from "../../trpc.ts";
import { syncSubscription } from "../billing/subscription-sync.ts";
import { syncCatalogToStripe } from "../catalog/catalog-admin.ts";
import { callEvent } from "../metering/metering.fixtures.ts";
import { ingestUsageEvents } from "../metering/usage-ingest.ts";
import { packageSelection } from "./package-selection.ts";
import { processStripeEvent } from "./stripe-webhooks.ts";
import {
  billingHistory,
  cancel,
  cancelScheduledChange,
  completeCheckout,
  downgrade,
  previewUpgrade,
  resume,
  startPaymentMethodUpdate,
  subscribe,
  subscriptionOverview,
  upgrade,
} from "./subscriptions.ts";

const { db } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
await syncCatalogToStripe(ports);
const plans = Object.fromEntries(
  (await db.subscriptionPlan.findMany()).map((p) => [p.name, p]),
) as unknown as Record<
  "Starter" | "Pro" | "Enterprise",
  { id: string; stripePriceId: string | null; agentsAllowed: number }
>;

let counter = 0;
async function newAccount() {
  counter += 1;
  const account = await db.account.create({ data: { name: `Customer ${counter}` } });
  const email = `customer${counter}@example.com`;
  await db.user.create({
    data: {
      email,
      name: `Customer ${counter}`,
      memberships: { create: { accountId: account.id, role: "owner" } },
    },
  });
  return { accountId: account.id, email, name: `Customer ${counter}` };
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

/** Moves the customer's Stripe test clock (and Minutely's clock) to `to`, then syncs as a webhook would. */
async function advanceTo(accountId: string, to: Date) {
  const sub = await advanceSubscriptionClock(ports, accountId, to);
  clock.set(to);
  return await syncSubscription(ports, sub.stripeSubscriptionId);
}

describe("subscribe", () => {
  it("with a card: creates one paid subscription; repeating the request changes nothing", async () => {
    const account = await newAccount();
    const first = await subscribe(ports, account, {
      packageId: plans.Pro.id,
      paymentMethodId: "pm_card_visa",
    });
    expect(first.kind).toBe("subscribed");
    const again = await subscribe(ports, account, {
      packageId: plans.Pro.id,
      paymentMethodId: "pm_card_visa",
    });
    expect(again.kind).toBe("subscribed");

    const overview = await subscriptionOverview(ports, account.accountId);
    expect(overview).toMatchObject({ status: "active", grantsAccess: true, package: { name: "Pro" } });
    const customer =
      (await db.account.findUniqueOrThrow({ where: { id: account.accountId } })).stripeCustomerId ?? "";
    const remote = await ports.stripe.subscriptions.list({ customer, status: "all" });
    expect(remote.data).toHaveLength(1);
    expect(await db.subscription.count({ where: { accountId: account.accountId } })).toBe(1);
    const invoices = await billingHistory(ports, account.accountId);
    expect(invoices.map((i) => [i.status, i.amountCents])).toEqual([["paid", 9900]]);
    expect((await packageSelection(ports, account.accountId)).currentPackageId).toBe(plans.Pro.id);
  });

  it("without a card: returns the hosted Checkout page for the package", async () => {
    const account = await newAccount();
    const result = await subscribe(ports, account, { packageId: plans.Starter.id });
    expect(result.kind).toBe("checkout");
    if (result.kind !== "checkout") return;
    expect(result.url).toContain("/checkout/");
    const session = await ports.stripe.checkout.sessions.retrieve(result.sessionId);
    expect(session.mode).toBe("subscription");
    expect(session.success_url).toBe("http://localhost:3000/billing/return?session_id={CHECKOUT_SESSION_ID}");
    expect(await db.subscription.count({ where: { accountId: account.accountId } })).toBe(0);
  });

  it.each([
    ["pm_card_chargeCustomerFail", /declined/i],
    ["pm_card_visa_chargeDeclined", /declined/i],
    ["pm_card_authenticationRequired", /authenticate/i],
  ])("with %s: a clear message and no subscription anywhere", async (card, message) => {
    const account = await newAccount();
    const error = await failure(
      subscribe(ports, account, { packageId: plans.Pro.id, paymentMethodId: card }),
    );
    expect(error.code).toBe("PAYMENT_REQUIRED");
    expect(error.message).toMatch(message);
    expect(await db.subscription.count({ where: { accountId: account.accountId } })).toBe(0);
    const customer =
      (await db.account.findUniqueOrThrow({ where: { id: account.accountId } })).stripeCustomerId ?? "";
    const remote = await ports.stripe.subscriptions.list({ customer, status: "all" });
    expect(remote.data.filter((s) => s.status !== "incomplete_expired")).toHaveLength(0);
  });

  it("refuses an archived package", async () => {
    const account = await newAccount();
    await db.subscriptionPlan.update({ where: { id: plans.Enterprise.id }, data: { active: false } });
    try {
      const error = await failure(
        subscribe(ports, account, { packageId: plans.Enterprise.id, paymentMethodId: "pm_card_visa" }),
      );
      expect([error.code, error.field]).toEqual(["BAD_REQUEST", "packageId"]);
    } finally {
      await db.subscriptionPlan.update({ where: { id: plans.Enterprise.id }, data: { active: true } });
    }
  });

  it("serializes a double submit: one subscription, the other request gets a clear conflict or the same result", async () => {
    const account = await newAccount();
    const results = await Promise.allSettled([
      subscribe(ports, account, {
        packageId: plans.Pro.id,
        paymentMethodId: "pm_card_visa",
        requestKey: "double-click-1",
      }),
      subscribe(ports, account, {
        packageId: plans.Pro.id,
        paymentMethodId: "pm_card_visa",
        requestKey: "double-click-1",
      }),
    ]);
    const fulfilled = results.filter((r) => r.status === "fulfilled");
    expect(fulfilled.length).toBeGreaterThanOrEqual(1);
    for (const r of results) {
      if (r.status === "rejected") expect((r.reason as AppError).code).toBe("CONFLICT");
    }
    const customer =
      (await db.account.findUniqueOrThrow({ where: { id: account.accountId } })).stripeCustomerId ?? "";
    expect((await ports.stripe.subscriptions.list({ customer, status: "all" })).data).toHaveLength(1);
    expect((await ports.stripe.invoices.list({ customer })).data).toHaveLength(1);
    expect(await db.accountActionLock.count({ where: { accountId: account.accountId } })).toBe(0);
  });

  it("waits out a live action's lease, and takes over the lease of an action whose process died", async () => {
    const account = await newAccount();
    // Another replica is in the middle of an action for this account.
    await db.$executeRaw`
      INSERT INTO account_action_lock (account_id, holder, expires_at)
      VALUES (${account.accountId}::uuid, gen_random_uuid(), now() + interval '1 minute')`;
    const busy = await failure(
      subscribe(ports, account, { packageId: plans.Pro.id, paymentMethodId: "pm_card_visa" }),
    );
    expect(busy.code).toBe("CONFLICT");
    expect(await db.subscription.count({ where: { accountId: account.accountId } })).toBe(0);
    // That replica died: its lease ran out and nobody renews it.
    await db.$executeRaw`
      UPDATE account_action_lock SET expires_at = now() - interval '1 second'
      WHERE account_id = ${account.accountId}::uuid`;
    const result = await subscribe(ports, account, {
      packageId: plans.Pro.id,
      paymentMethodId: "pm_card_visa",
    });
    expect(result.kind).toBe("subscribed");
    expect(await db.accountActionLock.count({ where: { accountId: account.accountId } })).toBe(0);
  });
});

describe("upgrade, downgrade, cancel", () => {
  it("upgrades now: the invoice Stripe charges equals the preview the customer saw", async () => {
    const account = await newAccount();
    await subscribe(ports, account, { packageId: plans.Pro.id, paymentMethodId: "pm_card_visa" });
    clock.advance(10 * 24 * 3600 * 1000);
    // Usage so far: the current period records Pro as its plan.
    await ingestUsageEvents(ports, [callEvent(account.accountId, 600, { startedAt: clock.now() })]);
    const preview = await previewUpgrade(ports, account.accountId, plans.Enterprise.id);
    expect(preview.creditCents).toBeLessThan(0);
    expect(preview.chargeCents).toBeGreaterThan(0);
    expect(preview.totalDueNowCents).toBe(preview.creditCents + preview.chargeCents);
    clock.advance(60 * 1000);
    const overview = await upgrade(ports, account, {
      packageId: plans.Enterprise.id,
      prorationDate: preview.prorationDate,
    });
    expect(overview.package?.name).toBe("Enterprise");
    // The upgrade applies to the whole current period at once: its record says Enterprise even though no
    // usage followed (usage of this period reported after it closes is measured against Enterprise).
    const [period] = await db.usagePeriodRollup.findMany({ where: { accountId: account.accountId } });
    expect(period).toMatchObject({
      minutes: 10,
      planId: plans.Enterprise.id,
      callMinutesLimit: 10_000,
    });
    const invoices = await billingHistory(ports, account.accountId);
    expect(invoices[0]?.amountCents).toBe(preview.totalDueNowCents);
    expect(invoices[0]?.status).toBe("paid");
    // The confirmation names the new plan, what the upgrade's invoice charged and when the next month is.
    expect(overview.upgrade).toEqual({
      packageName: "Enterprise",
      monthlyPrice: { amount: 29_900, currency: "usd" },
      invoice: {
        id: invoices[0]?.id,
        number: invoices[0]?.number,
        status: "paid",
        totalCents: preview.totalDueNowCents,
        amountPaidCents: preview.totalDueNowCents,
        currency: "usd",
        hostedInvoiceUrl: expect.stringMatching(/^http.*\/invoices\/in_/),
        invoicePdfUrl: expect.stringMatching(/^http.*\/invoices\/in_.*\/pdf$/),
      },
      nextChargeAt: overview.currentPeriodEnd,
    });
    // Confirming again is a no-op, and confirms the same invoice.
    const again = await upgrade(ports, account, {
      packageId: plans.Enterprise.id,
      prorationDate: preview.prorationDate,
    });
    expect(again.upgrade).toEqual(overview.upgrade);
    expect(await billingHistory(ports, account.accountId)).toHaveLength(2);
  });

  it("lists each invoice's lines as Stripe itemizes them: the month of the plan, the upgrade's credit and charge", async () => {
    const account = await newAccount();
    await subscribe(ports, account, { packageId: plans.Starter.id, paymentMethodId: "pm_card_visa" });
    clock.advance(3 * 24 * 3600 * 1000);
    const preview = await previewUpgrade(ports, account.accountId, plans.Pro.id);
    await upgrade(ports, account, { packageId: plans.Pro.id, prorationDate: preview.prorationDate });
    const [change, first] = await billingHistory(ports, account.accountId);
    expect(first).toMatchObject({ description: "First payment", billingReason: "subscription_create" });
    expect(first?.lines).toEqual([
      {
        id: expect.stringMatching(/^il_/),
        description: "1 × Starter (at $29.00 / month)",
        amountCents: 2900,
        currency: "usd",
        periodStart: first?.periodStart,
        periodEnd: expect.any(Date),
        proration: false,
        discountCents: 0,
      },
    ]);
    expect(change).toMatchObject({
      description: "Plan change (prorated)",
      amountCents: preview.totalDueNowCents,
    });
    const lines = change?.lines ?? [];
    expect(lines.map((l) => [l.description, l.proration])).toEqual([
      [expect.stringMatching(/^Unused time on (1 × )?Starter after \d{1,2} \w{3} \d{4}$/), true],
      [expect.stringMatching(/^Remaining time on (1 × )?Pro after \d{1,2} \w{3} \d{4}$/), true],
    ]);
    expect(lines.map((l) => l.amountCents)).toEqual([preview.creditCents, preview.chargeCents]);
    expect(lines.reduce((sum, l) => sum + l.amountCents, 0)).toBe(change?.amountCents);
    for (const line of lines) expect(line.periodStart?.getTime()).toBe(preview.prorationDate.getTime());
  });

  it("refuses an expired preview and a downgrade disguised as an upgrade", async () => {
    const account = await newAccount();
    await subscribe(ports, account, { packageId: plans.Pro.id, paymentMethodId: "pm_card_visa" });
    const stale = new Date(clock.now().getTime() - 2 * 3600 * 1000);
    expect(
      (await failure(upgrade(ports, account, { packageId: plans.Enterprise.id, prorationDate: stale })))
        .field,
    ).toBe("prorationDate");
    const wrongWay = await failure(upgrade(ports, account, { packageId: plans.Starter.id }));
    expect([wrongWay.code, wrongWay.field]).toEqual(["BAD_REQUEST", "packageId"]);
  });

  it("refuses a proration date that is no time, in the future or outside the period: 400 naming the field, nothing sent to Stripe", async () => {
    const account = await newAccount();
    await subscribe(ports, account, { packageId: plans.Pro.id, paymentMethodId: "pm_card_visa" });
    const sub = await db.subscription.findFirstOrThrow({ where: { accountId: account.accountId } });
    const invoicesBefore = await ports.stripe.invoices.list({ subscription: sub.stripeSubscriptionId });
    const now = clock.now().getTime();
    for (const prorationDate of [
      new Date(Number.NaN), // what 1e15 seconds becomes: no time at all
      new Date(8.64e15), // the last time a Date holds
      new Date(now + 60 * 60 * 1000), // in the future
      new Date(sub.currentPeriodStart.getTime() - 1000), // before the period
      new Date(0),
    ]) {
      const refused = await failure(
        upgrade(ports, account, { packageId: plans.Enterprise.id, prorationDate }),
      );
      expect([refused.code, refused.field], String(prorationDate.getTime())).toEqual([
        "BAD_REQUEST",
        "prorationDate",
      ]);
    }
    // The same through tRPC: a clear BAD_REQUEST, never an internal error.
    const user = await db.user.findUniqueOrThrow({ where: { email: account.email } });
    const caller = createCallerFactory(appRouter)({
      ...ports,
      viewer: {
        userId: user.id,
        email: account.email,
        name: account.name,
        role: "user",
        accountId: account.accountId,
      },
      requestId: "test",
    });
    for (const prorationDate of [new Date(Number.NaN), new Date(8.64e15)]) {
      await expect(
        caller.subscription.upgrade({ packageId: plans.Enterprise.id, prorationDate }),
      ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    }
    const after = await db.subscription.findUniqueOrThrow({ where: { id: sub.id } });
    expect(after.planId).toBe(plans.Pro.id);
    const invoicesAfter = await ports.stripe.invoices.list({ subscription: sub.stripeSubscriptionId });
    expect(invoicesAfter.data.length).toBe(invoicesBefore.data.length);
  });

  it("downgrades at the end of the period, keeping the agents the customer chose", async () => {
    const account = await newAccount();
    await subscribe(ports, account, { packageId: plans.Pro.id, paymentMethodId: "pm_card_visa" });
    const agents = [];
    for (const name of ["Ava", "Ben", "Cai"]) {
      agents.push(await db.agent.create({ data: { accountId: account.accountId, name } }));
    }
    const needsChoice = await failure(downgrade(ports, account, { packageId: plans.Starter.id }));
    expect([needsChoice.code, needsChoice.field]).toEqual(["BAD_REQUEST", "keepAgentIds"]);

    const keep = agents[1]?.id ?? "";
    const scheduled = await downgrade(ports, account, { packageId: plans.Starter.id, keepAgentIds: [keep] });
    expect(scheduled.package?.name).toBe("Pro");
    expect(scheduled.scheduledChange?.packageName).toBe("Starter");
    const periodEnd = scheduled.currentPeriodEnd ?? new Date();
    expect(scheduled.scheduledChange?.effectiveAt.getTime()).toBe(periodEnd.getTime());

    const after = await advanceTo(account.accountId, new Date(periodEnd.getTime() + 3600 * 1000));
    expect(after?.planId).toBe(plans.Starter.id);
    expect(after?.scheduledPlanId).toBeNull();
    const active = await db.agent.findMany({ where: { accountId: account.accountId, active: true } });
    expect(active.map((a) => a.id)).toEqual([keep]);
    const remote = await ports.stripe.subscriptions.retrieve(after?.stripeSubscriptionId ?? "");
    expect(remote.items.data[0]?.price.id).toBe(plans.Starter.stripePriceId);
  });

  it("a downgrade sent again (another tab) checks the agents chosen, and the latest choice is kept", async () => {
    const account = await newAccount();
    await subscribe(ports, account, { packageId: plans.Enterprise.id, paymentMethodId: "pm_card_visa" });
    const agents = [];
    for (const name of ["Ava", "Ben", "Cai"]) {
      agents.push(await db.agent.create({ data: { accountId: account.accountId, name } }));
    }
    const [ava, , cai] = agents.map((a) => a.id) as [string, string, string];
    await downgrade(ports, account, { packageId: plans.Starter.id, keepAgentIds: [ava] });
    // The second tab chose Cai: its answer is a success, so its choice must be the one kept.
    await downgrade(ports, account, { packageId: plans.Starter.id, keepAgentIds: [cai] });
    const stored = await db.subscription.findFirstOrThrow({ where: { accountId: account.accountId } });
    expect(stored.scheduledKeepAgentIds).toEqual([cai]);
    // A choice the package cannot hold, or of agents that are not the account's, is refused as the first time.
    for (const keepAgentIds of [[ava, cai], ["00000000-0000-4000-8000-000000000000"]]) {
      const refused = await failure(downgrade(ports, account, { packageId: plans.Starter.id, keepAgentIds }));
      expect([refused.code, refused.field]).toEqual(["BAD_REQUEST", "keepAgentIds"]);
    }
    // A retry without a choice keeps the stored one.
    await downgrade(ports, account, { packageId: plans.Starter.id });
    const periodEnd = stored.currentPeriodEnd;
    const after = await advanceTo(account.accountId, new Date(periodEnd.getTime() + 3600 * 1000));
    expect(after?.planId).toBe(plans.Starter.id);
    const active = await db.agent.findMany({ where: { accountId: account.accountId, active: true } });
    expect(active.map((a) => a.id)).toEqual([cai]);
  });

  it("lets the customer cancel a scheduled downgrade", async () => {
    const account = await newAccount();
    await subscribe(ports, account, { packageId: plans.Enterprise.id, paymentMethodId: "pm_card_visa" });
    await downgrade(ports, account, { packageId: plans.Pro.id });
    const undone = await cancelScheduledChange(ports, account);
    expect(undone.scheduledChange).toBeNull();
    const periodEnd = undone.currentPeriodEnd ?? new Date();
    const after = await advanceTo(account.accountId, new Date(periodEnd.getTime() + 3600 * 1000));
    expect(after?.planId).toBe(plans.Enterprise.id);
  });

  it("cancels at the period end with access until then, can be undone, and ends when the period ends", async () => {
    const account = await newAccount();
    await subscribe(ports, account, { packageId: plans.Starter.id, paymentMethodId: "pm_card_visa" });
    const cancelled = await cancel(ports, account);
    expect(cancelled).toMatchObject({ cancelAtPeriodEnd: true, grantsAccess: true, status: "active" });
    const resumed = await resume(ports, account);
    expect(resumed.cancelAtPeriodEnd).toBe(false);
    const again = await cancel(ports, account);
    const after = await advanceTo(
      account.accountId,
      new Date((again.currentPeriodEnd ?? new Date()).getTime() + 3600 * 1000),
    );
    expect(after?.status).toBe("canceled");
    const overview = await subscriptionOverview(ports, account.accountId);
    expect(overview.grantsAccess).toBe(false);
    expect((await packageSelection(ports, account.accountId)).needsPackageSelection).toBe(true);
  });

  it("cancelling withdraws a scheduled downgrade and says so; undo schedules it again with the agents to keep", async () => {
    const account = await newAccount();
    await subscribe(ports, account, { packageId: plans.Pro.id, paymentMethodId: "pm_card_visa" });
    const agents = [];
    for (const name of ["Ava", "Ben", "Cai"]) {
      agents.push(await db.agent.create({ data: { accountId: account.accountId, name } }));
    }
    const keep = agents[2]?.id ?? "";
    const scheduled = await downgrade(ports, account, { packageId: plans.Starter.id, keepAgentIds: [keep] });
    expect(scheduled.withdrawnChange).toBeNull();

    const cancelled = await cancel(ports, account);
    expect(cancelled).toMatchObject({
      cancelAtPeriodEnd: true,
      scheduledChange: null,
      withdrawnChange: { packageId: plans.Starter.id, packageName: "Starter" },
    });

    const resumed = await resume(ports, account);
    expect(resumed).toMatchObject({
      cancelAtPeriodEnd: false,
      withdrawnChange: null,
      scheduledChange: { packageName: "Starter", effectiveAt: scheduled.currentPeriodEnd },
    });
    // A second undo (a double click) changes nothing.
    expect((await resume(ports, account)).scheduledChange?.packageName).toBe("Starter");

    const periodEnd = resumed.currentPeriodEnd ?? new Date();
    const after = await advanceTo(account.accountId, new Date(periodEnd.getTime() + 3600 * 1000));
    expect(after?.planId).toBe(plans.Starter.id);
    const active = await db.agent.findMany({ where: { accountId: account.accountId, active: true } });
    expect(active.map((a) => a.id)).toEqual([keep]);
  });

  it("renews into a new period, and a failed renewal makes the subscription past_due", async () => {
    const account = await newAccount();
    const result = await subscribe(ports, account, {
      packageId: plans.Pro.id,
      paymentMethodId: "pm_card_visa",
    });
    if (result.kind !== "subscribed") throw new Error("expected a subscription");
    const firstEnd = result.subscription.currentPeriodEnd ?? new Date();
    const renewed = await advanceTo(account.accountId, new Date(firstEnd.getTime() + 3600 * 1000));
    expect(renewed?.status).toBe("active");
    expect(renewed?.currentPeriodStart.getTime()).toBe(firstEnd.getTime());

    // The card on file starts failing; the next renewal cannot be charged.
    const customer =
      (await db.account.findUniqueOrThrow({ where: { id: account.accountId } })).stripeCustomerId ?? "";
    const failing = await ports.stripe.paymentMethods.attach("pm_card_chargeCustomerFail", { customer });
    await ports.stripe.subscriptions.update(renewed?.stripeSubscriptionId ?? "", {
      default_payment_method: failing.id,
    });
    const pastDue = await advanceTo(
      account.accountId,
      new Date((renewed?.currentPeriodEnd ?? new Date()).getTime() + 3600 * 1000),
    );
    expect(pastDue?.status).toBe("past_due");
    const overview = await subscriptionOverview(ports, account.accountId);
    expect(overview).toMatchObject({ needsPaymentAttention: true, grantsAccess: true });
  });
});

describe("payment failures", () => {
  /** A Pro customer whose renewal failed: past due, with an open invoice. */
  async function pastDueCustomer() {
    const account = await newAccount();
    const result = await subscribe(ports, account, {
      packageId: plans.Pro.id,
      paymentMethodId: "pm_card_visa",
    });
    if (result.kind !== "subscribed") throw new Error("expected a subscription");
    const customer =
      (await db.account.findUniqueOrThrow({ where: { id: account.accountId } })).stripeCustomerId ?? "";
    const failing = await ports.stripe.paymentMethods.attach("pm_card_chargeCustomerFail", { customer });
    const sub = await db.subscription.findFirstOrThrow({ where: { accountId: account.accountId } });
    await ports.stripe.subscriptions.update(sub.stripeSubscriptionId, { default_payment_method: failing.id });
    const pastDue = await advanceTo(
      account.accountId,
      new Date((sub.currentPeriodEnd ?? new Date()).getTime() + 3600 * 1000),
    );
    expect(pastDue?.status).toBe("past_due");
    return { account, customer };
  }

  /** The customer saves a working card on Stripe's hosted setup page. */
  async function saveNewCard(account: Awaited<ReturnType<typeof newAccount>>, requestKey: string) {
    const setup = await startPaymentMethodUpdate(ports, account, requestKey);
    const page = await fetch(`${setup.url.replace(/\/checkout\/.*/, "")}/checkout/${setup.sessionId}/pay`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "card=visa&address_country=US&address_state=OR&address_postal_code=97201",
      redirect: "manual",
    });
    expect(page.status).toBeLessThan(400);
    return setup.sessionId;
  }

  /** Records a Stripe event as the webhook route does, and processes it as the queue would. */
  async function deliver(event: { id: string; type: string; created: number }) {
    await db.stripeEvent.create({
      data: {
        id: event.id,
        type: event.type,
        payload: JSON.parse(JSON.stringify(event)),
        stripeCreatedAt: new Date(event.created * 1000),
      },
    });
    await processStripeEvent(ports, event.id);
  }

  it("emails the customer once when a renewal fails, and a new card from Checkout (setup mode) pays it", async () => {
    const { account, customer } = await pastDueCustomer();

    // The webhook for the failed invoice, processed twice (delivery is at least once): one email.
    const failed = (await ports.stripe.invoices.list({ customer, status: "open" })).data[0];
    const event = (await ports.stripe.events.list({ type: "invoice.payment_failed", limit: 100 })).data.find(
      (e) => (e.data.object as { id?: string }).id === failed?.id,
    );
    if (!event) throw new Error("the emulator sent no invoice.payment_failed event");
    await deliver(event);
    await db.stripeEvent.update({ where: { id: event.id }, data: { status: "received" } });
    await processStripeEvent(ports, event.id);
    const mail = await db.mailMessage.findMany({ where: { to: account.email } });
    expect(mail.map((m) => m.subject)).toEqual(["Your Minutely payment failed"]);
    expect((await billingHistory(ports, account.accountId))[0]?.status).toBe("open");

    // The customer saves a new card on Stripe's hosted page; coming back pays the open invoice.
    const sessionId = await saveNewCard(account, "fix-card-1");
    const completed = await completeCheckout(ports, account.accountId, sessionId);
    expect(completed.subscription).toMatchObject({ status: "active", needsPaymentAttention: false });
    expect((await billingHistory(ports, account.accountId))[0]?.status).toBe("paid");
  });

  it("puts the new card to work from the webhook alone when the customer never comes back, and only once", async () => {
    const { account, customer } = await pastDueCustomer();
    const sessionId = await saveNewCard(account, "fix-card-2");
    const event = (
      await ports.stripe.events.list({ type: "checkout.session.completed", limit: 100 })
    ).data.find((e) => (e.data.object as { id?: string }).id === sessionId);
    if (!event) throw new Error("the emulator sent no checkout.session.completed event");
    await deliver(event);
    expect(await subscriptionOverview(ports, account.accountId)).toMatchObject({
      status: "active",
      needsPaymentAttention: false,
    });
    expect((await billingHistory(ports, account.accountId))[0]?.status).toBe("paid");
    // The return page loading late changes nothing: the open invoice was paid once.
    await completeCheckout(ports, account.accountId, sessionId);
    const paid = await ports.stripe.invoices.list({ customer, status: "paid" });
    expect(paid.data.filter((i) => i.billing_reason === "subscription_cycle")).toHaveLength(1);
  });
});

describe("status mapping", () => {
  it("stores a Stripe status this version does not know as unknown, which grants no access", async () => {
    const account = await newAccount();
    await subscribe(ports, account, { packageId: plans.Starter.id, paymentMethodId: "pm_card_visa" });
    const sub = await db.subscription.findFirstOrThrow({ where: { accountId: account.accountId } });
    const real = ports.billing;
    const future = Object.create(real) as typeof real;
    future.retrieveSubscription = async (id) => ({
      ...(await real.retrieveSubscription(id)),
      status: "on_hold_2030",
    });
    const synced = await syncSubscription({ ...ports, billing: future }, sub.stripeSubscriptionId);
    expect([synced?.status, synced?.stripeStatus]).toEqual(["unknown", "on_hold_2030"]);
    const overview = await subscriptionOverview(ports, account.accountId);
    expect(overview.grantsAccess).toBe(false);
    expect((await packageSelection(ports, account.accountId)).needsPackageSelection).toBe(true);
  });
});
