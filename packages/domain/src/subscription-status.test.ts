import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AccountSubscriptionStatus,
  countsTowardsMrr,
  currentSubscriptionOf,
  grantsAccess,
  isLiveSubscription,
  isSubscriptionStatus,
  mapStripeSubscriptionStatus,
  needsPaymentAttention,
  SUBSCRIPTION_STATUSES,
  statusLabel,
} from "./subscription-status";

const ALL: AccountSubscriptionStatus[] = [...SUBSCRIPTION_STATUSES, "unknown", "none"];

describe("mapStripeSubscriptionStatus", () => {
  it("maps every Stripe status to itself", () => {
    for (const status of SUBSCRIPTION_STATUSES) {
      expect(mapStripeSubscriptionStatus(status)).toBe(status);
    }
  });

  it.each(["", "ACTIVE", " active", "ended", "deleted", "none", "unknown", "__proto__", "toString"])(
    "fails closed for %j",
    (status) => {
      expect(mapStripeSubscriptionStatus(status)).toBe("unknown");
    },
  );

  it("never grants access for unrecognised strings", () => {
    fc.assert(
      fc.property(fc.string(), (status) => {
        const mapped = mapStripeSubscriptionStatus(status);
        if (!(SUBSCRIPTION_STATUSES as readonly string[]).includes(status)) {
          expect(mapped).toBe("unknown");
          expect(grantsAccess(mapped)).toBe(false);
        }
      }),
    );
  });

  it("lists exactly the eight Stripe statuses", () => {
    expect([...SUBSCRIPTION_STATUSES].sort()).toEqual(
      [
        "active",
        "canceled",
        "incomplete",
        "incomplete_expired",
        "past_due",
        "paused",
        "trialing",
        "unpaid",
      ].sort(),
    );
    expect(isSubscriptionStatus("active")).toBe(true);
    expect(isSubscriptionStatus(3)).toBe(false);
  });
});

describe("grantsAccess", () => {
  it("counts only active and past_due towards MRR: a trial pays nothing yet, an unknown status nothing", () => {
    const all = [...SUBSCRIPTION_STATUSES, "unknown", "none"] as const;
    expect(all.filter((s) => countsTowardsMrr(s)).sort()).toEqual(["active", "past_due"]);
  });

  it("grants access only to active, trialing and past_due", () => {
    const granted = ALL.filter((status) => grantsAccess(status));
    expect(granted.sort()).toEqual(["active", "past_due", "trialing"]);
  });

  it("fails closed for values outside the union at runtime", () => {
    expect(grantsAccess("ACTIVE" as AccountSubscriptionStatus)).toBe(false);
    expect(needsPaymentAttention("bogus" as AccountSubscriptionStatus)).toBe(false);
    expect(isLiveSubscription("bogus" as AccountSubscriptionStatus)).toBe(false);
    expect(statusLabel("bogus" as AccountSubscriptionStatus)).toBe("Unknown");
  });
});

describe("needsPaymentAttention", () => {
  it("flags past_due, unpaid and incomplete", () => {
    expect(ALL.filter((status) => needsPaymentAttention(status)).sort()).toEqual([
      "incomplete",
      "past_due",
      "unpaid",
    ]);
  });
});

describe("isLiveSubscription", () => {
  it("excludes terminal, missing and unknown states", () => {
    expect(ALL.filter((status) => !isLiveSubscription(status)).sort()).toEqual([
      "canceled",
      "incomplete_expired",
      "none",
      "unknown",
    ]);
  });
});

describe("currentSubscriptionOf", () => {
  const sub = (id: string, status: AccountSubscriptionStatus) => ({ id, status });

  it("prefers access, then something to fix, then the newest", () => {
    expect(currentSubscriptionOf([])).toBeNull();
    expect(currentSubscriptionOf([sub("new", "incomplete"), sub("old", "active")])?.id).toBe("old");
    expect(currentSubscriptionOf([sub("new", "canceled"), sub("old", "unpaid")])?.id).toBe("old");
    expect(currentSubscriptionOf([sub("new", "canceled"), sub("old", "incomplete_expired")])?.id).toBe("new");
    expect(currentSubscriptionOf([sub("new", "unknown"), sub("old", "canceled")])?.id).toBe("new");
  });

  it("returns the newest subscription of the best kind present", () => {
    const statuses = fc.constantFrom(...ALL);
    fc.assert(
      fc.property(fc.array(statuses, { maxLength: 8 }), (list) => {
        const subs = list.map((status, index) => sub(String(index), status));
        const chosen = currentSubscriptionOf(subs);
        if (subs.length === 0) return chosen === null;
        const rank = (s: AccountSubscriptionStatus) => (grantsAccess(s) ? 2 : isLiveSubscription(s) ? 1 : 0);
        const best = Math.max(...subs.map((s) => rank(s.status)));
        return (
          chosen !== null &&
          rank(chosen.status) === best &&
          subs.find((s) => rank(s.status) === best) === chosen
        );
      }),
    );
  });
});

describe("statusLabel", () => {
  it("labels every status distinctly", () => {
    const labels = ALL.map(statusLabel);
    expect(new Set(labels).size).toBe(ALL.length);
    expect(statusLabel("past_due")).toBe("Past due");
    expect(statusLabel("trialing")).toBe("Trial");
    expect(statusLabel("none")).toBe("No subscription");
    expect(statusLabel("unknown")).toBe("Unknown");
  });
});
