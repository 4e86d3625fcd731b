import { describe, expect, it } from "vitest";
import {
  type BillingAddress,
  hasTaxLocation,
  invoiceTotalsAgree,
  reverseChargeApplies,
  validateBillingAddress,
  validateTaxId,
} from "./tax";

const address = (over: Partial<BillingAddress>): BillingAddress => ({
  country: "DE",
  line1: null,
  line2: null,
  city: null,
  state: null,
  postalCode: null,
  ...over,
});

describe("validateBillingAddress", () => {
  it("needs a two-letter country and normalizes it", () => {
    expect(validateBillingAddress(address({ country: " de " }))).toEqual({
      ok: true,
      address: address({ country: "DE" }),
    });
    expect(validateBillingAddress(address({ country: "" }))).toMatchObject({
      ok: false,
      error: { field: "address.country" },
    });
    expect(validateBillingAddress(address({ country: "Germany" }))).toMatchObject({
      ok: false,
      error: { field: "address.country" },
    });
  });

  it("refuses two letters that are no country (unassigned, reserved, a VAT prefix)", () => {
    for (const country of ["XX", "QQ", "ZZ", "EU", "UK", "EL", "AA"]) {
      expect(validateBillingAddress(address({ country }))).toMatchObject({
        ok: false,
        error: { field: "address.country" },
      });
    }
    for (const country of ["gb", "GR", "XK", "PR", "ch"]) {
      expect(validateBillingAddress(address({ country }))).toMatchObject({ ok: true });
    }
  });

  it("needs the state and ZIP code in the US, the province and postal code in Canada", () => {
    expect(validateBillingAddress(address({ country: "US", postalCode: "94107" }))).toMatchObject({
      error: { field: "address.state" },
    });
    expect(validateBillingAddress(address({ country: "US", state: "ca", postalCode: "9410" }))).toMatchObject(
      {
        error: { field: "address.postalCode" },
      },
    );
    expect(
      validateBillingAddress(address({ country: "US", state: "ca", postalCode: "94107-1234" })),
    ).toMatchObject({
      ok: true,
      address: { state: "CA", postalCode: "94107-1234" },
    });
    expect(
      validateBillingAddress(address({ country: "CA", state: "on", postalCode: "m5v3l9" })),
    ).toMatchObject({
      ok: true,
      address: { state: "ON", postalCode: "M5V 3L9" },
    });
    expect(
      validateBillingAddress(address({ country: "CA", state: "ON", postalCode: "12345" })),
    ).toMatchObject({
      error: { field: "address.postalCode" },
    });
  });

  it("bounds the lengths, naming the field", () => {
    expect(validateBillingAddress(address({ line1: "x".repeat(201) }))).toMatchObject({
      error: { field: "address.line1" },
    });
  });
});

describe("validateTaxId", () => {
  it("checks EU VAT numbers per country prefix and normalizes them", () => {
    expect(validateTaxId({ type: "eu_vat", value: "de 123.456.789" })).toEqual({
      ok: true,
      taxId: { type: "eu_vat", value: "DE123456789" },
    });
    expect(validateTaxId({ type: "eu_vat", value: "DE12345678" })).toMatchObject({
      error: { field: "taxId.value" },
    });
    expect(validateTaxId({ type: "eu_vat", value: "GB123456789" })).toMatchObject({ ok: false });
  });

  it("checks UK VAT, US EIN and the others", () => {
    expect(validateTaxId({ type: "gb_vat", value: "GB 123 456 789" })).toMatchObject({
      taxId: { value: "GB123456789" },
    });
    expect(validateTaxId({ type: "us_ein", value: "123456789" })).toMatchObject({
      taxId: { value: "12-3456789" },
    });
    expect(validateTaxId({ type: "us_ein", value: "12-345678" })).toMatchObject({ ok: false });
    expect(validateTaxId({ type: "ca_bn", value: "" })).toMatchObject({ error: { field: "taxId.value" } });
  });
});

describe("reverseChargeApplies", () => {
  const vat = (value: string, verified = true) => ({ type: "eu_vat" as const, value, verified });
  it("applies to a verified VAT ID of another EU country, matching the address", () => {
    expect(reverseChargeApplies(address({ country: "DE" }), vat("DE123456789"), "IE")).toBe(true);
    expect(reverseChargeApplies(address({ country: "GR" }), vat("EL123456789"), "IE")).toBe(true);
  });
  it("does not apply at home, unverified, without an ID, or to another country's ID", () => {
    expect(reverseChargeApplies(address({ country: "IE" }), vat("IE1234567T"), "IE")).toBe(false);
    expect(reverseChargeApplies(address({ country: "DE" }), vat("DE123456789", false), "IE")).toBe(false);
    expect(reverseChargeApplies(address({ country: "DE" }), null, "IE")).toBe(false);
    expect(reverseChargeApplies(address({ country: "FR" }), vat("DE123456789"), "IE")).toBe(false);
    expect(
      reverseChargeApplies(address({ country: "GB" }), {
        type: "gb_vat",
        value: "GB123456789",
        verified: true,
      }),
    ).toBe(false);
  });
});

describe("hasTaxLocation and invoiceTotalsAgree", () => {
  it("a location is a country, plus the state in the US and Canada", () => {
    expect(hasTaxLocation(null)).toBe(false);
    expect(hasTaxLocation(address({ country: "US" }))).toBe(false);
    expect(hasTaxLocation(address({ country: "US", state: "CA" }))).toBe(true);
    expect(hasTaxLocation(address({ country: "FR" }))).toBe(true);
  });
  it("total = subtotal - discounts + tax", () => {
    expect(
      invoiceTotalsAgree({ subtotalCents: 10000, discountCents: 1500, taxCents: 1615, totalCents: 10115 }),
    ).toBe(true);
    expect(
      invoiceTotalsAgree({ subtotalCents: 10000, discountCents: 0, taxCents: 1900, totalCents: 10000 }),
    ).toBe(false);
  });
});
