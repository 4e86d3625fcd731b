/**
 * Prepaid minute packs (pure rules, no I/O).
 *
 * Rules:
 * - A pack grants `minutes` (1..{@link MAX_PACK_MINUTES}) for a one-time price in integer minor units
 *   (1..{@link MAX_PACK_PRICE_CENTS}) of a supported currency, usable for `validityMonths`
 *   (1..{@link MAX_PACK_VALIDITY_MONTHS}) months from the purchase ({@link packExpiresAt}: the same day of
 *   the month, clamped to the month's last day, UTC).
 * - The order minutes are paid in: the plan's included minutes first, then packs, then overage (billed,
 *   within the spend cap) or the hard cap. A period's minutes beyond its included ones are drawn from the
 *   packs not expired at the moment of the draw ({@link packMinutesDrawnTotal}), oldest-expiring first
 *   ({@link allocatePackDraw}); only what packs could not cover is overage ({@link overageAfterPacks}).
 *   A minute drawn from a pack is never billed as overage.
 * - Draws move only forward: a period's drawn minutes never shrink (a pack paid for is used up; nothing is
 *   given back to a pack).
 * - A grant's minutes left at its expiry are expired: the ledger always balances,
 *   `bought = used + expired + remaining` ({@link packLedger}).
 */
import { assertNever } from "./exhaustive";

import { isCurrency } from "./money";
import { addMonthsClamped } from "./periods";

export const MAX_PACK_MINUTES = 1_000_000;
export const MAX_PACK_PRICE_CENTS = 10_000_000;
export const MAX_PACK_VALIDITY_MONTHS = 36;
export const MAX_PACK_NAME_LENGTH = 60;

export interface MinutePackTerms {
  name: string;
  minutes: number;
  priceCents: number;
  currency: string;
  validityMonths: number;
}

export type MinutePackField = keyof MinutePackTerms;

/** Why a pack cannot be defined as given: the field and what to say, or null when it can. */
export function minutePackProblem(
  terms: MinutePackTerms,
): { field: MinutePackField; message: string } | null {
  const name = terms.name.trim();
  if (name.length === 0) return { field: "name", message: "Give the pack a name." };
  if (name.length > MAX_PACK_NAME_LENGTH) {
    return { field: "name", message: `The name can be at most ${MAX_PACK_NAME_LENGTH} characters.` };
  }
  const ranges: [MinutePackField, number, number, string][] = [
    ["minutes", 1, MAX_PACK_MINUTES, "minutes"],
    ["priceCents", 1, MAX_PACK_PRICE_CENTS, "the price in cents"],
    ["validityMonths", 1, MAX_PACK_VALIDITY_MONTHS, "the validity in months"],
  ];
  for (const [field, min, max, what] of ranges) {
    const value = terms[field] as number;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      return { field, message: `Enter ${what} as a whole number from ${min} to ${max}.` };
    }
  }
  if (!isCurrency(terms.currency)) {
    return { field: "currency", message: "The currency must be one of usd, eur or gbp." };
  }
  return null;
}

/** When a pack bought at `grantedAt` expires: `validityMonths` later (clamped to the month's end, UTC). */
export function packExpiresAt(grantedAt: Date, validityMonths: number): Date {
  return addMonthsClamped(grantedAt, validityMonths);
}

export interface PackGrantBalance {
  id: string;
  remaining: number;
  expiresAt: Date;
  grantedAt: Date;
}

/** Whether a grant's minutes can be drawn at `at` (it has not expired). */
export function isPackUsableAt(grant: Pick<PackGrantBalance, "expiresAt">, at: Date): boolean {
  return grant.expiresAt.getTime() > at.getTime();
}

/**
 * The minutes of a period drawn from packs in total after its usage reached `minutesUsed`: the minutes
 * beyond the included ones, as far as the minutes drawn so far and those still `available` (unexpired
 * packs' remaining minutes) cover them; never fewer than already drawn.
 */
export function packMinutesDrawnTotal(input: {
  minutesUsed: number;
  limit: number;
  drawn: number;
  available: number;
}): number {
  const beyond = Math.max(0, input.minutesUsed - input.limit);
  return Math.max(input.drawn, Math.min(beyond, input.drawn + Math.max(0, input.available)));
}

