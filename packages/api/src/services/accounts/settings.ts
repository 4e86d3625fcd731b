// An account's settings: the company name and the billing email (where Stripe mails invoices). Saved to
// the Stripe customer first (when the account has one), then here, so a Stripe outage changes nothing.
import { createHash } from "node:crypto";
import type { Ports } from "../../context.ts";
import { AppError } from "../../errors.ts";

export interface AccountSettings {
  name: string;
  /** The address set for invoices, or null: they go to the owner's sign-in address. */
  billingEmail: string | null;
  /** Where invoices go now. */
  invoicesTo: string;
}

async function ownerEmailOf(ports: Pick<Ports, "db">, accountId: string): Promise<string | null> {
  const owner = await ports.db.user.findFirst({
    where: { accountId, accountRole: "owner", account: { deletedAt: null } },
    orderBy: { createdAt: "asc" },
    select: { email: true },
  });
  return owner?.email ?? null;
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
  ports: Pick<Ports, "db" | "billing">,
  accountId: string,
  input: { name?: string | undefined; billingEmail?: string | null | undefined },
): Promise<AccountSettings> {
  const account = await ports.db.account.findUnique({ where: { id: accountId } });
  if (!account) throw new AppError("NOT_FOUND", "No such account.");
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
