// Tax: the billing address and tax ID live on the Stripe customer (Stripe is the system of record) and Stripe
// Tax (`automatic_tax`) computes the tax from them. This reads them for people and answers whether Stripe can
// compute tax for the account; the rules are packages/domain `tax.ts`.
import {
  type BillingAddress,
  hasTaxLocation,
  reverseChargeApplies,
  TAX_ID_TYPES,
  type TaxIdType,
} from "@minutely/domain";
import type { Ports } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { type ProviderTaxDetails, TaxLocationRequiredError } from "../../ports/billing.ts";

export interface TaxDetailsView {
  /** The billing address on the invoices; null until entered (here or in Checkout). */
  address: BillingAddress | null;
  /** The tax ID printed on the invoices, with Stripe's verification; null: none. */
  taxId: { type: TaxIdType; value: string; verification: string } | null;
  /** Whether invoices are reverse charged (no VAT: a verified EU VAT ID of another EU country). */
  reverseCharge: boolean;
  /** Whether Stripe Tax can compute tax (a country; the state too in the US and Canada). */
  taxLocationKnown: boolean;
}

const isTaxIdType = (type: string): type is TaxIdType => (TAX_ID_TYPES as readonly string[]).includes(type);

export function taxDetailsViewOf(details: ProviderTaxDetails | null): TaxDetailsView {
  const address = details?.address ?? null;
  const first = details?.taxIds.find((t) => isTaxIdType(t.type)) ?? null;
  const taxId =
    first && isTaxIdType(first.type)
      ? { type: first.type, value: first.value, verification: first.verification }
      : null;
  return {
    address,
    taxId,
    reverseCharge: details?.taxExempt === "reverse",
    taxLocationKnown: hasTaxLocation(address),
  };
}

/** The account's billing address and tax ID as Stripe has them (nothing before its Stripe customer exists). */
export async function taxDetailsOf(
  ports: Pick<Ports, "db" | "billing">,
  accountId: string,
): Promise<TaxDetailsView> {
  const account = await ports.db.account.findUnique({
    where: { id: accountId },
    select: { stripeCustomerId: true },
  });
  if (!account?.stripeCustomerId) return taxDetailsViewOf(null);
  return taxDetailsViewOf(await ports.billing.retrieveTaxDetails(account.stripeCustomerId));
}

/** Whether Stripe Tax can compute tax for this customer (its address as Stripe has it). */
export async function accountHasTaxLocation(
  ports: Pick<Ports, "billing">,
  customerId: string,
): Promise<boolean> {
  return hasTaxLocation((await ports.billing.retrieveTaxDetails(customerId)).address);
}

/** Whether the customer's details make its invoices reverse charged (the domain's rule). */
export function reverseChargeFor(details: ProviderTaxDetails): boolean {
  const view = taxDetailsViewOf(details);
  return reverseChargeApplies(
    view.address,
    view.taxId ? { ...view.taxId, verified: view.taxId.verification === "verified" } : null,
  );
}

/** The message for an action Stripe Tax cannot price without the billing address: a 409 naming `address`. */
export const ADDRESS_FIRST =
  "Enter your billing address first (Billing → Billing address): tax on your invoices depends on it.";

/** Stripe's refusal to compute tax without a location becomes a 409 naming `address`; others pass through. */
export function fromTaxLocationRequired(error: unknown): never {
  if (error instanceof TaxLocationRequiredError) throw new AppError("CONFLICT", ADDRESS_FIRST, "address");
  throw error;
}
