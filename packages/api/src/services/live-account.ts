// A write that adds to an account (a key, an agent, an alert threshold, a budget) must not land on an
// account deleted meanwhile: the request was authorized before the deletion committed, its write would come
// after. Shared by the groups that add to an account, like owner.ts.
import type { Db } from "../db.ts";
import { AppError } from "../errors.ts";

/**
 * Inside the write's transaction: reads the account row FOR SHARE, which waits for a deletion in progress
 * (it holds the row FOR UPDATE) and then sees `deleted_at`. A deleted (or unknown) account is NOT_FOUND and
 * the transaction writes nothing; one not deleted stays so until the write commits.
 */
export async function lockLiveAccount(tx: Db, accountId: string): Promise<void> {
  const [row] = await tx.$queryRaw<{ deleted_at: Date | null }[]>`
    SELECT deleted_at FROM account WHERE id = ${accountId}::uuid FOR SHARE`;
  if (!row || row.deleted_at) throw new AppError("NOT_FOUND", "No such account.");
}
