// Attacks on account deletion where money is involved: Stripe knows things Minutely does not yet (a
// subscription whose webhook is still on its way), webhooks arrive after the deletion.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { createAuth, resolveViewer } from "../../auth.ts";
import { testPorts } from "../../testing.ts";
import { syncSubscription } from "../billing/index.ts";
import { createAccount, subscribe as subscribeRow } from "../metering/metering.fixtures.ts";
import { startPaymentMethodUpdate } from "../subscriptions/index.ts";
import { deleteAccount, deletedUserEmail } from "./deletion.ts";

const { db } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
const auth = createAuth({
  db,
  secret: ports.settings.secret,
  baseUrl: "http://api.test",
  trustedOrigins: [],
  secureCookies: false,
  mail: { mailer: ports.mailer, appUrl: "http://app.test" },
});

/** A Stripe price of the seeded Pro package ($99 a month), so that a sync maps it to a package. */
async function proPrice() {
  const plan = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
  const product = await ports.stripe.products.create({ name: "Pro" });
  const price = await ports.stripe.prices.create({
    product: product.id,
    unit_amount: 9900,
    currency: "usd",
    recurring: { interval: "month" },
  });
  await db.planPrice.create({
    data: { planId: plan.id, stripePriceId: price.id, amountCents: 9900, currency: "usd", current: false },
  });
  return price.id;
}

/** An account with a Stripe customer holding a card, and no subscription Minutely knows of. */
async function customerAccount(name: string) {
  const { accountId, ownerEmail, userId } = await createAccount(db, name);
  await db.account.update({ where: { id: accountId }, data: { name } });
  const customer = await ports.stripe.customers.create({
    email: ownerEmail,
    name,
    payment_method: "pm_card_visa",
    invoice_settings: { default_payment_method: "pm_card_visa" },
    metadata: { minutely_account_id: accountId },
  });
  await db.account.update({ where: { id: accountId }, data: { stripeCustomerId: customer.id } });
  return { accountId, userId, customerId: customer.id };
}

/** What the customer has been refunded of a subscription's payments, in cents. */
async function refundedOf(subscriptionId: string): Promise<number> {
  const invoices = await ports.stripe.invoices.list({ subscription: subscriptionId, status: "paid" });
  let refunded = 0;
  for (const invoice of invoices.data) {
    const full = await ports.stripe.invoices.retrieve(invoice.id, { expand: ["payments"] });
    for (const payment of full.payments?.data ?? []) {
      const pi = payment.payment.payment_intent;
      const id = typeof pi === "string" ? pi : pi?.id;
      if (!id) continue;
      const refunds = await ports.stripe.refunds.list({ payment_intent: id });
      refunded += refunds.data.reduce((sum, r) => sum + r.amount, 0);
    }
  }
  return refunded;
}

