import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { testPorts } from "../../testing.ts";
import {
  callEvent,
  createAccount,
  PERIOD_END,
  PERIOD_START,
  queuedJobs,
  runQueuedJobs,
  subscribe,
} from "./metering.fixtures.ts";
import { describeAlert, listActiveAlerts, sendUsageAlertEmail } from "./usage-alerts.ts";
import { ingestUsageEvents } from "./usage-ingest.ts";

const { db, url } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });

const PRO = { callMinutesLimit: 1000, overagePrice: { amount: 3, currency: "usd" } } as const;
const STARTER = { callMinutesLimit: 1000, overagePrice: null } as const;

describe("alert texts", () => {
  it("say that a threshold passed together with a higher one was passed, and where usage is now", () => {
    const text = describeAlert({
      plan: PRO,
      percent: 80,
      minutesUsed: 1050,
      periodEnd: PERIOD_END,
      supersededBy: 100,
    });
    expect(text).toEqual({
      kind: "threshold",
      subject: "Minutely: 80% of your call minutes used",
      message:
        "Your usage passed 80% of your included call minutes and, in the same update, reached 100%: you are now at " +
        "1,050 of 1,000 minutes this billing period. The allowance renews on Dec 1, 2026 (UTC).",
    });
    expect(text.message).not.toMatch(/reached 80%/);
  });

  it("keep the overage and hard-cap consequences on a passed 100% alert", () => {
    expect(
      describeAlert({ plan: PRO, percent: 100, minutesUsed: 1250, periodEnd: PERIOD_END, supersededBy: 120 }),
    ).toEqual({
      kind: "overage",
      subject: "Minutely: included call minutes used up, overage billing started",
      message:
        "You used up your 1,000 included call minutes and, in the same update, reached 120%: you are now at " +
        "1,250 of 1,000 minutes this billing period. Calls continue; 250 minutes beyond the limit are billed " +
        "at $0.03 each on your next invoice. The allowance renews on Dec 1, 2026 (UTC).",
    });
    expect(
      describeAlert({
        plan: STARTER,
        percent: 110,
        minutesUsed: 1250,
        periodEnd: PERIOD_END,
        supersededBy: 120,
      }),
    ).toEqual({
      kind: "limit_reached",
      subject: "Minutely: 110% of your call minutes used",
      message:
        "Your usage passed 110% of your included call minutes and, in the same update, reached 120%: you are now at " +
        "1,250 of 1,000 minutes this billing period. Outbound calls are paused; inbound calls are still " +
        "answered. The allowance renews on Dec 1, 2026 (UTC).",
    });
  });

  it("leave the text of the highest threshold crossed as it was", () => {
    expect(describeAlert({ plan: PRO, percent: 80, minutesUsed: 900, periodEnd: PERIOD_END })).toEqual({
      kind: "threshold",
      subject: "Minutely: 80% of your call minutes used",
      message:
        "You have reached 80% of your included call minutes (900 of 1,000 minutes used) this billing period. " +
        "The allowance renews on Dec 1, 2026 (UTC).",
    });
    const plain = describeAlert({ plan: STARTER, percent: 100, minutesUsed: 1000, periodEnd: PERIOD_END });
    expect(
      describeAlert({
        plan: STARTER,
        percent: 100,
        minutesUsed: 1000,
        periodEnd: PERIOD_END,
        supersededBy: 100,
      }),
    ).toEqual(plain);
  });
});

