// The Packages page never offers a package the server would refuse for its currency (issue: a USD customer
// was offered "Downgrade to Euro Plus", a former EUR customer "Choose Pro").
import { describe, expect, it } from "vitest";
import { type ChoicePackage, packageChoice } from "./package-choice.ts";

const pkg = (name: string, amount: number, reason: string | null = null): ChoicePackage => ({
  id: name,
  name,
  monthlyPrice: { amount },
  availability: reason === null ? { available: true, reason: null } : { available: false, reason },
});
const billedInUsd = "Your account is billed in USD.";

describe("packageChoice", () => {
  it("a subscriber sees the reason instead of an upgrade or downgrade to a package in another currency", () => {
    const pro = pkg("Pro", 9900);
    const state = { current: pro, needsPackageSelection: false, scheduledPackageId: null };
    expect(packageChoice(pkg("Euro Plus", 3900, billedInUsd), state)).toEqual({
      kind: "unavailable",
      reason: billedInUsd,
    });
    expect(packageChoice(pkg("Enterprise", 29900, billedInUsd), state)).toEqual({
      kind: "unavailable",
      reason: billedInUsd,
    });
    expect(packageChoice(pkg("Starter", 2900), state)).toEqual({ kind: "downgrade" });
    expect(packageChoice(pkg("Enterprise", 29900), state)).toEqual({ kind: "upgrade" });
    expect(packageChoice(pro, state)).toEqual({ kind: "current" });
  });

  it("a former customer choosing again is offered only packages in the account's currency", () => {
    const state = { current: null, needsPackageSelection: true, scheduledPackageId: null };
    const billedInEur = "Your account is billed in EUR.";
    expect(packageChoice(pkg("Pro", 9900, billedInEur), state)).toEqual({
      kind: "unavailable",
      reason: billedInEur,
    });
    expect(packageChoice(pkg("Euro Plus", 3900), state)).toEqual({ kind: "choose" });
  });

  it("a scheduled change shows as scheduled", () => {
    const pro = pkg("Pro", 9900);
    const state = { current: pro, needsPackageSelection: false, scheduledPackageId: "Starter" };
    expect(packageChoice(pkg("Starter", 2900), state)).toEqual({ kind: "scheduled" });
  });
});
