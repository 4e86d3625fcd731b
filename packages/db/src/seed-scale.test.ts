// The scale seeder at a tiny scale: the counts asked for, rollups that agree with the events exactly (per
// period and per day, agent and direction), events in the period their subscription places them in, and
// re-runs that top up instead of duplicating.
import { describe, expect, it } from "vitest";
import { type ScalePhase, seedScale } from "./seed-scale.ts";
import { testDatabase } from "./vitest.ts";

const { db, url } = await testDatabase();
const now = new Date("2026-11-20T15:00:00Z");

async function counts() {
  const [row] = await db.$queryRaw<
    {
      accounts: number;
      owners: number;
      subscriptions: number;
      events: number;
      invoices: number;
      changes: number;
    }[]
  >`
    SELECT
      (SELECT count(*)::int FROM account WHERE stripe_customer_id LIKE 'cus_seed_%') AS accounts,
      (SELECT count(*)::int FROM account_member WHERE role = 'owner') AS owners,
      (SELECT count(*)::int FROM subscription) AS subscriptions,
      (SELECT count(*)::int FROM usage_event) AS events,
      (SELECT count(*)::int FROM billing_history) AS invoices,
      (SELECT count(*)::int FROM stripe_event WHERE type = 'customer.subscription.updated') AS changes`;
  return row;
}

/** Rows where a rollup and a recount from the events disagree (both directions); empty when consistent. */
async function rollupMismatches() {
  const periods = await db.$queryRaw<{ account_id: string }[]>`
    (SELECT account_id, period_start, minutes, seconds::bigint, calls FROM usage_period_rollup
     EXCEPT
     SELECT account_id, period_start, sum(billable_minutes)::int, sum(duration_seconds)::bigint, count(*)::int
     FROM usage_event GROUP BY account_id, period_start)
    UNION ALL
    (SELECT account_id, period_start, sum(billable_minutes)::int, sum(duration_seconds)::bigint, count(*)::int
     FROM usage_event GROUP BY account_id, period_start
     EXCEPT
     SELECT account_id, period_start, minutes, seconds::bigint, calls FROM usage_period_rollup)`;
  const days = await db.$queryRaw<{ account_id: string }[]>`
    (SELECT account_id, day, agent_key, direction, minutes, calls FROM usage_daily_rollup
     EXCEPT
     SELECT account_id, (started_at AT TIME ZONE 'UTC')::date, COALESCE(agent_id::text, ''), direction,
       sum(billable_minutes)::int, count(*)::int
     FROM usage_event GROUP BY 1, 2, 3, 4)
    UNION ALL
    (SELECT account_id, (started_at AT TIME ZONE 'UTC')::date, COALESCE(agent_id::text, ''), direction,
       sum(billable_minutes)::int, count(*)::int
     FROM usage_event GROUP BY 1, 2, 3, 4
     EXCEPT
     SELECT account_id, day, agent_key, direction, minutes, calls FROM usage_daily_rollup)`;
  return { periods: periods.length, days: days.length };
}

describe("seedScale", () => {
  it("builds the data set asked for, with rollups consistent with the events", async () => {
    const phases = new Set<ScalePhase>();
    const result = await seedScale(url, {
      accounts: 60,
      events: 4_000,
      now,
      accountBatch: 25,
      eventBatch: 1_500,
      onProgress: (phase, done, total) => {
        phases.add(phase);
        expect(done).toBeLessThanOrEqual(total);
      },
    });
    expect(result).toMatchObject({
      accountsBefore: 0,
      accountsCreated: 60,
      eventsBefore: 0,
      eventsCreated: 4_000,
    });
    expect([...phases]).toEqual(["accounts", "events", "alerts"]);
    const c = await counts();
    expect(c).toMatchObject({ accounts: 60, owners: 60, events: 4_000 });
    expect(c?.subscriptions).toBeGreaterThan(30);
    expect(c?.invoices).toBeGreaterThan(c?.subscriptions ?? 0);
    expect(await rollupMismatches()).toEqual({ periods: 0, days: 0 });
  });

  it("places every event in the billing period of its start, never in the future, with the ingestion's minutes", async () => {
    const [bad] = await db.$queryRaw<{ outside: number; future: number; minutes: number; agents: number }[]>`
      SELECT
        count(*) FILTER (WHERE e.started_at < e.period_start OR e.started_at >= r.period_end)::int AS outside,
        count(*) FILTER (WHERE e.started_at > ${now})::int AS future,
        count(*) FILTER (WHERE e.billable_minutes <> ceil(e.duration_seconds / 60.0))::int AS minutes,
        count(*) FILTER (WHERE e.agent_id IS NOT NULL AND NOT EXISTS (
          SELECT 1 FROM agent g WHERE g.id = e.agent_id AND g.account_id = e.account_id))::int AS agents
      FROM usage_event e
      JOIN usage_period_rollup r ON r.account_id = e.account_id AND r.period_start = e.period_start`;
    expect(bad).toEqual({ outside: 0, future: 0, minutes: 0, agents: 0 });
    const [alerts] = await db.$queryRaw<{ wrong: number; total: number }[]>`
      SELECT count(*) FILTER (WHERE a.minutes_used::bigint * 100 < a.threshold_percent::bigint * a.minutes_limit
        OR a.minutes_used <> r.minutes)::int AS wrong, count(*)::int AS total
      FROM usage_alert a JOIN usage_period_rollup r ON r.account_id = a.account_id AND r.period_start = a.period_start`;
    expect(alerts?.wrong).toBe(0);
  });

  it("adds nothing when run again with the same numbers, and tops up to larger ones", async () => {
    const again = await seedScale(url, { accounts: 60, events: 4_000, now });
    expect(again).toMatchObject({ accountsCreated: 0, eventsCreated: 0, alertsCreated: 0 });
    expect(await counts()).toMatchObject({ accounts: 60, events: 4_000 });

    const more = await seedScale(url, { accounts: 75, events: 5_000, now, eventBatch: 400 });
    expect(more).toMatchObject({
      accountsBefore: 60,
      accountsCreated: 15,
      eventsBefore: 4_000,
      eventsCreated: 1_000,
    });
    expect(await counts()).toMatchObject({ accounts: 75, owners: 75, events: 5_000 });
    expect(await rollupMismatches()).toEqual({ periods: 0, days: 0 });
  });
});
