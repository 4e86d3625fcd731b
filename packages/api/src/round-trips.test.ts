// Round trips of the hot paths: how many statements the usage report, the call authorization, the webhook
// acknowledgement and the dashboard send to PostgreSQL per request (transaction control included: BEGIN and
// COMMIT are round trips too). Deterministic, no timing: a change that adds a round trip to a hot path fails
// here. The counts before and after the work of issue #20 are in bench/README.md ("Round trips").
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { afterAll, describe, expect, it } from "vitest";
import { capturingPorts, signedSubscriptionWebhook } from "./hot-paths.fixtures.ts";
import { authorizeCallRequest, dashboard, ingestUsageEvents, receiveStripeWebhook } from "./index.ts";
import {
  callEvent,
  createAccount,
  createAgentRows,
  subscribe,
} from "./services/metering/metering.fixtures.ts";

const { db, url } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
// Every statement `run` sends (the pool's own connection setup aside: it is not per request).
const { ports, capturedPorts, statementsOf } = capturingPorts(db, url, clock);

/** The most statements each hot path may send per request. */
const LIMITS = {
  dashboard: 2,
  webhookAcknowledgement: 1,
  callAuthorization: 7,
  usageReportSingle: 2,
  usageReportBatch: 7,
};

async function subscribedAccount() {
  const { accountId, userId } = await createAccount(db);
  await subscribe(db, accountId);
  const [agent] = await createAgentRows(db, accountId, 2);
  return { accountId, userId, agentId: agent?.id ?? "" };
}

let webhookCounter = 0;
function signedWebhook() {
  webhookCounter += 1;
  const eventId = `evt_round_trips_${webhookCounter}_${Date.now()}`;
  return signedSubscriptionWebhook(ports, clock, { eventId, secret: "whsec_round_trips" });
}

const counts: Record<string, number> = {};
afterAll(() => {
  console.info(`round trips per request: ${JSON.stringify(counts)}`);
});

/** Runs `run` twice (the first warms any per-process cache) and returns the second run's statements. */
async function measure(path: keyof typeof LIMITS, run: () => Promise<unknown>): Promise<string[]> {
  await run();
  const sql = await statementsOf(run);
  counts[path] = sql.length;
  if (process.env.DUMP_SQL) console.info(`--- ${path}\n${sql.join("\n---\n")}`);
  return sql;
}

describe("round trips per hot-path request", () => {
  it("the dashboard read", async () => {
    const { accountId, userId, agentId } = await subscribedAccount();
    await ingestUsageEvents(ports, [
      callEvent(accountId, 600, { agentId }),
      callEvent(accountId, 2_900 * 60, { startedAt: new Date("2026-11-12T10:00:00Z") }),
    ]);
    const viewer = { accountId, userId, email: "o@example.com", name: "Owner" };
    const sql = await measure("dashboard", () => dashboard(capturedPorts, viewer));
    expect(sql.length, sql.join("\n")).toBeLessThanOrEqual(LIMITS.dashboard);
  });

  it("the webhook acknowledgement", async () => {
    const sql = await measure("webhookAcknowledgement", () =>
      receiveStripeWebhook(capturedPorts, signedWebhook()),
    );
    expect(sql.length, sql.join("\n")).toBeLessThanOrEqual(LIMITS.webhookAcknowledgement);
  });

  it("the call authorization", async () => {
    const { accountId, agentId } = await subscribedAccount();
    let n = 0;
    const sql = await measure("callAuthorization", () => {
      n += 1;
      return authorizeCallRequest(capturedPorts, {
        callId: `auth-${n}`,
        accountId,
        agentId,
        direction: "outbound",
      });
    });
    expect(sql.length, sql.join("\n")).toBeLessThanOrEqual(LIMITS.callAuthorization);
  });

  it("a usage report of one event", async () => {
    const { accountId, agentId } = await subscribedAccount();
    const sql = await measure("usageReportSingle", () =>
      ingestUsageEvents(capturedPorts, [callEvent(accountId, 90, { agentId })]),
    );
    expect(sql.length, sql.join("\n")).toBeLessThanOrEqual(LIMITS.usageReportSingle);
  });

  it("a usage report of a batch (50 events, two agents, a crossed threshold)", async () => {
    const { accountId, agentId } = await subscribedAccount();
    let round = 0;
    const sql = await measure("usageReportBatch", () => {
      round += 1;
      return ingestUsageEvents(
        capturedPorts,
        Array.from({ length: 50 }, (_, i) =>
          callEvent(accountId, 60 * (round === 1 ? 1 : 60), {
            agentId: i % 2 === 0 ? agentId : null,
            startedAt: new Date(Date.UTC(2026, 10, 1 + (i % 20), 10, i)),
          }),
        ),
      );
    });
    expect(sql.length, sql.join("\n")).toBeLessThanOrEqual(LIMITS.usageReportBatch);
  });
});
