import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type AdvisablePlan, cheapestPlanFor, forecastUsage, monthlyCostFor, planAdvice } from "./forecast";
import { compareMoney, money } from "./money";
import type { BillingPeriod } from "./periods";
import { DEFAULT_PLANS } from "./plans";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const period: BillingPeriod = {
  start: new Date("2025-01-01T00:00:00Z"),
  end: new Date("2025-01-31T00:00:00Z"),
};
const afterStart = (ms: number) => new Date(period.start.getTime() + ms);

function byName(name: string): AdvisablePlan {
  const plan = DEFAULT_PLANS.find((p) => p.name === name);
  if (!plan) throw new Error(`missing fixture ${name}`);
  return plan;
}
const starter = byName("Starter");
const pro = byName("Pro");
const enterprise = byName("Enterprise");

describe("forecastUsage", () => {
  it("extrapolates linearly by elapsed time", () => {
    expect(forecastUsage({ minutesUsed: 500, period, now: afterStart(15 * DAY) })).toEqual({
      projectedMinutes: 1000,
      elapsedFraction: 0.5,
      extrapolated: true,
    });
  });

  it("rounds the projection up to whole minutes", () => {
    // 1 minute after 7 of 30 days -> 4.29 -> 5
    expect(forecastUsage({ minutesUsed: 1, period, now: afterStart(7 * DAY) }).projectedMinutes).toBe(5);
  });

  it("does not extrapolate during the first hour", () => {
    expect(forecastUsage({ minutesUsed: 50, period, now: afterStart(HOUR - 1) })).toEqual({
      projectedMinutes: 50,
      elapsedFraction: (HOUR - 1) / (30 * DAY),
      extrapolated: false,
    });
    expect(forecastUsage({ minutesUsed: 1, period, now: afterStart(HOUR) }).projectedMinutes).toBe(720);
    expect(
      forecastUsage({ minutesUsed: 1, period, now: afterStart(10), minElapsedMs: 0 }).projectedMinutes,
    ).toBe(259_200_000);
  });

  it("clamps before the start and after the end", () => {
    expect(forecastUsage({ minutesUsed: 7, period, now: afterStart(-DAY) })).toEqual({
      projectedMinutes: 7,
      elapsedFraction: 0,
      extrapolated: false,
    });
    expect(forecastUsage({ minutesUsed: 7, period, now: afterStart(40 * DAY) })).toEqual({
      projectedMinutes: 7,
      elapsedFraction: 1,
      extrapolated: false,
    });
  });

  it("rejects invalid input", () => {
    expect(() => forecastUsage({ minutesUsed: -1, period, now: afterStart(DAY) })).toThrow(RangeError);
    expect(() => forecastUsage({ minutesUsed: 1.5, period, now: afterStart(DAY) })).toThrow(RangeError);
    expect(() =>
      forecastUsage({
        minutesUsed: 1,
        period: { start: period.start, end: period.start },
        now: afterStart(DAY),
      }),
    ).toThrow(RangeError);
    expect(() => forecastUsage({ minutesUsed: 1, period, now: new Date("bad") })).toThrow(RangeError);
  });

  it("never projects below current usage and is the smallest covering integer", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 30 * DAY }),
        (used, elapsed) => {
          const { projectedMinutes, elapsedFraction, extrapolated } = forecastUsage({
            minutesUsed: used,
            period,
            now: afterStart(elapsed),
          });
          expect(projectedMinutes).toBeGreaterThanOrEqual(used);
          expect(elapsedFraction).toBeCloseTo(elapsed / (30 * DAY), 12);
          if (extrapolated) {
            const length = 30 * DAY;
            expect(projectedMinutes * elapsed).toBeGreaterThanOrEqual(used * length);
            expect((projectedMinutes - 1) * elapsed).toBeLessThan(used * length);
          } else {
            expect(projectedMinutes).toBe(used);
          }
        },
      ),
    );
  });
});

describe("monthlyCostFor", () => {
  it("adds overage to the monthly price", () => {
    expect(monthlyCostFor(pro, 3450)).toEqual({ cost: money(11250, "usd"), feasible: true });
    expect(monthlyCostFor(pro, 100)).toEqual({ cost: money(9900, "usd"), feasible: true });
  });

  it("marks hard-cap plans infeasible above their limit", () => {
    expect(monthlyCostFor(starter, 1000)).toEqual({ cost: money(2900, "usd"), feasible: true });
    expect(monthlyCostFor(starter, 1001)).toEqual({ cost: money(2900, "usd"), feasible: false });
  });
});

describe("cheapestPlanFor", () => {
  it.each([
    [0, "Starter"],
    [1000, "Starter"],
    [1001, "Pro"],
    [9666, "Pro"],
    [9667, "Enterprise"],
    [50_000, "Enterprise"],
  ])("%i minutes -> %s", (minutes, expected) => {
    expect(cheapestPlanFor(minutes, DEFAULT_PLANS)?.name).toBe(expected);
  });

  it("ignores archived plans and returns null when nothing fits", () => {
    expect(cheapestPlanFor(500, [{ ...starter, active: false }, pro])?.name).toBe("Pro");
    expect(cheapestPlanFor(5000, [starter])).toBeNull();
    expect(cheapestPlanFor(10, [])).toBeNull();
  });

  it("breaks ties by more included minutes, then sort order, then name", () => {
    const small = { ...starter, name: "Small", callMinutesLimit: 500, sortOrder: 1 };
    const big = { ...starter, name: "Big", callMinutesLimit: 800, sortOrder: 5 };
    expect(cheapestPlanFor(100, [small, big])?.name).toBe("Big");
    const a = { ...starter, name: "A", sortOrder: 2 };
    const b = { ...starter, name: "B", sortOrder: 1 };
    expect(cheapestPlanFor(100, [a, b])?.name).toBe("B");
    expect(
      cheapestPlanFor(100, [
        { ...b, name: "Y" },
        { ...b, name: "X" },
      ])?.name,
    ).toBe("X");
  });

  it("returns the caller's own objects (generic)", () => {
    const rows = DEFAULT_PLANS.map((plan, index) => ({ ...plan, id: `plan_${index}` }));
    expect(cheapestPlanFor(2000, rows)?.id).toBe("plan_1");
  });

  it("is never beaten by another feasible active plan", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30_000 }), (minutes) => {
        const best = cheapestPlanFor(minutes, DEFAULT_PLANS);
        expect(best).not.toBeNull();
        if (best === null) return;
        const bestCost = monthlyCostFor(best, minutes).cost;
        for (const plan of DEFAULT_PLANS) {
          const { cost, feasible } = monthlyCostFor(plan, minutes);
          if (feasible) {
            expect(compareMoney(bestCost, cost)).toBeLessThanOrEqual(0);
          }
        }
      }),
    );
  });
});

