/**
 * How Minutely writes counts for people: one formatter for the customer app, the admin app and the
 * server's messages, so the same value reads the same everywhere ("1,000 minutes", never "1000 minutes"
 * next to "1,000"). The seed contract (REST) keeps its own unseparated texts (see `comparison.ts`).
 */

/**
 * A shared `Intl.NumberFormat` for a locale and options. Making one costs far more than formatting with it
 * (the dashboard made six a request, 3 % of its CPU), so they are kept: at most 64, the oldest dropped
 * first, since a locale may come from a request.
 */
export function numberFormat(locale: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${locale}\u0000${JSON.stringify(options)}`;
  let format = formats.get(key);
  if (format === undefined) {
    format = new Intl.NumberFormat(locale, options);
    if (formats.size >= 64) {
      const oldest = formats.keys().next();
      if (!oldest.done) formats.delete(oldest.value);
    }
    formats.set(key, format);
  }
  return format;
}
const formats = new Map<string, Intl.NumberFormat>();

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
