// Production mode, end to end: the bundle `pnpm build` makes, started with `pnpm start` / `pnpm worker`
// (NODE_ENV=production) against a database made from nothing by `pnpm db:migrate` and `pnpm db:seed`, with
// the Stripe emulator as STRIPE_API_BASE and a local SMTP server. Everything is driven over HTTP.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { DEMO_USERS } from "@minutely/api";
import { createPrismaClient, type Database } from "@minutely/db";
import { freePort } from "@minutely/db/embedded";
import type {} from "@minutely/db/vitest-global-setup";
import {
  REPO_ROOT,
  type RunningEmulator,
  startStripeEmulatorProcess,
  userWithAccount,
} from "@minutely/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { sample } from "./testing-metrics.ts";
import { type SmtpSink, startSmtpSink } from "./testing-smtp.ts";

const PUBLIC_URL = "https://billing.minutely.test";
const METERING_TOKEN = "production-test-metering-token";
const METRICS_TOKEN = "production-test-metrics-token-0123456789";
const SESSION_SECRET = "production-test-session-secret-0123456789abcdef";
const WEBHOOK_SECRET = "whsec_production_test";
const BASE_ENV = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" };

/** `pnpm build` of the server (esbuild, a fraction of a second); the SPAs are built when missing. */
function ensureBuilt(): void {
  const server = spawnSync(process.execPath, [join(REPO_ROOT, "apps/server/scripts/build.mjs")], {
    encoding: "utf8",
  });
  if (server.status !== 0) throw new Error(`the server build failed:\n${server.stdout}${server.stderr}`);
  for (const app of ["web", "admin"]) {
    if (existsSync(join(REPO_ROOT, "apps", app, "dist/index.html"))) continue;
    const spa = spawnSync("pnpm", ["--filter", `@minutely/${app}`, "build"], {
      cwd: REPO_ROOT,
      encoding: "utf8",
    });
    if (spa.status !== 0) throw new Error(`the ${app} build failed:\n${spa.stdout}${spa.stderr}`);
  }
}

