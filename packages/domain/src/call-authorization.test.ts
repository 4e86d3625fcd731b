import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  authorizeCall,
  type CallAuthorizationInput,
  type CallDirection,
  DEFAULT_OVER_CAP_POLICY,
  type OverCapPolicy,
} from "./call-authorization";

function input(overrides: Partial<CallAuthorizationInput> = {}): CallAuthorizationInput {
  return {
    direction: "outbound",
    minutesUsed: 100,
    minutesReserved: 0,
    minutesLimit: 1000,
    overageAllowed: false,
    reserveMinutes: 5,
    policy: DEFAULT_OVER_CAP_POLICY,
    accessGranted: true,
    agentActive: true,
    ...overrides,
  };
}

describe("authorizeCall", () => {
  it("denies every call of a paused subscription with SUBSCRIPTION_PAUSED, even with minutes and access left", () => {
    for (const overrides of [{}, { overageAllowed: true }, { direction: "inbound" as const }]) {
      expect(authorizeCall(input({ ...overrides, paused: true }))).toMatchObject({
        decision: "deny",
        reason: "SUBSCRIPTION_PAUSED",
      });
    }
    // A Stripe status `paused` grants no access either: the pause is named, not "no subscription".
    expect(authorizeCall(input({ paused: true, accessGranted: false }))).toMatchObject({
      reason: "SUBSCRIPTION_PAUSED",
    });
    expect(authorizeCall(input({ paused: false }))).toMatchObject({ decision: "allow" });
  });

  it("stops a trial at its allowance: no overage, outbound denied TRIAL_ALLOWANCE_REACHED, a budget changes nothing", () => {
    // An overage package in its trial: 998 of 1,000 minutes, a 5-minute reservation no longer fits.
    for (const overrides of [{ overageAllowed: true }, { overageAllowed: true, spendCapMinutes: 500 }, {}]) {
      expect(authorizeCall(input({ ...overrides, trial: true, minutesUsed: 998 }))).toMatchObject({
        decision: "deny",
        reason: "TRIAL_ALLOWANCE_REACHED",
      });
      // Within the allowance a trial call is capped at what is left.
      expect(authorizeCall(input({ ...overrides, trial: true, minutesUsed: 990 }))).toMatchObject({
        decision: "allow",
        maxMinutes: 10,
      });
    }
    // Inbound calls follow the over-cap policy (answered, recorded over the cap, never billed).
    expect(
      authorizeCall(input({ overageAllowed: true, trial: true, minutesUsed: 998, direction: "inbound" })),
    ).toMatchObject({ decision: "allow", overCap: true });
    // The same package after the trial bills the overage.
    expect(authorizeCall(input({ overageAllowed: true, minutesUsed: 998 }))).toMatchObject({
      decision: "allow",
      maxMinutes: null,
    });
  });

  it("allows calls within the cap and reserves the requested minutes", () => {
    expect(authorizeCall(input())).toEqual({
      decision: "allow",
      reserveMinutes: 5,
      overCap: false,
      maxMinutes: 900,
    });
  });

  it("says how long a call may last: what is left of a hard cap, or null when nothing caps it", () => {
    // Starter at 990 of 1,000 minutes: a 120-minute outbound call must end after 10.
    expect(authorizeCall(input({ minutesUsed: 990 }))).toMatchObject({ decision: "allow", maxMinutes: 10 });
    // Other calls' reservations are theirs: 980 used and 5 held by another call leave 15.
    expect(authorizeCall(input({ minutesUsed: 980, minutesReserved: 5 }))).toMatchObject({ maxMinutes: 15 });
    // Inbound calls are answered beyond the cap (recorded as over the cap, never billed): not capped.
    expect(authorizeCall(input({ minutesUsed: 990, direction: "inbound" }))).toMatchObject({
      maxMinutes: null,
    });
    expect(authorizeCall(input({ minutesUsed: 990, overageAllowed: true }))).toMatchObject({
      maxMinutes: null,
    });
  });

  it("counts in-flight reservations against a hard cap, inclusive of the limit", () => {
    expect(authorizeCall(input({ minutesUsed: 990, minutesReserved: 5, reserveMinutes: 5 })).decision).toBe(
      "allow",
    );
    expect(authorizeCall(input({ minutesUsed: 990, minutesReserved: 6, reserveMinutes: 5 }))).toMatchObject({
      decision: "deny",
      reason: "MINUTES_EXHAUSTED",
    });
    expect(authorizeCall(input({ minutesUsed: 998, reserveMinutes: 5 }))).toMatchObject({
      decision: "deny",
      reason: "MINUTES_EXHAUSTED",
    });
  });

  it("applies the default over-cap policy: inbound allowed, outbound denied", () => {
    const exhausted = { minutesUsed: 1000 };
    expect(authorizeCall(input({ ...exhausted, direction: "inbound" }))).toEqual({
      decision: "allow",
      reserveMinutes: 5,
      overCap: true,
      maxMinutes: null,
    });
    const denied = authorizeCall(input({ ...exhausted, direction: "outbound" }));
    expect(denied).toMatchObject({ decision: "deny", reason: "MINUTES_EXHAUSTED" });
    expect(denied.decision === "deny" && denied.message).toContain("1000");
  });

  it("honours custom policies", () => {
    const strict: OverCapPolicy = { inboundOverCap: "deny", outboundOverCap: "deny" };
    const lenient: OverCapPolicy = { inboundOverCap: "allow", outboundOverCap: "allow" };
    expect(authorizeCall(input({ minutesUsed: 1000, direction: "inbound", policy: strict })).decision).toBe(
      "deny",
    );
    expect(authorizeCall(input({ minutesUsed: 1000, direction: "outbound", policy: lenient })).decision).toBe(
      "allow",
    );
  });

  it("always allows plans with overage while access is granted", () => {
    expect(authorizeCall(input({ minutesUsed: 50_000, overageAllowed: true }))).toEqual({
      decision: "allow",
      reserveMinutes: 5,
      overCap: false,
      maxMinutes: null,
    });
  });

  it("requires an access-granting subscription before anything else", () => {
    expect(
      authorizeCall(input({ accessGranted: false, agentActive: false, overageAllowed: true })),
    ).toMatchObject({
      decision: "deny",
      reason: "NO_ACTIVE_SUBSCRIPTION",
    });
  });

  it("requires an active agent", () => {
    expect(authorizeCall(input({ agentActive: false, direction: "inbound" }))).toMatchObject({
      decision: "deny",
      reason: "AGENT_INACTIVE",
    });
  });

  it.each([
    { reserveMinutes: 0 },
    { reserveMinutes: 1.5 },
    { minutesUsed: -1 },
    { minutesReserved: Number.NaN },
    { minutesLimit: Number.POSITIVE_INFINITY },
  ])("rejects invalid request %j", (overrides) => {
    expect(authorizeCall(input(overrides))).toMatchObject({ decision: "deny", reason: "INVALID_REQUEST" });
  });

  it("denies on a zero-minute hard-cap plan for outbound calls", () => {
    expect(authorizeCall(input({ minutesUsed: 0, minutesLimit: 0, reserveMinutes: 1 })).decision).toBe(
      "deny",
    );
  });

  it("fails closed on unexpected runtime values", () => {
    const bogusDirection = input({ minutesUsed: 1000, direction: "sideways" as CallDirection });
    expect(authorizeCall(bogusDirection).decision).toBe("deny");
    const bogusPolicy = { inboundOverCap: "maybe", outboundOverCap: "maybe" } as unknown as OverCapPolicy;
    expect(
      authorizeCall(input({ minutesUsed: 1000, direction: "inbound", policy: bogusPolicy })).decision,
    ).toBe("deny");
  });

  it("never lets an outbound hard-cap call start past the limit under the default policy", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 1, max: 60 }),
        (used, reserved, limit, reserve) => {
          const result = authorizeCall(
            input({
              minutesUsed: used,
              minutesReserved: reserved,
              minutesLimit: limit,
              reserveMinutes: reserve,
            }),
          );
          expect(result.decision === "allow").toBe(used + reserved + reserve <= limit);
          if (result.decision === "allow") {
            expect(result.reserveMinutes).toBe(reserve);
            expect(result.overCap).toBe(false);
          }
        },
      ),
    );
  });
});
