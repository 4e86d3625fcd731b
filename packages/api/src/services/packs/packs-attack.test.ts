// Minute packs and auto top-up attacked as a hostile client and a careless user would, against the Stripe
// emulator and real PostgreSQL: the monthly maximum at the UTC month boundary, a pack expiring at its exact
// expiry, a hard cap with an empty balance, a decline said in the next month, the saved card removed, a
// double click, a request key reused for another pack, two tabs paying two Checkout sessions, a pack
// archived while its Checkout is open, a refunded pack payment, an ended subscription; the ledger balances
// (bought = used + expired + remaining) after each.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import type { Viewer } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { testPorts } from "../../testing.ts";
import { deleteAccount } from "../accounts/index.ts";
import { syncSubscription } from "../billing/subscription-sync.ts";
import { syncCatalogToStripe } from "../catalog/catalog-admin.ts";
import { authorizeCallRequest } from "../metering/call-authorization.ts";
import { createAgentRows, queuedJobs, runQueuedJobs } from "../metering/metering.fixtures.ts";
import { ingestUsageEvents } from "../metering/usage-ingest.ts";
import { processStripeEvent, receiveStripeWebhook } from "../subscriptions/stripe-webhooks.ts";
import { subscribe } from "../subscriptions/subscriptions.ts";
import { address } from "../subscriptions/tax.fixtures.ts";
import { updateTaxDetails } from "../subscriptions/tax-details.ts";
import { autoTopUpView, setAutoTopUp } from "./auto-top-up.ts";
import { grantPack, packLedgerView } from "./grants.ts";
import { archiveMinutePack, buyPackWithCheckout, buyPackWithSavedCard, createMinutePack } from "./packs.ts";

const { db, url } = await testDatabase();
// Five days before a UTC month ends, so that a period (a month) spans the month boundary.
const start = new Date(Date.now() + 3600_000);
const monthEnd = Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1);
const clock = fixedClock(new Date(Math.max(start.getTime(), monthEnd - 5 * 24 * 3600_000)));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
const admin: Viewer = {
  userId: "00000000-0000-4000-8000-000000000001",
  email: "ops@example.com",
  name: "Ops",
  role: "admin",
  accountId: null,
};
await syncCatalogToStripe(ports);
const starter = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Starter" } });
const { pack: offered } = await createMinutePack(ports, admin, {
  name: "500 minutes (attack)",
  minutes: 500,
  priceCents: 1500,
  currency: "usd",
  validityMonths: 12,
});

let counter = 0;
async function customer(options: { packMinutes?: number; packValidityMonths?: number } = {}) {
  counter += 1;
  const account = await db.account.create({ data: { name: `Attack customer ${counter}` } });
  const email = `attack${counter}-${Date.now()}@example.com`;
  const user = await db.user.create({
    data: { email, name: "Owner", memberships: { create: { accountId: account.id, role: "owner" } } },
  });
  await subscribe(
    ports,
    { accountId: account.id, email, name: "Owner" },
    { packageId: starter.id, paymentMethodId: "pm_card_visa" },
  );
  const { stripeCustomerId } = await db.account.findUniqueOrThrow({ where: { id: account.id } });
  if (options.packMinutes) {
    await grantPack(db, {
      accountId: account.id,
      packId: offered.id,
      sourceKey: `test:${account.id}`,
      minutes: options.packMinutes,
      priceCents: 1500,
      currency: "usd",
      validityMonths: options.packValidityMonths ?? 12,
      grantedAt: clock.now(),
    });
  }
  const viewer: Viewer = { userId: user.id, email, name: "Owner", role: "user", accountId: account.id };
  return { accountId: account.id, email, viewer, customerId: stripeCustomerId ?? "" };
}

let calls = 0;
/** Starter includes 1,000 minutes: `minutes` of calls now (the clock moves past each call). */
async function use(accountId: string, minutes: number) {
  const events = [];
  for (let left = minutes; left > 0; left -= 600) {
    calls += 1;
    events.push({
      callId: `attack-call-${calls}-${Date.now()}`,
      accountId,
      agentId: null,
      direction: "inbound" as const,
      startedAt: clock.now(),
      durationSeconds: Math.min(left, 600) * 60,
    });
    clock.advance((Math.min(left, 600) + 1) * 60_000);
  }
  const result = await ingestUsageEvents(ports, events);
  expect(result.results.filter((r) => r.status !== "accepted")).toEqual([]);
}

