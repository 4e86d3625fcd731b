// An account's settings: the company name and the billing email (where Stripe mails invoices). Saved to
// the Stripe customer first (when the account has one), then here, so a Stripe outage changes nothing.
import { createHash } from "node:crypto";
import type { Ports } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { withActionLock } from "../action-lock.ts";
import { ownerOf } from "../owner.ts";

export interface AccountSettings {
  name: string;
  /** The address set for invoices, or null: they go to the owner's sign-in address. */
  billingEmail: string | null;
  /** Where invoices go now. */
  invoicesTo: string;
}

async function ownerEmailOf(ports: Pick<Ports, "db">, accountId: string): Promise<string | null> {
  return (await ownerOf(ports.db, accountId))?.email ?? null;
}

export async function accountSettings(ports: Pick<Ports, "db">, accountId: string): Promise<AccountSettings> {
  const account = await ports.db.account.findUnique({
    where: { id: accountId },
    select: { name: true, billingEmail: true },
  });
  if (!account) throw new AppError("NOT_FOUND", "No such account.");
  const owner = await ownerEmailOf(ports, accountId);
  return { ...account, invoicesTo: account.billingEmail ?? owner ?? "" };
}

/**
 * Changes the company name and/or the billing email (null: back to the owner's address). The same values
 * again change nothing (and a replay of the request answers from its requestKey).
 */
export async function updateAccountSettings(
  ports: Ports,
  accountId: string,
  input: { name?: string | undefined; billingEmail?: string | null | undefined },
): Promise<AccountSettings> {
  // Under the account's action lock, as its deletion: a save racing the deletion either finishes first or
  // finds the account deleted, and never writes the name or billing email back (here or on the scrubbed
  // Stripe customer, which would mail its invoices there again).
  return await withActionLock(ports, accountId, () => updateLocked(ports, accountId, input));
}

async function updateLocked(
  ports: Ports,
  accountId: string,
  input: { name?: string | undefined; billingEmail?: string | null | undefined },
): Promise<AccountSettings> {
  const account = await ports.db.account.findUnique({ where: { id: accountId } });
  if (!account || account.deletedAt) throw new AppError("NOT_FOUND", "No such account.");
  const name = input.name ?? account.name;
  const billingEmail = input.billingEmail === undefined ? account.billingEmail : input.billingEmail;
  if (account.stripeCustomerId && (name !== account.name || billingEmail !== account.billingEmail)) {
    const email = billingEmail ?? (await ownerEmailOf(ports, accountId));
    if (email) {
      const values = createHash("sha256").update(`${name}\n${email}`).digest("hex").slice(0, 24);
      await ports.billing.updateCustomer(
        account.stripeCustomerId,
        { name, email },
        `minutely-account-${accountId}-customer-${values}`,
      );
    }
  }
  await ports.db.account.update({ where: { id: accountId }, data: { name, billingEmail } });
  return await accountSettings(ports, accountId);
}
