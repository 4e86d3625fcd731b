// At most one live subscription per account, always. Subscribing refuses an account that has one, and
// opening a Checkout page expires the account's other open ones, but two pages opened before either was
// paid can still both be paid (or a page paid while a card subscription was being made). Stripe then holds
// two live subscriptions for one customer. This is the guard on the webhook side (and on the return from
// Checkout): the first subscription (the earliest created among those granting access) is kept, every other
// one is canceled at once and what it collected is refunded, and a duplicate_subscription row plus an audit
// entry record what was done. Every Stripe call carries a key derived from the duplicate, and Stripe is
// re-read before acting, so a replayed webhook or a concurrent run never cancels or refunds twice.
import { grantsAccess, isLiveSubscription, mapStripeSubscriptionStatus } from "@minutely/domain";
import type { Ports } from "../../context.ts";
import type { ProviderSubscription } from "../../ports/billing.ts";
import { syncSubscription } from "./subscription-sync.ts";

export interface ResolvedDuplicate {
  stripeSubscriptionId: string;
  keptStripeSubscriptionId: string;
  refundedCents: number;
  currency: string | null;
}

/** The audit log's actor for what Minutely does on its own (no admin clicked anything). */
export const SYSTEM_ACTOR_EMAIL = "system@minutely (billing guard)";

/**
 * Oldest first, from Stripe's list (newest first). Subscriptions created in the same second (on a test
 * clock, whose time stands still, they all are) keep Stripe's order, which is the order of creation.
 */
function oldestFirst(newestFirst: readonly ProviderSubscription[]): ProviderSubscription[] {
  return [...newestFirst].reverse().sort((a, b) => a.created.getTime() - b.created.getTime());
}

/** The subscription to keep among an account's live ones (oldest first): the first granting access, else the first. */
export function subscriptionToKeep(live: readonly ProviderSubscription[]): ProviderSubscription | null {
  return live.find((s) => grantsAccess(mapStripeSubscriptionStatus(s.status))) ?? live[0] ?? null;
}

/**
 * Finds the account's live subscriptions at Stripe and, when there is more than one, keeps the first and
 * cancels and refunds the others. Returns what it resolved in this call (empty when nothing was wrong).
 */
export async function resolveDuplicateSubscriptions(
  ports: Ports,
  accountId: string,
  source: { stripeEventId?: string | undefined } = {},
): Promise<ResolvedDuplicate[]> {
  const account = await ports.db.account.findUnique({ where: { id: accountId } });
  if (!account?.stripeCustomerId) return [];
  const live = oldestFirst(await ports.billing.listSubscriptions(account.stripeCustomerId)).filter((s) =>
    isLiveSubscription(mapStripeSubscriptionStatus(s.status)),
  );
  if (live.length < 2) return [];
  const keep = subscriptionToKeep(live);
  if (!keep) return [];
  // The kept one may not be in Minutely yet (its webhooks not processed, its return page never loaded).
  await syncSubscription(ports, keep.id);
  const resolved: ResolvedDuplicate[] = [];
  for (const duplicate of live.filter((s) => s.id !== keep.id)) {
    // Recorded before Stripe is touched: a crash half-way leaves a "detected" row an admin can see.
    await ports.db.duplicateSubscription.createMany({
      data: [
        {
          accountId,
          stripeSubscriptionId: duplicate.id,
          keptStripeSubscriptionId: keep.id,
          stripeEventId: source.stripeEventId ?? null,
          detectedAt: ports.clock.now(),
        },
      ],
      skipDuplicates: true,
    });
    const key = `minutely-${accountId}-duplicate-${duplicate.id}`;
    await ports.billing.cancelSubscriptionNow(duplicate.id, `${key}-cancel`);
    const refunds = await ports.billing.refundSubscriptionPayments(duplicate.id, `${key}-refund`);
    await syncSubscription(ports, duplicate.id);
    const refundedCents = refunds.reduce((sum, r) => sum + r.amountCents, 0);
    const currency = refunds[0]?.currency ?? null;
    await tellTheOwner(ports, accountId, {
      duplicateId: duplicate.id,
      keptId: keep.id,
      refundedCents,
      currency,
    });
    const after = {
      status: "resolved" as const,
      refundedCents,
      currency,
      stripeRefundIds: refunds.map((r) => r.id),
      resolvedAt: ports.clock.now(),
    };
    await ports.db.$transaction(async (tx) => {
      // Only the run that resolves it writes the audit entry: a replay finds it resolved already.
      const { count } = await tx.duplicateSubscription.updateMany({
        where: { stripeSubscriptionId: duplicate.id, status: "detected" },
        data: after,
      });
      if (count === 0) return;
      await tx.auditLog.create({
        data: {
          actorUserId: null,
          actorEmail: SYSTEM_ACTOR_EMAIL,
          action: "subscription.duplicate_canceled",
          entityType: "account",
          entityId: accountId,
          before: { stripeSubscriptionId: duplicate.id, status: duplicate.status, kept: keep.id },
          after: {
            stripeSubscriptionId: duplicate.id,
            status: "canceled",
            kept: keep.id,
            refundedCents,
            currency,
            stripeRefundIds: after.stripeRefundIds,
          },
          createdAt: after.resolvedAt,
        },
      });
      resolved.push({
        stripeSubscriptionId: duplicate.id,
        keptStripeSubscriptionId: keep.id,
        refundedCents,
        currency,
      });
    });
  }
  return resolved;
}

