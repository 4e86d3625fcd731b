import { describe, expect, it } from "vitest";
import { money } from "./money";
import {
  type ActionCheck,
  type ActionTarget,
  checkAction,
  classifyPlanChange,
  planOptions,
  type SubscriptionAction,
  type SubscriptionSnapshot,
} from "./subscription-machine";
import { SUBSCRIPTION_STATUSES } from "./subscription-status";

const starter: ActionTarget = { name: "Starter", monthlyPrice: money(2900, "usd"), active: true };
const pro: ActionTarget = { name: "Pro", monthlyPrice: money(9900, "usd"), active: true };
const enterprise: ActionTarget = { name: "Enterprise", monthlyPrice: money(29900, "usd"), active: true };
const proTwin: ActionTarget = { name: "Pro Plus", monthlyPrice: money(9900, "usd"), active: true };
const legacy: ActionTarget = { name: "Legacy", monthlyPrice: money(50000, "usd"), active: false };

const periodEnd = new Date("2025-02-01T00:00:00Z");

function onPro(overrides: Partial<SubscriptionSnapshot> = {}): SubscriptionSnapshot {
  return {
    status: "active",
    planPrice: pro.monthlyPrice,
    planName: "Pro",
    cancelAtPeriodEnd: false,
    scheduledChange: null,
    currentPeriodEnd: periodEnd,
    ...overrides,
  };
}

const NONE: SubscriptionSnapshot = {
  status: "none",
  planPrice: null,
  cancelAtPeriodEnd: false,
  scheduledChange: null,
  currentPeriodEnd: null,
};

function code(check: ActionCheck): string {
  return check.ok ? "OK" : check.code;
}

describe("subscribe", () => {
  it.each(["none", "canceled", "incomplete_expired"] as const)("is allowed from %s", (status) => {
    expect(checkAction({ ...NONE, status }, "subscribe", starter)).toEqual({ ok: true });
  });

  it.each(["active", "trialing", "past_due"] as const)("is ALREADY_SUBSCRIBED when %s", (status) => {
    expect(code(checkAction(onPro({ status }), "subscribe", enterprise))).toBe("ALREADY_SUBSCRIBED");
  });

  it.each(["incomplete", "unpaid", "paused"] as const)("asks for payment when %s", (status) => {
    expect(code(checkAction(onPro({ status }), "subscribe", enterprise))).toBe("PAYMENT_REQUIRED");
  });

  it("rejects archived plans and a missing target", () => {
    expect(code(checkAction(NONE, "subscribe", legacy))).toBe("PLAN_ARCHIVED");
    expect(code(checkAction(NONE, "subscribe"))).toBe("TARGET_REQUIRED");
  });

  it("fails closed on an unknown status", () => {
    expect(code(checkAction({ ...NONE, status: "unknown" }, "subscribe", starter))).toBe("STATUS_UNKNOWN");
  });

  it("only allows subscribing when no status grants access", () => {
    const allowed = SUBSCRIPTION_STATUSES.filter(
      (status) => checkAction(onPro({ status }), "subscribe", starter).ok,
    );
    expect(allowed).toEqual(["incomplete_expired", "canceled"]);
  });
});

describe("upgrade / downgrade", () => {
  it("upgrades to a strictly more expensive plan", () => {
    expect(checkAction(onPro(), "upgrade", enterprise)).toEqual({ ok: true });
    expect(checkAction(onPro({ status: "trialing" }), "upgrade", enterprise)).toEqual({ ok: true });
    expect(code(checkAction(onPro(), "upgrade", starter))).toBe("NOT_AN_UPGRADE");
  });

  it("downgrades to a strictly cheaper plan", () => {
    expect(checkAction(onPro(), "downgrade", starter)).toEqual({ ok: true });
    expect(code(checkAction(onPro(), "downgrade", enterprise))).toBe("NOT_A_DOWNGRADE");
  });

  it("treats the same plan and same-price plans as neither", () => {
    expect(code(checkAction(onPro(), "upgrade", pro))).toBe("SAME_PLAN");
    expect(code(checkAction(onPro(), "downgrade", { ...pro, name: " pro " }))).toBe("SAME_PLAN");
    expect(code(checkAction(onPro(), "upgrade", proTwin))).toBe("SAME_PRICE");
    expect(code(checkAction(onPro(), "downgrade", proTwin))).toBe("SAME_PRICE");
    // Without a plan name the same plan is recognised by price.
    expect(code(checkAction(onPro({ planName: null }), "upgrade", pro))).toBe("SAME_PRICE");
  });

  it("rejects archived targets", () => {
    expect(code(checkAction(onPro(), "upgrade", legacy))).toBe("PLAN_ARCHIVED");
    expect(code(checkAction(onPro(), "downgrade", { ...starter, active: false }))).toBe("PLAN_ARCHIVED");
  });

  it("requires resuming a pending cancellation first", () => {
    const check = checkAction(onPro({ cancelAtPeriodEnd: true }), "upgrade", enterprise);
    expect(code(check)).toBe("CANCELLATION_PENDING");
    expect(check.ok ? "" : check.message).toMatch(/resume/i);
    expect(code(checkAction(onPro({ cancelAtPeriodEnd: true }), "downgrade", starter))).toBe(
      "CANCELLATION_PENDING",
    );
  });

  it("requires cancelling an already scheduled change first", () => {
    const snapshot = onPro({ scheduledChange: { toPlanName: "Starter", effectiveAt: periodEnd } });
    const check = checkAction(snapshot, "upgrade", enterprise);
    expect(code(check)).toBe("CHANGE_ALREADY_SCHEDULED");
    expect(check.ok ? "" : check.message).toContain("Starter");
  });

  it.each(["past_due", "unpaid", "incomplete", "paused"] as const)("asks for payment when %s", (status) => {
    expect(code(checkAction(onPro({ status }), "upgrade", enterprise))).toBe("PAYMENT_REQUIRED");
    expect(code(checkAction(onPro({ status }), "downgrade", starter))).toBe("PAYMENT_REQUIRED");
  });

  it.each(["none", "canceled", "incomplete_expired"] as const)("has no subscription when %s", (status) => {
    expect(code(checkAction({ ...NONE, status }, "upgrade", enterprise))).toBe("NO_SUBSCRIPTION");
    expect(code(checkAction({ ...NONE, status }, "downgrade", starter))).toBe("NO_SUBSCRIPTION");
  });

  it("fails closed on unknown status, unknown price and currency mismatch", () => {
    expect(code(checkAction(onPro({ status: "unknown" }), "upgrade", enterprise))).toBe("STATUS_UNKNOWN");
    expect(code(checkAction(onPro({ planPrice: null }), "upgrade", enterprise))).toBe("CURRENT_PLAN_UNKNOWN");
    const euro = { ...enterprise, monthlyPrice: money(29900, "eur") };
    expect(code(checkAction(onPro(), "upgrade", euro))).toBe("CURRENCY_MISMATCH");
    expect(code(checkAction(onPro(), "upgrade"))).toBe("TARGET_REQUIRED");
  });
});

