import http from "node:http";
import { Writable } from "node:stream";
import { createAuth, PostgresJobQueue } from "@minutely/api";
import { testPorts } from "@minutely/api/testing";
import { testDatabase } from "@minutely/db/vitest";
import Fastify from "fastify";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "./config.ts";
import { loggerOptions, redactUrl } from "./logging.ts";
import { readiness, registerGracefulDrain } from "./observability.ts";
import { buildServer } from "./server.ts";
import { buildTestServer } from "./testing.ts";
import { sample } from "./testing-metrics.ts";

const { db } = await testDatabase();
const app = await buildTestServer(db, { METERING_API_TOKEN: "observability-token-0123456789" });
afterAll(() => app.close());

async function metrics(): Promise<string> {
  const response = await app.inject({ method: "GET", url: "/metrics" });
  expect(response.statusCode).toBe(200);
  expect(response.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.body;
}

describe("health endpoints", () => {
  it("answers liveness, readiness and the old /health", async () => {
    expect((await app.inject({ method: "GET", url: "/health/live" })).json()).toEqual({ status: "ok" });
    const ready = await app.inject({ method: "GET", url: "/health/ready" });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({
      status: "ready",
      database: "up",
      migrations: "applied",
      unknown_migrations: [],
    });
    expect((await app.inject({ method: "GET", url: "/health" })).statusCode).toBe(200);
  });

  it("is not ready while a migration of this build is missing; newer ones do not matter", async () => {
    const [last] = await db.$queryRaw<{ migration_name: string }[]>`
      SELECT migration_name FROM "_prisma_migrations" ORDER BY migration_name DESC LIMIT 1`;
    const name = last?.migration_name ?? "";
    await db.$executeRaw`UPDATE "_prisma_migrations" SET finished_at = NULL WHERE migration_name = ${name}`;
    try {
      const pending = await app.inject({ method: "GET", url: "/health/ready" });
      expect(pending.statusCode).toBe(503);
      expect(pending.json()).toEqual({
        status: "not_ready",
        reason: "migrations_pending",
        pending_migrations: [name],
      });
    } finally {
      await db.$executeRaw`UPDATE "_prisma_migrations" SET finished_at = now() WHERE migration_name = ${name}`;
    }
    await db.$executeRaw`
      INSERT INTO "_prisma_migrations" (id, checksum, migration_name, finished_at, applied_steps_count)
      VALUES ('00000000-0000-0000-0000-000000000001', 'x', '29991231000000_from_the_next_release', now(), 1)`;
    const ready = await app.inject({ method: "GET", url: "/health/ready" });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().unknown_migrations).toEqual(["29991231000000_from_the_next_release"]);
  });

  it("a failed query is 'database down', never every migration pending (a flap between two queries)", async () => {
    const lifecycle = { shuttingDown: false };
    const migrations = ["20260101000000_init", "20260102000000_more"];
    // The database answers the first query and fails the next, as during a restart.
    let calls = 0;
    const flapping = new Proxy(db, {
      get(target, property, receiver) {
        if (property !== "$queryRaw") return Reflect.get(target, property, receiver);
        return (...args: Parameters<typeof db.$queryRaw>) => {
          calls += 1;
          if (calls === 1) return target.$queryRaw(...args);
          return Promise.reject(new Error("Connection terminated unexpectedly"));
        };
      },
    });
    expect(await readiness({ db: flapping, lifecycle, migrations })).toEqual({
      ready: false,
      reason: "database_down",
    });
    expect(calls).toBeGreaterThanOrEqual(2);
  });

  it("answers 'database down' on its own timeout when the database hangs", async () => {
    const lifecycle = { shuttingDown: false };
    const hung = new Proxy(db, {
      get(target, property, receiver) {
        if (property === "$queryRaw") return () => new Promise(() => {});
        return Reflect.get(target, property, receiver);
      },
    });
    expect(await readiness({ db: hung, lifecycle, migrations: [] }, { timeoutMs: 50 })).toEqual({
      ready: false,
      reason: "database_down",
    });
  });

  it("is not ready once the process is shutting down", async () => {
    const lifecycle = { shuttingDown: false };
    expect(await readiness({ db, lifecycle, migrations: [] })).toMatchObject({ ready: true });
    lifecycle.shuttingDown = true;
    expect(await readiness({ db, lifecycle, migrations: [] })).toEqual({
      ready: false,
      reason: "shutting_down",
    });
  });
});

