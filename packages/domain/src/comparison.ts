/**
 * Feature comparison tables for the pricing page and the seed contract's `feature_comparison` JSON.
 *
 * The seed contract's cell texts are kept exactly: `"1000 minutes"` (no thousands separator),
 * `"1 agent"` / `"5 agents"` (singular/plural), and `"✅ Yes"` / `"❌ No"` for boolean features. The rows
 * the apps show write numbers as everywhere else in the apps (`"1,000 minutes"`, see `numbers.ts`) and
 * yes/no as words (`"Yes"`, with the included flag for the icon, which screen readers do not spell out).
 */
import { DomainError } from "./errors";
import { assertNever } from "./exhaustive";
import { formatAgents, formatMinutes } from "./numbers";
import type { PlanDefinition } from "./plans";

export const COMPARISON_FEATURES = [
  "Monthly Call Minutes",
  "Number of Agents",
  "Analytics",
  "API Access",
] as const;

export type ComparisonFeature = (typeof COMPARISON_FEATURES)[number];

export type ComparablePlan = Pick<PlanDefinition, "name" | "callMinutesLimit" | "agentsAllowed" | "features">;

/** The seed contract's column-oriented comparison: one array of cells per package, in feature order. */
export interface FeatureComparison {
  features: string[];
  packages: Record<string, string[]>;
}

export interface ComparisonCell {
  planName: string;
  /** As people read it: `"1,000 minutes"`, `"5 agents"`, `"Yes"`. */
  value: string;
  /** For yes/no features whether the plan includes it; `null` for quantities. */
  included: boolean | null;
}

export interface ComparisonRow {
  feature: ComparisonFeature;
  cells: ComparisonCell[];
}

/** The seed contract's text: `"1 minute"`, `"1000 minutes"`, `"0 minutes"` (no separators). */
export function formatMinutesCount(minutes: number): string {
  return `${minutes} ${minutes === 1 ? "minute" : "minutes"}`;
}

/** The seed contract's text: `"1 agent"`, `"5 agents"`. */
export function formatAgentsCount(agents: number): string {
  return `${agents} ${agents === 1 ? "agent" : "agents"}`;
}

function yesNo(value: boolean, style: ComparisonStyle): string {
  if (style === "seedContract") return value ? "✅ Yes" : "❌ No";
  return value ? "Yes" : "No";
}

/** How cell texts are written: for people (the apps) or as the seed contract's JSON has them. */
export type ComparisonStyle = "display" | "seedContract";

/** The value of one feature for one plan. */
export function comparisonCell(
  plan: ComparablePlan,
  feature: ComparisonFeature,
  style: ComparisonStyle = "display",
): ComparisonCell {
  const seedContract = style === "seedContract";
  switch (feature) {
    case "Monthly Call Minutes":
      return {
        planName: plan.name,
        value: (seedContract ? formatMinutesCount : formatMinutes)(plan.callMinutesLimit),
        included: null,
      };
    case "Number of Agents":
      return {
        planName: plan.name,
        value: (seedContract ? formatAgentsCount : formatAgents)(plan.agentsAllowed),
        included: null,
      };
    case "Analytics":
      return {
        planName: plan.name,
        value: yesNo(plan.features.analytics, style),
        included: plan.features.analytics,
      };
    case "API Access":
      return {
        planName: plan.name,
        value: yesNo(plan.features.apiAccess, style),
        included: plan.features.apiAccess,
      };
    default:
      return assertNever(feature, "comparison feature");
  }
}

function assertUniqueNames(plans: readonly ComparablePlan[]): void {
  const seen = new Set<string>();
  for (const plan of plans) {
    if (seen.has(plan.name)) {
      throw new DomainError("DUPLICATE_PLAN_NAME", `Package "${plan.name}" appears more than once`);
    }
    seen.add(plan.name);
  }
}

/**
 * Column-oriented comparison (the seed contract's JSON): `packages[name]` lists the cells in the order of
 * `features`. Packages keep the order they are given in (insertion order of the record).
 * @throws DomainError `DUPLICATE_PLAN_NAME` when two plans share a name (they would collide).
 */
export function buildFeatureComparison(plans: readonly ComparablePlan[]): FeatureComparison {
  assertUniqueNames(plans);
  const entries = plans.map(
    (plan) =>
      [
        plan.name,
        COMPARISON_FEATURES.map((feature) => comparisonCell(plan, feature, "seedContract").value),
      ] as const,
  );
  // Object.fromEntries defines own properties, so names such as "__proto__" are safe.
  return { features: [...COMPARISON_FEATURES], packages: Object.fromEntries(entries) };
}

/**
 * Row-oriented comparison for UI tables: one row per feature, one cell per plan in the given order, its
 * numbers written as the apps write them (`"10,000 minutes"`).
 * @throws DomainError `DUPLICATE_PLAN_NAME` when two plans share a name.
 */
export function buildComparisonRows(plans: readonly ComparablePlan[]): ComparisonRow[] {
  assertUniqueNames(plans);
  return COMPARISON_FEATURES.map((feature) => ({
    feature,
    cells: plans.map((plan) => comparisonCell(plan, feature)),
  }));
}
