import type { Ports } from "../context.ts";

/**
 * The owner of an account (exactly one: `account_member_one_owner_key`): the person told about the account
 * (payment failures, trials, alerts, refunds) and whose address invoices go to unless a billing email is set.
 * A deleted account has no owner: it is mailed nothing (docs/accounts.md).
 */
export async function ownerOf(
  db: Ports["db"],
  accountId: string,
): Promise<{ id: string; email: string; name: string } | null> {
  const member = await db.accountMember.findFirst({
    where: { accountId, role: "owner", account: { deletedAt: null } },
    select: { user: { select: { id: true, email: true, name: true } } },
  });
  return member?.user ?? null;
}
