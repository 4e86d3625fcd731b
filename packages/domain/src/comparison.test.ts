import { describe, expect, it } from "vitest";
import {
  buildComparisonRows,
  buildFeatureComparison,
  COMPARISON_FEATURES,
  type ComparablePlan,
  formatAgentsCount,
  formatMinutesCount,
} from "./comparison";
import { DomainError } from "./errors";
import { DEFAULT_PLANS } from "./plans";

describe("buildFeatureComparison", () => {
  it("produces the seed contract's JSON for the default plans", () => {
    expect(buildFeatureComparison(DEFAULT_PLANS)).toEqual({
      features: ["Monthly Call Minutes", "Number of Agents", "Analytics", "API Access"],
      packages: {
        Starter: ["1000 minutes", "1 agent", "❌ No", "❌ No"],
        Pro: ["3000 minutes", "5 agents", "✅ Yes", "❌ No"],
        Enterprise: ["10000 minutes", "25 agents", "✅ Yes", "✅ Yes"],
      },
    });
  });

  it("keeps the given plan order", () => {
    const reversed = [...DEFAULT_PLANS].reverse();
    expect(Object.keys(buildFeatureComparison(reversed).packages)).toEqual(["Enterprise", "Pro", "Starter"]);
  });

  it("uses singular and plural correctly", () => {
    const plans: ComparablePlan[] = [
      { name: "One", callMinutesLimit: 1, agentsAllowed: 1, features: { analytics: true, apiAccess: true } },
      {
        name: "Zero",
        callMinutesLimit: 0,
        agentsAllowed: 2,
        features: { analytics: false, apiAccess: true },
      },
    ];
    expect(buildFeatureComparison(plans).packages).toEqual({
      One: ["1 minute", "1 agent", "✅ Yes", "✅ Yes"],
      Zero: ["0 minutes", "2 agents", "❌ No", "✅ Yes"],
    });
  });

  it("returns a fresh features array (the constant cannot be mutated through it)", () => {
    const result = buildFeatureComparison([]);
    result.features.push("Extra");
    expect(COMPARISON_FEATURES).toHaveLength(4);
    expect(result.packages).toEqual({});
  });

  it("handles awkward names as plain own properties", () => {
    const result = buildFeatureComparison([
      {
        name: "__proto__",
        callMinutesLimit: 5,
        agentsAllowed: 1,
        features: { analytics: false, apiAccess: false },
      },
    ]);
    expect(Object.hasOwn(result.packages, "__proto__")).toBe(true);
    expect(Object.getOwnPropertyDescriptor(result.packages, "__proto__")?.value).toEqual([
      "5 minutes",
      "1 agent",
      "❌ No",
      "❌ No",
    ]);
  });

  it("rejects duplicate names", () => {
    const starter = DEFAULT_PLANS[0];
    if (!starter) throw new Error("fixture");
    expect(() => buildFeatureComparison([starter, starter])).toThrow(DomainError);
    expect(() => buildComparisonRows([starter, starter])).toThrow(/more than once/);
  });
});

describe("buildComparisonRows", () => {
  it("gives one row per feature with a cell per plan", () => {
    const rows = buildComparisonRows(DEFAULT_PLANS);
    expect(rows.map((row) => row.feature)).toEqual([...COMPARISON_FEATURES]);
    expect(rows[0]?.cells).toEqual([
      { planName: "Starter", value: "1,000 minutes", included: null },
      { planName: "Pro", value: "3,000 minutes", included: null },
      { planName: "Enterprise", value: "10,000 minutes", included: null },
    ]);
    expect(rows[1]?.cells.map((c) => c.value)).toEqual(["1 agent", "5 agents", "25 agents"]);
    expect(rows[2]?.cells).toEqual([
      { planName: "Starter", value: "No", included: false },
      { planName: "Pro", value: "Yes", included: true },
      { planName: "Enterprise", value: "Yes", included: true },
    ]);
    expect(rows[3]?.cells.map((c) => c.included)).toEqual([false, false, true]);
  });

  it("agrees with the column view, apart from the separators and yes/no marks of the seed contract's texts", () => {
    const rows = buildComparisonRows(DEFAULT_PLANS);
    const columns = buildFeatureComparison(DEFAULT_PLANS);
    const mark = (cell: { value: string; included: boolean | null }) =>
      cell.included === null
        ? cell.value.replaceAll(",", "")
        : `${cell.included ? "✅" : "❌"} ${cell.value}`;
    for (const [featureIndex, row] of rows.entries()) {
      for (const cell of row.cells) {
        expect(columns.packages[cell.planName]?.[featureIndex]).toBe(mark(cell));
      }
    }
  });

  it("writes large numbers as the apps do everywhere else", () => {
    const big: ComparablePlan = {
      name: "Huge",
      callMinutesLimit: 100_000_000,
      agentsAllowed: 1500,
      features: { analytics: true, apiAccess: true },
    };
    expect(buildComparisonRows([big]).map((row) => row.cells[0]?.value)).toEqual([
      "100,000,000 minutes",
      "1,500 agents",
      "Yes",
      "Yes",
    ]);
    expect(buildFeatureComparison([big]).packages.Huge?.slice(0, 2)).toEqual([
      "100000000 minutes",
      "1500 agents",
    ]);
  });
});

describe("count formatting", () => {
  it("formats without thousands separators", () => {
    expect(formatMinutesCount(10000)).toBe("10000 minutes");
    expect(formatMinutesCount(1)).toBe("1 minute");
    expect(formatAgentsCount(1)).toBe("1 agent");
    expect(formatAgentsCount(0)).toBe("0 agents");
  });
});
