import { describe, expect, it } from "vitest";
import { type Currency, money } from "./money";
import {
  activePlans,
  DEFAULT_PLANS,
  findPlanByName,
  type PlanDefinition,
  planNameKey,
  sortPlans,
  validateCatalog,
  validatePlan,
} from "./plans";

function plan(overrides: Partial<PlanDefinition> = {}): PlanDefinition {
  return {
    name: "Basic",
    description: "A plan",
    monthlyPrice: money(1000, "usd"),
    callMinutesLimit: 500,
    agentsAllowed: 1,
    features: { analytics: false, apiAccess: false },
    overagePricePerMinute: null,
    recommended: false,
    active: true,
    sortOrder: 1,
    ...overrides,
  };
}

function fields(issues: { field: string }[]): string[] {
  return issues.map((issue) => issue.field);
}

describe("DEFAULT_PLANS", () => {
  it("matches the published catalog exactly", () => {
    const summary = DEFAULT_PLANS.map((p) => ({
      name: p.name,
      price: p.monthlyPrice,
      minutes: p.callMinutesLimit,
      agents: p.agentsAllowed,
      features: p.features,
      overage: p.overagePricePerMinute,
      recommended: p.recommended,
      active: p.active,
      sortOrder: p.sortOrder,
    }));
    expect(summary).toEqual([
      {
        name: "Starter",
        price: { amount: 2900, currency: "usd" },
        minutes: 1000,
        agents: 1,
        features: { analytics: false, apiAccess: false },
        overage: null,
        recommended: false,
        active: true,
        sortOrder: 1,
      },
      {
        name: "Pro",
        price: { amount: 9900, currency: "usd" },
        minutes: 3000,
        agents: 5,
        features: { analytics: true, apiAccess: false },
        overage: { amount: 3, currency: "usd" },
        recommended: true,
        active: true,
        sortOrder: 2,
      },
      {
        name: "Enterprise",
        price: { amount: 29900, currency: "usd" },
        minutes: 10000,
        agents: 25,
        features: { analytics: true, apiAccess: true },
        overage: { amount: 2, currency: "usd" },
        recommended: false,
        active: true,
        sortOrder: 3,
      },
    ]);
  });

  it("has short non-empty descriptions", () => {
    for (const p of DEFAULT_PLANS) {
      expect(p.description.length).toBeGreaterThan(10);
      expect(p.description.length).toBeLessThanOrEqual(120);
    }
  });

  it("is a valid catalog", () => {
    expect(validateCatalog(DEFAULT_PLANS)).toEqual([]);
  });

  it("is deeply frozen so shared defaults cannot be mutated", () => {
    expect(Object.isFrozen(DEFAULT_PLANS)).toBe(true);
    const first = DEFAULT_PLANS[0];
    expect(first && Object.isFrozen(first)).toBe(true);
    expect(first && Object.isFrozen(first.features)).toBe(true);
    expect(() => {
      (DEFAULT_PLANS[1] as PlanDefinition).recommended = false;
    }).toThrow(TypeError);
  });
});

