import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addMoney, CurrencyMismatchError, money } from "./money";
import { prorate } from "./proration";

const usd = (amount: number) => money(amount, "usd");
const start = new Date("2025-01-01T00:00:00Z");
const end = new Date("2025-01-31T00:00:00Z"); // 30 days
const DAY = 86_400_000;

describe("prorate", () => {
  it("credits the unused old plan and charges the new plan for the remaining time", () => {
    const result = prorate({
      oldAmount: usd(2900),
      newAmount: usd(9900),
      periodStart: start,
      periodEnd: end,
      prorationDate: new Date(start.getTime() + 15 * DAY),
    });
    expect(result).toEqual({ credit: usd(-1450), charge: usd(4950), total: usd(3500), fraction: 0.5 });
  });

  it("rounds each line half away from zero", () => {
    // 1 of 3 seconds remaining: 100/3 = 33.33 -> 33; 5/2 = 2.5 -> 3 (credit -3).
    const third = prorate({
      oldAmount: usd(100),
      newAmount: usd(100),
      periodStart: new Date(0),
      periodEnd: new Date(3000),
      prorationDate: new Date(2000),
    });
    expect(third.credit).toEqual(usd(-33));
    expect(third.charge).toEqual(usd(33));
    const half = prorate({
      oldAmount: usd(5),
      newAmount: usd(7),
      periodStart: new Date(0),
      periodEnd: new Date(2000),
      prorationDate: new Date(1000),
    });
    expect(half.credit).toEqual(usd(-3));
    expect(half.charge).toEqual(usd(4));
    expect(half.total).toEqual(usd(1));
  });

  it("gives full amounts at the start and nothing at the end", () => {
    const base = { oldAmount: usd(2900), newAmount: usd(9900), periodStart: start, periodEnd: end };
    expect(prorate({ ...base, prorationDate: start })).toEqual({
      credit: usd(-2900),
      charge: usd(9900),
      total: usd(7000),
      fraction: 1,
    });
    const atEnd = prorate({ ...base, prorationDate: end });
    expect(atEnd.credit.amount).toBe(0);
    expect(Object.is(atEnd.credit.amount, -0)).toBe(false);
    expect(atEnd.charge).toEqual(usd(0));
    expect(atEnd.fraction).toBe(0);
  });

  it("clamps the proration date into the period", () => {
    const base = { oldAmount: usd(2900), newAmount: usd(9900), periodStart: start, periodEnd: end };
    expect(prorate({ ...base, prorationDate: new Date(start.getTime() - DAY) })).toEqual(
      prorate({ ...base, prorationDate: start }),
    );
    expect(prorate({ ...base, prorationDate: new Date(end.getTime() + DAY) })).toEqual(
      prorate({ ...base, prorationDate: end }),
    );
  });

  it("works per second, ignoring milliseconds", () => {
    const base = {
      oldAmount: usd(0),
      newAmount: usd(1000),
      periodStart: new Date(0),
      periodEnd: new Date(10_000),
    };
    expect(prorate({ ...base, prorationDate: new Date(4_999) }).charge).toEqual(usd(600));
    expect(prorate({ ...base, prorationDate: new Date(5_000) }).charge).toEqual(usd(500));
  });

  it("gives a net credit on downgrade", () => {
    const result = prorate({
      oldAmount: usd(29900),
      newAmount: usd(9900),
      periodStart: start,
      periodEnd: end,
      prorationDate: new Date(start.getTime() + 10 * DAY),
    });
    expect(result.credit).toEqual(usd(-19933));
    expect(result.charge).toEqual(usd(6600));
    expect(result.total).toEqual(usd(-13333));
  });

  it("rejects mismatched currencies and bad periods", () => {
    const base = {
      oldAmount: usd(1),
      newAmount: usd(2),
      periodStart: start,
      periodEnd: end,
      prorationDate: start,
    };
    expect(() => prorate({ ...base, newAmount: money(2, "eur") })).toThrow(CurrencyMismatchError);
    expect(() => prorate({ ...base, periodEnd: start })).toThrow(RangeError);
    expect(() => prorate({ ...base, periodEnd: new Date(start.getTime() + 999) })).toThrow(RangeError);
    expect(() => prorate({ ...base, periodEnd: new Date(start.getTime() - DAY) })).toThrow(RangeError);
    expect(() => prorate({ ...base, prorationDate: new Date(Number.NaN) })).toThrow(RangeError);
  });
});

