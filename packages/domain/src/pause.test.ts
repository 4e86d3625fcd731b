import { describe, expect, it } from "vitest";
import {
  checkPause,
  checkResumePause,
  isPausedAt,
  isPausePeriods,
  liftedSpanEnd,
  type PauseSnapshot,
  type PauseState,
  pauseInForce,
  pauseSpanAt,
  pauseSpanOf,
  pauseWindow,
  trialPauseFrom,
} from "./pause";

const at = (iso: string) => new Date(iso);

function snapshot(overrides: Partial<PauseSnapshot> = {}): PauseSnapshot {
  return { status: "active", cancelAtPeriodEnd: false, scheduledChange: false, pause: null, ...overrides };
}

describe("pauseWindow", () => {
  it("starts at the end of the paid period and covers whole months after it", () => {
    expect(pauseWindow(at("2026-12-15T10:00:00Z"), 1)).toEqual({
      startsAt: at("2026-12-15T10:00:00Z"),
      resumesAt: at("2027-01-15T10:00:00Z"),
    });
    expect(pauseWindow(at("2026-12-15T10:00:00Z"), 3).resumesAt).toEqual(at("2027-03-15T10:00:00Z"));
    // Clamped like every period: the end of January plus one month is the end of February.
    expect(pauseWindow(at("2027-01-31T00:00:00Z"), 1).resumesAt).toEqual(at("2027-02-28T00:00:00Z"));
  });

  it("has no end when paused until resumed", () => {
    expect(pauseWindow(at("2026-12-15T10:00:00Z"), null).resumesAt).toBeNull();
  });
});

describe("isPausePeriods", () => {
  it("accepts 1, 2 and 3 only", () => {
    expect([1, 2, 3].every(isPausePeriods)).toBe(true);
    for (const bad of [0, 4, 1.5, "1", null, undefined, -1]) expect(isPausePeriods(bad)).toBe(false);
  });
});

describe("isPausedAt", () => {
  const pause = { startsAt: at("2026-12-15T00:00:00Z"), resumesAt: at("2027-01-15T00:00:00Z") };
  it("is paused from the start of the pause, not before (the paid period is kept)", () => {
    expect(isPausedAt("active", pause, at("2026-12-14T23:59:59Z"))).toBe(false);
    expect(isPausedAt("active", pause, at("2026-12-15T00:00:00Z"))).toBe(true);
  });
  it("fails closed: still paused past resumesAt until the sync clears the pause", () => {
    expect(isPausedAt("active", pause, at("2027-02-01T00:00:00Z"))).toBe(true);
  });
  it("treats Stripe's status paused as paused and no pause as not paused", () => {
    expect(isPausedAt("paused", null, at("2026-12-01T00:00:00Z"))).toBe(true);
    expect(isPausedAt("active", null, at("2026-12-01T00:00:00Z"))).toBe(false);
  });
});

describe("checkPause / checkResumePause", () => {
  const pause = { startsAt: at("2026-12-15T00:00:00Z"), resumesAt: null };
  it("pauses an active subscription only", () => {
    expect(checkPause(snapshot())).toEqual({ ok: true });
    expect(checkPause(snapshot({ status: "none" }))).toMatchObject({ code: "NO_SUBSCRIPTION" });
    expect(checkPause(snapshot({ status: "canceled" }))).toMatchObject({ code: "NO_SUBSCRIPTION" });
    expect(checkPause(snapshot({ status: "trialing" }))).toMatchObject({ code: "NOT_ACTIVE" });
    expect(checkPause(snapshot({ status: "past_due" }))).toMatchObject({ code: "NOT_ACTIVE" });
    expect(checkPause(snapshot({ status: "unknown" }))).toMatchObject({ code: "NOT_ACTIVE" });
    expect(checkPause(snapshot({ pause }))).toMatchObject({ code: "ALREADY_PAUSED" });
    expect(checkPause(snapshot({ status: "paused" }))).toMatchObject({ code: "ALREADY_PAUSED" });
    expect(checkPause(snapshot({ cancelAtPeriodEnd: true }))).toMatchObject({ code: "CANCELLATION_PENDING" });
    expect(checkPause(snapshot({ scheduledChange: true }))).toMatchObject({
      code: "CHANGE_ALREADY_SCHEDULED",
    });
  });
  it("resumes only a paused subscription", () => {
    expect(checkResumePause(snapshot({ pause }))).toEqual({ ok: true });
    expect(checkResumePause(snapshot())).toMatchObject({ code: "NOT_PAUSED" });
    expect(checkResumePause(snapshot({ status: "canceled", pause }))).toMatchObject({
      code: "NO_SUBSCRIPTION",
    });
  });
});

