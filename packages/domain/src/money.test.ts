import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DomainError } from "./errors";
import {
  addMoney,
  CURRENCIES,
  type Currency,
  CurrencyMismatchError,
  compareMoney,
  formatMoney,
  fromMajorUnits,
  isCurrency,
  type Money,
  maxMoney,
  money,
  moneyEquals,
  multiplyMoney,
  negateMoney,
  parseCurrency,
  subtractMoney,
  sumMoney,
  toMajorUnits,
  zeroMoney,
} from "./money";

const usd = (amount: number) => money(amount, "usd");
const eur = (amount: number) => money(amount, "eur");

const currencyArb = fc.constantFrom<Currency>(...CURRENCIES);
const amountArb = fc.integer({ min: -1_000_000_000_000, max: 1_000_000_000_000 });
const moneyArb = (currency: Currency) => amountArb.map((amount) => money(amount, currency));

describe("money", () => {
  it("creates integer minor-unit amounts", () => {
    expect(money(2900, "usd")).toEqual({ amount: 2900, currency: "usd" });
    expect(money(-150, "gbp")).toEqual({ amount: -150, currency: "gbp" });
  });

  it.each([1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 1, 2 ** 60])(
    "rejects %s",
    (amount) => {
      expect(() => money(amount, "usd")).toThrow(RangeError);
    },
  );

  it("rejects unsupported currencies at runtime", () => {
    expect(() => money(1, "USD" as Currency)).toThrow(RangeError);
    expect(() => money(1, "jpy" as Currency)).toThrow(RangeError);
  });

  it("normalises negative zero", () => {
    expect(Object.is(money(-0, "usd").amount, 0)).toBe(true);
    expect(Object.is(negateMoney(usd(0)).amount, 0)).toBe(true);
  });

  it("is frozen", () => {
    const m = usd(1);
    expect(Object.isFrozen(m)).toBe(true);
  });
});

describe("currencies", () => {
  it("accepts lowercase supported codes only", () => {
    expect(isCurrency("usd")).toBe(true);
    expect(isCurrency("eur")).toBe(true);
    expect(isCurrency("gbp")).toBe(true);
    expect(isCurrency("USD")).toBe(false);
    expect(isCurrency("jpy")).toBe(false);
    expect(isCurrency(undefined)).toBe(false);
    expect(isCurrency(1)).toBe(false);
  });

  it("parses case-insensitively", () => {
    expect(parseCurrency(" USD ")).toBe("usd");
    expect(parseCurrency("Gbp")).toBe("gbp");
    expect(parseCurrency("chf")).toBeNull();
  });
});

describe("addMoney / subtractMoney", () => {
  it("adds and subtracts in the same currency", () => {
    expect(addMoney(usd(2900), usd(100))).toEqual(usd(3000));
    expect(subtractMoney(usd(2900), usd(9900))).toEqual(usd(-7000));
  });

  it("throws on currency mismatch", () => {
    expect(() => addMoney(usd(1), eur(1))).toThrow(CurrencyMismatchError);
    expect(() => subtractMoney(usd(1), eur(1))).toThrow(CurrencyMismatchError);
    try {
      addMoney(usd(1), eur(1));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).code).toBe("CURRENCY_MISMATCH");
      expect((error as DomainError).message).toContain("USD");
    }
  });

  it("throws instead of losing precision on overflow", () => {
    expect(() => addMoney(usd(Number.MAX_SAFE_INTEGER), usd(1))).toThrow(RangeError);
    expect(() => subtractMoney(usd(Number.MIN_SAFE_INTEGER), usd(1))).toThrow(RangeError);
  });

  it("is commutative and associative, and subtraction undoes addition", () => {
    fc.assert(
      fc.property(currencyArb, amountArb, amountArb, amountArb, (currency, a, b, c) => {
        const [x, y, z] = [money(a, currency), money(b, currency), money(c, currency)];
        expect(addMoney(x, y)).toEqual(addMoney(y, x));
        expect(addMoney(addMoney(x, y), z)).toEqual(addMoney(x, addMoney(y, z)));
        expect(subtractMoney(addMoney(x, y), y)).toEqual(x);
        expect(addMoney(x, negateMoney(x))).toEqual(zeroMoney(currency));
      }),
    );
  });
});

