import type { Currency } from "@minutely/domain";
import type { Ports } from "../../context.ts";
import { accountBillingCurrency, availabilityFor } from "../billing/index.ts";
import { listAvailablePackages, type PackageView, priceIn, subscribedPackageView } from "../catalog/index.ts";
import { currentSubscription, needsPackageSelection } from "./account-subscription.ts";
import { trialOffers } from "./trials.ts";

/**
 * The package priced in `currency` (its monthly and overage prices in it), or as it is when it has no price
 * in it (its availability then says why it cannot be bought).
 */
function pricedIn(pkg: PackageView, currency: Currency): PackageView {
  const price = priceIn(pkg, currency);
  return price ? { ...pkg, ...price } : pkg;
}

/**
 * The package selection page of one account: what it can choose, and what it has. Prices are shown in the
 * account's billing currency once it has one (fixed by its first purchase, Stripe's rule), else in the
 * currency the customer chose (`currency`; absent: each package's own). A package without a price in that
 * currency is listed in its own currency and marked unavailable, with the reason. Each package says the
 * trial subscribing to it would start (`trialOffer`).
 */
export async function packageSelection(ports: Pick<Ports, "db">, accountId: string, currency?: Currency) {
  const [{ packages, comparison }, subscription, billingCurrency] = await Promise.all([
    listAvailablePackages(ports),
    currentSubscription(ports.db, accountId),
    accountBillingCurrency(ports, accountId),
  ]);
  const needsSelection = needsPackageSelection(subscription);
  const offers = await trialOffers(ports, accountId, packages);
  const shownIn = billingCurrency ?? currency ?? null;
  const listed = shownIn === null ? packages : packages.map((p) => pricedIn(p, shownIn));
  // The package subscribed to is shown at what the subscription pays (its own Stripe price: a subscriber keeps
  // their price after an admin changes it), so upgrades and downgrades are judged from it.
  const priced =
    subscription && !needsSelection
      ? listed.map((p) => {
          if (p.id !== subscription.planId) return p;
          const paying = subscribedPackageView(subscription.plan, subscription).monthlyPrice;
          return paying.currency === p.monthlyPrice.currency ? { ...p, monthlyPrice: paying } : p;
        })
      : listed;
  return {
    packages: priced.map((p) => ({
      ...p,
      availability: availabilityFor(billingCurrency, p, currency),
      /** The trial subscribing starts for this account (null: none; one trial per account, ever). */
      trialOffer: offers.get(p.id) ?? null,
    })),
    comparison: shownIn === null ? comparison : (await listAvailablePackages(ports, shownIn)).comparison,
    /** The currency the account is billed in (fixed by its first subscription); null before that. */
    billingCurrency,
    /** The currency the prices are shown in (the billing currency, else the one chosen); null: each its own. */
    currency: shownIn,
    currentPackageId: needsSelection ? null : (subscription?.planId ?? null),
    needsPackageSelection: needsSelection,
  };
}
