// Revenue, computed from Minutely's own records (never from Stripe's reports):
// - MRR: the monthly price of every subscription that pays (domain `countsTowardsMrr`: active or past due;
//   a trial pays nothing yet and is counted apart, as trialing subscribers) and that is not paused (domain `isPausedAt`: a collection pause in effect pays nothing), in
//   integer minor units per currency. The price is the subscriber's own Stripe price (plan_price: prices
//   are immutable, so a subscriber who kept an old price counts at that price). ARR = 12 x MRR.
// - New: subscriptions created in the month that got past `incomplete` (Minutely's created_at); one that
//   began with a trial is new in the month its trial converted (its trial_end), and never if it did not.
// - Churned: subscriptions that ended (status canceled) in the month, at the price they had at the end; a
//   trial that ended without converting (canceled at or before its trial_end) never paid and is no churn.
// - Trials (counted apart, never in MRR): trialing subscribers now; per month, trials started (trial_start),
//   trials ended (trial_end in the month, passed), and trials converted: ended and went on paying (status
//   active, past due or unpaid, or canceled after its trial_end). A trial paused at its end without a card
//   is not converted (unless a card resumed it since). Conversion rate = converted / ended. A trial ended at
//   once (shorter than TRIAL_LIMITS.minDays: Checkout's card had a trial elsewhere) is no trial at all.
// - Upgraded / downgraded: price changes recorded in the webhook log (customer.subscription.updated events
//   whose previous_attributes hold the subscription's items), up when the monthly amount rose, down when
//   it fell, with the exact difference as expansion or contraction MRR. Upgrades apply at once; downgrades
//   when the scheduled change takes effect at renewal.
// - Discounts: MRR, new and churned count what the subscriber pays after its recurring discount (a
//   `forever` coupon, or a `repeating` one until it ends; applying to the subscription's package): percent
//   off rounded half up on whole minor units, amount off in the price's currency, never below zero (domain
//   `discountedPrice`). A `once` coupon takes one invoice's amount and leaves MRR as it is. Upgrades and
//   downgrades are measured on list prices.
// - Refunds and credits: money given back in the month (invoice_adjustment rows that succeeded: refunds of
//   payments, credit notes, balance credits; Minutely's and those made in Stripe's dashboard), per currency.
//   They lower the month's revenue, not MRR: a one-off refund or credit does not change what a subscription
//   recurs at (its price and recurring discount do), so `netCents` is the MRR movement without them. Each
//   says its tax share (the invoice's tax over its total, rounded half up): tax given back is no revenue.
// Not counted as movements: access lost or regained without a cancellation (past_due -> unpaid, say).
import { Prisma } from "@minutely/db";
import { TRIAL_LIMITS } from "@minutely/domain";
import type { Ports } from "../../context.ts";
import type { Amount } from "./customers.ts";
import { MRR_STATUSES, mrrAmount, PRICE_CURRENCY, pausedSql } from "./sql.ts";

export const MAX_REVENUE_MONTHS = 24;

export interface PackageRevenue {
  planId: string;
  name: string;
  active: boolean;
  subscribers: number;
  mrr: Amount[];
}

export interface MonthMovements {
  /** "2026-11": a calendar month in UTC. */
  month: string;
  start: Date;
  newCount: number;
  upgradeCount: number;
  downgradeCount: number;
  churnCount: number;
  /** Trials that started, ended (their trial_end passed in the month) and converted to paying, in the month. */
  trialStarts: number;
  trialsEnded: number;
  trialConversions: number;
  /** MRR movements per currency, in minor units: new and expansion add, contraction and churn subtract. */
  mrr: {
    currency: string;
    newCents: number;
    expansionCents: number;
    contractionCents: number;
    churnCents: number;
    netCents: number;
  }[];
  /** Money given back in the month per currency, in minor units (revenue, not MRR). */
  /**
   * Money given back in the month, per currency: refunds and credits as paid back (tax included), and the
   * tax share of each (`…TaxCents`, never revenue), so the revenue given back is the difference.
   */
  givenBack: {
    currency: string;
    refundedCents: number;
    creditedCents: number;
    refundedTaxCents: number;
    creditedTaxCents: number;
  }[];
}

