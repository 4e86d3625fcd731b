import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { createAuth, resolveViewer } from "../../auth.ts";
import { AppError } from "../../errors.ts";
import { appRouter } from "../../root.ts";
import { testPorts } from "../../testing.ts";
import { createCallerFactory } from "../../trpc.ts";
import { withActionLock } from "../action-lock.ts";
import { addThreshold, authorizeCallRequest, ingestUsageEvents, setSpendCap } from "../metering/index.ts";
import { callEvent, createAccount, subscribe } from "../metering/metering.fixtures.ts";
import { ownerOf } from "../owner.ts";
import { createAgent } from "./agents.ts";
import { createApiKey } from "./api-keys.ts";
import { DELETED_ACCOUNT_NAME, deleteAccount, deletedUserEmail } from "./deletion.ts";
import { updateAccountSettings } from "./settings.ts";

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

/** An account with an owner on a paid Stripe subscription (a saved card), a session, an API key, agents. */
async function paidAccount(name = "Acme Calls", trialing = false) {
  const { accountId, ownerEmail, userId } = await createAccount(db, name);
  await db.account.update({ where: { id: accountId }, data: { name } });
  const customer = await ports.stripe.customers.create({
    email: ownerEmail,
    name,
    phone: "+15555550100",
    address: { line1: "1 Main St", city: "Springfield", country: "US" },
    payment_method: "pm_card_visa",
    invoice_settings: { default_payment_method: "pm_card_visa" },
  });
  const product = await ports.stripe.products.create({ name: "Pro" });
  const price = await ports.stripe.prices.create({
    product: product.id,
    unit_amount: 9900,
    currency: "usd",
    recurring: { interval: "month" },
  });
  const sub = await ports.stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price: price.id }],
    ...(trialing ? { trial_period_days: 14 } : {}),
  });
  await db.account.update({ where: { id: accountId }, data: { stripeCustomerId: customer.id } });
  await subscribe(db, accountId, {
    stripeSubscriptionId: sub.id,
    status: trialing ? "trialing" : "active",
    periodStart: new Date("2026-11-01T00:00:00Z"),
    periodEnd: new Date("2026-12-01T00:00:00Z"),
    createdAt: new Date("2026-11-01T00:00:00Z"),
  });
  await db.session.create({
    data: { token: `t-${accountId}`, userId, expiresAt: new Date("2027-01-01T00:00:00Z") },
  });
  await db.authCredential.create({
    data: { accountId: userId, providerId: "credential", userId, password: "hash" },
  });
  await db.apiKey.create({
    data: {
      accountId,
      name: "Prod",
      nameKey: "prod",
      prefix: `mk_${accountId.slice(0, 8)}`,
      keyHash: accountId.replace(/-/g, "").padEnd(64, "0"),
    },
  });
  await db.agent.create({ data: { accountId, name: "Front desk" } });
  await db.billingHistory.create({
    data: {
      accountId,
      stripeInvoiceId: `in_kept_${accountId}`,
      subtotalCents: 9900,
      totalCents: 9900,
      amountDueCents: 9900,
      amountPaidCents: 9900,
      currency: "usd",
      status: "paid",
      issuedAt: new Date("2026-11-01T00:00:00Z"),
    },
  });
  return { accountId, ownerEmail, userId, customerId: customer.id, subscriptionId: sub.id };
}

/**
 * The deletion's transaction, paused once it holds the account row FOR UPDATE (as deletion.ts locks it);
 * `release()` lets it set deleted_at and commit (`deletion`).
 */
