import type { Ports } from "../../context.ts";
import { accountBillingCurrency, availabilityFor } from "../billing/index.ts";
import { listAvailablePackages } from "../catalog/index.ts";
import { currentSubscription, needsPackageSelection } from "./account-subscription.ts";
import { trialOffers } from "./trials.ts";

/**
 * The package selection page of one account: what it can choose, and what it has. Once the account has
 * subscribed, its billing currency is fixed (Stripe's rule): packages in another currency are listed but
 * marked unavailable, with the reason. Each package says the trial subscribing to it would start (`trialOffer`).
 */
export async function packageSelection(ports: Pick<Ports, "db">, accountId: string) {
  const [{ packages, comparison }, subscription, billingCurrency] = await Promise.all([
    listAvailablePackages(ports),
    currentSubscription(ports.db, accountId),
    accountBillingCurrency(ports, accountId),
  ]);
  const needsSelection = needsPackageSelection(subscription);
  const offers = await trialOffers(ports, accountId, packages);
  return {
    packages: packages.map((p) => ({
      ...p,
      availability: availabilityFor(billingCurrency, p),
      /** The trial subscribing starts for this account (null: none; one trial per account, ever). */
      trialOffer: offers.get(p.id) ?? null,
    })),
    comparison,
    /** The currency the account is billed in (fixed by its first subscription); null before that. */
    billingCurrency,
    currentPackageId: needsSelection ? null : (subscription?.planId ?? null),
    needsPackageSelection: needsSelection,
  };
}