async function planNameOf(ports: Ports, stripeSubscriptionId: string): Promise<string> {
  const row = await ports.db.subscription.findUnique({
    where: { stripeSubscriptionId },
    include: { plan: true },
  });
  return row?.plan.name ?? "the second";
}

/** The customer paid twice: say what happened (once: the mail is deduplicated by the duplicate's id). */
async function tellTheOwner(
  ports: Ports,
  accountId: string,
  what: { duplicateId: string; keptId: string; refundedCents: number; currency: string | null },
): Promise<void> {
  const owner = await ports.db.user.findFirst({
    where: { accountId, accountRole: "owner", account: { deletedAt: null } },
    orderBy: { createdAt: "asc" },
  });
  if (!owner) return;
  const canceled = await planNameOf(ports, what.duplicateId);
  const kept = await planNameOf(ports, what.keptId);
  const refund =
    what.currency && what.refundedCents > 0
      ? `We refunded its payment of ${(what.refundedCents / 100).toFixed(2)} ${what.currency.toUpperCase()} to your card.`
      : "Nothing had been charged for it.";
  await ports.mailer.send({
    to: owner.email,
    subject: "We canceled a second Minutely subscription and refunded it",
    text:
      `Your account was subscribed twice (two checkout pages were paid). You keep your ${kept} package; ` +
      `the second subscription (${canceled}) was canceled at once. ${refund}`,
    dedupeKey: `duplicate-subscription:${what.duplicateId}`,
  });
}

/** The duplicates found for an account, newest first (the admin's customer page). */
export async function duplicateSubscriptionsOf(ports: Pick<Ports, "db">, accountId: string) {
  const rows = await ports.db.duplicateSubscription.findMany({
    where: { accountId },
    orderBy: [{ detectedAt: "desc" }, { id: "desc" }],
    take: 50,
  });
  return rows.map((r) => ({
    stripeSubscriptionId: r.stripeSubscriptionId,
    keptStripeSubscriptionId: r.keptStripeSubscriptionId,
    status: r.status,
    refunded: r.currency ? { amount: r.refundedCents, currency: r.currency } : null,
    stripeRefundIds: r.stripeRefundIds,
    stripeEventId: r.stripeEventId,
    detectedAt: r.detectedAt,
    resolvedAt: r.resolvedAt,
  }));
}