async function pausedDeletion(accountId: string) {
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let locked: () => void = () => {};
  const isLocked = new Promise<void>((resolve) => {
    locked = resolve;
  });
  const deletion = db.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM account WHERE id = ${accountId}::uuid FOR UPDATE`;
    locked();
    await held;
    await tx.account.update({ where: { id: accountId }, data: { deletedAt: clock.now() } });
  });
  await isLocked;
  return { release, deletion };
}

function callerFor(userId: string, email: string, accountId: string) {
  return createCallerFactory(appRouter)({
    ...ports,
    requestId: "t",
    viewer: { userId, email, name: "Owner", role: "user", accountId },
  });
}

describe("account deletion", () => {
  it("refuses a wrong confirmation with BAD_REQUEST naming confirmation, and changes nothing", async () => {
    const a = await paidAccount("Wrong Name Ltd");
    const caller = callerFor(a.userId, a.ownerEmail, a.accountId);
    const hostile = [null, true, ["Wrong Name Ltd"], { value: "Wrong Name Ltd" }, "W".repeat(201)];
    for (const confirmation of ["Wrong Name", "wrong name ltd", 42, "", ...hostile]) {
      const error = await caller.accountSettings
        .delete({ confirmation } as never)
        .catch((e: unknown) => e as TRPCError);
      expect(error).toBeInstanceOf(TRPCError);
      expect((error as TRPCError).code).toBe("BAD_REQUEST");
      expect((error as TRPCError).message).toContain("confirmation");
    }
    expect((await db.account.findUniqueOrThrow({ where: { id: a.accountId } })).deletedAt).toBeNull();
    const remote = await ports.stripe.subscriptions.retrieve(a.subscriptionId);
    expect(remote.cancel_at_period_end).toBe(false);
  });

  it("lets only the owner delete: admin, billing and member get FORBIDDEN, and nothing changes", async () => {
    const a = await paidAccount("Members Inc");
    for (const role of ["admin", "billing", "member"] as const) {
      const member = await db.user.create({
        data: {
          email: `${role}-${a.accountId}@example.com`,
          name: role,
          memberships: { create: { accountId: a.accountId, role } },
        },
      });
      const error = await callerFor(member.id, member.email, a.accountId)
        .accountSettings.delete({ confirmation: "Members Inc" })
        .catch((e: unknown) => e as TRPCError);
      expect((error as TRPCError).code).toBe("FORBIDDEN");
      // The service checks the membership too, whoever calls it.
      await expect(
        deleteAccount(ports, { userId: member.id, accountId: a.accountId }, { confirmation: "Members Inc" }),
      ).rejects.toMatchObject({ code: "FORBIDDEN" });
    }
    expect((await db.account.findUniqueOrThrow({ where: { id: a.accountId } })).deletedAt).toBeNull();
    expect((await ports.stripe.subscriptions.retrieve(a.subscriptionId)).cancel_at_period_end).toBe(false);
  });

  it("keeps people who belong to another account; removes memberships, invitations, sessions in it", async () => {
    const a = await paidAccount("Shared People Ltd");
    // Kim signed up (their own account, as owner; a real password), then became an admin of A.
    const password = "correct horse battery staple";
    const kimEmail = `kim-${a.accountId}@example.com`;
    await auth.api.signUpEmail({ body: { email: kimEmail, password, name: "Kim" } });
    const kim = await db.user.update({ where: { email: kimEmail }, data: { emailVerified: true } });
    const own = await db.accountMember.findFirstOrThrow({ where: { userId: kim.id, role: "owner" } });
    const other = { accountId: own.accountId, userId: kim.id };
    const until = new Date("2027-01-01T00:00:00Z");
    await db.accountMember.create({ data: { accountId: a.accountId, userId: kim.id, role: "admin" } });
    const kimInA = await db.session.create({
      data: { token: `kim-a-${a.accountId}`, userId: kim.id, expiresAt: until, activeAccountId: a.accountId },
    });
    const kimElsewhere = await db.session.create({
      data: {
        token: `kim-o-${a.accountId}`,
        userId: kim.id,
        expiresAt: until,
        activeAccountId: other.accountId,
      },
    });
    const kimDefault = await db.session.create({
      data: { token: `kim-d-${a.accountId}`, userId: kim.id, expiresAt: until },
    });
    // Lee: a member of A only.
    const lee = await db.user.create({
      data: {
        email: `lee-${a.accountId}@example.com`,
        name: "Lee",
        emailVerified: true,
        memberships: { create: { accountId: a.accountId, role: "member" } },
      },
    });
    await db.session.create({ data: { token: `lee-${a.accountId}`, userId: lee.id, expiresAt: until } });
    await db.accountInvitation.create({
      data: {
        accountId: a.accountId,
        email: `pending-${a.accountId}@example.com`,
        role: "billing",
        tokenHash: a.accountId.replace(/-/g, "").padEnd(64, "1"),
        invitedById: a.userId,
        expiresAt: until,
        sentAt: clock.now(),
      },
    });

    await deleteAccount(ports, a, { confirmation: "Shared People Ltd" });

    expect(await db.accountMember.count({ where: { accountId: a.accountId } })).toBe(0);
    expect(await db.accountInvitation.count({ where: { accountId: a.accountId } })).toBe(0);
    expect(await db.session.count({ where: { activeAccountId: a.accountId } })).toBe(0);
    // Kim keeps the user, the address, the password, the other account and the sessions not acting in A.
    expect(await db.user.findUniqueOrThrow({ where: { id: kim.id } })).toMatchObject({
      email: kimEmail,
      name: "Kim",
      emailVerified: true,
    });
    expect(await db.authCredential.count({ where: { userId: kim.id } })).toBe(1);
    expect(await db.account.findUniqueOrThrow({ where: { id: other.accountId } })).toMatchObject({
      deletedAt: null,
    });
    expect(
      await db.accountMember.findMany({ where: { userId: kim.id }, select: { accountId: true, role: true } }),
    ).toEqual([{ accountId: other.accountId, role: "owner" }]);
    const kimSessions = await db.session.findMany({ where: { userId: kim.id }, select: { id: true } });
    // (The sign-up's own session, with no choice, stays too.)
    expect(kimSessions.map((x) => x.id)).toEqual(expect.arrayContaining([kimElsewhere.id, kimDefault.id]));
    expect(kimSessions).toHaveLength(3);
    expect(kimSessions.map((x) => x.id)).not.toContain(kimInA.id);
    // And can still sign in, landing in their own account as its owner.
    const signIn = await auth.api.signInEmail({ body: { email: kimEmail, password }, returnHeaders: true });
    const cookie = (signIn.headers.getSetCookie?.() ?? []).map((c) => c.split(";")[0]).join("; ");
    const viewer = await resolveViewer(auth, new Headers({ cookie }));
    expect(viewer).toMatchObject({ userId: kim.id, accountId: other.accountId, accountRole: "owner" });
    // The owner and Lee were only in A: pseudonymised, signed out everywhere.
    for (const gone of [a.userId, lee.id]) {
      expect(await db.user.findUniqueOrThrow({ where: { id: gone } })).toMatchObject({
        email: deletedUserEmail(gone),
        name: "Deleted user",
        emailVerified: false,
      });
      expect(await db.session.count({ where: { userId: gone } })).toBe(0);
      expect(await db.authCredential.count({ where: { userId: gone } })).toBe(0);
    }
    // The other account still has its owner (mails go to Kim).
    expect((await ownerOf(db, other.accountId))?.email).toBe(kimEmail);
    expect(await ownerOf(db, a.accountId)).toBeNull();
  });

  it("owner lookups skip a deleted account, even with a membership left (nothing mails it)", async () => {
    const a = await createAccount(db, "Marked Only Ltd");
    expect((await ownerOf(db, a.accountId))?.id).toBe(a.userId);
    await db.account.update({ where: { id: a.accountId }, data: { deletedAt: clock.now() } });
    expect(await ownerOf(db, a.accountId)).toBeNull();
  });

  it("a session whose default account is the deleted one ends; the person signs in to the other", async () => {
    const a = await paidAccount("First Of Two Ltd");
    const later = await createAccount(db, "Joined Later Ltd");
    // The owner of A joins another account later: A stays the default of a session with no choice.
    await db.accountMember.create({
      data: { accountId: later.accountId, userId: a.userId, role: "billing" },
    });
    const laterSession = await db.session.create({
      data: {
        token: `later-${a.accountId}`,
        userId: a.userId,
        expiresAt: new Date("2027-01-01T00:00:00Z"),
        activeAccountId: later.accountId,
      },
    });
    await deleteAccount(ports, a, { confirmation: "First Of Two Ltd" });
    // The paidAccount session (no choice, default A) ended; the one acting in the other account stays.
    const left = await db.session.findMany({ where: { userId: a.userId }, select: { id: true } });
    expect(left.map((x) => x.id)).toEqual([laterSession.id]);
    expect((await db.user.findUniqueOrThrow({ where: { id: a.userId } })).email).toBe(a.ownerEmail);
    expect(await db.authCredential.count({ where: { userId: a.userId } })).toBe(1);
    // The service refuses the deleted account to its former owner: no membership is left.
    await expect(deleteAccount(ports, a, { confirmation: "anything" })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it("cancels at period end, scrubs the Stripe customer, removes personal data and keeps the invoices", async () => {
    const a = await paidAccount("Acme Calls");
    const result = await callerFor(a.userId, a.ownerEmail, a.accountId).accountSettings.delete({
      confirmation: "  Acme Calls ",
      requestKey: `delete-${a.accountId}`,
    });
    expect(result.subscriptions).toEqual([
      {
        stripeSubscriptionId: a.subscriptionId,
        ends: "period_end",
        endsAt: new Date("2026-12-01T00:00:00Z"),
      },
    ]);

    const remote = await ports.stripe.subscriptions.retrieve(a.subscriptionId);
    expect(remote.cancel_at_period_end).toBe(true);
    expect(remote.status).toBe("active");
    const customer = await ports.stripe.customers.retrieve(a.customerId);
    expect(customer).toMatchObject({ name: null, email: null, phone: null, address: null });
    const cards = await ports.stripe.customers.listPaymentMethods(a.customerId);
    expect(cards.data).toEqual([]);

    const account = await db.account.findUniqueOrThrow({ where: { id: a.accountId } });
    expect(account).toMatchObject({ name: DELETED_ACCOUNT_NAME, billingEmail: null, autoTopUpPackId: null });
    expect(account.deletedAt).toEqual(clock.now());
    const user = await db.user.findUniqueOrThrow({ where: { id: a.userId } });
    expect(user).toMatchObject({
      email: deletedUserEmail(a.userId),
      name: "Deleted user",
      emailVerified: false,
    });
    expect(await db.session.count({ where: { userId: a.userId } })).toBe(0);
    expect(await db.authCredential.count({ where: { userId: a.userId } })).toBe(0);
    expect(await db.apiKey.count({ where: { accountId: a.accountId, revokedAt: null } })).toBe(0);
    expect(await db.agent.count({ where: { accountId: a.accountId } })).toBe(0);
    // Kept: the billing history (invoices), the subscription mirror.
    expect(await db.billingHistory.count({ where: { accountId: a.accountId } })).toBe(1);
    expect(await db.subscription.count({ where: { accountId: a.accountId } })).toBe(1);
    // The address can sign up again.
    await db.user.create({ data: { email: a.ownerEmail, name: "New" } });

    expect(result.deletedAt).toEqual(clock.now());
    // Again (a retried request, another key): the account has no members left, so NOT_FOUND, nothing done.
    await expect(deleteAccount(ports, a, { confirmation: "anything" })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    expect((await db.account.findUniqueOrThrow({ where: { id: a.accountId } })).deletedAt).toEqual(
      result.deletedAt,
    );
  });

  it("ends a trial at once (nothing was paid for it)", async () => {
    const a = await paidAccount("Trial Co", true);
    const result = await deleteAccount(ports, a, { confirmation: "Trial Co" });
    expect(result.subscriptions[0]?.ends).toBe("now");
    expect((await ports.stripe.subscriptions.retrieve(a.subscriptionId)).status).toBe("canceled");
  });

  it("refuses usage and calls of a deleted account with account_deleted", async () => {
    const a = await paidAccount("Meter Me");
    const before = await ingestUsageEvents(ports, [callEvent(a.accountId, 120)]);
    expect(before.accepted).toBe(1);
    await deleteAccount(ports, a, { confirmation: "Meter Me" });
    const after = await ingestUsageEvents(ports, [callEvent(a.accountId, 120)]);
    expect(after.results[0]).toMatchObject({ status: "rejected", reason: "account_deleted" });
    const call = await authorizeCallRequest(ports, {
      callId: "c-deleted",
      accountId: a.accountId,
      agentId: "00000000-0000-4000-8000-000000000000",
      direction: "outbound",
    } as never);
    expect(call).toMatchObject({ decision: "deny", reason: "account_deleted" });
  });

  it("a usage report racing a deletion: the report waits for the deletion, then is refused", async () => {
    const a = await paidAccount("Race Ltd");
    // The deletion's transaction, paused after its lock: the report reads the account as live meanwhile.
    const { release, deletion } = await pausedDeletion(a.accountId);
    const report = ingestUsageEvents(ports, [callEvent(a.accountId, 300)]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    release();
    await deletion;
    const result = await report;
    expect(result.results[0]).toMatchObject({ status: "rejected", reason: "account_deleted" });
    expect(await db.usageEvent.count({ where: { accountId: a.accountId } })).toBe(0);
  });

  it("a key, an agent, an alert threshold or a budget written racing the deletion is refused: nothing lands", async () => {
    const a = await paidAccount("Late Writes Ltd");
    const enterprise = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Enterprise" } });
    await db.subscription.updateMany({ where: { accountId: a.accountId }, data: { planId: enterprise.id } });
    const viewer = {
      userId: a.userId,
      email: a.ownerEmail,
      name: "Owner",
      role: "user" as const,
      accountId: a.accountId,
    };
    // The deletion's transaction, paused after its lock: each request was authorized while the account lived.
    const { release, deletion } = await pausedDeletion(a.accountId);
    const writes = [
      createApiKey(ports, viewer, "Late key"),
      createAgent(ports, a.accountId, { name: "Late agent" }),
      addThreshold(ports, a.accountId, 50),
      setSpendCap(ports, viewer, a.accountId, { amountCents: 5000, currency: "usd" }),
    ].map((write) => (write as Promise<unknown>).catch((e: unknown) => e));
    await new Promise((resolve) => setTimeout(resolve, 300));
    release();
    await deletion;
    for (const result of await Promise.all(writes)) {
      expect(result).toBeInstanceOf(AppError);
      expect(result).toMatchObject({ code: "NOT_FOUND" });
    }
    expect(await db.apiKey.count({ where: { accountId: a.accountId, name: "Late key" } })).toBe(0);
    expect(await db.agent.count({ where: { accountId: a.accountId, name: "Late agent" } })).toBe(0);
    expect(await db.alertThreshold.count({ where: { accountId: a.accountId } })).toBe(0);
    const after = await db.account.findUniqueOrThrow({ where: { id: a.accountId } });
    expect(after.overageCapCents).toBeNull();
  });

  it("a deleted account takes no more changes under the action lock (an admin's coupon or pause, a stale tab)", async () => {
    const a = await paidAccount("No More Changes");
    await deleteAccount(ports, a, { confirmation: "No More Changes" });
    let ran = false;
    const refused = await withActionLock(ports, a.accountId, async () => {
      ran = true;
    }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: "NOT_FOUND" });
    expect(ran).toBe(false);
    // And the lock was released.
    const held = await db.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM account_action_lock WHERE account_id = ${a.accountId}::uuid`;
    expect(held[0]?.n).toBe(0);
  });

  it("waits for the account's action lock (an upgrade in flight): CONFLICT, nothing deleted", async () => {
    const a = await paidAccount("Busy Ltd");
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered: () => void = () => {};
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const upgrade = withActionLock(ports, a.accountId, async () => {
      entered();
      await held;
    });
    await inside;
    const error = await deleteAccount(ports, a, { confirmation: "Busy Ltd" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "CONFLICT" });
    release();
    await upgrade;
    expect((await db.account.findUniqueOrThrow({ where: { id: a.accountId } })).deletedAt).toBeNull();
  });

  it("two clicks at once: one deletion", async () => {
    const a = await paidAccount("Double Click");
    const outcomes = await Promise.allSettled([
      deleteAccount(ports, a, { confirmation: "Double Click" }),
      deleteAccount(ports, a, { confirmation: "Double Click" }),
    ]);
    expect(outcomes.some((o) => o.status === "fulfilled")).toBe(true);
    for (const o of outcomes)
      if (o.status === "rejected") expect(o.reason).toMatchObject({ code: "CONFLICT" });
    expect((await db.account.findUniqueOrThrow({ where: { id: a.accountId } })).deletedAt).not.toBeNull();
  });

  it("a Stripe failure half-way writes nothing here; the next attempt finishes the deletion", async () => {
    const a = await paidAccount("Flaky Stripe");
    let fail = true;
    const flaky = {
      ...ports,
      billing: Object.assign(Object.create(Object.getPrototypeOf(ports.billing)), ports.billing, {
        // The last Stripe call of the deletion (the customer is scrubbed, the subscription set to end).
        listSubscriptions: async (customerId: string) => {
          if (fail) throw new Error("Stripe is unreachable");
          return await ports.billing.listSubscriptions(customerId);
        },
      }),
    };
    await expect(deleteAccount(flaky, a, { confirmation: "Flaky Stripe" })).rejects.toThrow(/unreachable/);
    expect((await db.account.findUniqueOrThrow({ where: { id: a.accountId } })).deletedAt).toBeNull();
    expect((await db.user.findUniqueOrThrow({ where: { id: a.userId } })).email).toBe(a.ownerEmail);
    expect((await ports.stripe.subscriptions.retrieve(a.subscriptionId)).cancel_at_period_end).toBe(true);
    expect((await ports.stripe.customers.retrieve(a.customerId)) as { email: string | null }).toMatchObject({
      email: null,
    });

    fail = false;
    await deleteAccount(flaky, a, { confirmation: "Flaky Stripe" });
    expect((await db.account.findUniqueOrThrow({ where: { id: a.accountId } })).deletedAt).not.toBeNull();
    expect((await ports.stripe.customers.retrieve(a.customerId)) as { email: string | null }).toMatchObject({
      email: null,
    });
  });

  it("a reset link asked for before the deletion cannot bring the pseudonymised person back", async () => {
    const email = `reset-${crypto.randomUUID()}@example.com`;
    const password = "correct horse battery";
    const { user } = await auth.api.signUpEmail({ body: { email, password, name: "Resetting Co" } });
    const membership = await db.accountMember.findFirstOrThrow({ where: { userId: user.id } });
    await auth.api.requestPasswordReset({ body: { email } });
    const pending = await db.verification.findFirstOrThrow({
      where: { value: user.id, identifier: { startsWith: "reset-password:" } },
    });
    const token = pending.identifier.slice("reset-password:".length);

    await deleteAccount(
      ports,
      { userId: user.id, accountId: membership.accountId },
      { confirmation: "Resetting Co" },
    );

    // The link still in the mailbox must not set a password on the pseudonymised user (better-auth would
    // create a credential for a user without one), nor sign anyone in as deleted-<id>@deleted.invalid.
    await expect(
      auth.api.resetPassword({ body: { token, newPassword: "a new password 1" } }),
    ).rejects.toMatchObject({ body: { code: "INVALID_TOKEN" } });
    expect(await db.authCredential.count({ where: { userId: user.id } })).toBe(0);
    expect(await db.verification.count({ where: { value: user.id } })).toBe(0);

    // Nor is a new link mailed to the pseudonymised address (nor a verification link): it is nobody's.
    const pseudonym = deletedUserEmail(user.id);
    await auth.api.requestPasswordReset({ body: { email: pseudonym } });
    await auth.api.sendVerificationEmail({ body: { email: pseudonym } }).catch(() => undefined);
    expect(await db.mailMessage.count({ where: { to: pseudonym } })).toBe(0);
  });

  it("expires the customer's open Checkout pages: none can start a subscription or buy a pack afterwards", async () => {
    const a = await paidAccount("Open Tabs Co");
    const product = await ports.stripe.products.create({ name: "Bigger" });
    const monthly = await ports.stripe.prices.create({
      product: product.id,
      unit_amount: 19900,
      currency: "usd",
      recurring: { interval: "month" },
    });
    const once = await ports.stripe.prices.create({ product: product.id, unit_amount: 500, currency: "usd" });
    const urls = { success_url: "http://app.test/ok", cancel_url: "http://app.test/no" };
    const subscriptionPage = await ports.stripe.checkout.sessions.create({
      mode: "subscription",
      customer: a.customerId,
      line_items: [{ price: monthly.id, quantity: 1 }],
      ...urls,
    });
    const packPage = await ports.stripe.checkout.sessions.create({
      mode: "payment",
      customer: a.customerId,
      line_items: [{ price: once.id, quantity: 1 }],
      metadata: { minutely_account_id: a.accountId },
      ...urls,
    });

    await deleteAccount(ports, a, { confirmation: "Open Tabs Co" });

    // A page left open in another tab (Checkout pages live for a day) must not bill the deleted account.
    for (const page of [subscriptionPage, packPage]) {
      expect((await ports.stripe.checkout.sessions.retrieve(page.id)).status).toBe("expired");
    }
  });

  it("a settings save racing the deletion never writes the name or billing email back (here or at Stripe)", async () => {
    const a = await paidAccount("Racing Tabs");
    // The deletion running (it holds the account's action lock): a save from another tab waits its turn.
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered: () => void = () => {};
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const deleting = withActionLock(ports, a.accountId, async () => {
      entered();
      await held;
    });
    await inside;
    const during = await updateAccountSettings(ports, a.accountId, {
      name: "Racing Tabs GmbH",
      billingEmail: "invoices@racing.example",
    }).catch((e: unknown) => e);
    expect(during).toMatchObject({ code: "CONFLICT" });
    release();
    await deleting;

    // After the deletion: the save that read the account before finds it deleted and changes nothing.
    await deleteAccount(ports, a, { confirmation: "Racing Tabs" });
    const after = await updateAccountSettings(ports, a.accountId, {
      name: "Racing Tabs GmbH",
      billingEmail: "invoices@racing.example",
    }).catch((e: unknown) => e);
    expect(after).toMatchObject({ code: "NOT_FOUND" });
    const account = await db.account.findUniqueOrThrow({ where: { id: a.accountId } });
    expect(account).toMatchObject({ name: DELETED_ACCOUNT_NAME, billingEmail: null });
    const customer = await ports.stripe.customers.retrieve(a.customerId);
    expect(customer).toMatchObject({ name: null, email: null });
  });
});
