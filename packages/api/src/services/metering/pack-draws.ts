// Drawing a period's minutes beyond its included ones from the account's prepaid packs (the rules are the
// domain's minute-packs.ts): allowance -> packs -> overage (or the hard cap).
//
// - Called with the period's rollup row locked (ingestion's upsert, or lockPeriod), so draws of one period
//   serialize with its call authorizations and overage reports. The grants drawn from are locked too
//   (FOR UPDATE, in expiry order): a late call of a closed period, which holds another period's lock, and
//   the current period's ingestion then take turns on the same packs, and neither can overdraw one (the
//   CHECK remaining BETWEEN 0 AND minutes is the last word).
// - Only minutes not reported as overage yet are drawn: a minute already handed to Stripe is never drawn
//   from a pack bought later (it would be paid twice), and a minute drawn is never billed (overage is
//   `minutes - limit - pack_minutes_drawn`).
// - Packs are drawn if not expired at the account's now (its test clock's, if ahead).
import { allocatePackDraw, type PackGrantBalance } from "@minutely/domain";
import type { Db } from "../../db.ts";
import type { JobQueue } from "../../ports/queue.ts";
import type { SqlTransaction } from "../../sql-transaction.ts";

export interface PeriodPackState {
  accountId: string;
  periodStart: Date;
  /** Minutes used in the period (the locked row's). */
  minutesUsed: number;
  /** The governing plan's included minutes. */
  limit: number;
  /** Minutes drawn from packs so far (the locked row's pack_minutes_drawn). */
  drawn: number;
  /** Overage minutes already reported for billing (the locked row's overage_reported). */
  overageReported: number;
  /**
   * Whether the account's auto top-up is on and not stopped (undefined: read it when it matters). When packs
   * cannot cover what the period needs, a top-up is asked for even though nothing could be drawn.
   */
  autoTopUp?: boolean;
}

/** Minutes a period could still draw from packs: beyond the included ones, neither drawn nor reported. */
export function packDrawNeeded(state: Omit<PeriodPackState, "accountId" | "periodStart">): number {
  return Math.max(0, state.minutesUsed - state.limit - state.drawn - state.overageReported);
}

/**
 * Draws what the period needs from the account's unexpired packs, oldest-expiring first, as far as they
 * hold minutes; records the draws (pack_draw), lowers the grants' remaining minutes and raises the
 * period's pack_minutes_drawn. Returns the period's drawn minutes in total afterwards. No statement at all
 * when nothing is needed.
 */
export async function drawFromPacks(
  tx: SqlTransaction,
  queue: JobQueue,
  state: PeriodPackState,
  now: Date,
): Promise<number> {
  const needed = packDrawNeeded(state);
  if (needed === 0) return state.drawn;
  const grants = await tx.$queryRaw<{ id: string; remaining: number; expires_at: Date; granted_at: Date }[]>`
    SELECT id::text AS id, remaining, expires_at, granted_at FROM pack_grant
    WHERE account_id = ${state.accountId}::uuid AND remaining > 0 AND expires_at > ${now}
    ORDER BY expires_at, granted_at, id
    FOR UPDATE`;
  const balances: PackGrantBalance[] = grants.map((g) => ({
    id: g.id,
    remaining: g.remaining,
    expiresAt: g.expires_at,
    grantedAt: g.granted_at,
  }));
  const available = balances.reduce((sum, g) => sum + g.remaining, 0);
  const take = Math.min(needed, available);
  if (take === 0) {
    // Nothing to draw (no pack minutes, or only expired ones): the balance is below any threshold, and no
    // draw will ever enqueue a top-up again. Auto top-up decides (once a month's maximum is made, the job
    // finds it not due; a new month, or an expired pack, buys one).
    if (await autoTopUpOn(tx, state)) await enqueuePackTopUp(queue, state.accountId, tx);
    return state.drawn;
  }
  const draws = allocatePackDraw(balances, take, now);
  await tx.$executeRaw`
    WITH t AS (
      SELECT * FROM unnest(${draws.map((d) => d.grantId)}::uuid[], ${draws.map((d) => d.minutes)}::int[])
        AS t(grant_id, minutes)
    ), g AS (
      UPDATE pack_grant SET remaining = pack_grant.remaining - t.minutes
      FROM t WHERE pack_grant.id = t.grant_id AND pack_grant.account_id = ${state.accountId}::uuid
    ), d AS (
      INSERT INTO pack_draw (grant_id, account_id, period_start, minutes)
      SELECT t.grant_id, ${state.accountId}::uuid, ${state.periodStart}, t.minutes FROM t
      ON CONFLICT (grant_id, period_start) DO UPDATE SET minutes = pack_draw.minutes + EXCLUDED.minutes
    )
    UPDATE usage_period_rollup SET pack_minutes_drawn = pack_minutes_drawn + ${take}
    WHERE account_id = ${state.accountId}::uuid AND period_start = ${state.periodStart}`;
  // The balance fell: the account's auto top-up (services/packs/auto-top-up.ts) decides whether to buy.
  await enqueuePackTopUp(queue, state.accountId, tx);
  return state.drawn + take;
}

/** Asks the account's auto top-up to decide (services/packs/auto-top-up.ts; one pending job per account). */
export function enqueuePackTopUp(
  queue: JobQueue,
  accountId: string,
  db?: Parameters<JobQueue["enqueue"]>[3],
): Promise<void> {
  return queue.enqueue("pack-top-up", { accountId }, { jobKey: `pack-top-up:${accountId}` }, db);
}

async function autoTopUpOn(tx: SqlTransaction, state: PeriodPackState): Promise<boolean> {
  if (state.autoTopUp !== undefined) return state.autoTopUp;
  const [row] = await tx.$queryRaw<{ on: boolean }[]>`
    SELECT true AS on FROM account WHERE id = ${state.accountId}::uuid
      AND auto_top_up_pack_id IS NOT NULL AND auto_top_up_stopped_at IS NULL`;
  return row?.on === true;
}

/**
 * Pack minutes usable at `now` (unexpired grants' remaining), as SQL for a scalar subquery; filters by
 * account_id (hot path).
 */
export async function packMinutesAvailableAt(db: Db, accountId: string, now: Date): Promise<number> {
  const [row] = await db.$queryRaw<{ minutes: number }[]>`
    SELECT COALESCE(sum(remaining), 0)::int AS minutes FROM pack_grant
    WHERE account_id = ${accountId}::uuid AND remaining > 0 AND expires_at > ${now}`;
  return row?.minutes ?? 0;
}
