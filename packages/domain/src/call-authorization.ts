/**
 * Authorizing a call against the subscriber's plan (pure decision, no I/O).
 *
 * Rules, in order:
 * 1. Inputs must be non-negative integers and `reserveMinutes >= 1` -> otherwise `INVALID_REQUEST`.
 * 2. A paused subscription (see pause.ts: `paused`) -> `SUBSCRIPTION_PAUSED`; otherwise no access-granting
 *    subscription -> `NO_ACTIVE_SUBSCRIPTION`.
 * 3. Inactive agent -> `AGENT_INACTIVE`.
 * 4. Plans with overage (billed per minute above the limit) allow, unless the customer set a spend cap
 *    (`spendCapMinutes`: the overage minutes the budget pays for, see spend-cap.ts): then the plan's cap is
 *    `minutesLimit + spendCapMinutes` and rules 5 and 6 apply to it, denying with `SPEND_CAP_REACHED`.
 * 5. Hard-cap plans allow when `minutesUsed + minutesReserved + reserveMinutes <= minutesLimit`.
 *    The full reservation must fit: there is no partial reservation of the last few minutes.
 * 5b. During a free trial (`trial`) no overage is billed: the cap is the included minutes whatever the plan's
 *    overage price or spend cap, and an outbound call past it is denied `TRIAL_ALLOWANCE_REACHED`.
 * 6. Otherwise the direction's over-cap policy decides. The default lets inbound calls through
 *    (customers calling in should not hit a dead line; the overrun is recorded, not billed as
 *    overage) and denies outbound calls with `MINUTES_EXHAUSTED`.
 *
 * Allowed decisions report `overCap: true` when they exceed a hard cap via the policy, and `maxMinutes`:
 * the most the call may last (`callMinutesAllowed`) so the calling platform can end it at the cap, or null
 * when no cap ends it (an overage plan, or a direction the policy lets through beyond the cap).
 */
import { failClosed } from "./exhaustive";

export type CallDirection = "inbound" | "outbound";

export type OverCapRule = "allow" | "deny";

export interface OverCapPolicy {
  inboundOverCap: OverCapRule;
  outboundOverCap: OverCapRule;
}

/** Only relevant for hard-cap plans. */
export const DEFAULT_OVER_CAP_POLICY: OverCapPolicy = Object.freeze({
  inboundOverCap: "allow",
  outboundOverCap: "deny",
});

export interface CallAuthorizationInput {
  direction: CallDirection;
  /** Minutes already billed/recorded in the current period. */
  minutesUsed: number;
  /** Minutes held by calls currently in progress. */
  minutesReserved: number;
  minutesLimit: number;
  /** `true` when the plan bills overage; `false` for a hard cap. */
  overageAllowed: boolean;
  /**
   * Overage minutes the customer's spend cap pays for (`spendCapMinutes`), or null/absent for no cap. Only
   * read when `overageAllowed`.
   */
  spendCapMinutes?: number | null;
  /** Minutes to hold for this call (>= 1). */
  reserveMinutes: number;
  policy: OverCapPolicy;
  /** Whether the subscription grants access (see `grantsAccess`). */
  accessGranted: boolean;
  /** Whether the subscription is paused now (`isPausedAt`): denied whatever `accessGranted` says. */
  paused?: boolean;
  /** Whether the subscription is in its free trial (`isInTrial`): a hard stop at the included minutes. */
  trial?: boolean;
  agentActive: boolean;
}

export type CallDenialReason =
  | "NO_ACTIVE_SUBSCRIPTION"
  | "SUBSCRIPTION_PAUSED"
  | "AGENT_INACTIVE"
  | "MINUTES_EXHAUSTED"
  | "SPEND_CAP_REACHED"
  | "TRIAL_ALLOWANCE_REACHED"
  | "INVALID_REQUEST";

export type CallAuthorization =
  | { decision: "allow"; reserveMinutes: number; overCap: boolean; maxMinutes: number | null }
  | { decision: "deny"; reason: CallDenialReason; message: string };

function overCapRule(policy: OverCapPolicy, direction: CallDirection): OverCapRule {
  switch (direction) {
    case "inbound":
      return policy.inboundOverCap;
    case "outbound":
      return policy.outboundOverCap;
    default:
      return failClosed(direction, "deny");
  }
}

function isCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/**
 * The most a call may last, in whole minutes: on a hard-cap plan, for a direction the policy stops at the
 * cap, what is left of the included minutes once the minutes used and those held by *other* calls are
 * counted (never negative); null when nothing caps the call (an overage plan, or a direction the policy
 * lets through beyond the cap, whose minutes beyond it are recorded as over the cap and never billed).
 * Concurrent calls share what is left: each is told the most that is left when it starts.
 */
export function callMinutesAllowed(input: {
  direction: CallDirection;
  minutesUsed: number;
  /** Minutes held by other calls (not this one's reservation). */
  minutesReservedByOthers: number;
  minutesLimit: number;
  overageAllowed: boolean;
  /** Overage minutes a spend cap pays for (overage plans only); null/absent: no cap. */
  spendCapMinutes?: number | null;
  policy: OverCapPolicy;
  /** In a free trial: a hard stop at the included minutes. */
  trial?: boolean;
}): number | null {
  const cap = capOf(input);
  if (cap === null) return null;
  if (overCapRule(input.policy, input.direction) === "allow") return null;
  return Math.max(0, cap - input.minutesUsed - input.minutesReservedByOthers);
}

/**
 * The minutes at which calls stop: the limit (hard cap, or any plan in a trial), limit + budget (spend cap),
 * or null (no cap).
 */
function capOf(input: {
  minutesLimit: number;
  overageAllowed: boolean;
  spendCapMinutes?: number | null | undefined;
  trial?: boolean | undefined;
}): number | null {
  if (!input.overageAllowed || input.trial === true) return input.minutesLimit;
  const budget = input.spendCapMinutes ?? null;
  return budget === null ? null : input.minutesLimit + budget;
}

/** Decides whether a call may start and how many minutes to reserve for it. */
export function authorizeCall(input: CallAuthorizationInput): CallAuthorization {
  const { minutesUsed, minutesReserved, minutesLimit, reserveMinutes } = input;
  const budget = input.spendCapMinutes ?? null;
  if (
    ![minutesUsed, minutesReserved, minutesLimit].every(isCount) ||
    (budget !== null && !isCount(budget)) ||
    !isCount(reserveMinutes) ||
    reserveMinutes < 1
  ) {
    return {
      decision: "deny",
      reason: "INVALID_REQUEST",
      message: "Minute counts must be whole numbers and at least one minute must be reserved.",
    };
  }
  if (input.paused === true) {
    return {
      decision: "deny",
      reason: "SUBSCRIPTION_PAUSED",
      message: "Your subscription is paused: calls resume when it does.",
    };
  }
  if (!input.accessGranted) {
    return {
      decision: "deny",
      reason: "NO_ACTIVE_SUBSCRIPTION",
      message: "Calls require an active subscription.",
    };
  }
  if (!input.agentActive) {
    return { decision: "deny", reason: "AGENT_INACTIVE", message: "This agent is deactivated." };
  }
  const maxMinutes = callMinutesAllowed({
    direction: input.direction,
    minutesUsed,
    minutesReservedByOthers: minutesReserved,
    minutesLimit,
    overageAllowed: input.overageAllowed,
    spendCapMinutes: budget,
    policy: input.policy,
    trial: input.trial === true,
  });
  const cap = capOf(input);
  if (cap === null) {
    return { decision: "allow", reserveMinutes, overCap: false, maxMinutes };
  }
  if (minutesUsed + minutesReserved + reserveMinutes <= cap) {
    return { decision: "allow", reserveMinutes, overCap: false, maxMinutes };
  }
  const rule = overCapRule(input.policy, input.direction);
  const exhausted: CallAuthorization = input.trial
    ? {
        decision: "deny",
        reason: "TRIAL_ALLOWANCE_REACHED",
        message: `Your free trial's ${minutesLimit} included minutes are used up: outbound calls resume once the trial converts to a paid subscription.`,
      }
    : input.overageAllowed
      ? {
          decision: "deny",
          reason: "SPEND_CAP_REACHED",
          message:
            "Your overage budget for this billing period is used up: outbound calls are paused until the next period or until you raise the budget.",
        }
      : {
          decision: "deny",
          reason: "MINUTES_EXHAUSTED",
          message: `Your plan's ${minutesLimit} included minutes are used up for this billing period.`,
        };
  switch (rule) {
    case "allow":
      return { decision: "allow", reserveMinutes, overCap: true, maxMinutes };
    case "deny":
      return exhausted;
    default:
      return failClosed(rule, exhausted);
  }
}
