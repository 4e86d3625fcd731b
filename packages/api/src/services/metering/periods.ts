import {
  accountNow,
  type BillingPeriod,
  currentBillingPeriod,
  monthlyPeriodContaining,
} from "@minutely/domain";
import type { Db } from "../../db.ts";
import { loadMeteringSubscription, type MeteringSubscription } from "./subscription.ts";

export interface PeriodPlacement {
  period: BillingPeriod;
  /** The moment lies before the current period: its period is closed (a late event). */
  late: boolean;
}

/**
 * The billing period containing `at`. The subscription's current period is authoritative; earlier
 * moments fall in the monthly periods before it (anchored at its start, so they are closed), later ones
 * in the monthly periods after it (anchored at its end; the subscription has not been synced yet).
 */
export function periodContaining(
  subscription: Pick<MeteringSubscription, "currentPeriodStart" | "currentPeriodEnd">,
  at: Date,
): PeriodPlacement {
  const start = subscription.currentPeriodStart;
  const end = subscription.currentPeriodEnd;
  if (at.getTime() < start.getTime()) {
    return { period: monthlyPeriodContaining(start, at), late: true };
  }
  if (at.getTime() < end.getTime()) return { period: { start, end }, late: false };
  return { period: monthlyPeriodContaining(end, at), late: false };
}

/**
 * The period usage is shown and limits are enforced for, at the account's `now` (see {@link nowFor}):
 * the domain's `currentBillingPeriod`, the one definition every reader uses.
 */
export function currentPeriod(
  subscription: Pick<MeteringSubscription, "currentPeriodStart" | "currentPeriodEnd"> &
    Partial<Pick<MeteringSubscription, "endedAt">>,
  now: Date,
): BillingPeriod {
  // An ended subscription has no period after its last one: that stays the period shown, never one made up.
  if (subscription.endedAt)
    return { start: subscription.currentPeriodStart, end: subscription.currentPeriodEnd };
  return currentBillingPeriod(subscription, now);
}

/**
 * The account's now: its test clock's time when that is ahead of Minutely's clock (`accountNow` of the
 * domain, from the time stored on the subscription row when the clock was advanced or the row synced).
 */
export function nowFor(
  subscription: Pick<MeteringSubscription, "testClockTime"> | null,
  wallNow: Date,
): Date {
  return accountNow(wallNow, subscription?.testClockTime ?? null);
}

/** An account's subscription, its now and its current period: what every current-period reader starts from. */
export interface AccountPeriod {
  subscription: MeteringSubscription;
  now: Date;
  period: BillingPeriod;
}

/** The account's current period by the one rule (null when the account never subscribed). */
export async function loadAccountPeriod(
  ports: { db: Db; clock: { now(): Date } },
  accountId: string,
): Promise<AccountPeriod | null> {
  return accountPeriodOf(await loadMeteringSubscription(ports.db, accountId), ports.clock.now());
}

/** The account's current period from its metered subscription and the wall clock's now. */
export function accountPeriodOf(
  subscription: MeteringSubscription | null,
  wallNow: Date,
): AccountPeriod | null {
  if (!subscription) return null;
  const now = nowFor(subscription, wallNow);
  return { subscription, now, period: currentPeriod(subscription, now) };
}

/** Whether `periodStart` starts the subscription's current period (not a closed one, nor one after it). */
export function isCurrentPeriodOf(
  subscription: Pick<MeteringSubscription, "currentPeriodStart">,
  periodStart: Date,
): boolean {
  return subscription.currentPeriodStart.getTime() === periodStart.getTime();
}
