// The subscription metering follows for an account (the domain's currentSubscriptionOf, the same rule every
// other service uses), with the package's limits and when the account's subscriptions stopped covering
// calls. Shared by ingestion, call authorization, usage reads, alerts, overage and agents.
import {
  Prisma,
  type Subscription,
  type SubscriptionPlan,
  type SubscriptionPlanPrice,
  type SubscriptionStatus,
} from "@minutely/db";
import {
  type CollectionPause,
  type Currency,
  currentSubscriptionOf,
  grantsAccess,
  isCurrency,
  type Money,
  type PauseSpan,
  parseCurrency,
  type SpendCap,
} from "@minutely/domain";
import type { Db } from "../../db.ts";
import { preparedQuery } from "../../prepared.ts";
import { bool, date, dateOrNull, int, intOrNull, type Json, rows, text, textOrNull } from "../json-rows.ts";

/** Interactive transactions of metering: waiting for a pooled connection under load is normal. */
export const METERING_TX_OPTIONS = { maxWait: 30_000, timeout: 60_000 } as const;

export interface MeteringPlan {
  id: string;
  name: string;
  callMinutesLimit: number;
  agentsAllowed: number;
  /** Price of a minute beyond the limit, in the subscription's currency; null means a hard cap. */
  overagePrice: Money | null;
  /** The subscription's currency (its Stripe price's): overage is charged in it. */
  currency: Currency;
}

export interface MeteringSubscription {
  id: string;
  accountId: string;
  status: SubscriptionStatus;
  stripeSubscriptionId: string;
  currentPeriodStart: Date;
  currentPeriodEnd: Date;
  createdAt: Date;
  accessGranted: boolean;
  /** The collection pause, if one is set (see the domain's `isPausedAt`: paused calls are denied). */
  pause: CollectionPause | null;
  /**
   * When the subscription's free trial ends (Stripe's `trial_end`; null: it had none). While `trialing`
   * before it, calls stop at the included minutes; a period that started before it bills no overage.
   */
  trialEnd: Date | null;
  /** Whether the subscription has a card (its default payment method): a trial without one pauses at its end. */
  cardOnFile: boolean;
  plan: MeteringPlan;
  /** The sync ticket of the Stripe read this row was written from; grows with every newer read. */
  syncTicket: bigint;
  /** The Stripe test clock's time as last read (test mode and the emulator only), else null. */
  testClockTime: Date | null;
  /**
   * When the account's first subscription began: the earliest start of a period or creation of any of its
   * subscriptions (Stripe's start is the first period's start; after renewals the row's creation, written
   * when the customer subscribed, is the earliest trace). No call, usage or overage is dated before it.
   */
  firstStartedAt: Date;
  /**
   * When the account's subscriptions ended, or null while one is live (`isLiveSubscription`: active,
   * trialing, past due, unpaid, incomplete, paused; `unknown` too, failing open for usage that is recorded).
   * Set only when every subscription of the account is terminal: the latest end among them (a canceled
   * one's `ended_at`, else its period end; an expired checkout never covered anything past its creation).
   * No call that started at or after it is recorded, and nothing is billed on an ended subscription.
   */
  endedAt: Date | null;
}

/**
 * The package's terms for a subscription billed in `currency`: its overage price in that currency (the
 * package's price row of that currency; its own currency's is the package row's). A package that has no
 * price in the subscription's currency (catalog-admin refuses removing one live subscriptions bill in) gets
 * no overage: calls stop at the included minutes and nothing is charged at a price it does not have.
 */
export function toMeteringPlan(row: PlanTerms, currency: string): MeteringPlan {
  const code = currency.trim().toLowerCase();
  if (!isCurrency(code))
    throw new Error(`a subscription to ${row.id} bills in an unsupported currency "${currency}"`);
  const own = row.currency.trim().toLowerCase();
  const cents =
    own === code
      ? row.overagePriceCentsPerMinute
      : (row.currencyPrices.find((p) => p.currency.trim().toLowerCase() === code)
          ?.overagePriceCentsPerMinute ?? null);
  return {
    id: row.id,
    name: row.name,
    callMinutesLimit: row.callMinutesLimit,
    agentsAllowed: row.agentsAllowed,
    overagePrice: cents === null ? null : { amount: cents, currency: code },
    currency: code,
  };
}

