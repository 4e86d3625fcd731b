// Deleting an account (docs/accounts.md): the owner confirms with the company name; Stripe first (the
// subscriptions end, the Stripe customer's personal data is scrubbed and its cards detached), then one
// database transaction removes or pseudonymises the personal data and marks the account deleted. Invoices,
// billing history, credit notes and usage records are kept (tax law). Every step is idempotent, so a failure
// half-way is finished by the next attempt; the database is written in one transaction or not at all.
import { Prisma, transactionLock } from "@minutely/db";
import { DELETED_USER_DOMAIN } from "../../auth.ts";
import type { Ports } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { withActionLock } from "../action-lock.ts";
import { endSessionsIn } from "./team.ts";

/** What the account's name becomes: the admin's customer list shows it with its deletion date. */
export const DELETED_ACCOUNT_NAME = "Deleted account";
/** What each of its users' names becomes. */
export const DELETED_USER_NAME = "Deleted user";
/**
 * A deleted user's sign-in address: unique (the user's id), in the `.invalid` top-level domain reserved by
 * RFC 2606 (never deliverable), so the real address can sign up again.
 */
export function deletedUserEmail(userId: string): string {
  return `deleted-${userId}@${DELETED_USER_DOMAIN}`;
}

/**
 * Subscriptions that end at once rather than at the period's end: nothing was paid for a trial, and an
 * unpaid or incomplete one has no paid period to run out (its open invoice stays at Stripe, uncollected).
 * Stripe's `paused` is a trial that ended without a card (a pause of collection keeps `active`): nothing was
 * paid for it either, and a paused subscription has no period that runs out, so "at the period's end" would
 * leave it paused for ever.
 */
const ENDS_NOW = new Set(["trialing", "paused", "unpaid", "incomplete"]);
/** Subscriptions already over: nothing to ask Stripe. */
const OVER = new Set(["canceled", "incomplete_expired"]);

export interface AccountDeletion {
  accountId: string;
  deletedAt: Date;
  /** The subscriptions and how each ends (at the period's end, or now). */
  subscriptions: { stripeSubscriptionId: string; ends: "period_end" | "now"; endsAt: Date | null }[];
}

function sameName(typed: string, name: string): boolean {
  const norm = (s: string) => s.normalize("NFC").trim().replace(/\s+/g, " ");
  return norm(typed) === norm(name);
}

/**
 * Deletes the caller's account. Only its owner may; `confirmation` must be the company name (a 400 naming
 * `confirmation` otherwise). A call that waited for a concurrent deletion answers with that deletion.
 */
export async function deleteAccount(
  ports: Ports,
  actor: { userId: string; accountId: string },
  input: { confirmation: string },
): Promise<AccountDeletion> {
  // The role table lets only the owner call it (permissions.ts); the membership is checked here too. A
  // deleted account has no members left, so asking again after the deletion is NOT_FOUND.
  const member = await ports.db.accountMember.findUnique({
    where: { accountId_userId: { accountId: actor.accountId, userId: actor.userId } },
    select: { role: true },
  });
  if (!member) throw new AppError("NOT_FOUND", "No such account.");
  if (member.role !== "owner") {
    throw new AppError("FORBIDDEN", "Only the account's owner can delete it.");
  }
  const account = await ports.db.account.findUnique({ where: { id: actor.accountId } });
  if (!account) throw new AppError("NOT_FOUND", "No such account.");
  if (account.deletedAt) return await deletionOf(ports, account.id, account.deletedAt);
  if (!sameName(input.confirmation, account.name)) {
    throw new AppError(
      "BAD_REQUEST",
      "The confirmation does not match: type the company name exactly as it is shown.",
      "confirmation",
    );
  }
  return await withActionLock(ports, account.id, () => deleteLocked(ports, account.id), {
    deletedAccount: "allow",
  });
}

