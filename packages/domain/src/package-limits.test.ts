import { describe, expect, it } from "vitest";
import { PACKAGE_LIMITS, packageNumberMessage } from "./package-limits";

describe("packageNumberMessage", () => {
  it("says what is wrong with each number, with its range", () => {
    expect(packageNumberMessage("callMinutesLimit", "below")).toBe("Included minutes must be 0 or more");
    expect(packageNumberMessage("callMinutesLimit", "above")).toBe(
      "Included minutes can be at most 100,000,000",
    );
    expect(packageNumberMessage("callMinutesLimit", "fraction")).toBe(
      "Included minutes must be a whole number",
    );
    expect(packageNumberMessage("agentsAllowed", "below")).toBe("Agents allowed must be at least 1");
    expect(packageNumberMessage("agentsAllowed", "above")).toBe("Agents allowed can be at most 100,000");
    expect(packageNumberMessage("monthlyPriceCents", "below")).toBe("The monthly price must be 0 or more");
    expect(packageNumberMessage("monthlyPriceCents", "above")).toBe(
      "The monthly price can be at most 100,000.00",
    );
    expect(packageNumberMessage("monthlyPriceCents", "fraction")).toBe(
      "The monthly price must be whole cents",
    );
    expect(packageNumberMessage("overagePriceCentsPerMinute", "below")).toBe(
      "The overage price must be 0 or more",
    );
    expect(packageNumberMessage("overagePriceCentsPerMinute", "above")).toBe(
      "The overage price can be at most 100,000 cents a minute",
    );
  });

  it("has a range for every numeric field, minimum below maximum", () => {
    for (const { min, max } of Object.values(PACKAGE_LIMITS)) {
      expect(Number.isSafeInteger(min) && Number.isSafeInteger(max) && min < max).toBe(true);
    }
  });
});
