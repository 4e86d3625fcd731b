import { describe, expect, it } from "vitest";
import {
  formatAgents,
  formatCount,
  formatMinutes,
  formatNumber,
  formatPercent,
  numberFormat,
} from "./numbers";

describe("formatNumber", () => {
  it.each([
    [0, "0"],
    [999, "999"],
    [1000, "1,000"],
    [10000, "10,000"],
    [100_000_000, "100,000,000"],
    [-1500, "-1,500"],
    [2.6, "3"],
  ])("writes %d as %s", (value, text) => {
    expect(formatNumber(value)).toBe(text);
  });
});

describe("formatMinutes and formatAgents", () => {
  it("separate thousands and use the singular only for exactly one", () => {
    expect(formatMinutes(1000)).toBe("1,000 minutes");
    expect(formatMinutes(10000)).toBe("10,000 minutes");
    expect(formatMinutes(1)).toBe("1 minute");
    expect(formatMinutes(0)).toBe("0 minutes");
    expect(formatAgents(1)).toBe("1 agent");
    expect(formatAgents(25)).toBe("25 agents");
    expect(formatAgents(100_000)).toBe("100,000 agents");
    expect(formatCount(2, "call")).toBe("2 calls");
    expect(formatCount(3, "is", "are")).toBe("3 are");
  });
});

describe("formatPercent", () => {
  it.each([
    [83.4, "83.4%"],
    [83, "83%"],
    [250, "250%"],
    [0, "0%"],
    [1234.5, "1,234.5%"],
    [99.96, "100%"],
  ])("writes %d as %s", (value, text) => {
    expect(formatPercent(value)).toBe(text);
  });
});

describe("numberFormat", () => {
  it("shares one formatter per locale and options", () => {
    const a = numberFormat("en-US", { maximumFractionDigits: 0 });
    expect(numberFormat("en-US", { maximumFractionDigits: 0 })).toBe(a);
    expect(numberFormat("de-DE", { maximumFractionDigits: 0 })).not.toBe(a);
    expect(numberFormat("en-US", { maximumFractionDigits: 1 })).not.toBe(a);
    expect(numberFormat("de-DE", { maximumFractionDigits: 0 }).format(1234.4)).toBe("1.234");
  });

  it("keeps at most 64, dropping the oldest", () => {
    const first = numberFormat("en-GB", { minimumIntegerDigits: 1 });
    for (let digits = 2; digits <= 70; digits++)
      numberFormat("en-GB", {
        minimumIntegerDigits: digits % 21 || 1,
        maximumSignificantDigits: 1 + (digits % 20),
      });
    expect(numberFormat("en-GB", { minimumIntegerDigits: 1 })).not.toBe(first);
    expect(numberFormat("en-GB", { minimumIntegerDigits: 1 }).format(5)).toBe("5");
  });
});
