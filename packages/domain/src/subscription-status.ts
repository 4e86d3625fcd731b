/**
 * Subscription statuses (mirroring Stripe's) and the access rules derived from them.
 * Every mapping is an exhaustive `switch`; anything unrecognised fails closed (no access).
 */
import { failClosed } from "./exhaustive";

export const SUBSCRIPTION_STATUSES = [
  "incomplete",
  "incomplete_expired",
  "trialing",
  "active",
  "past_due",
  "unpaid",
  "canceled",
  "paused",
] as const;

export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

/** A status as the app sees it: a known status, `"unknown"` (unrecognised), or `"none"` (never subscribed). */
export type AccountSubscriptionStatus = SubscriptionStatus | "unknown" | "none";

export function isSubscriptionStatus(value: unknown): value is SubscriptionStatus {
  return typeof value === "string" && (SUBSCRIPTION_STATUSES as readonly string[]).includes(value);
}

/**
 * Maps a Stripe `subscription.status` string. Matching is exact (Stripe sends lowercase); anything
 * else, including future statuses Stripe may add, maps to `"unknown"`, which grants nothing.
 */
export function mapStripeSubscriptionStatus(status: string): SubscriptionStatus | "unknown" {
  return isSubscriptionStatus(status) ? status : "unknown";
}

/**
 * Whether the status grants access to the product.
 * `active` and `trialing` do; `past_due` does too, as a grace period while dunning retries the
 * payment (the dunning machine suspends access when it gives up). Everything else, including
 * `"unknown"` and `"none"`, does not.
 */
export function grantsAccess(status: AccountSubscriptionStatus): boolean {
  switch (status) {
    case "active":
    case "trialing":
    case "past_due":
      return true;
    case "incomplete":
    case "incomplete_expired":
    case "unpaid":
    case "canceled":
    case "paused":
    case "unknown":
    case "none":
      return false;
    default:
      return failClosed(status, false);
  }
}

/**
 * Whether the subscription pays, and so counts towards MRR: `active` and `past_due` (dunning is collecting).
 * A `trialing` subscription grants access but pays nothing yet: it is counted apart (trialing subscribers)
 * and enters MRR when it converts. Everything else, `unknown` included, does not count.
 */
export function countsTowardsMrr(status: AccountSubscriptionStatus): boolean {
  switch (status) {
    case "active":
    case "past_due":
      return true;
    case "trialing":
    case "incomplete":
    case "incomplete_expired":
    case "unpaid":
    case "canceled":
    case "paused":
    case "unknown":
    case "none":
      return false;
    default:
      return failClosed(status, false);
  }
}

/** Whether the customer must act on payment: `past_due`, `unpaid` and `incomplete`. */
export function needsPaymentAttention(status: AccountSubscriptionStatus): boolean {
  switch (status) {
    case "past_due":
    case "unpaid":
    case "incomplete":
      return true;
    case "active":
    case "trialing":
    case "incomplete_expired":
    case "canceled":
    case "paused":
    case "unknown":
    case "none":
      return false;
    default:
      return failClosed(status, false);
  }
}

/**
 * Whether a subscription object still exists that can be managed (changed, cancelled, resumed).
 * `canceled` and `incomplete_expired` are terminal; `none` has nothing; `unknown` fails closed.
 */
export function isLiveSubscription(status: AccountSubscriptionStatus): boolean {
  switch (status) {
    case "active":
    case "trialing":
    case "past_due":
    case "unpaid":
    case "incomplete":
    case "paused":
      return true;
    case "incomplete_expired":
    case "canceled":
    case "unknown":
    case "none":
      return false;
    default:
      return failClosed(status, false);
  }
}

/**
 * The one rule for "the account's subscription" when it has had several (a cancelled one and its
 * replacement, a checkout left incomplete next to an active one): from its subscriptions, newest first, the
 * newest that grants access; else the newest still live (past due, unpaid, incomplete, paused: the one to
 * fix); else the newest of all. Null when there are none.
 */
export function currentSubscriptionOf<T extends { status: AccountSubscriptionStatus }>(
  newestFirst: readonly T[],
): T | null {
  return (
    newestFirst.find((s) => grantsAccess(s.status)) ??
    newestFirst.find((s) => isLiveSubscription(s.status)) ??
    newestFirst[0] ??
    null
  );
}

/** Human-readable label for badges and tables. */
export function statusLabel(status: AccountSubscriptionStatus): string {
  switch (status) {
    case "incomplete":
      return "Incomplete";
    case "incomplete_expired":
      return "Expired";
    case "trialing":
      return "Trial";
    case "active":
      return "Active";
    case "past_due":
      return "Past due";
    case "unpaid":
      return "Unpaid";
    case "canceled":
      return "Canceled";
    case "paused":
      return "Paused";
    case "unknown":
      return "Unknown";
    case "none":
      return "No subscription";
    default:
      return failClosed(status, "Unknown");
  }
}
