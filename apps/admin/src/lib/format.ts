// How the admin pages show numbers, money, dates and statuses. Counts and percentages are written by the
// same formatter as the customer app's (packages/domain), so the two apps show a value the same way.
import { formatMoney, isCurrency, statusLabel } from "@minutely/domain";

export { formatAgents, formatMinutes, formatNumber, formatPercent } from "@minutely/domain";

const dateFormat = new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeZone: "UTC" });
const dateTimeFormat = new Intl.DateTimeFormat("en-US", {
  dateStyle: "medium",
  timeStyle: "short",
  timeZone: "UTC",
});
const shortMonth = new Intl.DateTimeFormat("en-US", { month: "short", year: "2-digit", timeZone: "UTC" });
const longMonth = new Intl.DateTimeFormat("en-US", { month: "long", year: "numeric", timeZone: "UTC" });

/** Integer minor units in a currency ("usd"): $1,234.00; an unsupported currency still prints plainly. */
export function formatAmount(amount: number, currency: string): string {
  const code = currency.trim().toLowerCase();
  return isCurrency(code)
    ? formatMoney({ amount, currency: code })
    : `${(amount / 100).toFixed(2)} ${code.toUpperCase()}`;
}

/** Dates and times are shown in UTC, like billing periods and Stripe. */
export function formatDate(date: Date): string {
  return dateFormat.format(date);
}

export function formatDateTime(date: Date): string {
  return `${dateTimeFormat.format(date)} UTC`;
}

/** "2026-11" -> "Nov 26" (axis) or "November 2026" (tables). */
export function formatMonth(month: string, style: "short" | "long" = "short"): string {
  const date = new Date(`${month}-01T00:00:00Z`);
  return (style === "short" ? shortMonth : longMonth).format(date);
}

export type Tone = "neutral" | "brand" | "success" | "warning" | "danger";

export function subscriptionStatusLabel(status: string): string {
  return statusLabel(status as Parameters<typeof statusLabel>[0]);
}

export function subscriptionStatusTone(status: string): Tone {
  switch (status) {
    case "active":
    case "trialing":
      return "success";
    case "past_due":
    case "incomplete":
      return "warning";
    case "unpaid":
    case "unknown":
      return "danger";
    default:
      return "neutral";
  }
}

export function invoiceStatusTone(status: string): Tone {
  switch (status) {
    case "paid":
      return "success";
    case "open":
      return "warning";
    case "uncollectible":
      return "danger";
    default:
      return "neutral";
  }
}

/** Stripe's billing reasons, in words (one definition, shared with the customer app). */
export { billingReasonLabel } from "@minutely/domain";

/** A value for <input type="datetime-local"> in UTC: "2026-11-27T12:00". */
export function toUtcInputValue(date: Date): string {
  return date.toISOString().slice(0, 16);
}

/** Reads a datetime-local value as UTC; null when it is not a complete date and time. */
export function fromUtcInputValue(value: string): Date | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return null;
  const date = new Date(`${value}${value.length === 16 ? ":00" : ""}Z`);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** A collection pause in words: in effect ("Paused until …") or to come ("Pauses on …"). */
export function pauseText(pause: { startsAt: Date; resumesAt: Date | null; paused: boolean }): string {
  const until = pause.resumesAt ? `until ${formatDate(pause.resumesAt)}` : "until resumed";
  return pause.paused ? `Paused ${until}` : `Pauses on ${formatDate(pause.startsAt)}, ${until}`;
}