describe("pause spans", () => {
  const span = { startsAt: at("2027-01-15T00:00:00Z"), endsAt: at("2027-02-15T00:00:00Z") };
  const state = (overrides: Partial<PauseState> = {}): PauseState => ({
    status: "active",
    collection: { startsAt: at("2027-01-15T00:00:00Z"), resumesAt: at("2027-02-15T00:00:00Z") },
    trialEnd: null,
    currentPeriodStart: at("2026-12-15T00:00:00Z"),
    endedAt: null,
    ...overrides,
  });

  it("contain their start and not their end", () => {
    expect(pauseSpanAt([span], at("2027-01-14T23:59:59.999Z"))).toBeNull();
    expect(pauseSpanAt([span], at("2027-01-15T00:00:00Z"))).toBe(span);
    expect(pauseSpanAt([span], at("2027-02-14T23:59:59.999Z"))).toBe(span);
    expect(pauseSpanAt([span], at("2027-02-15T00:00:00Z"))).toBeNull();
    const open = { startsAt: span.startsAt, endsAt: null };
    expect(pauseSpanAt([span, open], at("2030-01-01T00:00:00Z"))).toBe(open);
    expect(pauseSpanAt([], at("2027-01-20T00:00:00Z"))).toBeNull();
  });

  it("are in force for a collection pause or Stripe's status paused, never once the subscription ended", () => {
    expect(pauseInForce(state())).toBe(true);
    expect(pauseInForce(state({ collection: null }))).toBe(false);
    expect(pauseInForce(state({ collection: null, status: "paused" }))).toBe(true);
    expect(pauseInForce(state({ status: "canceled" }))).toBe(false);
    expect(pauseInForce(state({ status: "incomplete_expired" }))).toBe(false);
    // An unrecognised status keeps its pause (failing closed).
    expect(pauseInForce(state({ status: "unknown" }))).toBe(true);
  });

  it("run from the pause's start to its resumes_at, from the trial's end when Stripe paused it", () => {
    const now = at("2027-01-01T00:00:00Z");
    expect(pauseSpanOf(state(), now, null)).toEqual(span);
    expect(
      pauseSpanOf(state({ collection: { startsAt: span.startsAt, resumesAt: null } }), now, null),
    ).toEqual({ startsAt: span.startsAt, endsAt: null });
    expect(
      pauseSpanOf(
        state({ status: "paused", collection: null, trialEnd: at("2026-12-20T00:00:00Z") }),
        now,
        null,
      ),
    ).toEqual({ startsAt: at("2026-12-20T00:00:00Z"), endsAt: null });
    // Set from Stripe's dashboard (no start of Minutely's): from when Minutely first saw it, kept after.
    const dashboard = state({ collection: { startsAt: null, resumesAt: null } });
    expect(pauseSpanOf(dashboard, now, null)).toEqual({ startsAt: now, endsAt: null });
    expect(pauseSpanOf(dashboard, at("2027-01-05T00:00:00Z"), { startsAt: now, endsAt: null })).toEqual({
      startsAt: now,
      endsAt: null,
    });
    expect(() => pauseSpanOf(state({ collection: null }), now, null)).toThrow();
  });

  it("end when lifted: at resumes_at once passed, at the resume when early, at the subscription's end", () => {
    const lifted = state({ collection: null });
    expect(liftedSpanEnd(span, lifted, at("2027-02-15T01:00:00Z"))).toEqual(span.endsAt);
    expect(liftedSpanEnd(span, lifted, at("2027-01-20T00:00:00Z"))).toEqual(at("2027-01-20T00:00:00Z"));
    const open = { startsAt: span.startsAt, endsAt: null };
    expect(liftedSpanEnd(open, lifted, at("2027-03-01T00:00:00Z"))).toEqual(at("2027-03-01T00:00:00Z"));
    const ended = state({ status: "canceled", endedAt: at("2027-01-25T00:00:00Z") });
    expect(liftedSpanEnd(open, ended, at("2027-03-01T00:00:00Z"))).toEqual(at("2027-01-25T00:00:00Z"));
    // Resumed (or cancelled) before the pause took effect: no span at all.
    expect(liftedSpanEnd(span, lifted, at("2027-01-10T00:00:00Z"))).toBeNull();
    expect(liftedSpanEnd(span, lifted, span.startsAt)).toBeNull();
  });
});

describe("trialPauseFrom", () => {
  const end = new Date("2026-12-11T12:00:00Z");
  it("is the trial's end for a trialing subscription without a card, else null", () => {
    expect(trialPauseFrom("trialing", end, false)).toEqual(end);
    expect(trialPauseFrom("trialing", end, true)).toBeNull();
    expect(trialPauseFrom("trialing", null, false)).toBeNull();
    expect(trialPauseFrom("active", end, false)).toBeNull();
    expect(trialPauseFrom("paused", end, false)).toBeNull();
  });
});
