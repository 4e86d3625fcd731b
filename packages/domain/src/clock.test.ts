import { describe, expect, it } from "vitest";
import { accountNow, fixedClock, systemClock } from "./clock";

describe("systemClock", () => {
  it("returns the current time", () => {
    const before = Date.now();
    const now = systemClock.now().getTime();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });
});

describe("fixedClock", () => {
  it("returns the fixed instant until moved", () => {
    const clock = fixedClock(new Date("2025-01-01T00:00:00Z"));
    expect(clock.now().toISOString()).toBe("2025-01-01T00:00:00.000Z");
    clock.advance(90_000);
    expect(clock.now().toISOString()).toBe("2025-01-01T00:01:30.000Z");
    clock.advance(-30_000);
    expect(clock.now().toISOString()).toBe("2025-01-01T00:01:00.000Z");
    clock.set(new Date("2030-06-01T12:00:00Z"));
    expect(clock.now().toISOString()).toBe("2030-06-01T12:00:00.000Z");
  });

  it("is not affected by mutating the dates it was given or returned", () => {
    const start = new Date("2025-01-01T00:00:00Z");
    const clock = fixedClock(start);
    start.setUTCFullYear(1999);
    clock.now().setUTCFullYear(1999);
    expect(clock.now().toISOString()).toBe("2025-01-01T00:00:00.000Z");
  });

  it("rejects invalid times", () => {
    expect(() => fixedClock(new Date(Number.NaN))).toThrow(RangeError);
    const clock = fixedClock(new Date(0));
    expect(() => clock.advance(Number.NaN)).toThrow(RangeError);
    expect(() => clock.set(new Date("nope"))).toThrow(RangeError);
    expect(clock.now().getTime()).toBe(0);
  });
});

describe("accountNow", () => {
  const wall = new Date("2026-12-06T10:00:00Z");
  it("is the wall clock without a test clock", () => {
    expect(accountNow(wall, null)).toEqual(wall);
  });
  it("is the test clock's time when it is ahead", () => {
    expect(accountNow(wall, new Date("2027-01-07T00:00:00Z"))).toEqual(new Date("2027-01-07T00:00:00Z"));
  });
  it("is the wall clock when the test clock lags behind it", () => {
    expect(accountNow(wall, new Date("2026-12-06T09:00:00Z"))).toEqual(wall);
  });
});
