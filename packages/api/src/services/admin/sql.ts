// SQL shared by the admin's list queries: the access-granting statuses, account search and the price a
// subscriber pays. Every fragment is written to use an index (see the comments) so lists stay fast with
// tens of thousands of accounts.
import { Prisma } from "@minutely/db";
import { countsTowardsMrr, grantsAccess, SUBSCRIPTION_STATUSES } from "@minutely/domain";

/** Statuses whose subscription grants access: domain `grantsAccess`. */
export const ACCESS_STATUSES: readonly string[] = SUBSCRIPTION_STATUSES.filter((s) => grantsAccess(s));

/** Statuses whose subscription pays, and so counts towards MRR (not `trialing`): domain `countsTowardsMrr`. */
export const MRR_STATUSES: readonly string[] = SUBSCRIPTION_STATUSES.filter((s) => countsTowardsMrr(s));

/** Longest search term the admin lists accept. */
export const MAX_SEARCH_LENGTH = 100;

/** `%term%` for ILIKE, with the term's own `%`, `_` and `\` matched literally. */
export function containsPattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Ids of the accounts a search term finds: a substring of the account's name or of one of its users'
 * emails (case-insensitive; the trigram GIN indexes account_name_trgm_idx and user_email_trgm_idx), or
 * exactly its id, Stripe customer id or one of its Stripe subscription ids (unique indexes).
 */
export function accountsMatching(term: string): Prisma.Sql {
  const pattern = containsPattern(term);
  const exact: Prisma.Sql[] = [];
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(term)) {
    exact.push(Prisma.sql`UNION SELECT id FROM account WHERE id = ${term.toLowerCase()}::uuid`);
  }
  if (term.startsWith("cus_")) {
    exact.push(Prisma.sql`UNION SELECT id FROM account WHERE stripe_customer_id = ${term}`);
  }
  if (term.startsWith("sub_")) {
    exact.push(Prisma.sql`UNION SELECT account_id FROM subscription WHERE stripe_subscription_id = ${term}`);
  }
  return Prisma.sql`
    SELECT id FROM account WHERE name ILIKE ${pattern}
    UNION SELECT m.account_id FROM "user" u JOIN account_member m ON m.user_id = u.id WHERE u.email ILIKE ${pattern}
    ${exact.length > 0 ? Prisma.join(exact, " ") : Prisma.empty}`;
}

/**
 * The subscription that describes an account (as metering picks it): the newest one that grants access,
 * else the newest one. Use in a LATERAL join on `account_id = <alias>.id` (index subscription(account_id, status)).
 */
