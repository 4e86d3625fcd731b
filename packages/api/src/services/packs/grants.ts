// Pack grants and the ledger of pack minutes (the rules are the domain's minute-packs.ts).
//
// - A pack is granted once per payment: `source_key` (the Checkout Session or PaymentIntent that paid for
//   it) is unique, so a webhook delivered twice, or a payment seen both by its webhook and by the customer's
//   return from Checkout, grants one pack (INSERT … ON CONFLICT DO NOTHING).
// - Its minutes expire `validityMonths` after the payment; draws (metering/pack-draws.ts) lower `remaining`.
// - The ledger: bought = used + expired + remaining, per grant and in total; used also per period.
// - A payment for an account deleted meanwhile grants nothing and is refunded in full (packs.ts).
import {
  type Currency,
  type PackGrantState,
  type PackLedger,
  packExpiresAt,
  packGrantState,
  packLedger,
} from "@minutely/domain";
import type { Ports } from "../../context.ts";
import type { Db } from "../../db.ts";
import { loadMeteringSubscription, nowFor } from "../metering/index.ts";

export interface PackGrantInput {
  accountId: string;
  packId: string | null;
  sourceKey: string;
  minutes: number;
  priceCents: number;
  currency: Currency;
  validityMonths: number;
  grantedAt: Date;
}

/** What granting a pack for one payment did. */
export type GrantOutcome = "granted" | "granted_before" | "account_deleted";

/**
 * Grants a pack for one payment, once. An account deleted meanwhile gets nothing: the grant reads the
 * account row FOR SHARE, which waits for a deletion in progress (it holds the row FOR UPDATE) and then sees
 * `deleted_at`; a grant that locked first commits before the deletion starts its transaction. The caller
 * refunds a payment whose grant says `account_deleted`.
 */
export async function grantPack(db: Db, input: PackGrantInput): Promise<GrantOutcome> {
  const expiresAt = packExpiresAt(input.grantedAt, input.validityMonths);
  return await db.$transaction(async (tx) => {
    const [account] = await tx.$queryRaw<{ deleted_at: Date | null }[]>`
      SELECT deleted_at FROM account WHERE id = ${input.accountId}::uuid FOR SHARE`;
    if (!account || account.deleted_at) {
      // A payment granted before the deletion (its webhook arriving after it) keeps its grant: not refunded.
      const before = await tx.packGrant.count({ where: { sourceKey: input.sourceKey } });
      return before > 0 ? "granted_before" : "account_deleted";
    }
    const inserted = await tx.$executeRaw`
      INSERT INTO pack_grant (id, account_id, pack_id, source_key, minutes, remaining, price_cents, currency,
        granted_at, expires_at)
      VALUES (gen_random_uuid(), ${input.accountId}::uuid, ${input.packId}::uuid, ${input.sourceKey},
        ${input.minutes}, ${input.minutes}, ${input.priceCents}, ${input.currency}, ${input.grantedAt},
        ${expiresAt})
      ON CONFLICT (source_key) DO NOTHING`;
    return inserted > 0 ? "granted" : "granted_before";
  });
}

export interface PackGrantView {
  id: string;
  packName: string | null;
  minutes: number;
  used: number;
  remaining: number;
  /** Minutes left when it expired (0 while it has not). */
  expired: number;
  priceCents: number;
  currency: Currency;
  grantedAt: Date;
  expiresAt: Date;
  state: PackGrantState;
}

export interface PackLedgerView {
  /** Totals: bought = used + expired + remaining. */
  totals: PackLedger;
  /** Minutes usable now, and when the next of them expire. */
  balance: { minutes: number; nextExpiry: { at: Date; minutes: number } | null };
  grants: PackGrantView[];
  /** Minutes drawn per billing period, newest first. */
  periods: { periodStart: Date; minutes: number }[];
}

/** The account's pack minutes at its now: balance, expiry dates, the ledger per pack and per period. */
export async function packLedgerView(
  ports: Pick<Ports, "db" | "clock">,
  accountId: string,
): Promise<PackLedgerView> {
  const subscription = await loadMeteringSubscription(ports.db, accountId);
  const now = nowFor(subscription, ports.clock.now());
  const [grants, periods] = await Promise.all([
    ports.db.$queryRaw<
      {
        id: string;
        pack_name: string | null;
        minutes: number;
        remaining: number;
        drawn: number;
        price_cents: number;
        currency: string;
        granted_at: Date;
        expires_at: Date;
      }[]
    >`
      SELECT g.id::text AS id, p.name AS pack_name, g.minutes, g.remaining, g.price_cents, g.currency,
        g.granted_at, g.expires_at,
        (SELECT COALESCE(sum(d.minutes), 0)::int FROM pack_draw d WHERE d.grant_id = g.id) AS drawn
      FROM pack_grant g LEFT JOIN minute_pack p ON p.id = g.pack_id
      WHERE g.account_id = ${accountId}::uuid
      ORDER BY g.expires_at, g.granted_at, g.id`,
    ports.db.$queryRaw<{ period_start: Date; minutes: number }[]>`
      SELECT period_start, sum(minutes)::int AS minutes FROM pack_draw
      WHERE account_id = ${accountId}::uuid GROUP BY period_start ORDER BY period_start DESC`,
  ]);
  const totals = packLedger(
    grants.map((g) => ({
      minutes: g.minutes,
      remaining: g.remaining,
      drawn: g.drawn,
      expiresAt: g.expires_at,
    })),
    now,
  );
  const views: PackGrantView[] = grants.map((g) => {
    const state = packGrantState({ remaining: g.remaining, expiresAt: g.expires_at }, now);
    return {
      id: g.id,
      packName: g.pack_name,
      minutes: g.minutes,
      used: g.drawn,
      remaining: state === "expired" ? 0 : g.remaining,
      expired: state === "expired" ? g.remaining : 0,
      priceCents: g.price_cents,
      currency: g.currency.trim().toLowerCase() as Currency,
      grantedAt: g.granted_at,
      expiresAt: g.expires_at,
      state,
    };
  });
  // The next expiry: the earliest of the packs with minutes left, and every minute expiring that UTC day.
  const next = views.find((g) => g.state === "active");
  const day = (d: Date) => d.toISOString().slice(0, 10);
  const expiringNext = next
    ? views
        .filter((g) => g.state === "active" && day(g.expiresAt) === day(next.expiresAt))
        .reduce((sum, g) => sum + g.remaining, 0)
    : 0;
  return {
    totals,
    balance: {
      minutes: totals.remaining,
      nextExpiry: next ? { at: next.expiresAt, minutes: expiringNext } : null,
    },
    grants: views,
    periods: periods.map((p) => ({ periodStart: p.period_start, minutes: p.minutes })),
  };
}