/** Delivers Stripe's events of `type` about `objectId` as webhooks (twice each) and processes them. */
async function deliver(type: string, match: (object: Record<string, unknown>) => boolean) {
  const secret = "whsec_packs_attack";
  let delivered = 0;
  for await (const event of ports.stripe.events.list({ limit: 100, type })) {
    if (!match(event.data.object as unknown as Record<string, unknown>)) continue;
    const payload = JSON.stringify(event);
    for (let i = 0; i < 2; i++) {
      const signature = ports.stripe.webhooks.generateTestHeaderString({ payload, secret });
      const received = await receiveStripeWebhook(ports, {
        rawBody: Buffer.from(payload),
        signature,
        secret,
      });
      await processStripeEvent(ports, received.id);
      const stored = await db.stripeEvent.findUniqueOrThrow({ where: { id: received.id } });
      expect({ status: stored.status, error: stored.lastError }).toEqual({
        status: "processed",
        error: null,
      });
    }
    delivered += 1;
  }
  return delivered;
}

async function expectBalancedLedger(accountId: string) {
  const { totals, grants } = await packLedgerView(ports, accountId);
  expect(totals.bought).toBe(totals.used + totals.expired + totals.remaining);
  for (const g of grants) expect(g.minutes).toBe(g.used + g.expired + g.remaining);
  return totals;
}

