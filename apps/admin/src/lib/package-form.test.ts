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
        trialDays: null,
        trialRequiresCard: true,
        prices: {},
      },
    });
  });

  it("sends the prices typed for the other currencies (none typed: not sold in it), with their overage", () => {
    const priced = parsePackageForm({
      ...scale,
      eurPrice: "189.00",
      eurOverageCents: "2",
      gbpPrice: "£ 169",
      gbpOverageCents: "3",
      // The package's own currency's fields are not used: its price is the main one.
      usdPrice: "1.00",
      usdOverageCents: "9",
    });
    expect(priced.ok && priced.input.prices).toEqual({
      eur: { amountCents: 18900, overagePriceCentsPerMinute: 2 },
      gbp: { amountCents: 16900, overagePriceCentsPerMinute: 3 },
    });
    const euroOwn = parsePackageForm({ ...scale, currency: "eur", usdPrice: "209.00", usdOverageCents: "2" });
    expect(euroOwn.ok && euroOwn.input.prices).toEqual({
      usd: { amountCents: 20900, overagePriceCentsPerMinute: 2 },
    });
    const capped = parsePackageForm({ ...scale, hardCap: true, gbpPrice: "169", gbpOverageCents: "oops" });
    expect(capped.ok && capped.input.prices).toEqual({
      gbp: { amountCents: 16900, overagePriceCentsPerMinute: null },
    });
  });

  it("refuses a bad price or missing overage in another currency, naming that currency's field", () => {
    const refused = parsePackageForm({
      ...scale,
      eurPrice: "-5",
      gbpPrice: "169.999",
      usdPrice: "",
    });
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.errors).toEqual({
      eurPrice: "The monthly price must be 0 or more",
      eurOverageCents: "Enter the price of a minute in cents, or tick Hard cap",
      gbpPrice: "Use at most 2 decimal places (whole cents)",
      gbpOverageCents: "Enter the price of a minute in cents, or tick Hard cap",
    });
  });

  it("sends the trial when one is offered, and refuses a length out of range naming trialDays", () => {
    const offered = parsePackageForm({
      ...scale,
      offerTrial: true,
      trialDays: "14",
      trialRequiresCard: false,
    });
    expect(offered.ok && [offered.input.trialDays, offered.input.trialRequiresCard]).toEqual([14, false]);
    for (const days of ["0", "91", "1.5", "", "two"]) {
      const refused = parsePackageForm({ ...scale, offerTrial: true, trialDays: days });
      expect(refused.ok ? null : Object.keys(refused.errors)).toEqual(["trialDays"]);
    }
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
        callMinutesLimit: "Included minutes must be 0 or more",
        agentsAllowed: "Agents allowed must be at least 1",
        overageCents: "Enter whole cents, e.g. 2 for 0.02 a minute",
      },
    });
  });

  it("enforces the server's limits", () => {
    const result = parsePackageForm({ ...scale, price: "100000.01", agentsAllowed: "100001" });
    expect(result.ok).toBe(false);
    expect(!result.ok && Object.keys(result.errors)).toEqual(["price", "agentsAllowed"]);
  });

  const errorsOf = (values: Partial<PackageFormValues>) => {
    const result = parsePackageForm({ ...scale, ...values });
    return result.ok ? {} : result.errors;
  };

  it("says what is wrong with a negative number, for every numeric field", () => {
    expect(
      errorsOf({ price: "-5", callMinutesLimit: "-5", agentsAllowed: "-5", overageCents: "-5" }),
    ).toEqual({
      price: "The monthly price must be 0 or more",
      callMinutesLimit: "Included minutes must be 0 or more",
      agentsAllowed: "Agents allowed must be at least 1",
      overageCents: "The overage price must be 0 or more",
    });
    // A minus sign typed as the typographic one, or with a space, is still a minus.
    expect(errorsOf({ callMinutesLimit: "\u22125", agentsAllowed: "- 2" })).toEqual({
      callMinutesLimit: "Included minutes must be 0 or more",
      agentsAllowed: "Agents allowed must be at least 1",
    });
  });

  it("says what is wrong with a number above the server's range, for every numeric field", () => {
    expect(
      errorsOf({
        price: "100,000.01",
        callMinutesLimit: "100,000,001",
        agentsAllowed: "100001",
        overageCents: "100001",
      }),
    ).toEqual({
      price: "The monthly price can be at most 100,000.00",
      callMinutesLimit: "Included minutes can be at most 100,000,000",
      agentsAllowed: "Agents allowed can be at most 100,000",
      overageCents: "The overage price can be at most 100,000 cents a minute",
    });
    expect(errorsOf({ price: "9999999999999999" }).price).toBe("The monthly price can be at most 100,000.00");
    expect(errorsOf({ callMinutesLimit: "9".repeat(20) }).callMinutesLimit).toBe(
      "Included minutes can be at most 100,000,000",
    );
  });

  it("accepts the edges of every range", () => {
    expect(
      parsePackageForm({ ...scale, price: "0", callMinutesLimit: "0", agentsAllowed: "1", overageCents: "0" })
        .ok,
    ).toBe(true);
    const top = parsePackageForm({
      ...scale,
      price: "100,000.00",
      callMinutesLimit: "100,000,000",
      agentsAllowed: "100,000",
      overageCents: "100000",
    });
    expect(top.ok && top.input).toMatchObject({
      monthlyPriceCents: 100_000_00,
      callMinutesLimit: 100_000_000,
      agentsAllowed: 100_000,
      overagePriceCentsPerMinute: 100_000,
    });
  });

  it("names the field when it is empty, not a number, or not whole", () => {
    expect(errorsOf({ price: " ", callMinutesLimit: "", agentsAllowed: "", overageCents: "" })).toEqual({
      price: "Enter the monthly price, e.g. 99.00",
      callMinutesLimit: "Enter the included minutes, e.g. 1000",
      agentsAllowed: "Enter how many agents the package allows, e.g. 5",
      overageCents: "Enter the price of a minute in cents, or tick Hard cap",
    });
    expect(
      errorsOf({ price: "ten", callMinutesLimit: "1e3", agentsAllowed: "five", overageCents: "2c" }),
    ).toEqual({
      price: "Enter the monthly price in digits, e.g. 99.00",
      callMinutesLimit: "Enter the included minutes in digits, e.g. 1000",
      agentsAllowed: "Enter the agents allowed in digits, e.g. 5",
      overageCents: "Enter the price of a minute in whole cents, e.g. 2 for 0.02",
    });
    expect(errorsOf({ callMinutesLimit: "10.5", agentsAllowed: "2.5", overageCents: "0.5" })).toEqual({
      callMinutesLimit: "Included minutes must be a whole number",
      agentsAllowed: "Agents allowed must be a whole number",
      overageCents: "Enter whole cents, e.g. 2 for 0.02 a minute",
    });
    // "$" before a price is fine; before minutes it is not a number.
    expect(errorsOf({ price: "$ 99", callMinutesLimit: "$99" })).toEqual({
      callMinutesLimit: "Enter the included minutes in digits, e.g. 1000",
    });
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
        "values.prices.eur.amountCents": "The monthly price must be 0 or more",
        "prices.gbp.overagePriceCentsPerMinute": "Give its GBP price per minute too",
        "prices.usd": "USD is the package's own currency",
      }),
    ).toEqual({
      fields: {
        name: 'A package named "Pro" already exists',
        price: "Use whole cents",
        overageCents: "Too much",
        eurPrice: "The monthly price must be 0 or more",
        gbpOverageCents: "Give its GBP price per minute too",
        usdPrice: "USD is the package's own currency",
      },
      other: ["No such package"],
    });
  });
});
