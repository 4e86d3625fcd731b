// The package that governs a billing period, recorded on the period's rollup row (usage_period_rollup):
// the subscription's plan while the period is current, the record once it has closed. Locking a period's
// row, settling and writing its plan, and the minutes it holds.
import { Prisma } from "@minutely/db";
import {
  isCurrency,
  type PeriodPlanTerms,
  type SpendCap,
  shouldRecordPeriodPlan,
  type VersionedPeriodPlan,
} from "@minutely/domain";
import type { Db } from "../../db.ts";
import type { SqlTransaction } from "../../sql-transaction.ts";
import { isCurrentPeriodOf } from "./periods.ts";
import { loadMeteringSubscription, type MeteringSubscription } from "./subscription.ts";

/** The terms a period records: those of the plan it is metered and billed by. */
export type PeriodPlan = PeriodPlanTerms;

/** The columns of usage_period_rollup that record a period's plan (select them in raw queries). */
export interface PeriodPlanColumns {
  plan_id: string | null;
  call_minutes_limit: number | null;
  overage_price_cents_per_minute: number | null;
  currency: string | null;
  /** As text: BIGINT does not fit a JS number. */
  plan_sync_ticket: string;
}

/** SQL list of {@link PeriodPlanColumns} for a RETURNING or SELECT on usage_period_rollup. */
export const PERIOD_PLAN_COLUMNS = Prisma.sql`plan_id, call_minutes_limit, overage_price_cents_per_minute,
  currency, plan_sync_ticket::text AS plan_sync_ticket`;

/** The plan a rollup row records, or null when none is recorded yet. */
export function recordedPeriodPlan(row: PeriodPlanColumns): VersionedPeriodPlan | null {
  if (row.call_minutes_limit === null || row.currency === null) return null;
  const currency = row.currency.trim().toLowerCase();
  if (!isCurrency(currency))
    throw new Error(`a usage period records an unsupported currency "${row.currency}"`);
  return {
    planId: row.plan_id,
    callMinutesLimit: row.call_minutes_limit,
    overagePrice:
      row.overage_price_cents_per_minute === null
        ? null
        : { amount: row.overage_price_cents_per_minute, currency },
    currency,
    version: BigInt(row.plan_sync_ticket),
  };
}

/** What a read of the subscription offers as the plan of a period. */
function offeredPeriodPlan(subscription: MeteringSubscription): VersionedPeriodPlan {
  const { plan } = subscription;
  return {
    planId: plan.id,
    callMinutesLimit: plan.callMinutesLimit,
    overagePrice: plan.overagePrice,
    currency: plan.currency,
    version: subscription.syncTicket,
  };
}

export interface PeriodPlanSettlement {
  accountId: string;
  periodStart: Date;
  /** What the period's rollup row records, read under this transaction's lock on the row. */
  recorded: VersionedPeriodPlan | null;
  /** The account's subscription as read for this work (null: none, only the record counts). */
  subscription: MeteringSubscription | null;
}

/**
 * Settles which plan governs each period (the domain's `shouldRecordPeriodPlan`: the subscription's plan
 * while the period is current, the record once it has closed) and writes the records that change. The
 * rows must be locked by this transaction already (their upsert, or SELECT … FOR UPDATE), so `recorded`
 * is what they hold and the write cannot deadlock. Returns the governing plan of each, in input order.
 */
export async function settlePeriodPlans(
  tx: SqlTransaction,
  periods: readonly PeriodPlanSettlement[],
): Promise<(PeriodPlan | null)[]> {
  const changes: { accountId: string; periodStart: Date; plan: VersionedPeriodPlan }[] = [];
  const governing = periods.map(({ accountId, periodStart, recorded, subscription }) => {
    if (!subscription) return recorded;
    const offered = offeredPeriodPlan(subscription);
    const periodIsCurrent = isCurrentPeriodOf(subscription, periodStart);
    if (!shouldRecordPeriodPlan({ recorded, offered, periodIsCurrent })) return recorded;
    changes.push({ accountId, periodStart, plan: offered });
    return offered;
  });
  if (changes.length > 0) await writePeriodPlans(tx, changes);
  return governing.map((plan) => (plan === null ? null : withoutVersion(plan)));
}

function withoutVersion({ version: _version, ...terms }: VersionedPeriodPlan): PeriodPlan {
  return terms;
}

async function writePeriodPlans(
  tx: SqlTransaction,
  changes: readonly { accountId: string; periodStart: Date; plan: VersionedPeriodPlan }[],
): Promise<void> {
  await tx.$executeRaw`
    UPDATE usage_period_rollup r SET
      plan_id = t.plan_id,
      call_minutes_limit = t.call_minutes_limit,
      overage_price_cents_per_minute = t.overage_price,
      currency = t.currency,
      plan_sync_ticket = t.ticket
    FROM unnest(
      ${changes.map((c) => c.accountId)}::uuid[],
      ${changes.map((c) => c.periodStart)}::timestamptz[],
      ${changes.map((c) => c.plan.planId)}::uuid[],
      ${changes.map((c) => c.plan.callMinutesLimit)}::int[],
      ${changes.map((c) => c.plan.overagePrice?.amount ?? null)}::int[],
      ${changes.map((c) => c.plan.currency)}::text[],
      ${changes.map((c) => c.plan.version.toString())}::text[]::bigint[]
    ) AS t(account_id, period_start, plan_id, call_minutes_limit, overage_price, currency, ticket)
    WHERE r.account_id = t.account_id AND r.period_start = t.period_start`;
}