describe("prorate properties", () => {
  const amountArb = fc.integer({ min: 0, max: 10_000_000 });
  const periodArb = fc
    .record({
      startSec: fc.integer({ min: 1_600_000_000, max: 1_900_000_000 }),
      lengthSec: fc.integer({ min: 1, max: 400 * 86_400 }),
    })
    .map(({ startSec, lengthSec }) => ({
      periodStart: new Date(startSec * 1000),
      periodEnd: new Date((startSec + lengthSec) * 1000),
      lengthSec,
    }));

  it("total = credit + charge; each line within half a unit of the exact value", () => {
    fc.assert(
      fc.property(
        amountArb,
        amountArb,
        periodArb,
        fc.double({ min: -0.2, max: 1.2, noNaN: true }),
        (o, n, p, at) => {
          const t = new Date(p.periodStart.getTime() + Math.floor(at * p.lengthSec) * 1000);
          const result = prorate({ oldAmount: usd(o), newAmount: usd(n), prorationDate: t, ...p });
          expect(result.total).toEqual(addMoney(result.credit, result.charge));
          expect(result.fraction).toBeGreaterThanOrEqual(0);
          expect(result.fraction).toBeLessThanOrEqual(1);
          expect(Math.abs(result.charge.amount - n * result.fraction)).toBeLessThanOrEqual(0.5 + 1e-6);
          expect(Math.abs(-result.credit.amount - o * result.fraction)).toBeLessThanOrEqual(0.5 + 1e-6);
          expect(Math.abs(result.total.amount - (n - o) * result.fraction)).toBeLessThanOrEqual(1 + 1e-6);
        },
      ),
    );
  });

  it("t = start gives full amounts and t = end gives zero", () => {
    fc.assert(
      fc.property(amountArb, amountArb, periodArb, (o, n, p) => {
        const atStart = prorate({ oldAmount: usd(o), newAmount: usd(n), prorationDate: p.periodStart, ...p });
        expect(atStart.credit).toEqual(usd(-o));
        expect(atStart.charge).toEqual(usd(n));
        const atEnd = prorate({ oldAmount: usd(o), newAmount: usd(n), prorationDate: p.periodEnd, ...p });
        expect(atEnd.total).toEqual(usd(0));
      }),
    );
  });

  it("is monotonic in t: later changes never credit or charge more", () => {
    fc.assert(
      fc.property(
        amountArb,
        amountArb,
        periodArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (o, n, p, a, b) => {
          const [early, late] = a <= b ? [a, b] : [b, a];
          const when = (x: number) => new Date(p.periodStart.getTime() + Math.floor(x * p.lengthSec) * 1000);
          const first = prorate({ oldAmount: usd(o), newAmount: usd(n), prorationDate: when(early), ...p });
          const second = prorate({ oldAmount: usd(o), newAmount: usd(n), prorationDate: when(late), ...p });
          expect(second.charge.amount).toBeLessThanOrEqual(first.charge.amount);
          expect(second.credit.amount).toBeGreaterThanOrEqual(first.credit.amount);
          expect(second.fraction).toBeLessThanOrEqual(first.fraction);
        },
      ),
    );
  });

  it("swapping old and new negates the total", () => {
    fc.assert(
      fc.property(
        amountArb,
        amountArb,
        periodArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        (o, n, p, x) => {
          const t = new Date(p.periodStart.getTime() + Math.floor(x * p.lengthSec) * 1000);
          const forward = prorate({ oldAmount: usd(o), newAmount: usd(n), prorationDate: t, ...p });
          const backward = prorate({ oldAmount: usd(n), newAmount: usd(o), prorationDate: t, ...p });
          expect(backward.total.amount + forward.total.amount).toBe(0);
        },
      ),
    );
  });
});
