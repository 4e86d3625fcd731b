import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CodeFacts,
  codeRefusal,
  codeRefusalMessage,
  describeDuration,
  discountAmount,
  discountedPrice,
  PROMOTION_CODE_PATTERN,
  promotionCodeKey,
} from "./discounts";
import { money } from "./money";

const usd = (amount: number) => money(amount, "usd");

describe("discountAmount", () => {
  it("rounds a percent off half up on whole cents", () => {
    expect(discountAmount(usd(2900), { kind: "percent", percent: 25 })).toEqual(usd(725));
    expect(discountAmount(usd(999), { kind: "percent", percent: 15 })).toEqual(usd(150)); // 149.85
    expect(discountAmount(usd(1), { kind: "percent", percent: 50 })).toEqual(usd(1)); // 0.5 -> 1
    expect(discountAmount(usd(3), { kind: "percent", percent: 10 })).toEqual(usd(0)); // 0.3 -> 0
    expect(discountAmount(usd(9900), { kind: "percent", percent: 100 })).toEqual(usd(9900));
  });

  it("takes an amount off only in its own currency, never below zero", () => {
    const tenDollars = { kind: "amount", amount: usd(1000) } as const;
    expect(discountAmount(usd(2900), tenDollars)).toEqual(usd(1000));
    expect(discountAmount(usd(500), tenDollars)).toEqual(usd(500));
    expect(discountedPrice(usd(500), tenDollars)).toEqual(usd(0));
    expect(discountAmount(money(2900, "eur"), tenDollars)).toEqual(money(0, "eur"));
    expect(discountAmount(usd(0), tenDollars)).toEqual(usd(0));
  });

  it("never discounts below zero nor more than the price (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000_00 }), fc.integer({ min: 1, max: 100 }), (cents, pct) => {
        const off = discountAmount(usd(cents), { kind: "percent", percent: pct }).amount;
        expect(Number.isInteger(off)).toBe(true);
        expect(off).toBeGreaterThanOrEqual(0);
        expect(off).toBeLessThanOrEqual(cents);
        expect(off).toBe(Math.round((cents * pct) / 100));
      }),
    );
  });
});

describe("promotion codes", () => {
  it("accept Stripe's characters, 3 to 40 of them, compared case-insensitively", () => {
    expect(PROMOTION_CODE_PATTERN.test("SPRING-25_x")).toBe(true);
    expect(PROMOTION_CODE_PATTERN.test("ab")).toBe(false);
    expect(PROMOTION_CODE_PATTERN.test("has space")).toBe(false);
    expect(PROMOTION_CODE_PATTERN.test("x".repeat(41))).toBe(false);
    expect(promotionCodeKey(" spring-25 ")).toBe("SPRING-25");
  });

  it("describe their duration", () => {
    expect(describeDuration({ duration: "repeating", durationInMonths: 3 })).toBe("for 3 months");
    expect(describeDuration({ duration: "once", durationInMonths: null })).toBe("on the first invoice");
  });
});

describe("codeRefusal", () => {
  const now = new Date("2026-12-01T00:00:00Z");
  const facts: CodeFacts = {
    code: "SPRING",
    codeActive: true,
    couponActive: true,
    expiresAt: new Date("2026-12-31T00:00:00Z"),
    codeRedemptions: { times: 0, max: 5 },
    couponRedemptions: { times: 0, max: null },
    off: { kind: "percent", percent: 20 },
    packageIds: ["pro"],
  };
  const pro = { packageId: "pro", currency: "usd" } as const;

  it("names each reason, in order", () => {
    expect(codeRefusal(null, pro, now)).toBe("invalid");
    expect(codeRefusal(facts, pro, now)).toBeNull();
    expect(codeRefusal({ ...facts, couponActive: false }, pro, now)).toBe("inactive");
    expect(codeRefusal({ ...facts, codeActive: false }, pro, now)).toBe("inactive");
    expect(codeRefusal(facts, pro, new Date("2026-12-31T00:00:00Z"))).toBe("expired");
    expect(codeRefusal({ ...facts, codeRedemptions: { times: 5, max: 5 } }, pro, now)).toBe("exhausted");
    expect(codeRefusal({ ...facts, couponRedemptions: { times: 9, max: 9 } }, pro, now)).toBe("exhausted");
    expect(codeRefusal(facts, { packageId: "starter", currency: "usd" }, now)).toBe("not_applicable");
    expect(
      codeRefusal(
        { ...facts, packageIds: [], off: { kind: "amount", amount: usd(500) } },
        { packageId: "x", currency: "eur" },
        now,
      ),
    ).toBe("not_applicable");
  });

  it("has a message naming the code and why", () => {
    expect(codeRefusalMessage("expired", " spring ")).toBe('The promotion code "spring" has expired.');
    expect(codeRefusalMessage("not_applicable", "A1B")).toContain("does not apply to this package");
  });
});
