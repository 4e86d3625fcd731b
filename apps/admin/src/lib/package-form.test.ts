import { describe, expect, it } from "vitest";
import {
  EMPTY_PACKAGE_FORM,
  formatCentsForInput,
  mapServerFieldErrors,
  PackageFormSchema,
  type PackageFormValues,
  parseAmountToCents,
  parsePackageForm,
} from "./package-form.ts";

const scale: PackageFormValues = {
  ...EMPTY_PACKAGE_FORM,
  name: "  Scale ",
  price: "199.00",
  callMinutesLimit: "6,000",
  agentsAllowed: "12",
  analyticsAccess: true,
  hardCap: false,
  overageCents: "2",
};

describe("parseAmountToCents", () => {
  it.each([
    ["99", 9900],
    ["99.", 9900],
    ["99.5", 9950],
    ["99.00", 9900],
    ["0.29", 29],
    ["1.10", 110],
    ["19.99", 1999],
    ["4.35", 435],
    ["1,299.00", 129900],
    ["$ 9.07", 907],
    [" 0 ", 0],
  ])("reads %s as %i cents exactly", (text, cents) => {
    expect(parseAmountToCents(text)).toEqual({ ok: true, value: cents });
  });

  it.each(["", "abc", "1.234", "-5", "1e3", "12,34.00", ".5", "1 000"])("refuses %j", (text) => {
    expect(parseAmountToCents(text).ok).toBe(false);
  });

  it("round-trips every cent amount through the input format", () => {
    for (let cents = 0; cents < 20_000; cents += 7) {
      expect(parseAmountToCents(formatCentsForInput(cents))).toEqual({ ok: true, value: cents });
    }
  });
});

describe("parsePackageForm", () => {
  it("builds the router input", () => {
    expect(parsePackageForm(scale)).toEqual({
      ok: true,
      input: {
        name: "Scale",
        description: "",
        monthlyPriceCents: 19900,
        currency: "usd",
        callMinutesLimit: 6000,
        agentsAllowed: 12,
        analyticsAccess: true,
        apiAccess: false,
        overagePriceCentsPerMinute: 2,
        recommended: false,
      },
    });
  });

  it("sends null overage for a hard cap, whatever the overage box holds", () => {
    const result = parsePackageForm({ ...scale, hardCap: true, overageCents: "junk" });
    expect(result.ok && result.input.overagePriceCentsPerMinute).toBeNull();
  });

  it("reports every problem at once, on the field that has it", () => {
    const result = parsePackageForm({
      ...scale,
      name: " ",
      price: "9.999",
      callMinutesLimit: "-1",
      agentsAllowed: "0",
      overageCents: "1.5",
    });
    expect(result).toEqual({
      ok: false,
      errors: {
        name: "Name is required",
        price: "Use at most 2 decimal places (whole cents)",
        callMinutesLimit: "Enter a whole number",
        agentsAllowed: "At least 1 agent",
        overageCents: "Enter whole cents, e.g. 2 for 0.02 a minute",
      },
    });
  });

  it("enforces the server's limits", () => {
    const result = parsePackageForm({ ...scale, price: "100000.01", agentsAllowed: "100001" });
    expect(result.ok).toBe(false);
    expect(!result.ok && Object.keys(result.errors)).toEqual(["price", "agentsAllowed"]);
  });

  it("is what the zod resolver runs", () => {
    const parsed = PackageFormSchema.safeParse({ ...scale, name: "" });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => [i.path, i.message])).toEqual([[["name"], "Name is required"]]);
    expect(PackageFormSchema.parse(scale).monthlyPriceCents).toBe(19900);
  });
});

describe("mapServerFieldErrors", () => {
  it("maps create and update field names onto the form and keeps the rest for a banner", () => {
    expect(
      mapServerFieldErrors({
        name: 'A package named "Pro" already exists',
        "values.monthlyPriceCents": "Use whole cents",
        overagePriceCentsPerMinute: "Too much",
        id: "No such package",
      }),
    ).toEqual({
      fields: {
        name: 'A package named "Pro" already exists',
        price: "Use whole cents",
        overageCents: "Too much",
      },
      other: ["No such package"],
    });
  });
});
