// What a package's card on the Packages page offers. Pure, so the rules are tested without a browser.

export interface ChoicePackage {
  id: string;
  name: string;
  monthlyPrice: { amount: number };
  /** From the server's selection: a package in another currency than the account's is not available. */
  availability: { available: boolean; reason: string | null };
}

export type PackageChoice =
  | { kind: "choose" }
  | { kind: "current" }
  | { kind: "scheduled" }
  | { kind: "unavailable"; reason: string }
  | { kind: "upgrade" }
  | { kind: "downgrade" };

export function packageChoice(
  pkg: ChoicePackage,
  state: { current: ChoicePackage | null; needsPackageSelection: boolean; scheduledPackageId: string | null },
): PackageChoice {
  if (!state.needsPackageSelection && state.current?.id === pkg.id) return { kind: "current" };
  if (!pkg.availability.available) {
    return { kind: "unavailable", reason: pkg.availability.reason ?? "Not available for your account." };
  }
  if (state.needsPackageSelection) return { kind: "choose" };
  if (state.scheduledPackageId === pkg.id) return { kind: "scheduled" };
  const cheaper = state.current ? pkg.monthlyPrice.amount < state.current.monthlyPrice.amount : false;
  return { kind: cheaper ? "downgrade" : "upgrade" };
}
