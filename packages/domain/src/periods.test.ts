import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  addMonthsClamped,
  type BillingPeriod,
  currentBillingPeriod,
  dayKey,
  daysInMonth,
  daysInPeriod,
  isLeapYear,
  monthlyPeriodAt,
  monthlyPeriodContaining,
  monthlyPeriodIndex,
  periodContains,
  periodLengthMs,
  startOfUtcDay,
} from "./periods";

const d = (iso: string) => new Date(iso);

describe("calendar helpers", () => {
  it("knows leap years and month lengths", () => {
    expect([1900, 2000, 2023, 2024, 2100].map(isLeapYear)).toEqual([false, true, false, true, false]);
    expect(daysInMonth(2024, 1)).toBe(29);
    expect(daysInMonth(2023, 1)).toBe(28);
    expect(daysInMonth(2025, 3)).toBe(30);
    expect(daysInMonth(2025, 11)).toBe(31);
  });
});

describe("addMonthsClamped", () => {
  it.each([
    ["2025-01-31T10:30:00.000Z", 1, "2025-02-28T10:30:00.000Z"],
    ["2024-01-31T10:30:00.000Z", 1, "2024-02-29T10:30:00.000Z"],
    ["2025-01-31T10:30:00.000Z", 2, "2025-03-31T10:30:00.000Z"],
    ["2025-01-31T00:00:00.000Z", 3, "2025-04-30T00:00:00.000Z"],
    ["2025-01-15T00:00:00.000Z", 12, "2026-01-15T00:00:00.000Z"],
    ["2025-12-31T23:59:59.999Z", 1, "2026-01-31T23:59:59.999Z"],
    ["2025-03-31T00:00:00.000Z", -1, "2025-02-28T00:00:00.000Z"],
    ["2025-01-10T00:00:00.000Z", -13, "2023-12-10T00:00:00.000Z"],
    ["2024-02-29T00:00:00.000Z", 12, "2025-02-28T00:00:00.000Z"],
    ["2024-02-29T00:00:00.000Z", 48, "2028-02-29T00:00:00.000Z"],
    ["2025-05-20T08:00:00.000Z", 0, "2025-05-20T08:00:00.000Z"],
  ])("%s + %i months = %s", (anchor, months, expected) => {
    expect(addMonthsClamped(d(anchor), months).toISOString()).toBe(expected);
  });

  it("stays anchored to the original day of month (Mar 31 comes back)", () => {
    const anchor = d("2025-01-31T00:00:00Z");
    const boundaries = [0, 1, 2, 3, 4].map((n) => addMonthsClamped(anchor, n).toISOString().slice(0, 10));
    expect(boundaries).toEqual(["2025-01-31", "2025-02-28", "2025-03-31", "2025-04-30", "2025-05-31"]);
  });

  it("does not mutate its input", () => {
    const anchor = d("2025-01-31T00:00:00Z");
    addMonthsClamped(anchor, 1);
    expect(anchor.toISOString()).toBe("2025-01-31T00:00:00.000Z");
  });

  it("rejects invalid input", () => {
    expect(() => addMonthsClamped(new Date(Number.NaN), 1)).toThrow(RangeError);
    expect(() => addMonthsClamped(d("2025-01-01"), 1.5)).toThrow(RangeError);
  });

  it("is strictly increasing, keeps the time of day and never moves the day later than the anchor's", () => {
    fc.assert(
      fc.property(
        fc.date({ min: d("1990-01-01"), max: d("2090-01-01"), noInvalidDate: true }),
        fc.integer({ min: -240, max: 240 }),
        (anchor, n) => {
          const a = addMonthsClamped(anchor, n);
          const b = addMonthsClamped(anchor, n + 1);
          expect(b.getTime()).toBeGreaterThan(a.getTime());
          const timeOfDay = (x: Date) => ((x.getTime() % 86_400_000) + 86_400_000) % 86_400_000;
          expect(timeOfDay(a)).toBe(timeOfDay(anchor));
          expect(a.getUTCDate()).toBeLessThanOrEqual(anchor.getUTCDate());
          const expectedDay = Math.min(anchor.getUTCDate(), daysInMonth(a.getUTCFullYear(), a.getUTCMonth()));
          expect(a.getUTCDate()).toBe(expectedDay);
          const monthDelta =
            (a.getUTCFullYear() - anchor.getUTCFullYear()) * 12 + a.getUTCMonth() - anchor.getUTCMonth();
          expect(monthDelta).toBe(n);
        },
      ),
    );
  });
});

