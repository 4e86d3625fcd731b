import { describe, expect, it } from "vitest";
import {
  isInTrial,
  planTrialOf,
  TRIAL_LIMITS,
  trialDaysLeft,
  trialEligibility,
  trialEndingSoon,
  trialPlanChange,
  trialSummary,
  validateTrial,
} from "./trials";

const DAY = 86_400_000;

describe("validateTrial", () => {
  it("accepts no trial, and whole days within the limits", () => {
    expect(validateTrial({ trialDays: null, trialRequiresCard: undefined })).toEqual([]);
    expect(validateTrial({ trialDays: undefined, trialRequiresCard: true })).toEqual([]);
    expect(validateTrial({ trialDays: TRIAL_LIMITS.minDays, trialRequiresCard: false })).toEqual([]);
    expect(validateTrial({ trialDays: TRIAL_LIMITS.maxDays, trialRequiresCard: true })).toEqual([]);
  });

  it("refuses days out of range or not whole, naming the field", () => {
    for (const trialDays of [0, -1, 91, 365, 1.5]) {
      expect(validateTrial({ trialDays, trialRequiresCard: true })).toMatchObject([{ field: "trialDays" }]);
    }
  });

  it("refuses wrong JSON types instead of coercing them", () => {
    expect(validateTrial({ trialDays: "14", trialRequiresCard: true })).toMatchObject([
      { field: "trialDays" },
    ]);
    expect(validateTrial({ trialDays: true, trialRequiresCard: true })).toMatchObject([
      { field: "trialDays" },
    ]);
    expect(validateTrial({ trialDays: 14, trialRequiresCard: "false" })).toMatchObject([
      { field: "trialRequiresCard" },
    ]);
    expect(validateTrial({ trialDays: 14, trialRequiresCard: null })).toMatchObject([
      { field: "trialRequiresCard" },
    ]);
  });
});

describe("trialEligibility", () => {
  const trial = { days: 14, requiresCard: false };

  it("grants the package's trial to an account that never had one", () => {
    expect(trialEligibility({ trial, accountHadTrial: false })).toEqual({ eligible: true, trial });
  });

  it("refuses a second trial for the account, ever, and a card that had a trial elsewhere", () => {
    expect(trialEligibility({ trial, accountHadTrial: true })).toMatchObject({
      eligible: false,
      reason: "ACCOUNT_HAD_TRIAL",
    });
    expect(trialEligibility({ trial, accountHadTrial: false, cardHadTrialElsewhere: true })).toMatchObject({
      eligible: false,
      reason: "CARD_HAD_TRIAL",
    });
    expect(trialEligibility({ trial: null, accountHadTrial: false })).toMatchObject({
      reason: "NO_TRIAL_OFFERED",
    });
  });
});

describe("trial dates", () => {
  const end = new Date("2026-12-15T00:00:00Z");

  it("is in trial only while trialing and before the end", () => {
    expect(isInTrial("trialing", end, new Date(end.getTime() - 1))).toBe(true);
    expect(isInTrial("trialing", end, end)).toBe(false);
    expect(isInTrial("active", end, new Date(end.getTime() - DAY))).toBe(false);
  });

  it("counts days left rounded up and warns in the last 3 days", () => {
    expect(trialDaysLeft(end, new Date(end.getTime() - 2.5 * DAY))).toBe(3);
    expect(trialDaysLeft(end, end)).toBe(0);
    expect(trialEndingSoon(end, new Date(end.getTime() - 3 * DAY))).toBe(true);
    expect(trialEndingSoon(end, new Date(end.getTime() - 3 * DAY - 1))).toBe(false);
    expect(trialEndingSoon(end, end)).toBe(false);
  });

  it("reads a package's columns and says it for people", () => {
    expect(planTrialOf({ trialDays: null, trialRequiresCard: true })).toBeNull();
    expect(planTrialOf({ trialDays: 7, trialRequiresCard: true })).toEqual({ days: 7, requiresCard: true });
    expect(trialSummary({ days: 14, requiresCard: false })).toBe("14-day free trial, no card required");
    expect(trialSummary({ days: 7, requiresCard: true })).toBe("7-day free trial");
  });

  it("upgrades at once, without proration, during a trial only", () => {
    expect(trialPlanChange(true)).toEqual({ immediate: true, prorate: false });
    expect(trialPlanChange(false)).toBeNull();
  });
});