export interface RevenueOverview {
  asOf: Date;
  /** Per currency, largest first. */
  totals: { currency: string; mrrCents: number; arrCents: number; subscribers: number }[];
  /** Paying subscriptions (counted in MRR), all currencies. */
  subscribers: number;
  /** Subscriptions in their free trial now (granting access, not paying, not in MRR). */
  trialingSubscribers: number;
  packages: PackageRevenue[];
  months: MonthMovements[];
}

interface PackageRow {
  plan_id: string;
  name: string;
  active: boolean;
  sort_order: number;
  currency: string | null;
  subscribers: number;
  mrr: bigint | number | null;
}

interface StartEndRow {
  id: string;
  stripe_subscription_id: string;
  at: Date;
  amount: number;
  currency: string;
}

interface ChangeRow {
  stripe_subscription_id: string;
  at: Date;
  from_amount: number | null;
  to_amount: number | null;
  from_currency: string | null;
  to_currency: string | null;
}

/** Amounts are read as `bigint` (a price times a quantity may pass 2^31 minor units): numbers from here on. */
type FromSql<Row, K extends keyof Row> = Omit<Row, K> & {
  [P in K]: bigint | number | (null extends Row[P] ? null : never);
};
const amountOrNull = (value: bigint | number | null): number | null =>
  value === null ? null : Number(value);

interface TrialRow {
  trialing: boolean;
  trial_start: Date;
  trial_end: Date | null;
  ended: boolean | null;
  converted: boolean | null;
}

/**
 * Whether subscription alias `s`, whose trial has ended, went on paying: active, past due or unpaid (its
 * first invoice was made), or canceled after its trial's end. Paused (no card) or canceled at the end is not.
 */
function convertedSql(): Prisma.Sql {
  return Prisma.sql`(s.status IN ('active', 'past_due', 'unpaid')
    OR (s.status = 'canceled' AND s.ended_at > s.trial_end))`;
}

function monthKey(date: Date): string {
  return `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, "0")}`;
}

function startOfUtcMonth(date: Date, monthsBack = 0): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - monthsBack, 1));
}

/** The monthly amount of an item JSON path in a subscription event: plan_price's amount, else Stripe's. */
function itemAmount(path: string): Prisma.Sql {
  const priceId = Prisma.raw(`e.payload #>> '{${path},items,data,0,price,id}'`);
  const unitAmount = Prisma.raw(
    `(CASE WHEN e.payload #>> '{${path},items,data,0,price,unit_amount}' ~ '^[0-9]{1,12}$' THEN (e.payload #>> '{${path},items,data,0,price,unit_amount}')::bigint END)`,
  );
  // Whole numbers only: anything else Stripe never sends counts as one, never fails the whole page.
  const quantity = Prisma.raw(
    `COALESCE((CASE WHEN e.payload #>> '{${path},items,data,0,quantity}' ~ '^[0-9]{1,9}$' THEN (e.payload #>> '{${path},items,data,0,quantity}')::bigint END), 1)`,
  );
  return Prisma.sql`(COALESCE(
    (SELECT pp.amount_cents FROM plan_price pp WHERE pp.stripe_price_id = ${priceId}), ${unitAmount}) * ${quantity})`;
}

function itemCurrency(path: string): Prisma.Sql {
  return Prisma.raw(`lower(e.payload #>> '{${path},items,data,0,price,currency}')`);
}

