/**
 * What a customer may use, derived from their plan and subscription status.
 * Without an access-granting status (see `grantsAccess`) or without a plan, nothing is granted.
 */
import type { PlanDefinition } from "./plans";
import { type AccountSubscriptionStatus, grantsAccess } from "./subscription-status";

export type EntitlementPlan = Pick<
  PlanDefinition,
  "callMinutesLimit" | "agentsAllowed" | "features" | "overagePricePerMinute"
>;

export interface Entitlements {
  hasAccess: boolean;
  analytics: boolean;
  apiAccess: boolean;
  callMinutesLimit: number;
  agentsAllowed: number;
  /** `"billed"`: minutes above the limit are charged; `"hard_cap"`: calls stop at the limit. */
  overage: "billed" | "hard_cap";
}

/** Entitlements when there is no access: everything off, zero allowances, hard cap. */
export const NO_ENTITLEMENTS: Readonly<Entitlements> = Object.freeze({
  hasAccess: false,
  analytics: false,
  apiAccess: false,
  callMinutesLimit: 0,
  agentsAllowed: 0,
  overage: "hard_cap",
});

export function entitlementsFor(
  plan: EntitlementPlan | null,
  status: AccountSubscriptionStatus,
): Entitlements {
  if (plan === null || !grantsAccess(status)) {
    return { ...NO_ENTITLEMENTS };
  }
  return {
    hasAccess: true,
    analytics: plan.features.analytics,
    apiAccess: plan.features.apiAccess,
    callMinutesLimit: plan.callMinutesLimit,
    agentsAllowed: plan.agentsAllowed,
    overage: plan.overagePricePerMinute === null ? "hard_cap" : "billed",
  };
}

export type AgentSelectionResult =
  | { ok: true; deactivate: string[] }
  | {
      ok: false;
      code: "INVALID_LIMIT" | "DUPLICATE_AGENT" | "UNKNOWN_AGENT" | "TOO_MANY_AGENTS_KEPT";
      message: string;
    };

/**
 * Validates the customer's choice of agents to keep when downgrading to a plan allowing `allowed`
 * agents, and returns the active agents to deactivate (in `activeAgentIds` order).
 * - When the active agents already fit (`active <= allowed`) there is nothing to choose: `keep` is
 *   ignored and nothing is deactivated.
 * - Otherwise `keep` must list distinct active agent ids, at most `allowed` of them; every other
 *   active agent is deactivated.
 */
export function agentsToKeepOnDowngrade(
  activeAgentIds: readonly string[],
  keep: readonly string[],
  allowed: number,
): AgentSelectionResult {
  if (!Number.isSafeInteger(allowed) || allowed < 0) {
    return { ok: false, code: "INVALID_LIMIT", message: "The agent allowance must be a whole number." };
  }
  const active = [...new Set(activeAgentIds)];
  if (active.length <= allowed) {
    return { ok: true, deactivate: [] };
  }
  const keepSet = new Set(keep);
  if (keepSet.size !== keep.length) {
    return { ok: false, code: "DUPLICATE_AGENT", message: "Each agent can only be selected once." };
  }
  const activeSet = new Set(active);
  const unknown = keep.filter((id) => !activeSet.has(id));
  if (unknown.length > 0) {
    return {
      ok: false,
      code: "UNKNOWN_AGENT",
      message: `Only active agents can be kept (not: ${unknown.join(", ")}).`,
    };
  }
  if (keep.length > allowed) {
    return {
      ok: false,
      code: "TOO_MANY_AGENTS_KEPT",
      message: `The new plan allows ${allowed} ${allowed === 1 ? "agent" : "agents"}; you selected ${keep.length}.`,
    };
  }
  return { ok: true, deactivate: active.filter((id) => !keepSet.has(id)) };
}
