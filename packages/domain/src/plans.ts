/**
 * Package (plan) catalog: the definition shape, the default catalog and validation rules.
 */
import { type Currency, isCurrency, type Money, money } from "./money";

export interface PlanFeatures {
  analytics: boolean;
  apiAccess: boolean;
}

export interface PlanDefinition {
  /** Display name; unique within a catalog (case-insensitive), 1..60 characters. */
  name: string;
  description: string;
  monthlyPrice: Money;
  /** Included call minutes per billing period. */
  callMinutesLimit: number;
  agentsAllowed: number;
  features: PlanFeatures;
  /** Price per minute above the limit; `null` means a hard cap at the limit (no overage). */
  overagePricePerMinute: Money | null;
  /** At most one active plan in a catalog may be recommended. */
  recommended: boolean;
  /** Archived plans (`false`) cannot be chosen for new subscriptions or plan changes. */
  active: boolean;
  /** Ascending display order. */
  sortOrder: number;
}

/** A problem found by {@link validatePlan} or {@link validateCatalog}. */
export interface ValidationIssue {
  /** Path of the offending field, e.g. `"name"` or `"plans[1].monthlyPrice"`. */
  field: string;
  message: string;
}

export const PLAN_NAME_MAX_LENGTH = 60;
export const PLAN_DESCRIPTION_MAX_LENGTH = 500;

function deepFreezePlan(plan: PlanDefinition): PlanDefinition {
  Object.freeze(plan.features);
  return Object.freeze(plan);
}

/** The catalog shipped with Minutely (seed data and the public pricing page defaults). */
export const DEFAULT_PLANS: readonly PlanDefinition[] = Object.freeze(
  [
    {
      name: "Starter",
      description: "For solo operators getting started: 1,000 call minutes and a single agent.",
      monthlyPrice: money(2900, "usd"),
      callMinutesLimit: 1000,
      agentsAllowed: 1,
      features: { analytics: false, apiAccess: false },
      overagePricePerMinute: null,
      recommended: false,
      active: true,
      sortOrder: 1,
    },
    {
      name: "Pro",
      description: "For growing teams: call analytics, up to 5 agents and pay-as-you-go overage.",
      monthlyPrice: money(9900, "usd"),
      callMinutesLimit: 3000,
      agentsAllowed: 5,
      features: { analytics: true, apiAccess: false },
      overagePricePerMinute: money(3, "usd"),
      recommended: true,
      active: true,
      sortOrder: 2,
    },
    {
      name: "Enterprise",
      description: "For contact centers: API access, 25 agents and the lowest overage rate.",
      monthlyPrice: money(29900, "usd"),
      callMinutesLimit: 10000,
      agentsAllowed: 25,
      features: { analytics: true, apiAccess: true },
      overagePricePerMinute: money(2, "usd"),
      recommended: false,
      active: true,
      sortOrder: 3,
    },
  ].map(deepFreezePlan),
);

function isNonNegativeSafeInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function isMoneyLike(value: unknown): value is Money {
  return typeof value === "object" && value !== null && "amount" in value && "currency" in value;
}

function validatePrice(value: unknown, field: string, label: string): ValidationIssue[] {
  if (!isMoneyLike(value)) {
    return [{ field, message: `${label} is required` }];
  }
  const issues: ValidationIssue[] = [];
  if (!isNonNegativeSafeInteger(value.amount)) {
    issues.push({ field, message: `${label} must be a whole number of cents, zero or more` });
  }
  if (!isCurrency(value.currency)) {
    issues.push({ field, message: `${label} has an unsupported currency` });
  }
  return issues;
}

/**
 * Validates a single plan. Rules:
 * - `name`: 1..60 characters after trimming.
 * - `description`: a string of at most 500 characters (may be empty).
 * - `monthlyPrice`: integer minor units >= 0 in a supported currency.
 * - `callMinutesLimit`: integer >= 0.
 * - `agentsAllowed`: integer >= 1.
 * - `overagePricePerMinute`: `null` (hard cap) or integer minor units >= 0 in the same currency as
 *   `monthlyPrice`.
 * - `features.*`, `recommended`, `active`: booleans; an archived plan cannot be recommended.
 * - `sortOrder`: an integer (may be negative).
 *
 * The checks are defensive at runtime, so the function is safe to call on parsed JSON.
 * Returns an empty list when the plan is valid.
 */
