import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { money } from "./money";
import {
  billableMinutes,
  callDurationSeconds,
  crossedThresholds,
  DEFAULT_ALERT_THRESHOLDS,
  MAX_CALL_DURATION_SECONDS,
  overageCost,
  overageMinutes,
  summarizeUsage,
  thresholdMinutes,
  thresholdReached,
  usagePercentage,
} from "./usage";

describe("billableMinutes", () => {
  it.each([
    [0, 0],
    [1, 1],
    [59, 1],
    [60, 1],
    [61, 2],
    [119, 2],
    [120, 2],
    [121, 3],
    [86_400, 1440],
  ])("%i seconds -> %i minutes", (seconds, minutes) => {
    expect(billableMinutes(seconds)).toBe(minutes);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])("rejects %s", (seconds) => {
    expect(() => billableMinutes(seconds)).toThrow(RangeError);
  });

  it("is exact for huge integers where float division would round", () => {
    const seconds = Number.MAX_SAFE_INTEGER; // 2^53 - 1 = 60 * 150119987579016 + 31
    expect(billableMinutes(seconds)).toBe(150_119_987_579_017);
  });

  it("is the smallest whole minute count covering the duration", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), (seconds) => {
        const minutes = billableMinutes(seconds);
        expect(minutes * 60).toBeGreaterThanOrEqual(seconds);
        expect((minutes - 1) * 60).toBeLessThan(seconds === 0 ? 1 : seconds);
        expect(billableMinutes(seconds + 1)).toBeGreaterThanOrEqual(minutes);
      }),
    );
  });
});

describe("callDurationSeconds", () => {
  const start = new Date("2025-01-01T10:00:00Z");
  const plusMs = (ms: number) => new Date(start.getTime() + ms);

  it("measures from timestamps, rounding started seconds up", () => {
    expect(callDurationSeconds({ startedAt: start, endedAt: plusMs(90_000) })).toEqual({
      ok: true,
      seconds: 90,
    });
    expect(callDurationSeconds({ startedAt: start, endedAt: plusMs(60_200) })).toEqual({
      ok: true,
      seconds: 61,
    });
    expect(callDurationSeconds({ startedAt: start, endedAt: start })).toEqual({ ok: true, seconds: 0 });
  });

  it("accepts reported durations", () => {
    expect(callDurationSeconds({ startedAt: start, durationSeconds: 125 })).toEqual({
      ok: true,
      seconds: 125,
    });
    expect(callDurationSeconds({ startedAt: start, durationSeconds: 12.1 })).toEqual({
      ok: true,
      seconds: 13,
    });
  });

  it("allows exactly 24 hours and rejects longer calls", () => {
    expect(callDurationSeconds({ startedAt: start, durationSeconds: MAX_CALL_DURATION_SECONDS })).toEqual({
      ok: true,
      seconds: 86_400,
    });
    expect(callDurationSeconds({ startedAt: start, endedAt: plusMs(86_400_001) })).toMatchObject({
      ok: false,
      reason: "TOO_LONG",
    });
    expect(callDurationSeconds({ startedAt: start, durationSeconds: 86_401 })).toMatchObject({
      ok: false,
      reason: "TOO_LONG",
    });
  });

  it("rejects inverted, negative and invalid input", () => {
    expect(callDurationSeconds({ startedAt: start, endedAt: plusMs(-1) })).toMatchObject({
      ok: false,
      reason: "ENDED_BEFORE_STARTED",
    });
    expect(callDurationSeconds({ startedAt: start, durationSeconds: -5 })).toMatchObject({
      ok: false,
      reason: "INVALID_DURATION",
    });
    expect(callDurationSeconds({ startedAt: start, durationSeconds: Number.NaN })).toMatchObject({
      ok: false,
      reason: "INVALID_DURATION",
    });
    expect(callDurationSeconds({ startedAt: new Date("x"), durationSeconds: 5 })).toMatchObject({
      ok: false,
      reason: "INVALID_TIMESTAMP",
    });
    expect(callDurationSeconds({ startedAt: start, endedAt: new Date("x") })).toMatchObject({
      ok: false,
      reason: "INVALID_TIMESTAMP",
    });
  });
});

describe("summarizeUsage", () => {
  it("sums up used, limit, remaining and the percentage", () => {
    expect(summarizeUsage(50, 1000)).toEqual({
      minutesUsed: 50,
      minutesLimit: 1000,
      minutesRemaining: 950,
      usagePercentage: 5,
    });
    expect(summarizeUsage(2500, 3000).usagePercentage).toBe(83.3);
    expect(summarizeUsage(2, 3).usagePercentage).toBe(66.7);
    expect(summarizeUsage(1, 16).usagePercentage).toBe(6.3);
  });

  it("never reports negative remaining minutes and can exceed 100%", () => {
    expect(summarizeUsage(1450, 1000)).toEqual({
      minutesUsed: 1450,
      minutesLimit: 1000,
      minutesRemaining: 0,
      usagePercentage: 145,
    });
  });

  it("handles a zero limit", () => {
    expect(summarizeUsage(0, 0)).toEqual({
      minutesUsed: 0,
      minutesLimit: 0,
      minutesRemaining: 0,
      usagePercentage: 0,
    });
    expect(summarizeUsage(3, 0).usagePercentage).toBe(100);
  });

  it("rejects negative or fractional minutes", () => {
    expect(() => summarizeUsage(-1, 10)).toThrow(RangeError);
    expect(() => summarizeUsage(1, 1.5)).toThrow(RangeError);
  });

  it("has at most one decimal and is within 0.05 of the true ratio", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        (used, limit) => {
          const percentage = usagePercentage(used, limit);
          expect(Number.isInteger(Math.round(percentage * 10))).toBe(true);
          expect(Math.abs(percentage * 10 - Math.round(percentage * 10))).toBeLessThan(1e-9);
          expect(Math.abs(percentage - (used * 100) / limit)).toBeLessThanOrEqual(0.05 + 1e-9);
          expect(summarizeUsage(used, limit).minutesRemaining).toBe(Math.max(0, limit - used));
        },
      ),
    );
  });
});

