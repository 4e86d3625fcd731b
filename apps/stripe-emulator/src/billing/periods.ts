import type { Interval } from "../state.ts";

const DAY = 86_400;

function daysInMonth(year: number, monthIndex: number): number {
  return new Date(Date.UTC(year, monthIndex + 1, 0)).getUTCDate();
}

/**
 * The k-th billing boundary after `anchor` (k = 0 is the anchor itself). Months keep the anchor's day of
 * month and time of day, clamped to the month's last day (Jan 31 → Feb 28/29 → Mar 31), like Stripe.
 */
export function boundary(anchor: number, interval: Interval, count: number, k: number): number {
  if (interval === "day") return anchor + k * count * DAY;
  if (interval === "week") return anchor + k * count * 7 * DAY;
  const months = (interval === "year" ? 12 : 1) * count * k;
  const date = new Date(anchor * 1000);
  const totalMonth = date.getUTCMonth() + months;
  const year = date.getUTCFullYear() + Math.floor(totalMonth / 12);
  const month = ((totalMonth % 12) + 12) % 12;
  const day = Math.min(date.getUTCDate(), daysInMonth(year, month));
  return Date.UTC(year, month, day, date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()) / 1000;
}

/** The first boundary of the anchor's cycle strictly after `t`. */
export function nextBoundaryAfter(anchor: number, t: number, interval: Interval, count: number): number {
  if (anchor > t) return anchor;
  // Jump close to the answer, then walk.
  const approxPeriod =
    interval === "day" ? DAY : interval === "week" ? 7 * DAY : interval === "month" ? 28 * DAY : 365 * DAY;
  let k = Math.max(1, Math.floor((t - anchor) / (approxPeriod * count)) - 1);
  while (boundary(anchor, interval, count, k) <= t) k += 1;
  while (k > 1 && boundary(anchor, interval, count, k - 1) > t) k -= 1;
  return boundary(anchor, interval, count, k);
}

/** The boundary one full period before `end` on the same cycle (the start of a full period ending at `end`). */
export function previousBoundary(anchor: number, end: number, interval: Interval, count: number): number {
  if (end <= anchor) return boundary(end, interval, count, -1);
  let k = 0;
  while (boundary(anchor, interval, count, k + 1) < end) k += 1;
  return boundary(anchor, interval, count, k);
}

export function addInterval(t: number, interval: Interval, count: number): number {
  return boundary(t, interval, count, 1);
}
