import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { authorizeCall, DEFAULT_OVER_CAP_POLICY } from "./call-authorization";
import {
  billableOverageMinutes,
  crossedSpendCapThresholds,
  MAX_SPEND_CAP_CENTS,
  spendCapMinutes,
  spendCapProblem,
  spendCapStatus,
  spendCapThresholdMinutes,
  spendCapThresholdsReachedByChange,
} from "./spend-cap";

const usd = (amount: number) => ({ amount, currency: "usd" as const });
const cap = (amountCents: number) => ({ amountCents, currency: "usd" as const });

describe("spendCapProblem", () => {
  const ok = { amountCents: 5000, currency: "usd", billingCurrency: "usd" as const, overageAllowed: true };
  it("accepts whole minor units from 0 to the maximum in the billing currency on an overage package", () => {
    expect(spendCapProblem(ok)).toBeNull();
    expect(spendCapProblem({ ...ok, amountCents: 0 })).toBeNull();
    expect(spendCapProblem({ ...ok, amountCents: MAX_SPEND_CAP_CENTS })).toBeNull();
  });
  it("names what is wrong", () => {
    expect(spendCapProblem({ ...ok, amountCents: 50.5 })).toBe("not_integer");
    expect(spendCapProblem({ ...ok, amountCents: Number.NaN })).toBe("not_integer");
    expect(spendCapProblem({ ...ok, amountCents: -1 })).toBe("negative");
    expect(spendCapProblem({ ...ok, amountCents: MAX_SPEND_CAP_CENTS + 1 })).toBe("too_large");
    expect(spendCapProblem({ ...ok, currency: "eur" })).toBe("currency_mismatch");
    expect(spendCapProblem({ ...ok, currency: "USD" })).toBe("currency_mismatch");
    expect(spendCapProblem({ ...ok, overageAllowed: false })).toBe("no_overage");
  });
});

describe("spendCapMinutes and billableOverageMinutes", () => {
  it("buys whole minutes: $50 at $0.03 is 1,666 minutes ($49.98)", () => {
    expect(spendCapMinutes(cap(5000), usd(3))).toBe(1666);
    expect(spendCapMinutes(cap(0), usd(3))).toBe(0);
    expect(spendCapMinutes(null, usd(3))).toBeNull();
    expect(spendCapMinutes(cap(5000), null)).toBeNull();
  });
  it("fails closed on a cap in another currency than the price", () => {
    expect(spendCapMinutes({ amountCents: 5000, currency: "eur" }, usd(3))).toBe(0);
  });
  it("never bills more than the cap, whatever the usage", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 0, max: MAX_SPEND_CAP_CENTS }),
        (overage, price, capCents) => {
          const billable = billableOverageMinutes(overage, spendCapMinutes(cap(capCents), usd(price)));
          expect(billable * price).toBeLessThanOrEqual(capCents);
          expect(billable).toBeLessThanOrEqual(overage);
        },
      ),
    );
    expect(billableOverageMinutes(10, null)).toBe(10);
    expect(billableOverageMinutes(-3, 5)).toBe(0);
  });
});

describe("spend cap alerts", () => {
  it("are reached at 50% and 80% of the budget's money and at 100% when no further minute is paid for", () => {
    // Pro: 3,000 included, $0.03, budget $50: 1,666 minutes.
    expect(spendCapThresholdMinutes({ limit: 3000, pricePerMinuteCents: 3, capCents: 5000 })).toEqual([
      { percent: 50, minutes: 3834 }, // 834 × 3 = 2,502 >= 2,500
      { percent: 80, minutes: 4334 }, // 1,334 × 3 = 4,002 >= 4,000
      { percent: 100, minutes: 4666 },
    ]);
  });
  it("fire once, on the step that crosses them", () => {
    const base = { limit: 3000, price: usd(3), cap: cap(5000) };
    expect(crossedSpendCapThresholds({ ...base, before: 3000, after: 3833 })).toEqual([]);
    expect(crossedSpendCapThresholds({ ...base, before: 3833, after: 3834 })).toEqual([50]);
    expect(crossedSpendCapThresholds({ ...base, before: 3834, after: 5000 })).toEqual([80, 100]);
    expect(crossedSpendCapThresholds({ ...base, before: 5000, after: 6000 })).toEqual([]);
    expect(crossedSpendCapThresholds({ ...base, cap: null, before: 0, after: 9000 })).toEqual([]);
    expect(crossedSpendCapThresholds({ ...base, price: null, before: 0, after: 9000 })).toEqual([]);
  });
  it("a zero budget is reached with the included minutes", () => {
    expect(
      crossedSpendCapThresholds({ limit: 3000, price: usd(3), cap: cap(0), before: 2999, after: 3000 }),
    ).toEqual([50, 80, 100]);
  });
});

