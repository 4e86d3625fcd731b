// The spend cap: a customer's monthly overage budget (the rules are the domain's spend-cap.ts).
//
// - Stored on the account (`overage_cap_cents`, `overage_cap_currency`: integer minor units in the billing
//   currency; null is no cap) and read with the metering context's one statement by call authorization and
//   ingestion, so it costs them no extra round trip.
// - Setting it is idempotent (the same value changes nothing and records nothing; the tRPC and REST edges
//   also replay by request key) and every change is written to the audit log as an `account` entry, the
//   customer's activity history the admin app shows.
// - Lowering it below the overage already billed denies outbound calls at once (and alerts 100% at once)
//   and reverses nothing (the spend shown is then what is billed, above the budget); raising or removing it
//   allows them again at once and asks `report-overage` to decide the current period again (minutes used
//   beyond the old budget are then billed up to the new one).
// - A change takes the current period's lock, as call authorization does, so an authorization racing it is
//   decided by the budget it commits. The current period's rollup row records the budget in force; once the
//   period has closed the record governs its late overage (a budget raised later bills none of it).
import {
  type Currency,
  MAX_SPEND_CAP_CENTS,
  MIN_SPEND_CAP_CENTS,
  type SpendCap,
  type SpendCapStatus,
  spendCapProblem,
  spendCapProblemMessage,
  spendCapStatus,
} from "@minutely/domain";
import type { Ports, Viewer } from "../../context.ts";
import type { Db } from "../../db.ts";
import { AppError } from "../../errors.ts";
import { writeAudit } from "../audit.ts";
import { enqueueOverageReport } from "./overage.ts";
import { type LockedPeriod, lockPeriod, recordPeriodSpendCapSql } from "./period-plans.ts";
import { loadAccountPeriod } from "./periods.ts";
import { METERING_TX_OPTIONS, type MeteringSubscription, storedSpendCap } from "./subscription.ts";
import { recordSpendCapChangeAlerts } from "./usage-alerts.ts";

export interface SpendCapView {
  /** The budget set, or null for none. */
  cap: SpendCap | null;
  /** Whether the account's package bills overage (only then can a budget be set). */
  available: boolean;
  /** The account's billing currency (the budget's), null before it subscribed. */
  currency: Currency | null;
  /** The current period against the budget (null without a budget or without an overage price). */
  status: SpendCapStatus | null;
  period: { start: Date; end: Date } | null;
  minCents: number;
  maxCents: number;
}

/** The budget, whether one can be set and where the current period stands against it. */
export async function spendCapView(
  ports: Pick<Ports, "db" | "clock">,
  accountId: string,
): Promise<SpendCapView> {
  const [current, cap] = await Promise.all([
    loadAccountPeriod(ports, accountId),
    storedSpendCap(ports.db, accountId),
  ]);
  const base = { cap, minCents: MIN_SPEND_CAP_CENTS, maxCents: MAX_SPEND_CAP_CENTS };
  if (!current) return { ...base, available: false, currency: null, status: null, period: null };
  const { subscription, period } = current;
  const rollup = await ports.db.usagePeriodRollup.findUnique({
    where: { accountId_periodStart: { accountId, periodStart: period.start } },
    select: { minutes: true, overageReported: true },
  });
  const price = subscription.plan.overagePrice;
  return {
    ...base,
    available: price !== null,
    currency: subscription.plan.currency,
    period: { start: period.start, end: period.end },
    status:
      cap && price && cap.currency === price.currency
        ? spendCapStatus({
            minutesUsed: rollup?.minutes ?? 0,
            limit: subscription.plan.callMinutesLimit,
            price,
            cap,
            // What is billed stays shown, even above a budget lowered since (nothing billed is reversed).
            billedOverageMinutes: rollup?.overageReported ?? 0,
          })
        : null,
  };
}

/**
 * Sets (or with `amountCents: null`, or null, removes) the account's budget. Refused with BAD_REQUEST naming
 * the field: not whole minor units, negative, above the maximum (`amountCents`), another currency than the
 * billing currency (`currency`, a removal's too), or a package without an overage price, or no subscription
 * (`amountCents`).
 *
 * A change takes the current period's lock (its rollup row, as call authorization and ingestion do) before
 * the account's row, records the new budget on the period's row (`recordPeriodSpendCapSql`: what governs
 * the period's overage once it has closed), records the budget then in force on closed periods that
 * recorded none, and checks the budget's alerts against the minutes used at once (a budget lowered below
 * the overage used pauses outbound calls and says so).
 */
