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
 * - A hard cap already reached (`capReached`: the included minutes are used up, so outbound calls are
 *   paused) is a fact, not a forecast: however early in the period, the advice is then the cheapest plan
 *   that allows more minutes (an upgrade), unless the projection already advises one.
 */
import {
  type AdvisablePlan,
  cheapestPlanFor,
  forecastUsage,
  monthlyCostFor,
  type PlanAdvice,
  planAdvice,
  type UsageForecast,
} from "./forecast";
import { formatMoney, type Money, zeroMoney } from "./money";
import { numberFormat } from "./numbers";
import type { BillingPeriod } from "./periods";
import { planNameKey } from "./plans";
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
  /**
   * Hard-cap plans only: the included minutes are used up now, so outbound calls are paused until the
   * period ends (inbound calls are still answered). Known from the usage so far, so never "too early".
   */
  capReached: boolean;
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
  const capReached = hardCap && minutesUsed >= limit;
  const advised = planAdvice({ currentPlan, projectedMinutes: projected, plans: comparable, locale });
  const numbers = numberFormat(locale ?? "en-US", { maximumFractionDigits: 0 });
  const advice: PlanAdvice =
    capReached && advised.kind !== "upgrade"
      ? capAdvice(currentPlan, minutesUsed, comparable, locale ?? "en-US")
      : tooEarly && advised.kind !== "upgrade"
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
    capReached,
    tooEarly,
    advice,
  };
}

/**
 * The advice once a hard cap is reached: the cheapest other plan that allows more minutes than used so far
 * (usage only grows, and more calls need more minutes), or "stay" when no plan offers more.
 */
function capAdvice(
  currentPlan: AdvisablePlan,
  minutesUsed: number,
  plans: readonly AdvisablePlan[],
  locale: string,
): PlanAdvice {
  const currency = currentPlan.monthlyPrice.currency;
  const numbers = numberFormat(locale, { maximumFractionDigits: 0 });
  const usedUp = `You have used ${numbers.format(minutesUsed)} of the ${numbers.format(
    currentPlan.callMinutesLimit,
  )} minutes ${currentPlan.name} includes`;
  const others = plans.filter((plan) => planNameKey(plan.name) !== planNameKey(currentPlan.name));
  const best = cheapestPlanFor(Math.max(minutesUsed, currentPlan.callMinutesLimit) + 1, others);
  if (!best) {
    return {
      kind: "stay",
      suggestedPlanName: currentPlan.name,
      monthlySavings: zeroMoney(currency),
      message: `${usedUp}; no available package offers more.`,
    };
  }
  return {
    kind: best.monthlyPrice.amount > currentPlan.monthlyPrice.amount ? "upgrade" : "downgrade",
    suggestedPlanName: best.name,
    monthlySavings: zeroMoney(currency),
    message: `${usedUp}; ${best.name} lets you keep calling, for ${formatMoney(best.monthlyPrice, {
      locale,
    })} a month.`,
  };
}
