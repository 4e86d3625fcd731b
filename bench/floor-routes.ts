// The HTTP floors of the write benchmarks, in the API process (dashboard-server.ts): plain Fastify routes that
// do only what any HTTP endpoint for the same write must do (parse the body, check the bearer token, one
// INSERT through the API's pg pool, answer JSON), behind the same server and its global hooks. They separate
// what HTTP and this 2-core machine cost (the floor against the raw insert) from what Minutely's own code
// costs (the API against the floor).
import { timingSafeEqual } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type pg from "pg";

interface FloorEvent {
  call_id: string;
  account_id: string;
  direction: string;
  started_at: string;
  duration_seconds: number;
}

/** The same statement as the benchmark's raw baseline (run.ts rawInsert): call keys, then their events. */
const INSERT_EVENTS = `WITH t AS MATERIALIZED (
    SELECT * FROM unnest($1::text[], $2::uuid[], $3::"CallDirection"[], $4::timestamptz[], $5::int[], $6::int[], $7::timestamptz[])
      AS t(call_id, account_id, direction, started_at, duration_seconds, billable_minutes, period_start)
  ), k AS (
    INSERT INTO usage_call_key (account_id, call_id, started_at)
    SELECT account_id, call_id, started_at FROM t ON CONFLICT DO NOTHING RETURNING account_id, call_id
  )
  INSERT INTO usage_event (call_id, account_id, direction, started_at, duration_seconds, billable_minutes, period_start)
  SELECT t.* FROM t JOIN k USING (account_id, call_id)`;

export async function registerFloorRoutes(
  app: FastifyInstance,
  deps: { pool: pg.Pool; meteringToken: string; periodStart: () => Date },
): Promise<void> {
  const { pool } = deps;
  const expected = Buffer.from(`Bearer ${deps.meteringToken}`);
  const authorized = (header: string | undefined) => {
    const given = Buffer.from(header ?? "");
    return given.length === expected.length && timingSafeEqual(given, expected);
  };

  app.post("/bench/usage-floor", async (req, reply) => {
    if (!authorized(req.headers.authorization)) return reply.code(401).send({ error: "unauthorized" });
    const events = (req.body as { events: FloorEvent[] }).events;
    const periodStart = deps.periodStart();
    const result = await pool.query(INSERT_EVENTS, [
      events.map((e) => e.call_id),
      events.map((e) => e.account_id),
      events.map((e) => e.direction),
      events.map((e) => e.started_at),
      events.map((e) => e.duration_seconds),
      events.map((e) => Math.ceil(e.duration_seconds / 60)),
      events.map(() => periodStart),
    ]);
    return { accepted: result.rowCount ?? 0 };
  });

  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: 1024 * 1024 }, (_req, body, done) => {
      done(null, body);
    });
    scope.post("/bench/webhook-floor", async (req) => {
      const raw = req.body as Buffer;
      const event = JSON.parse(raw.toString("utf8")) as { id: string; type: string; created: number };
      const result = await pool.query(
        "INSERT INTO stripe_event (id, type, payload, stripe_created_at) VALUES ($1, $2, $3::jsonb, to_timestamp($4)) ON CONFLICT (id) DO NOTHING",
        [event.id, event.type, raw.toString("utf8"), event.created],
      );
      return { received: true, duplicate: result.rowCount === 0 };
    });
  });
}
