/**
 * The usage outlook of a billing period, for the customer dashboard: where usage will end at the current
 * pace ({@link forecastUsage}), what that costs beyond the included minutes on the current plan, and
 * whether another plan would serve it for less ({@link planAdvice}).
 *
 * Rules:
 * - Only plans in the current plan's currency are compared (there is no conversion); others are ignored
 *   rather than failing the whole outlook.
 * - Overage is projected with the current plan's overage price; a hard-cap plan projects no overage cost
 *   but reports `projectedToHitCap` when the projection exceeds its limit (outbound calls would pause).
 * - Too early in the period (no extrapolation yet, see `forecastUsage`) the usage so far is only a lower
 *   bound of the period's usage: advice to upgrade still holds (usage only grows), but a cheaper plan or
 *   "stay" cannot be concluded, so the advice is "stay" with a message saying it is too early.
 */
import {
  type AdvisablePlan,
  forecastUsage,
  monthlyCostFor,
  type PlanAdvice,
  planAdvice,
  type UsageForecast,
} from "./forecast";
import { type Money, zeroMoney } from "./money";
import type { BillingPeriod } from "./periods";
import { overageCost, overageMinutes } from "./usage";

export interface UsageOutlookInput {
  minutesUsed: number;
  period: BillingPeriod;
  now: Date;
  currentPlan: AdvisablePlan;
  /** The catalog to advise from; archived plans and plans in another currency are ignored. */
  plans: readonly AdvisablePlan[];
  /** Locale of the advice message; default `en-US`. */
  locale?: string;
  /** Override of the forecast's minimum elapsed time (see `forecastUsage`). */
  minElapsedMs?: number;
}

export interface UsageOutlook extends UsageForecast {
  minutesLimit: number;
  /** Projected minutes beyond the included ones (whatever the overage policy). */
  projectedMinutesOver: number;
  /** Projected cost of the minutes beyond the limit on the current plan; zero on a hard cap. */
  projectedOverageCost: Money;
  /** Monthly price plus the projected overage cost, on the current plan. */
  projectedMonthlyCost: Money;
  /** Hard-cap plans only: the projection exceeds the included minutes. */
  projectedToHitCap: boolean;
  /** The period is under way but too young to extrapolate: the projection is the usage so far. */
  tooEarly: boolean;
  advice: PlanAdvice;
}

/** The outlook of the current period. @throws RangeError for invalid minutes, dates or an empty period. */
export function usageOutlook(input: UsageOutlookInput): UsageOutlook {
  const { minutesUsed, period, now, currentPlan, plans, locale, minElapsedMs } = input;
  const forecast = forecastUsage({ minutesUsed, period, now, minElapsedMs });
  const projected = forecast.projectedMinutes;
  const limit = currentPlan.callMinutesLimit;
  const currency = currentPlan.monthlyPrice.currency;
  const comparable = plans.filter((plan) => plan.monthlyPrice.currency === currency);
  const hardCap = currentPlan.overagePricePerMinute === null;
  const tooEarly = !forecast.extrapolated && forecast.elapsedFraction < 1;
  const advised = planAdvice({ currentPlan, projectedMinutes: projected, plans: comparable, locale });
  const numbers = new Intl.NumberFormat(locale ?? "en-US", { maximumFractionDigits: 0 });
  const advice: PlanAdvice =
    tooEarly && advised.kind !== "upgrade"
      ? {
          kind: "stay",
          suggestedPlanName: currentPlan.name,
          monthlySavings: zeroMoney(currency),
          message: `So far you have used ${numbers.format(minutesUsed)} of ${numbers.format(
            limit,
          )} minutes; it is too early in the billing period for a forecast.`,
        }
      : advised;
  return {
    ...forecast,
    minutesLimit: limit,
    projectedMinutesOver: overageMinutes(projected, limit),
    projectedOverageCost: overageCost(projected, limit, currentPlan.overagePricePerMinute, currency),
    projectedMonthlyCost: monthlyCostFor(currentPlan, projected).cost,
    projectedToHitCap: hardCap && projected > limit,
    tooEarly,
    advice,
  };
}