describe("spendCapStatus", () => {
  it("says what the overage costs so far against the budget", () => {
    expect(spendCapStatus({ minutesUsed: 3500, limit: 3000, price: usd(3), cap: cap(5000) })).toEqual({
      cap: cap(5000),
      spentCents: 1500,
      percentage: 30,
      reached: false,
    });
    expect(spendCapStatus({ minutesUsed: 9000, limit: 3000, price: usd(3), cap: cap(5000) })).toMatchObject({
      spentCents: 4998,
      percentage: 100,
      reached: true,
    });
    expect(spendCapStatus({ minutesUsed: 10, limit: 3000, price: usd(3), cap: cap(0) })).toMatchObject({
      spentCents: 0,
      percentage: 0,
      reached: false,
    });
  });
});

describe("authorizeCall with a spend cap", () => {
  const base = {
    direction: "outbound" as const,
    minutesUsed: 3000,
    minutesReserved: 0,
    minutesLimit: 3000,
    overageAllowed: true,
    reserveMinutes: 5,
    policy: DEFAULT_OVER_CAP_POLICY,
    accessGranted: true,
    agentActive: true,
  };
  it("allows outbound calls while the reservation fits in the budget and says how long they may last", () => {
    expect(authorizeCall({ ...base, spendCapMinutes: 100, minutesUsed: 3090, minutesReserved: 5 })).toEqual({
      decision: "allow",
      reserveMinutes: 5,
      overCap: false,
      maxMinutes: 5,
    });
  });
  it("denies outbound calls with SPEND_CAP_REACHED once used + held + reservation pass it", () => {
    expect(
      authorizeCall({ ...base, spendCapMinutes: 100, minutesUsed: 3090, minutesReserved: 6 }),
    ).toMatchObject({ decision: "deny", reason: "SPEND_CAP_REACHED" });
    expect(authorizeCall({ ...base, spendCapMinutes: 0 })).toMatchObject({
      decision: "deny",
      reason: "SPEND_CAP_REACHED",
    });
  });
  it("answers inbound calls beyond it (over the cap, nothing caps the call)", () => {
    expect(authorizeCall({ ...base, direction: "inbound", spendCapMinutes: 0 })).toEqual({
      decision: "allow",
      reserveMinutes: 5,
      overCap: true,
      maxMinutes: null,
    });
  });
  it("no cap (null) keeps overage packages unlimited; a hard cap ignores it", () => {
    expect(authorizeCall({ ...base, minutesUsed: 90_000, spendCapMinutes: null })).toMatchObject({
      decision: "allow",
      maxMinutes: null,
    });
    expect(
      authorizeCall({ ...base, overageAllowed: false, minutesUsed: 3000, spendCapMinutes: 1000 }),
    ).toMatchObject({ decision: "deny", reason: "MINUTES_EXHAUSTED" });
  });
  it("concurrent reservations never exceed the budget", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1, max: 60 }), (budget, calls) => {
        let held = 0;
        for (let i = 0; i < calls; i++) {
          const d = authorizeCall({ ...base, spendCapMinutes: budget, minutesReserved: held });
          if (d.decision === "allow") held += d.reserveMinutes;
        }
        expect(held).toBeLessThanOrEqual(budget);
      }),
    );
  });
});

describe("a change of the budget", () => {
  it("reaches at once the thresholds of a lowered budget already used up, and nothing when raised", () => {
    const at = { used: 3100, limit: 3000, price: usd(3) };
    // $300.00 -> $1.50 (50 minutes) at 100 overage minutes: 50%, 80% and 100% at once.
    expect(spendCapThresholdsReachedByChange({ ...at, before: cap(30_000), after: cap(150) })).toEqual([
      50, 80, 100,
    ]);
    // $3.00 (used up) -> $6.00: 50% of $6.00 was reached by $3.00 too; nothing new.
    expect(spendCapThresholdsReachedByChange({ ...at, before: cap(300), after: cap(600) })).toEqual([]);
    expect(spendCapThresholdsReachedByChange({ ...at, before: null, after: cap(600) })).toEqual([50]);
    expect(spendCapThresholdsReachedByChange({ ...at, before: cap(300), after: null })).toEqual([]);
  });

  it("shows what is billed even above a budget lowered below it", () => {
    const status = spendCapStatus({
      minutesUsed: 3200,
      limit: 3000,
      price: usd(3),
      cap: cap(300),
      billedOverageMinutes: 200,
    });
    expect(status).toMatchObject({ spentCents: 600, reached: true, percentage: 100 });
    expect(spendCapStatus({ minutesUsed: 3200, limit: 3000, price: usd(3), cap: cap(300) }).spentCents).toBe(
      300,
    );
  });
});
