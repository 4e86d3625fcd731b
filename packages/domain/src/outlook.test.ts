import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AdvisablePlan } from "./forecast";
import { money } from "./money";
import { usageOutlook } from "./outlook";
import type { BillingPeriod } from "./periods";
import { DEFAULT_PLANS } from "./plans";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const period: BillingPeriod = {
  start: new Date("2026-11-01T00:00:00Z"),
  end: new Date("2026-12-01T00:00:00Z"),
};
const afterStart = (ms: number) => new Date(period.start.getTime() + ms);

function plan(name: string): AdvisablePlan {
  const found = DEFAULT_PLANS.find((p) => p.name === name);
  if (!found) throw new Error(`missing fixture ${name}`);
  return found;
}
const starter = plan("Starter");
const pro = plan("Pro");
const enterprise = plan("Enterprise");

describe("usageOutlook", () => {
  it("projects the period at the current pace with the overage it would cost (Pro, half way)", () => {
    const outlook = usageOutlook({
      minutesUsed: 2490,
      period,
      now: afterStart(15 * DAY),
      currentPlan: pro,
      plans: DEFAULT_PLANS,
    });
    expect(outlook).toMatchObject({
      projectedMinutes: 4980,
      extrapolated: true,
      elapsedFraction: 0.5,
      minutesLimit: 3000,
      projectedMinutesOver: 1980,
      projectedOverageCost: money(5940, "usd"),
      projectedMonthlyCost: money(15840, "usd"),
      projectedToHitCap: false,
      tooEarly: false,
    });
    expect(outlook.advice).toEqual({
      kind: "stay",
      suggestedPlanName: "Pro",
      monthlySavings: money(0, "usd"),
      message: "At this pace you will use 4,980 of 3,000 minutes; Pro remains your best option.",
    });
  });

  it("says a hard cap will be hit, with no overage cost, and which package covers the usage", () => {
    const outlook = usageOutlook({
      minutesUsed: 725,
      period,
      now: afterStart(15 * DAY),
      currentPlan: starter,
      plans: DEFAULT_PLANS,
    });
    expect(outlook).toMatchObject({
      projectedMinutes: 1450,
      projectedMinutesOver: 450,
      projectedOverageCost: money(0, "usd"),
      projectedMonthlyCost: money(2900, "usd"),
      projectedToHitCap: true,
    });
    expect(outlook.advice.kind).toBe("upgrade");
    expect(outlook.advice.message).toBe(
      "At this pace you will use 1,450 of 1,000 minutes, more than Starter allows; Pro covers it for $99.00 a month.",
    );
  });

  it("names the saving when a bigger package is cheaper than paying overage", () => {
    const basic: AdvisablePlan = {
      ...starter,
      name: "Basic",
      overagePricePerMinute: money(20, "usd"),
    };
    const outlook = usageOutlook({
      minutesUsed: 725,
      period,
      now: afterStart(15 * DAY),
      currentPlan: basic,
      plans: [basic, pro, enterprise],
    });
    // Basic: $29 + 450 x $0.20 = $119; Pro: $99.
    expect(outlook.projectedOverageCost).toEqual(money(9000, "usd"));
    expect(outlook.advice).toEqual({
      kind: "upgrade",
      suggestedPlanName: "Pro",
      monthlySavings: money(2000, "usd"),
      message: "At this pace you will use 1,450 of 1,000 minutes; Pro would save $20.00 a month.",
    });
  });

  it("does not extrapolate in the first hour: the usage so far, and no advice but to wait", () => {
    const outlook = usageOutlook({
      minutesUsed: 2490,
      period,
      now: afterStart(HOUR - 1),
      currentPlan: pro,
      plans: DEFAULT_PLANS,
    });
    expect(outlook).toMatchObject({
      projectedMinutes: 2490,
      extrapolated: false,
      tooEarly: true,
      projectedMinutesOver: 0,
    });
    expect(outlook.projectedOverageCost).toEqual(money(0, "usd"));
    expect(outlook.advice).toEqual({
      kind: "stay",
      suggestedPlanName: "Pro",
      monthlySavings: money(0, "usd"),
      message:
        "So far you have used 2,490 of 3,000 minutes; it is too early in the billing period for a forecast.",
    });
  });

  it("does not advise a cheaper package on too little data, but an upgrade holds at once", () => {
    // Enterprise with nothing used yet: planAdvice alone would say "Starter would save $270.00".
    const early = usageOutlook({
      minutesUsed: 0,
      period,
      now: afterStart(60_000),
      currentPlan: enterprise,
      plans: DEFAULT_PLANS,
    });
    expect(early.advice.kind).toBe("stay");
    expect(early.advice.suggestedPlanName).toBe("Enterprise");
    // Starter already past its cap: usage only grows, so the upgrade is sound however early.
    const over = usageOutlook({
      minutesUsed: 1450,
      period,
      now: afterStart(60_000),
      currentPlan: starter,
      plans: DEFAULT_PLANS,
    });
    expect(over).toMatchObject({ tooEarly: true, projectedToHitCap: true });
    expect(over.advice).toMatchObject({ kind: "upgrade", suggestedPlanName: "Pro" });
    // Once the period is over there is nothing left to extrapolate, and the advice is the usual one.
    const after = usageOutlook({
      minutesUsed: 0,
      period,
      now: afterStart(40 * DAY),
      currentPlan: enterprise,
      plans: DEFAULT_PLANS,
    });
    expect(after).toMatchObject({ tooEarly: false, extrapolated: false });
    expect(after.advice.kind).toBe("downgrade");
  });

  it("shows a hard cap reached in the first hour as what it is, with the upgrade that lets calls go on", () => {
    // Starter at exactly 1,000 of 1,000 minutes ten minutes into the period: outbound calls are paused now.
    const outlook = usageOutlook({
      minutesUsed: 1000,
      period,
      now: afterStart(10 * 60_000),
      currentPlan: starter,
      plans: DEFAULT_PLANS,
    });
    expect(outlook).toMatchObject({ tooEarly: true, capReached: true, projectedToHitCap: false });
    expect(outlook.advice).toEqual({
      kind: "upgrade",
      suggestedPlanName: "Pro",
      monthlySavings: money(0, "usd"),
      message:
        "You have used 1,000 of the 1,000 minutes Starter includes; Pro lets you keep calling, for $99.00 a month.",
    });
    // One minute short of the cap it is still too early to say anything but the usage so far.
    const below = usageOutlook({
      minutesUsed: 999,
      period,
      now: afterStart(10 * 60_000),
      currentPlan: starter,
      plans: DEFAULT_PLANS,
    });
    expect(below).toMatchObject({ tooEarly: true, capReached: false });
    expect(below.advice.kind).toBe("stay");
    // A package with an overage price has no cap to reach: calls go on, billed.
    const overage = usageOutlook({
      minutesUsed: 3000,
      period,
      now: afterStart(10 * 60_000),
      currentPlan: pro,
      plans: DEFAULT_PLANS,
    });
    expect(overage).toMatchObject({ tooEarly: true, capReached: false });
    expect(overage.advice.kind).toBe("stay");
  });

  it("says when no package offers more than the cap reached, and keeps the forecast's advice later on", () => {
    const alone = usageOutlook({
      minutesUsed: 1000,
      period,
      now: afterStart(10 * 60_000),
      currentPlan: starter,
      plans: [starter],
    });
    expect(alone.capReached).toBe(true);
    expect(alone.advice).toMatchObject({
      kind: "stay",
      message: "You have used 1,000 of the 1,000 minutes Starter includes; no available package offers more.",
    });
    // Half way through the period the projection itself advises the upgrade, in its own words.
    const later = usageOutlook({
      minutesUsed: 1000,
      period,
      now: afterStart(15 * DAY),
      currentPlan: starter,
      plans: DEFAULT_PLANS,
    });
    expect(later).toMatchObject({ capReached: true, tooEarly: false, projectedMinutes: 2000 });
    expect(later.advice.message).toBe(
      "At this pace you will use 2,000 of 1,000 minutes, more than Starter allows; Pro covers it for $99.00 a month.",
    );
  });

  it("ignores plans in another currency instead of failing", () => {
    const euro: AdvisablePlan = { ...starter, name: "Euro Mini", monthlyPrice: money(100, "eur") };
    const outlook = usageOutlook({
      minutesUsed: 100,
      period,
      now: afterStart(15 * DAY),
      currentPlan: enterprise,
      plans: [...DEFAULT_PLANS, euro],
    });
    expect(outlook.advice.suggestedPlanName).toBe("Starter");
    expect(outlook.advice.kind).toBe("downgrade");
  });

  it("rejects invalid usage like the forecast does", () => {
    expect(() =>
      usageOutlook({ minutesUsed: -1, period, now: afterStart(DAY), currentPlan: pro, plans: DEFAULT_PLANS }),
    ).toThrow(RangeError);
  });

  it("keeps overage consistent with the projection for any usage and moment", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20_000 }),
        fc.integer({ min: 0, max: 30 * DAY }),
        (used, elapsed) => {
          const outlook = usageOutlook({
            minutesUsed: used,
            period,
            now: afterStart(elapsed),
            currentPlan: pro,
            plans: DEFAULT_PLANS,
          });
          expect(outlook.projectedMinutes).toBeGreaterThanOrEqual(used);
          expect(outlook.projectedMinutesOver).toBe(Math.max(0, outlook.projectedMinutes - 3000));
          expect(outlook.projectedOverageCost.amount).toBe(outlook.projectedMinutesOver * 3);
          expect(outlook.projectedMonthlyCost.amount).toBe(9900 + outlook.projectedMinutesOver * 3);
        },
      ),
    );
  });
});