describe("a usage update that crosses several thresholds", () => {
  async function alertsOf(accountId: string) {
    return await db.usageAlert.findMany({ where: { accountId }, orderBy: { thresholdPercent: "asc" } });
  }

  /** A Starter account (1,000 minutes, hard cap) with custom 90% and 120% alerts, at 700 minutes. */
  async function starterAt700() {
    const account = await createAccount(db);
    await subscribe(db, account.accountId, { plan: "Starter" });
    await db.alertThreshold.createMany({
      data: [
        { accountId: account.accountId, percent: 90 },
        { accountId: account.accountId, percent: 120 },
      ],
    });
    await ingestUsageEvents(ports, [callEvent(account.accountId, 700 * 60)]);
    expect(await alertsOf(account.accountId)).toEqual([]);
    return account;
  }

  /** One batch from 700 to 1,050 minutes: 80%, 90% and 100% at once. */
  async function batchTo1050(accountId: string) {
    await ingestUsageEvents(ports, [callEvent(accountId, 200 * 60), callEvent(accountId, 150 * 60)]);
    return await alertsOf(accountId);
  }

  it("records one alert per threshold, each telling the truth", async () => {
    const { accountId } = await starterAt700();
    const alerts = await batchTo1050(accountId);
    expect(alerts.map((a) => [a.thresholdPercent, a.kind, a.minutesUsed])).toEqual([
      [80, "threshold", 1050],
      [90, "threshold", 1050],
      [100, "limit_reached", 1050],
    ]);
    expect(alerts[0]?.message).toBe(
      "Your usage passed 80% of your included call minutes and, in the same update, reached 100%: you are now at " +
        "1,050 of 1,000 minutes this billing period. The allowance renews on Dec 1, 2026 (UTC).",
    );
    expect(alerts[1]?.message).toMatch(/^Your usage passed 90% .* in the same update, reached 100%/);
    expect(alerts[2]?.message).toMatch(
      /^You have used all 1,000 included call minutes\. Outbound calls are paused/,
    );
    for (const alert of alerts) expect(alert.message).not.toMatch(/reached \d+% .*1,050 of 1,000/);
  });

  it("emails only the highest threshold crossed; the others stay not emailed and never fire again", async () => {
    const { accountId, ownerEmail } = await starterAt700();
    const alerts = await batchTo1050(accountId);
    const ids = new Set(alerts.map((a) => a.id));
    const jobs = (await queuedJobs(db, "send-usage-alert-email")).filter((j) =>
      ids.has(j.payload.alertId as string),
    );
    expect(jobs.map((j) => j.payload.alertId)).toEqual([alerts[2]?.id]);

    await runQueuedJobs(url, ports);
    const mail = await db.mailMessage.findMany({ where: { to: ownerEmail } });
    expect(mail.map((m) => [m.subject, m.dedupeKey])).toEqual([
      ["Minutely: call minutes used up, outbound calls paused", `usage-alert:${alerts[2]?.id}`],
    ]);
    expect((await alertsOf(accountId)).map((a) => [a.thresholdPercent, a.emailedAt !== null])).toEqual([
      [80, false],
      [90, false],
      [100, true],
    ]);
    expect((await listActiveAlerts(ports, accountId)).map((a) => [a.thresholdPercent, a.emailed])).toEqual([
      [100, true],
      [90, false],
      [80, false],
    ]);

    // Later batches fire no lower threshold again; a threshold crossed alone is emailed.
    await ingestUsageEvents(ports, [callEvent(accountId, 100 * 60)]);
    await ingestUsageEvents(ports, [callEvent(accountId, 60 * 60)]);
    const later = await alertsOf(accountId);
    expect(later.map((a) => [a.thresholdPercent, a.minutesUsed])).toEqual([
      [80, 1050],
      [90, 1050],
      [100, 1050],
      [120, 1210],
    ]);
    expect(later[3]?.message).toMatch(
      /^You have reached 120% of your included call minutes \(1,210 of 1,000/,
    );
    await runQueuedJobs(url, ports);
    expect(
      (await db.mailMessage.findMany({ where: { to: ownerEmail }, orderBy: { subject: "asc" } })).map(
        (m) => m.subject,
      ),
    ).toEqual([
      "Minutely: 120% of your call minutes used",
      "Minutely: call minutes used up, outbound calls paused",
    ]);
  });

  it("sends nothing for a stray email job of a passed alert (a replay, or one queued before this rule)", async () => {
    const { accountId, ownerEmail } = await starterAt700();
    const alerts = await batchTo1050(accountId);
    for (const alert of alerts) await sendUsageAlertEmail(ports, alert.id);
    for (const alert of alerts) await sendUsageAlertEmail(ports, alert.id);
    expect((await db.mailMessage.findMany({ where: { to: ownerEmail } })).map((m) => m.dedupeKey)).toEqual([
      `usage-alert:${alerts[2]?.id}`,
    ]);
    expect((await alertsOf(accountId)).map((a) => a.emailedAt !== null)).toEqual([false, false, true]);
  });

  it("still emails each threshold that a batch crosses on its own", async () => {
    const { accountId, ownerEmail } = await createAccount(db);
    await subscribe(db, accountId, { plan: "Starter", periodStart: PERIOD_START });
    await ingestUsageEvents(ports, [callEvent(accountId, 850 * 60)]);
    await ingestUsageEvents(ports, [callEvent(accountId, 150 * 60)]);
    await runQueuedJobs(url, ports);
    expect((await alertsOf(accountId)).map((a) => [a.thresholdPercent, a.emailedAt !== null])).toEqual([
      [80, true],
      [100, true],
    ]);
    expect(await db.mailMessage.count({ where: { to: ownerEmail } })).toBe(2);
  });
});

describe("active alerts belong to a period and a plan", () => {
  it("an upgrade that makes an alert untrue, or the period's end, takes it off the active list (kept in history)", async () => {
    const { accountId } = await createAccount(db, "Outlived");
    const subscription = await subscribe(db, accountId, { plan: "Pro" });
    clock.set(new Date("2026-11-27T12:00:00Z"));
    await ingestUsageEvents(ports, [
      callEvent(accountId, 1440 * 60, { startedAt: new Date("2026-11-10T10:00:00Z") }),
      callEvent(accountId, 1062 * 60, { startedAt: new Date("2026-11-12T10:00:00Z") }),
    ]);
    expect(
      (await listActiveAlerts(ports, accountId)).map((a) => [a.thresholdPercent, a.minutesLimit]),
    ).toEqual([[80, 3000]]);

    // The upgrade to Enterprise (as the subscription sync records it): 2,502 minutes are 25% of 10,000.
    const enterprise = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Enterprise" } });
    await db.subscription.update({ where: { id: subscription.id }, data: { planId: enterprise.id } });
    expect(await listActiveAlerts(ports, accountId)).toEqual([]);

    // The new package's thresholds fire in the same period when usage crosses them (8,262 of 10,000).
    await db.subscription.update({
      where: { id: subscription.id },
      data: { syncTicket: { increment: 1 } },
    });
    await ingestUsageEvents(ports, [
      ...[13, 14, 15, 16].map((day) =>
        callEvent(accountId, 1440 * 60, { startedAt: new Date(`2026-11-${day}T10:00:00Z`) }),
      ),
    ]);
    expect(
      (await listActiveAlerts(ports, accountId)).map((a) => [a.thresholdPercent, a.minutesLimit]),
    ).toEqual([[80, 10000]]);
    await db.usageAlert.deleteMany({ where: { accountId, minutesLimit: 10000 } });

    // Back on Pro, the alert is true again; then the period ends (the renewal is synced) and it leaves.
    await db.subscription.update({ where: { id: subscription.id }, data: { planId: subscription.planId } });
    expect(await listActiveAlerts(ports, accountId)).toHaveLength(1);
    await db.subscription.update({
      where: { id: subscription.id },
      data: { currentPeriodStart: PERIOD_END, currentPeriodEnd: new Date("2027-01-01T00:00:00Z") },
    });
    clock.set(new Date("2026-12-02T12:00:00Z"));
    expect(await listActiveAlerts(ports, accountId)).toEqual([]);
    // History keeps it.
    expect(await db.usageAlert.count({ where: { accountId, dismissedAt: null } })).toBe(1);
    clock.set(new Date("2026-11-27T12:00:00Z"));
  });
});