describe("cancel / resume / cancel_scheduled_change", () => {
  it("cancels once", () => {
    expect(checkAction(onPro(), "cancel")).toEqual({ ok: true });
    expect(code(checkAction(onPro({ cancelAtPeriodEnd: true }), "cancel"))).toBe("ALREADY_CANCELLING");
  });

  it("allows cancelling while payment is outstanding or a change is scheduled", () => {
    expect(checkAction(onPro({ status: "past_due" }), "cancel")).toEqual({ ok: true });
    expect(checkAction(onPro({ status: "unpaid" }), "cancel")).toEqual({ ok: true });
    const scheduled = onPro({ scheduledChange: { toPlanName: "Starter", effectiveAt: periodEnd } });
    expect(checkAction(scheduled, "cancel")).toEqual({ ok: true });
  });

  it("resumes only a pending cancellation", () => {
    expect(checkAction(onPro({ cancelAtPeriodEnd: true }), "resume")).toEqual({ ok: true });
    expect(code(checkAction(onPro(), "resume"))).toBe("NOT_CANCELLING");
  });

  it("cancels only an existing scheduled change", () => {
    const scheduled = onPro({ scheduledChange: { toPlanName: "Starter", effectiveAt: periodEnd } });
    expect(checkAction(scheduled, "cancel_scheduled_change")).toEqual({ ok: true });
    expect(code(checkAction(onPro(), "cancel_scheduled_change"))).toBe("NO_SCHEDULED_CHANGE");
  });

  it.each(["cancel", "resume", "cancel_scheduled_change"] as const)(
    "%s needs a live subscription and a known status",
    (action: SubscriptionAction) => {
      expect(code(checkAction(NONE, action))).toBe("NO_SUBSCRIPTION");
      expect(code(checkAction({ ...NONE, status: "canceled" }, action))).toBe("NO_SUBSCRIPTION");
      expect(code(checkAction(onPro({ status: "unknown", cancelAtPeriodEnd: true }), action))).toBe(
        "STATUS_UNKNOWN",
      );
    },
  );

  it("rejects unsupported actions at runtime", () => {
    expect(code(checkAction(onPro(), "delete" as SubscriptionAction))).toBe("INVALID_ACTION");
  });

  it("always explains a denial", () => {
    const actions: SubscriptionAction[] = ["subscribe", "upgrade", "downgrade", "cancel", "resume"];
    for (const action of actions) {
      const result = checkAction(NONE, action);
      expect(result.ok).toBe(false);
      expect(result.ok ? "" : result.message.length).toBeGreaterThan(5);
    }
  });
});

describe("classifyPlanChange", () => {
  it("compares monthly prices", () => {
    expect(classifyPlanChange(pro.monthlyPrice, enterprise.monthlyPrice)).toBe("upgrade");
    expect(classifyPlanChange(pro.monthlyPrice, starter.monthlyPrice)).toBe("downgrade");
    expect(classifyPlanChange(pro.monthlyPrice, proTwin.monthlyPrice)).toBe("same_price");
    expect(() => classifyPlanChange(pro.monthlyPrice, money(1, "gbp"))).toThrow(RangeError);
  });
});

describe("planOptions", () => {
  it("offers subscribe for every plan without a subscription", () => {
    expect(
      planOptions(NONE, [starter, pro, legacy]).map((o) => [o.planName, o.action, code(o.check)]),
    ).toEqual([
      ["Starter", "subscribe", "OK"],
      ["Pro", "subscribe", "OK"],
      ["Legacy", "subscribe", "PLAN_ARCHIVED"],
    ]);
  });

  it("marks the current plan and classifies the others", () => {
    expect(
      planOptions(onPro(), [starter, pro, proTwin, enterprise]).map((o) => [
        o.planName,
        o.action,
        code(o.check),
      ]),
    ).toEqual([
      ["Starter", "downgrade", "OK"],
      ["Pro", "current", "OK"],
      ["Pro Plus", "downgrade", "SAME_PRICE"],
      ["Enterprise", "upgrade", "OK"],
    ]);
  });

  it("propagates blocking states", () => {
    const options = planOptions(onPro({ cancelAtPeriodEnd: true }), [starter, enterprise]);
    expect(options.map((o) => code(o.check))).toEqual(["CANCELLATION_PENDING", "CANCELLATION_PENDING"]);
  });
});
