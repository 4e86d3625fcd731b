// Attacks on usage ingestion under concurrent batches (group commit): every answer is checked against what
// the database holds, and the rollups against a recount of the events.
import { testDatabase } from "@minutely/db/vitest";
import { afterAll, describe, expect, it } from "vitest";
import { buildTestServer } from "../testing.ts";

const { db } = await testDatabase();
const app = await buildTestServer(db, { METERING_API_TOKEN: "test-metering-token-0123456789" });
afterAll(() => app.close());

const auth = { authorization: "Bearer test-metering-token-0123456789" };

async function subscribedAccount(plan: "Starter" | "Pro" = "Pro") {
  const account = await db.account.create({ data: { name: "Batch Co" } });
  const pkg = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: plan } });
  await db.subscription.create({
    data: {
      accountId: account.id,
      planId: pkg.id,
      stripePriceId: `price_b_${account.id}`,
      stripeSubscriptionId: `sub_b_${account.id}`,
      status: "active",
      currentPeriodStart: new Date("2026-11-01T00:00:00Z"),
      currentPeriodEnd: new Date("2026-12-01T00:00:00Z"),
      createdAt: new Date("2026-10-01T00:00:00Z"),
    },
  });
  return account.id;
}

function postUsage(payload: unknown) {
  return app.inject({
    method: "POST",
    url: "/api/v1/usage/calls",
    headers: auth,
    payload: payload as object,
  });
}

interface Ev {
  call_id: string;
  account_id: string;
  direction: "inbound" | "outbound";
  started_at: string;
  duration_seconds: number;
}

/** Rollups equal a recount of the events, for these accounts. */
async function expectRollupsRecount(accountIds: string[]) {
  const mismatches = await db.$queryRaw<unknown[]>`
    WITH ev AS (
      SELECT account_id, period_start, sum(billable_minutes)::int AS minutes, count(*)::int AS calls,
        sum(duration_seconds)::bigint AS seconds
      FROM usage_event WHERE account_id = ANY(${accountIds}::uuid[]) GROUP BY 1, 2
    )
    SELECT coalesce(r.account_id, ev.account_id) AS account_id, r.minutes, ev.minutes AS recount
    FROM usage_period_rollup r FULL JOIN ev ON ev.account_id = r.account_id AND ev.period_start = r.period_start
    WHERE (r.account_id = ANY(${accountIds}::uuid[]) OR ev.account_id IS NOT NULL)
      AND (r.minutes IS DISTINCT FROM ev.minutes OR r.calls IS DISTINCT FROM ev.calls
        OR r.seconds IS DISTINCT FROM ev.seconds)`;
  expect(mismatches).toEqual([]);
  const daily = await db.$queryRaw<unknown[]>`
    WITH ev AS (
      SELECT account_id, (started_at AT TIME ZONE 'UTC')::date AS day, coalesce(agent_id::text, '') AS agent_key,
        direction, sum(billable_minutes)::int AS minutes, count(*)::int AS calls
      FROM usage_event WHERE account_id = ANY(${accountIds}::uuid[]) GROUP BY 1, 2, 3, 4
    )
    SELECT r.account_id, r.minutes, ev.minutes AS recount
    FROM usage_daily_rollup r FULL JOIN ev USING (account_id, day, agent_key, direction)
    WHERE (r.account_id = ANY(${accountIds}::uuid[]) OR ev.account_id IS NOT NULL)
      AND (r.minutes IS DISTINCT FROM ev.minutes OR r.calls IS DISTINCT FROM ev.calls)`;
  expect(daily).toEqual([]);
}