export function validatePlan(input: PlanDefinition): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const name = typeof input.name === "string" ? input.name.trim() : "";
  if (name.length === 0) {
    issues.push({ field: "name", message: "Name is required" });
  } else if (name.length > PLAN_NAME_MAX_LENGTH) {
    issues.push({ field: "name", message: `Name must be at most ${PLAN_NAME_MAX_LENGTH} characters` });
  }
  if (typeof input.description !== "string") {
    issues.push({ field: "description", message: "Description must be text" });
  } else if (input.description.length > PLAN_DESCRIPTION_MAX_LENGTH) {
    issues.push({
      field: "description",
      message: `Description must be at most ${PLAN_DESCRIPTION_MAX_LENGTH} characters`,
    });
  }
  issues.push(...validatePrice(input.monthlyPrice, "monthlyPrice", "Monthly price"));
  if (!isNonNegativeSafeInteger(input.callMinutesLimit)) {
    issues.push({ field: "callMinutesLimit", message: "Call minutes must be a whole number, zero or more" });
  }
  if (!isNonNegativeSafeInteger(input.agentsAllowed) || input.agentsAllowed < 1) {
    issues.push({ field: "agentsAllowed", message: "Agents allowed must be a whole number, at least 1" });
  }
  if (input.overagePricePerMinute !== null) {
    const overageIssues = validatePrice(
      input.overagePricePerMinute,
      "overagePricePerMinute",
      "Overage price",
    );
    issues.push(...overageIssues);
    if (
      overageIssues.length === 0 &&
      isMoneyLike(input.monthlyPrice) &&
      input.overagePricePerMinute.currency !== input.monthlyPrice.currency
    ) {
      issues.push({
        field: "overagePricePerMinute",
        message: "Overage price must use the same currency as the monthly price",
      });
    }
  }
  const features: unknown = input.features;
  if (typeof features !== "object" || features === null) {
    issues.push({ field: "features", message: "Features are required" });
  } else {
    for (const key of ["analytics", "apiAccess"] as const) {
      if (typeof (features as Record<string, unknown>)[key] !== "boolean") {
        issues.push({ field: `features.${key}`, message: "Must be true or false" });
      }
    }
  }
  for (const key of ["recommended", "active"] as const) {
    if (typeof input[key] !== "boolean") {
      issues.push({ field: key, message: "Must be true or false" });
    }
  }
  if (input.recommended === true && input.active === false) {
    issues.push({ field: "recommended", message: "An archived package cannot be recommended" });
  }
  if (typeof input.sortOrder !== "number" || !Number.isSafeInteger(input.sortOrder)) {
    issues.push({ field: "sortOrder", message: "Sort order must be a whole number" });
  }
  return issues;
}

/** Case- and surrounding-whitespace-insensitive key used for plan name uniqueness. */
export function planNameKey(name: string): string {
  return name.trim().toLocaleLowerCase("en-US");
}

/**
 * Validates a whole catalog: every plan (issues prefixed with `plans[i].`) plus cross-plan rules:
 * - at most one package can be recommended;
 * - names are unique, case-insensitively;
 * - all packages are priced in one currency (plan changes compare prices).
 */
export function validateCatalog(plans: readonly PlanDefinition[]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  plans.forEach((plan, index) => {
    for (const issue of validatePlan(plan)) {
      issues.push({ field: `plans[${index}].${issue.field}`, message: issue.message });
    }
  });

  const recommendedCount = plans.filter((plan) => plan.recommended === true).length;
  if (recommendedCount > 1) {
    issues.push({ field: "recommended", message: "At most one package can be recommended" });
  }

  const firstIndexByName = new Map<string, number>();
  plans.forEach((plan, index) => {
    if (typeof plan.name !== "string") {
      return;
    }
    const key = planNameKey(plan.name);
    const first = firstIndexByName.get(key);
    if (first === undefined) {
      firstIndexByName.set(key, index);
    } else {
      issues.push({
        field: `plans[${index}].name`,
        message: `Package name "${plan.name.trim()}" is already used by another package`,
      });
    }
  });

  const currencies = new Set<Currency>();
  for (const plan of plans) {
    if (isMoneyLike(plan.monthlyPrice) && isCurrency(plan.monthlyPrice.currency)) {
      currencies.add(plan.monthlyPrice.currency);
    }
  }
  if (currencies.size > 1) {
    issues.push({ field: "monthlyPrice", message: "All packages must be priced in the same currency" });
  }
  return issues;
}

/** Active plans only, in display order. */
export function activePlans<P extends Pick<PlanDefinition, "active" | "sortOrder" | "name">>(
  plans: readonly P[],
): P[] {
  return sortPlans(plans.filter((plan) => plan.active));
}

/** Plans in display order: `sortOrder` ascending, then name, for a deterministic result. */
export function sortPlans<P extends Pick<PlanDefinition, "sortOrder" | "name">>(plans: readonly P[]): P[] {
  return [...plans].sort((a, b) => a.sortOrder - b.sortOrder || compareNames(a.name, b.name));
}

/** Finds a plan by name, case-insensitively; `undefined` when absent. */
export function findPlanByName<P extends Pick<PlanDefinition, "name">>(
  plans: readonly P[],
  name: string,
): P | undefined {
  const key = planNameKey(name);
  return plans.find((plan) => planNameKey(plan.name) === key);
}

function compareNames(a: string, b: string): number {
  if (a === b) {
    return 0;
  }
  return a < b ? -1 : 1;
}
