import { describe, expect, it } from "vitest";
import { DEFAULT_PLANS } from "./plans";
import { recommendedPlan, recommendForUsage } from "./recommendations";

describe("recommendedPlan", () => {
  it("returns the flagged active plan", () => {
    expect(recommendedPlan(DEFAULT_PLANS)?.name).toBe("Pro");
  });

  it("returns null when none is flagged or the flagged plan is archived", () => {
    expect(recommendedPlan(DEFAULT_PLANS.map((p) => ({ ...p, recommended: false })))).toBeNull();
    expect(
      recommendedPlan(DEFAULT_PLANS.map((p) => (p.name === "Pro" ? { ...p, active: false } : p))),
    ).toBeNull();
    expect(recommendedPlan([])).toBeNull();
  });

  it("picks the first in display order if several are flagged", () => {
    const plans = DEFAULT_PLANS.map((p) => ({ ...p, recommended: p.name !== "Starter" }));
    expect(recommendedPlan([...plans].reverse())?.name).toBe("Pro");
  });
});

describe("recommendForUsage", () => {
  it.each([
    [500, 1, "Starter"],
    [1000, 1, "Starter"],
    [500, 2, "Pro"],
    [2000, 1, "Pro"],
    [500, 6, "Enterprise"],
    [12_000, 1, "Enterprise"],
    [0, 0, "Starter"],
  ])("%i minutes, %i agents -> %s", (minutes, agents, expected) => {
    expect(recommendForUsage(minutes, agents, DEFAULT_PLANS)?.name).toBe(expected);
  });

  it("returns null when no plan has enough agents", () => {
    expect(recommendForUsage(500, 26, DEFAULT_PLANS)).toBeNull();
  });

  it("skips archived plans", () => {
    const plans = DEFAULT_PLANS.map((p) => (p.name === "Starter" ? { ...p, active: false } : p));
    expect(recommendForUsage(100, 1, plans)?.name).toBe("Pro");
  });

  it("rejects invalid expectations", () => {
    expect(() => recommendForUsage(-1, 1, DEFAULT_PLANS)).toThrow(RangeError);
    expect(() => recommendForUsage(10, 1.5, DEFAULT_PLANS)).toThrow(/expectedAgents/);
  });
});
