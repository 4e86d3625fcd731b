import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { alertTriggerMinutes } from "./alert-triggers";
import type { Currency } from "./money";
import { crossedSpendCapThresholds } from "./spend-cap";
import { crossedThresholds, DEFAULT_ALERT_THRESHOLDS } from "./usage";

const currencies: Currency[] = ["usd", "eur"];

describe("alertTriggerMinutes", () => {
  it("names the counts of the default thresholds of a 1,000-minute plan", () => {
    expect(
      alertTriggerMinutes({ limit: 1000, thresholds: DEFAULT_ALERT_THRESHOLDS, price: null, cap: null }),
    ).toEqual(DEFAULT_ALERT_THRESHOLDS.map((percent) => (percent * 1000) / 100));
  });

  it("rounds a threshold's count up (80% of 999 minutes is reached at 800) and a zero limit at 1", () => {
    expect(alertTriggerMinutes({ limit: 999, thresholds: [80], price: null, cap: null })).toEqual([800]);
    expect(alertTriggerMinutes({ limit: 0, thresholds: [50, 80], price: null, cap: null })).toEqual([1]);
  });

  it("adds the spend cap's counts only when the budget applies to the price", () => {
    const price = { amount: 5, currency: "usd" as const };
    const withCap = alertTriggerMinutes({
      limit: 100,
      thresholds: [100],
      price,
      cap: { amountCents: 1000, currency: "usd" },
    });
    expect(withCap.length).toBeGreaterThan(1);
    expect(withCap.at(-1)).toBe(100 + 1000 / 5);
    expect(
      alertTriggerMinutes({
        limit: 100,
        thresholds: [100],
        price,
        cap: { amountCents: 1000, currency: "eur" },
      }),
    ).toEqual([100]);
  });

  it("a change fires something exactly when a trigger count lies in (before, after]", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20_000 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 200 }), { maxLength: 8 }),
        fc.option(
          fc.record({ amount: fc.integer({ min: 0, max: 500 }), currency: fc.constantFrom(...currencies) }),
        ),
        fc.option(
          fc.record({
            amountCents: fc.integer({ min: 0, max: 1_000_000 }),
            currency: fc.constantFrom(...currencies),
          }),
        ),
        fc.integer({ min: 0, max: 40_000 }),
        fc.integer({ min: 0, max: 5_000 }),
        (limit, custom, price, cap, before, step) => {
          const after = before + step;
          const thresholds = [...new Set([...DEFAULT_ALERT_THRESHOLDS, ...custom])];
          const fires =
            crossedThresholds({ before, after, limit, thresholds }).length > 0 ||
            crossedSpendCapThresholds({ before, after, limit, price, cap }).length > 0;
          const triggers = alertTriggerMinutes({ limit, thresholds, price, cap });
          expect(triggers.some((m) => before < m && m <= after)).toBe(fires);
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it("refuses what the crossing rules refuse", () => {
    expect(() => alertTriggerMinutes({ limit: -1, thresholds: [80], price: null, cap: null })).toThrow(
      RangeError,
    );
    expect(() => alertTriggerMinutes({ limit: 10, thresholds: [0.5], price: null, cap: null })).toThrow(
      RangeError,
    );
  });
});
