// The spend cap: a customer's monthly overage budget (the rules are the domain's spend-cap.ts).
//
// - Stored on the account (`overage_cap_cents`, `overage_cap_currency`: integer minor units in the billing
//   currency; null is no cap) and read with the metering context's one statement by call authorization and
//   ingestion, so it costs them no extra round trip.
// - Setting it is idempotent (the same value changes nothing and records nothing; the tRPC and REST edges
//   also replay by request key) and every change is written to the audit log as an `account` entry, the
//   customer's activity history the admin app shows.
// - Lowering it below the overage already billed denies outbound calls at once and reverses nothing;
//   raising or removing it allows them again at once and asks `report-overage` to decide the current period
//   again (minutes used beyond the old budget are then billed up to the new one).
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
import { AppError } from "../../errors.ts";
import { writeAudit } from "../audit.ts";
import { enqueueOverageReport } from "./overage.ts";
import { loadAccountPeriod } from "./periods.ts";
import { METERING_TX_OPTIONS, storedSpendCap } from "./subscription.ts";

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
    select: { minutes: true },
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
          })
        : null,
  };
}

/**
 * Sets (or with null removes) the account's budget. Refused with BAD_REQUEST naming the field: not whole
 * minor units, negative, above the maximum (`amountCents`), another currency than the billing currency
 * (`currency`), or a package without an overage price, or no subscription (`amountCents`).
 */
export async function setSpendCap(
  ports: Pick<Ports, "db" | "clock" | "queue">,
  actor: Viewer,
  accountId: string,
  cap: { amountCents: number; currency: string } | null,
): Promise<SpendCapView> {
  const current = await loadAccountPeriod(ports, accountId);
  if (cap !== null) {
    if (!current) {
      throw new AppError(
        "BAD_REQUEST",
        "Subscribe to a package with overage first: the budget caps overage.",
        "amountCents",
      );
    }
    const billingCurrency = current.subscription.plan.currency;
    const problem = spendCapProblem({
      amountCents: cap.amountCents,
      currency: cap.currency,
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
  const next = cap === null ? null : { amountCents: cap.amountCents, currency: cap.currency as Currency };
  await ports.db.$transaction(async (tx) => {
    const [row] = await tx.$queryRaw<{ cents: number | null; currency: string | null }[]>`
      SELECT overage_cap_cents AS cents, overage_cap_currency AS currency FROM account
      WHERE id = ${accountId}::uuid FOR UPDATE`;
    if (!row) throw new AppError("NOT_FOUND", "This account does not exist.", "accountId");
    const before =
      row.cents === null || row.currency === null
        ? null
        : { amountCents: row.cents, currency: row.currency.trim().toLowerCase() };
    if (JSON.stringify(before) === JSON.stringify(next)) return;
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
    // A raised (or removed) budget may make minutes already used billable: decide the period again.
    if (current && current.subscription.plan.overagePrice !== null) {
      await enqueueOverageReport(ports.queue, accountId, current.period.start, tx);
    }
  }, METERING_TX_OPTIONS);
  return await spendCapView(ports, accountId);
}
