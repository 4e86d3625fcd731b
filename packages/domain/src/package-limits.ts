/**
 * The ranges of a package's numbers. The admin API refuses anything outside them and the admin form checks
 * them before sending, in the same words, so an admin reads what is wrong ("Included minutes must be 0 or
 * more") whichever of the two finds it. Prices are integer minor units (all supported currencies have two
 * decimals).
 */
import { formatNumber } from "./numbers";

export const PACKAGE_LIMITS = {
  monthlyPriceCents: { min: 0, max: 100_000_00 },
  callMinutesLimit: { min: 0, max: 100_000_000 },
  agentsAllowed: { min: 1, max: 100_000 },
  overagePriceCentsPerMinute: { min: 0, max: 100_000 },
} as const;

export type PackageNumberField = keyof typeof PACKAGE_LIMITS;

/** What a number is wrong by: below the minimum, above the maximum, or not whole (cents for prices). */
export type PackageNumberProblem = "below" | "above" | "fraction";

const NAMES: Record<PackageNumberField, string> = {
  monthlyPriceCents: "The monthly price",
  callMinutesLimit: "Included minutes",
  agentsAllowed: "Agents allowed",
  overagePriceCentsPerMinute: "The overage price",
};

const majorUnits = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** A limit as the admin types the field: 10000000 cents -> "100,000.00"; overage in cents a minute. */
function writeLimit(field: PackageNumberField, value: number): string {
  switch (field) {
    case "monthlyPriceCents":
      return majorUnits.format(value / 100);
    case "overagePriceCentsPerMinute":
      return `${formatNumber(value)} ${value === 1 ? "cent" : "cents"} a minute`;
    default:
      return formatNumber(value);
  }
}

/** The message for a package number outside its range: the same in the admin form and the admin API. */
export function packageNumberMessage(field: PackageNumberField, problem: PackageNumberProblem): string {
  const name = NAMES[field];
  const { min, max } = PACKAGE_LIMITS[field];
  switch (problem) {
    case "below":
      return min === 0 ? `${name} must be 0 or more` : `${name} must be at least ${writeLimit(field, min)}`;
    case "above":
      return `${name} can be at most ${writeLimit(field, max)}`;
    case "fraction":
      return field === "monthlyPriceCents" || field === "overagePriceCentsPerMinute"
        ? `${name} must be whole cents`
        : `${name} must be a whole number`;
  }
}