export async function setSpendCap(
  ports: Pick<Ports, "db" | "clock" | "queue">,
  actor: Viewer,
  accountId: string,
  cap: { amountCents: number | null; currency: string } | null,
): Promise<SpendCapView> {
  const current = await loadAccountPeriod(ports, accountId);
  if (cap !== null && cap.amountCents === null && current) {
    // A removal names the currency too: it must be the billing currency.
    const billingCurrency = current.subscription.plan.currency;
    if (cap.currency !== billingCurrency) {
      throw new AppError(
        "BAD_REQUEST",
        spendCapProblemMessage("currency_mismatch", billingCurrency),
        "currency",
      );
    }
  }
  const wanted = cap === null || cap.amountCents === null ? null : { ...cap, amountCents: cap.amountCents };
  if (wanted !== null) {
    if (!current) {
      throw new AppError(
        "BAD_REQUEST",
        "Subscribe to a package with overage first: the budget caps overage.",
        "amountCents",
      );
    }
    const billingCurrency = current.subscription.plan.currency;
    const problem = spendCapProblem({
      amountCents: wanted.amountCents,
      currency: wanted.currency,
      billingCurrency,
      overageAllowed: current.subscription.plan.overagePrice !== null,
    });
    if (problem) {
      throw new AppError(
        "BAD_REQUEST",
        spendCapProblemMessage(problem, billingCurrency),
        problem === "currency_mismatch" ? "currency" : "amountCents",
      );
    }
  }
  const next: SpendCap | null =
    wanted === null ? null : { amountCents: wanted.amountCents, currency: wanted.currency as Currency };
  await ports.db.$transaction(async (tx) => {
    // The current period's lock first (the order authorization and ingestion take locks in): an
    // authorization waiting on it reads the budget after this change has committed. The account's row only
    // NO KEY UPDATE: rows referencing the account (events, reservations) take KEY SHARE on it, which must not
    // wait for this transaction while it holds the period's lock.
    const period = current
      ? await lockCurrentPeriod(tx, accountId, current.subscription, current.period, current.now)
      : null;
    // deleted_at read under the row lock: a deletion in progress holds the row FOR UPDATE; once it has
    // committed, the budget is not written onto the deleted account.
    const [row] = await tx.$queryRaw<
      { cents: number | null; currency: string | null; deleted_at: Date | null }[]
    >`
      SELECT overage_cap_cents AS cents, overage_cap_currency AS currency, deleted_at FROM account
      WHERE id = ${accountId}::uuid FOR NO KEY UPDATE`;
    if (!row || row.deleted_at) throw new AppError("NOT_FOUND", "No such account.");
    const before: SpendCap | null =
      row.cents === null || row.currency === null
        ? null
        : { amountCents: row.cents, currency: row.currency.trim().toLowerCase() as Currency };
    if (JSON.stringify(before) === JSON.stringify(next)) return;
    // Closed periods that recorded no budget were governed by the one in force until now.
    if (current) {
      await tx.$executeRaw`
        UPDATE usage_period_rollup SET spend_cap_recorded = true, spend_cap_cents = ${before?.amountCents ?? null}::int,
          spend_cap_currency = ${before?.currency ?? null}
        WHERE account_id = ${accountId}::uuid AND period_start < ${current.period.start}
          AND NOT spend_cap_recorded`;
    }
    await tx.$executeRaw`
      UPDATE account SET overage_cap_cents = ${next?.amountCents ?? null}::int,
        overage_cap_currency = ${next?.currency ?? null}, updated_at = ${ports.clock.now()}
      WHERE id = ${accountId}::uuid`;
    await writeAudit(
      tx,
      actor,
      {
        action: next === null ? "spend_cap.remove" : "spend_cap.set",
        entityType: "account",
        entityId: accountId,
        before: { spendCap: before },
        after: { spendCap: next },
      },
      ports.clock.now(),
    );
    if (current && period) {
      await tx.$executeRaw(recordPeriodSpendCapSql(accountId, current.period.start));
      const plan = period.plan ?? current.subscription.plan;
      // A lowered budget may be used up already: its alerts fire now, not with the next minute used.
      await recordSpendCapChangeAlerts(
        tx,
        ports.queue,
        {
          accountId,
          periodStart: current.period.start,
          periodEnd: current.period.end,
          minutesUsed: period.minutes,
          plan,
          before,
          after: next,
        },
        ports.clock.now(),
      );
      // A raised (or removed) budget may make minutes already used billable: decide the period again.
      if (plan.overagePrice !== null) {
        await enqueueOverageReport(ports.queue, accountId, current.period.start, tx);
      }
    }
  }, METERING_TX_OPTIONS);
  return await spendCapView(ports, accountId);
}

/** Creates (if needed) and locks the current period's rollup row, settling its plan (see lockPeriod). */
async function lockCurrentPeriod(
  tx: Db,
  accountId: string,
  subscription: MeteringSubscription,
  period: { start: Date; end: Date },
  now: Date,
): Promise<LockedPeriod | null> {
  await tx.$executeRaw`
    INSERT INTO usage_period_rollup (account_id, period_start, period_end, updated_at)
    VALUES (${accountId}::uuid, ${period.start}, ${period.end}, ${now})
    ON CONFLICT (account_id, period_start) DO NOTHING`;
  return await lockPeriod(tx, accountId, period.start, subscription);
}
