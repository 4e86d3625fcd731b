import { describe, expect, it } from "vitest";
import { billingReasonLabel } from "./invoices";

describe("billingReasonLabel", () => {
  it.each([
    ["subscription_create", "First payment"],
    ["subscription_cycle", "Renewal"],
    ["subscription_update", "Plan change (prorated)"],
    ["manual", "Manual"],
    ["subscription_threshold", "subscription threshold"],
    [null, "—"],
  ])("says %s as %s", (reason, label) => {
    expect(billingReasonLabel(reason)).toBe(label);
  });
});
