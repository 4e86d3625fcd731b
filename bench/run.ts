// `pnpm bench [--full]`: Minutely's benchmarks. Every figure is a ratio against a baseline measured in the
// same run on the same database (absolute numbers on shared 2-core machines are noisy). Writes a markdown
// table to bench/results/. Method: see bench/README.md.
import { execFileSync, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { userWithAccount } from "@minutely/testing";
import autocannon from "autocannon";
import pg from "pg";
import Stripe from "stripe";
import { dropDefinitions, readDefinitions, restoreDefinitions } from "./deferred-indexes.ts";
import {
  METERING_TOKEN,
  startBenchApi,
  startBenchDatabase,
  subscribedAccounts,
  subscribePro,
  WEBHOOK_SECRET,
} from "./harness.ts";
import { liveRows, measureLive } from "./live.ts";
import { measureMemory, memoryRows } from "./memory.ts";
import {
  compareStatementStats,
  readStatementStats,
  resetStatementStats,
  STATEMENT_STATS_SETTINGS,
} from "./statements.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..");
const FULL = process.argv.includes("--full");
/**
 * `--events=N`: only the dashboard-scale figure, with N usage events (issue #20's one-off 100M run:
 * `pnpm bench --events=100000000`); written to results/scale-N.md, latest.md left alone.
 */
const EVENTS_ARG = process.argv.find((a) => a.startsWith("--events="))?.slice("--events=".length);
const SCALE_EVENTS = EVENTS_ARG === undefined ? undefined : Number(EVENTS_ARG);
if (SCALE_EVENTS !== undefined && !(Number.isSafeInteger(SCALE_EVENTS) && SCALE_EVENTS >= 100_000))
  throw new Error(`--events must be a whole number of at least 100000, not ${EVENTS_ARG}`);
/**
 * `--only=a,b`: only these sections (dashboard, ingestion, webhook, bundles, live, memory), to measure one
 * change quickly; written to results/partial.md, latest.md left alone. "dashboard" includes its scale figure.
 */
const SECTIONS = ["dashboard", "ingestion", "webhook", "bundles", "live", "memory"] as const;
type Section = (typeof SECTIONS)[number];
const ONLY_ARG = process.argv.find((a) => a.startsWith("--only="))?.slice("--only=".length);
const ONLY =
  ONLY_ARG === undefined
    ? undefined
    : new Set(
        ONLY_ARG.split(",").map((name) => {
          if (!(SECTIONS as readonly string[]).includes(name))
            throw new Error(`--only takes sections among ${SECTIONS.join(", ")}, not ${name}`);
          return name as Section;
        }),
      );
if (ONLY && SCALE_EVENTS !== undefined) throw new Error("--only and --events cannot be combined");
/** Whether this run measures `section`. */
const runs = (section: Section) => ONLY === undefined || ONLY.has(section);
const DURATION = FULL ? 20 : 6;
const WARMUP = FULL ? 5 : 2;
/** Seconds of 200 clients in the memory section (a 10-minute soak: bench/memory.ts on its own). */
const MEMORY_SECONDS = FULL ? 120 : 30;
const CONNECTIONS = 16;
const ACCOUNTS = 100;
/**
 * The goals of issue #20, one a figure: each ratio must be at least (speed) or at most (latency growth,
 * bundle size) this. Memory's targets are in memory.ts (PEAK_RSS_TARGET, AFTER_IDLE_RATIO_TARGET).
 */
const TARGETS = {
  /** Events/s of batches of 500 against the raw multi-row INSERT … ON CONFLICT: at least. */
  ingestionBatch: 0.7,
  /** Events/s of single events (16 connections) against the raw single-row insert at its best: at least. */
  ingestionSingle: 0.7,
  /** Webhook events/s against the raw single-row insert into stripe_event: at least. */
  webhook: 0.5,
  /** dashboard.get over tRPC against the same JSON from one hand-written SQL statement: at least. */
  dashboardVsSqlFloor: 0.5,
  /** dashboard.get over tRPC against the same service call on a plain Fastify route: at least. */
  dashboardVsPlainRoute: 0.8,
  /** Dashboard mean latency with 10M (quick: 1M) usage events against 10k: at most. */
  dashboardScale: 1.5,
  /** First-route JS (gzip) of each SPA against the framework floor: at most. */
  bundle: 1.3,
} as const;

