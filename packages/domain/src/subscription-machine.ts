/**
 * Validates user-initiated subscription actions against the current subscription snapshot.
 *
 * Decisions (documented contract):
 * - **upgrade** = target monthly price strictly higher than the current one; **downgrade** =
 *   strictly lower. A different plan at the *same* price is neither: both actions are rejected with
 *   `SAME_PRICE` (lateral moves are not supported; price plans distinctly). Choosing the plan you
 *   are already on is `SAME_PLAN` (needs `snapshot.planName`).
 * - **subscribe** needs no live access: allowed for `none`, `canceled` and `incomplete_expired`.
 *   Access-granting statuses (`active`, `trialing`, `past_due`) give `ALREADY_SUBSCRIBED`; an
 *   existing subscription that is waiting for money (`incomplete`, `unpaid`, `paused`) gives
 *   `PAYMENT_REQUIRED` so the customer settles it rather than opening a second subscription.
 * - **upgrade / downgrade** need an `active` or `trialing` subscription. `past_due`, `unpaid`,
 *   `incomplete` and `paused` give `PAYMENT_REQUIRED`. While cancellation is pending
 *   (`cancelAtPeriodEnd`) they give `CANCELLATION_PENDING` (resume first); while another change is
 *   scheduled they give `CHANGE_ALREADY_SCHEDULED` (cancel that change first).
 * - **cancel / resume / cancel_scheduled_change** need a live subscription (any status except
 *   `none`, `canceled`, `incomplete_expired`). Cancel is `ALREADY_CANCELLING` when already
 *   cancelling; resume is `NOT_CANCELLING` when not cancelling; cancel_scheduled_change is
 *   `NO_SCHEDULED_CHANGE` when nothing is scheduled. Cancelling while a change is scheduled is
 *   allowed; the caller should release the schedule because the subscription ends instead.
 * - Archived targets (`active: false`) give `PLAN_ARCHIVED` for subscribe/upgrade/downgrade.
 * - An `"unknown"` status fails closed with `STATUS_UNKNOWN` for every action.
 */

import { assertNever, failClosed } from "./exhaustive";
import type { Money } from "./money";
import { planNameKey } from "./plans";
import type { SubscriptionStatus } from "./subscription-status";

export const SUBSCRIPTION_ACTIONS = [
  "subscribe",
  "upgrade",
  "downgrade",
  "cancel",
  "resume",
  "cancel_scheduled_change",
] as const;

export type SubscriptionAction = (typeof SUBSCRIPTION_ACTIONS)[number];

export interface ScheduledPlanChange {
  toPlanName: string;
  effectiveAt: Date;
}

export interface SubscriptionSnapshot {
  status: SubscriptionStatus | "unknown" | "none";
  /** Monthly price of the current plan; `null` when there is no subscription (or it is unknown). */
  planPrice: Money | null;
  cancelAtPeriodEnd: boolean;
  scheduledChange: ScheduledPlanChange | null;
  currentPeriodEnd: Date | null;
  /** Optional: name of the current plan, enables the `SAME_PLAN` check. */
  planName?: string | null;
}

export interface ActionTarget {
  monthlyPrice: Money;
  active: boolean;
  name: string;
}

export type ActionDenialCode =
  | "NO_SUBSCRIPTION"
  | "ALREADY_SUBSCRIBED"
  | "NOT_AN_UPGRADE"
  | "NOT_A_DOWNGRADE"
  | "SAME_PLAN"
  | "SAME_PRICE"
  | "PLAN_ARCHIVED"
  | "NOT_CANCELLING"
  | "ALREADY_CANCELLING"
  | "CANCELLATION_PENDING"
  | "NO_SCHEDULED_CHANGE"
  | "CHANGE_ALREADY_SCHEDULED"
  | "PAYMENT_REQUIRED"
  | "STATUS_UNKNOWN"
  | "TARGET_REQUIRED"
  | "CURRENT_PLAN_UNKNOWN"
  | "CURRENCY_MISMATCH"
  | "INVALID_ACTION";

export type ActionCheck = { ok: true } | { ok: false; code: ActionDenialCode; message: string };

