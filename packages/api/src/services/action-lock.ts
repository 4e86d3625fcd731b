// The account's action lock: one change to an account's subscription (or the account itself: deletion) at a
// time. Shared by the groups that change an account (subscriptions, accounts, admin), so it lives outside
// them, like audit.ts.
import { randomUUID } from "node:crypto";
import type { Ports } from "../context.ts";
import { AppError } from "../errors.ts";

/** How long an action may hold its account's lock before another may take it over (a crashed holder). */
const ACTION_LEASE_SECONDS = 120;
/** A running action renews its lease this often, so only a holder that died lets the lease run out. */
const ACTION_LEASE_RENEW_MS = 30_000;

/**
 * Runs `work` holding the account's action lock; a second concurrent action gets CONFLICT. The lock is a
 * lease row, not a transaction: holding a pooled connection while Stripe answers, with the work needing
 * more connections from the same pool, stalls the whole process once enough accounts act at once. The
 * lease is timed by the database's clock (shared by every replica; the app's clock may be a billing
 * simulation), renewed while the action runs, and runs out 2 minutes after a holder that died. A deleted
 * account is NOT_FOUND (unless `deletedAccount: "allow"`: the deletion's own retry).
 */
export async function withActionLock<T>(
  ports: Ports,
  accountId: string,
  work: () => Promise<T>,
  options: { deletedAccount?: "refuse" | "allow" } = {},
): Promise<T> {
  const holder = randomUUID();
  const taken = await ports.db.$executeRaw`
    INSERT INTO account_action_lock (account_id, holder, expires_at)
    VALUES (${accountId}::uuid, ${holder}::uuid, now() + make_interval(secs => ${ACTION_LEASE_SECONDS}))
    ON CONFLICT (account_id) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
    WHERE account_action_lock.expires_at <= now()`;
  if (taken === 0) {
    throw new AppError(
      "CONFLICT",
      "Another change to this subscription is in progress. Try again in a moment.",
    );
  }
  const renew = setInterval(() => {
    ports.db.$executeRaw`
      UPDATE account_action_lock SET expires_at = now() + make_interval(secs => ${ACTION_LEASE_SECONDS})
      WHERE account_id = ${accountId}::uuid AND holder = ${holder}::uuid`.catch(() => {
      // A missed renewal only shortens the lease; the next one, or the end of the action, follows.
    });
  }, ACTION_LEASE_RENEW_MS);
  renew.unref();
  try {
    // A deleted account takes no more changes (a request authorized before the deletion, an admin acting on
    // it): read once the lock is held, since the deletion holds it while it runs. Only the deletion itself,
    // answering a retry with what it did, acts on a deleted account.
    if (options.deletedAccount !== "allow") {
      const [row] = await ports.db.$queryRaw<{ deleted_at: Date | null }[]>`
        SELECT deleted_at FROM account WHERE id = ${accountId}::uuid`;
      if (!row || row.deleted_at) throw new AppError("NOT_FOUND", "No such account: it has been deleted.");
    }
    return await work();
  } finally {
    clearInterval(renew);
    await ports.db.$executeRaw`
      DELETE FROM account_action_lock WHERE account_id = ${accountId}::uuid AND holder = ${holder}::uuid`;
  }
}
