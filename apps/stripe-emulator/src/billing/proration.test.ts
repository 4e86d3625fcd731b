import { describe, expect, it } from "vitest";
import { boundary, nextBoundaryAfter } from "./periods.ts";
import { prorate, prorationFor, roundHalfAwayFromZero } from "./proration.ts";

describe("proration", () => {
  it("rounds half away from zero", () => {
    expect(roundHalfAwayFromZero(5n, 2n)).toBe(3);
    expect(roundHalfAwayFromZero(-5n, 2n)).toBe(-3);
    expect(roundHalfAwayFromZero(7n, 3n)).toBe(2);
    expect(roundHalfAwayFromZero(-7n, 3n)).toBe(-2);
    expect(roundHalfAwayFromZero(0n, 9n)).toBe(0);
  });

  it("prorates per second of the period", () => {
    const start = 1_000_000;
    const end = start + 30 * 86_400;
    expect(prorate(3000, start, end, start)).toBe(3000);
    expect(prorate(3000, start, end, end)).toBe(0);
    expect(prorate(3000, start, end, start + 15 * 86_400)).toBe(1500);
    // 1000 × 2/3 = 666.67 → 667
    expect(prorate(1000, start, end, start + 10 * 86_400)).toBe(667);
  });

  it("gives a negative credit for the old amount and a positive charge for the new one", () => {
    const start = 0;
    const end = 31 * 86_400;
    expect(prorationFor(1000, 3000, start, end, 10 * 86_400)).toEqual({ credit: -677, charge: 2032 });
    expect(Object.is(prorationFor(0, 500, start, end, 0).credit, 0)).toBe(true);
  });
});

describe("billing periods", () => {
  it("keeps the anchor day and clamps to the month end", () => {
    const jan31 = Date.UTC(2026, 0, 31, 9) / 1000;
    expect(new Date(boundary(jan31, "month", 1, 1) * 1000).toISOString()).toBe("2026-02-28T09:00:00.000Z");
    expect(new Date(boundary(jan31, "month", 1, 2) * 1000).toISOString()).toBe("2026-03-31T09:00:00.000Z");
    expect(new Date(boundary(jan31, "year", 1, 1) * 1000).toISOString()).toBe("2027-01-31T09:00:00.000Z");
    expect(boundary(jan31, "week", 2, 1) - jan31).toBe(14 * 86_400);
  });

  it("finds the next boundary strictly after a time", () => {
    const anchor = Date.UTC(2026, 0, 15) / 1000;
    const feb15 = Date.UTC(2026, 1, 15) / 1000;
    expect(nextBoundaryAfter(anchor, anchor, "month", 1)).toBe(feb15);
    expect(nextBoundaryAfter(anchor, feb15 - 1, "month", 1)).toBe(feb15);
    expect(nextBoundaryAfter(anchor, feb15, "month", 1)).toBe(Date.UTC(2026, 2, 15) / 1000);
    expect(nextBoundaryAfter(anchor, Date.UTC(2030, 5, 20) / 1000, "month", 1)).toBe(
      Date.UTC(2030, 6, 15) / 1000,
    );
  });
});
