import { formatMoney, type Money } from "@minutely/domain";

// Counts and percentages: one formatter for the customer app, the admin app and the server's messages.
export { formatAgents, formatCount, formatMinutes, formatNumber, formatPercent } from "@minutely/domain";

/** A calendar date in UTC, e.g. "December 27, 2026" (billing dates are UTC everywhere). */
export function formatDate(date: Date | string | null | undefined): string {
  if (!date) return "—";
  return new Date(date).toLocaleDateString("en-US", {
    year: "numeric",
    month: "long",
    day: "numeric",
    timeZone: "UTC",
  });
}

export function formatCents(amount: number, currency: string): string {
  return formatMoney({ amount, currency: currency.toLowerCase() } as Money);
}
