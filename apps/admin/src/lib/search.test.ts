import { describe, expect, it } from "vitest";
import {
  validateAuditSearch,
  validateClockSearch,
  validateCustomersSearch,
  validateRevenueSearch,
  validateSignInSearch,
  validateUsageSearch,
  validateWebhooksSearch,
} from "./search.ts";

const ACCOUNT = "123e4567-e89b-12d3-a456-426614174000";

describe("list page search parameters", () => {
  it("keeps valid values, trimmed, and drops keys the page does not know", () => {
    expect(validateCustomersSearch({ q: "  acme ", status: "past_due", page: 3, other: "x" })).toEqual({
      q: "acme",
      status: "past_due",
      page: 3,
    });
    expect(validateUsageSearch({ min: 90, page: 2, mailPage: 4 })).toEqual({ min: 90, page: 2, mailPage: 4 });
    expect(validateWebhooksSearch({ status: "failed", type: " invoice.paid " })).toEqual({
      status: "failed",
      type: "invoice.paid",
    });
    expect(
      validateAuditSearch({
        actor: ACCOUNT,
        entityType: "package",
        entityId: "p1",
        from: "2024-02-29",
        to: "2024-03-01",
      }),
    ).toEqual({
      actor: ACCOUNT,
      entityType: "package",
      entityId: "p1",
      from: "2024-02-29",
      to: "2024-03-01",
    });
    expect(validateClockSearch({ account: ACCOUNT, q: "x" })).toEqual({ account: ACCOUNT, q: "x" });
    expect(validateRevenueSearch({ months: 24 })).toEqual({ months: 24 });
  });

  it("leaves out what the URL does not mention", () => {
    for (const validate of [
      validateCustomersSearch,
      validateUsageSearch,
      validateWebhooksSearch,
      validateAuditSearch,
      validateClockSearch,
      validateRevenueSearch,
      validateSignInSearch,
    ]) {
      expect(Object.keys(validate({}))).toEqual([]);
    }
  });

  it("reads numbers from strings and falls back to each field's default when invalid", () => {
    expect(validateCustomersSearch({ page: "2" })).toEqual({ page: 2 });
    expect(validateCustomersSearch({ page: 0 })).toEqual({ page: 1 });
    expect(validateCustomersSearch({ page: 1.5 })).toEqual({ page: 1 });
    expect(validateCustomersSearch({ page: "abc" })).toEqual({ page: 1 });
    expect(validateCustomersSearch({ page: 100_001 })).toEqual({ page: 1 });
    expect(validateCustomersSearch({ status: "bogus", q: 42 })).toEqual({ status: "all", q: "" });
    expect(validateCustomersSearch({ q: "a".repeat(101) })).toEqual({ q: "" });
    expect(validateUsageSearch({ min: 0, mailPage: "x" })).toEqual({ min: 80, mailPage: 1 });
    expect(validateRevenueSearch({ months: 2 })).toEqual({ months: 12 });
    expect(validateRevenueSearch({ months: "6" })).toEqual({ months: 6 });
  });

  it("turns invalid optional filters into no filter", () => {
    expect(validateWebhooksSearch({ status: "lost", type: "Invoice Paid" })).toEqual({
      status: undefined,
      type: undefined,
    });
    expect(validateWebhooksSearch({ type: "x".repeat(121) })).toEqual({ type: undefined });
    expect(
      validateAuditSearch({ actor: "not-a-uuid", entityType: "  ", from: "2023-02-29", to: "2024-13-01" }),
    ).toEqual({ actor: undefined, entityType: undefined, from: undefined, to: undefined });
    expect(validateClockSearch({ account: ACCOUNT.toUpperCase() })).toEqual({
      account: ACCOUNT.toUpperCase(),
    });
    expect(validateClockSearch({ account: `${ACCOUNT} ` })).toEqual({ account: undefined });
  });

  it("takes the sign-in redirect as given, and refuses anything but a string", () => {
    expect(validateSignInSearch({ redirect: "/customers?q=acme" })).toEqual({
      redirect: "/customers?q=acme",
    });
    expect(() => validateSignInSearch({ redirect: 123 })).toThrow(/redirect/);
  });
});
