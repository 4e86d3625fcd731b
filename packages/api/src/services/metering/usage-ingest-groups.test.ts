// Group commit must change nothing a caller can observe: reports written together in shared transactions
// (usage-coalescer.ts) get exactly the answers, and leave exactly the rows (rollups, alerts, pack draws,
// queued jobs), that the same reports written alone, one after the other, give. Two identical worlds of
// accounts: one receives the reports through the coalescer (one line, one slot: the order is the order of
// submission), the other report by report; answers and rows are compared account by account.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { testPorts } from "../../testing.ts";
import { authorizeCallRequest } from "./call-authorization.ts";
import {
  createAccount,
  dailyRollupAndRecount,
  liftedNovemberPause,
  recountPeriods,
  rollupPeriods,
  seededRandom,
  subscribe,
} from "./metering.fixtures.ts";
import { UsageIngestCoalescer } from "./usage-coalescer.ts";
import {
  type IngestResult,
  ingestUsageEvents,
  type UsageEventInput,
  type UsageEventResult,
} from "./usage-ingest.ts";

const { db } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });

const ACCOUNTS = 10;
const UNKNOWN_ACCOUNT = "0b5e1c7a-2f44-4d3e-9a61-6c0f5e2d8b11";

interface World {
  accounts: string[];
  agents: string[];
}

/** One world: accounts of every kind the rules tell apart (plans, a pause, packs, a custom threshold, deleted). */
async function world(tag: string): Promise<World> {
  const accounts: string[] = [];
  const agents: string[] = [];
  for (let i = 0; i < ACCOUNTS; i++) {
    const { accountId } = await createAccount(db, `${tag}-${i}`);
    const subscription = await subscribe(db, accountId, {
      plan: i % 3 === 0 ? "Starter" : "Pro",
      createdAt: new Date("2026-10-01T00:00:00Z"),
    });
    const agent = await db.agent.create({ data: { accountId, name: "Reception" } });
    if (i % 5 === 1) await liftedNovemberPause(db, accountId, subscription.id);
    if (i % 4 === 2) {
      await db.packGrant.create({
        data: {
          accountId,
          sourceKey: `checkout:groups-${accountId}`,
          minutes: 700,
          remaining: 700,
          priceCents: 1000,
          currency: "usd",
          grantedAt: new Date("2026-11-02T00:00:00Z"),
          expiresAt: new Date("2027-11-02T00:00:00Z"),
        },
      });
    }
    if (i % 4 === 3) {
      await db.alertThreshold.create({ data: { accountId, percent: 50 } });
    }
    if (i === ACCOUNTS - 1) {
      await db.account.update({
        where: { id: accountId },
        data: { deletedAt: new Date("2026-11-25T00:00:00Z") },
      });
    }
    accounts.push(accountId);
    agents.push(agent.id);
  }
  // Calls authorized before they are reported: their reservations are settled by the report that records them.
  for (let i = 0; i < ACCOUNTS - 1; i++) {
    for (let c = 0; c < 8; c++) {
      await authorizeCallRequest(ports, {
        callId: `c${c}`,
        accountId: accounts[i] as string,
        agentId: agents[i] as string,
        direction: c % 2 ? "inbound" : "outbound",
      });
    }
  }
  return { accounts, agents };
}

/** An abstract event: accounts and agents by index, so the same reports can be sent to both worlds. */
interface Spec {
  callId: string;
  account: number | "unknown";
  agent: number | null;
  direction: "inbound" | "outbound";
  startedAt: Date;
  durationSeconds: number;
}

function reportsOf(seed: number): Spec[][] {
  const random = seededRandom(seed);
  const pick = (n: number) => Math.floor(random() * n);
  const reports: Spec[][] = [];
  for (let r = 0; r < 24; r++) {
    // A client resending a report (after a timeout) while the first is still waiting.
    if (r % 6 === 5) {
      reports.push([...(reports[r - 1] as Spec[])]);
      continue;
    }
    const size = [1, 3, 20, 50, 51, 400, 1000][pick(7)] as number;
    const report: Spec[] = [];
    for (let e = 0; e < size; e++) {
      const account = random() < 0.01 ? "unknown" : pick(ACCOUNTS);
      const call = pick(80);
      const when = random();
      const startedAt =
        when < 0.1
          ? // late: October, the closed period
            new Date(Date.UTC(2026, 9, 24 + pick(7), pick(24), pick(60)))
          : when < 0.12
            ? new Date("2026-10-10T10:00:00Z") // too old
            : when < 0.14
              ? new Date("2026-11-27T12:30:00Z") // in the future
              : // the current period, the same call mostly at the same time
                new Date(Date.UTC(2026, 10, 1 + (call % 26), call % 24, 0) + (random() < 0.05 ? 1000 : 0));
      report.push({
        callId: `c${call}`,
        account,
        agent:
          random() < 0.3 ? (random() < 0.05 ? pick(ACCOUNTS) : account === "unknown" ? 0 : account) : null,
        direction: random() < 0.97 ? (call % 2 ? "inbound" : "outbound") : "inbound",
        startedAt,
        durationSeconds: random() < 0.9 ? 60 * (call + 1) : pick(4 * 3600),
      });
    }
    reports.push(report);
  }
  return reports;
}