describe("auto top-up under attack", () => {
  it("the monthly maximum starts again in the next UTC month: an empty balance there buys a pack", async () => {
    const who = await customer({ packMinutes: 500 });
    await setAutoTopUp(ports, who.viewer, who.accountId, {
      packId: offered.id,
      thresholdMinutes: 200,
      maxPerMonth: 1,
    });
    await use(who.accountId, 1000 + 400); // 100 left: the month's one top-up
    expect(await runQueuedJobs(url, ports)).toEqual([]);
    await use(who.accountId, 700); // all 600 used, 100 beyond: the month's maximum is reached
    expect(await runQueuedJobs(url, ports)).toEqual([]);
    expect((await packLedgerView(ports, who.accountId)).totals).toEqual({
      bought: 1000,
      used: 1000,
      expired: 0,
      remaining: 0,
    });
    // The next UTC month, still the same billing period: minutes beyond the allowance, no pack minutes left.
    clock.set(new Date(monthEnd + 60_000));
    await use(who.accountId, 50);
    expect(await runQueuedJobs(url, ports)).toEqual([]);
    const view = await autoTopUpView(ports, who.accountId);
    expect(view.thisMonth.map((t) => t.status)).toEqual(["succeeded"]);
    expect((await expectBalancedLedger(who.accountId)).bought).toBe(1500);
  });

  it("the auto top-up's pack archived: no payment, the mail says it could not be made (not a card decline)", async () => {
    const who = await customer({ packMinutes: 500 });
    const { pack: leaving } = await createMinutePack(ports, admin, {
      name: "Top-up pack leaving (attack)",
      minutes: 400,
      priceCents: 1200,
      currency: "usd",
      validityMonths: 12,
    });
    await setAutoTopUp(ports, who.viewer, who.accountId, {
      packId: leaving.id,
      thresholdMinutes: 200,
      maxPerMonth: 2,
    });
    await archiveMinutePack(ports, admin, leaving.id);
    await use(who.accountId, 1000 + 400); // 100 left: a top-up is due, of a pack no longer offered
    expect(await runQueuedJobs(url, ports)).toEqual([]);
    expect((await autoTopUpView(ports, who.accountId)).thisMonth.map((t) => t.status)).toEqual(["declined"]);
    const mails = await db.mailMessage.findMany({
      where: { to: who.email, subject: { contains: "auto top-up" } },
    });
    expect(mails.map((m) => m.subject)).toEqual(["Your Minutely auto top-up could not be made"]);
    expect(mails[0]?.text).toContain("not offered");
    const intents = await ports.stripe.paymentIntents.list({ customer: who.customerId, limit: 100 });
    expect(intents.data.filter((pi) => pi.metadata?.minutely_pack_id === leaving.id)).toEqual([]);
  });

  it("a pack expired above the threshold leaves an empty balance: the next minutes beyond the allowance buy one", async () => {
    const who = await customer({ packMinutes: 500, packValidityMonths: 1 });
    await setAutoTopUp(ports, who.viewer, who.accountId, {
      packId: offered.id,
      thresholdMinutes: 200,
      maxPerMonth: 3,
    });
    expect(await runQueuedJobs(url, ports)).toEqual([]);
    expect((await autoTopUpView(ports, who.accountId)).thisMonth).toEqual([]); // 500 >= 200: not due
    // A month on (the pack's expiry, to the millisecond): it is expired, nothing was drawn.
    const { grants } = await packLedgerView(ports, who.accountId);
    clock.set(grants[0]?.expiresAt ?? new Date(0));
    expect((await packLedgerView(ports, who.accountId)).totals).toEqual({
      bought: 500,
      used: 0,
      expired: 500,
      remaining: 0,
    });
    await use(who.accountId, 1000 + 30);
    expect(await runQueuedJobs(url, ports)).toEqual([]);
    expect((await autoTopUpView(ports, who.accountId)).thisMonth.map((t) => t.status)).toEqual(["succeeded"]);
    expect(await expectBalancedLedger(who.accountId)).toMatchObject({ bought: 1000, expired: 500 });
  });

  it("a hard-capped package with an empty balance: a denied outbound call asks auto top-up, then calls go on", async () => {
    const who = await customer({ packMinutes: 100 });
    const [agent] = await createAgentRows(db, who.accountId, 1);
    const call = (n: number) => ({
      callId: `hard-cap-${who.accountId}-${n}`,
      accountId: who.accountId,
      agentId: agent?.id ?? "",
      direction: "outbound" as const,
    });
    // The pack is used up while auto top-up is off; the customer turns it on afterwards, at its maximum.
    await use(who.accountId, 1000 + 100);
    await db.packTopUp.create({
      data: {
        accountId: who.accountId,
        packId: offered.id,
        month: clock.now().toISOString().slice(0, 7),
        seq: 1,
        status: "succeeded",
        createdAt: clock.now(),
      },
    });
    await setAutoTopUp(ports, who.viewer, who.accountId, {
      packId: offered.id,
      thresholdMinutes: 50,
      maxPerMonth: 1,
    });
    expect(await runQueuedJobs(url, ports)).toEqual([]);
    expect(await authorizeCallRequest(ports, call(1))).toMatchObject({ reason: "minutes_exhausted" });
    expect(await runQueuedJobs(url, ports)).toEqual([]);
    expect((await autoTopUpView(ports, who.accountId)).thisMonth).toHaveLength(1); // the month's maximum
    // The next UTC month: no minute can be used (outbound calls are denied), so no draw ever happens; the
    // denial itself must ask for the top-up.
    const now = clock.now();
    clock.set(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1, 0, 1)));
    expect(await authorizeCallRequest(ports, call(2))).toMatchObject({ reason: "minutes_exhausted" });
    expect(await runQueuedJobs(url, ports)).toEqual([]);
    expect((await autoTopUpView(ports, who.accountId)).thisMonth.map((t) => t.status)).toEqual(["succeeded"]);
    expect(await authorizeCallRequest(ports, call(3))).toMatchObject({ decision: "allow" });
  });

  it("a top-up declined at the end of a month still says why in the next month", async () => {
    const who = await customer({ packMinutes: 100 });
    const stripeCustomer = await ports.stripe.customers.retrieve(who.customerId);
    const card = "deleted" in stripeCustomer ? null : stripeCustomer.invoice_settings?.default_payment_method;
    await ports.stripe.paymentMethods.detach(typeof card === "string" ? card : (card?.id ?? ""));
    await setAutoTopUp(ports, who.viewer, who.accountId, {
      packId: offered.id,
      thresholdMinutes: 200,
      maxPerMonth: 1,
    });
    expect(await runQueuedJobs(url, ports)).toEqual([]);
    const stopped = (await autoTopUpView(ports, who.accountId)).stopped;
    expect(stopped?.message).toMatch(/saved card/i);
    const now = clock.now();
    clock.set(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1, 0, 1)));
    const later = await autoTopUpView(ports, who.accountId);
    expect(later.thisMonth).toEqual([]);
    expect(later.stopped).toEqual(stopped);
  });

  it("with the saved card removed: declined once, said and emailed, stopped; saving again tries once more", async () => {
    const who = await customer({ packMinutes: 100 });
    const stripeCustomer = await ports.stripe.customers.retrieve(who.customerId);
    const card = "deleted" in stripeCustomer ? null : stripeCustomer.invoice_settings?.default_payment_method;
    await ports.stripe.paymentMethods.detach(typeof card === "string" ? card : (card?.id ?? ""));
    const settings = { packId: offered.id, thresholdMinutes: 200, maxPerMonth: 5 };
    await setAutoTopUp(ports, who.viewer, who.accountId, settings);
    expect(await runQueuedJobs(url, ports)).toEqual([]);
    await use(who.accountId, 1000 + 50); // a draw: must not try again
    expect(await runQueuedJobs(url, ports)).toEqual([]);
    let view = await autoTopUpView(ports, who.accountId);
    expect(view.thisMonth.map((t) => t.status)).toEqual(["declined"]);
    expect(view.stopped?.message).toMatch(/saved card/i);
    const topUpMail = { to: who.email, subject: { contains: "auto top-up" } };
    expect(await db.mailMessage.count({ where: topUpMail })).toBe(1);
    await setAutoTopUp(ports, who.viewer, who.accountId, settings);
    expect(await runQueuedJobs(url, ports)).toEqual([]);
    view = await autoTopUpView(ports, who.accountId);
    expect(view.thisMonth.map((t) => t.status)).toEqual(["declined", "declined"]);
    expect(await db.mailMessage.count({ where: topUpMail })).toBe(2);
    expect(await expectBalancedLedger(who.accountId)).toMatchObject({ bought: 100, used: 50 });
  });
});