const OK: ActionCheck = Object.freeze({ ok: true });

function deny(code: ActionDenialCode, message: string): ActionCheck {
  return { ok: false, code, message };
}

/** How a target price relates to the current price. Throws on currency mismatch. */
export type PlanChangeKind = "upgrade" | "downgrade" | "same_price";

export function classifyPlanChange(currentPrice: Money, targetPrice: Money): PlanChangeKind {
  if (currentPrice.currency !== targetPrice.currency) {
    throw new RangeError("Cannot compare plan prices in different currencies");
  }
  if (targetPrice.amount > currentPrice.amount) {
    return "upgrade";
  }
  return targetPrice.amount < currentPrice.amount ? "downgrade" : "same_price";
}

type StatusClass = "no_subscription" | "access" | "awaiting_payment" | "unknown";

function classifyStatus(status: SubscriptionSnapshot["status"]): StatusClass {
  switch (status) {
    case "none":
    case "canceled":
    case "incomplete_expired":
      return "no_subscription";
    case "active":
    case "trialing":
      return "access";
    case "past_due":
    case "unpaid":
    case "incomplete":
    case "paused":
      return "awaiting_payment";
    case "unknown":
      return "unknown";
    default:
      return failClosed(status, "unknown");
  }
}

const UNKNOWN_STATUS = deny(
  "STATUS_UNKNOWN",
  "We could not determine your subscription status. Please try again shortly or contact support.",
);
const NO_SUBSCRIPTION = deny("NO_SUBSCRIPTION", "You do not have a subscription.");

const TARGET_REQUIRED = deny("TARGET_REQUIRED", "Choose a package.");

function archivedDenial(target: ActionTarget): ActionCheck | null {
  return target.active ? null : deny("PLAN_ARCHIVED", `The ${target.name} package is no longer available.`);
}

function checkSubscribe(snapshot: SubscriptionSnapshot, target: ActionTarget | undefined): ActionCheck {
  const statusClass = classifyStatus(snapshot.status);
  switch (statusClass) {
    case "unknown":
      return UNKNOWN_STATUS;
    case "access":
      return deny("ALREADY_SUBSCRIBED", "You already have an active subscription; change your plan instead.");
    case "awaiting_payment":
      if (snapshot.status === "past_due") {
        return deny(
          "ALREADY_SUBSCRIBED",
          "You already have a subscription; update your payment method instead.",
        );
      }
      return deny(
        "PAYMENT_REQUIRED",
        "Your existing subscription has an outstanding payment; settle it first.",
      );
    case "no_subscription":
      if (target === undefined) {
        return TARGET_REQUIRED;
      }
      return archivedDenial(target) ?? OK;
    default:
      return assertNever(statusClass, "status class");
  }
}

function checkPlanChange(
  snapshot: SubscriptionSnapshot,
  direction: "upgrade" | "downgrade",
  target: ActionTarget | undefined,
): ActionCheck {
  const statusClass = classifyStatus(snapshot.status);
  switch (statusClass) {
    case "unknown":
      return UNKNOWN_STATUS;
    case "no_subscription":
      return NO_SUBSCRIPTION;
    case "awaiting_payment":
      return deny("PAYMENT_REQUIRED", "Resolve the outstanding payment before changing your plan.");
    case "access":
      break;
    default:
      return assertNever(statusClass, "status class");
  }
  if (snapshot.cancelAtPeriodEnd) {
    return deny(
      "CANCELLATION_PENDING",
      "Your subscription is set to cancel; resume it before changing plans.",
    );
  }
  if (snapshot.scheduledChange !== null) {
    return deny(
      "CHANGE_ALREADY_SCHEDULED",
      `A change to ${snapshot.scheduledChange.toPlanName} is already scheduled; cancel it first.`,
    );
  }
  if (target === undefined) {
    return TARGET_REQUIRED;
  }
  if (snapshot.planName != null && planNameKey(snapshot.planName) === planNameKey(target.name)) {
    return deny("SAME_PLAN", `You are already on the ${target.name} package.`);
  }
  const archived = archivedDenial(target);
  if (archived !== null) {
    return archived;
  }
  if (snapshot.planPrice === null) {
    return deny("CURRENT_PLAN_UNKNOWN", "We could not determine your current plan.");
  }
  if (snapshot.planPrice.currency !== target.monthlyPrice.currency) {
    return deny("CURRENCY_MISMATCH", "The package is priced in a different currency than your subscription.");
  }
  const kind = classifyPlanChange(snapshot.planPrice, target.monthlyPrice);
  if (kind === "same_price") {
    return deny(
      "SAME_PRICE",
      `${target.name} costs the same as your current plan; it is not an ${direction}.`,
    );
  }
  if (kind !== direction) {
    return direction === "upgrade"
      ? deny("NOT_AN_UPGRADE", `${target.name} costs less than your current plan; choose downgrade.`)
      : deny("NOT_A_DOWNGRADE", `${target.name} costs more than your current plan; choose upgrade.`);
  }
  return OK;
}