interface Row {
  benchmark: string;
  measured: string;
  baseline: string;
  ratio: number;
  target: string;
  met: boolean;
  note?: string;
  /** A figure that explains another (an HTTP floor): no goal of its own. */
  context?: true;
}
const rows: Row[] = [];
/** Markdown sections printed after the table (the statement profiles). */
const sections: string[][] = [];
const fmt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 0 });

function log(message: string) {
  process.stderr.write(`[bench] ${message}\n`);
}

function hasTaskset(): boolean {
  return spawnSync("taskset", ["-V"]).status === 0;
}

/** Runs `fn` from `concurrency` loops for `seconds`; returns operations (as counted by fn) per second. */
async function raw(seconds: number, concurrency: number, fn: () => Promise<number>): Promise<number> {
  const end = Date.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) done += await fn();
    }),
  );
  return done / seconds;
}

/**
 * The baseline at its best concurrency: concurrent inserts referencing the same accounts contend on the
 * foreign-key row locks, so more clients can be slower; the fastest of 1, 4 and 16 is the baseline.
 */
async function rawBest(
  seconds: number,
  fn: () => Promise<number>,
): Promise<{ rate: number; concurrency: number }> {
  let best = { rate: 0, concurrency: 1 };
  for (const concurrency of [1, 4, 16]) {
    const rate = await raw(seconds, concurrency, fn);
    if (rate > best.rate) best = { rate, concurrency };
  }
  return best;
}

/**
 * Measures each of `measures` for `seconds` in all, in three rounds that take turns (A B C A B C A B C);
 * requests per second are the rounds' mean, p99 the rounds' highest, errors their sum.
 */
type Measured = { rps: number; p99: number; errors: number };
async function interleaved<T extends readonly ((seconds: number) => Promise<Measured>)[]>(
  measures: T,
  seconds: number,
): Promise<{ [K in keyof T]: Measured }> {
  const rounds = 3;
  const results = measures.map(() => ({ rps: 0, p99: 0, errors: 0 }));
  for (let round = 0; round < rounds; round++) {
    for (const [i, measure] of measures.entries()) {
      const r = await measure(Math.max(1, Math.round(seconds / rounds)));
      const total = results[i];
      if (!total) continue;
      total.rps += r.rps / rounds;
      total.p99 = Math.max(total.p99, r.p99);
      total.errors += r.errors;
    }
  }
  return results as { [K in keyof T]: Measured };
}

async function http(opts: {
  url: string;
  path: string;
  method: "GET" | "POST";
  headers: Record<string, string>;
  body?: () => string;
  seconds: number;
}): Promise<{ rps: number; p99: number; errors: number }> {
  const result = await autocannon({
    url: opts.url,
    connections: CONNECTIONS,
    duration: opts.seconds,
    requests: [
      {
        method: opts.method,
        path: opts.path,
        headers: opts.headers,
        ...(opts.body
          ? {
              setupRequest: (req: autocannon.Request) => ({ ...req, body: opts.body?.() ?? "" }),
            }
          : {}),
      },
    ],
  });
  return { rps: result.requests.average, p99: result.latency.p99, errors: result.non2xx + result.errors };
}