describe("buying packs under attack", () => {
  it("a double click of the saved-card purchase is one payment and one pack", async () => {
    const who = await customer();
    const results = await Promise.allSettled([
      buyPackWithSavedCard(ports, who.accountId, { packId: offered.id, requestKey: "double-click-1" }),
      buyPackWithSavedCard(ports, who.accountId, { packId: offered.id, requestKey: "double-click-1" }),
    ]);
    expect(results.some((r) => r.status === "fulfilled")).toBe(true);
    await buyPackWithSavedCard(ports, who.accountId, { packId: offered.id, requestKey: "double-click-1" });
    const intents = await ports.stripe.paymentIntents.list({ customer: who.customerId, limit: 100 });
    expect(intents.data.filter((pi) => pi.metadata?.minutely_pack_id === offered.id)).toHaveLength(1);
    expect((await expectBalancedLedger(who.accountId)).bought).toBe(500);
  });

  it("a request key reused for another pack is refused clearly, never a second payment or a server error", async () => {
    const who = await customer();
    const { pack: bigger } = await createMinutePack(ports, admin, {
      name: "2,000 minutes (attack)",
      minutes: 2000,
      priceCents: 5000,
      currency: "usd",
      validityMonths: 12,
    });
    await buyPackWithSavedCard(ports, who.accountId, { packId: offered.id, requestKey: "reused-key-1" });
    const reused = await buyPackWithSavedCard(ports, who.accountId, {
      packId: bigger.id,
      requestKey: "reused-key-1",
    }).catch((e: unknown) => e);
    expect(reused).toBeInstanceOf(AppError);
    expect(reused).toMatchObject({ code: "CONFLICT", field: "requestKey" });
    const checkout = { successUrl: "http://localhost/usage", cancelUrl: "http://localhost/usage" };
    await buyPackWithCheckout(ports, who.accountId, {
      ...checkout,
      packId: offered.id,
      requestKey: "tab-key-1",
    });
    const reusedCheckout = await buyPackWithCheckout(ports, who.accountId, {
      ...checkout,
      packId: bigger.id,
      requestKey: "tab-key-1",
    }).catch((e: unknown) => e);
    expect(reusedCheckout).toMatchObject({ code: "CONFLICT", field: "requestKey" });
    const intents = await ports.stripe.paymentIntents.list({ customer: who.customerId, limit: 100 });
    expect(intents.data.filter((pi) => pi.metadata?.minutely_pack_id)).toHaveLength(1);
    expect((await expectBalancedLedger(who.accountId)).bought).toBe(500);
  });

  it("a purchase retried with its key after the billing address changed the tax: one payment, one pack", async () => {
    const who = await customer();
    const requestKey = "lost-answer-then-new-address";
    const { stripePriceId } = await db.minutePack.findUniqueOrThrow({ where: { id: offered.id } });
    // The first attempt charged the card (no address: no tax) but its answer was lost before the grant.
    const first = await ports.billing.chargeSavedCard({
      customerId: who.customerId,
      amountCents: 1500,
      priceId: stripePriceId ?? undefined,
      currency: "usd",
      description: `Minutely minute pack: ${offered.name}`,
      metadata: { minutely_pack_id: offered.id, minutely_account_id: who.accountId },
      idempotencyKey: `minutely-pack-purchase:${who.accountId}:${requestKey}`,
    });
    expect(first.status).toBe("succeeded");
    // Then a French address: the same pack now costs 1500 + 20% VAT.
    await updateTaxDetails(
      ports,
      { accountId: who.accountId, email: who.email, name: "Owner" },
      { address: address({}), taxId: null, requestKey: "lost-answer-address" },
    );
    const retried = await buyPackWithSavedCard(ports, who.accountId, {
      packId: offered.id,
      requestKey,
    }).catch((e: unknown) => e);
    expect(retried).toMatchObject({ code: "CONFLICT", field: "requestKey" });
    expect((retried as AppError).message).toContain("check your minute packs");
    await deliver("payment_intent.succeeded", (o) => o.customer === who.customerId);
    const intents = await ports.stripe.paymentIntents.list({ customer: who.customerId, limit: 100 });
    const packIntents = intents.data.filter((pi) => pi.metadata?.minutely_pack_id === offered.id);
    expect(packIntents.map((pi) => [pi.status, pi.amount])).toEqual([["succeeded", 1500]]);
    expect((await expectBalancedLedger(who.accountId)).bought).toBe(500);
  });

  it("two tabs paying two Checkout sessions: two payments, two packs, each once", async () => {
    const who = await customer();
    const sessions: string[] = [];
    for (const key of ["tab-one-key", "tab-two-key"]) {
      const checkout = await buyPackWithCheckout(ports, who.accountId, {
        packId: offered.id,
        successUrl: "http://localhost/usage?pack=bought",
        cancelUrl: "http://localhost/usage",
        requestKey: key,
      });
      sessions.push(checkout.sessionId);
      // The customer has no billing address yet: Stripe Tax asks for it on the page.
      const paid = await fetch(`${checkout.url}/pay`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "card=visa&address_country=DE",
        redirect: "manual",
      });
      expect(paid.status, await paid.clone().text()).toBeLessThan(400);
    }
    expect(await deliver("checkout.session.completed", (o) => sessions.includes(String(o.id)))).toBe(2);
    // Their PaymentIntents' events grant nothing more.
    await deliver("payment_intent.succeeded", (o) => o.customer === who.customerId);
    expect((await expectBalancedLedger(who.accountId)).bought).toBe(1000);
  });

  it("a pack archived while its Checkout page is open: paid, it is granted once on its terms; not offered again", async () => {
    const who = await customer();
    const { pack: leaving } = await createMinutePack(ports, admin, {
      name: "Leaving soon (attack)",
      minutes: 300,
      priceCents: 900,
      currency: "usd",
      validityMonths: 2,
    });
    const checkout = await buyPackWithCheckout(ports, who.accountId, {
      packId: leaving.id,
      successUrl: "http://localhost/usage?pack=bought",
      cancelUrl: "http://localhost/usage",
      requestKey: "archived-while-open",
    });
    await archiveMinutePack(ports, admin, leaving.id);
    const paid = await fetch(`${checkout.url}/pay`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "card=visa&address_country=DE",
      redirect: "manual",
    });
    const delivered = await deliver("checkout.session.completed", (o) => o.id === checkout.sessionId);
    const ledger = await packLedgerView(ports, who.accountId);
    // The session was open before the pack was archived: its payment goes through (as at Stripe) and is
    // granted once, on the pack's terms.
    expect(paid.status).toBeLessThan(400);
    expect(delivered).toBe(1);
    expect(ledger.grants.map((g) => [g.minutes, g.priceCents])).toEqual([[300, 900]]);
    const again = await buyPackWithCheckout(ports, who.accountId, {
      packId: leaving.id,
      successUrl: "http://localhost/usage",
      cancelUrl: "http://localhost/usage",
      requestKey: "archived-again",
    }).catch((e: unknown) => e);
    expect(again).toMatchObject({ code: "BAD_REQUEST", field: "packId" });
  });

  it("a refunded pack payment grants nothing twice and records no invoice adjustment", async () => {
    const who = await customer();
    await buyPackWithSavedCard(ports, who.accountId, { packId: offered.id, requestKey: "refund-me-1" });
    const intents = await ports.stripe.paymentIntents.list({ customer: who.customerId, limit: 100 });
    const intent = intents.data.find((pi) => pi.metadata?.minutely_pack_id === offered.id);
    await ports.stripe.refunds.create({ payment_intent: intent?.id ?? "" });
    const invoicesBefore = await db.billingHistory.count({ where: { accountId: who.accountId } });
    expect(await deliver("charge.refunded", (o) => o.payment_intent === intent?.id)).toBe(1);
    await deliver("payment_intent.succeeded", (o) => o.id === intent?.id);
    expect(await db.invoiceAdjustment.count({ where: { accountId: who.accountId } })).toBe(0);
    expect(await db.billingHistory.count({ where: { accountId: who.accountId } })).toBe(invoicesBefore);
    expect((await expectBalancedLedger(who.accountId)).bought).toBe(500);
  });

  it("an account whose subscription has ended is not charged for a pack it cannot use, nor auto topped up", async () => {
    const who = await customer();
    await setAutoTopUp(ports, who.viewer, who.accountId, {
      packId: offered.id,
      thresholdMinutes: 100,
      maxPerMonth: 2,
    });
    expect(await runQueuedJobs(url, ports)).toEqual([]); // a balance of 0: one top-up
    const sub = await db.subscription.findFirstOrThrow({ where: { accountId: who.accountId } });
    await ports.stripe.subscriptions.cancel(sub.stripeSubscriptionId);
    await syncSubscription(ports, sub.stripeSubscriptionId);
    const refused = await buyPackWithSavedCard(ports, who.accountId, {
      packId: offered.id,
      requestKey: "after-the-end",
    }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: "PRECONDITION_FAILED" });
    const checkout = await buyPackWithCheckout(ports, who.accountId, {
      packId: offered.id,
      successUrl: "http://localhost/usage",
      cancelUrl: "http://localhost/usage",
      requestKey: "after-the-end-checkout",
    }).catch((e: unknown) => e);
    expect(checkout).toMatchObject({ code: "PRECONDITION_FAILED" });
    // Saving the settings again (the stop lifted) charges nothing either.
    await db.packGrant.updateMany({ where: { accountId: who.accountId }, data: { remaining: 0 } });
    await setAutoTopUp(ports, who.viewer, who.accountId, {
      packId: offered.id,
      thresholdMinutes: 100,
      maxPerMonth: 2,
    }).catch(() => undefined);
    expect(await runQueuedJobs(url, ports)).toEqual([]);
    const intents = await ports.stripe.paymentIntents.list({ customer: who.customerId, limit: 100 });
    expect(intents.data.filter((pi) => pi.metadata?.minutely_pack_id === offered.id)).toHaveLength(1);
  });
});