/** The overage minutes of a period once packs paid for what they drew: never a minute drawn from a pack. */
export function overageAfterPacks(input: { minutesUsed: number; limit: number; drawn: number }): number {
  return Math.max(0, input.minutesUsed - input.limit - Math.max(0, input.drawn));
}

/**
 * Which grants pay for `minutes` drawn at `at`: the unexpired ones, oldest-expiring first (then oldest
 * bought, then by id, so the order is total). Throws when they cannot pay for all of them (a caller draws
 * at most what is available).
 */
export function allocatePackDraw(
  grants: readonly PackGrantBalance[],
  minutes: number,
  at: Date,
): { grantId: string; minutes: number }[] {
  if (!Number.isSafeInteger(minutes) || minutes < 0) throw new RangeError(`cannot draw ${minutes} minutes`);
  const usable = grants
    .filter((g) => isPackUsableAt(g, at) && g.remaining > 0)
    .sort(
      (a, b) =>
        a.expiresAt.getTime() - b.expiresAt.getTime() ||
        a.grantedAt.getTime() - b.grantedAt.getTime() ||
        (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
  const out: { grantId: string; minutes: number }[] = [];
  let left = minutes;
  for (const grant of usable) {
    if (left === 0) break;
    const take = Math.min(left, grant.remaining);
    out.push({ grantId: grant.id, minutes: take });
    left -= take;
  }
  if (left > 0) throw new RangeError(`packs hold ${minutes - left} of the ${minutes} minutes to draw`);
  return out;
}

export interface PackLedger {
  bought: number;
  used: number;
  expired: number;
  remaining: number;
}

export type PackGrantState = "active" | "expired" | "used_up";

/** The state of a grant at `at`. */
export function packGrantState(
  grant: Pick<PackGrantBalance, "remaining" | "expiresAt">,
  at: Date,
): PackGrantState {
  if (!isPackUsableAt(grant, at)) return "expired";
  return grant.remaining > 0 ? "active" : "used_up";
}

/**
 * The ledger of an account's packs at `at`: bought, used (drawn), expired (left when they expired) and
 * remaining (usable now). Throws when a grant's draws do not add up (the ledger must balance).
 */
export function packLedger(
  grants: readonly { minutes: number; remaining: number; drawn: number; expiresAt: Date }[],
  at: Date,
): PackLedger {
  const ledger: PackLedger = { bought: 0, used: 0, expired: 0, remaining: 0 };
  for (const grant of grants) {
    if (grant.minutes !== grant.drawn + grant.remaining) {
      throw new Error(
        `a pack grant of ${grant.minutes} minutes drew ${grant.drawn} and has ${grant.remaining} left`,
      );
    }
    ledger.bought += grant.minutes;
    ledger.used += grant.drawn;
    const state = packGrantState(grant, at);
    switch (state) {
      case "expired":
        ledger.expired += grant.remaining;
        break;
      case "active":
      case "used_up":
        ledger.remaining += grant.remaining;
        break;
      default:
        assertNever(state, "pack grant state");
    }
  }
  return ledger;
}

/** The balance usable at `at`: remaining minutes of unexpired grants. */
export function packMinutesAvailable(
  grants: readonly Pick<PackGrantBalance, "remaining" | "expiresAt">[],
  at: Date,
): number {
  return grants.reduce((sum, g) => sum + (isPackUsableAt(g, at) ? Math.max(0, g.remaining) : 0), 0);
}

/** Auto top-up: the threshold's range (minutes of pack balance) and the most top-ups a month. */
export const MAX_AUTO_TOP_UP_THRESHOLD_MINUTES = 1_000_000;
export const MAX_AUTO_TOP_UPS_PER_MONTH = 10;

/** The calendar month (UTC) an automatic top-up at `at` counts against: "2026-11". */
export function topUpMonth(at: Date): string {
  return at.toISOString().slice(0, 7);
}

/**
 * Whether an automatic top-up is due: settings on, not stopped by a failed one, the usable balance below
 * the threshold, and fewer than the monthly maximum made (claimed) this month.
 */
export function autoTopUpDue(input: {
  thresholdMinutes: number | null;
  maxPerMonth: number | null;
  stopped: boolean;
  balanceMinutes: number;
  claimedThisMonth: number;
}): boolean {
  if (input.thresholdMinutes === null || input.maxPerMonth === null || input.stopped) return false;
  return input.balanceMinutes < input.thresholdMinutes && input.claimedThisMonth < input.maxPerMonth;
}