describe("multiplyMoney", () => {
  it.each([
    [5, 0.5, "half-even", 2],
    [7, 0.5, "half-even", 4],
    [5, 0.5, "half-up", 3],
    [5, 0.5, "floor", 2],
    [5, 0.5, "ceil", 3],
    [-5, 0.5, "half-even", -2],
    [-5, 0.5, "half-up", -3],
    [-5, 0.5, "floor", -3],
    [-5, 0.5, "ceil", -2],
    [2900, 1.15, "floor", 3335],
    [2900, 1.15, "half-even", 3335],
    [1000, 0.333, "half-even", 333],
    [9900, 0, "half-even", 0],
    [9900, -1, "half-even", -9900],
    [3, 1e-7, "ceil", 1],
  ] as const)("%s x %s (%s) = %s", (amount, factor, mode, expected) => {
    expect(multiplyMoney(usd(amount), factor, mode)).toEqual(usd(expected));
  });

  it("defaults to half-even", () => {
    expect(multiplyMoney(usd(25), 0.1)).toEqual(usd(2));
    expect(multiplyMoney(usd(35), 0.1)).toEqual(usd(4));
  });

  it("keeps the currency", () => {
    expect(multiplyMoney(eur(100), 2).currency).toBe("eur");
  });

  it("rejects non-finite factors and unsafe results", () => {
    expect(() => multiplyMoney(usd(1), Number.NaN)).toThrow(RangeError);
    expect(() => multiplyMoney(usd(1), Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => multiplyMoney(usd(10), 1e21)).toThrow(RangeError);
  });

  it("multiplies exactly by integers and by one", () => {
    fc.assert(
      fc.property(currencyArb, amountArb, fc.integer({ min: -1000, max: 1000 }), (currency, amount, k) => {
        const m = money(amount, currency);
        expect(multiplyMoney(m, 1)).toEqual(m);
        expect(multiplyMoney(m, k, "floor")).toEqual(money(amount * k, currency));
      }),
    );
  });

  it("orders the modes floor <= half-* <= ceil, at most one unit apart", () => {
    fc.assert(
      fc.property(moneyArb("usd"), fc.double({ min: -100, max: 100, noNaN: true }), (m, factor) => {
        const floor = multiplyMoney(m, factor, "floor").amount;
        const ceil = multiplyMoney(m, factor, "ceil").amount;
        const halfEven = multiplyMoney(m, factor, "half-even").amount;
        const halfUp = multiplyMoney(m, factor, "half-up").amount;
        expect(ceil - floor).toBeGreaterThanOrEqual(0);
        expect(ceil - floor).toBeLessThanOrEqual(1);
        for (const value of [halfEven, halfUp]) {
          expect(value).toBeGreaterThanOrEqual(floor);
          expect(value).toBeLessThanOrEqual(ceil);
        }
      }),
    );
  });
});

describe("sumMoney", () => {
  it("returns zero in the requested currency for an empty list", () => {
    expect(sumMoney([], "gbp")).toEqual(money(0, "gbp"));
  });

  it("sums amounts", () => {
    expect(sumMoney([usd(2900), usd(-900), usd(1)], "usd")).toEqual(usd(2001));
  });

  it("throws when any element is in another currency", () => {
    expect(() => sumMoney([usd(1), eur(1)], "usd")).toThrow(CurrencyMismatchError);
    expect(() => sumMoney([usd(1)], "eur")).toThrow(CurrencyMismatchError);
  });

  it("matches the integer sum of the amounts, independent of order", () => {
    fc.assert(
      fc.property(fc.array(amountArb, { maxLength: 50 }), (amounts) => {
        const list = amounts.map(usd);
        const expected = amounts.reduce((a, b) => a + b, 0);
        expect(sumMoney(list, "usd")).toEqual(usd(expected));
        expect(sumMoney([...list].reverse(), "usd")).toEqual(usd(expected));
      }),
    );
  });
});

describe("comparisons", () => {
  it("compares, equals and max", () => {
    expect(compareMoney(usd(1), usd(2))).toBe(-1);
    expect(compareMoney(usd(2), usd(2))).toBe(0);
    expect(compareMoney(usd(3), usd(2))).toBe(1);
    expect(() => compareMoney(usd(1), eur(1))).toThrow(CurrencyMismatchError);
    expect(moneyEquals(usd(1), usd(1))).toBe(true);
    expect(moneyEquals(usd(1), eur(1))).toBe(false);
    expect(maxMoney(usd(5), usd(9))).toEqual(usd(9));
    expect(maxMoney(usd(9), usd(5))).toEqual(usd(9));
  });
});

describe("formatMoney", () => {
  it("formats en-US by default", () => {
    expect(formatMoney(usd(2900))).toBe("$29.00");
    expect(formatMoney(usd(9900))).toBe("$99.00");
    expect(formatMoney(usd(123456))).toBe("$1,234.56");
    expect(formatMoney(usd(3))).toBe("$0.03");
    expect(formatMoney(usd(-500))).toBe("-$5.00");
  });

  it("formats other currencies and locales", () => {
    expect(formatMoney(eur(1050))).toBe("€10.50");
    expect(formatMoney(money(123450, "gbp"), { locale: "en-GB" })).toBe("£1,234.50");
    expect(formatMoney(eur(123450), { locale: "de-DE" }).replace(/\s/g, " ")).toBe("1.234,50 €");
  });
});

describe("major units", () => {
  it("converts to major units for the seed contract", () => {
    expect(toMajorUnits(usd(2900))).toBe(29);
    expect(toMajorUnits(usd(1999))).toBe(19.99);
    expect(toMajorUnits(usd(-150))).toBe(-1.5);
    expect(Object.is(toMajorUnits(usd(0)), 0)).toBe(true);
  });

  it("converts from major units without float drift", () => {
    expect(fromMajorUnits(29, "usd")).toEqual(usd(2900));
    expect(fromMajorUnits(19.99, "usd")).toEqual(usd(1999));
    expect(fromMajorUnits(0.1 + 0.2, "usd")).toEqual(usd(30));
    expect(fromMajorUnits(1.005, "usd")).toEqual(usd(101));
    expect(fromMajorUnits(-1.005, "usd")).toEqual(usd(-101));
    expect(fromMajorUnits(1.005, "usd", "half-even")).toEqual(usd(100));
    expect(fromMajorUnits(4.35, "eur")).toEqual(eur(435));
  });

  it("rejects invalid input", () => {
    expect(() => fromMajorUnits(Number.NaN, "usd")).toThrow(RangeError);
    expect(() => fromMajorUnits(1e20, "usd")).toThrow(RangeError);
    expect(() => fromMajorUnits(1, "xxx" as Currency)).toThrow(RangeError);
  });

  it("round-trips minor -> major -> minor", () => {
    fc.assert(
      fc.property(currencyArb, fc.integer({ min: -(10 ** 15), max: 10 ** 15 }), (currency, amount) => {
        const m: Money = money(amount, currency);
        expect(fromMajorUnits(toMajorUnits(m), currency)).toEqual(m);
      }),
    );
  });
});
