import { describe, expect, it } from "vitest";
import {
  allocatePackDraw,
  autoTopUpDue,
  minutePackProblem,
  overageAfterPacks,
  packExpiresAt,
  packLedger,
  packMinutesAvailable,
  packMinutesDrawnTotal,
  topUpMonth,
} from "./minute-packs";

const d = (iso: string) => new Date(iso);
const pack = { name: "1,000 minutes", minutes: 1000, priceCents: 2500, currency: "usd", validityMonths: 12 };

describe("minutePackProblem", () => {
  it("accepts a pack within every range", () => {
    expect(minutePackProblem(pack)).toBeNull();
  });
  it.each([
    [{ name: "  " }, "name"],
    [{ name: "x".repeat(61) }, "name"],
    [{ minutes: 0 }, "minutes"],
    [{ minutes: 1.5 }, "minutes"],
    [{ minutes: 1_000_001 }, "minutes"],
    [{ priceCents: 0 }, "priceCents"],
    [{ priceCents: 10_000_001 }, "priceCents"],
    [{ priceCents: Number.NaN }, "priceCents"],
    [{ validityMonths: 0 }, "validityMonths"],
    [{ validityMonths: 37 }, "validityMonths"],
    [{ currency: "USD" }, "currency"],
    [{ currency: "jpy" }, "currency"],
  ])("refuses %j naming %s", (change, field) => {
    expect(minutePackProblem({ ...pack, ...change })?.field).toBe(field);
  });
});

describe("packExpiresAt", () => {
  it("is validity months later, clamped to the month's end", () => {
    expect(packExpiresAt(d("2026-01-31T10:00:00Z"), 1)).toEqual(d("2026-02-28T10:00:00Z"));
    expect(packExpiresAt(d("2026-03-15T00:00:00Z"), 12)).toEqual(d("2027-03-15T00:00:00Z"));
  });
});

describe("drawing minutes from packs", () => {
  it("draws only the minutes beyond the included ones, as far as packs hold them", () => {
    expect(packMinutesDrawnTotal({ minutesUsed: 900, limit: 1000, drawn: 0, available: 500 })).toBe(0);
    expect(packMinutesDrawnTotal({ minutesUsed: 1200, limit: 1000, drawn: 0, available: 500 })).toBe(200);
    expect(packMinutesDrawnTotal({ minutesUsed: 1800, limit: 1000, drawn: 200, available: 300 })).toBe(500);
  });
  it("never draws back: a period's drawn minutes do not shrink", () => {
    expect(packMinutesDrawnTotal({ minutesUsed: 1100, limit: 1200, drawn: 100, available: 0 })).toBe(100);
  });
  it("bills as overage only what packs did not cover", () => {
    expect(overageAfterPacks({ minutesUsed: 1800, limit: 1000, drawn: 500 })).toBe(300);
    expect(overageAfterPacks({ minutesUsed: 1400, limit: 1000, drawn: 500 })).toBe(0);
  });
  it("takes the oldest-expiring unexpired packs first", () => {
    const at = d("2026-06-01T00:00:00Z");
    const grants = [
      {
        id: "late",
        remaining: 100,
        expiresAt: d("2027-01-01T00:00:00Z"),
        grantedAt: d("2026-01-01T00:00:00Z"),
      },
      {
        id: "gone",
        remaining: 100,
        expiresAt: d("2026-05-01T00:00:00Z"),
        grantedAt: d("2025-05-01T00:00:00Z"),
      },
      {
        id: "soon",
        remaining: 30,
        expiresAt: d("2026-07-01T00:00:00Z"),
        grantedAt: d("2026-02-01T00:00:00Z"),
      },
    ];
    expect(allocatePackDraw(grants, 50, at)).toEqual([
      { grantId: "soon", minutes: 30 },
      { grantId: "late", minutes: 20 },
    ]);
    expect(packMinutesAvailable(grants, at)).toBe(130);
    expect(() => allocatePackDraw(grants, 131, at)).toThrow(RangeError);
  });
  it("does not draw from a pack at its expiry instant", () => {
    const grant = {
      id: "a",
      remaining: 10,
      expiresAt: d("2026-06-01T00:00:00Z"),
      grantedAt: d("2025-06-01T00:00:00Z"),
    };
    expect(packMinutesAvailable([grant], d("2026-06-01T00:00:00Z"))).toBe(0);
    expect(packMinutesAvailable([grant], d("2026-05-31T23:59:59.999Z"))).toBe(10);
  });
});

describe("packLedger", () => {
  it("balances: bought = used + expired + remaining", () => {
    const at = d("2026-06-01T00:00:00Z");
    const ledger = packLedger(
      [
        { minutes: 1000, drawn: 400, remaining: 600, expiresAt: d("2026-05-01T00:00:00Z") },
        { minutes: 500, drawn: 100, remaining: 400, expiresAt: d("2027-05-01T00:00:00Z") },
      ],
      at,
    );
    expect(ledger).toEqual({ bought: 1500, used: 500, expired: 600, remaining: 400 });
    expect(ledger.bought).toBe(ledger.used + ledger.expired + ledger.remaining);
  });
  it("refuses grants whose draws do not add up", () => {
    expect(() =>
      packLedger(
        [{ minutes: 10, drawn: 5, remaining: 6, expiresAt: d("2027-01-01T00:00:00Z") }],
        d("2026-01-01T00:00:00Z"),
      ),
    ).toThrow(/drew 5/);
  });
});

describe("autoTopUpDue", () => {
  const base = {
    thresholdMinutes: 100,
    maxPerMonth: 2,
    stopped: false,
    balanceMinutes: 99,
    claimedThisMonth: 0,
  };
  it("is due below the threshold, under the monthly maximum, unless stopped", () => {
    expect(autoTopUpDue(base)).toBe(true);
    expect(autoTopUpDue({ ...base, balanceMinutes: 100 })).toBe(false);
    expect(autoTopUpDue({ ...base, claimedThisMonth: 2 })).toBe(false);
    expect(autoTopUpDue({ ...base, stopped: true })).toBe(false);
    expect(autoTopUpDue({ ...base, thresholdMinutes: null })).toBe(false);
  });
  it("counts against the UTC calendar month", () => {
    expect(topUpMonth(d("2026-11-30T23:59:59Z"))).toBe("2026-11");
    expect(topUpMonth(d("2026-12-01T00:00:00Z"))).toBe("2026-12");
  });
});