describe("graceful drain", () => {
  it("closes keep-alive connections with their answer once shutting down, so closing the server does not wait for them", async () => {
    const lifecycle = { shuttingDown: false };
    const server = Fastify();
    registerGracefulDrain(server, lifecycle);
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let arrived = () => {};
    const inFlight = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    server.get("/slow", async () => {
      arrived();
      await held;
      return { ok: true };
    });
    server.get("/fast", async () => ({ ok: true }));
    const url = await server.listen({ host: "127.0.0.1", port: 0 });
    const agent = new http.Agent({ keepAlive: true });
    const get = (path: string) =>
      new Promise<http.IncomingMessage>((resolve, reject) => {
        http.get(`${url}${path}`, { agent }, (res) => resolve(res.resume())).on("error", reject);
      });
    try {
      expect((await get("/fast")).headers.connection).toBe("keep-alive");
      lifecycle.shuttingDown = true;
      // During the drain window, answers tell the client to drop the connection.
      expect((await get("/fast")).headers.connection).toBe("close");
      // A request in flight on a keep-alive connection when the server closes: its connection ends with
      // its answer, and the close completes (without the drain it would wait 72 s of keep-alive).
      const slow = get("/slow");
      await inFlight;
      const closed = server.close();
      release();
      expect((await slow).headers.connection).toBe("close");
      await closed;
      expect(server.server.listening).toBe(false);
    } finally {
      release();
      agent.destroy();
      await server.close();
    }
  }, 20_000);
});

describe("/metrics", () => {
  it("counts ingested usage events and labels requests by route pattern", async () => {
    const account = await db.account.create({ data: { name: "Metrics Co" } });
    const starter = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Starter" } });
    await db.subscription.create({
      data: {
        accountId: account.id,
        planId: starter.id,
        stripePriceId: "price_metrics",
        stripeSubscriptionId: "sub_metrics",
        status: "active",
        currentPeriodStart: new Date("2026-11-01T00:00:00Z"),
        currentPeriodEnd: new Date("2026-12-01T00:00:00Z"),
      },
    });
    const headers = { authorization: "Bearer observability-token-0123456789" };
    const call = (id: string, seconds: number) => ({
      call_id: id,
      account_id: account.id,
      direction: "inbound",
      started_at: "2026-11-20T10:00:00Z",
      duration_seconds: seconds,
    });
    const batch = { events: [call("m-1", 61), call("m-2", 600), { ...call("m-3", 5), account_id: "nope" }] };
    const first = await app.inject({ method: "POST", url: "/api/v1/usage/calls", headers, payload: batch });
    expect(first.json()).toMatchObject({ accepted: 2, duplicates: 0, rejected: 1 });
    await app.inject({ method: "POST", url: "/api/v1/usage/calls", headers, payload: batch });
    await app.inject({ method: "GET", url: `/api/v1/accounts/${account.id}/usage`, headers });

    const text = await metrics();
    expect(sample(text, "minutely_usage_events_ingested_total", { result: "accepted" })).toBe(2);
    expect(sample(text, "minutely_usage_events_ingested_total", { result: "duplicate" })).toBe(2);
    expect(sample(text, "minutely_usage_events_ingested_total", { result: "rejected" })).toBe(2);
    expect(sample(text, "minutely_usage_minutes_ingested_total")).toBe(12);
    const posted = { method: "POST", route: "/api/v1/usage/calls", status_code: "200" };
    expect(sample(text, "minutely_http_requests_total", posted)).toBe(2);
    expect(sample(text, "minutely_http_request_duration_seconds_count", posted)).toBe(2);
    const read = { method: "GET", route: "/api/v1/accounts/:account_id/usage", status_code: "200" };
    expect(sample(text, "minutely_http_requests_total", read)).toBe(1);
    // Raw URLs never become labels.
    expect(text).not.toContain(account.id);
  });

  it("keeps a bounded set of request series however many distinct URLs arrive", async () => {
    // Each label set is a series prom-client keeps for the life of the process: a label taken from the URL
    // would grow the memory of a replica with every new id, path or query a client sends.
    const series = (text: string) =>
      text.split("\n").filter((line) => line.startsWith("minutely_http_requests_total{")).length;
    const before = series(await metrics());
    for (let i = 0; i < 200; i++) {
      const id = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
      for (const url of [
        `/api/v1/accounts/${id}/usage?n=${i}`, // a route with a parameter (401: no token)
        `/api/nothing-here-${i}`, // no route (404)
        `/trpc/nothing.here${i}?batch=1&input=%7B%7D`, // an unknown procedure
        `/api/dashboard/comprehensive/?i=${i}`, // a query string
      ]) {
        await app.inject({ method: "GET", url });
      }
    }
    // 800 requests to 800 URLs: a handful of series (one per route pattern and status), never one per URL.
    expect(series(await metrics()) - before).toBeLessThanOrEqual(8);
  });

  it("reports the queue and the webhook backlog from the database", async () => {
    await new PostgresJobQueue(db).enqueue("observability-probe", { n: 1 });
    await new PostgresJobQueue(db).enqueue(
      "observability-probe",
      { n: 2 },
      { runAt: new Date(Date.now() + 3600_000) },
    );
    await db.stripeEvent.create({
      data: {
        id: "evt_backlog",
        type: "invoice.paid",
        payload: {},
        stripeCreatedAt: new Date(Date.now() - 120_000),
        receivedAt: new Date(Date.now() - 120_000),
      },
    });
    const text = await metrics();
    expect(sample(text, "minutely_queue_jobs", { task: "observability-probe", state: "ready" })).toBe(1);
    expect(sample(text, "minutely_queue_jobs", { task: "observability-probe", state: "scheduled" })).toBe(1);
    expect(sample(text, "minutely_queue_oldest_ready_job_age_seconds")).toBeGreaterThanOrEqual(0);
    expect(sample(text, "minutely_webhook_events_unprocessed", { status: "received" })).toBe(1);
    expect(sample(text, "minutely_webhook_events_unprocessed", { status: "failed" })).toBe(0);
    expect(sample(text, "minutely_webhook_oldest_unprocessed_age_seconds")).toBeGreaterThanOrEqual(120);
  });

  it("reports jobs put back after an outage as waiting for a dependency, due or not, as the admin app does", async () => {
    const queue = new PostgresJobQueue(db);
    await queue.enqueue("outage-probe", { n: 1 }, { runAt: new Date(Date.now() + 3600_000) });
    await queue.enqueue("outage-probe", { n: 2 }, { runAt: new Date(Date.now() - 60_000) });
    await db.$executeRaw`
      UPDATE graphile_worker._private_jobs
      SET last_error = '[outage 2] Stripe could not be reached; retried without counting an attempt: timeout'
      WHERE task_id = (SELECT id FROM graphile_worker._private_tasks WHERE identifier = 'outage-probe')`;
    const text = await metrics();
    const state = (name: string) =>
      sample(text, "minutely_queue_jobs", { task: "outage-probe", state: name });
    expect(state("waiting_for_dependency")).toBe(2);
    for (const other of ["ready", "scheduled", "retrying"]) expect(state(other) ?? 0).toBe(0);
  });
});

