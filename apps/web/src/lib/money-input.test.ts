import { describe, expect, it } from "vitest";
import { toMinorUnits } from "./money-input.ts";

describe("toMinorUnits", () => {
  it("reads whole and decimal amounts exactly", () => {
    expect(toMinorUnits("50")).toBe(5000);
    expect(toMinorUnits(" 50.5 ")).toBe(5050);
    expect(toMinorUnits("49.99")).toBe(4999);
    expect(toMinorUnits("0.07")).toBe(7);
    expect(toMinorUnits("0")).toBe(0);
    // 0.1 + 0.2 in floating point is not 0.3; the digits are read as they are.
    expect(toMinorUnits("1.10")).toBe(110);
  });
  it("refuses anything else", () => {
    for (const text of ["", "-1", "1e3", "1.234", "$5", "five", "1,000", ".5", "1."]) {
      expect(toMinorUnits(text), text).toBeNull();
    }
  });
});
