import { describe, expect, it } from "vitest";
import { money } from "./money";
import { shouldRecordPeriodPlan, type VersionedPeriodPlan } from "./period-plan";

const pro = (version: bigint): VersionedPeriodPlan => ({
  planId: "pro",
  callMinutesLimit: 3000,
  overagePrice: money(3, "usd"),
  currency: "usd",
  version,
});
const starter = (version: bigint): VersionedPeriodPlan => ({
  planId: "starter",
  callMinutesLimit: 1000,
  overagePrice: null,
  currency: "usd",
  version,
});

describe("shouldRecordPeriodPlan", () => {
  it("records the first terms offered, for a current or a closed period", () => {
    expect(shouldRecordPeriodPlan({ recorded: null, offered: pro(1n), periodIsCurrent: true })).toBe(true);
    expect(shouldRecordPeriodPlan({ recorded: null, offered: pro(1n), periodIsCurrent: false })).toBe(true);
  });

  it("replaces a current period's terms with those of an equal or newer read (an upgrade)", () => {
    expect(shouldRecordPeriodPlan({ recorded: starter(1n), offered: pro(1n), periodIsCurrent: true })).toBe(
      true,
    );
    expect(shouldRecordPeriodPlan({ recorded: starter(1n), offered: pro(2n), periodIsCurrent: true })).toBe(
      true,
    );
  });

  it("never replaces a closed period's terms", () => {
    expect(shouldRecordPeriodPlan({ recorded: pro(1n), offered: starter(9n), periodIsCurrent: false })).toBe(
      false,
    );
  });

  it("never lets an older read replace terms from a newer one", () => {
    expect(shouldRecordPeriodPlan({ recorded: pro(5n), offered: starter(4n), periodIsCurrent: true })).toBe(
      false,
    );
  });

  it("writes nothing when neither the terms nor the version change, and moves the version forward", () => {
    expect(shouldRecordPeriodPlan({ recorded: pro(2n), offered: pro(2n), periodIsCurrent: true })).toBe(
      false,
    );
    expect(shouldRecordPeriodPlan({ recorded: pro(2n), offered: pro(3n), periodIsCurrent: true })).toBe(true);
    const repriced = { ...pro(2n), overagePrice: money(4, "usd") };
    expect(shouldRecordPeriodPlan({ recorded: pro(2n), offered: repriced, periodIsCurrent: true })).toBe(
      true,
    );
  });
});