describe("account deletion under attack (money)", () => {
  it("a subscription paid at Stripe whose webhook has not arrived yet does not outlive the deletion", async () => {
    const a = await customerAccount("Checkout Racer");
    const priceId = await proPrice();
    // Checkout completed at Stripe (the customer paid $99) moments before the owner deleted the account in
    // another tab; its checkout.session.completed / customer.subscription.created webhooks are still queued.
    const racing = await ports.stripe.subscriptions.create({
      customer: a.customerId,
      items: [{ price: priceId }],
      metadata: { minutely_account_id: a.accountId },
    });
    expect(racing.status).toBe("active");
    expect(await db.subscription.count({ where: { accountId: a.accountId } })).toBe(0);

    await deleteAccount(ports, a, { confirmation: "Checkout Racer" });

    // Nothing may charge the deleted account again: the subscription ends now and its payment is refunded.
    const remote = await ports.stripe.subscriptions.retrieve(racing.id);
    expect(remote.status).toBe("canceled");
    expect(await refundedOf(racing.id)).toBe(9900);

    // Its webhook arrives late: the mirror records a subscription that is over, never a live one.
    await syncSubscription(ports, racing.id);
    const row = await db.subscription.findUniqueOrThrow({ where: { stripeSubscriptionId: racing.id } });
    expect(row.status).toBe("canceled");
  });

  it("a card page opened in another tab while the deletion runs is refused, or expired by it: none stays open", async () => {
    const a = await customerAccount("Card Page Racer");
    const priceId = await proPrice();
    const sub = await ports.stripe.subscriptions.create({
      customer: a.customerId,
      items: [{ price: priceId }],
    });
    await subscribeRow(db, a.accountId, { stripeSubscriptionId: sub.id });
    // The deletion, held after it scrubbed the customer (which expired the Checkout pages open then).
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let scrubbed: () => void = () => {};
    const afterScrub = new Promise<void>((resolve) => {
      scrubbed = resolve;
    });
    const paused = {
      ...ports,
      billing: Object.assign(Object.create(Object.getPrototypeOf(ports.billing)), ports.billing, {
        scrubCustomer: async (customerId: string, key: string) => {
          await ports.billing.scrubCustomer(customerId, key);
          scrubbed();
          await held;
        },
      }),
    };
    const deleting = deleteAccount(paused, a, { confirmation: "Card Page Racer" });
    await afterScrub;
    // The other tab: "Update card" (authorized before the deletion commits).
    const page = await startPaymentMethodUpdate(
      ports,
      { accountId: a.accountId, email: "owner@example.com", name: "Owner" },
      "card-page-1",
    ).catch((e: unknown) => e);
    release();
    await deleting;
    expect(page).toMatchObject({ code: "CONFLICT" });
    const open = await ports.stripe.checkout.sessions.list({ customer: a.customerId, status: "open" });
    expect(open.data).toEqual([]);
    // After the deletion: 404, no page.
    const after = await startPaymentMethodUpdate(
      ports,
      { accountId: a.accountId, email: "owner@example.com", name: "Owner" },
      "card-page-2",
    ).catch((e: unknown) => e);
    expect(after).toMatchObject({ code: "NOT_FOUND" });
    expect(
      (await ports.stripe.checkout.sessions.list({ customer: a.customerId, status: "open" })).data,
    ).toEqual([]);
  });

  it("Stripe failing half-way through ending an unrecorded subscription: the retry still refunds it", async () => {
    const a = await customerAccount("Half Way Racer");
    const priceId = await proPrice();
    const racing = await ports.stripe.subscriptions.create({
      customer: a.customerId,
      items: [{ price: priceId }],
      metadata: { minutely_account_id: a.accountId },
    });
    let fail = true;
    const flaky = {
      ...ports,
      billing: Object.assign(Object.create(Object.getPrototypeOf(ports.billing)), ports.billing, {
        refundSubscriptionPayments: async (subscriptionId: string, key: string) => {
          if (fail) throw new Error("Stripe is unreachable");
          return await ports.billing.refundSubscriptionPayments(subscriptionId, key);
        },
      }),
    };
    await expect(deleteAccount(flaky, a, { confirmation: "Half Way Racer" })).rejects.toThrow(/unreachable/);
    expect((await db.account.findUniqueOrThrow({ where: { id: a.accountId } })).deletedAt).toBeNull();

    fail = false;
    await deleteAccount(flaky, a, { confirmation: "Half Way Racer" });
    expect((await ports.stripe.subscriptions.retrieve(racing.id)).status).toBe("canceled");
    expect(await refundedOf(racing.id)).toBe(9900);
  });

  it("one person owning two accounts deletes both at once (two tabs): they end pseudonymised, not kept", async () => {
    const x = await createAccount(db, "Tab One Co");
    const owner = await db.user.findUniqueOrThrow({ where: { id: x.userId } });
    const y = await db.account.create({
      data: { name: "Tab Two Co", members: { create: { userId: owner.id, role: "owner" } } },
    });
    await db.account.update({ where: { id: x.accountId }, data: { name: "Tab One Co" } });
    // Both deletions reach their transaction together: held at the account rows until both wait there.
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked: () => void = () => {};
    const holding = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const gate = db.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT id FROM account WHERE id IN (${x.accountId}::uuid, ${y.id}::uuid) FOR UPDATE`;
        locked();
        await held;
      },
      { timeout: 30_000 },
    );
    await holding;
    const both = Promise.all([
      deleteAccount(ports, { userId: owner.id, accountId: x.accountId }, { confirmation: "Tab One Co" }),
      deleteAccount(ports, { userId: owner.id, accountId: y.id }, { confirmation: "Tab Two Co" }),
    ]);
    for (let i = 0; i < 200; i++) {
      const [row] = await db.$queryRaw<{ n: bigint }[]>`
        SELECT count(*) AS n FROM pg_stat_activity
        WHERE wait_event_type = 'Lock' AND query LIKE '%FROM account WHERE id =%FOR UPDATE%'`;
      if (Number(row?.n ?? 0) >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    release();
    await gate;
    await both;

    expect(await db.accountMember.count({ where: { userId: owner.id } })).toBe(0);
    const user = await db.user.findUniqueOrThrow({ where: { id: owner.id } });
    // In no account any more: the person is pseudonymised, as if the accounts had been deleted one by one.
    expect(user).toMatchObject({ email: deletedUserEmail(owner.id), name: "Deleted user" });
  });

  it("a request straddling the deletion's commit is signed out (401), never run in the person's other account", async () => {
    const email = `straddle-${Date.now()}@example.com`;
    const password = "long-enough-password-1";
    await auth.api.signUpEmail({ body: { email, password, name: "Sam" } });
    const sam = await db.user.findUniqueOrThrow({ where: { email } });
    // Sam owns the account being deleted (X) and another one (the sign-up's own, Y).
    const x = await db.account.create({
      data: { name: "Straddled Co", members: { create: { userId: sam.id, role: "owner" } } },
    });
    const signIn = await auth.api.signInEmail({ body: { email, password }, returnHeaders: true });
    const cookie = (signIn.headers.getSetCookie?.() ?? []).map((c) => c.split(";")[0]).join("; ");
    await db.session.updateMany({ where: { userId: sam.id }, data: { activeAccountId: x.id } });
    expect(await resolveViewer(auth, new Headers({ cookie }))).toMatchObject({ accountId: x.id });

    // A request in a tab acting in X: its session is read, then the deletion of X commits (in another tab),
    // then its memberships are read.
    const getSession = auth.api.getSession;
    auth.api.getSession = (async (...args: Parameters<typeof getSession>) => {
      const result = await getSession(...args);
      await deleteAccount(ports, { userId: sam.id, accountId: x.id }, { confirmation: "Straddled Co" });
      return result;
    }) as typeof getSession;
    try {
      // Its session ended with X: the request is signed out, not run as Sam in Y (an API key made there, say).
      expect(await resolveViewer(auth, new Headers({ cookie }))).toBeNull();
    } finally {
      auth.api.getSession = getSession;
    }
  });
});