interface Pnpm {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** Runs a root pnpm script (in its own process group, so nothing outlives the test). */
function pnpm(args: string[], env: Record<string, string>): Pnpm {
  const child = spawn("pnpm", args, {
    cwd: REPO_ROOT,
    env: { ...BASE_ENV, ...env },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

function killGroup(run: Pnpm | undefined): void {
  if (!run?.child.pid || run.child.exitCode !== null) return;
  try {
    process.kill(-run.child.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(100);
  }
}

/** The response, or undefined while nothing listens (yet, or any more). */
async function tryFetch(url: string): Promise<Response | undefined> {
  try {
    return await fetch(url);
  } catch {
    return undefined;
  }
}

/** The JSON log lines of a process (pnpm's own banner lines are not JSON and are skipped). */
function jsonLines(output: string): Record<string, unknown>[] {
  return output
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("the production build", () => {
  beforeAll(ensureBuilt, 300_000);

  it("refuses to start without its configuration, listing every problem in one message", () => {
    const result = spawnSync(process.execPath, [join(REPO_ROOT, "apps/server/dist/main.js")], {
      env: {
        ...BASE_ENV,
        NODE_ENV: "production",
        PORT: "70000",
        DATABASE_URL: "mysql://minutely@db/minutely",
        PUBLIC_URL: "http://billing.example.com",
        STRIPE_WEBHOOK_SECRET: "not-a-signing-secret",
        SMTP_URL: "https://user:hunter2@mail.example.com",
        WEB_DIST_DIR: "/nonexistent/web",
      },
      encoding: "utf8",
    });
    expect(result.status).toBe(78);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      [
        "Invalid configuration (11 problems):",
        "  - PORT must be a port number (0-65535)",
        "  - DATABASE_URL must be a postgresql:// URL",
        "  - STRIPE_WEBHOOK_SECRET must look like whsec_...",
        "  - SMTP_URL must be an smtp:// or smtps:// URL such as smtps://user:password@smtp.example.com:465",
        "  - SESSION_SECRET is required in production",
        "  - STRIPE_SECRET_KEY is required in production",
        "  - METERING_API_TOKEN is required in production",
        "  - METRICS_TOKEN is required in production",
        "  - MAIL_FROM is required in production",
        "  - PUBLIC_URL must be an https:// URL in production (session cookies are Secure)",
        "  - WEB_DIST_DIR: /nonexistent/web has no index.html (run `pnpm build`, or point WEB_DIST_DIR at the built customer app)",
        "Every variable is described in .env.example.",
        "",
      ].join("\n"),
    );
  });

  it("`pnpm worker` refuses to start too, asking only for what the worker needs", () => {
    const result = spawnSync("pnpm", ["worker"], { cwd: REPO_ROOT, env: BASE_ENV, encoding: "utf8" });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain(
      [
        "Invalid configuration (4 problems):",
        "  - DATABASE_URL is required (a postgresql:// URL)",
        "  - STRIPE_SECRET_KEY is required in production",
        "  - SMTP_URL is required in production",
        "  - MAIL_FROM is required in production",
        "Every variable is described in .env.example.",
      ].join("\n"),
    );
  });

  describe("started against a fresh database, with a separate worker", () => {
    const server = inject("minutelyTestDatabaseServer");
    const databaseName = `minutely_prod_${Date.now().toString(36)}`;
    const databaseUrl = (() => {
      const url = new URL(server.adminUrl);
      url.pathname = `/${databaseName}`;
      return url.toString();
    })();
    let db: Database;
    let sink: SmtpSink;
    let emulator: RunningEmulator;
    let api: Pnpm | undefined;
    let worker: Pnpm | undefined;
    let processEnv: Record<string, string> = {};
    let apiUrl = "";
    let workerUrl = "";
    const proxied = { origin: PUBLIC_URL, "x-forwarded-proto": "https" };

    async function admin(sql: string): Promise<void> {
      const client = new pg.Client({ connectionString: server.adminUrl });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    }

    beforeAll(async () => {
      await admin(`CREATE DATABASE "${databaseName}"`);
      db = createPrismaClient(databaseUrl, { poolSize: 2 });
      sink = await startSmtpSink();
      const apiPort = await freePort();
      const workerPort = await freePort();
      apiUrl = `http://127.0.0.1:${apiPort}`;
      workerUrl = `http://127.0.0.1:${workerPort}`;
      emulator = await startStripeEmulatorProcess({
        STRIPE_EMULATOR_WEBHOOK_URL: `${apiUrl}/api/webhooks/stripe`,
        STRIPE_EMULATOR_WEBHOOK_SECRET: WEBHOOK_SECRET,
      });
      const env = {
        DATABASE_URL: databaseUrl,
        HOST: "127.0.0.1",
        PORT: String(apiPort),
        WORKER_PORT: String(workerPort),
        PUBLIC_URL,
        TRUST_PROXY: "127.0.0.1",
        SESSION_SECRET,
        STRIPE_SECRET_KEY: "sk_test_minutely_production_test",
        STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
        STRIPE_API_BASE: emulator.url,
        STRIPE_TEST_CLOCKS: "false",
        METERING_API_TOKEN: METERING_TOKEN,
        METRICS_TOKEN,
        SMTP_URL: sink.url,
        MAIL_FROM: "Minutely <billing@minutely.test>",
        WORKER_MODE: "off",
        SHUTDOWN_DRAIN_SECONDS: "2",
      };
      processEnv = env;
    }, 120_000);

    afterAll(async () => {
      killGroup(api);
      killGroup(worker);
      await emulator?.stop();
      await sink?.close();
      await db?.$disconnect();
      await admin(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
    });

    it("gets its schema from `pnpm db:migrate` (run twice at once) and its catalog from `pnpm db:seed`", async () => {
      const migrations = [
        pnpm(["db:migrate"], { DATABASE_URL: databaseUrl }),
        pnpm(["db:migrate"], { DATABASE_URL: databaseUrl }),
      ];
      expect(await Promise.all(migrations.map((m) => m.exited))).toEqual([0, 0]);
      const outputs = migrations.map((m) => m.output());
      // The advisory lock serializes them: one applies everything, the other finds nothing left to do.
      expect(outputs.filter((o) => /applied \d+ migration\(s\)/.test(o))).toHaveLength(1);
      expect(outputs.filter((o) => /database is up to date/.test(o))).toHaveLength(1);
      const seed = pnpm(["db:seed"], { DATABASE_URL: databaseUrl });
      expect(await seed.exited).toBe(0);
      expect(await db.subscriptionPlan.count()).toBe(3);
    }, 120_000);

    it("starts with `pnpm start` and `pnpm worker` and both become ready", async () => {
      api = pnpm(["start"], processEnv);
      worker = pnpm(["worker"], processEnv);
      for (const [url, run] of [
        [apiUrl, api],
        [workerUrl, worker],
      ] as const) {
        const ready = await until(`${url} to be ready`, async () => {
          if (run.child.exitCode !== null)
            throw new Error(`exited with ${run.child.exitCode}:\n${run.output()}`);
          const response = await tryFetch(`${url}/health/ready`);
          return response?.ok ? await response.json() : undefined;
        });
        expect(ready).toMatchObject({ status: "ready", database: "up", migrations: "applied" });
        expect((await fetch(`${url}/health/live`)).status).toBe(200);
      }
      // Both run with the memory flags of the start scripts (docs/deploy.md, "Memory"): without them V8 lets
      // the heap grow to about four times its live size under load and keeps it.
      for (const [run, msg] of [
        [api, "Minutely API started"],
        [worker, "Minutely worker started"],
      ] as const) {
        const started = await until(msg, async () =>
          jsonLines(run.output()).find((line) => line.msg === msg),
        );
        expect(started.node, msg).toEqual({
          version: expect.stringMatching(/^v\d+\.\d+\.\d+$/),
          flags: ["--enable-source-maps", "--max-old-space-size=256", "--max-semi-space-size=8"],
        });
      }
    }, 120_000);

    it("serves the customer app at / and the admin app at /admin/", async () => {
      const web = readFileSync(join(REPO_ROOT, "apps/web/dist/index.html"), "utf8");
      const adminApp = readFileSync(join(REPO_ROOT, "apps/admin/dist/index.html"), "utf8");
      expect(web).not.toBe(adminApp);
      for (const [path, html] of [
        ["/", web],
        ["/usage", web],
        ["/api-keys", web],
        ["/billing/return?session_id=cs_x", web],
        ["/admin/", adminApp],
        ["/admin/packages", adminApp],
        ["/admin/webhooks/evt_1", adminApp],
      ] as const) {
        const response = await fetch(`${apiUrl}${path}`);
        expect(response.status, path).toBe(200);
        expect(response.headers.get("cache-control"), path).toBe("no-cache");
        expect(await response.text(), path).toBe(html);
      }
      const script = /src="(\/admin\/assets\/[^"]+\.js)"/.exec(adminApp)?.[1];
      const asset = await fetch(`${apiUrl}${script}`);
      expect(asset.headers.get("content-type")).toMatch(/javascript/);
      expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      for (const favicon of ["/favicon.svg", "/admin/favicon.svg"]) {
        const icon = await fetch(`${apiUrl}${favicon}`);
        expect(icon.headers.get("content-type"), favicon).toMatch(/^image\/svg\+xml/);
        expect(icon.headers.get("cache-control"), favicon).toBe("no-cache");
      }
      // A file of an older build (or a typo) is a 404, never the app's HTML with 200.
      for (const missing of [
        "/assets/old-build.js",
        "/admin/assets/old-build.css",
        "/favicon.ico",
        "/robots.txt",
      ]) {
        const response = await fetch(`${apiUrl}${missing}`);
        expect(response.status, missing).toBe(404);
        expect(response.headers.get("content-type"), missing).toMatch(/^application\/json/);
      }
    });

    it("signs up with a Secure cookie, subscribes with a card and meters a usage batch", async () => {
      const email = "first.customer@example.com";
      const signUp = await fetch(`${apiUrl}/api/auth/sign-up/email`, {
        method: "POST",
        headers: { ...proxied, "content-type": "application/json" },
        body: JSON.stringify({ email, password: "a-long-password-1", name: "First Customer" }),
      });
      expect(signUp.status, await signUp.clone().text()).toBe(200);
      const setCookie = signUp.headers.getSetCookie();
      expect(
        setCookie.some((c) => c.startsWith("__Secure-better-auth.session_token=") && /;\s*Secure/i.test(c)),
      ).toBe(true);
      const cookie = setCookie.map((c) => c.split(";")[0]).join("; ");
      // No demo user exists in production: the only user is the one who signed up.
      expect(await db.user.findMany({ where: { email: { in: DEMO_USERS.map((u) => u.email) } } })).toEqual(
        [],
      );
      expect((await db.user.findMany({ select: { email: true } })).map((u) => u.email)).toEqual([email]);

      // The API synced the seeded catalog to Stripe when it started.
      const starter = await until("the catalog sync", async () => {
        const plan = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Starter" } });
        return plan.stripePriceId ? plan : undefined;
      });
      // Buying needs a verified address (on in production): the sign-up mailed the link over SMTP.
      const confirm = await until("the verification email", async () =>
        sink.messages.find((m) => m.headers.subject === "Confirm your email address for Minutely"),
      );
      expect(confirm.to).toEqual([email]);
      const link = /https:\/\/\S+\/verify-email\?token=(\S+)/.exec(
        (await db.mailMessage.findFirstOrThrow({ where: { to: email } })).text,
      );
      const verified = await fetch(`${apiUrl}/api/auth/verify-email?token=${link?.[1] ?? ""}`, {
        headers: proxied,
      });
      expect(verified.status, await verified.clone().text()).toBe(200);

      const subscribe = await fetch(`${apiUrl}/api/subscriptions/user/actions/`, {
        method: "POST",
        headers: { ...proxied, cookie, "content-type": "application/json" },
        body: JSON.stringify({
          action: "subscribe",
          package_id: starter.id,
          payment_method_id: "pm_card_visa",
        }),
      });
      const subscribed = await subscribe.json();
      expect(subscribe.status, JSON.stringify(subscribed)).toBe(200);
      expect(subscribed).toMatchObject({
        result: "subscribed",
        subscription: { status: "active", package_name: "Starter" },
      });

      const user = await userWithAccount(db, { email });
      const startedAt = new Date().toISOString();
      const batch = {
        events: [
          {
            call_id: "prod-call-1",
            account_id: user.accountId,
            direction: "outbound",
            started_at: startedAt,
            duration_seconds: 61,
          },
          {
            call_id: "prod-call-2",
            account_id: user.accountId,
            direction: "inbound",
            started_at: startedAt,
            duration_seconds: 50_000,
          },
        ],
      };
      const usage = (requestId: string) =>
        fetch(`${apiUrl}/api/v1/usage/calls`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${METERING_TOKEN}`,
            "content-type": "application/json",
            "x-request-id": requestId,
            // As the load balancer (a trusted proxy, TRUST_PROXY=127.0.0.1) reports the caller.
            "x-forwarded-for": "203.0.113.7",
          },
          body: JSON.stringify(batch),
        });
      const first = await usage("e2e-usage-1");
      expect(first.headers.get("x-request-id")).toBe("e2e-usage-1");
      expect(await first.json()).toMatchObject({ accepted: 2, duplicates: 0, rejected: 0 });
      expect(await (await usage("e2e-usage-2")).json()).toMatchObject({ accepted: 0, duplicates: 2 });

      const reading = await fetch(`${apiUrl}/api/v1/accounts/${user.accountId}/usage`, {
        headers: { authorization: `Bearer ${METERING_TOKEN}` },
      });
      expect(await reading.json()).toMatchObject({ minutes_used: 836, minutes_limit: 1000 });

      // 83.6% of the Starter minutes: the 80% alert is emailed by the worker process over SMTP.
      const mail = await until("the usage alert email", async () =>
        sink.messages.find((m) => m.headers.subject === "Minutely: 80% of your call minutes used"),
      );
      expect(mail.to).toEqual([email]);
      expect(mail.headers.from).toBe("Minutely <billing@minutely.test>");
      const stored = await until("the outbox stamp", async () => {
        const row = await db.mailMessage.findFirst({
          where: { to: email, subject: { startsWith: "Minutely: 80%" }, sentAt: { not: null } },
        });
        return row ?? undefined;
      });
      expect(stored.subject).toBe("Minutely: 80% of your call minutes used");

      // Stripe's webhooks were received by the API and processed by the worker.
      await until("the webhooks to be processed", async () => {
        const events = await db.stripeEvent.groupBy({ by: ["status"], _count: true });
        const processed = events.find((e) => e.status === "processed")?._count ?? 0;
        return processed > 0 && events.every((e) => e.status === "processed") ? true : undefined;
      });

      // The API's /metrics answers only the metrics token.
      expect((await fetch(`${apiUrl}/metrics`)).status).toBe(401);
      const apiMetrics = await (
        await fetch(`${apiUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
      ).text();
      expect(sample(apiMetrics, "minutely_usage_events_ingested_total", { result: "accepted" })).toBe(2);
      expect(sample(apiMetrics, "minutely_usage_events_ingested_total", { result: "duplicate" })).toBe(2);
      expect(sample(apiMetrics, "minutely_usage_minutes_ingested_total")).toBe(836);
      expect(
        sample(apiMetrics, "minutely_http_requests_total", {
          method: "POST",
          route: "/api/v1/usage/calls",
          status_code: "200",
        }),
      ).toBe(2);
      expect(sample(apiMetrics, "minutely_webhook_events_unprocessed", { status: "received" })).toBe(0);
      expect(sample(apiMetrics, "process_resident_memory_bytes")).toBeGreaterThan(0);
      // WORKER_MODE=off: this process ran no job.
      expect(
        sample(apiMetrics, "minutely_jobs_completed_total", { task: "process-stripe-event" }),
      ).toBeUndefined();

      const workerMetrics = await until("the worker's metrics", async () => {
        const text = await (await fetch(`${workerUrl}/metrics`)).text();
        return (sample(text, "minutely_jobs_completed_total", { task: "send-usage-alert-email" }) ?? 0) >= 1
          ? text
          : undefined;
      });
      expect(
        sample(workerMetrics, "minutely_jobs_completed_total", { task: "process-stripe-event" }),
      ).toBeGreaterThan(0);
      expect(sample(workerMetrics, "minutely_webhook_processing_lag_seconds_count")).toBeGreaterThan(0);

      // Structured logs: JSON lines with the request id, no secrets.
      const apiLog = api?.output() ?? "";
      const requestLines = jsonLines(apiLog).filter((line) => line.reqId === "e2e-usage-1");
      expect(requestLines.map((line) => line.msg)).toEqual(["incoming request", "request completed"]);
      expect(requestLines[0]).toMatchObject({
        service: "minutely-api",
        req: { method: "POST", url: "/api/v1/usage/calls", remoteAddress: "203.0.113.7" },
      });
      for (const secret of [METERING_TOKEN, SESSION_SECRET, WEBHOOK_SECRET, cookie.split("=")[1] ?? cookie]) {
        expect(apiLog).not.toContain(secret);
        expect(worker?.output()).not.toContain(secret);
      }
    }, 120_000);

    it("on SIGTERM stops being ready, drains, and exits cleanly", async () => {
      const started = jsonLines(api?.output() ?? "").find((line) => line.msg === "Minutely API started");
      const pid = Number(started?.pid);
      expect(pid).toBeGreaterThan(0);
      process.kill(pid, "SIGTERM");
      const draining = await until("the API to report shutting down", async () => {
        const response = await tryFetch(`${apiUrl}/health/ready`);
        return response?.status === 503 ? await response.json() : undefined;
      });
      expect(draining).toEqual({ status: "not_ready", reason: "shutting_down" });
      expect(await api?.exited, `the API's last output:\n${api?.output().slice(-4000)}`).toBe(0);

      const workerStarted = jsonLines(worker?.output() ?? "").find(
        (line) => line.msg === "Minutely worker started",
      );
      process.kill(Number(workerStarted?.pid), "SIGTERM");
      expect(await worker?.exited, `the worker's last output:\n${worker?.output().slice(-4000)}`).toBe(0);
    });
  });
});
