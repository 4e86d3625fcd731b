/** The SDK's connection settings (`host`/`port`/`protocol`) parsed from `STRIPE_API_BASE`. */
export interface StripeConnection {
  host: string;
  port: number;
  protocol: "http" | "https";
}

/**
 * `STRIPE_API_BASE=http://127.0.0.1:12111` → `{ host: "127.0.0.1", port: 12111, protocol: "http" }`.
 * Unset or empty means real Stripe (returns undefined: use the SDK defaults).
 */
export function parseStripeApiBase(value: string | undefined): StripeConnection | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const url = new URL(value.trim());
  const protocol = url.protocol === "https:" ? "https" : url.protocol === "http:" ? "http" : undefined;
  if (!protocol) throw new Error(`STRIPE_API_BASE must be an http(s) URL, got ${value}`);
  const port = url.port ? Number(url.port) : protocol === "https" ? 443 : 80;
  return { host: url.hostname.replace(/^\[|\]$/g, ""), port, protocol };
}

/** How webhook deliveries are retried (`webhookRetry` option; defaults in `http/webhooks.ts`). */
export interface WebhookRetryOptions {
  /** Total delivery attempts per event and endpoint (first try included). */
  maxAttempts: number;
  /** First retry delay; doubles each attempt, capped at `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Per-attempt HTTP timeout. */
  timeoutMs: number;
}

/** Environment variables that tune webhook retries (tests shorten them; the defaults follow Stripe's spirit). */
const RETRY_ENV = {
  STRIPE_EMULATOR_WEBHOOK_MAX_ATTEMPTS: "maxAttempts",
  STRIPE_EMULATOR_WEBHOOK_RETRY_BASE_MS: "baseDelayMs",
  STRIPE_EMULATOR_WEBHOOK_RETRY_MAX_MS: "maxDelayMs",
  STRIPE_EMULATOR_WEBHOOK_TIMEOUT_MS: "timeoutMs",
} as const satisfies Record<string, keyof WebhookRetryOptions>;

/**
 * The webhook retry policy set in the environment (only the variables present), or undefined when none is:
 * `STRIPE_EMULATOR_WEBHOOK_RETRY_BASE_MS=200` makes a crash test's redeliveries arrive within seconds.
 */
export function webhookRetryFromEnv(
  env: Record<string, string | undefined>,
): Partial<WebhookRetryOptions> | undefined {
  const retry: Partial<WebhookRetryOptions> = {};
  for (const [name, key] of Object.entries(RETRY_ENV)) {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === "") continue;
    const value = Number(raw);
    const min = key === "maxAttempts" ? 1 : 0;
    if (!Number.isInteger(value) || value < min) {
      throw new Error(`${name} must be an integer of at least ${min}, got ${raw}`);
    }
    retry[key] = value;
  }
  return Object.keys(retry).length > 0 ? retry : undefined;
}

/**
 * When Stripe retries a failed automatic invoice payment, and what happens once the last retry fails —
 * the emulator's version of Billing → Revenue recovery → Retries. Smart Retries (Stripe's default) pick
 * their times by machine learning; the emulator spreads them evenly over the window, deterministically.
 */
export type RetrySchedule =
  /** `attempts` tries in all (the first included) within `withinDays` days of the first failure. */
  | { type: "smart"; attempts: number; withinDays: number }
  /** A custom schedule: each retry this many days after the previous attempt. */
  | { type: "custom"; daysAfterPrevious: number[] };

export interface PaymentRetryOptions {
  schedule: RetrySchedule;
  /** The subscription once every retry has failed: canceled (`payment_failed`), `unpaid`, or left `past_due`. */
  subscriptionAfterFinalFailure: "cancel" | "unpaid" | "past_due";
  /** The invoice once every retry has failed: left open (past due), or marked `uncollectible`. */
  invoiceAfterFinalFailure: "past_due" | "uncollectible";
}

/** Stripe's recommended default: Smart Retries, 8 tries within 2 weeks; then the subscription is canceled. */
export const DEFAULT_PAYMENT_RETRIES: PaymentRetryOptions = {
  schedule: { type: "smart", attempts: 8, withinDays: 14 },
  subscriptionAfterFinalFailure: "cancel",
  invoiceAfterFinalFailure: "past_due",
};

/** Seconds after each failed automatic attempt before the next one (its length is the number of retries). */
export function retryDelaysSeconds(schedule: RetrySchedule): number[] {
  if (schedule.type === "custom") return schedule.daysAfterPrevious.map((days) => Math.round(days * 86_400));
  const retries = Math.max(0, schedule.attempts - 1);
  if (retries === 0) return [];
  const window = schedule.withinDays * 86_400;
  // Retry k lands at k/retries of the window after the first failure; delays are the differences.
  const at = Array.from({ length: retries }, (_, k) => Math.round((window * (k + 1)) / retries));
  return at.map((t, k) => t - (k === 0 ? 0 : (at[k - 1] ?? 0)));
}