/** A period's rollup row, locked by the transaction, with the plan that governs the period. */
export interface LockedPeriod {
  /**
   * The overage budget the period records (see {@link recordPeriodSpendCapSql}): `recorded` false when none is
   * recorded yet, else `cap` (null: no budget).
   */
  spendCap: { recorded: false } | { recorded: true; cap: SpendCap | null };
  periodEnd: Date;
  minutes: number;
  overageReported: number;
  /** Minutes beyond the included ones drawn from prepaid packs (never billed as overage). */
  packMinutesDrawn: number;
  /** Bumped when an upgrade withdrew the period's reported overage (bills decided before are void). */
  overageEpoch: number;
  /** Null only when the period records no plan and there is no subscription to take one from. */
  plan: PeriodPlan | null;
}

/**
 * Locks a period's rollup row (SELECT … FOR UPDATE) and settles the plan that governs the period
 * (`settlePeriodPlans`), for the work that reads the row and acts on it in the same transaction: call
 * authorization, overage reports, a plan change. Null when the period has no row yet.
 */
export async function lockPeriod(
  tx: Db,
  accountId: string,
  periodStart: Date,
  subscription: MeteringSubscription | null,
): Promise<LockedPeriod | null> {
  const [row] = await tx.$queryRaw<
    ({
      period_end: Date;
      minutes: number;
      overage_reported: number;
      pack_minutes_drawn: number;
      overage_epoch: number;
      spend_cap_recorded: boolean;
      spend_cap_cents: number | null;
      spend_cap_currency: string | null;
    } & PeriodPlanColumns)[]
  >`
    SELECT period_end, minutes, overage_reported, pack_minutes_drawn, overage_epoch, spend_cap_recorded, spend_cap_cents,
      spend_cap_currency, ${PERIOD_PLAN_COLUMNS} FROM usage_period_rollup
    WHERE account_id = ${accountId}::uuid AND period_start = ${periodStart}
    FOR UPDATE`;
  if (!row) return null;
  const [plan] = await settlePeriodPlans(tx, [
    { accountId, periodStart, recorded: recordedPeriodPlan(row), subscription },
  ]);
  const capCurrency = row.spend_cap_currency?.trim().toLowerCase() ?? null;
  return {
    spendCap: !row.spend_cap_recorded
      ? { recorded: false }
      : {
          recorded: true,
          cap:
            row.spend_cap_cents === null || capCurrency === null || !isCurrency(capCurrency)
              ? null
              : { amountCents: row.spend_cap_cents, currency: capCurrency },
        },
    periodEnd: row.period_end,
    minutes: row.minutes,
    overageReported: row.overage_reported,
    packMinutesDrawn: row.pack_minutes_drawn,
    overageEpoch: row.overage_epoch,
    plan: plan ?? null,
  };
}

/**
 * After the account's subscription changed plan: its current period records the new plan at once (an
 * upgrade applies to the whole current period), so usage of that period reported only after it has closed
 * is still measured and billed by it. A period without a row yet records its plan with its first call,
 * usage or overage report. Call inside the transaction that wrote the subscription.
 */
export async function settleCurrentPeriodPlan(tx: Db, accountId: string): Promise<void> {
  const subscription = await loadMeteringSubscription(tx, accountId);
  if (subscription) await lockPeriod(tx, accountId, subscription.currentPeriodStart, subscription);
}

/**
 * The overage budget that governs a period, recorded on its rollup row: while the period is current, the
 * account's budget in force (written by every change of the budget, under the period's lock, and by call
 * authorization and overage reports when it is not recorded yet); once the period has closed nothing
 * writes it any more, so a late call of a closed period is billed by the budget in force when the period
 * closed, whatever the budget is later. SQL of one UPDATE (usable as a data-modifying WITH) that records the
 * account's budget now on the period's row, when it differs; the row must be locked by the transaction.
 */
export function recordPeriodSpendCapSql(accountId: string, periodStart: Date): Prisma.Sql {
  return Prisma.sql`
    UPDATE usage_period_rollup r SET spend_cap_recorded = true, spend_cap_cents = account.overage_cap_cents,
      spend_cap_currency = account.overage_cap_currency
    FROM account
    WHERE account.id = ${accountId}::uuid AND r.account_id = ${accountId}::uuid AND r.period_start = ${periodStart}
      AND (NOT r.spend_cap_recorded OR r.spend_cap_cents IS DISTINCT FROM account.overage_cap_cents
        OR r.spend_cap_currency IS DISTINCT FROM account.overage_cap_currency)`;
}

/** Minutes used in a period, from its rollup (0 before the first event). */
export async function periodMinutes(db: Db, accountId: string, periodStart: Date): Promise<number> {
  const row = await db.usagePeriodRollup.findUnique({
    where: { accountId_periodStart: { accountId, periodStart } },
    select: { minutes: true },
  });
  return row?.minutes ?? 0;
}
