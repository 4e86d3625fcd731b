import { describe, expect, it } from "vitest";
import { agentsToKeepOnDowngrade, entitlementsFor, NO_ENTITLEMENTS } from "./entitlements";
import { DEFAULT_PLANS, type PlanDefinition } from "./plans";
import { type AccountSubscriptionStatus, grantsAccess, SUBSCRIPTION_STATUSES } from "./subscription-status";

function byName(name: string): PlanDefinition {
  const plan = DEFAULT_PLANS.find((p) => p.name === name);
  if (!plan) throw new Error(`missing fixture ${name}`);
  return plan;
}

describe("entitlementsFor", () => {
  it("grants the plan's features with an active subscription", () => {
    expect(entitlementsFor(byName("Pro"), "active")).toEqual({
      hasAccess: true,
      analytics: true,
      apiAccess: false,
      callMinutesLimit: 3000,
      agentsAllowed: 5,
      overage: "billed",
    });
    expect(entitlementsFor(byName("Starter"), "trialing")).toEqual({
      hasAccess: true,
      analytics: false,
      apiAccess: false,
      callMinutesLimit: 1000,
      agentsAllowed: 1,
      overage: "hard_cap",
    });
    expect(entitlementsFor(byName("Enterprise"), "past_due").apiAccess).toBe(true);
  });

  it("grants nothing without access or without a plan", () => {
    const none = {
      hasAccess: false,
      analytics: false,
      apiAccess: false,
      callMinutesLimit: 0,
      agentsAllowed: 0,
      overage: "hard_cap",
    };
    expect(entitlementsFor(byName("Enterprise"), "canceled")).toEqual(none);
    expect(entitlementsFor(byName("Enterprise"), "unknown")).toEqual(none);
    expect(entitlementsFor(byName("Enterprise"), "none")).toEqual(none);
    expect(entitlementsFor(null, "active")).toEqual(none);
  });

  it("agrees with grantsAccess for every status", () => {
    const statuses: AccountSubscriptionStatus[] = [...SUBSCRIPTION_STATUSES, "unknown", "none"];
    for (const status of statuses) {
      expect(entitlementsFor(byName("Enterprise"), status).hasAccess).toBe(grantsAccess(status));
    }
  });

  it("returns a fresh object each time", () => {
    const result = entitlementsFor(null, "none");
    result.analytics = true;
    expect(NO_ENTITLEMENTS.analytics).toBe(false);
    expect(entitlementsFor(null, "none").analytics).toBe(false);
  });
});

describe("agentsToKeepOnDowngrade", () => {
  const active = ["a1", "a2", "a3", "a4"];

  it("deactivates every active agent not kept, in active order", () => {
    expect(agentsToKeepOnDowngrade(active, ["a3"], 1)).toEqual({ ok: true, deactivate: ["a1", "a2", "a4"] });
    expect(agentsToKeepOnDowngrade(active, ["a4", "a1"], 2)).toEqual({ ok: true, deactivate: ["a2", "a3"] });
  });

  it("allows keeping fewer than allowed", () => {
    expect(agentsToKeepOnDowngrade(active, ["a2"], 3)).toEqual({ ok: true, deactivate: ["a1", "a3", "a4"] });
  });

  it("has nothing to choose when the active agents already fit", () => {
    expect(agentsToKeepOnDowngrade(["a1", "a2"], [], 5)).toEqual({ ok: true, deactivate: [] });
    expect(agentsToKeepOnDowngrade(["a1"], ["zzz"], 1)).toEqual({ ok: true, deactivate: [] });
    expect(agentsToKeepOnDowngrade(["a1", "a1"], [], 1)).toEqual({ ok: true, deactivate: [] });
  });

  it("rejects keeping more than allowed", () => {
    const result = agentsToKeepOnDowngrade(active, ["a1", "a2"], 1);
    expect(result).toMatchObject({ ok: false, code: "TOO_MANY_AGENTS_KEPT" });
    expect(result.ok ? "" : result.message).toBe("The new plan allows 1 agent; you selected 2.");
  });

  it("rejects unknown and duplicate agents", () => {
    expect(agentsToKeepOnDowngrade(active, ["a1", "ghost"], 2)).toMatchObject({
      ok: false,
      code: "UNKNOWN_AGENT",
    });
    expect(agentsToKeepOnDowngrade(active, ["a1", "a1"], 2)).toMatchObject({
      ok: false,
      code: "DUPLICATE_AGENT",
    });
  });

  it("rejects an invalid allowance", () => {
    expect(agentsToKeepOnDowngrade(active, [], -1)).toMatchObject({ ok: false, code: "INVALID_LIMIT" });
    expect(agentsToKeepOnDowngrade(active, [], 1.5)).toMatchObject({ ok: false, code: "INVALID_LIMIT" });
  });
});
