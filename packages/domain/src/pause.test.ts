import { describe, expect, it } from "vitest";
import {
  checkPause,
  checkResumePause,
  isPausedAt,
  isPausePeriods,
  type PauseSnapshot,
  pauseWindow,
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