export function chosenSubscriptionOf(accountIdSql: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
    SELECT s.* FROM subscription s
    WHERE s.account_id = ${accountIdSql}
    ORDER BY (s.status::text = ANY(${ACCESS_STATUSES}::text[])) DESC, s.created_at DESC, s.id DESC
    LIMIT 1`;
}

/**
 * Whether subscription alias `s` is paused at the account's now (domain `isPausedAt`: Stripe's status
 * `paused`, or a collection pause that has started; the account's now is its test clock's time when later).
 */
export function pausedSql(alias: string, wallNow: Date): Prisma.Sql {
  const s = Prisma.raw(alias);
  return Prisma.sql`(${s}.status = 'paused' OR (${s}.pause_behavior IS NOT NULL
    AND COALESCE(${s}.pause_starts_at, ${s}.current_period_start)
      <= GREATEST(${wallNow}::timestamptz, COALESCE(${s}.test_clock_time, ${wallNow}::timestamptz))))`;
}

/**
 * The monthly amount subscription `s` (package `pl`, its Stripe price `pp`) pays: its Stripe price (plan_price,
 * prices are immutable), else the package's price in the subscription's currency; never another currency's.
 */
export const PRICE_AMOUNT = Prisma.sql`COALESCE(pp.amount_cents,
  (SELECT spp.amount_cents FROM subscription_plan_price spp WHERE spp.plan_id = pl.id AND spp.currency = s.currency),
  CASE WHEN lower(pl.currency) = lower(s.currency) THEN pl.monthly_price_cents END)`;
/** The currency subscription `s` bills in (its Stripe price's, stored by the sync). */
export const PRICE_CURRENCY = Prisma.sql`lower(trim(COALESCE(pp.currency, s.currency)))`;

/**
 * The overage price per minute of subscription `alias` (package `plan`) in the subscription's currency:
 * the package's price row of that currency (its own currency's row repeats the package's), else, for the
 * package's own currency, the package row's; null: no overage.
 */
export function overagePriceSql(alias: string, plan: string): Prisma.Sql {
  const s = Prisma.raw(alias);
  const pl = Prisma.raw(plan);
  return Prisma.sql`COALESCE(
    (SELECT spp.overage_price_cents_per_minute FROM subscription_plan_price spp
      WHERE spp.plan_id = ${pl}.id AND spp.currency = ${s}.currency),
    CASE WHEN lower(${pl}.currency) = lower(${s}.currency) THEN ${pl}.overage_price_cents_per_minute END)`;
}

/**
 * What subscription `s` (package `pl`, price `pp`, coupon `c`) pays a month at `now`: PRICE_AMOUNT after its
 * recurring discount, with the rounding of domain `discountAmount` (half up on integers, never below zero).
 */
export function mrrAmount(now: Date): Prisma.Sql {
  return Prisma.sql`(CASE
    WHEN c.id IS NOT NULL AND c.duration <> 'once'
      AND (s.discount_ends_at IS NULL OR s.discount_ends_at > ${now})
      AND (COALESCE(cardinality(c.applies_to_plan_ids), 0) = 0 OR s.plan_id = ANY(c.applies_to_plan_ids))
    THEN CASE
      WHEN c.percent_off IS NOT NULL
        THEN ${PRICE_AMOUNT} - LEAST(${PRICE_AMOUNT}, (${PRICE_AMOUNT}::bigint * c.percent_off + 50) / 100)
      WHEN lower(c.currency) = ${PRICE_CURRENCY} THEN GREATEST(${PRICE_AMOUNT} - c.amount_off_cents, 0)
      ELSE ${PRICE_AMOUNT}
    END
    ELSE ${PRICE_AMOUNT}
  END)`;
}

/**
 * A LATERAL subquery with `period_start` and `period_end`: domain `currentBillingPeriod` of subscription
 * alias `s` at the account's now (domain `accountNow`: its test clock's time when that is later than
 * `wallNow`), in SQL, so the admin lists measure the same period as the customer's dashboard, metering and
 * call authorization. Stripe's period while the account's now is inside it; once the now has passed its end
 * (the renewal not synced yet), the monthly period anchored at that end which contains the now, each
 * boundary the end plus whole months, the day clamped to shorter months (as `addMonthsClamped`). Checked
 * against the domain function by a property test.
 */
export function currentPeriodOf(s: string, wallNow: Date): Prisma.Sql {
  if (!/^[a-z_]+$/.test(s)) throw new Error(`currentPeriodOf: not an alias: ${s}`);
  const sub = Prisma.raw(s);
  const endUtc = Prisma.sql`(${sub}.current_period_end AT TIME ZONE 'UTC')`;
  return Prisma.sql`
    SELECT
      CASE WHEN x.at < ${sub}.current_period_end THEN ${sub}.current_period_start
        ELSE (${endUtc} + make_interval(months => x.idx)) AT TIME ZONE 'UTC' END AS period_start,
      CASE WHEN x.at < ${sub}.current_period_end THEN ${sub}.current_period_end
        ELSE (${endUtc} + make_interval(months => x.idx + 1)) AT TIME ZONE 'UTC' END AS period_end
    FROM (
      SELECT y.at,
        y.k - CASE WHEN (${endUtc} + make_interval(months => y.k)) AT TIME ZONE 'UTC' > y.at THEN 1 ELSE 0 END AS idx
      FROM (
        SELECT a.at, ((extract(year FROM a.at AT TIME ZONE 'UTC') - extract(year FROM ${endUtc})) * 12
          + extract(month FROM a.at AT TIME ZONE 'UTC') - extract(month FROM ${endUtc}))::int AS k
        FROM (SELECT GREATEST(${wallNow}::timestamptz, ${sub}.test_clock_time) AS at) a
      ) y
    ) x`;
}