async function main() {
  if (hasTaskset()) execFileSync("taskset", ["-p", "-c", "1", String(process.pid)], { stdio: "ignore" });
  log(
    `mode: ${FULL ? "full" : "quick"} (${DURATION}s per measurement, ${WARMUP}s warm-up, ${CONNECTIONS} connections)`,
  );
  const {
    server: pgServer,
    url,
    db,
  } = await startBenchDatabase("bench", {
    settings: STATEMENT_STATS_SETTINGS,
  });
  const now = new Date();
  const periodStart = new Date(now.getTime() - 10 * 24 * 3600 * 1000);
  const accounts = (await subscribedAccounts(db, ACCOUNTS, { periodStart })).map((a) => a.id);
  const api = await startBenchApi(url, { pinned: hasTaskset() });
  const { base } = api;

  const pool = new pg.Pool({ connectionString: url, max: CONNECTIONS });
  // pool.end() starts closing its connections and resolves before they are closed: PostgreSQL stopped right
  // after may end one first (57P01), an error of the pool, not of the benchmark.
  pool.on("error", () => {});
  let callSeq = 0;
  const run = randomUUID().slice(0, 8);
  const event = () => {
    callSeq += 1;
    const started = new Date(now.getTime() - ((callSeq % 7200) + 60) * 1000);
    return {
      call_id: `bench-${run}-${callSeq}`,
      account_id: accounts[callSeq % accounts.length] ?? "",
      direction: callSeq % 2 === 0 ? "inbound" : "outbound",
      started_at: started.toISOString(),
      duration_seconds: 30 + (callSeq % 240),
    };
  };
  const meteringHeaders = { authorization: `Bearer ${METERING_TOKEN}`, "content-type": "application/json" };

  const countEvents = async () =>
    Number((await pool.query("SELECT count(*) AS n FROM usage_event")).rows[0].n);

  /** The strongest plain-pg way to write the same rows: one INSERT … SELECT FROM unnest(arrays). */
  async function rawInsert(count: number): Promise<number> {
    const events = Array.from({ length: count }, event);
    // The call's key (usage_call_key, the dedupe across partitions) and its event, as ingestion writes them.
    const result = await pool.query(
      `WITH t AS MATERIALIZED (
         SELECT * FROM unnest($1::text[], $2::uuid[], $3::"CallDirection"[], $4::timestamptz[], $5::int[], $6::int[], $7::timestamptz[])
           AS t(call_id, account_id, direction, started_at, duration_seconds, billable_minutes, period_start)
       ), k AS (
         INSERT INTO usage_call_key (account_id, call_id, started_at)
         SELECT account_id, call_id, started_at FROM t ON CONFLICT DO NOTHING RETURNING account_id, call_id
       )
       INSERT INTO usage_event (call_id, account_id, direction, started_at, duration_seconds, billable_minutes, period_start)
       SELECT t.* FROM t JOIN k USING (account_id, call_id)`,
      [
        events.map((e) => e.call_id),
        events.map((e) => e.account_id),
        events.map((e) => e.direction),
        events.map((e) => e.started_at),
        events.map((e) => e.duration_seconds),
        events.map((e) => Math.ceil(e.duration_seconds / 60)),
        events.map(() => periodStart),
      ],
    );
    return result.rowCount ?? 0;
  }

  // 2. Dashboard read: tRPC against the same service call behind a plain Fastify route and against the SQL
  // floor (the same JSON from one statement), and its latency with a large usage_event table against a
  // small one (reads come from rollups, so it should not grow).
  if (runs("dashboard")) await measureDashboard();
  async function measureDashboard() {
    log("dashboard read");
    const signUp = await fetch(`${base}/api/auth/sign-up/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: base },
      body: JSON.stringify({ name: "Dash", email: "dash@example.com", password: "bench-password-1" }),
    });
    const cookie = signUp.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
    const dashUser = await userWithAccount(db, { email: "dash@example.com" });
    const dashAccount = dashUser.accountId ?? "";
    await subscribePro(db, dashAccount, periodStart, "sub_bench_dash");
    const dashEvents = Array.from({ length: 300 }, () => ({ ...event(), account_id: dashAccount }));
    await fetch(`${base}/api/v1/usage/calls`, {
      method: "POST",
      headers: meteringHeaders,
      body: JSON.stringify({ events: dashEvents }),
    });
    const bulk = async (total: number, options: { deferIndexes?: boolean } = {}) => {
      // Other accounts' history, three years of it, generated in SQL (generate_series) a million rows a
      // statement: each call's key (usage_call_key, the dedupe) and its event in one statement, as ingestion
      // writes them. Rollups are what the dashboard reads, so they are left alone.
      const started = performance.now();
      await pool.query(
        "SELECT count(*) FROM usage_event_ensure_partitions($1::timestamptz - interval '36 months', $1::timestamptz)",
        [now],
      );
      // Counted once, then by what each statement inserted: a count(*) a round would cost more and more (at
      // 100M rows the counts alone took longer than a round's insert).
      let have = await countEvents();
      let next = have;
      // A large fill drops the tables' keys, indexes and foreign keys and builds them once at the end, as
      // pg_restore does (deferred-indexes.ts); the time to build them is part of the seeding time.
      const deferred = options.deferIndexes ? await readDefinitions(pool) : undefined;
      if (deferred) await dropDefinitions(pool, deferred);
      while (have < total) {
        const step = Math.min(1_000_000, total - have);
        const inserted = await pool.query(
          `WITH g AS MATERIALIZED (
           SELECT 'bulk-' || g AS call_id, ($1::uuid[])[1 + g % cardinality($1::uuid[])] AS account_id,
             $2::timestamptz - (g % 1576800) * interval '1 minute' - (g % 60) * interval '1 second' AS started_at
           FROM generate_series($4::bigint + 1, $5::bigint) AS g
         ), k AS (
           INSERT INTO usage_call_key (account_id, call_id, started_at)
           SELECT account_id, call_id, started_at FROM g ON CONFLICT DO NOTHING RETURNING *
         )
         INSERT INTO usage_event (call_id, account_id, direction, started_at, duration_seconds, billable_minutes, period_start)
         SELECT call_id, account_id, 'inbound', started_at, 90, 2, $3::timestamptz FROM k`,
          [accounts, now, periodStart, next, next + step],
        );
        // A call id already taken inserts nothing: the next round goes on past it until `total` are there.
        next += step;
        have += inserted.rowCount ?? 0;
        log(`  ${fmt(have)} events (${((performance.now() - started) / 1000).toFixed(0)} s)`);
      }
      if (deferred) {
        log("  building the keys, indexes and foreign keys");
        const builder = await pool.connect();
        try {
          await builder.query("SET maintenance_work_mem = '1GB'");
          // Validating the event -> call key foreign key joins each month's partition with all of
          // usage_call_key: a hash or merge join would read the whole key table once a partition (37 times);
          // index probes per event row read it once in all.
          await builder.query("SET enable_hashjoin = off");
          await builder.query("SET enable_mergejoin = off");
          await restoreDefinitions(builder, deferred, (name, seconds) =>
            log(`    ${name}: ${seconds.toFixed(1)} s`),
          );
        } finally {
          builder.release();
        }
        log(`  built (${((performance.now() - started) / 1000).toFixed(0)} s)`);
      }
      // A table that grew over years has been vacuumed and checkpointed as it grew; a freshly seeded one has
      // not, and autovacuum (PostgreSQL vacuums after inserts too) and the checkpointer would then work
      // through the new rows during the measurement, on the same two cores. Done here, before measuring, so
      // the figure is the dashboard's dependence on the table's size, not the catch-up after a bulk load.
      await pool.query("VACUUM (ANALYZE) usage_event");
      await pool.query("VACUUM (ANALYZE) usage_call_key");
      await pool.query("CHECKPOINT");
      return (performance.now() - started) / 1000;
    };
    const dashHeaders = { cookie };
    /** A load of `seconds` on one of the dashboard's routes, as the customer's browser sends it. */
    const dashboardAt = (path: string) => (seconds: number) =>
      http({ url: base, path, method: "GET", headers: dashHeaders, seconds });
    const dashboardGet = dashboardAt("/trpc/dashboard.get");
    await dashboardGet(WARMUP);
    // The floor: the same JSON from one hand-written SQL statement, session included (dashboard-floor.ts).
    const floorProbe = await fetch(`${base}/bench/dashboard-sql`, { headers: dashHeaders });
    const floorBody = await floorProbe.text();
    log(`  the SQL floor: HTTP ${floorProbe.status}, ${fmt(floorBody.length)} bytes`);
    for (const path of ["/bench/dashboard", "/bench/dashboard-sql"]) await dashboardAt(path)(WARMUP);
    // The three are compared closely, so they take turns (three rounds of a third of the time each): a
    // change in what else the machine runs then weighs on all three alike, not on whichever ran last.
    const [viaTrpc, plain, sqlFloor] = await interleaved(
      [dashboardGet, dashboardAt("/bench/dashboard"), dashboardAt("/bench/dashboard-sql")] as const,
      DURATION,
    );
    const measuredTrpc = `${fmt(viaTrpc.rps)} req/s, p99 ${fmt(viaTrpc.p99)} ms${viaTrpc.errors ? `, ${viaTrpc.errors} errors` : ""}`;
    rows.push({
      benchmark: "dashboard.get over tRPC vs the SQL floor",
      measured: measuredTrpc,
      baseline: `${fmt(sqlFloor.rps)} req/s, p99 ${fmt(sqlFloor.p99)} ms${sqlFloor.errors ? `, ${sqlFloor.errors} errors` : ""}: the same JSON from one hand-written SQL statement (session included) on a plain Fastify route`,
      ratio: viaTrpc.rps / sqlFloor.rps,
      target: `≥ ${TARGETS.dashboardVsSqlFloor}`,
      met:
        viaTrpc.rps / sqlFloor.rps >= TARGETS.dashboardVsSqlFloor &&
        viaTrpc.errors === 0 &&
        sqlFloor.errors === 0,
    });
    rows.push({
      benchmark: "dashboard.get over tRPC vs the same service on a plain route",
      measured: measuredTrpc,
      baseline: `${fmt(plain.rps)} req/s, p99 ${fmt(plain.p99)} ms: the same service call behind a plain Fastify route`,
      ratio: viaTrpc.rps / plain.rps,
      target: `≥ ${TARGETS.dashboardVsPlainRoute}`,
      met: viaTrpc.rps / plain.rps >= TARGETS.dashboardVsPlainRoute && viaTrpc.errors === 0,
    });
    const small = 10_000;
    const large = SCALE_EVENTS ?? (FULL ? 10_000_000 : 1_000_000);
    // Both sizes get the same warm-up and twice the usual measurement: one figure is the ratio of two mean
    // latencies, so the noise of both adds up (6-second measurements after seeding 1M events read 0.98 to
    // 1.53 on the same build).
    const scaleWarmup = Math.max(WARMUP, DURATION);
    const scaleSeconds = 2 * DURATION;
    await bulk(small);
    await dashboardGet(scaleWarmup);
    const loadSmall = loadavg()[0] ?? 0;
    await resetStatementStats(pool);
    const latencySmall = await dashboardGet(scaleSeconds);
    const statementsSmall = await readStatementStats(pool);
    log(`filling usage_event to ${fmt(large)} rows`);
    const seedSeconds = await bulk(large, { deferIndexes: true });
    await dashboardGet(scaleWarmup);
    const loadLarge = loadavg()[0] ?? 0;
    await resetStatementStats(pool);
    const latencyLarge = await dashboardGet(scaleSeconds);
    const statementsLarge = await readStatementStats(pool);
    sections.push([
      `## Where the dashboard's time goes, ${fmt(small)} events / ${fmt(large)} events`,
      "",
      "pg_stat_statements over each latency measurement (the session lookup and the dashboard's statements, most total time first at the large size). Buffers per call (8 kB pages) do not depend on the machine's load: a statement whose buffers per call stay the same did not grow with the table; its time grows only when those pages are not in memory or the machine is busy.",
      "",
      ...compareStatementStats(statementsSmall, statementsLarge, {
        small: fmt(small),
        large: fmt(large),
      }),
      "",
    ]);
    const mean = (r: { rps: number }) => (1000 * CONNECTIONS) / r.rps;
    rows.push({
      benchmark: `Dashboard latency, ${fmt(large)} usage events / ${fmt(small)}`,
      measured: `${mean(latencyLarge).toFixed(1)} ms mean, p99 ${fmt(latencyLarge.p99)} ms with ${fmt(large)} events`,
      baseline: `${mean(latencySmall).toFixed(1)} ms mean, p99 ${fmt(latencySmall.p99)} ms with ${fmt(small)} events`,
      ratio: mean(latencyLarge) / mean(latencySmall),
      target: `≤ ${TARGETS.dashboardScale}`,
      met: mean(latencyLarge) / mean(latencySmall) <= TARGETS.dashboardScale,
      note: `${FULL || SCALE_EVENTS ? "" : "quick mode uses 1M events; --full uses 10M. "}Seeding ${fmt(large)} events over 36 months took ${seedSeconds.toFixed(0)} s (${fmt(large / seedSeconds)} events/s, generated in SQL, then vacuumed, analyzed and checkpointed); load average ${loadSmall.toFixed(1)} before the ${fmt(small)}-event measurement, ${loadLarge.toFixed(1)} before the ${fmt(large)}-event one; usage_event then held ${await relationSize(pool, "usage_event")} with its partitions and indexes, usage_call_key ${await relationSize(pool, "usage_call_key")}`,
    });
    if (SCALE_EVENTS !== undefined) {
      await api.stop("SIGTERM");
      await pool.end();
      await db.$disconnect();
      await pgServer.stop();
      writeResults(`scale-${SCALE_EVENTS}`);
      process.exit(0);
    }
  }

  // 1. Metering ingestion, batches of 500 and single events.
  for (const batch of runs("ingestion") ? [500, 1] : []) {
    log(`ingestion, batches of ${batch}`);
    const body = () => JSON.stringify({ events: Array.from({ length: batch }, event) });
    const probe = await fetch(`${base}/api/v1/usage/calls`, {
      method: "POST",
      headers: meteringHeaders,
      body: body(),
    });
    const probeBody = (await probe.json()) as { results?: { status: string; reason?: string }[] };
    const statuses = new Map<string, number>();
    for (const r of probeBody.results ?? [])
      statuses.set(`${r.status}${r.reason ? `:${r.reason}` : ""}`, (statuses.get(r.status) ?? 0) + 1);
    log(`  a probe batch: HTTP ${probe.status}, ${JSON.stringify(Object.fromEntries(statuses))}`);
    await http({
      url: base,
      path: "/api/v1/usage/calls",
      method: "POST",
      headers: meteringHeaders,
      body,
      seconds: WARMUP,
    });
    const before = await countEvents();
    const api1 = await http({
      url: base,
      path: "/api/v1/usage/calls",
      method: "POST",
      headers: meteringHeaders,
      body,
      seconds: DURATION,
    });
    // Only events the API really stored count (a 200 can carry per-event rejections).
    const stored = (await countEvents()) - before;
    await raw(WARMUP, CONNECTIONS, () => rawInsert(batch));
    const best = await rawBest(DURATION, () => rawInsert(batch));
    const baseline = best.rate;
    const measured = stored / DURATION;
    log(`  ${fmt(api1.rps)} requests/s, ${fmt(measured)} events stored/s`);
    const ratio = measured / baseline;
    const target = batch === 1 ? TARGETS.ingestionSingle : TARGETS.ingestionBatch;
    rows.push({
      benchmark: batch === 1 ? "Metering ingestion, single events" : "Metering ingestion, batches of 500",
      measured: `${fmt(measured)} events/s (p99 ${fmt(api1.p99)} ms${api1.errors ? `, ${api1.errors} errors` : ""})`,
      baseline: `${fmt(baseline)} events/s raw pg ${batch === 1 ? "single-row" : "multi-row (unnest)"} INSERT … ON CONFLICT DO NOTHING (${best.concurrency} clients)`,
      ratio,
      target: `≥ ${target}`,
      met: ratio >= target && api1.errors === 0,
    });
    // The HTTP floor: the raw insert behind a plain route of the same server (floor-routes.ts).
    await http({
      url: base,
      path: "/bench/usage-floor",
      method: "POST",
      headers: meteringHeaders,
      body,
      seconds: WARMUP,
    });
    const floorBefore = await countEvents();
    const floor = await http({
      url: base,
      path: "/bench/usage-floor",
      method: "POST",
      headers: meteringHeaders,
      body,
      seconds: DURATION,
    });
    const floorRate = ((await countEvents()) - floorBefore) / DURATION;
    rows.push({
      benchmark: `${batch === 1 ? "Single events" : "Batches of 500"}: the HTTP floor against the raw insert, and the API against it`,
      measured: `API ${fmt(measured)} events/s = ${(measured / floorRate).toFixed(2)} of the floor`,
      baseline: `${fmt(floorRate)} events/s (p99 ${fmt(floor.p99)} ms${floor.errors ? `, ${floor.errors} errors` : ""}): the raw insert behind a plain route of the same server, 16 connections`,
      ratio: floorRate / baseline,
      target: "(the floor / raw)",
      met: true,
      context: true,
    });
  }

  // 3. Webhook acknowledgement: signed events accepted by the API vs a raw single-row insert.
  if (runs("webhook")) await measureWebhook();
  async function measureWebhook() {
    log("webhook acknowledgement");
    const stripe = new Stripe("sk_test_bench");
    let eventSeq = 0;
    const webhook = () => {
      eventSeq += 1;
      return JSON.stringify({
        id: `evt_bench_${run}_${eventSeq}`,
        object: "event",
        type: "customer.updated",
        created: Math.floor(Date.now() / 1000),
        data: { object: { id: "cus_bench", object: "customer" } },
      });
    };
    const signedBody = { value: "" };
    const webhookRequest = () => {
      signedBody.value = webhook();
      return signedBody.value;
    };
    const ack = await autocannon({
      url: base,
      connections: CONNECTIONS,
      duration: DURATION,
      requests: [
        {
          method: "POST",
          path: "/api/webhooks/stripe",
          setupRequest: (req: autocannon.Request) => {
            const payload = webhookRequest();
            return {
              ...req,
              body: payload,
              headers: {
                "content-type": "application/json",
                "stripe-signature": stripe.webhooks.generateTestHeaderString({
                  payload,
                  secret: WEBHOOK_SECRET,
                }),
              },
            };
          },
        },
      ],
    });
    const { rate: rawAck, concurrency: ackClients } = await rawBest(DURATION, async () => {
      const payload = webhook();
      const result = await pool.query(
        "INSERT INTO stripe_event (id, type, payload, stripe_created_at) VALUES ($1, $2, $3::jsonb, now()) ON CONFLICT (id) DO NOTHING",
        [`raw_${JSON.parse(payload).id}`, "customer.updated", payload],
      );
      return result.rowCount ?? 0;
    });
    const ackErrors = ack.non2xx + ack.errors;
    const webhookFloor = await autocannon({
      url: base,
      connections: CONNECTIONS,
      duration: DURATION,
      requests: [
        {
          method: "POST",
          path: "/bench/webhook-floor",
          setupRequest: (req: autocannon.Request) => ({
            ...req,
            body: webhook(),
            headers: { "content-type": "application/json" },
          }),
        },
      ],
    });
    rows.push({
      benchmark: "Webhook acknowledgement",
      measured: `${fmt(ack.requests.average)} events/s (p99 ${fmt(ack.latency.p99)} ms${ackErrors ? `, ${ackErrors} errors` : ""})`,
      baseline: `${fmt(rawAck)} rows/s raw single-row INSERT into stripe_event (${ackClients} clients)`,
      ratio: ack.requests.average / rawAck,
      target: `≥ ${TARGETS.webhook}`,
      met: ack.requests.average / rawAck >= TARGETS.webhook && ackErrors === 0,
    });
    const floorErrors = webhookFloor.non2xx + webhookFloor.errors;
    rows.push({
      benchmark: "Webhooks: the HTTP floor against the raw insert, and the API against it",
      measured: `API ${fmt(ack.requests.average)} events/s = ${(ack.requests.average / webhookFloor.requests.average).toFixed(2)} of the floor`,
      baseline: `${fmt(webhookFloor.requests.average)} events/s (p99 ${fmt(webhookFloor.latency.p99)} ms${floorErrors ? `, ${floorErrors} errors` : ""}): the raw insert behind a plain route of the same server (no signature, no job)`,
      ratio: webhookFloor.requests.average / rawAck,
      target: "(the floor / raw)",
      met: true,
      context: true,
    });
  }

  await api.stop("SIGTERM");
  await pool.end();
  await db.$disconnect();
  await pgServer.stop();

  // 4. SPA bundles: gzipped JS of the first route against the floor of the same foundation.
  if (runs("bundles")) measureBundles();
  function measureBundles() {
    log("bundles");
    // `pnpm exec` runs from a package's folder (bench/floor is not one: vite is bench's dependency).
    const build = (packageDir: string, root = ".") =>
      execFileSync("pnpm", ["exec", "vite", "build", root, "--logLevel", "error"], {
        cwd: packageDir,
        stdio: "inherit",
      });
    build(HERE, "floor");
    build(HERE, "floor-router");
    for (const app of ["web", "admin"]) build(join(ROOT, "apps", app));
    const firstRouteJs = (distDir: string) => {
      const html = readFileSync(join(distDir, "index.html"), "utf8");
      const files = [...html.matchAll(/(?:src|href)="([^"]+\.js)"/g)].map((m) => m[1] ?? "");
      return files.reduce((sum, file) => {
        const path = join(distDir, file.replace(/^\/(admin\/)?/, ""));
        return sum + gzipSync(readFileSync(path)).length;
      }, 0);
    };
    const floor = firstRouteJs(join(HERE, "floor/dist"));
    const routerFloor = firstRouteJs(join(HERE, "floor-router/dist"));
    for (const app of ["web", "admin"]) {
      const size = firstRouteJs(join(ROOT, "apps", app, "dist"));
      rows.push({
        benchmark: `${app === "web" ? "Customer" : "Admin"} app first-route JS (gzip)`,
        measured: `${fmt(size / 1024)} KiB`,
        baseline: `${fmt(floor / 1024)} KiB: react + react-dom + TanStack Query + tRPC client`,
        ratio: size / floor,
        target: `≤ ${TARGETS.bundle}`,
        met: size / floor <= TARGETS.bundle,
      });
      rows.push({
        benchmark: `${app === "web" ? "Customer" : "Admin"} app first-route JS against the floor with a router`,
        measured: `${fmt(size / 1024)} KiB`,
        baseline: `${fmt(routerFloor / 1024)} KiB: the floor + wouter, the SPAs' router (a root and one page)`,
        ratio: size / routerFloor,
        target: "(what is the app's own)",
        met: true,
        context: true,
      });
    }
  }

  // 5. Live usage: open streams one replica holds, and the delay from a usage report to the customer's
  // stream at that load against one open stream (bench/live.ts; its own database and API process).
  if (runs("live")) {
    log("live usage");
    rows.push(
      ...liveRows(
        await measureLive({
          streams: FULL ? 5_000 : 2_000,
          users: FULL ? 100 : 50,
          samples: FULL ? 50 : 20,
          log,
        }),
      ),
    );
  }

  // 6. Memory of the production build under 200 clients: two API replicas and a worker, against a bare
  // Fastify server with the same pg pool under the same load (bench/memory.ts).
  if (runs("memory")) await measureMemorySection();
  writeResults(ONLY ? "partial" : "latest");
}

