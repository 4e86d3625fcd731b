import { type AccountSubscriptionStatus, grantsAccess, isLiveSubscription } from "@minutely/domain";
import type { Db } from "../ports/queue.ts";

/**
 * The subscription that currently describes an account: the newest live one (active, past_due, ...),
 * else the newest of any status. Null when the account never subscribed.
 */
export async function currentSubscription(db: Db, accountId: string) {
  const subscriptions = await db.subscription.findMany({
    where: { accountId },
    orderBy: { createdAt: "desc" },
    take: 10,
    include: { plan: true, scheduledPlan: true },
  });
  return subscriptions.find((s) => isLiveSubscription(s.status)) ?? subscriptions[0] ?? null;
}

export function accountStatusOf(
  subscription: { status: AccountSubscriptionStatus } | null,
): AccountSubscriptionStatus {
  return subscription?.status ?? "none";
}

/** True for an account without a subscription that grants access: it must pick a package. */
export function needsPackageSelection(subscription: { status: AccountSubscriptionStatus } | null): boolean {
  return !grantsAccess(accountStatusOf(subscription));
}
