/**
 * Free trials, pure rules.
 *
 * Decisions (documented contract, docs/billing.md "Free trials"):
 * - A package may offer a trial: a whole number of days (1-90) and whether a card is required to start it.
 *   No trial (`null`) is the default.
 * - **One trial per account, ever.** An account that has had a trial (any subscription of it, canceled ones
 *   included, with a trial start) gets no other; nor does a card that already started a trial for another
 *   account (the card's fingerprint, see {@link trialEligibility}): such a subscription starts paid.
 * - A trial without a card ends as Stripe's `trial_settings.end_behavior.missing_payment_method` says;
 *   Minutely asks for `pause`: the subscription is `paused` (no calls) until a card is added.
 * - During a trial the package's included minutes and agents apply, and **no overage is billed**: calls stop
 *   at the allowance (outbound calls past it are denied `TRIAL_ALLOWANCE_REACHED`; inbound ones follow the
 *   over-cap policy and are recorded over the cap, never billed).
 * - Plan changes during a trial: an **upgrade** takes effect at once with nothing charged and no proration
 *   ({@link trialPlanChange}); the trial keeps its end date (no second trial, no extension) and the new
 *   package's allowance applies from then on. A **downgrade** is scheduled, as always, for the end of the
 *   period, which during a trial is the trial's end: the first charge is at the cheaper price.
 */

/** The trial a package offers. */
export interface PlanTrial {
  /** Length of the trial in days. */
  days: number;
  /** Whether Checkout asks for a card before the trial starts. */
  requiresCard: boolean;
}

export const TRIAL_LIMITS = Object.freeze({ minDays: 1, maxDays: 90 });

/** A problem with a trial setting, naming its field. */
export interface TrialIssue {
  field: "trialDays" | "trialRequiresCard";
  message: string;
}

/**
 * Checks a package's trial settings as received (unknown JSON values: wrong types are refused, never
 * coerced). `trialDays` null means no trial; `trialRequiresCard` must then be absent or a boolean.
 */
export function validateTrial(input: { trialDays?: unknown; trialRequiresCard?: unknown }): TrialIssue[] {
  const issues: TrialIssue[] = [];
  const { trialDays, trialRequiresCard } = input;
  if (trialDays !== null && trialDays !== undefined) {
    if (typeof trialDays !== "number" || !Number.isInteger(trialDays)) {
      issues.push({
        field: "trialDays",
        message: "Trial days must be a whole number (or null for no trial).",
      });
    } else if (trialDays < TRIAL_LIMITS.minDays || trialDays > TRIAL_LIMITS.maxDays) {
      issues.push({
        field: "trialDays",
        message: `Trial days must be between ${TRIAL_LIMITS.minDays} and ${TRIAL_LIMITS.maxDays}.`,
      });
    }
  }
  if (trialRequiresCard !== undefined && typeof trialRequiresCard !== "boolean") {
    issues.push({ field: "trialRequiresCard", message: "Whether a card is required must be true or false." });
  }
  return issues;
}

/** A package's trial from its stored columns (`trial_days` null: none). */
export function planTrialOf(row: { trialDays: number | null; trialRequiresCard: boolean }): PlanTrial | null {
  return row.trialDays === null ? null : { days: row.trialDays, requiresCard: row.trialRequiresCard };
}

/** A summary for people: "14-day free trial, no card required". */
export function trialSummary(trial: PlanTrial): string {
  return `${trial.days}-day free trial${trial.requiresCard ? "" : ", no card required"}`;
}

export type TrialIneligibility = "ACCOUNT_HAD_TRIAL" | "CARD_HAD_TRIAL" | "NO_TRIAL_OFFERED";

export type TrialEligibility =
  | { eligible: true; trial: PlanTrial }
  | { eligible: false; reason: TrialIneligibility; message: string };

/**
 * Whether a new subscription to a package starts with its trial: the package offers one, the account never had
 * one, and the card (when one is known: its fingerprint) never started a trial of another account.
 */
export function trialEligibility(input: {
  trial: PlanTrial | null;
  accountHadTrial: boolean;
  cardHadTrialElsewhere?: boolean;
}): TrialEligibility {
  if (input.trial === null) {
    return { eligible: false, reason: "NO_TRIAL_OFFERED", message: "This package has no free trial." };
  }
  if (input.accountHadTrial) {
    return {
      eligible: false,
      reason: "ACCOUNT_HAD_TRIAL",
      message: "This account has already had its free trial.",
    };
  }
  if (input.cardHadTrialElsewhere === true) {
    return {
      eligible: false,
      reason: "CARD_HAD_TRIAL",
      message: "This card has already been used for a free trial.",
    };
  }
  return { eligible: true, trial: input.trial };
}

/** Whether a subscription is in its trial at `now`: Stripe says `trialing` and the trial has not ended. */
export function isInTrial(status: string, trialEnd: Date | null, now: Date): boolean {
  return status === "trialing" && (trialEnd === null || now.getTime() < trialEnd.getTime());
}

/** Whole days left in a trial at `now` (rounded up; 0 once it ended). */
export function trialDaysLeft(trialEnd: Date, now: Date): number {
  const ms = trialEnd.getTime() - now.getTime();
  return ms <= 0 ? 0 : Math.ceil(ms / 86_400_000);
}

/** When the customer is warned that a trial ends (Stripe's `customer.subscription.trial_will_end`). */
export const TRIAL_WARNING_DAYS = 3;

/** Whether the trial's end is near enough at `now` to show the "Add a card" banner (3 days or less left). */
export function trialEndingSoon(trialEnd: Date, now: Date): boolean {
  const left = trialEnd.getTime() - now.getTime();
  return left > 0 && left <= TRIAL_WARNING_DAYS * 86_400_000;
}

/**
 * How an upgrade is made during a trial: at once, without proration or a charge, the trial keeping its end
 * (Stripe: `proration_behavior: none`, `trial_end` unchanged). Outside a trial (null) the usual rules apply.
 */
export function trialPlanChange(inTrial: boolean): { immediate: true; prorate: false } | null {
  return inTrial ? { immediate: true, prorate: false } : null;
}