/** A subscription row's collection pause (a pause without its start takes effect at once). */
export function collectionPauseOf(row: {
  pauseBehavior: string | null;
  pauseStartsAt: Date | null;
  pauseResumesAt: Date | null;
  currentPeriodStart: Date;
}): CollectionPause | null {
  if (row.pauseBehavior === null) return null;
  return { startsAt: row.pauseStartsAt ?? row.currentPeriodStart, resumesAt: row.pauseResumesAt };
}

function toMeteringSubscription(
  row: MeteredSubscriptionRow,
  firstStartedAt: Date,
  endedAt: Date | null,
): MeteringSubscription {
  return {
    firstStartedAt,
    endedAt,
    id: row.id,
    accountId: row.accountId,
    status: row.status,
    stripeSubscriptionId: row.stripeSubscriptionId,
    currentPeriodStart: row.currentPeriodStart,
    currentPeriodEnd: row.currentPeriodEnd,
    createdAt: row.createdAt,
    accessGranted: grantsAccess(row.status),
    pause: collectionPauseOf(row),
    trialEnd: row.trialEnd,
    cardOnFile: row.defaultPaymentMethodId !== null,
    plan: toMeteringPlan(row.plan, row.currency),
    syncTicket: row.syncTicket,
    testClockTime: row.testClockTime,
  };
}

/**
 * What metering reads of a subscription row (`toMeteringSubscription`, `coverageEnd`, the domain's
 * `currentSubscriptionOf`): a full row (the dashboard's read) is one too.
 */
export type MeteredSubscriptionRow = Pick<
  Subscription,
  | "id"
  | "accountId"
  | "status"
  | "stripeSubscriptionId"
  | "currency"
  | "currentPeriodStart"
  | "currentPeriodEnd"
  | "endedAt"
  | "pauseBehavior"
  | "pauseStartsAt"
  | "pauseResumesAt"
  | "trialEnd"
  | "defaultPaymentMethodId"
  | "testClockTime"
  | "syncTicket"
  | "createdAt"
> & { plan: PlanTerms };

/** What metering reads of a package (`toMeteringPlan`): its limits and its overage price per currency. */
export type PlanTerms = Pick<
  SubscriptionPlan,
  "id" | "name" | "callMinutesLimit" | "agentsAllowed" | "overagePriceCentsPerMinute" | "currency"
> & { currencyPrices: readonly Pick<SubscriptionPlanPrice, "currency" | "overagePriceCentsPerMinute">[] };

/**
 * SQL of the subscriptions of the accounts `ids` (a uuid[] expression), newest first, with their packages:
 * two JSON arrays (`subscriptions`, `plans`) for {@link meteringSubscriptionsOf}, of the columns metering
 * reads only (a whole row's to_jsonb was half of a usage report's context read). One statement instead of
 * Prisma's two for `include: { plan: true }`.
 */