describe("a pack paid for while its account is being deleted", () => {
  /** The customer's pack payments (or `only` these), with what Stripe has refunded of each. */
  async function packPayments(customerId: string, only?: string[]) {
    const intents = await ports.stripe.paymentIntents.list({ customer: customerId, limit: 100 });
    const ofPacks = intents.data.filter((i) =>
      only ? only.includes(i.id) : i.metadata?.minutely_pack_id === offered.id,
    );
    const paid = [];
    for (const pi of ofPacks.filter((i) => i.status === "succeeded")) {
      const charge = (await ports.stripe.paymentIntents.retrieve(pi.id, { expand: ["latest_charge"] }))
        .latest_charge as { amount: number; amount_refunded: number };
      const refunds = await ports.stripe.refunds.list({ payment_intent: pi.id, limit: 100 });
      paid.push({ amount: charge.amount, refunded: charge.amount_refunded, refunds: refunds.data.length });
    }
    return paid;
  }

  it("a deletion asked for while a saved-card purchase runs waits its turn (409): the pack is bought, then the deletion goes through", async () => {
    const who = await customer();
    const owner = { accountId: who.accountId, userId: who.viewer.userId };
    const { name } = await db.account.findUniqueOrThrow({ where: { id: who.accountId } });
    // The owner deletes the account in another tab between the card's charge and the grant.
    let deletion: unknown = null;
    const billing = Object.create(ports.billing) as typeof ports.billing;
    billing.chargeSavedCard = async (input) => {
      const answer = await ports.billing.chargeSavedCard(input);
      deletion = await deleteAccount(ports, owner, { confirmation: name }).catch((e: unknown) => e);
      return answer;
    };
    await buyPackWithSavedCard({ ...ports, billing }, who.accountId, {
      packId: offered.id,
      requestKey: "racing-the-deletion",
    });
    expect(deletion).toBeInstanceOf(AppError);
    expect(deletion).toMatchObject({ code: "CONFLICT" });
    expect(await db.packGrant.count({ where: { accountId: who.accountId } })).toBe(1);
    expect(await packPayments(who.customerId)).toEqual([{ amount: 1500, refunded: 0, refunds: 0 }]);
    // The deletion's retry goes through; the deleted account cannot start another purchase.
    await deleteAccount(ports, owner, { confirmation: name });
    const after = await buyPackWithSavedCard(ports, who.accountId, {
      packId: offered.id,
      requestKey: "after-the-deletion",
    }).catch((e: unknown) => e);
    expect(after).toMatchObject({ code: "NOT_FOUND" });
  });

  it("a saved-card payment whose answer was lost before the deletion: its webhook grants nothing and refunds it once", async () => {
    const who = await customer();
    const { name } = await db.account.findUniqueOrThrow({ where: { id: who.accountId } });
    const { stripePriceId } = await db.minutePack.findUniqueOrThrow({ where: { id: offered.id } });
    // Stripe charged the card; the answer never reached Minutely (no grant), then the owner deleted the account.
    const charged = await ports.billing.chargeSavedCard({
      customerId: who.customerId,
      amountCents: 1500,
      priceId: stripePriceId ?? undefined,
      currency: "usd",
      description: `Minutely minute pack: ${offered.name}`,
      metadata: { minutely_pack_id: offered.id, minutely_account_id: who.accountId },
      idempotencyKey: `minutely-pack-purchase:${who.accountId}:lost-then-deleted`,
    });
    expect(charged.status).toBe("succeeded");
    await deleteAccount(
      ports,
      { accountId: who.accountId, userId: who.viewer.userId },
      { confirmation: name },
    );
    // Its webhook, delivered twice, grants nothing and refunds the payment once.
    await deliver("payment_intent.succeeded", (o) => o.customer === who.customerId);
    await deliver("charge.refunded", (o) => o.customer === who.customerId);
    expect(await db.packGrant.count({ where: { accountId: who.accountId } })).toBe(0);
    expect(await packPayments(who.customerId)).toEqual([{ amount: 1500, refunded: 1500, refunds: 1 }]);
  });

  it("a pack bought before the deletion keeps its grant: its webhook arriving after the deletion refunds nothing", async () => {
    const who = await customer();
    await buyPackWithSavedCard(ports, who.accountId, {
      packId: offered.id,
      requestKey: "before-the-deletion",
    });
    const { name } = await db.account.findUniqueOrThrow({ where: { id: who.accountId } });
    await deleteAccount(
      ports,
      { accountId: who.accountId, userId: who.viewer.userId },
      { confirmation: name },
    );
    await deliver("payment_intent.succeeded", (o) => o.customer === who.customerId);
    expect(await db.packGrant.count({ where: { accountId: who.accountId } })).toBe(1);
    expect(await packPayments(who.customerId)).toEqual([{ amount: 1500, refunded: 0, refunds: 0 }]);
  });

  it("a Checkout page paid just before the deletion: its webhook grants nothing and refunds the payment once", async () => {
    const who = await customer();
    const checkout = await buyPackWithCheckout(ports, who.accountId, {
      packId: offered.id,
      successUrl: "http://localhost/usage?pack=bought",
      cancelUrl: "http://localhost/usage",
      requestKey: "paid-then-deleted",
    });
    const paid = await fetch(`${checkout.url}/pay`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "card=visa&address_country=DE",
      redirect: "manual",
    });
    expect(paid.status, await paid.clone().text()).toBeLessThan(400);
    const { name } = await db.account.findUniqueOrThrow({ where: { id: who.accountId } });
    await deleteAccount(
      ports,
      { accountId: who.accountId, userId: who.viewer.userId },
      { confirmation: name },
    );
    expect(await deliver("checkout.session.completed", (o) => o.id === checkout.sessionId)).toBe(1);
    expect(await db.packGrant.count({ where: { accountId: who.accountId } })).toBe(0);
    const session = await ports.stripe.checkout.sessions.retrieve(checkout.sessionId);
    const payments = await packPayments(who.customerId, [String(session.payment_intent)]);
    expect(payments).toHaveLength(1);
    expect(payments[0]).toMatchObject({ refunds: 1 });
    expect(payments[0]?.refunded).toBe(payments[0]?.amount);
  });

  it("an auto top-up charged just before the deletion grants nothing and is refunded", async () => {
    const who = await customer();
    const owner = { accountId: who.accountId, userId: who.viewer.userId };
    const { name } = await db.account.findUniqueOrThrow({ where: { id: who.accountId } });
    await setAutoTopUp(ports, who.viewer, who.accountId, {
      packId: offered.id,
      thresholdMinutes: 100,
      maxPerMonth: 2,
    });
    const billing = Object.create(ports.billing) as typeof ports.billing;
    billing.chargeSavedCard = async (input) => {
      const answer = await ports.billing.chargeSavedCard(input);
      await deleteAccount(ports, owner, { confirmation: name });
      return answer;
    };
    expect(await runQueuedJobs(url, { ...ports, billing })).toEqual([]);
    expect(await db.packGrant.count({ where: { accountId: who.accountId } })).toBe(0);
    expect(await packPayments(who.customerId)).toEqual([{ amount: 1500, refunded: 1500, refunds: 1 }]);
  });

  it("a pack Checkout page opened while the account is being deleted is expired, or refused: none stays open", async () => {
    const urls = { successUrl: "http://app.test/ok", cancelUrl: "http://app.test/no" };
    // 1. Opened after the deletion expired the customer's pages, before it committed.
    const a = await customer();
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let scrubbed: () => void = () => {};
    const afterScrub = new Promise<void>((resolve) => {
      scrubbed = resolve;
    });
    let scrubs = 0;
    const paused = {
      ...ports,
      billing: Object.assign(Object.create(Object.getPrototypeOf(ports.billing)), ports.billing, {
        scrubCustomer: async (customerId: string, key: string) => {
          await ports.billing.scrubCustomer(customerId, key);
          scrubs += 1;
          if (scrubs === 1) {
            scrubbed();
            await held;
          }
        },
      }),
    };
    const deleting = deleteAccount(
      paused,
      { userId: a.viewer.userId, accountId: a.accountId },
      { confirmation: `Attack customer ${counter}` },
    );
    await afterScrub;
    const page = await buyPackWithCheckout(ports, a.accountId, {
      packId: offered.id,
      ...urls,
      requestKey: "p1",
    });
    release();
    await deleting;
    expect((await ports.stripe.checkout.sessions.retrieve(page.sessionId)).status).toBe("expired");

    // 2. Read the account before the deletion committed, created the page after it: refused, page expired.
    const b = await customer();
    const name = `Attack customer ${counter}`;
    let made = "";
    const late = {
      ...ports,
      billing: Object.assign(Object.create(Object.getPrototypeOf(ports.billing)), ports.billing, {
        createPackCheckout: async (input: Parameters<typeof ports.billing.createPackCheckout>[0]) => {
          await deleteAccount(
            ports,
            { userId: b.viewer.userId, accountId: b.accountId },
            { confirmation: name },
          );
          const session = await ports.billing.createPackCheckout(input);
          made = session.sessionId;
          return session;
        },
      }),
    };
    const refused = await buyPackWithCheckout(late, b.accountId, {
      packId: offered.id,
      ...urls,
      requestKey: "p2",
    }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: "NOT_FOUND" });
    expect((await ports.stripe.checkout.sessions.retrieve(made)).status).toBe("expired");
  });

  it('auto top-up turned on in a tab while the deletion commits is refused (404): the deletion\'s "off" stands', async () => {
    const who = await customer();
    // The deletion's transaction, holding the account row while it turns auto top-up off and marks it deleted.
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked: () => void = () => {};
    const holding = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const deletion = db.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT id FROM account WHERE id = ${who.accountId}::uuid FOR UPDATE`;
        await tx.$executeRaw`
          UPDATE account SET deleted_at = now(), auto_top_up_pack_id = NULL WHERE id = ${who.accountId}::uuid`;
        locked();
        await held;
      },
      { timeout: 30_000 },
    );
    await holding;
    // The other tab read the account before the deletion committed (its checks pass), then writes.
    const saving = setAutoTopUp(ports, who.viewer, who.accountId, {
      packId: offered.id,
      thresholdMinutes: 100,
      maxPerMonth: 2,
    }).catch((e: unknown) => e);
    for (let i = 0; i < 200; i++) {
      const [row] = await db.$queryRaw<{ n: bigint }[]>`
        SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%account%'`;
      if (Number(row?.n ?? 0) >= 1) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    release();
    await deletion;
    expect(await saving).toMatchObject({ code: "NOT_FOUND" });
    const account = await db.account.findUniqueOrThrow({ where: { id: who.accountId } });
    expect(account.autoTopUpPackId).toBeNull();
    const jobs = await queuedJobs(db, "pack-top-up");
    expect(jobs.filter((job) => job.payload.accountId === who.accountId)).toEqual([]);
  });
});
