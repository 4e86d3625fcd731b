import type { Database } from "@minutely/db";

/**
 * A user with the account they own (the one sign-up made): `accountId` and `account` as tests read them.
 * Memberships live in `account_member`; this is the owner's one.
 */
export async function userWithAccount(db: Database, where: { email: string } | { id: string }) {
  const user = await db.user.findUniqueOrThrow({
    where: "email" in where ? { email: where.email } : { id: where.id },
    include: { memberships: { where: { role: "owner" }, include: { account: true } } },
  });
  const own = user.memberships[0];
  return { ...user, accountId: own?.accountId ?? null, account: own?.account ?? null };
}
