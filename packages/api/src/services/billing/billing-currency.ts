// The currency an account is billed in. Stripe fixes a customer's currency (`customer.currency`) at its
// first subscription or invoice item and refuses anything in another currency on that customer, even after
// every subscription ended. So once an account has subscribed, only packages in that currency can be bought
// by it: the package selection marks the others unavailable, and subscribe, upgrade, downgrade and Checkout
// to them are refused (409 naming packageId) before Stripe is called.
import { type Currency, parseCurrency } from "@minutely/domain";
import type { Ports } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { BillingCurrencyConflictError } from "../../ports/billing.ts";
import type { PackageView } from "../catalog/index.ts";

/**
 * The account's billing currency as this database knows it: the currency of its first subscription (a
 * package's currency never changes once it has a Stripe price), else of its first invoice; null for an
 * account that never subscribed.
 */
export async function accountBillingCurrency(
  ports: Pick<Ports, "db">,
  accountId: string,
): Promise<Currency | null> {
  const first = await ports.db.subscription.findFirst({
    where: { accountId },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    select: { plan: { select: { currency: true } } },
  });
  if (first) return parseCurrency(first.plan.currency);
  const invoice = await ports.db.billingHistory.findFirst({
    where: { accountId },
    orderBy: [{ issuedAt: "asc" }, { id: "asc" }],
    select: { currency: true },
  });
  return invoice ? parseCurrency(invoice.currency) : null;
}

/**
 * The account's billing currency for an action about to call Stripe: Stripe's own `customer.currency` when
 * the account has a Stripe customer (it also knows what this database has not synced yet, such as a
 * Checkout paid a moment ago), else what this database knows.
 */
export async function authoritativeBillingCurrency(
  ports: Pick<Ports, "db" | "billing">,
  accountId: string,
  customerId: string | null,
): Promise<Currency | null> {
  const known = await accountBillingCurrency(ports, accountId);
  if (!customerId) return known;
  const remote = await ports.billing.retrieveCustomerCurrency(customerId);
  return (remote === null ? null : parseCurrency(remote)) ?? known;
}

/** Whether the account can buy a package: only in its billing currency, once it has one. */
export type PackageAvailability = { available: true; reason: null } | { available: false; reason: string };

export function availabilityFor(billingCurrency: Currency | null, pkg: PackageView): PackageAvailability {
  if (billingCurrency === null || pkg.monthlyPrice.currency === billingCurrency) {
    return { available: true, reason: null };
  }
  return { available: false, reason: `Your account is billed in ${billingCurrency.toUpperCase()}.` };
}

function conflict(billingCurrency: string | null, pkg: PackageView): AppError {
  const priced = pkg.monthlyPrice.currency.toUpperCase();
  if (billingCurrency === null) {
    return new AppError(
      "CONFLICT",
      `Your account is billed in another currency than ${pkg.name} (${priced}): choose a package in your account's currency.`,
      "packageId",
    );
  }
  const account = billingCurrency.toUpperCase();
  return new AppError(
    "CONFLICT",
    `Your account is billed in ${account}, and ${pkg.name} is priced in ${priced}: choose a package in ${account}.`,
    "packageId",
  );
}

/**
 * Refuses a purchase's explicitly requested currency (409 naming `currency`) when it is not the account's
 * billing currency (fixed at the first purchase), or, for an account not billed yet, when the package cannot
 * be bought in it. For now a package is sold in its own currency only: its prices in other currencies
 * (catalog `currencyPrices`) are stored and synced to Stripe but not sold until metering, invoices and the
 * subscription views read the price of the subscription's currency (docs/billing.md). A request without a
 * currency means the account's, else the package's own.
 */
export function assertRequestedCurrency(
  billingCurrency: Currency | null,
  requested: Currency | undefined,
  pkg: PackageView,
): void {
  if (requested === undefined) return;
  const asked = requested.toUpperCase();
  if (billingCurrency !== null && requested !== billingCurrency) {
    const account = billingCurrency.toUpperCase();
    throw new AppError(
      "CONFLICT",
      `Your account is billed in ${account}: every purchase is made in ${account}, not ${asked}.`,
      "currency",
    );
  }
  const own = pkg.monthlyPrice.currency;
  if (requested !== own) {
    const sold = own.toUpperCase();
    const priced = pkg.currencyPrices.some((p) => p.monthlyPrice.currency === requested);
    throw new AppError(
      "CONFLICT",
      priced
        ? `${pkg.name} is sold in ${sold} for now, not in ${asked}: choose ${sold}.`
        : `${pkg.name} has no price in ${asked}: choose ${sold}.`,
      "currency",
    );
  }
}

/** Refuses a package in another currency than the account's (409 naming packageId). */
export function assertBillableIn(billingCurrency: Currency | null, pkg: PackageView): void {
  if (billingCurrency !== null && pkg.monthlyPrice.currency !== billingCurrency) {
    throw conflict(billingCurrency, pkg);
  }
}

/**
 * Stripe's own refusal to combine currencies (Minutely's check raced a change, or its data was stale)
 * becomes the same 409 as the check; any other error passes through.
 */
export function fromCurrencyConflict(error: unknown, pkg: PackageView): never {
  if (error instanceof BillingCurrencyConflictError) {
    throw conflict(error.customerCurrency, pkg);
  }
  throw error;
}
