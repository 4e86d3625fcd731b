import { describe, expect, it } from "vitest";
import { DomainError, isDomainError } from "./errors";
import { assertNever, failClosed } from "./exhaustive";
import { CurrencyMismatchError } from "./money";
import { addDays, addMilliseconds, assertValidDate, isValidDate, MS_PER_DAY } from "./time";

describe("DomainError", () => {
  it("carries a code and message", () => {
    const error = new DomainError("PLAN_NOT_FOUND", "No such plan");
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe("PLAN_NOT_FOUND");
    expect(error.message).toBe("No such plan");
    expect(error.name).toBe("DomainError");
  });

  it("is recognised by isDomainError, optionally by code", () => {
    const mismatch = new CurrencyMismatchError("usd", "eur");
    expect(isDomainError(mismatch)).toBe(true);
    expect(isDomainError(mismatch, "CURRENCY_MISMATCH")).toBe(true);
    expect(isDomainError(mismatch, "OTHER")).toBe(false);
    expect(isDomainError(new Error("x"))).toBe(false);
    expect(isDomainError({ code: "CURRENCY_MISMATCH" })).toBe(false);
  });
});

describe("exhaustiveness helpers", () => {
  it("assertNever throws and failClosed returns the fallback", () => {
    expect(() => assertNever("x" as never, "thing")).toThrow("Unexpected thing: x");
    expect(failClosed("x" as never, false)).toBe(false);
  });
});

describe("time helpers", () => {
  it("validates dates", () => {
    expect(isValidDate(new Date(0))).toBe(true);
    expect(isValidDate(new Date("nope"))).toBe(false);
    expect(isValidDate("2025-01-01")).toBe(false);
    expect(() => assertValidDate(new Date("nope"), "start")).toThrow("start must be a valid Date");
    expect(() => assertValidDate(new Date(0))).not.toThrow();
  });

  it("adds without mutating", () => {
    const base = new Date("2025-01-01T00:00:00Z");
    expect(addDays(base, 2).toISOString()).toBe("2025-01-03T00:00:00.000Z");
    expect(addMilliseconds(base, -1).toISOString()).toBe("2024-12-31T23:59:59.999Z");
    expect(base.getTime() % MS_PER_DAY).toBe(0);
    expect(base.toISOString()).toBe("2025-01-01T00:00:00.000Z");
  });
});
