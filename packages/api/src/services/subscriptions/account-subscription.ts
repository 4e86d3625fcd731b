import { type AccountSubscriptionStatus, currentSubscriptionOf, grantsAccess } from "@minutely/domain";
import type { Db } from "../../db.ts";
import { WITH_CURRENCY_PRICES, WITH_SUBSCRIBED_PRICES } from "../catalog/index.ts";

/**
 * The subscription that currently describes an account, by the domain's one rule (`currentSubscriptionOf`:
 * the newest granting access, else the newest live, else the newest). Null when the account never subscribed.
 */
export async function currentSubscription(db: Db, accountId: string) {
  const subscriptions = await db.subscription.findMany({
    where: { accountId },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    // The packages with their prices per currency: a subscription is priced in its own currency.
    include: { plan: { include: WITH_SUBSCRIBED_PRICES }, scheduledPlan: { include: WITH_CURRENCY_PRICES } },
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