describe("logs", () => {
  it("redact credentials and one-time tokens", () => {
    const lines: string[] = [];
    const config = loadConfig({ DATABASE_URL: "postgresql://u@localhost/x" });
    const log = pino(loggerOptions(config, "minutely-api"), { write: (line: string) => lines.push(line) });
    log.info(
      {
        headers: {
          authorization: "Bearer sk_live_secret",
          cookie: "session=abc",
          "stripe-signature": "t=1,v1=x",
        },
        user: { password: "hunter22" },
      },
      "something happened",
    );
    const [line] = lines;
    expect(line).not.toMatch(/sk_live_secret|session=abc|v1=x|hunter22/);
    expect(JSON.parse(line ?? "{}")).toMatchObject({
      service: "minutely-api",
      msg: "something happened",
      headers: { authorization: "[redacted]", cookie: "[redacted]", "stripe-signature": "[redacted]" },
      user: { password: "[redacted]" },
    });
    expect(redactUrl("/api/auth/verify-email?token=abc123&callbackURL=%2F")).toBe(
      "/api/auth/verify-email?token=%5Bredacted%5D&callbackURL=%2F",
    );
    expect(redactUrl("/api/v1/usage/calls")).toBe("/api/v1/usage/calls");
  });

  it("are short coloured lines in development: one per request, health checks and metrics left out", async () => {
    const config = loadConfig({
      NODE_ENV: "development",
      DATABASE_URL: "postgresql://unused@localhost/unused",
      LOG_LEVEL: "info",
    });
    expect(config.logFormat).toBe("pretty");
    expect(loadConfig({ NODE_ENV: "test", DATABASE_URL: "postgresql://u@localhost/x" }).logFormat).toBe(
      "json",
    );
    let output = "";
    const destination = new Writable({
      write(chunk, _encoding, done) {
        output += chunk.toString();
        done();
      },
    });
    const auth = createAuth({
      db,
      secret: config.sessionSecret,
      baseUrl: config.publicUrl,
      trustedOrigins: config.trustedOrigins,
      secureCookies: false,
    });
    const dev = await buildServer({
      config,
      auth,
      logDestination: destination,
      ...testPorts(db, { stripeApiBase: "http://127.0.0.1:9", appUrl: config.appUrl }),
    });
    try {
      await dev.ready();
      await dev.inject({ method: "GET", url: "/health" });
      await dev.inject({ method: "GET", url: "/health/live" });
      await dev.inject({ method: "GET", url: "/metrics" });
      await dev.inject({ method: "GET", url: "/api/subscriptions/user/packages/" });
      await dev.inject({ method: "GET", url: "/api/auth/verify-email?token=secret-token-1" });
      await dev.inject({
        method: "GET",
        url: `/trpc/auth.me,catalog.selection?batch=1&input=${encodeURIComponent('{"0":{"json":null}}')}`,
      });
    } finally {
      await dev.close();
    }
    // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the colours pino-pretty adds
    const plain = output.replace(/\x1b\[[0-9;]*m/g, "");
    const lines = plain.split("\n").filter((line) => / (GET|POST) \//.test(line));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(
      /^\[\d\d:\d\d:\d\d\] WARN: GET \/api\/subscriptions\/user\/packages\/ 401 \d+ ms$/,
    );
    expect(lines[1]).toMatch(/GET \/api\/auth\/verify-email\?token=%5Bredacted%5D/);
    expect(lines[2]).toMatch(/GET \/trpc\/auth\.me,catalog\.selection \d{3} \d+ ms$/);
    expect(plain).not.toMatch(/secret-token-1|"level":|\/health|\/metrics/);
  });
});
