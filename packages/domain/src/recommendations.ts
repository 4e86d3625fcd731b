/**
 * Plan recommendations for the pricing page and sign-up flow.
 */
import { type AdvisablePlan, cheapestPlanFor } from "./forecast";
import { type PlanDefinition, sortPlans } from "./plans";

/**
 * The active plan flagged `recommended`, or `null` when no active plan is flagged. If an invalid
 * catalog flags several, the first in display order wins (deterministic).
 */
export function recommendedPlan<
  P extends Pick<PlanDefinition, "active" | "recommended" | "sortOrder" | "name">,
>(plans: readonly P[]): P | null {
  return sortPlans(plans.filter((plan) => plan.active && plan.recommended))[0] ?? null;
}

/**
 * The cheapest active plan for the expected usage: it must allow at least `expectedAgents` agents
 * and serve `expectedMinutes` (within its limit, or beyond it via overage, whose cost counts).
 * Ties follow `cheapestPlanFor`. `null` when nothing fits.
 * @throws RangeError for negative or non-integer expectations.
 */
export function recommendForUsage<P extends AdvisablePlan & Pick<PlanDefinition, "agentsAllowed">>(
  expectedMinutes: number,
  expectedAgents: number,
  plans: readonly P[],
): P | null {
  for (const [name, value] of [
    ["expectedMinutes", expectedMinutes],
    ["expectedAgents", expectedAgents],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
    }
  }
  return cheapestPlanFor(
    expectedMinutes,
    plans.filter((plan) => plan.agentsAllowed >= expectedAgents),
  );
}
