// The hot paths route to one shard: every statement the usage report, the call authorization, the webhook
// acknowledgement and the dashboard send to PostgreSQL names the account of each distributed table it
// touches (docs/scaling.md, "Citus"). The statements are captured from the real services on a real database.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { describe, expect, it } from "vitest";
import { capturingPorts, signedSubscriptionWebhook } from "./hot-paths.fixtures.ts";
import { authorizeCallRequest, dashboard, ingestUsageEvents, receiveStripeWebhook } from "./index.ts";
import {
  callEvent,
  createAccount,
  createAgentRows,
  subscribe,
} from "./services/metering/metering.fixtures.ts";
import { normalizeSql, tablesOf, unroutedStatements } from "./shard-routing.ts";

const { db, url } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const capture = capturingPorts(db, url, clock);
const { ports, capturedPorts } = capture;

/** The distributed tables: every table with an account_id (partitions aside), and the account table. */
const distributed = [
  "account",
  ...(
    await db.$queryRaw<{ table_name: string }[]>`
      SELECT c.table_name FROM information_schema.columns c
      JOIN pg_class rel ON rel.relname = c.table_name AND NOT rel.relispartition
      WHERE c.table_schema = 'public' AND c.column_name = 'account_id' ORDER BY 1`
  ).map((r) => r.table_name),
];

/** The statements `run` sends, without transaction control. */
async function statementsOf(run: () => Promise<unknown>): Promise<string[]> {
  return (await capture.statementsOf(run)).filter(
    (sql) => !/^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SET|SELECT 1\b)/i.test(sql),
  );
}

describe("the routing check", () => {
  it("knows the distributed tables", () => {
    expect(distributed).toEqual(
      expect.arrayContaining([
        "account",
        "usage_event",
        "usage_call_key",
        "usage_period_rollup",
        "subscription",
      ]),
    );
  });

  it("flags a statement that does not name the account, and passes one that does", () => {
    const broken = `SELECT "public"."usage_event"."call_id" FROM "public"."usage_event" WHERE "public"."usage_event"."call_id" = $1`;
    expect(unroutedStatements([broken], distributed)).toEqual([
      { sql: normalizeSql(broken), tables: ["usage_event"] },
    ]);
    expect(
      unroutedStatements(
        ["SELECT sum(minutes) FROM usage_period_rollup WHERE period_start > $1"],
        distributed,
      ),
    ).toHaveLength(1);
    expect(
      unroutedStatements(['SELECT "id" FROM "public"."account" WHERE "name" = $1'], distributed),
    ).toHaveLength(1);
    expect(
      unroutedStatements(
        [
          `SELECT "public"."usage_event"."call_id" FROM "public"."usage_event" WHERE ("public"."usage_event"."account_id" = $1 AND 1=1)`,
          "SELECT e.call_id FROM unnest($1::uuid[]) k(account_id) JOIN usage_event e ON e.account_id = k.account_id",
          "INSERT INTO usage_call_key (account_id, call_id, started_at) SELECT * FROM t",
          `SELECT "public"."account"."id" FROM "public"."account" WHERE ("public"."account"."id" = $1 AND 1=1)`,
        ],
        distributed,
      ),
    ).toEqual([]);
    expect(tablesOf("SELECT 1 FROM usage_event_default", distributed)).toEqual([]);
  });
});

describe("hot paths route to one shard", () => {
  it("usage report, call authorization, webhook acknowledgement and dashboard name the account", async () => {
    const { accountId, userId } = await createAccount(db);
    await subscribe(db, accountId);
    const [agent] = await createAgentRows(db, accountId, 1);
    const agentId = agent?.id ?? "";
    const paths: Record<string, string[]> = {};

    paths.authorization = await statementsOf(() =>
      authorizeCallRequest(capturedPorts, { callId: "route-1", accountId, agentId, direction: "outbound" }),
    );
    const event = callEvent(accountId, 600, { callId: "route-1", agentId });
    paths.usageReport = await statementsOf(async () => {
      await ingestUsageEvents(capturedPorts, [event, callEvent(accountId, 60, { agentId })]);
      await ingestUsageEvents(capturedPorts, [event, { ...event, durationSeconds: 5 }]); // replay, conflict
    });
    paths.webhookAcknowledgement = await statementsOf(() =>
      receiveStripeWebhook(
        capturedPorts,
        signedSubscriptionWebhook(ports, clock, { eventId: "evt_routing_1", secret: "whsec_routing" }),
      ),
    );
    paths.dashboard = await statementsOf(() =>
      dashboard(capturedPorts, { accountId, userId, email: "o@example.com", name: "Owner" }),
    );

    for (const [path, sql] of Object.entries(paths)) {
      expect(sql.length, `${path} sent no statement: the capture is broken`).toBeGreaterThan(0);
      expect(unroutedStatements(sql, distributed), path).toEqual([]);
    }
    // The paths really reach the distributed tables (the check would pass vacuously otherwise).
    expect(paths.usageReport?.some((sql) => tablesOf(sql, distributed).includes("usage_call_key"))).toBe(
      true,
    );
    expect(paths.dashboard?.some((sql) => tablesOf(sql, distributed).includes("usage_event"))).toBe(true);
  });
});