function subscriptionsJsonSql(ids: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
      (SELECT jsonb_agg(jsonb_build_object('id', s.id, 'account_id', s.account_id, 'status', s.status,
          'stripe_subscription_id', s.stripe_subscription_id, 'currency', s.currency, 'plan_id', s.plan_id,
          'current_period_start', s.current_period_start, 'current_period_end', s.current_period_end,
          'ended_at', s.ended_at, 'pause_behavior', s.pause_behavior, 'pause_starts_at', s.pause_starts_at,
          'pause_resumes_at', s.pause_resumes_at, 'trial_end', s.trial_end,
          'default_payment_method_id', s.default_payment_method_id, 'test_clock_time', s.test_clock_time,
          'sync_ticket', s.sync_ticket::text, 'created_at', s.created_at)
          ORDER BY s.created_at DESC, s.id DESC)
        FROM subscription s WHERE s.account_id = ANY(${ids})) AS subscriptions,
      (SELECT jsonb_agg(jsonb_build_object('id', p.id, 'name', p.name,
          'call_minutes_limit', p.call_minutes_limit, 'agents_allowed', p.agents_allowed,
          'overage_price_cents_per_minute', p.overage_price_cents_per_minute, 'currency', p.currency,
          'currency_prices', (SELECT COALESCE(jsonb_agg(jsonb_build_object('currency', pp.currency,
              'overage_price_cents_per_minute', pp.overage_price_cents_per_minute)), '[]'::jsonb)
            FROM subscription_plan_price pp WHERE pp.plan_id = p.id)))
        FROM subscription_plan p
        WHERE p.id IN (SELECT s.plan_id FROM subscription s WHERE s.account_id = ANY(${ids}))) AS plans`;
}

/** A package's terms from a `plans` JSON row of {@link subscriptionsJsonSql}. */
function planTermsRow(j: Json): PlanTerms {
  return {
    id: text(j, "id"),
    name: text(j, "name"),
    callMinutesLimit: int(j, "call_minutes_limit"),
    agentsAllowed: int(j, "agents_allowed"),
    overagePriceCentsPerMinute: intOrNull(j, "overage_price_cents_per_minute"),
    currency: text(j, "currency"),
    currencyPrices: rows(j.currency_prices).map((pp) => ({
      currency: text(pp, "currency"),
      overagePriceCentsPerMinute: intOrNull(pp, "overage_price_cents_per_minute"),
    })),
  };
}

/** The metered subscription of each account, from the JSON of {@link subscriptionsJsonSql}. */
function meteringSubscriptionsOf(subscriptions: unknown, plans: unknown): Map<string, MeteringSubscription> {
  const planById = new Map(rows(plans).map((j) => [text(j, "id"), planTermsRow(j)]));
  const byAccount = new Map<string, MeteredSubscriptionRow[]>();
  for (const j of rows(subscriptions)) {
    const planId = text(j, "plan_id");
    const plan = planById.get(planId);
    const id = text(j, "id");
    if (!plan) throw new Error(`subscription ${id}: package ${planId} not found`);
    const row: MeteredSubscriptionRow = {
      id,
      accountId: text(j, "account_id"),
      status: text(j, "status") as SubscriptionStatus,
      stripeSubscriptionId: text(j, "stripe_subscription_id"),
      currency: text(j, "currency"),
      currentPeriodStart: date(j, "current_period_start"),
      currentPeriodEnd: date(j, "current_period_end"),
      endedAt: dateOrNull(j, "ended_at"),
      pauseBehavior: textOrNull(j, "pause_behavior"),
      pauseStartsAt: dateOrNull(j, "pause_starts_at"),
      pauseResumesAt: dateOrNull(j, "pause_resumes_at"),
      trialEnd: dateOrNull(j, "trial_end"),
      defaultPaymentMethodId: textOrNull(j, "default_payment_method_id"),
      testClockTime: dateOrNull(j, "test_clock_time"),
      syncTicket: BigInt(text(j, "sync_ticket")),
      createdAt: date(j, "created_at"),
      plan,
    };
    const list = byAccount.get(row.accountId) ?? [];
    list.push(row);
    byAccount.set(row.accountId, list);
  }
  const result = new Map<string, MeteringSubscription>();
  for (const [accountId, list] of byAccount) {
    const chosen = meteringSubscriptionOf(list);
    if (chosen) result.set(accountId, chosen);
  }
  return result;
}

/** The metered subscription of each of the accounts (accounts that never subscribed are absent). */
export async function loadMeteringSubscriptions(
  db: Db,
  accountIds: readonly string[],
): Promise<Map<string, MeteringSubscription>> {
  if (accountIds.length === 0) return new Map();
  const [row] = await db.$queryRaw<{ subscriptions: unknown; plans: unknown }[]>`
    SELECT ${subscriptionsJsonSql(Prisma.sql`${[...accountIds]}::uuid[]`)}`;
  return meteringSubscriptionsOf(row?.subscriptions, row?.plans);
}

/** What a usage report needs to know before it writes, about the accounts and agents it names. */
export interface MeteringContext {
  /** The accounts that exist (deleted ones included: see `deletedAccounts`). */
  accounts: Set<string>;
  /** The accounts among them that were deleted (docs/accounts.md): their usage is refused. */
  deletedAccounts: Set<string>;
  /** The agents named that belong to one of the accounts, by id. */
  agents: Map<string, { accountId: string; active: boolean }>;
  subscriptions: Map<string, MeteringSubscription>;
  /** The accounts' own alert thresholds (percent). */
  thresholds: { accountId: string; percent: number }[];
  /** The spend caps (overage budgets) of the accounts that set one. */
  spendCaps: Map<string, SpendCap>;
  /**
   * The accounts holding pack minutes (a grant with minutes left, expired or not: the draw itself checks
   * expiry under its locks). Only their periods look at packs, so ingestion of the others costs nothing more.
   */
  packAccounts: Set<string>;
  /** Accounts whose auto top-up is on and not stopped: a period their packs cannot cover asks for one. */
  autoTopUpAccounts: Set<string>;
  /**
   * The spans each account's subscriptions were paused (`subscription_pause_span`) that end after the
   * `pauseSpansSince` asked for; accounts never paused are absent. Empty when not asked for.
   */
  pauseSpans: Map<string, PauseSpan[]>;
}

/**
 * A usage report's (or call authorization's) reads in one statement: which accounts exist, which agents are theirs, their
 * subscriptions with packages and their alert thresholds, and (for a usage report, `pauseSpansSince` given)
 * the spans they were paused that end after it. Every subquery names the accounts (one shard each on Citus:
 * docs/scaling.md).
 */
export async function loadMeteringContext(
  db: Db,
  accountIds: readonly string[],
  agentIds: readonly string[],
  pauseSpansSince: Date | null = null,
): Promise<MeteringContext> {
  if (accountIds.length === 0) {
    return {
      accounts: new Set(),
      deletedAccounts: new Set(),
      agents: new Map(),
      subscriptions: new Map(),
      thresholds: [],
      spendCaps: new Map(),
      packAccounts: new Set(),
      autoTopUpAccounts: new Set(),
      pauseSpans: new Map(),
    };
  }
  const ids = Prisma.sql`${[...accountIds]}::uuid[]`;
  // An account never paused has no row: the subquery finds nothing (by the index on account_id, starts_at).
  const pauseSpans =
    pauseSpansSince === null
      ? Prisma.sql`NULL::jsonb`
      : Prisma.sql`(SELECT jsonb_agg(jsonb_build_object('account_id', ps.account_id, 'starts_at', ps.starts_at,
            'ends_at', ps.ends_at))
          FROM subscription_pause_span ps WHERE ps.account_id = ANY(${ids})
            AND (ps.ends_at IS NULL OR ps.ends_at > ${pauseSpansSince}))`;
  // A prepared statement on the pool (every usage report and authorization reads this first).
  const [row] = await preparedQuery<{
    accounts: unknown;
    deleted_accounts: unknown;
    spend_caps: unknown;
    agents: unknown;
    subscriptions: unknown;
    plans: unknown;
    thresholds: unknown;
    pack_accounts: unknown;
    auto_top_up_accounts: unknown;
    pause_spans: unknown;
  }>(
    db,
    Prisma.sql`
    SELECT
      (SELECT jsonb_agg(account.id) FROM account WHERE account.id = ANY(${ids})) AS accounts,
      (SELECT jsonb_agg(account.id) FROM account
        WHERE account.id = ANY(${ids}) AND account.deleted_at IS NOT NULL) AS deleted_accounts,
      (SELECT jsonb_agg(jsonb_build_object('account_id', account.id, 'cents', account.overage_cap_cents,
          'currency', account.overage_cap_currency))
        FROM account WHERE account.id = ANY(${ids}) AND account.overage_cap_cents IS NOT NULL) AS spend_caps,
      (SELECT jsonb_agg(jsonb_build_object('id', g.id, 'account_id', g.account_id, 'active', g.active)) FROM agent g
        WHERE g.id = ANY(${[...agentIds]}::uuid[]) AND g.account_id = ANY(${ids})) AS agents,
      (SELECT jsonb_agg(jsonb_build_object('account_id', t.account_id, 'percent', t.percent))
        FROM alert_threshold t WHERE t.account_id = ANY(${ids})) AS thresholds,
      (SELECT jsonb_agg(DISTINCT pg.account_id) FROM pack_grant pg
        WHERE pg.account_id = ANY(${ids}) AND pg.remaining > 0) AS pack_accounts,
      (SELECT jsonb_agg(account.id) FROM account WHERE account.id = ANY(${ids})
        AND account.auto_top_up_pack_id IS NOT NULL AND account.auto_top_up_stopped_at IS NULL)
        AS auto_top_up_accounts,
      ${pauseSpans} AS pause_spans,
      ${subscriptionsJsonSql(ids)}`,
  );
  return {
    accounts: new Set(rows(row?.accounts).map(String)),
    deletedAccounts: new Set(rows(row?.deleted_accounts).map(String)),
    agents: new Map(
      rows(row?.agents).map((j) => [
        text(j, "id"),
        { accountId: text(j, "account_id"), active: bool(j, "active") },
      ]),
    ),
    subscriptions: meteringSubscriptionsOf(row?.subscriptions, row?.plans),
    thresholds: rows(row?.thresholds).map((j) => ({
      accountId: text(j, "account_id"),
      percent: int(j, "percent"),
    })),
    spendCaps: spendCapsOf(row?.spend_caps),
    packAccounts: new Set(rows(row?.pack_accounts).map(String)),
    autoTopUpAccounts: new Set(rows(row?.auto_top_up_accounts).map(String)),
    pauseSpans: pauseSpansOf(row?.pause_spans),
  };
}

/** The pause spans of `pause_spans` JSON rows (`account_id`, `starts_at`, `ends_at`), by account. */
function pauseSpansOf(json: unknown): Map<string, PauseSpan[]> {
  const spans = new Map<string, PauseSpan[]>();
  for (const j of rows(json)) {
    const accountId = text(j, "account_id");
    const list = spans.get(accountId) ?? [];
    list.push({ startsAt: date(j, "starts_at"), endsAt: dateOrNull(j, "ends_at") });
    spans.set(accountId, list);
  }
  return spans;
}

/** The account's stored cap (null when none). */
export async function storedSpendCap(db: Db, accountId: string): Promise<SpendCap | null> {
  const [row] = await db.$queryRaw<{ cents: number | null; currency: string | null }[]>`
    SELECT overage_cap_cents AS cents, overage_cap_currency AS currency FROM account
    WHERE id = ${accountId}::uuid`;
  if (!row || row.cents === null || row.currency === null) return null;
  return { amountCents: row.cents, currency: row.currency.trim().toLowerCase() as Currency };
}

/** The spend caps of `spend_caps` JSON rows (`account_id`, `cents`, `currency`), by account. */
export function spendCapsOf(json: unknown): Map<string, SpendCap> {
  const caps = new Map<string, SpendCap>();
  for (const j of rows(json)) {
    const currency = parseCurrency(text(j, "currency"));
    if (!currency) throw new Error(`account ${text(j, "account_id")}: spend cap in an unsupported currency`);
    caps.set(text(j, "account_id"), { amountCents: int(j, "cents"), currency });
  }
  return caps;
}

/** The metered subscription among one account's subscriptions (newest first), or null when there are none. */
export function meteringSubscriptionOf(
  newestFirst: readonly MeteredSubscriptionRow[],
): MeteringSubscription | null {
  const chosen = currentSubscriptionOf(newestFirst);
  if (!chosen) return null;
  const firstStartedAt = new Date(
    Math.min(...newestFirst.flatMap((r) => [r.createdAt.getTime(), r.currentPeriodStart.getTime()])),
  );
  return toMeteringSubscription(chosen, firstStartedAt, coverageEnd(newestFirst));
}

/** A subscription that ended: Stripe never bills or revives it (a new subscription is another row). */
function hasEnded(status: SubscriptionStatus): boolean {
  return status === "canceled" || status === "incomplete_expired";
}

/** When the account's subscriptions stopped covering calls: null while any has not ended (see `endedAt`). */
function coverageEnd(rows: readonly MeteredSubscriptionRow[]): Date | null {
  if (rows.length === 0 || rows.some((r) => !hasEnded(r.status))) return null;
  const ends = rows.map((r) =>
    r.status === "canceled" ? (r.endedAt ?? r.currentPeriodEnd) : (r.endedAt ?? r.createdAt),
  );
  return new Date(Math.max(...ends.map((d) => d.getTime())));
}

/** Whether the account's subscriptions had all ended by `at` (a call starting then is not covered). */
export function endedBy(subscription: Pick<MeteringSubscription, "endedAt">, at: Date): boolean {
  return subscription.endedAt !== null && at.getTime() >= subscription.endedAt.getTime();
}

export async function loadMeteringSubscription(
  db: Db,
  accountId: string,
): Promise<MeteringSubscription | null> {
  return (await loadMeteringSubscriptions(db, [accountId])).get(accountId) ?? null;
}

/**
 * Whether the period starting at `periodStart` is (part of) the subscription's free trial: no overage is
 * billed for it (docs/billing.md "Free trials").
 */
export function isTrialPeriod(
  subscription: Pick<MeteringSubscription, "trialEnd">,
  periodStart: Date,
): boolean {
  return subscription.trialEnd !== null && periodStart.getTime() < subscription.trialEnd.getTime();
}
