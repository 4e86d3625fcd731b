// What `pnpm bench` (run.ts) and the CPU profiler (profile.ts) both set up: a fresh embedded PostgreSQL with
// the migrations, the packages and accounts on an active Pro subscription, and the API as its own process
// (bench/dashboard-server.ts, worker off) waited for until it answers.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createPrismaClient, type Database, prepareDatabase, seedCatalog } from "@minutely/db";
import { type EmbeddedPostgresServer, freePort, startEmbeddedPostgres } from "@minutely/db/embedded";
import pg from "pg";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..");

export const METERING_TOKEN = "bench-metering-token-0123456789";
export const WEBHOOK_SECRET = "whsec_bench_secret";

export interface BenchDatabase {
  server: EmbeddedPostgresServer;
  url: string;
  db: Database;
}

/** A fresh embedded PostgreSQL (ephemeral data dir) with database `name` migrated and the packages seeded. */
export async function startBenchDatabase(
  name: string,
  options: { settings?: readonly string[] } = {},
): Promise<BenchDatabase> {
  const server = await startEmbeddedPostgres({
    dataDir: join(mkdtempSync(join(tmpdir(), `minutely-${name}-`)), "data"),
    ephemeral: true,
    ...(options.settings ? { settings: options.settings } : {}),
  });
  const admin = new pg.Client({ connectionString: server.adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = server.urlFor(name);
  await prepareDatabase(url);
  const db = createPrismaClient(url, { poolSize: 4 });
  await seedCatalog(db);
  return { server, url, db };
}

/** An active Pro subscription of the account, its 30-day period begun at `periodStart`. */
export async function subscribePro(
  db: Database,
  accountId: string,
  periodStart: Date,
  stripeSubscriptionId: string,
): Promise<void> {
  const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
  await db.subscription.create({
    data: {
      accountId,
      stripeSubscriptionId,
      planId: pro.id,
      stripePriceId: "price_bench",
      status: "active",
      currentPeriodStart: periodStart,
      currentPeriodEnd: new Date(periodStart.getTime() + 30 * 24 * 3600 * 1000),
    },
  });
}

/**
 * `count` accounts subscribed to Pro (`subscribePro`), each with one agent when `withAgent`; in creation
 * order.
 */
export async function subscribedAccounts(
  db: Database,
  count: number,
  options: { periodStart: Date; withAgent?: boolean },
): Promise<{ id: string; agentId: string | null }[]> {
  const accounts: { id: string; agentId: string | null }[] = [];
  for (let i = 0; i < count; i++) {
    const account = await db.account.create({ data: { name: `Bench ${i}` } });
    await subscribePro(db, account.id, options.periodStart, `sub_bench_${i}`);
    const agent = options.withAgent
      ? await db.agent.create({ data: { accountId: account.id, name: "Agent" } })
      : null;
    accounts.push({ id: account.id, agentId: agent?.id ?? null });
  }
  return accounts;
}

export interface BenchApi {
  base: string;
  process: ChildProcess;
  /** Sends `signal` and waits for the process to exit (SIGKILL after 15 s), before the database stops. */
  stop(signal: NodeJS.Signals): Promise<void>;
}

/**
 * Starts the API (bench/dashboard-server.ts: the server as main.ts builds it, plus the dashboard's plain
 * routes) on `url`, with Node's `nodeArgs` (e.g. `--cpu-prof`), pinned to CPU 0 with `taskset` when
 * `pinned`, and waits (up to 60 s) for /health.
 */
export async function startBenchApi(
  url: string,
  options: { nodeArgs?: readonly string[]; pinned?: boolean; env?: Record<string, string> } = {},
): Promise<BenchApi> {
  const port = await freePort();
  // Node itself with tsx's loader (NODE_OPTIONS may not carry --cpu-prof), from the server's folder.
  const node = [
    process.execPath,
    ...(options.nodeArgs ?? []),
    "--import",
    "tsx",
    join(HERE, "dashboard-server.ts"),
  ];
  const [command, ...args] = options.pinned ? ["taskset", "-c", "0", ...node] : node;
  const child = spawn(command ?? process.execPath, args, {
    cwd: join(ROOT, "apps/server"),
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      NODE_ENV: "test",
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      DATABASE_URL: url,
      DATABASE_POOL_SIZE: "20",
      METERING_API_TOKEN: METERING_TOKEN,
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_API_BASE: "http://127.0.0.1:9",
      WORKER_MODE: "off",
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      ...options.env,
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch {
      // starting
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    base,
    process: child,
    async stop(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => {
        process.stderr.write(`[bench] the API did not exit 15 s after ${signal}: killed\n`);
        child.kill("SIGKILL");
      }, 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