describe("validatePlan", () => {
  it("accepts a valid plan", () => {
    expect(validatePlan(plan())).toEqual([]);
    expect(validatePlan(plan({ overagePricePerMinute: money(0, "usd"), callMinutesLimit: 0 }))).toEqual([]);
  });

  it.each([
    ["", "name"],
    ["   ", "name"],
    ["x".repeat(61), "name"],
  ])("rejects name %j", (name, field) => {
    expect(fields(validatePlan(plan({ name })))).toEqual([field]);
  });

  it("accepts names of exactly 1 and 60 characters", () => {
    expect(validatePlan(plan({ name: "x" }))).toEqual([]);
    expect(validatePlan(plan({ name: "x".repeat(60) }))).toEqual([]);
    expect(validatePlan(plan({ name: `  ${"x".repeat(60)}  ` }))).toEqual([]);
  });

  it("rejects bad prices", () => {
    expect(fields(validatePlan(plan({ monthlyPrice: { amount: -1, currency: "usd" } })))).toEqual([
      "monthlyPrice",
    ]);
    expect(fields(validatePlan(plan({ monthlyPrice: { amount: 9.5, currency: "usd" } })))).toEqual([
      "monthlyPrice",
    ]);
    expect(
      fields(validatePlan(plan({ monthlyPrice: { amount: 100, currency: "yen" as Currency } }))),
    ).toEqual(["monthlyPrice"]);
    expect(fields(validatePlan(plan({ monthlyPrice: undefined as never })))).toEqual(["monthlyPrice"]);
  });

  it("rejects bad minutes and agents", () => {
    expect(fields(validatePlan(plan({ callMinutesLimit: -1 })))).toEqual(["callMinutesLimit"]);
    expect(fields(validatePlan(plan({ callMinutesLimit: 1.5 })))).toEqual(["callMinutesLimit"]);
    expect(fields(validatePlan(plan({ agentsAllowed: 0 })))).toEqual(["agentsAllowed"]);
    expect(fields(validatePlan(plan({ agentsAllowed: 2.5 })))).toEqual(["agentsAllowed"]);
    expect(fields(validatePlan(plan({ agentsAllowed: Number.NaN })))).toEqual(["agentsAllowed"]);
  });

  it("validates the overage price and its currency", () => {
    expect(fields(validatePlan(plan({ overagePricePerMinute: { amount: -3, currency: "usd" } })))).toEqual([
      "overagePricePerMinute",
    ]);
    const mismatch = validatePlan(plan({ overagePricePerMinute: money(3, "eur") }));
    expect(mismatch).toEqual([
      {
        field: "overagePricePerMinute",
        message: "Overage price must use the same currency as the monthly price",
      },
    ]);
  });

  it("rejects recommending an archived plan", () => {
    expect(fields(validatePlan(plan({ recommended: true, active: false })))).toEqual(["recommended"]);
    expect(validatePlan(plan({ recommended: false, active: false }))).toEqual([]);
  });

  it("checks types defensively for JSON input", () => {
    const raw = {
      name: 42,
      description: null,
      monthlyPrice: { amount: "29", currency: "usd" },
      callMinutesLimit: "1000",
      agentsAllowed: null,
      features: { analytics: "yes" },
      overagePricePerMinute: null,
      recommended: "no",
      active: 1,
      sortOrder: 1.5,
    } as unknown as PlanDefinition;
    expect(fields(validatePlan(raw))).toEqual([
      "name",
      "description",
      "monthlyPrice",
      "callMinutesLimit",
      "agentsAllowed",
      "features.analytics",
      "features.apiAccess",
      "recommended",
      "active",
      "sortOrder",
    ]);
    expect(fields(validatePlan({ ...plan(), features: null } as unknown as PlanDefinition))).toEqual([
      "features",
    ]);
  });

  it("limits the description length", () => {
    expect(fields(validatePlan(plan({ description: "d".repeat(501) })))).toEqual(["description"]);
    expect(validatePlan(plan({ description: "" }))).toEqual([]);
  });
});

describe("validateCatalog", () => {
  it("allows at most one recommended package", () => {
    const issues = validateCatalog([
      plan({ name: "A", recommended: true }),
      plan({ name: "B", recommended: true }),
    ]);
    expect(issues).toEqual([{ field: "recommended", message: "At most one package can be recommended" }]);
    expect(validateCatalog([plan({ name: "A", recommended: true }), plan({ name: "B" })])).toEqual([]);
  });

  it("rejects duplicate names case-insensitively", () => {
    const issues = validateCatalog([
      plan({ name: "Pro" }),
      plan({ name: "Starter" }),
      plan({ name: " pro " }),
    ]);
    expect(issues).toHaveLength(1);
    expect(issues[0]?.field).toBe("plans[2].name");
    expect(issues[0]?.message).toContain('"pro"');
  });

  it("prefixes per-plan issues with the plan index", () => {
    const issues = validateCatalog([plan({ name: "A" }), plan({ name: "B", agentsAllowed: 0 })]);
    expect(fields(issues)).toEqual(["plans[1].agentsAllowed"]);
  });

  it("requires one currency across the catalog", () => {
    const issues = validateCatalog([
      plan({ name: "A" }),
      plan({ name: "B", monthlyPrice: money(100, "eur") }),
    ]);
    expect(fields(issues)).toEqual(["monthlyPrice"]);
  });

  it("accepts an empty catalog", () => {
    expect(validateCatalog([])).toEqual([]);
  });
});

describe("catalog helpers", () => {
  const catalog = [
    plan({ name: "Zeta", sortOrder: 2 }),
    plan({ name: "Alpha", sortOrder: 2 }),
    plan({ name: "First", sortOrder: 1 }),
    plan({ name: "Old", sortOrder: 0, active: false }),
  ];

  it("sorts by sortOrder then name", () => {
    expect(sortPlans(catalog).map((p) => p.name)).toEqual(["Old", "First", "Alpha", "Zeta"]);
    expect(catalog[0]?.name).toBe("Zeta");
  });

  it("lists active plans in display order", () => {
    expect(activePlans(catalog).map((p) => p.name)).toEqual(["First", "Alpha", "Zeta"]);
  });

  it("finds plans by name case-insensitively", () => {
    expect(findPlanByName(catalog, " alpha")?.name).toBe("Alpha");
    expect(findPlanByName(catalog, "missing")).toBeUndefined();
    expect(planNameKey("  PRO ")).toBe("pro");
  });
});
