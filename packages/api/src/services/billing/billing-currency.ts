// The currency an account is billed in. Stripe fixes a customer's currency (`customer.currency`) at its
// first subscription or invoice item and refuses anything in another currency on that customer, even after
// every subscription ended. An account that never bought chooses the currency of its first purchase among
// those the package has a price in; once it has bought, every purchase is in that currency: the package
// selection marks packages without a price in it unavailable, and subscribe, upgrade, downgrade and Checkout
// to them are refused (409 naming packageId) before Stripe is called.
import { type Currency, parseCurrency } from "@minutely/domain";
import type { Ports } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { BillingCurrencyConflictError } from "../../ports/billing.ts";
import type { PackageView } from "../catalog/index.ts";

/**
 * The account's billing currency as this database knows it: the currency of its first subscription (the
 * currency its Stripe price bills in, stored by the sync), else of its first invoice, else of a balance credit
 * an admin gave it (Stripe fixes the customer's currency with it); null for an account that never bought.
 */
export async function accountBillingCurrency(
  ports: Pick<Ports, "db">,
  accountId: string,
): Promise<Currency | null> {
  const first = await ports.db.subscription.findFirst({
    where: { accountId },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    select: { currency: true },
  });
  if (first) return parseCurrency(first.currency);
  const invoice = await ports.db.billingHistory.findFirst({
    where: { accountId },
    orderBy: [{ issuedAt: "asc" }, { id: "asc" }],
    select: { currency: true },
  });
  if (invoice) return parseCurrency(invoice.currency);
  // A balance credit an admin made fixes the Stripe customer's currency too (before any purchase).
  const credit = await ports.db.invoiceAdjustment.findFirst({
    where: { accountId, kind: "balance_credit", status: "succeeded" },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    select: { currency: true },
  });
  return credit ? parseCurrency(credit.currency) : null;
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

/** Whether the account can buy a package, else why not. */
export type PackageAvailability = { available: true; reason: null } | { available: false; reason: string };

/** Whether the package has a price in `currency` (its own, or one of its prices in other currencies). */
function soldIn(pkg: Pick<PackageView, "currencyPrices">, currency: Currency): boolean {
  return pkg.currencyPrices.some((p) => p.monthlyPrice.currency === currency);
}

/**
 * Whether the account can buy the package: in its billing currency once it has one, else in the currency the
 * customer chose (`chosen`; absent: any the package is sold in).
 */
export function availabilityFor(
  billingCurrency: Currency | null,
  pkg: PackageView,
  chosen?: Currency,
): PackageAvailability {
  if (billingCurrency === null) {
    if (chosen === undefined || soldIn(pkg, chosen)) return { available: true, reason: null };
    return { available: false, reason: `${pkg.name} has no price in ${chosen.toUpperCase()}.` };
  }
  if (soldIn(pkg, billingCurrency)) return { available: true, reason: null };
  return {
    available: false,
    reason: `Your account is billed in ${billingCurrency.toUpperCase()}, and ${pkg.name} has no price in ${billingCurrency.toUpperCase()}.`,
  };
}

function conflict(billingCurrency: string | null, pkg: PackageView): AppError {
  if (billingCurrency === null) {
    return new AppError(
      "CONFLICT",
      `Your account is billed in another currency, and ${pkg.name} is not sold in it: choose another package.`,
      "packageId",
    );
  }
  const account = billingCurrency.toUpperCase();
  return new AppError(
    "CONFLICT",
    `Your account is billed in ${account}, and ${pkg.name} has no price in ${account}: choose a package sold in ${account}.`,
    "packageId",
  );
}

/**
 * The currency a purchase is made in: the one requested, else the account's billing currency (fixed at the
 * first purchase), else the package's own. Refused (409 naming `currency`) when the request names another
 * than the account's billing currency, or a currency the package has no price in.
 */
export function purchaseCurrency(
  billingCurrency: Currency | null,
  requested: Currency | undefined,
  pkg: PackageView,
): Currency {
  assertRequestedCurrency(billingCurrency, requested, pkg);
  return requested ?? billingCurrency ?? pkg.monthlyPrice.currency;
}

/**
 * Refuses a purchase's explicitly requested currency (409 naming `currency`) when it is not the account's
 * billing currency (fixed at the first purchase), or, for an account not billed yet, when the package has no
 * price in it. A request without a currency means the account's, else the package's own.
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
  if (!soldIn(pkg, requested)) {
    const sold = pkg.currencyPrices.map((p) => p.monthlyPrice.currency.toUpperCase()).join(", ");
    throw new AppError("CONFLICT", `${pkg.name} has no price in ${asked}: choose ${sold}.`, "currency");
  }
}

/** Refuses a package without a price in the account's billing currency (409 naming packageId). */
export function assertBillableIn(billingCurrency: Currency | null, pkg: PackageView): void {
  if (billingCurrency !== null && !soldIn(pkg, billingCurrency)) {
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
