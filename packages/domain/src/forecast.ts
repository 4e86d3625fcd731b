/**
 * Usage forecasting and plan cost advice.
 *
 * Forecast rule: usage is extrapolated linearly over the period,
 * `projected = ceil(minutesUsed * periodLength / elapsed)` (exact integer maths; a started minute
 * counts). During the first hour of the period ({@link MIN_FORECAST_ELAPSED_MS}) there is too little
 * data, so the forecast is simply `minutesUsed` (no extrapolation); the same holds before the period
 * starts and after it ends. The projection is therefore never below `minutesUsed`.
 */
import {
  addMoney,
  type Currency,
  compareMoney,
  formatMoney,
  type Money,
  subtractMoney,
  zeroMoney,
} from "./money";
import { numberFormat } from "./numbers";
import { type BillingPeriod, periodLengthMs } from "./periods";
import { type PlanDefinition, planNameKey } from "./plans";
import { divideAndRound, toSafeInteger } from "./rounding";
import { assertValidDate, MS_PER_HOUR } from "./time";
import { overageCost } from "./usage";

/** No extrapolation until this much of the period has elapsed. */
export const MIN_FORECAST_ELAPSED_MS = MS_PER_HOUR;

export interface ForecastInput {
  minutesUsed: number;
  period: BillingPeriod;
  now: Date;
  /** Override of {@link MIN_FORECAST_ELAPSED_MS}. */
  minElapsedMs?: number;
}

export interface UsageForecast {
  /** Whole minutes, >= `minutesUsed`. */
  projectedMinutes: number;
  /** Elapsed share of the period, clamped to [0, 1]. */
  elapsedFraction: number;
  /** `false` when the projection is just the current usage (too early, or period over). */
  extrapolated: boolean;
}

/** Projects end-of-period usage from usage so far. See the module documentation for the rule. */
export function forecastUsage(input: ForecastInput): UsageForecast {
  const { minutesUsed, period, now, minElapsedMs = MIN_FORECAST_ELAPSED_MS } = input;
  if (!Number.isSafeInteger(minutesUsed) || minutesUsed < 0) {
    throw new RangeError(`minutesUsed must be a non-negative integer, got ${minutesUsed}`);
  }
  assertValidDate(now, "now");
  assertValidDate(period.start, "period.start");
  assertValidDate(period.end, "period.end");
  const length = periodLengthMs(period);
  if (length === 0) {
    throw new RangeError("The billing period must not be empty");
  }
  const elapsed = Math.min(Math.max(now.getTime() - period.start.getTime(), 0), length);
  const elapsedFraction = elapsed / length;
  if (elapsed < minElapsedMs || elapsed >= length) {
    return { projectedMinutes: minutesUsed, elapsedFraction, extrapolated: false };
  }
  const projected = divideAndRound(BigInt(minutesUsed) * BigInt(length), BigInt(elapsed), "ceil");
  return {
    projectedMinutes: toSafeInteger(projected, "projected minutes"),
    elapsedFraction,
    extrapolated: true,
  };
}

export type CostablePlan = Pick<
  PlanDefinition,
  "monthlyPrice" | "callMinutesLimit" | "overagePricePerMinute"
>;

export interface PlanCost {
  /** Monthly price plus overage for the given minutes (just the price when infeasible). */
  cost: Money;
  /** `false` for hard-cap plans when minutes exceed the limit (calls would be blocked). */
  feasible: boolean;
}

/** What `minutes` of usage would cost on `plan` in one month. */
export function monthlyCostFor(plan: CostablePlan, minutes: number): PlanCost {
  const feasible = plan.overagePricePerMinute !== null || minutes <= plan.callMinutesLimit;
  const overage = overageCost(
    minutes,
    plan.callMinutesLimit,
    plan.overagePricePerMinute,
    plan.monthlyPrice.currency,
  );
  return { cost: addMoney(plan.monthlyPrice, overage), feasible };
}

export type AdvisablePlan = CostablePlan & Pick<PlanDefinition, "name" | "active" | "sortOrder">;

/**
 * The cheapest active plan that can serve `minutes` (hard-cap plans only up to their limit), or
 * `null` when none can. Ties on cost go to the plan with more included minutes (more headroom for
 * the same money), then the lower `sortOrder`, then the name.
 * @throws CurrencyMismatchError when the candidate plans use different currencies.
 */
