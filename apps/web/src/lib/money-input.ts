/**
 * An amount typed in the currency's major unit ("50", "50.5", "50.00", at most two decimals, no sign or
 * exponent) to integer minor units, without floating point; null when it is not such an amount.
 */
export function toMinorUnits(text: string): number | null {
  const match = /^(\d{1,9})(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] ?? "").padEnd(2, "0"));
}
