// Rows read as JSON by the hot paths' raw statements (to_jsonb of a table row), turned into the rows Prisma
// would return, so the services shape them with the same functions whichever way they were read. A field
// of the wrong type is a bug (the statement and the schema disagree), thrown as such, never coerced.
import type { PlanPrice, Subscription, SubscriptionPlan, SubscriptionPlanPrice } from "@minutely/db";

export type Json = Record<string, unknown>;

export function text(row: Json, key: string): string {
  const value = row[key];
  if (typeof value !== "string") throw new Error(`row read: ${key} is not a string`);
  return value;
}
export function textOrNull(row: Json, key: string): string | null {
  return row[key] === null ? null : text(row, key);
}
export function int(row: Json, key: string): number {
  const value = row[key];
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new Error(`row read: ${key} is not an integer`);
  }
  return value;
}
export function intOrNull(row: Json, key: string): number | null {
  return row[key] === null ? null : int(row, key);
}
export function bool(row: Json, key: string): boolean {
  const value = row[key];
  if (typeof value !== "boolean") throw new Error(`row read: ${key} is not a boolean`);
  return value;
}
export function date(row: Json, key: string): Date {
  return new Date(text(row, key));
}
export function dateOrNull(row: Json, key: string): Date | null {
  return row[key] === null ? null : date(row, key);
}
export function texts(row: Json, key: string): string[] {
  const value = row[key];
  if (!Array.isArray(value)) throw new Error(`row read: ${key} is not an array`);
  return value.map(String);
}
export function rows(value: unknown): Json[] {
  return Array.isArray(value) ? (value as Json[]) : [];
}

export function planRow(j: Json): SubscriptionPlan {
  return {
    id: text(j, "id"),
    name: text(j, "name"),
    description: text(j, "description"),
    monthlyPriceCents: int(j, "monthly_price_cents"),
    currency: text(j, "currency"),
    callMinutesLimit: int(j, "call_minutes_limit"),
    agentsAllowed: int(j, "agents_allowed"),
    analyticsAccess: bool(j, "analytics_access"),
    apiAccess: bool(j, "api_access"),
    overagePriceCentsPerMinute: intOrNull(j, "overage_price_cents_per_minute"),
    recommended: bool(j, "recommended"),
    active: bool(j, "active"),
    sortOrder: int(j, "sort_order"),
    trialDays: intOrNull(j, "trial_days"),
    trialRequiresCard: bool(j, "trial_requires_card"),
    stripeProductId: textOrNull(j, "stripe_product_id"),
    stripePriceId: textOrNull(j, "stripe_price_id"),
    createdAt: date(j, "created_at"),
    updatedAt: date(j, "updated_at"),
  };
}

/** A package's price in one currency (to_jsonb of a subscription_plan_price row). */
export function planPriceRow(j: Json): SubscriptionPlanPrice {
  return {
    id: text(j, "id"),
    planId: text(j, "plan_id"),
    currency: text(j, "currency"),
    amountCents: int(j, "amount_cents"),
    overagePriceCentsPerMinute: intOrNull(j, "overage_price_cents_per_minute"),
    stripePriceId: textOrNull(j, "stripe_price_id"),
    createdAt: date(j, "created_at"),
    updatedAt: date(j, "updated_at"),
  };
}

/** One of the Stripe prices a package has had (to_jsonb of a plan_price row). */
export function stripePriceRow(j: Json): PlanPrice {
  return {
    id: text(j, "id"),
    planId: text(j, "plan_id"),
    stripePriceId: text(j, "stripe_price_id"),
    amountCents: int(j, "amount_cents"),
    currency: text(j, "currency"),
    current: bool(j, "current"),
    createdAt: date(j, "created_at"),
  };
}

/** A subscription row (to_jsonb, with `sync_ticket` as text: a BIGINT does not fit a JSON number). */
export function subscriptionRow(j: Json): Subscription {
  return {
    id: text(j, "id"),
    accountId: text(j, "account_id"),
    stripeSubscriptionId: text(j, "stripe_subscription_id"),
    planId: text(j, "plan_id"),
    stripePriceId: text(j, "stripe_price_id"),
    currency: text(j, "currency"),
    status: text(j, "status") as Subscription["status"],
    stripeStatus: text(j, "stripe_status"),
    currentPeriodStart: date(j, "current_period_start"),
    currentPeriodEnd: date(j, "current_period_end"),
    cancelAtPeriodEnd: bool(j, "cancel_at_period_end"),
    canceledAt: dateOrNull(j, "canceled_at"),
    endedAt: dateOrNull(j, "ended_at"),
    stripeScheduleId: textOrNull(j, "stripe_schedule_id"),
    scheduledPlanId: textOrNull(j, "scheduled_plan_id"),
    scheduledChangeAt: dateOrNull(j, "scheduled_change_at"),
    scheduledKeepAgentIds: texts(j, "scheduled_keep_agent_ids"),
    resumeScheduledPlanId: textOrNull(j, "resume_scheduled_plan_id"),
    resumeKeepAgentIds: texts(j, "resume_keep_agent_ids"),
    pauseBehavior: textOrNull(j, "pause_behavior"),
    pauseStartsAt: dateOrNull(j, "pause_starts_at"),
    pauseResumesAt: dateOrNull(j, "pause_resumes_at"),
    trialStart: dateOrNull(j, "trial_start"),
    trialEnd: dateOrNull(j, "trial_end"),
    trialCardFingerprint: textOrNull(j, "trial_card_fingerprint"),
    defaultPaymentMethodId: textOrNull(j, "default_payment_method_id"),
    stripeTestClockId: textOrNull(j, "stripe_test_clock_id"),
    testClockTime: dateOrNull(j, "test_clock_time"),
    couponId: textOrNull(j, "coupon_id"),
    promotionCodeId: textOrNull(j, "promotion_code_id"),
    stripeDiscountId: textOrNull(j, "stripe_discount_id"),
    discountEndsAt: dateOrNull(j, "discount_ends_at"),
    syncedAt: date(j, "synced_at"),
    syncTicket: BigInt(text(j, "sync_ticket")),
    createdAt: date(j, "created_at"),
    updatedAt: date(j, "updated_at"),
  };
}
