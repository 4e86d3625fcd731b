import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  advance,
  assertValidSchedule,
  DEFAULT_DUNNING_SCHEDULE,
  DUNNING_OK,
  type DunningEffect,
  type DunningState,
  dunningAllowsAccess,
  isRetryDue,
  recordPaymentFailed,
  recordPaymentSucceeded,
  startDunning,
  suspensionDate,
} from "./dunning";
import { MS_PER_DAY, MS_PER_HOUR } from "./time";

const T0 = new Date("2025-03-10T12:00:00Z");
const at = (days: number) => new Date(T0.getTime() + days * MS_PER_DAY);

describe("startDunning", () => {
  it("starts retrying with the first retry one day later", () => {
    expect(startDunning(T0)).toEqual({
      stage: "retrying",
      failedAt: T0,
      attempt: 1,
      nextRetryAt: at(1),
      notifiedAttempt: 0,
    });
  });

  it("copies the date instead of keeping a reference", () => {
    const failedAt = new Date(T0);
    const state = startDunning(failedAt);
    failedAt.setUTCFullYear(2000);
    expect(state.stage === "retrying" && state.failedAt.getTime()).toBe(T0.getTime());
  });

  it("rejects invalid dates", () => {
    expect(() => startDunning(new Date(Number.NaN))).toThrow(RangeError);
    expect(() => advance(startDunning(T0), new Date("nope"))).toThrow(RangeError);
  });
});

describe("the default schedule", () => {
  it("retries at +1d, +3d, +5d, sends the final notice when the last retry fails and suspends at +7d", () => {
    let state = startDunning(T0);
    const effects: [number, DunningEffect[]][] = [];
    const step = (days: number) => {
      const result = advance(state, at(days));
      state = result.state;
      effects.push([days, result.effects]);
    };

    step(0);
    expect(isRetryDue(state, at(0.5))).toBe(false);
    expect(isRetryDue(state, at(1))).toBe(true);
    state = recordPaymentFailed(state, at(1));
    expect(state).toMatchObject({ stage: "retrying", attempt: 2, nextRetryAt: at(3) });
    step(1);
    state = recordPaymentFailed(state, at(3));
    expect(state).toMatchObject({ stage: "retrying", attempt: 3, nextRetryAt: at(5) });
    step(3);
    step(4);
    state = recordPaymentFailed(state, at(5));
    expect(state).toMatchObject({ stage: "final_notice", attempt: 4, suspendAt: at(7), noticeSent: false });
    step(5);
    step(6.9);
    expect(dunningAllowsAccess(state)).toBe(true);
    step(7);
    expect(state).toEqual({ stage: "suspended", failedAt: T0, attempt: 4, since: at(7) });
    expect(dunningAllowsAccess(state)).toBe(false);
    step(8);

    expect(effects).toEqual([
      [0, ["notify_payment_failed"]],
      [1, ["notify_payment_failed"]],
      [3, ["notify_payment_failed"]],
      [4, []],
      [5, ["notify_final_notice"]],
      [6.9, []],
      [7, ["suspend_access"]],
      [8, []],
    ]);
  });

  it("sends the final notice at +6d even when retry failures were never reported", () => {
    const first = advance(startDunning(T0), at(0));
    expect(first.effects).toEqual(["notify_payment_failed"]);
    expect(advance(first.state, at(5.99)).effects).toEqual([]);
    const notice = advance(first.state, at(6));
    expect(notice.effects).toEqual(["notify_final_notice"]);
    expect(notice.state).toMatchObject({ stage: "final_notice", suspendAt: at(7), noticeSent: true });
    expect(advance(notice.state, at(7)).effects).toEqual(["suspend_access"]);
  });

  it("skips stale notices when jumping straight to suspension", () => {
    const result = advance(startDunning(T0), at(10));
    expect(result.effects).toEqual(["suspend_access"]);
    expect(result.state).toMatchObject({ stage: "suspended", since: at(10) });
  });

  it("is idempotent for the same now (and for an earlier now)", () => {
    const states: DunningState[] = [
      startDunning(T0),
      recordPaymentFailed(startDunning(T0), at(1)),
      recordPaymentFailed(recordPaymentFailed(recordPaymentFailed(startDunning(T0), at(1)), at(3)), at(5)),
    ];
    for (const initial of states) {
      for (const days of [0, 2, 5.5, 6, 7, 9]) {
        const once = advance(initial, at(days));
        const twice = advance(once.state, at(days));
        expect(twice.effects).toEqual([]);
        expect(twice.state).toBe(once.state);
        expect(advance(once.state, at(days - 0.5)).effects).toEqual([]);
      }
    }
  });
});