describe("thresholds", () => {
  it("uses 80% and 100% by default", () => {
    expect(DEFAULT_ALERT_THRESHOLDS).toEqual([80, 100]);
  });

  it("fires thresholds newly reached", () => {
    expect(crossedThresholds({ before: 700, after: 800, limit: 1000 })).toEqual([80]);
    expect(crossedThresholds({ before: 799, after: 1000, limit: 1000 })).toEqual([80, 100]);
    expect(crossedThresholds({ before: 800, after: 999, limit: 1000 })).toEqual([]);
    expect(crossedThresholds({ before: 999, after: 5000, limit: 1000 })).toEqual([100]);
    expect(crossedThresholds({ before: 0, after: 0, limit: 1000 })).toEqual([]);
  });

  it("uses exact integer comparisons", () => {
    // 80% of 3 minutes is 2.4 minutes: 2 is below, 3 reaches it.
    expect(crossedThresholds({ before: 0, after: 2, limit: 3 })).toEqual([]);
    expect(crossedThresholds({ before: 2, after: 3, limit: 3 })).toEqual([80, 100]);
    expect(thresholdReached(2400, 3000, 80)).toBe(true);
    expect(thresholdReached(2399, 3000, 80)).toBe(false);
    // The least count reaching a threshold: the ceiling of percent * limit / 100, 1 for a zero limit.
    expect(thresholdMinutes(3000, 80)).toBe(2400);
    expect(thresholdMinutes(3, 80)).toBe(3);
    expect(thresholdMinutes(999, 80)).toBe(800);
    expect(thresholdMinutes(0, 80)).toBe(1);
    expect(thresholdMinutes(100_000_000, 1000)).toBe(1_000_000_000);
    expect(thresholdReached(0, 0, 80)).toBe(false);
    expect(thresholdReached(1, 0, 80)).toBe(true);
  });

  it("does not fire on decreases and sorts/dedupes custom thresholds", () => {
    expect(crossedThresholds({ before: 1000, after: 10, limit: 1000 })).toEqual([]);
    expect(
      crossedThresholds({ before: 0, after: 1000, limit: 1000, thresholds: [100, 50, 50, 150] }),
    ).toEqual([50, 100]);
  });

  it("treats any usage of a zero limit as reaching every threshold", () => {
    expect(crossedThresholds({ before: 0, after: 1, limit: 0 })).toEqual([80, 100]);
    expect(crossedThresholds({ before: 1, after: 2, limit: 0 })).toEqual([]);
    expect(crossedThresholds({ before: 0, after: 0, limit: 0 })).toEqual([]);
  });

  it("rejects invalid thresholds and minutes", () => {
    expect(() => crossedThresholds({ before: 0, after: 1, limit: 10, thresholds: [0] })).toThrow(RangeError);
    expect(() => crossedThresholds({ before: 0, after: 1, limit: 10, thresholds: [80.5] })).toThrow(
      RangeError,
    );
    expect(() => crossedThresholds({ before: -1, after: 1, limit: 10 })).toThrow(RangeError);
  });

  it("fires each threshold exactly once over a monotone sequence of usage", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5000 }),
        fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 40 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 5 }),
        (limit, increments, thresholds) => {
          let used = 0;
          const fired: number[] = [];
          for (const increment of increments) {
            const after = used + increment;
            fired.push(...crossedThresholds({ before: used, after, limit, thresholds }));
            used = after;
          }
          expect(new Set(fired).size).toBe(fired.length);
          const reached = thresholds.filter((t) => thresholdReached(used, limit, t)).sort((a, b) => a - b);
          expect([...fired].sort((a, b) => a - b)).toEqual(reached);
        },
      ),
    );
  });
});

describe("overage", () => {
  it("counts minutes above the limit", () => {
    expect(overageMinutes(1450, 1000)).toBe(450);
    expect(overageMinutes(1000, 1000)).toBe(0);
    expect(overageMinutes(10, 1000)).toBe(0);
    expect(overageMinutes(5, 0)).toBe(5);
  });

  it("prices overage per minute", () => {
    expect(overageCost(3450, 3000, money(3, "usd"))).toEqual(money(1350, "usd"));
    expect(overageCost(3000, 3000, money(3, "usd"))).toEqual(money(0, "usd"));
    expect(overageCost(12_000, 10_000, money(2, "eur"))).toEqual(money(4000, "eur"));
  });

  it("is zero for hard-cap plans, in the fallback currency", () => {
    expect(overageCost(5000, 1000, null)).toEqual(money(0, "usd"));
    expect(overageCost(5000, 1000, null, "gbp")).toEqual(money(0, "gbp"));
  });

  it("rejects invalid counts and overflowing totals", () => {
    expect(() => overageMinutes(-1, 10)).toThrow(RangeError);
    expect(() => overageCost(Number.MAX_SAFE_INTEGER, 0, money(2, "usd"))).toThrow(RangeError);
  });
});
