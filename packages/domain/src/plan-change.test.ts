import { describe, expect, it } from "vitest";
import { lossesOnChange, PLAN_FEATURE_LABELS } from "./plan-change";
import { DEFAULT_PLANS, findPlanByName } from "./plans";

const plan = (name: string) => {
  const found = findPlanByName(DEFAULT_PLANS, name);
  if (!found) throw new Error(name);
  return found;
};

describe("lossesOnChange", () => {
  it("lists what Enterprise has and Starter lacks: analytics, API access, minutes, agents, overage", () => {
    expect(lossesOnChange(plan("Enterprise"), plan("Starter"))).toEqual([
      { kind: "feature", feature: "analytics", label: "Analytics" },
      { kind: "feature", feature: "apiAccess", label: "API access" },
      { kind: "callMinutes", from: 10_000, to: 1_000 },
      { kind: "agents", from: 25, to: 1 },
      { kind: "overage", price: { amount: 2, currency: "usd" } },
    ]);
  });

  it("lists only what differs: Enterprise to Pro loses API access but keeps analytics and overage", () => {
    expect(lossesOnChange(plan("Enterprise"), plan("Pro"))).toEqual([
      { kind: "feature", feature: "apiAccess", label: "API access" },
      { kind: "callMinutes", from: 10_000, to: 3_000 },
      { kind: "agents", from: 25, to: 5 },
    ]);
  });

  it("follows the packages' data, not their names", () => {
    const base = plan("Pro");
    const lean = { ...base, features: { analytics: false, apiAccess: false } };
    expect(lossesOnChange(base, lean)).toEqual([
      { kind: "feature", feature: "analytics", label: "Analytics" },
    ]);
    expect(lossesOnChange(lean, base)).toEqual([]);
  });

  it("names every feature flag", () => {
    expect(Object.keys(PLAN_FEATURE_LABELS).sort()).toEqual(Object.keys(plan("Pro").features).sort());
  });
});