describe("payment outcomes", () => {
  it("a success ends dunning from every stage", () => {
    const retrying = startDunning(T0);
    const final = advance(retrying, at(6)).state;
    const suspended = advance(retrying, at(7)).state;
    for (const state of [DUNNING_OK, retrying, final, suspended]) {
      expect(recordPaymentSucceeded(state)).toEqual({ stage: "ok" });
    }
    expect(advance(DUNNING_OK, at(100))).toEqual({ state: DUNNING_OK, effects: [] });
  });

  it("a failure from ok starts a new cycle at that time", () => {
    const later = at(40);
    expect(recordPaymentFailed(DUNNING_OK, later)).toMatchObject({
      stage: "retrying",
      failedAt: later,
      attempt: 1,
    });
  });

  it("later failures only count attempts", () => {
    const final = recordPaymentFailed(
      recordPaymentFailed(recordPaymentFailed(startDunning(T0), at(1)), at(3)),
      at(5),
    );
    expect(recordPaymentFailed(final, at(6))).toMatchObject({ stage: "final_notice", attempt: 5 });
    const suspended = advance(final, at(7)).state;
    expect(recordPaymentFailed(suspended, at(8))).toMatchObject({
      stage: "suspended",
      attempt: 5,
      since: at(7),
    });
  });

  it("reports the suspension date", () => {
    expect(suspensionDate(DUNNING_OK)).toBeNull();
    expect(suspensionDate(startDunning(T0))).toEqual(at(7));
    expect(suspensionDate(advance(startDunning(T0), at(6)).state)).toEqual(at(7));
    expect(suspensionDate(advance(startDunning(T0), at(9)).state)).toEqual(at(9));
  });
});

describe("custom schedules", () => {
  it("goes straight to the final notice without retries", () => {
    const schedule = { retryAfterDays: [], finalNoticeAfterDays: 0, suspendAfterDays: 2 };
    const state = startDunning(T0, schedule);
    expect(state).toMatchObject({ stage: "final_notice", suspendAt: at(2), noticeSent: false });
    expect(advance(state, T0, schedule).effects).toEqual(["notify_final_notice"]);
  });

  it.each([
    { retryAfterDays: [3, 1], finalNoticeAfterDays: 6, suspendAfterDays: 7 },
    { retryAfterDays: [0], finalNoticeAfterDays: 6, suspendAfterDays: 7 },
    { retryAfterDays: [1, 3, 5], finalNoticeAfterDays: 4, suspendAfterDays: 7 },
    { retryAfterDays: [1, 3, 5], finalNoticeAfterDays: 6, suspendAfterDays: 6 },
    { retryAfterDays: [1], finalNoticeAfterDays: Number.NaN, suspendAfterDays: 7 },
  ])("rejects inconsistent schedule %j", (schedule) => {
    expect(() => assertValidSchedule(schedule)).toThrow(RangeError);
    expect(() => startDunning(T0, schedule)).toThrow(RangeError);
  });

  it("accepts the default schedule", () => {
    expect(() => assertValidSchedule(DEFAULT_DUNNING_SCHEDULE)).not.toThrow();
  });
});

describe("properties", () => {
  type Op = { kind: "advance"; hours: number } | { kind: "fail" };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant("advance" as const), hours: fc.integer({ min: 0, max: 60 }) }),
    fc.record({ kind: fc.constant("fail" as const) }),
  );

  it("suspends exactly at +7d, never earlier, and emits each terminal effect at most once", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
        let state = startDunning(T0);
        let now = T0.getTime();
        const seen: DunningEffect[] = [];
        for (const op of ops) {
          if (op.kind === "fail") {
            state = recordPaymentFailed(state, new Date(now));
            continue;
          }
          now += op.hours * MS_PER_HOUR;
          const { state: next, effects } = advance(state, new Date(now));
          seen.push(...effects);
          state = next;
          expect(state.stage === "suspended").toBe(now >= at(7).getTime());
          // Advancing again at the same instant never produces anything new.
          expect(advance(state, new Date(now)).effects).toEqual([]);
        }
        expect(seen.filter((e) => e === "suspend_access").length).toBeLessThanOrEqual(1);
        expect(seen.filter((e) => e === "notify_final_notice").length).toBeLessThanOrEqual(1);
        expect(seen.filter((e) => e === "notify_payment_failed").length).toBeLessThanOrEqual(3);
        if (seen.includes("suspend_access")) {
          expect(seen.at(-1)).toBe("suspend_access");
        }
      }),
    );
  });
});