describe("planAdvice", () => {
  it("suggests upgrading when a hard cap would be exceeded", () => {
    expect(planAdvice({ currentPlan: starter, projectedMinutes: 1450, plans: DEFAULT_PLANS })).toEqual({
      kind: "upgrade",
      suggestedPlanName: "Pro",
      monthlySavings: money(0, "usd"),
      message:
        "At this pace you will use 1,450 of 1,000 minutes, more than Starter allows; Pro covers it for $99.00 a month.",
    });
  });

  it("suggests upgrading when overage makes the bigger plan cheaper", () => {
    expect(planAdvice({ currentPlan: pro, projectedMinutes: 10_000, plans: DEFAULT_PLANS })).toEqual({
      kind: "upgrade",
      suggestedPlanName: "Enterprise",
      monthlySavings: money(1000, "usd"),
      message: "At this pace you will use 10,000 of 3,000 minutes; Enterprise would save $10.00 a month.",
    });
  });

  it("suggests downgrading when a cheaper plan covers the usage", () => {
    const advice = planAdvice({ currentPlan: enterprise, projectedMinutes: 500, plans: DEFAULT_PLANS });
    expect(advice.kind).toBe("downgrade");
    expect(advice.suggestedPlanName).toBe("Starter");
    expect(advice.monthlySavings).toEqual(money(27000, "usd"));
    expect(advice.message).toBe(
      "At this pace you will use 500 of 10,000 minutes; Starter would save $270.00 a month.",
    );
  });

  it("says stay when the current plan is the cheapest", () => {
    expect(planAdvice({ currentPlan: pro, projectedMinutes: 2000, plans: DEFAULT_PLANS })).toEqual({
      kind: "stay",
      suggestedPlanName: "Pro",
      monthlySavings: money(0, "usd"),
      message: "At this pace you will use 2,000 of 3,000 minutes; Pro remains your best option.",
    });
  });

  it("says stay when nothing covers the usage", () => {
    const advice = planAdvice({ currentPlan: starter, projectedMinutes: 5000, plans: [starter] });
    expect(advice.kind).toBe("stay");
    expect(advice.message).toContain("no available package covers that usage");
  });

  it("never suggests a plan at the same monthly price", () => {
    const twin = { ...pro, name: "Pro Plus", callMinutesLimit: 6000 };
    const advice = planAdvice({ currentPlan: pro, projectedMinutes: 4000, plans: [...DEFAULT_PLANS, twin] });
    expect(advice.kind).toBe("stay");
    expect(advice.suggestedPlanName).toBe("Pro");
  });

  it("stays on an archived current plan unless another is strictly cheaper", () => {
    const legacy = {
      ...pro,
      name: "Legacy",
      monthlyPrice: money(1900, "usd"),
      active: false,
      overagePricePerMinute: null,
    };
    expect(
      planAdvice({ currentPlan: legacy, projectedMinutes: 900, plans: [...DEFAULT_PLANS, legacy] }).kind,
    ).toBe("stay");
  });

  it("formats the message for a locale", () => {
    const advice = planAdvice({
      currentPlan: pro,
      projectedMinutes: 10_000,
      plans: DEFAULT_PLANS,
      locale: "de-DE",
    });
    expect(advice.message.replace(/\s/g, " ")).toBe(
      "At this pace you will use 10.000 of 3.000 minutes; Enterprise would save 10,00 $ a month.",
    );
  });

  it("savings always equal the cost difference at the projected usage", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(starter, pro, enterprise),
        fc.integer({ min: 0, max: 40_000 }),
        (current, minutes) => {
          const advice = planAdvice({
            currentPlan: current,
            projectedMinutes: minutes,
            plans: DEFAULT_PLANS,
          });
          expect(advice.monthlySavings.amount).toBeGreaterThanOrEqual(0);
          if (advice.kind === "stay") {
            expect(advice.suggestedPlanName).toBe(current.name);
            return;
          }
          const suggested = byName(advice.suggestedPlanName);
          expect(monthlyCostFor(suggested, minutes).feasible).toBe(true);
          const currentCost = monthlyCostFor(current, minutes);
          if (currentCost.feasible) {
            expect(advice.monthlySavings.amount).toBe(
              currentCost.cost.amount - monthlyCostFor(suggested, minutes).cost.amount,
            );
            expect(advice.monthlySavings.amount).toBeGreaterThan(0);
          }
          expect(advice.kind).toBe(
            suggested.monthlyPrice.amount > current.monthlyPrice.amount ? "upgrade" : "downgrade",
          );
        },
      ),
    );
  });
});