function checkManage(
  snapshot: SubscriptionSnapshot,
  action: "cancel" | "resume" | "cancel_scheduled_change",
): ActionCheck {
  const statusClass = classifyStatus(snapshot.status);
  if (statusClass === "unknown") {
    return UNKNOWN_STATUS;
  }
  if (statusClass === "no_subscription") {
    return NO_SUBSCRIPTION;
  }
  switch (action) {
    case "cancel":
      return snapshot.cancelAtPeriodEnd
        ? deny("ALREADY_CANCELLING", "Your subscription is already set to cancel at the end of the period.")
        : OK;
    case "resume":
      return snapshot.cancelAtPeriodEnd
        ? OK
        : deny("NOT_CANCELLING", "Your subscription is not set to cancel, so there is nothing to resume.");
    case "cancel_scheduled_change":
      return snapshot.scheduledChange === null
        ? deny("NO_SCHEDULED_CHANGE", "There is no scheduled plan change to cancel.")
        : OK;
    default:
      return assertNever(action, "subscription action");
  }
}

/**
 * Decides whether `action` is allowed for `snapshot`. `target` is required for `subscribe`,
 * `upgrade` and `downgrade` (missing -> `TARGET_REQUIRED`) and ignored otherwise.
 * See the module documentation for the complete rule set.
 */
export function checkAction(
  snapshot: SubscriptionSnapshot,
  action: SubscriptionAction,
  target?: ActionTarget,
): ActionCheck {
  switch (action) {
    case "subscribe":
      return checkSubscribe(snapshot, target);
    case "upgrade":
    case "downgrade":
      return checkPlanChange(snapshot, action, target);
    case "cancel":
    case "resume":
    case "cancel_scheduled_change":
      return checkManage(snapshot, action);
    default:
      return failClosed(action, deny("INVALID_ACTION", "This action is not supported."));
  }
}

export interface PlanOption {
  planName: string;
  /** `"current"` for the plan the customer is on; otherwise the action this plan's button performs. */
  action: "subscribe" | "upgrade" | "downgrade" | "current";
  check: ActionCheck;
}

/**
 * For a pricing/plan picker: what choosing each plan would do and whether it is allowed.
 * Without a live subscription every plan is a `subscribe`; otherwise plans priced above the current
 * one are `upgrade`s and the rest `downgrade`s (same-price plans report `SAME_PRICE`).
 */
export function planOptions(snapshot: SubscriptionSnapshot, plans: readonly ActionTarget[]): PlanOption[] {
  const statusClass = classifyStatus(snapshot.status);
  return plans.map((plan) => {
    if (snapshot.planName != null && planNameKey(snapshot.planName) === planNameKey(plan.name)) {
      return { planName: plan.name, action: "current", check: OK };
    }
    if (statusClass === "no_subscription" || snapshot.planPrice === null) {
      return { planName: plan.name, action: "subscribe", check: checkAction(snapshot, "subscribe", plan) };
    }
    const action =
      snapshot.planPrice.currency === plan.monthlyPrice.currency &&
      plan.monthlyPrice.amount > snapshot.planPrice.amount
        ? "upgrade"
        : "downgrade";
    return { planName: plan.name, action, check: checkAction(snapshot, action, plan) };
  });
}
