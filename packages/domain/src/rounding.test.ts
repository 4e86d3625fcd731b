import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decimalToFraction, divideAndRound, ROUNDING_MODES, toSafeInteger } from "./rounding";

describe("divideAndRound", () => {
  it.each([
    // [numerator, denominator, half-even, half-up, floor, ceil]
    [5n, 2n, 2n, 3n, 2n, 3n],
    [7n, 2n, 4n, 4n, 3n, 4n],
    [-5n, 2n, -2n, -3n, -3n, -2n],
    [-7n, 2n, -4n, -4n, -4n, -3n],
    [10n, 4n, 2n, 3n, 2n, 3n],
    [11n, 4n, 3n, 3n, 2n, 3n],
    [9n, 4n, 2n, 2n, 2n, 3n],
    [1n, 3n, 0n, 0n, 0n, 1n],
    [-1n, 3n, 0n, 0n, -1n, 0n],
    [6n, 3n, 2n, 2n, 2n, 2n],
    [5n, -2n, -2n, -3n, -3n, -2n],
  ])("%s / %s", (num, den, halfEven, halfUp, floor, ceil) => {
    expect(divideAndRound(num, den, "half-even")).toBe(halfEven);
    expect(divideAndRound(num, den, "half-up")).toBe(halfUp);
    expect(divideAndRound(num, den, "floor")).toBe(floor);
    expect(divideAndRound(num, den, "ceil")).toBe(ceil);
  });

  it("rejects division by zero", () => {
    expect(() => divideAndRound(1n, 0n, "floor")).toThrow(RangeError);
  });

  it("rejects an unknown mode at runtime", () => {
    expect(() => divideAndRound(1n, 2n, "sideways" as never)).toThrow(/Unexpected/);
  });

  it("stays within one unit of the exact quotient and brackets it between floor and ceil", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 18n), max: 10n ** 18n }),
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        (num, den) => {
          const floor = divideAndRound(num, den, "floor");
          const ceil = divideAndRound(num, den, "ceil");
          expect(floor * den <= num).toBe(true);
          expect(ceil * den >= num).toBe(true);
          expect(ceil - floor).toBe(num % den === 0n ? 0n : 1n);
          for (const mode of ROUNDING_MODES) {
            const rounded = divideAndRound(num, den, mode);
            expect(rounded === floor || rounded === ceil).toBe(true);
          }
          for (const mode of ["half-even", "half-up"] as const) {
            // |rounded - num/den| <= 1/2  <=>  |2 * (rounded * den - num)| <= den
            const diff = 2n * (divideAndRound(num, den, mode) * den - num);
            expect(diff <= den && -diff <= den).toBe(true);
          }
        },
      ),
    );
  });

  it("half-up is symmetric around zero", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }),
        fc.bigInt({ min: 1n, max: 1000n }),
        (n, d) => {
          expect(divideAndRound(-n, d, "half-up")).toBe(-divideAndRound(n, d, "half-up"));
          expect(divideAndRound(-n, d, "half-even")).toBe(-divideAndRound(n, d, "half-even"));
        },
      ),
    );
  });
});

describe("decimalToFraction", () => {
  it.each([
    [0.1, 1n, 10n],
    [19.99, 1999n, 100n],
    [-1.005, -1005n, 1000n],
    [42, 42n, 1n],
    [1e21, 10n ** 21n, 1n],
    [1e-7, 1n, 10n ** 7n],
    [1.5e-7, 15n, 10n ** 8n],
    [0.30000000000000004, 30000000000000004n, 10n ** 17n],
  ])("reads %s as the decimal it prints as", (value, numerator, denominator) => {
    expect(decimalToFraction(value)).toEqual({ numerator, denominator });
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])("rejects %s", (value) => {
    expect(() => decimalToFraction(value)).toThrow(RangeError);
  });

  it("is exact: parsing numerator / 10^k as a decimal gives back the same double", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => {
        const { numerator, denominator } = decimalToFraction(value);
        const k = denominator.toString().length - 1;
        expect(denominator).toBe(10n ** BigInt(k));
        expect(Number(`${numerator}e-${k}`)).toBe(value === 0 ? 0 : value);
      }),
    );
  });
});

describe("toSafeInteger", () => {
  it("converts safe values and rejects unsafe ones", () => {
    expect(toSafeInteger(123n)).toBe(123);
    expect(toSafeInteger(BigInt(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => toSafeInteger(BigInt(Number.MAX_SAFE_INTEGER) + 1n)).toThrow(RangeError);
    expect(() => toSafeInteger(BigInt(Number.MIN_SAFE_INTEGER) - 1n)).toThrow(RangeError);
  });
});