/** MRR, ARR, subscribers per package and the movements of the last `months` calendar months (UTC). */
export async function revenueOverview(
  { db, clock }: Pick<Ports, "db" | "clock">,
  input: { months: number },
): Promise<RevenueOverview> {
  const now = clock.now();
  const from = startOfUtcMonth(now, input.months - 1);
  const amount = mrrAmount(now);
  // A trial lasts at most 90 days (TRIAL_LIMITS): one converting in the window was created at most that long before.
  const trialFrom = new Date(from.getTime() - TRIAL_LIMITS.maxDays * 86_400_000);
  const [packageRows, startedRows, endedRows, changeRows, adjustments, trials] = await Promise.all([
    // Index subscription(status, current_period_end) narrows to the access-granting statuses.
    db.$queryRaw<PackageRow[]>`
      SELECT pl.id AS plan_id, pl.name, pl.active, pl.sort_order, x.currency, COALESCE(x.subscribers, 0)::int AS subscribers, x.mrr
      FROM subscription_plan pl
      LEFT JOIN (
        SELECT s.plan_id, ${PRICE_CURRENCY} AS currency, count(*)::int AS subscribers, sum(${amount})::bigint AS mrr
        FROM subscription s
        JOIN subscription_plan pl ON pl.id = s.plan_id
        LEFT JOIN plan_price pp ON pp.stripe_price_id = s.stripe_price_id
        LEFT JOIN coupon c ON c.id = s.coupon_id
        WHERE s.status::text = ANY(${MRR_STATUSES}::text[]) AND NOT ${pausedSql("s", now)}
        GROUP BY 1, 2
      ) x ON x.plan_id = pl.id
      WHERE pl.active OR x.subscribers > 0
      ORDER BY pl.sort_order, pl.name, x.currency`,
    // Index subscription(created_at).
    db.$queryRaw<FromSql<StartEndRow, "amount">[]>`
      SELECT * FROM (
        SELECT s.id, s.stripe_subscription_id, COALESCE(s.trial_end, s.created_at) AS at, ${amount}::bigint AS amount,
          ${PRICE_CURRENCY} AS currency
        FROM subscription s
        JOIN subscription_plan pl ON pl.id = s.plan_id
        LEFT JOIN plan_price pp ON pp.stripe_price_id = s.stripe_price_id
        LEFT JOIN coupon c ON c.id = s.coupon_id
        WHERE s.created_at >= ${trialFrom} AND s.status NOT IN ('incomplete', 'incomplete_expired')
          AND (s.trial_end IS NULL OR (s.trial_end <= ${now} AND ${convertedSql()}))
      ) x WHERE x.at >= ${from}`,
    // Index subscription(ended_at).
    db.$queryRaw<FromSql<StartEndRow, "amount">[]>`
      SELECT s.id, s.stripe_subscription_id, s.ended_at AS at, ${amount}::bigint AS amount, ${PRICE_CURRENCY} AS currency
      FROM subscription s
      JOIN subscription_plan pl ON pl.id = s.plan_id
      LEFT JOIN plan_price pp ON pp.stripe_price_id = s.stripe_price_id
      LEFT JOIN coupon c ON c.id = s.coupon_id
      WHERE s.ended_at >= ${from} AND s.status = 'canceled'
        AND (s.trial_end IS NULL OR s.ended_at > s.trial_end)`,
    // Index stripe_event(type, stripe_created_at); only subscriptions Minutely knows.
    db.$queryRaw<FromSql<ChangeRow, "from_amount" | "to_amount">[]>`
      SELECT e.payload #>> '{data,object,id}' AS stripe_subscription_id, e.stripe_created_at AS at,
        ${itemAmount("data,previous_attributes")}::bigint AS from_amount,
        ${itemAmount("data,object")}::bigint AS to_amount,
        ${itemCurrency("data,previous_attributes")} AS from_currency,
        ${itemCurrency("data,object")} AS to_currency
      FROM stripe_event e
      JOIN subscription s ON s.stripe_subscription_id = e.payload #>> '{data,object,id}'
      WHERE e.type = 'customer.subscription.updated' AND e.stripe_created_at >= ${from}
        AND e.payload #> '{data,previous_attributes,items,data,0,price}' IS NOT NULL
      ORDER BY e.stripe_created_at, e.id`,
    // Index invoice_adjustment(created_at).
    // The tax share of what was given back on an invoice is the invoice's tax share of its total (rounded
    // half up to the minor unit): tax that was never revenue, given back with it.
    db.$queryRaw<
      {
        month: string;
        currency: string;
        refunded: bigint;
        credited: bigint;
        refunded_tax: bigint;
        credited_tax: bigint;
      }[]
    >`
      SELECT month, currency,
        COALESCE(sum(amount) FILTER (WHERE kind = 'refund'), 0)::bigint AS refunded,
        COALESCE(sum(amount) FILTER (WHERE kind <> 'refund'), 0)::bigint AS credited,
        COALESCE(sum(tax) FILTER (WHERE kind = 'refund'), 0)::bigint AS refunded_tax,
        COALESCE(sum(tax) FILTER (WHERE kind <> 'refund'), 0)::bigint AS credited_tax
      FROM (
        SELECT to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month, a.currency::text AS currency,
          a.kind, a.amount_cents::bigint AS amount,
          CASE WHEN b.tax_cents > 0 AND b.total_cents > 0
            THEN (2 * a.amount_cents::bigint * b.tax_cents + b.total_cents) / (2 * b.total_cents::bigint)
            ELSE 0 END AS tax
        FROM invoice_adjustment a
        LEFT JOIN billing_history b ON b.id = a.billing_history_id
        WHERE a.status = 'succeeded' AND a.created_at >= ${from}
      ) given
      GROUP BY 1, 2`,
    // Trials: trialing now, and per month started, ended and converted (index subscription(created_at)).
    db.$queryRaw<TrialRow[]>`
      SELECT s.status = 'trialing' AND s.trial_end > ${now} AS trialing, s.trial_start, s.trial_end,
        s.trial_end <= ${now} AND ${convertedSql()} AS converted, s.trial_end <= ${now} AS ended
      FROM subscription s
      WHERE s.trial_start IS NOT NULL AND (s.created_at >= ${trialFrom} OR s.status = 'trialing')
        -- A trial ended at once (shorter than the shortest trial: Checkout's card had one elsewhere) never was one.
        AND s.trial_end - s.trial_start >= make_interval(days => ${TRIAL_LIMITS.minDays}::int)`,
  ]);

  const started: StartEndRow[] = startedRows.map((r) => ({ ...r, amount: Number(r.amount) }));
  const ended: StartEndRow[] = endedRows.map((r) => ({ ...r, amount: Number(r.amount) }));
  const changes: ChangeRow[] = changeRows.map((r) => ({
    ...r,
    from_amount: amountOrNull(r.from_amount),
    to_amount: amountOrNull(r.to_amount),
  }));
  const totals = new Map<string, { mrrCents: number; subscribers: number }>();
  const packages = new Map<string, PackageRevenue & { sortOrder: number }>();
  let subscribers = 0;
  for (const row of packageRows) {
    const entry = packages.get(row.plan_id) ?? {
      planId: row.plan_id,
      name: row.name,
      active: row.active,
      sortOrder: row.sort_order,
      subscribers: 0,
      mrr: [],
    };
    if (row.currency !== null && row.subscribers > 0) {
      const mrr = Number(row.mrr ?? 0);
      entry.subscribers += row.subscribers;
      entry.mrr.push({ amount: mrr, currency: row.currency });
      const total = totals.get(row.currency) ?? { mrrCents: 0, subscribers: 0 };
      total.mrrCents += mrr;
      total.subscribers += row.subscribers;
      totals.set(row.currency, total);
      subscribers += row.subscribers;
    }
    packages.set(row.plan_id, entry);
  }

  // Calendar months, oldest first.
  const months: MonthMovements[] = [];
  const byMonth = new Map<string, MonthMovements>();
  for (let back = input.months - 1; back >= 0; back--) {
    const start = startOfUtcMonth(now, back);
    const month: MonthMovements = {
      month: monthKey(start),
      start,
      newCount: 0,
      upgradeCount: 0,
      downgradeCount: 0,
      churnCount: 0,
      trialStarts: 0,
      trialsEnded: 0,
      trialConversions: 0,
      mrr: [],
      givenBack: [],
    };
    months.push(month);
    byMonth.set(month.month, month);
  }
  const movement = (month: MonthMovements, currency: string) => {
    let entry = month.mrr.find((m) => m.currency === currency);
    if (!entry) {
      entry = { currency, newCents: 0, expansionCents: 0, contractionCents: 0, churnCents: 0, netCents: 0 };
      month.mrr.push(entry);
    }
    return entry;
  };

  // Price changes only: an items update that kept the price (a renewal moves the items' period) is none.
  const priceChanges = changes.filter(
    (c): c is ChangeRow & { from_amount: number; to_amount: number; to_currency: string } =>
      c.from_amount !== null &&
      c.to_amount !== null &&
      c.to_currency !== null &&
      c.from_currency === c.to_currency &&
      c.from_amount !== c.to_amount,
  );
  // A new subscription's starting price is the price before its first change (all of its changes are in
  // the window: it started in it); without changes, its price now.
  const firstChange = new Map<string, ChangeRow>();
  for (const change of priceChanges) {
    if (!firstChange.has(change.stripe_subscription_id))
      firstChange.set(change.stripe_subscription_id, change);
  }
  for (const row of started) {
    const month = byMonth.get(monthKey(row.at));
    if (!month) continue;
    const first = firstChange.get(row.stripe_subscription_id);
    const amount = first?.from_amount ?? row.amount;
    const currency = first?.from_currency ?? row.currency;
    month.newCount += 1;
    const m = movement(month, currency);
    m.newCents += amount;
    m.netCents += amount;
  }
  for (const row of ended) {
    const month = byMonth.get(monthKey(row.at));
    if (!month) continue;
    month.churnCount += 1;
    const m = movement(month, row.currency);
    m.churnCents += row.amount;
    m.netCents -= row.amount;
  }
  for (const change of priceChanges) {
    const month = byMonth.get(monthKey(change.at));
    if (!month) continue;
    const delta = change.to_amount - change.from_amount;
    const m = movement(month, change.to_currency);
    if (delta > 0) {
      month.upgradeCount += 1;
      m.expansionCents += delta;
    } else {
      month.downgradeCount += 1;
      m.contractionCents += -delta;
    }
    m.netCents += delta;
  }
  for (const row of adjustments) {
    byMonth.get(row.month)?.givenBack.push({
      currency: row.currency.trim(),
      refundedCents: Number(row.refunded),
      creditedCents: Number(row.credited),
      refundedTaxCents: Number(row.refunded_tax),
      creditedTaxCents: Number(row.credited_tax),
    });
  }
  let trialingSubscribers = 0;
  for (const trial of trials) {
    if (trial.trialing) trialingSubscribers += 1;
    const startMonth = byMonth.get(monthKey(trial.trial_start));
    if (startMonth) startMonth.trialStarts += 1;
    if (trial.trial_end && trial.ended) {
      const endMonth = byMonth.get(monthKey(trial.trial_end));
      if (endMonth) {
        endMonth.trialsEnded += 1;
        if (trial.converted) endMonth.trialConversions += 1;
      }
    }
  }
  for (const month of months) {
    month.mrr.sort((a, b) => a.currency.localeCompare(b.currency));
    month.givenBack.sort((a, b) => a.currency.localeCompare(b.currency));
  }

  return {
    asOf: now,
    totals: [...totals.entries()]
      .map(([currency, t]) => ({
        currency,
        mrrCents: t.mrrCents,
        arrCents: t.mrrCents * 12,
        subscribers: t.subscribers,
      }))
      .sort((a, b) => b.mrrCents - a.mrrCents || a.currency.localeCompare(b.currency)),
    subscribers,
    trialingSubscribers,
    packages: [...packages.values()]
      .sort((a, b) => a.sortOrder - b.sortOrder || a.name.localeCompare(b.name))
      .map(({ sortOrder: _sortOrder, ...rest }) => rest),
    months,
  };
}