/** Checks a policy given in code or parsed from the environment. */
export function validatePaymentRetries(options: PaymentRetryOptions): PaymentRetryOptions {
  const { schedule } = options;
  if (schedule.type === "smart") {
    if (!Number.isInteger(schedule.attempts) || schedule.attempts < 1 || schedule.attempts > 8) {
      throw new Error(`Smart Retries take 1 to 8 attempts, got ${schedule.attempts}`);
    }
    if (![7, 14, 21, 30, 60].includes(schedule.withinDays)) {
      throw new Error(
        `Smart Retries run within 7, 14, 21, 30 or 60 days (1, 2, 3 weeks, 1 or 2 months), got ${schedule.withinDays}`,
      );
    }
  } else if (
    schedule.daysAfterPrevious.length > 3 ||
    schedule.daysAfterPrevious.some((days) => !Number.isInteger(days) || days < 1 || days > 60)
  ) {
    throw new Error(
      `A custom retry schedule has at most 3 retries of 1 to 60 days each, got ${schedule.daysAfterPrevious.join(",")}`,
    );
  }
  if (!["cancel", "unpaid", "past_due"].includes(options.subscriptionAfterFinalFailure)) {
    throw new Error(`subscriptionAfterFinalFailure must be cancel, unpaid or past_due`);
  }
  if (!["past_due", "uncollectible"].includes(options.invoiceAfterFinalFailure)) {
    throw new Error(`invoiceAfterFinalFailure must be past_due or uncollectible`);
  }
  return options;
}

/**
 * The retry policy from the environment (CLI): `STRIPE_EMULATOR_RETRY_SCHEDULE` = `smart` (8 tries within
 * 14 days), `smart:ATTEMPTS:DAYS` (e.g. `smart:4:7`) or `custom:D1,D2,D3` (days after the previous attempt,
 * e.g. `custom:3,2,2`); `STRIPE_EMULATOR_SUBSCRIPTION_AFTER_RETRIES` = `cancel` | `unpaid` | `past_due`;
 * `STRIPE_EMULATOR_INVOICE_AFTER_RETRIES` = `past_due` | `uncollectible`. Unset variables keep the defaults.
 */
export function paymentRetriesFromEnv(
  env: Record<string, string | undefined>,
): PaymentRetryOptions | undefined {
  const scheduleRaw = env.STRIPE_EMULATOR_RETRY_SCHEDULE?.trim();
  const subscriptionRaw = env.STRIPE_EMULATOR_SUBSCRIPTION_AFTER_RETRIES?.trim();
  const invoiceRaw = env.STRIPE_EMULATOR_INVOICE_AFTER_RETRIES?.trim();
  if (!scheduleRaw && !subscriptionRaw && !invoiceRaw) return undefined;
  let schedule = DEFAULT_PAYMENT_RETRIES.schedule;
  if (scheduleRaw) {
    const smart = /^smart(?::(\d+):(\d+))?$/.exec(scheduleRaw);
    const custom = /^custom:(\d+(?:,\d+)*)$/.exec(scheduleRaw);
    if (smart) {
      schedule = { type: "smart", attempts: Number(smart[1] ?? 8), withinDays: Number(smart[2] ?? 14) };
    } else if (custom) {
      schedule = { type: "custom", daysAfterPrevious: (custom[1] ?? "").split(",").map(Number) };
    } else {
      throw new Error(
        `STRIPE_EMULATOR_RETRY_SCHEDULE must be smart, smart:ATTEMPTS:DAYS or custom:D1,D2,…, got ${scheduleRaw}`,
      );
    }
  }
  return validatePaymentRetries({
    schedule,
    subscriptionAfterFinalFailure: (subscriptionRaw ||
      DEFAULT_PAYMENT_RETRIES.subscriptionAfterFinalFailure) as PaymentRetryOptions["subscriptionAfterFinalFailure"],
    invoiceAfterFinalFailure: (invoiceRaw ||
      DEFAULT_PAYMENT_RETRIES.invoiceAfterFinalFailure) as PaymentRetryOptions["invoiceAfterFinalFailure"],
  });
}

/**
 * When the emulator emits Stripe's invoice notices (`null` = never): `invoice.upcoming` this many days
 * before a subscription renews (Stripe's "Upcoming renewal events" setting), `invoice.will_be_due` this many
 * days before a `send_invoice` invoice's due date and `invoice.overdue` this many days after it (Stripe's
 * invoice reminder automations, which are off until configured).
 */
export interface InvoiceNoticeOptions {
  upcomingDaysBefore: number | null;
  willBeDueDaysBefore: number | null;
  overdueDaysAfter: number | null;
}

export const DEFAULT_INVOICE_NOTICES: InvoiceNoticeOptions = {
  upcomingDaysBefore: 7,
  willBeDueDaysBefore: null,
  overdueDaysAfter: null,
};

/**
 * `STRIPE_EMULATOR_UPCOMING_DAYS`, `STRIPE_EMULATOR_WILL_BE_DUE_DAYS`, `STRIPE_EMULATOR_OVERDUE_DAYS`: a
 * number of days, or `off`.
 */
export function invoiceNoticesFromEnv(
  env: Record<string, string | undefined>,
): Partial<InvoiceNoticeOptions> | undefined {
  const names = {
    STRIPE_EMULATOR_UPCOMING_DAYS: "upcomingDaysBefore",
    STRIPE_EMULATOR_WILL_BE_DUE_DAYS: "willBeDueDaysBefore",
    STRIPE_EMULATOR_OVERDUE_DAYS: "overdueDaysAfter",
  } as const satisfies Record<string, keyof InvoiceNoticeOptions>;
  const notices: Partial<InvoiceNoticeOptions> = {};
  for (const [name, key] of Object.entries(names)) {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === "") continue;
    if (raw === "off") {
      notices[key] = null;
      continue;
    }
    const days = Number(raw);
    if (!Number.isInteger(days) || days < 1 || days > 90) {
      throw new Error(`${name} must be a number of days (1-90) or off, got ${raw}`);
    }
    notices[key] = days;
  }
  return Object.keys(notices).length > 0 ? notices : undefined;
}