function eventsIn(w: World, report: Spec[]): UsageEventInput[] {
  return report.map((s) => ({
    callId: s.callId,
    accountId: s.account === "unknown" ? UNKNOWN_ACCOUNT : (w.accounts[s.account] as string),
    agentId: s.agent === null ? null : (w.agents[s.agent] as string),
    direction: s.direction,
    startedAt: s.startedAt,
    durationSeconds: s.durationSeconds,
  }));
}

/** An answer without the world's ids. */
function plain(w: World, result: UsageEventResult) {
  if (result.status !== "rejected") return result;
  let message = result.message;
  for (const [i, id] of w.accounts.entries()) message = message.replaceAll(id, `account-${i}`);
  for (const [i, id] of w.agents.entries()) message = message.replaceAll(id, `agent-${i}`);
  return { ...result, message };
}

/** Everything ingestion writes for an account, without its ids. */
async function rowsOf(accountId: string) {
  const rollups = await db.usagePeriodRollup.findMany({
    where: { accountId },
    orderBy: { periodStart: "asc" },
    select: {
      periodStart: true,
      minutes: true,
      seconds: true,
      calls: true,
      overageReported: true,
      packMinutesDrawn: true,
      callMinutesLimit: true,
    },
  });
  const alerts = await db.usageAlert.findMany({
    where: { accountId },
    orderBy: [{ periodStart: "asc" }, { thresholdPercent: "asc" }, { kind: "asc" }],
    // Not minutes_used: the usage when the alert was recorded, at the end of its transaction (a group's).
    select: { periodStart: true, thresholdPercent: true, kind: true, minutesLimit: true },
  });
  const grants = await db.packGrant.findMany({ where: { accountId }, select: { remaining: true } });
  const draws = await db.packDraw.findMany({
    where: { accountId },
    orderBy: { periodStart: "asc" },
    select: { periodStart: true, minutes: true },
  });
  const jobs = await db.$queryRaw<{ task: string; jobs: number }[]>`
    SELECT t.identifier AS task, count(*)::int AS jobs FROM graphile_worker._private_jobs j
    JOIN graphile_worker._private_tasks t ON t.id = j.task_id
    WHERE j.payload->>'accountId' = ${accountId} GROUP BY 1 ORDER BY 1`;
  const reservations = await db.callReservation.findMany({
    where: { accountId },
    orderBy: { callId: "asc" },
    select: { callId: true, status: true },
  });
  const events = await db.usageEvent.count({ where: { accountId } });
  return { rollups, alerts, grants, draws, jobs, reservations, events };
}

describe("reports written together (group commit) vs alone, one after the other", () => {
  it.each([1, 2, 3, 4])(
    "give the same answers and the same rows (seed %i)",
    async (seed) => {
      const grouped = await world(`g${seed}`);
      const alone = await world(`a${seed}`);
      const reports = reportsOf(seed);
      // One line (every report is "big"), one slot: while the first report is written, the others wait and
      // are written together, two thousand events a transaction at most, in the order they were submitted.
      const transactions: number[] = [];
      const coalescer = new UsageIngestCoalescer(
        (events) => {
          transactions.push(events.length);
          return ingestUsageEvents(ports, events);
        },
        { smallBatch: 0, bigSlots: 1 },
      );
      const groupedAnswers = await Promise.all(reports.map((r) => coalescer.submit(eventsIn(grouped, r))));
      expect(transactions.length).toBeLessThan(reports.length);
      const aloneAnswers: IngestResult[] = [];
      for (const r of reports) aloneAnswers.push(await ingestUsageEvents(ports, eventsIn(alone, r)));

      reports.forEach((_, n) => {
        const g = groupedAnswers[n];
        const a = aloneAnswers[n];
        expect(
          g?.results.map((r) => plain(grouped, r)),
          `report ${n}`,
        ).toEqual(a?.results.map((r) => plain(alone, r)));
        expect({ ...g, results: undefined }).toEqual({ ...a, results: undefined });
      });
      // The reports reach every rule they are meant to.
      const seen = new Set(
        groupedAnswers.flatMap((a) =>
          a.results.map((r) =>
            r.status === "rejected" ? r.reason : r.status === "accepted" && r.late ? "late" : r.status,
          ),
        ),
      );
      for (const status of [
        "accepted",
        "late",
        "duplicate",
        "call_id_conflict",
        "subscription_paused",
        "too_old",
        "started_in_future",
        "unknown_account",
        "account_deleted",
        "unknown_agent",
      ]) {
        expect(seen, status).toContain(status);
      }
      expect(
        await db.callReservation.count({ where: { accountId: { in: grouped.accounts }, status: "settled" } }),
      ).toBeGreaterThan(0);
      for (let i = 0; i < ACCOUNTS; i++) {
        const g = grouped.accounts[i] as string;
        expect(await rowsOf(g), `account ${i}`).toEqual(await rowsOf(alone.accounts[i] as string));
        expect(await rollupPeriods(db, g)).toEqual(await recountPeriods(db, g));
        const daily = await dailyRollupAndRecount(db, g);
        expect(daily.rollup).toEqual(daily.recount);
      }
    },
    240_000,
  );
});
