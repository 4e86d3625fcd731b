/**
 * How Minutely writes counts for people: one formatter for the customer app, the admin app and the
 * server's messages, so the same value reads the same everywhere ("1,000 minutes", never "1000 minutes"
 * next to "1,000"). The seed contract (REST) keeps its own unseparated texts (see `comparison.ts`).
 */

const integers = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const decimals = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });

/** A count with thousands separators: `1000` -> `"1,000"`; fractions round to a whole number. */
export function formatNumber(value: number): string {
  return integers.format(value);
}

/** A count and its noun, singular for exactly 1: `formatCount(1000, "minute")` -> `"1,000 minutes"`. */
export function formatCount(value: number, singular: string, plural = `${singular}s`): string {
  return `${formatNumber(value)} ${value === 1 ? singular : plural}`;
}

/** `"1 minute"`, `"1,000 minutes"`, `"0 minutes"`. */
export function formatMinutes(minutes: number): string {
  return formatCount(minutes, "minute");
}

/** `"1 agent"`, `"25 agents"`. */
export function formatAgents(agents: number): string {
  return formatCount(agents, "agent");
}

/** A percentage with at most one decimal: `83.4` -> `"83.4%"`, `250` -> `"250%"`, `1234.5` -> `"1,234.5%"`. */
export function formatPercent(value: number): string {
  return `${decimals.format(value)}%`;
}
