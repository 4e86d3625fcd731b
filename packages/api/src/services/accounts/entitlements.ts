// What an account may use right now: the domain's entitlementsFor over the subscription metering follows
// (the newest one granting access, else the newest), and the analytics gate of the analytics procedures.

import type { Subscription } from "@minutely/db";
import {
  type AccountSubscriptionStatus,
  currentSubscriptionOf,
  type Entitlements,
  entitlementsFor,
} from "@minutely/domain";
import type { Ports } from "../../context.ts";
import { AppError } from "../../errors.ts";
import {
  type PackageView,
  type PlanRow,
  subscribedPackageView,
  toPlanDefinition,
  WITH_SUBSCRIBED_PRICES,
} from "../catalog/index.ts";

export interface AccountEntitlements {
  entitlements: Entitlements;
  status: AccountSubscriptionStatus;
  /**
   * The package of the subscription the entitlements come from, priced in the subscription's currency (null
   * when the account never subscribed).
   */
  package: PackageView | null;
}

export async function accountEntitlements(
  { db }: Pick<Ports, "db">,
  accountId: string,
): Promise<AccountEntitlements> {
  const rows = await db.subscription.findMany({
    where: { accountId },
    include: { plan: { include: WITH_SUBSCRIBED_PRICES } },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
  });
  return entitlementsOf(rows);
}

/** The entitlements of an account from its subscriptions with their packages, newest first. */
export function entitlementsOf(
  newestFirst: readonly (Pick<Subscription, "status" | "currency" | "stripePriceId"> & { plan: PlanRow })[],
): AccountEntitlements {
  const chosen = currentSubscriptionOf(newestFirst);
  if (!chosen) return { entitlements: entitlementsFor(null, "none"), status: "none", package: null };
  const view = subscribedPackageView(chosen.plan, chosen);
  return {
    entitlements: entitlementsFor(toPlanDefinition(view), chosen.status),
    status: chosen.status,
    package: view,
  };
}

/**
 * Refuses (FORBIDDEN) unless the account's package includes analytics and its subscription grants access.
 * The per-agent and per-direction breakdowns and the analytics page go through this gate; the usage total
 * and the daily series are basic usage every package shows.
 */
export async function requireAnalytics(ports: Pick<Ports, "db">, accountId: string): Promise<void> {
  const { entitlements, package: current } = await accountEntitlements(ports, accountId);
  if (entitlements.analytics) return;
  let message: string;
  if (!current) {
    message = "Analytics come with a package that includes them: choose one first.";
  } else if (!entitlements.hasAccess) {
    message = "Your subscription is not active, so analytics are unavailable. Renew or choose a package.";
  } else {
    message = `Your ${current.name} package does not include analytics. Upgrade to a package with analytics to see them.`;
  }
  throw new AppError("FORBIDDEN", message);
}
