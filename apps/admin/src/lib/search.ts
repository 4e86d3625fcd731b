// The URL search parameters of the admin's list pages: filters and pages live in the URL, so a view can
// be reloaded, shared and navigated back to. Anything invalid falls back to the default.
//
// These run on every navigation and ship with the first route, so they are plain functions rather than
// schemas (zod added about 22 KiB gzipped to the first route). They give what the zod schemas did: keys
// missing from the URL stay missing, and a key that is present but invalid gets the field's fallback.

type RawSearch = Record<string, unknown>;
type Parsers<T> = { [K in keyof T]-?: (value: unknown) => T[K] };

/** The declared keys of `search`, each through its parser; other keys are dropped. */
function fields<T>(search: RawSearch, parsers: Parsers<T>): T {
  const result: Partial<T> = {};
  for (const key of Object.keys(parsers) as (keyof T & string)[]) {
    if (!(key in search)) continue;
    const value = search[key];
    result[key] = value === undefined ? undefined : parsers[key](value);
  }
  return result as T;
}

/** A whole number in [min, max]; numeric strings count (`?page=2` and `?page="2"`). */
function integer(min: number, max: number, fallback: number) {
  return (value: unknown): number => {
    let n: unknown;
    try {
      n = Number(value);
    } catch {
      return fallback;
    }
    return typeof n === "number" && Number.isInteger(n) && n >= min && n <= max ? n : fallback;
  };
}

/** A string, trimmed, of at most `max` characters (and at least `min`); otherwise `fallback`. */
function trimmed<F extends string | undefined>(max: number, fallback: F, min = 0, pattern?: RegExp) {
  return (value: unknown): string | F => {
    if (typeof value !== "string") return fallback;
    const text = value.trim();
    return text.length >= min && text.length <= max && (!pattern || pattern.test(text)) ? text : fallback;
  };
}

function oneOf<const T extends string, F extends T | undefined>(values: readonly T[], fallback: F) {
  return (value: unknown): T | F => (values.includes(value as T) ? (value as T) : fallback);
}

function matching(pattern: RegExp) {
  return (value: unknown): string | undefined =>
    typeof value === "string" && pattern.test(value) ? value : undefined;
}

/** An RFC 9562 UUID (any version), or the nil and max UUIDs. */
const UUID =
  /^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$/;
/** A calendar date, YYYY-MM-DD, that exists (leap years included). */
const DATE =
  /^(?:(?:\d\d[2468][048]|\d\d[13579][26]|\d\d0[48]|[02468][048]00|[13579][26]00)-02-29|\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|(?:02)-(?:0[1-9]|1\d|2[0-8])))$/;

const page = integer(1, 100_000, 1);
const text = (max: number) => trimmed(max, "");
const uuid = matching(UUID);
const day = matching(DATE);

export const CUSTOMER_STATUS_OPTIONS = [
  { value: "all", label: "All customers" },
  { value: "access", label: "Paying (active, trial, past due)" },
  { value: "active", label: "Active" },
  { value: "past_due", label: "Past due" },
  { value: "unpaid", label: "Unpaid" },
  { value: "canceled", label: "Canceled" },
  { value: "incomplete", label: "Incomplete" },
  { value: "incomplete_expired", label: "Expired" },
  { value: "trialing", label: "Trial" },
  { value: "paused", label: "Paused" },
  { value: "unknown", label: "Unknown" },
  { value: "none", label: "Never subscribed" },
] as const;
export type CustomerStatusOption = (typeof CUSTOMER_STATUS_OPTIONS)[number]["value"];

export const CUSTOMER_SPEND_CAP_OPTIONS = [
  { value: "all", label: "Any" },
  { value: "set", label: "Budget set" },
  { value: "reached", label: "Budget reached (capped)" },
] as const;
export type CustomerSpendCapOption = (typeof CUSTOMER_SPEND_CAP_OPTIONS)[number]["value"];

export interface CustomersSearch {
  q?: string | undefined;
  status?: CustomerStatusOption | undefined;
  /** The overage budget filter. */
  cap?: CustomerSpendCapOption | undefined;
  page?: number | undefined;
}
const customerStatus = oneOf(
  CUSTOMER_STATUS_OPTIONS.map((o) => o.value),
  "all",
);
const customerSpendCap = oneOf(
  CUSTOMER_SPEND_CAP_OPTIONS.map((o) => o.value),
  "all",
);
export function validateCustomersSearch(search: RawSearch): CustomersSearch {
  return fields<CustomersSearch>(search, {
    q: text(100),
    status: customerStatus,
    cap: customerSpendCap,
    page,
  });
}

export interface UsageSearch {
  min?: number | undefined;
  page?: number | undefined;
  mailPage?: number | undefined;
}
const usageMin = integer(1, 1000, 80);
export function validateUsageSearch(search: RawSearch): UsageSearch {
  return fields<UsageSearch>(search, { min: usageMin, page, mailPage: page });
}

export const WEBHOOK_STATUS_OPTIONS = ["received", "processed", "retrying", "failed"] as const;
export type WebhookStatusOption = (typeof WEBHOOK_STATUS_OPTIONS)[number];

export interface WebhooksSearch {
  status?: WebhookStatusOption | undefined;
  type?: string | undefined;
}
const webhookStatus = oneOf(WEBHOOK_STATUS_OPTIONS, undefined);
const webhookType = trimmed(120, undefined, 0, /^[a-z0-9_.]*$/);
export function validateWebhooksSearch(search: RawSearch): WebhooksSearch {
  return fields<WebhooksSearch>(search, { status: webhookStatus, type: webhookType });
}

export interface AuditSearch {
  actor?: string | undefined;
  entityType?: string | undefined;
  entityId?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}
const entityType = trimmed(40, undefined, 1);
const entityId = trimmed(255, undefined, 1);
export function validateAuditSearch(search: RawSearch): AuditSearch {
  return fields<AuditSearch>(search, { actor: uuid, entityType, entityId, from: day, to: day });
}

export interface ClockSearch {
  account?: string | undefined;
  q?: string | undefined;
}
export function validateClockSearch(search: RawSearch): ClockSearch {
  return fields<ClockSearch>(search, { account: uuid, q: text(100) });
}

export interface RevenueSearch {
  months?: number | undefined;
}
const months = integer(3, 24, 12);
export function validateRevenueSearch(search: RawSearch): RevenueSearch {
  return fields<RevenueSearch>(search, { months });
}

export interface SignInSearch {
  redirect?: string | undefined;
}
/** Where to go after signing in. Not a filter: anything but a string is an error (the route's error page). */
export function validateSignInSearch(search: RawSearch): SignInSearch {
  return fields<SignInSearch>(search, {
    redirect: (value) => {
      if (typeof value !== "string") throw new Error(`redirect: expected a string, received ${typeof value}`);
      return value;
    },
  });
}

export interface JobsSearch {
  task?: string | undefined;
}
const jobTask = trimmed(120, undefined, 1, /^[a-z0-9_:.-]+$/);
export function validateJobsSearch(search: RawSearch): JobsSearch {
  return fields<JobsSearch>(search, { task: jobTask });
}