describe("concurrent full batches over REST (the attack on grouped batches)", () => {
  it("count each key once across and inside batches, answer every event, and keep rollups equal to a recount", async () => {
    const accounts: string[] = [];
    for (let i = 0; i < 40; i++) accounts.push(await subscribedAccount(i % 2 ? "Pro" : "Starter"));
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    // 12 batches of 1,000 events at once, call ids c0..c299 per account: keys repeat across batches and
    // inside one; every 7th call is reported with a duration that depends on the batch (conflicts).
    const batches: Ev[][] = Array.from({ length: 12 }, (_, b) =>
      Array.from({ length: 1000 }, () => {
        const c = random(300);
        return {
          call_id: `c${c}`,
          account_id: accounts[random(40)] as string,
          direction: "inbound" as const,
          started_at: `2026-11-${String(10 + (c % 15)).padStart(2, "0")}T10:00:00Z`,
          duration_seconds: c % 7 === 0 ? 60 + b : 61,
        };
      }),
    );
    const responses = await Promise.all(batches.map((events) => postUsage({ events })));
    expect(responses.map((r) => r.statusCode)).toEqual(batches.map(() => 200));
    const accepted = new Map<string, Ev[]>();
    responses.forEach((r, b) => {
      const results = r.json().results as { call_id: string; status: string; reason?: string }[];
      expect(results.map((x) => x.call_id)).toEqual(batches[b]?.map((e) => e.call_id));
      results.forEach((result, i) => {
        const e = batches[b]?.[i] as Ev;
        const k = `${e.account_id}|${e.call_id}`;
        if (result.status === "accepted") accepted.set(k, [...(accepted.get(k) ?? []), e]);
      });
    });
    expect([...accepted.values()].filter((events) => events.length !== 1)).toEqual([]);
    // What each key's accepted event said is what is stored.
    const stored = await db.usageEvent.findMany({
      where: { accountId: { in: accounts } },
      select: { accountId: true, callId: true, durationSeconds: true },
    });
    expect(stored).toHaveLength(accepted.size);
    for (const row of stored) {
      expect(accepted.get(`${row.accountId}|${row.callId}`)?.[0]?.duration_seconds).toBe(row.durationSeconds);
    }
    await expectRollupsRecount(accounts);
  }, 120_000);

  it("refuses the reports beyond 20,000 waiting events with a 503 and Retry-After, writing none of them", async () => {
    const accounts: string[] = [];
    for (let i = 0; i < 5; i++) accounts.push(await subscribedAccount());
    const bodies = Array.from({ length: 40 }, (_, b) => ({
      events: Array.from({ length: 1000 }, (_, i) => ({
        call_id: `full-${b}-${i}`,
        account_id: accounts[i % 5],
        direction: "inbound",
        started_at: "2026-11-21T10:00:00Z",
        duration_seconds: 60,
      })),
    }));
    const responses = await Promise.all(bodies.map((body) => postUsage(body)));
    const refused = responses.filter((r) => r.statusCode === 503);
    expect(refused.length).toBeGreaterThan(0);
    expect(responses.filter((r) => r.statusCode === 200).length + refused.length).toBe(40);
    expect(refused[0]?.headers["retry-after"]).toBe("5");
    for (const [b, r] of responses.entries()) {
      const n = await db.usageEvent.count({ where: { callId: { startsWith: `full-${b}-` } } });
      expect(n, `report ${b}: ${r.statusCode}`).toBe(r.statusCode === 200 ? 1000 : 0);
    }
    await expectRollupsRecount(accounts);
  }, 300_000);

  it("writes batches of 1,000 accounts each and small reports in both lines at once, alerts once each", async () => {
    const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
    const created = await db.account.createManyAndReturn({
      data: Array.from({ length: 1000 }, (_, i) => ({ name: `many-${i}` })),
      select: { id: true },
    });
    const accounts = created.map((a) => a.id);
    await db.subscription.createMany({
      data: accounts.map((id) => ({
        accountId: id,
        planId: pro.id,
        stripePriceId: `price_many_${id}`,
        stripeSubscriptionId: `sub_many_${id}`,
        status: "active" as const,
        currentPeriodStart: new Date("2026-11-01T00:00:00Z"),
        currentPeriodEnd: new Date("2026-12-01T00:00:00Z"),
        createdAt: new Date("2026-10-01T00:00:00Z"),
      })),
    });
    let seed = 3;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    // Calls of hours: an account crosses 80% and 100% of its 3,000 minutes within a few of them.
    const next = (): Ev => {
      const c = random(3);
      const late = random(10) === 0;
      return {
        call_id: `m${c}`,
        account_id: accounts[random(1000)] as string,
        direction: "outbound",
        started_at: late ? `2026-10-2${5 + c}T10:00:00Z` : `2026-11-1${c}T10:00:00Z`,
        duration_seconds: 60 * 60 * 8 * (1 + c),
      };
    };
    const bodies = [
      ...Array.from({ length: 8 }, () => ({ events: Array.from({ length: 1000 }, next) })),
      ...Array.from({ length: 200 }, () => ({ events: Array.from({ length: 1 + random(10) }, next) })),
    ];
    const responses = await Promise.all(bodies.map((b) => postUsage(b)));
    expect(responses.map((r) => r.statusCode)).toEqual(bodies.map(() => 200));
    const accepted = new Map<string, number>();
    responses.forEach((r, b) => {
      (r.json().results as { status: string }[]).forEach((result, i) => {
        const e = bodies[b]?.events[i] as Ev;
        const k = `${e.account_id}|${e.call_id}`;
        if (result.status === "accepted") accepted.set(k, (accepted.get(k) ?? 0) + 1);
      });
    });
    expect([...accepted.values()].filter((n) => n !== 1)).toEqual([]);
    expect(await db.usageEvent.count({ where: { accountId: { in: accounts } } })).toBe(accepted.size);
    await expectRollupsRecount(accounts);
    const twice = await db.$queryRaw<unknown[]>`
      SELECT account_id FROM usage_alert WHERE account_id = ANY(${accounts}::uuid[])
      GROUP BY account_id, period_start, threshold_percent, kind HAVING count(*) > 1`;
    expect(twice).toEqual([]);
    const crossed = await db.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM usage_period_rollup r
      WHERE r.account_id = ANY(${accounts}::uuid[]) AND r.period_start = '2026-11-01' AND r.minutes >= 2400
        AND NOT EXISTS (SELECT 1 FROM usage_alert a WHERE a.account_id = r.account_id
          AND a.period_start = r.period_start AND a.threshold_percent = 80)`;
    expect(crossed[0]?.n).toBe(0);
  }, 300_000);
});