async function deleteLocked(ports: Ports, accountId: string): Promise<AccountDeletion> {
  const account = await ports.db.account.findUniqueOrThrow({ where: { id: accountId } });
  // A concurrent request finished the deletion while this one waited for nothing (the lock refuses a
  // second holder, but a request that read the account before the first one committed lands here).
  if (account.deletedAt) return await deletionOf(ports, accountId, account.deletedAt);

  // 1. Stripe, every call idempotent by a key of the account (a retry repeats them to the same state). The
  // customer first: its open Checkout pages expire and its cards go, so no subscription can start at Stripe
  // after this; the list of its subscriptions read next is then the complete one.
  const subscriptions = await ports.db.subscription.findMany({
    where: { accountId },
    select: { stripeSubscriptionId: true, status: true },
  });
  // 0. The final bill, while the cards are still there: the overage already on Stripe (items pending on the
  // next invoice) is invoiced and charged now. Left pending, Stripe would collect it on a final invoice at the
  // period's end, when the account has no card any more (an open invoice nobody can pay). Overage decided
  // but not yet on Stripe when the deletion runs is not billed (overage.ts: nothing is added to a deleted
  // account's invoices).
  if (account.stripeCustomerId) {
    for (const sub of subscriptions) {
      if (OVER.has(sub.status)) continue;
      // Its invoice reaches the billing history through Stripe's invoice webhooks, as every invoice does.
      await ports.billing.invoicePendingSubscriptionItems({
        customerId: account.stripeCustomerId,
        subscriptionId: sub.stripeSubscriptionId,
        idempotencyKey: `minutely-${accountId}-delete-final-bill-${sub.stripeSubscriptionId}`,
      });
    }
    await ports.billing.scrubCustomer(account.stripeCustomerId, `minutely-${accountId}-delete-scrub`);
  }
  const known = new Set(subscriptions.map((sub) => sub.stripeSubscriptionId));
  for (const sub of subscriptions) {
    if (OVER.has(sub.status)) continue;
    const remote = await ports.billing.retrieveSubscription(sub.stripeSubscriptionId);
    if (OVER.has(remote.status)) continue;
    const key = `minutely-${accountId}-delete-${sub.stripeSubscriptionId}`;
    if (ENDS_NOW.has(remote.status)) {
      await ports.billing.cancelSubscriptionNow(sub.stripeSubscriptionId, `${key}-cancel-now`);
      continue;
    }
    // Stripe refuses to cancel a subscription a schedule manages (a scheduled downgrade): release it.
    if (remote.scheduleId) {
      await ports.billing.releaseSchedule(remote.scheduleId, `${key}-release-${remote.scheduleId}`);
    }
    if (!remote.cancelAtPeriodEnd) {
      await ports.billing.setCancelAtPeriodEnd(sub.stripeSubscriptionId, true, `${key}-cancel`);
    }
  }
  // A subscription Stripe holds that Minutely has not recorded: a Checkout paid racing the deletion, its
  // webhook still on its way. It never gave the account anything: it ends now and what it collected is
  // refunded in full (as a pack paid racing the deletion is), once (the keys; the refund gives back only
  // what is left). Refunded first: Stripe's list leaves out canceled subscriptions, so a retry after a
  // failure between the two would no longer find one canceled and never refund it.
  if (account.stripeCustomerId) {
    for (const remote of await ports.billing.listSubscriptions(account.stripeCustomerId)) {
      if (known.has(remote.id) || OVER.has(remote.status)) continue;
      const key = `minutely-${accountId}-delete-unrecorded-${remote.id}`;
      await ports.billing.refundSubscriptionPayments(remote.id, `${key}-refund`);
      await ports.billing.cancelSubscriptionNow(remote.id, `${key}-cancel-now`);
    }
  }

  // 2. One transaction: nothing is half-written.
  const now = ports.clock.now();
  await ports.db.$transaction(async (tx) => {
    // Under the account's team lock (taken first, as every team change takes it before touching the account
    // row): no invitation is accepted, no member added, moved or removed meanwhile.
    await tx.$executeRaw(transactionLock("team", accountId));
    // FOR UPDATE conflicts with the KEY SHARE lock usage ingest takes on the account while it writes: a
    // report in flight commits first (its minutes were reported before the deletion), a later one sees the
    // account deleted and is refused (usage-ingest.ts).
    const [locked] = await tx.$queryRaw<{ deleted_at: Date | null }[]>(
      Prisma.sql`SELECT deleted_at FROM account WHERE id = ${accountId}::uuid FOR UPDATE`,
    );
    if (!locked || locked.deleted_at) return;
    const members = await tx.accountMember.findMany({
      where: { accountId },
      select: { userId: true, user: { select: { email: true } } },
    });
    // People who belong to other accounts too keep their user, sign-in and other accounts: only their
    // sessions acting in this account end. The others (only in this account) are pseudonymised. Their user
    // rows are locked first (in id order, so two deletions never wait on each other in a circle): two
    // deletions of a person's two accounts at once would otherwise each see the other membership still
    // there, both keep the person, and leave them in no account with everything personal. The second waits
    // for the first to commit and then reads its memberships gone.
    const memberIds = members.map((m) => m.userId).sort();
    if (memberIds.length > 0) {
      await tx.$queryRaw`
        SELECT id FROM "user" WHERE id = ANY(${memberIds}::uuid[]) ORDER BY id FOR UPDATE`;
    }
    const others = await tx.accountMember.findMany({
      where: { userId: { in: members.map((m) => m.userId) }, accountId: { not: accountId } },
      select: { userId: true },
    });
    const staying = new Set(others.map((o) => o.userId));
    for (const m of members) if (staying.has(m.userId)) await endSessionsIn(tx, accountId, m.userId);
    // Any other session still pointing at the account (an admin impersonating, a stale choice).
    await tx.session.deleteMany({ where: { activeAccountId: accountId } });
    await tx.accountMember.deleteMany({ where: { accountId } });
    // Invitations name people by address (personal data): pending, accepted and revoked alike go.
    await tx.accountInvitation.deleteMany({ where: { accountId } });

    const leaving = members.filter((m) => !staying.has(m.userId));
    const userIds = leaving.map((m) => m.userId);
    const emails = leaving.map((m) => m.user.email);
    await tx.session.deleteMany({ where: { userId: { in: userIds } } });
    await tx.authCredential.deleteMany({ where: { userId: { in: userIds } } });
    // Pending links: verification rows named by the address, and password reset tokens, which better-auth
    // stores as `reset-password:<token>` with the user's id as the value. A reset link left in the mailbox
    // would otherwise give the pseudonymised user a new password (better-auth creates the missing credential).
    await tx.verification.deleteMany({
      where: { OR: [{ identifier: { in: emails } }, { value: { in: userIds } }] },
    });
    for (const userId of userIds) {
      await tx.user.update({
        where: { id: userId },
        data: {
          email: deletedUserEmail(userId),
          name: DELETED_USER_NAME,
          image: null,
          emailVerified: false,
        },
      });
    }
    await tx.mailMessage.deleteMany({ where: { to: { in: emails } } });
    await tx.apiKey.updateMany({ where: { accountId, revokedAt: null }, data: { revokedAt: now } });
    await tx.agent.deleteMany({ where: { accountId } });
    await tx.account.update({
      where: { id: accountId },
      data: {
        name: DELETED_ACCOUNT_NAME,
        billingEmail: null,
        autoTopUpPackId: null,
        autoTopUpThresholdMinutes: null,
        autoTopUpMaxPerMonth: null,
        autoTopUpStoppedAt: null,
        deletedAt: now,
      },
    });
  });
  // 3. The customer's Checkout pages once more: a page opened between the scrub and the commit (a pack bought
  // in another tab read the account before it was deleted) expires too. A page opened after the commit is
  // expired by the purchase itself, which reads the account again once its page exists (packs.ts). Best
  // effort: the deletion has committed, and a page paid all the same grants nothing and is refunded in full.
  if (account.stripeCustomerId) {
    await ports.billing
      .scrubCustomer(account.stripeCustomerId, `minutely-${accountId}-delete-scrub-after`)
      .catch(() => undefined);
  }
  const row = await ports.db.account.findUniqueOrThrow({
    where: { id: accountId },
    select: { deletedAt: true },
  });
  return await deletionOf(ports, accountId, row.deletedAt ?? now);
}

async function deletionOf(
  ports: Pick<Ports, "db">,
  accountId: string,
  deletedAt: Date,
): Promise<AccountDeletion> {
  const subs = await ports.db.subscription.findMany({
    where: { accountId },
    orderBy: { createdAt: "asc" },
    select: { stripeSubscriptionId: true, status: true, currentPeriodEnd: true },
  });
  return {
    accountId,
    deletedAt,
    subscriptions: subs
      .filter((s) => !OVER.has(s.status))
      .map((s) =>
        ENDS_NOW.has(s.status)
          ? { stripeSubscriptionId: s.stripeSubscriptionId, ends: "now" as const, endsAt: deletedAt }
          : {
              stripeSubscriptionId: s.stripeSubscriptionId,
              ends: "period_end" as const,
              endsAt: s.currentPeriodEnd,
            },
      ),
  };
}