describe("monthlyPeriodContaining", () => {
  const anchor = d("2025-01-31T12:00:00Z");

  it("finds the period containing a date after the anchor", () => {
    const period = monthlyPeriodContaining(anchor, d("2025-03-15T00:00:00Z"));
    expect(period.start.toISOString()).toBe("2025-02-28T12:00:00.000Z");
    expect(period.end.toISOString()).toBe("2025-03-31T12:00:00.000Z");
  });

  it("treats the end as exclusive and the start as inclusive", () => {
    const boundary = d("2025-02-28T12:00:00Z");
    expect(monthlyPeriodContaining(anchor, boundary).start).toEqual(boundary);
    const justBefore = new Date(boundary.getTime() - 1);
    expect(monthlyPeriodContaining(anchor, justBefore).end).toEqual(boundary);
    expect(monthlyPeriodContaining(anchor, anchor).start).toEqual(anchor);
  });

  it("works for dates before the anchor", () => {
    const period = monthlyPeriodContaining(anchor, d("2024-12-01T00:00:00Z"));
    expect(period.start.toISOString()).toBe("2024-11-30T12:00:00.000Z");
    expect(period.end.toISOString()).toBe("2024-12-31T12:00:00.000Z");
    expect(monthlyPeriodIndex(anchor, d("2024-12-01T00:00:00Z"))).toBe(-2);
  });

  it("handles leap-year February", () => {
    const period = monthlyPeriodContaining(d("2024-01-30T00:00:00Z"), d("2024-03-01T00:00:00Z"));
    expect(period.start.toISOString()).toBe("2024-02-29T00:00:00.000Z");
    expect(period.end.toISOString()).toBe("2024-03-30T00:00:00.000Z");
  });

  it("returns the indexed period", () => {
    expect(monthlyPeriodAt(anchor, 0)).toEqual({ start: anchor, end: d("2025-02-28T12:00:00Z") });
  });

  it("always contains `at`, and consecutive periods tile the timeline", () => {
    fc.assert(
      fc.property(
        fc.date({ min: d("2000-01-01"), max: d("2060-01-01"), noInvalidDate: true }),
        fc.date({ min: d("1995-01-01"), max: d("2065-01-01"), noInvalidDate: true }),
        (anchorDate, at) => {
          const period = monthlyPeriodContaining(anchorDate, at);
          expect(periodContains(period, at)).toBe(true);
          const index = monthlyPeriodIndex(anchorDate, at);
          expect(monthlyPeriodAt(anchorDate, index + 1).start).toEqual(period.end);
          const days = periodLengthMs(period) / 86_400_000;
          expect(days).toBeGreaterThanOrEqual(28);
          expect(days).toBeLessThanOrEqual(31);
        },
      ),
    );
  });
});

describe("periodContains", () => {
  const period: BillingPeriod = { start: d("2025-01-01T00:00:00Z"), end: d("2025-02-01T00:00:00Z") };
  it("is half-open", () => {
    expect(periodContains(period, period.start)).toBe(true);
    expect(periodContains(period, d("2025-01-31T23:59:59.999Z"))).toBe(true);
    expect(periodContains(period, period.end)).toBe(false);
    expect(periodContains(period, d("2024-12-31T23:59:59.999Z"))).toBe(false);
  });
});

describe("dayKey", () => {
  it("formats UTC days", () => {
    expect(dayKey(d("2025-03-09T23:59:59Z"))).toBe("2025-03-09");
    expect(dayKey(d("2025-03-10T00:00:00+02:00"))).toBe("2025-03-09");
    const year42 = new Date(0);
    year42.setUTCFullYear(42, 6, 4);
    expect(dayKey(year42)).toBe("0042-07-04");
  });

  it("rejects invalid dates and unsupported years", () => {
    expect(() => dayKey(new Date(Number.NaN))).toThrow(RangeError);
    const far = new Date(0);
    far.setUTCFullYear(10000);
    expect(() => dayKey(far)).toThrow(RangeError);
  });

  it("matches the ISO date prefix", () => {
    fc.assert(
      fc.property(fc.date({ min: d("0000-01-01"), max: d("9999-12-31"), noInvalidDate: true }), (date) => {
        expect(dayKey(date)).toBe(date.toISOString().slice(0, 10));
        expect(dayKey(startOfUtcDay(date))).toBe(dayKey(date));
      }),
    );
  });
});

describe("daysInPeriod", () => {
  it("lists every overlapping UTC day, excluding an end at midnight", () => {
    expect(daysInPeriod({ start: d("2025-02-27T00:00:00Z"), end: d("2025-03-02T00:00:00Z") })).toEqual([
      "2025-02-27",
      "2025-02-28",
      "2025-03-01",
    ]);
    expect(daysInPeriod({ start: d("2024-02-28T10:00:00Z"), end: d("2024-03-01T10:00:00Z") })).toEqual([
      "2024-02-28",
      "2024-02-29",
      "2024-03-01",
    ]);
  });

  it("returns nothing for an empty period and one day for a sub-day period", () => {
    const t = d("2025-05-05T05:00:00Z");
    expect(daysInPeriod({ start: t, end: t })).toEqual([]);
    expect(daysInPeriod({ start: t, end: new Date(t.getTime() - 1) })).toEqual([]);
    expect(daysInPeriod({ start: t, end: new Date(t.getTime() + 1) })).toEqual(["2025-05-05"]);
  });

  it("covers a monthly period with consecutive unique days", () => {
    fc.assert(
      fc.property(
        fc.date({ min: d("2000-01-01"), max: d("2060-01-01"), noInvalidDate: true }),
        (anchorDate) => {
          const period = monthlyPeriodAt(anchorDate, 0);
          const days = daysInPeriod(period);
          expect(days[0]).toBe(dayKey(period.start));
          expect(days.at(-1)).toBe(dayKey(new Date(period.end.getTime() - 1)));
          expect(new Set(days).size).toBe(days.length);
          expect([...days].sort()).toEqual(days);
        },
      ),
    );
  });
});

describe("currentBillingPeriod", () => {
  const sub = { currentPeriodStart: d("2027-01-06T00:00:00Z"), currentPeriodEnd: d("2027-02-06T00:00:00Z") };
  it("is the subscription's period while now is before its end", () => {
    expect(currentBillingPeriod(sub, d("2027-01-20T00:00:00Z"))).toEqual({
      start: sub.currentPeriodStart,
      end: sub.currentPeriodEnd,
    });
  });
  it("never falls back to the period before when now lies before Stripe's period start", () => {
    expect(currentBillingPeriod(sub, d("2026-12-06T00:00:00Z"))).toEqual({
      start: sub.currentPeriodStart,
      end: sub.currentPeriodEnd,
    });
  });
  it("is the monthly period after the end while the renewal is not synced", () => {
    expect(currentBillingPeriod(sub, d("2027-02-06T00:00:00Z"))).toEqual({
      start: d("2027-02-06T00:00:00Z"),
      end: d("2027-03-06T00:00:00Z"),
    });
  });
});
