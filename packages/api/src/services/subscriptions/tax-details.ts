// The customer's billing address and tax ID: checked by the domain's rules (a 400 naming the field), then
// written to the Stripe customer (the system of record; Stripe Tax computes the tax from them and prints them
// on invoices). A verified EU VAT ID of another EU country makes the customer reverse charged (Stripe's
// `tax_exempt: reverse`); anything else is `none`. A live subscription made without Stripe Tax (before the
// address was known) gets it from its next invoice on.
import { randomUUID } from "node:crypto";
import {
  type BillingAddress,
  TAX_ID_TYPES,
  type TaxIdInput,
  validateBillingAddress,
  validateTaxId,
} from "@minutely/domain";
import type { Ports } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { ProviderResourceMissingError, TaxIdRefusedError } from "../../ports/billing.ts";
import { reverseChargeFor, type TaxDetailsView, taxDetailsViewOf } from "../billing/index.ts";
import { currentSubscription } from "./account-subscription.ts";
import { type AccountRef, ensureCustomer, withActionLock } from "./subscriptions.ts";

export { TAX_ID_TYPES };

export interface TaxDetailsInput {
  address: BillingAddress;
  /** The tax ID to print on invoices; null removes it. */
  taxId: TaxIdInput | null;
  /** One per intent: the same key is the same change at Stripe. */
  requestKey: string;
}

/** Sets the billing address and the tax ID (or none) on the account's Stripe customer. */
export async function updateTaxDetails(
  ports: Ports,
  account: AccountRef,
  input: TaxDetailsInput,
): Promise<TaxDetailsView> {
  const address = validateBillingAddress(input.address);
  if (!address.ok) throw new AppError("BAD_REQUEST", address.error.message, address.error.field);
  let taxId: TaxIdInput | null = null;
  if (input.taxId) {
    const checked = validateTaxId(input.taxId);
    if (!checked.ok) throw new AppError("BAD_REQUEST", checked.error.message, checked.error.field);
    taxId = checked.taxId;
  }
  const { customerId } = await ensureCustomer(ports, account);
  // One change of the account at a time (another tab's save, an upgrade): the reverse charge decided below
  // is the one of the tax ID and address this change wrote, not a mix with another's (a concurrent one is
  // a 409, its retry applies it whole).
  return await withActionLock(ports, account.accountId, () =>
    writeTaxDetails(ports, account, customerId, address.address, taxId, input.requestKey),
  );
}

async function writeTaxDetails(
  ports: Ports,
  account: AccountRef,
  customerId: string,
  address: BillingAddress,
  taxId: TaxIdInput | null,
  requestKey: string,
): Promise<TaxDetailsView> {
  const key = `minutely-${account.accountId}-tax-details-${requestKey}`;
  // Reverse charge off first, on again last: should Stripe fail between the writes (unreachable, its answer
  // lost), the customer is never left reverse charged on a tax ID or address that do not give it; it pays
  // VAT until the change is retried (fails closed).
  // Setting a value is idempotent by itself: these writes get a key of their own each time, as a key of
  // the intent would replay an earlier write of it at Stripe (a retry turning reverse charge off then on
  // again would have its "on" replayed, not done, and be left off).
  const once = (step: string) => `${key}-${step}-${randomUUID()}`;
  const before = await ports.billing.retrieveTaxDetails(customerId);
  if (before.taxExempt === "reverse") {
    await ports.billing.setTaxExempt(customerId, "none", once("exempt-none"));
  }
  // The tax ID first: should Stripe refuse it, the address is left as it was too.
  const details = await ports.billing
    .replaceTaxId(customerId, taxId, `${key}-tax-id`)
    .catch((error: unknown) => {
      if (error instanceof TaxIdRefusedError) {
        throw new AppError("BAD_REQUEST", "Stripe refused this tax ID: check its number.", "taxId.value");
      }
      throw error;
    });
  await ports.billing.setCustomerAddress(customerId, address, once("address"));
  const after = { ...details, address };
  const wanted = reverseChargeFor(after) ? "reverse" : "none";
  if (wanted === "reverse") {
    await ports.billing.setTaxExempt(customerId, "reverse", once("exempt-reverse"));
  } else if (after.taxExempt !== "none") {
    await ports.billing.setTaxExempt(customerId, "none", once("exempt-none"));
  }
  // A subscription made before the address was known (with a saved card, no Checkout) was created without
  // Stripe Tax: its next invoices are taxed from now on.
  const current = await currentSubscription(ports.db, account.accountId);
  if (current && !["canceled", "incomplete_expired"].includes(current.status)) {
    // Gone at Stripe (this database's row is stale): nothing to turn on.
    const remote = await ports.billing
      .retrieveSubscription(current.stripeSubscriptionId)
      .catch((error: unknown) => {
        if (error instanceof ProviderResourceMissingError) return null;
        throw error;
      });
    if (remote && !remote.automaticTax && remote.status !== "canceled") {
      await ports.billing.enableAutomaticTax(remote.id, `${key}-automatic-tax-${remote.id}`);
    }
  }
  return taxDetailsViewOf({ ...after, taxExempt: wanted });
}

/**
 * A customer's tax IDs or address changed at Stripe (its dashboard, a VAT ID's verification finishing or
 * failing): the reverse charge follows what Stripe now holds (`customer.tax_id.*`, `customer.updated`
 * webhooks). Written under the account's action lock with a fresh read, so it never undoes a change being
 * made here (a concurrent one is a CONFLICT and the event is retried). `exempt`, set by hand at Stripe, is
 * left as it is.
 */
export async function reconcileReverseCharge(ports: Ports, customerId: string): Promise<void> {
  const account = await ports.db.account.findFirst({
    where: { stripeCustomerId: customerId },
    select: { id: true, deletedAt: true },
  });
  // A deleted account's Stripe customer was scrubbed: nothing of it is reconciled any more.
  if (!account || account.deletedAt) return;
  const decide = async () => {
    const details = await ports.billing.retrieveTaxDetails(customerId);
    const wanted = reverseChargeFor(details) ? "reverse" : "none";
    return details.taxExempt === "exempt" || details.taxExempt === wanted ? null : wanted;
  };
  if ((await decide()) === null) return;
  await withActionLock(ports, account.id, async () => {
    const wanted = await decide();
    if (wanted !== null) {
      await ports.billing.setTaxExempt(
        customerId,
        wanted,
        `minutely-${account.id}-reverse-charge-${wanted}-${randomUUID()}`,
      );
    }
  });
}
