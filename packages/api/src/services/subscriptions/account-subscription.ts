import { type AccountSubscriptionStatus, currentSubscriptionOf, grantsAccess } from "@minutely/domain";
import type { Db } from "../../db.ts";

/**
 * The subscription that currently describes an account, by the domain's one rule (`currentSubscriptionOf`:
 * the newest granting access, else the newest live, else the newest). Null when the account never subscribed.
 */
export async function currentSubscription(db: Db, accountId: string) {
  const subscriptions = await db.subscription.findMany({
    where: { accountId },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    include: { plan: true, scheduledPlan: true },
  });
  return currentSubscriptionOf(subscriptions);
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
