/**
 * Which package governs a billing period: the one the subscription had while that period was current.
 *
 * A period's minutes are measured against its package's included minutes, and the minutes beyond them are
 * billed at its overage price, in its currency, even when the report arrives (or the billing job runs)
 * after the customer has moved to another package. So the period keeps a record of its package's terms:
 * - While the period is the subscription's current period, the subscription's package is the period's
 *   package: an upgrade takes effect at once and applies to the whole current period.
 * - Once the period has closed, its record stays: a later change of package never reprices it.
 * - A period without a record takes the package of the subscription as read now (the best there is).
 *
 * Reads of the subscription can commit out of order, so every record carries the version of the read it
 * came from (the subscription's sync ticket, which only grows) and an older read never replaces it.
 */
import type { Currency, Money } from "./money";

/** The terms of a package that decide a period's overage. */
export interface PeriodPlanTerms {
  planId: string | null;
  callMinutesLimit: number;
  /** Price of one minute beyond the limit; null means a hard cap (nothing is billed beyond it). */
  overagePrice: Money | null;
  currency: Currency;
}

/** Terms as recorded for a period, or offered by a read of the subscription, with that read's version. */
export interface VersionedPeriodPlan extends PeriodPlanTerms {
  version: bigint;
}

function sameTerms(a: PeriodPlanTerms, b: PeriodPlanTerms): boolean {
  return (
    a.planId === b.planId &&
    a.callMinutesLimit === b.callMinutesLimit &&
    a.currency === b.currency &&
    a.overagePrice?.amount === b.overagePrice?.amount &&
    a.overagePrice?.currency === b.overagePrice?.currency
  );
}

/**
 * Whether a period's record is to be replaced by the terms a read of the subscription offers (see the
 * module comment). False when nothing would change, so callers write only real changes.
 */
export function shouldRecordPeriodPlan(input: {
  recorded: VersionedPeriodPlan | null;
  offered: VersionedPeriodPlan;
  /** The period is the subscription's current period in the read that offers the terms. */
  periodIsCurrent: boolean;
}): boolean {
  const { recorded, offered, periodIsCurrent } = input;
  if (recorded === null) return true;
  if (!periodIsCurrent || offered.version < recorded.version) return false;
  return offered.version > recorded.version || !sameTerms(recorded, offered);
}
