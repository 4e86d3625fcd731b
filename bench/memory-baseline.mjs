// The baseline of the memory benchmark (bench/memory.ts): a bare Fastify server with a node-postgres pool
// of the API's default size, answering the requests the API gets under load, each with one plain query of
// the same tables (events inserted, rollups read). What it needs in memory is the floor of a Node server
// doing this work; the API's figures are compared with it. Plain JavaScript run by node itself, as the
// API's bundle is (a TypeScript loader would add its own memory).
import Fastify from "fastify";
import pg from "pg";

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.POOL_SIZE ?? 10),
  idleTimeoutMillis: 30_000,
});
const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });

app.get("/health", async () => {
  await pool.query("SELECT 1");
  return { status: "ok" };
});
app.get("/memory", async () => process.memoryUsage());

app.post("/api/v1/usage/calls", async (req) => {
  const { events } = req.body;
  const result = await pool.query(
    `WITH t AS MATERIALIZED (
       SELECT * FROM unnest($1::text[], $2::uuid[], $3::"CallDirection"[], $4::timestamptz[], $5::int[]) AS t(c, a, d, s, sec)
     ), k AS (
       INSERT INTO usage_call_key (account_id, call_id, started_at)
       SELECT a, c, s FROM t ON CONFLICT DO NOTHING RETURNING account_id, call_id
     )
     INSERT INTO usage_event (call_id, account_id, direction, started_at, duration_seconds, billable_minutes, period_start)
     SELECT c, a, d, s, sec, ceil(sec / 60.0)::int, date_trunc('month', now())
     FROM t JOIN k ON k.account_id = t.a AND k.call_id = t.c RETURNING call_id`,
    [
      events.map((e) => `baseline-${e.call_id}`),
      events.map((e) => e.account_id),
      events.map((e) => e.direction),
      events.map((e) => e.started_at),
      events.map((e) => Math.ceil(e.duration_seconds)),
    ],
  );
  return {
    accepted: result.rowCount,
    results: result.rows.map((r) => ({ call_id: r.call_id, status: "accepted" })),
  };
});

app.post("/api/v1/calls/authorize", async (req) => {
  const { call_id, account_id } = req.body;
  const { rows } = await pool.query(
    "SELECT s.status FROM subscription s WHERE s.account_id = $1 ORDER BY s.created_at DESC LIMIT 1",
    [account_id],
  );
  return { decision: rows.length > 0 ? "allow" : "deny", call_id };
});

/** One read of what a dashboard shows: the session's account, its subscription and its period's rollup. */
async function dashboard(cookie) {
  const token = decodeURIComponent(/session_token=([^;.]+)/.exec(cookie ?? "")?.[1] ?? "");
  const { rows } = await pool.query(
    `SELECT u.account_id, s.status, s.current_period_start, r.minutes, r.calls
     FROM session x JOIN "user" u ON u.id = x.user_id
     LEFT JOIN subscription s ON s.account_id = u.account_id
     LEFT JOIN usage_period_rollup r ON r.account_id = u.account_id AND r.period_start = s.current_period_start
     WHERE x.token = $1`,
    [token],
  );
  return rows[0] ?? null;
}

app.get("/api/dashboard/comprehensive/", async (req) => ({ dashboard: await dashboard(req.headers.cookie) }));
app.get("/trpc/*", async (req) => [
  { result: { data: { json: await dashboard(req.headers.cookie) } } },
  { result: { data: { json: null } } },
]);

await app.listen({ host: "127.0.0.1", port: Number(process.env.PORT) });
