/**
 * What a customer loses when their package changes to another (a downgrade): the features of the current
 * package the new one lacks, and the allowances that shrink. Computed from the packages' own data, so the
 * downgrade dialog says exactly what this catalog's packages differ in.
 */
import type { Money } from "./money";
import type { PlanDefinition, PlanFeatures } from "./plans";

/** A name for every feature flag; a new flag in {@link PlanFeatures} does not compile without one. */
export const PLAN_FEATURE_LABELS: { readonly [K in keyof PlanFeatures]: string } = Object.freeze({
  analytics: "Analytics",
  apiAccess: "API access",
});

export type ChangeablePlan = Pick<
  PlanDefinition,
  "callMinutesLimit" | "agentsAllowed" | "features" | "overagePricePerMinute"
>;

export type PlanLoss =
  | { kind: "feature"; feature: keyof PlanFeatures; label: string }
  | { kind: "callMinutes"; from: number; to: number }
  | { kind: "agents"; from: number; to: number }
  /** Minutes beyond the limit were billed at `price`; on the new package calls stop at the limit. */
  | { kind: "overage"; price: Money };

/** What `to` no longer has of `from`, features first (in {@link PLAN_FEATURE_LABELS} order). */
export function lossesOnChange(from: ChangeablePlan, to: ChangeablePlan): PlanLoss[] {
  const losses: PlanLoss[] = [];
  for (const feature of Object.keys(PLAN_FEATURE_LABELS) as (keyof PlanFeatures)[]) {
    if (from.features[feature] && !to.features[feature]) {
      losses.push({ kind: "feature", feature, label: PLAN_FEATURE_LABELS[feature] });
    }
  }
  if (to.callMinutesLimit < from.callMinutesLimit) {
    losses.push({ kind: "callMinutes", from: from.callMinutesLimit, to: to.callMinutesLimit });
  }
  if (to.agentsAllowed < from.agentsAllowed) {
    losses.push({ kind: "agents", from: from.agentsAllowed, to: to.agentsAllowed });
  }
  if (from.overagePricePerMinute !== null && to.overagePricePerMinute === null) {
    losses.push({ kind: "overage", price: from.overagePricePerMinute });
  }
  return losses;
}