export function cheapestPlanFor<P extends AdvisablePlan>(minutes: number, plans: readonly P[]): P | null {
  let best: { plan: P; cost: Money } | null = null;
  for (const plan of plans) {
    if (!plan.active) {
      continue;
    }
    const { cost, feasible } = monthlyCostFor(plan, minutes);
    if (feasible && (best === null || isBetter(plan, cost, best.plan, best.cost))) {
      best = { plan, cost };
    }
  }
  return best?.plan ?? null;
}

function isBetter(plan: AdvisablePlan, cost: Money, other: AdvisablePlan, otherCost: Money): boolean {
  const byCost = compareMoney(cost, otherCost);
  if (byCost !== 0) {
    return byCost < 0;
  }
  if (plan.callMinutesLimit !== other.callMinutesLimit) {
    return plan.callMinutesLimit > other.callMinutesLimit;
  }
  if (plan.sortOrder !== other.sortOrder) {
    return plan.sortOrder < other.sortOrder;
  }
  return plan.name < other.name;
}

export interface PlanAdviceInput {
  currentPlan: AdvisablePlan;
  projectedMinutes: number;
  plans: readonly AdvisablePlan[];
  /** Locale for numbers and money in the message; default `en-US`. */
  locale?: string;
}

export interface PlanAdvice {
  kind: "stay" | "upgrade" | "downgrade";
  /** The plan to move to, or the current plan's name for `"stay"`. */
  suggestedPlanName: string;
  /** Monthly saving of the suggestion at the projected usage (zero for `"stay"`, and when the
   * current plan's hard cap makes the comparison moot). */
  monthlySavings: Money;
  message: string;
}

/**
 * Advises whether another plan suits the projected usage better.
 * - If the current plan can serve the usage, suggest the cheapest plan only when it is strictly
 *   cheaper at that usage ("Pro would save $X a month"); otherwise stay.
 * - If the current plan is a hard cap below the usage, suggest the cheapest plan that can serve it.
 * - Plans with the same monthly price as the current plan are never suggested (lateral moves are
 *   not supported, see `checkAction`). `kind` follows the monthly price of the suggested plan.
 */
export function planAdvice(input: PlanAdviceInput): PlanAdvice {
  const { currentPlan, projectedMinutes, plans, locale = "en-US" } = input;
  const currency: Currency = currentPlan.monthlyPrice.currency;
  const currentKey = planNameKey(currentPlan.name);
  const current = monthlyCostFor(currentPlan, projectedMinutes);
  const candidates = plans.filter(
    (plan) =>
      planNameKey(plan.name) === currentKey || plan.monthlyPrice.amount !== currentPlan.monthlyPrice.amount,
  );
  const best = cheapestPlanFor(projectedMinutes, candidates);
  const numbers = numberFormat(locale, { maximumFractionDigits: 0 });
  const pace = `At this pace you will use ${numbers.format(projectedMinutes)} of ${numbers.format(
    currentPlan.callMinutesLimit,
  )} minutes`;
  const stay = (message: string): PlanAdvice => ({
    kind: "stay",
    suggestedPlanName: currentPlan.name,
    monthlySavings: zeroMoney(currency),
    message,
  });

  if (best === null || planNameKey(best.name) === currentKey) {
    return current.feasible
      ? stay(`${pace}; ${currentPlan.name} remains your best option.`)
      : stay(`${pace}, more than ${currentPlan.name} allows; no available package covers that usage.`);
  }
  const kind = best.monthlyPrice.amount > currentPlan.monthlyPrice.amount ? "upgrade" : "downgrade";
  const bestCost = monthlyCostFor(best, projectedMinutes).cost;
  if (!current.feasible) {
    return {
      kind,
      suggestedPlanName: best.name,
      monthlySavings: zeroMoney(currency),
      message: `${pace}, more than ${currentPlan.name} allows; ${best.name} covers it for ${formatMoney(
        bestCost,
        {
          locale,
        },
      )} a month.`,
    };
  }
  const savings = subtractMoney(current.cost, bestCost);
  if (savings.amount <= 0) {
    return stay(`${pace}; ${currentPlan.name} remains your best option.`);
  }
  return {
    kind,
    suggestedPlanName: best.name,
    monthlySavings: savings,
    message: `${pace}; ${best.name} would save ${formatMoney(savings, { locale })} a month.`,
  };
}