async function measureMemorySection() {
  log("memory (production build)");
  execFileSync(process.execPath, [join(ROOT, "apps/server/scripts/build.mjs")], { stdio: "inherit" });
  // Every process of this section may use every CPU (the sections above pinned this one to CPU 1).
  if (hasTaskset())
    execFileSync("taskset", ["-p", "-c", `0-${availableParallelism() - 1}`, String(process.pid)], {
      stdio: "ignore",
    });
  const memory = await measureMemory({
    loadSeconds: MEMORY_SECONDS,
    afterSeconds: 30,
    idleSeconds: 10,
    connections: 200,
    replicas: 2,
    customers: 20,
    baseline: true,
    log,
  });
  rows.push(...memoryRows(memory));
}

/** The size of a table with its partitions and indexes, as PostgreSQL counts it (pg_size_pretty). */
async function relationSize(pool: pg.Pool, table: string): Promise<string> {
  const { rows: sizes } = await pool.query(
    `SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) AS size
       FROM pg_class c
      WHERE c.oid = $1::regclass OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = $1::regclass)`,
    [table],
  );
  return String(sizes[0]?.size ?? "?");
}

function writeResults(name: string) {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const table = [
    `# Minutely benchmarks (${SCALE_EVENTS ? `dashboard scale only, ${fmt(SCALE_EVENTS)} events` : FULL ? "full" : "quick"}, ${new Date().toISOString()})`,
    "",
    `Node ${process.version}; ${DURATION}s per measurement after ${WARMUP}s warm-up, ${CONNECTIONS} connections; API pinned to CPU 0 and the load generator to CPU 1 ${hasTaskset() ? "(taskset)" : "(taskset unavailable: not pinned)"}; PostgreSQL 18 embedded, unpinned.`,
    "",
    ...(SCALE_EVENTS
      ? []
      : [
          `Memory: the production build started as \`pnpm start\` / \`pnpm worker\` start it (2 API replicas with WORKER_MODE=off, a worker), 200 connections (metering single events and batches of 50, call authorizations, the dashboard over tRPC and REST) for ${MEMORY_SECONDS} s, then 30 s without load; resident memory from /proc every second, V8 heap used from /metrics every 5 s; nothing pinned. Memory figures vary far less between runs than the speed figures, which depend on what else the shared machine runs.`,
          "",
        ]),
    "| benchmark | measured | baseline (same run) | ratio | target | met |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows.map(
      (r) =>
        `| ${r.benchmark} | ${r.measured} | ${r.baseline} | ${r.ratio.toFixed(2)} | ${r.target} | ${r.context ? "(context)" : r.met ? "yes" : "**no**"} |`,
    ),
    "",
    ...rows.filter((r) => r.note).map((r) => `- ${r.benchmark}: ${r.note}`),
    "",
    ...sections.flatMap((section) => [...section, ""]),
  ].join("\n");
  mkdirSync(join(HERE, "results"), { recursive: true });
  writeFileSync(join(HERE, "results", `${stamp}.md`), table);
  writeFileSync(join(HERE, "results", `${name}.md`), table);
  process.stdout.write(`${table}\n`);
}

await main();
