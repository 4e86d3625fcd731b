// Memory of the production build under load: the bundle `pnpm build` makes (apps/server/dist), started with
// the node flags of `pnpm start` / `pnpm worker` (NODE_ENV=production, the API replicas with WORKER_MODE=off,
// one worker), against embedded PostgreSQL, the Stripe emulator and a local SMTP sink. 200 connections drive
// the metering and dashboard endpoints; the resident memory of each process (/proc/<pid>/status) is sampled
// every second and V8's heap used (/metrics) every five, while idle, under load and after it. The baseline,
// measured alone afterwards under the same load, is a bare Fastify server with a pg pool of the same size
// answering the same requests with one plain query each (memory-baseline.mjs).
//
// `pnpm bench` runs it as a section of its table. On its own (a soak, say):
//   pnpm --filter @minutely/bench exec tsx memory.ts
// with MEMORY_LOAD_SECONDS (default 30), MEMORY_AFTER_SECONDS (30), MEMORY_IDLE_SECONDS (10), MEMORY_REPLICAS
// (1), MEMORY_BASELINE=0 to skip the baseline, MEMORY_SAMPLES=file.csv to keep every sample,
// MEMORY_LOG_DIR=dir for each process's output, MEMORY_API_ARGS="--trace-gc" for more node flags (after
// those of `pnpm start`; --heapsnapshot-signal=SIGUSR2 for heap snapshots) and MEMORY_API_ENV="K=V,K=V".
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createPrismaClient, prepareDatabase, seedCatalog } from "@minutely/db";
import { freePort, startEmbeddedPostgres } from "@minutely/db/embedded";
import { startStripeEmulatorProcess } from "@minutely/testing";
import autocannon from "autocannon";
import pg from "pg";
import { startSmtpSink } from "../apps/server/src/testing-smtp.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..");
const PUBLIC_URL = "https://billing.minutely.test";
const METERING_TOKEN = "bench-memory-metering-token-0123";
const METRICS_TOKEN = "bench-memory-metrics-token-0123456789abcdef";
const WEBHOOK_SECRET = "whsec_bench_memory";
const MB = 1024 * 1024;

export interface MemoryOptions {
  /** Seconds of load (200 connections). */
  loadSeconds: number;
  /** Seconds sampled after the load stopped. */
  afterSeconds: number;
  /** Seconds sampled idle before the load, after a warm-up. */
  idleSeconds: number;
  connections: number;
  /** API replicas (each gets an equal share of the connections). */
  replicas: number;
  customers: number;
  /** Whether to measure the baseline too (the benchmark does; exploratory runs may not). */
  baseline: boolean;
  log: (message: string) => void;
  /** Extra node arguments of the API and worker processes. */
  apiArgs?: string[];
  /** Extra node arguments of each API replica (A/B comparisons of flags under the same load). */
  replicaArgs?: string[][];
  /** Extra environment of the API and worker processes. */
  apiEnv?: Record<string, string>;
  /** Where to write every sample as CSV. */
  samplesFile?: string;
}

export interface ProcessMemory {
  name: string;
  idleRss: number;
  peakRss: number;
  /** Resident memory at the end of the after-load window. */
  afterRss: number;
  idleHeap: number;
  peakHeap: number;
  afterHeap: number;
  /** CPU seconds used during the load. */
  cpuSeconds: number;
}

export interface MemoryResult {
  processes: ProcessMemory[];
  baseline: ProcessMemory;
  requests: number;
  /** Requests answered by each API replica, in order. */
  requestsPerReplica: number[];
  errors: number;
  baselineRequests: number;
  options: Omit<MemoryOptions, "log">;
}

interface Sample {
  t: number;
  phase: "idle" | "load" | "after";
  rss: number;
  heapUsed: number;
}

function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system) the process has used, from /proc/<pid>/stat (clock ticks of 1/100 s). */
function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

function promSample(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(" ")[1]) : 0;
}

/**
 * The node flags of `pnpm start` (the root package.json's start script), so the benchmark measures the
 * processes exactly as production starts them. `pnpm worker` uses the same (the production test checks it).
 */
export function startFlags(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: { start: string } };
  const words = pkg.scripts.start.split(/\s+/);
  return words.slice(words.indexOf("node") + 1).filter((word) => word.startsWith("--"));
}

interface Watched {
  name: string;
  child: ChildProcess;
  /** V8 heap used, in bytes. */
  heap(): Promise<number>;
  samples: Sample[];
  /** CPU seconds used during the load. */
  cpuSeconds?: number;
}

function startProcess(
  name: string,
  args: string[],
  env: Record<string, string>,
  log: (m: string) => void,
): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const file = process.env.MEMORY_LOG_DIR
    ? createWriteStream(join(process.env.MEMORY_LOG_DIR, `${name.replace(/\W+/g, "-")}.log`))
    : undefined;
  const keep = (chunk: Buffer) => {
    file?.write(chunk);
    output += chunk.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  child.once("exit", (code, signal) => {
    if (code !== 0 && signal === null) log(`${name} exited with ${code}:\n${output.slice(-4000)}`);
  });
  return { child, output: () => output };
}

async function waitFor(url: string, what: string, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not answer ${url}:\n${output().slice(-4000)}`);
}

function summarize(watched: Watched): ProcessMemory {
  const of = (phase: Sample["phase"]) => watched.samples.filter((s) => s.phase === phase);
  const last = (list: Sample[]) => list.slice(-3);
  const mean = (list: number[]) => list.reduce((a, b) => a + b, 0) / Math.max(1, list.length);
  const idle = of("idle");
  const during = [...of("load"), ...of("after")];
  const after = last(of("after"));
  return {
    name: watched.name,
    idleRss: mean(idle.map((s) => s.rss)),
    peakRss: Math.max(0, ...during.map((s) => s.rss)),
    afterRss: mean(after.map((s) => s.rss)),
    idleHeap: mean(idle.map((s) => s.heapUsed)),
    peakHeap: Math.max(0, ...during.map((s) => s.heapUsed)),
    afterHeap: mean(after.map((s) => s.heapUsed)),
    cpuSeconds: watched.cpuSeconds ?? 0,
  };
}

/** A customer signed up and subscribed through the API: its session cookie and its agent. */
interface Customer {
  accountId: string;
  cookie: string;
  agentId: string;
}

/**
 * The requests each connection cycles through, what the calling platform and the customers send: a single
 * usage event (the coalescer's path), the web app's dashboard batch over tRPC, a batch of 50 events, the
 * REST dashboard and a call authorization. Every event and call is new.
 */
export function mixedRequests(customers: Customer[], run: string) {
  let seq = 0;
  const now = Date.now();
  const event = (accountId: string) => {
    seq += 1;
    return {
      call_id: `mem-${run}-${seq}`,
      account_id: accountId,
      direction: seq % 2 === 0 ? "inbound" : "outbound",
      started_at: new Date(now - ((seq % 3600) + 60) * 1000).toISOString(),
      duration_seconds: seq % 240,
    };
  };
  const pick = () => customers[seq % customers.length] as Customer;
  const metering = { authorization: `Bearer ${METERING_TOKEN}`, "content-type": "application/json" };
  const trpcInput = encodeURIComponent(JSON.stringify({ 0: {}, 1: {} }));
  return [
    {
      method: "POST" as const,
      path: "/api/v1/usage/calls",
      headers: metering,
      setupRequest: (req: autocannon.Request) => ({
        ...req,
        body: JSON.stringify({ events: [event(pick().accountId)] }),
      }),
    },
    {
      method: "GET" as const,
      path: `/trpc/dashboard.get,subscription.overview?batch=1&input=${trpcInput}`,
      setupRequest: (req: autocannon.Request) => ({ ...req, headers: { cookie: pick().cookie } }),
    },
    {
      method: "POST" as const,
      path: "/api/v1/usage/calls",
      headers: metering,
      setupRequest: (req: autocannon.Request) => {
        const account = pick().accountId;
        return { ...req, body: JSON.stringify({ events: Array.from({ length: 50 }, () => event(account)) }) };
      },
    },
    {
      method: "GET" as const,
      path: "/api/dashboard/comprehensive/",
      setupRequest: (req: autocannon.Request) => ({ ...req, headers: { cookie: pick().cookie } }),
    },
    {
      method: "POST" as const,
      path: "/api/v1/calls/authorize",
      headers: metering,
      setupRequest: (req: autocannon.Request) => {
        const customer = pick();
        seq += 1;
        return {
          ...req,
          body: JSON.stringify({
            call_id: `mem-auth-${run}-${seq}`,
            account_id: customer.accountId,
            agent_id: customer.agentId,
            direction: "inbound",
          }),
        };
      },
    },
  ];
}

export interface MemoryStack {
  apiPorts: number[];
  baselinePort: number;
  watched: Watched[];
  baseline: Watched;
  customers: Customer[];
  run: string;
  stop(): Promise<void>;
}

export async function startMemoryStack(
  options: Pick<MemoryOptions, "replicas" | "customers" | "log" | "apiArgs" | "apiEnv" | "replicaArgs">,
): Promise<MemoryStack> {
  const { log } = options;
  const pgServer = await startEmbeddedPostgres({
    dataDir: join(mkdtempSync(join(tmpdir(), "minutely-memory-")), "data"),
    ephemeral: true,
  });
  const children: ChildProcess[] = [];
  const sink = await startSmtpSink();
  let emulator: Awaited<ReturnType<typeof startStripeEmulatorProcess>> | undefined;
  let pool: pg.Pool | undefined;
  const stop = async () => {
    for (const child of children) child.kill("SIGKILL");
    await pool?.end();
    await emulator?.stop();
    await sink.close();
    await pgServer.stop();
  };
  try {
    const admin = new pg.Client({ connectionString: pgServer.adminUrl });
    await admin.connect();
    await admin.query("CREATE DATABASE memory");
    await admin.end();
    const url = pgServer.urlFor("memory");
    await prepareDatabase(url);
    pool = new pg.Pool({ connectionString: url, max: 4 });
    // Connections pool.end() is still closing when PostgreSQL stops get its 57P01: not a failure.
    pool.on("error", () => {});
    const seedDb = createPrismaClient(url, { poolSize: 2 });
    await seedCatalog(seedDb);
    await seedDb.$disconnect();

    const ports = await Promise.all(Array.from({ length: options.replicas + 2 }, () => freePort()));
    const apiPorts = ports.slice(0, options.replicas);
    const workerPort = ports[options.replicas] as number;
    const baselinePort = ports[options.replicas + 1] as number;
    emulator = await startStripeEmulatorProcess({
      STRIPE_EMULATOR_WEBHOOK_URL: `http://127.0.0.1:${apiPorts[0]}/api/webhooks/stripe`,
      STRIPE_EMULATOR_WEBHOOK_SECRET: WEBHOOK_SECRET,
    });
    const env = {
      NODE_ENV: "production",
      DATABASE_URL: url,
      HOST: "127.0.0.1",
      PUBLIC_URL,
      TRUST_PROXY: "127.0.0.1",
      SESSION_SECRET: "bench-memory-session-secret-0123456789abcdef",
      STRIPE_SECRET_KEY: "sk_test_bench_memory",
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_API_BASE: emulator.url,
      STRIPE_TEST_CLOCKS: "false",
      METERING_API_TOKEN: METERING_TOKEN,
      METRICS_TOKEN,
      SMTP_URL: sink.url,
      MAIL_FROM: "Minutely <billing@minutely.test>",
      LOG_LEVEL: "warn",
      WORKER_MODE: "off",
      SHUTDOWN_DRAIN_SECONDS: "0",
      ...options.apiEnv,
    };
    const watched: Watched[] = [];
    const metricsHeap = (base: string, headers: Record<string, string>) => async () => {
      try {
        const text = await (await fetch(`${base}/metrics`, { headers })).text();
        return promSample(text, "nodejs_heap_size_used_bytes");
      } catch {
        return 0;
      }
    };
    const nodeArgs = [...startFlags(), ...(options.apiArgs ?? [])];
    for (const [index, port] of apiPorts.entries()) {
      const api = startProcess(
        `API ${index + 1}`,
        [...nodeArgs, ...(options.replicaArgs?.[index] ?? []), join(ROOT, "apps/server/dist/main.js")],
        { ...env, PORT: String(port) },
        log,
      );
      children.push(api.child);
      await waitFor(`http://127.0.0.1:${port}/health/ready`, `API ${index + 1}`, api.output);
      watched.push({
        name: options.replicas === 1 ? "API" : `API replica ${index + 1}`,
        child: api.child,
        heap: metricsHeap(`http://127.0.0.1:${port}`, { authorization: `Bearer ${METRICS_TOKEN}` }),
        samples: [],
      });
    }
    const worker = startProcess(
      "worker",
      [...nodeArgs, join(ROOT, "apps/server/dist/worker-main.js")],
      { ...env, WORKER_PORT: String(workerPort) },
      log,
    );
    children.push(worker.child);
    await waitFor(`http://127.0.0.1:${workerPort}/health/ready`, "worker", worker.output);
    watched.push({
      name: "worker",
      child: worker.child,
      heap: metricsHeap(`http://127.0.0.1:${workerPort}`, {}),
      samples: [],
    });
    const baselineProcess = startProcess(
      "baseline",
      [join(HERE, "memory-baseline.mjs")],
      { NODE_ENV: "production", DATABASE_URL: url, PORT: String(baselinePort), POOL_SIZE: "10" },
      log,
    );
    children.push(baselineProcess.child);
    await waitFor(`http://127.0.0.1:${baselinePort}/health`, "baseline", baselineProcess.output);
    const baseline: Watched = {
      name: "baseline",
      child: baselineProcess.child,
      heap: async () => {
        try {
          return (
            (await (await fetch(`http://127.0.0.1:${baselinePort}/memory`)).json()) as { heapUsed: number }
          ).heapUsed;
        } catch {
          return 0;
        }
      },
      samples: [],
    };

    // Customers: signed up through the API and subscribed to Pro with the emulator's test card.
    const apiBase = `http://127.0.0.1:${apiPorts[0]}`;
    const proxied = { origin: PUBLIC_URL, "x-forwarded-proto": "https", "content-type": "application/json" };
    const deadline = Date.now() + 60_000;
    let planId = "";
    while (!planId) {
      const { rows } = await pool.query(
        `SELECT id FROM subscription_plan WHERE name = 'Pro' AND stripe_price_id IS NOT NULL`,
      );
      planId = rows[0]?.id ?? "";
      if (!planId && Date.now() > deadline) throw new Error("the catalog never got Stripe prices");
      if (!planId) await new Promise((r) => setTimeout(r, 200));
    }
    const run = randomUUID().slice(0, 8);
    const customers: Customer[] = [];
    for (let i = 0; i < options.customers; i++) {
      const signUp = await fetch(`${apiBase}/api/auth/sign-up/email`, {
        method: "POST",
        headers: { ...proxied, "x-forwarded-for": `10.77.0.${i + 1}` },
        body: JSON.stringify({
          name: `Memory ${i}`,
          email: `memory-${run}-${i}@example.com`,
          password: "bench-memory-password-1",
        }),
      });
      if (!signUp.ok) throw new Error(`sign-up: ${signUp.status} ${await signUp.text()}`);
      // Buying needs a confirmed email address: confirmed here as the link mailed at sign-up would.
      await pool.query(`UPDATE "user" SET email_verified = true WHERE email = $1`, [
        `memory-${run}-${i}@example.com`,
      ]);
      const cookie = signUp.headers
        .getSetCookie()
        .map((c) => c.split(";")[0])
        .join("; ");
      const subscribed = await fetch(`${apiBase}/api/subscriptions/user/actions/`, {
        method: "POST",
        headers: { ...proxied, cookie },
        body: JSON.stringify({ action: "subscribe", package_id: planId, payment_method_id: "pm_card_visa" }),
      });
      if (!subscribed.ok) throw new Error(`subscribe: ${subscribed.status} ${await subscribed.text()}`);
      const agent = await fetch(`${apiBase}/trpc/agents.create`, {
        method: "POST",
        headers: { ...proxied, cookie },
        body: JSON.stringify({ json: { name: `Agent ${i}` } }),
      });
      const agentId = ((await agent.json()) as { result?: { data?: { json?: { id?: string } } } }).result
        ?.data?.json?.id;
      const { rows } = await pool.query(
        `SELECT m.account_id FROM "user" u JOIN account_member m ON m.user_id = u.id AND m.role = 'owner' WHERE u.email = $1`,
        [`memory-${run}-${i}@example.com`],
      );
      customers.push({ accountId: rows[0].account_id, cookie, agentId: agentId ?? "" });
    }
    log(`memory: ${customers.length} customers subscribed; ${options.replicas} API replica(s), a worker`);
    return { apiPorts, baselinePort, watched, baseline, customers, run, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export async function measureMemory(options: MemoryOptions): Promise<MemoryResult> {
  const { log } = options;
  const stack = await startMemoryStack(options);
  const { apiPorts, baselinePort, watched, baseline, customers, run } = stack;
  try {
    const started = Date.now();
    const sleep = (seconds: number) => new Promise((r) => setTimeout(r, seconds * 1000));
    const load = (base: string, connections: number, seconds: number) =>
      autocannon({
        url: base,
        connections,
        duration: seconds,
        timeout: 60,
        requests: mixedRequests(customers, `${run}-${base.slice(-5)}-${connections}-${seconds}`),
      });
    /**
     * Idle, under load, after it: the resident memory of each target every second and its heap every fifth
     * (a scrape is work too: Prometheus scrapes every 15-60 s, not every second).
     */
    const phases = async (targets: Watched[], bases: string[]) => {
      let phase: Sample["phase"] = "idle";
      let tick = 0;
      const heaps = new Map<Watched, number>();
      const sampler = setInterval(() => {
        tick += 1;
        for (const w of targets) {
          const pid = w.child.pid;
          if (!pid) continue;
          if (tick % 5 === 1) void w.heap().then((heap) => heaps.set(w, heap));
          w.samples.push({
            t: (Date.now() - started) / 1000,
            phase,
            rss: rssOf(pid),
            heapUsed: heaps.get(w) ?? 0,
          });
        }
      }, 1000);
      try {
        // A few seconds of light load first, so the idle figure is a process that has served requests.
        await Promise.all(bases.map((base) => load(base, 4, 3)));
        await sleep(2);
        for (const w of targets) w.samples.length = 0;
        await sleep(options.idleSeconds);
        log(
          `memory: ${options.connections} connections on ${bases.length} server(s) for ${options.loadSeconds} s`,
        );
        phase = "load";
        const share = Math.floor(options.connections / bases.length);
        const cpuBefore = targets.map((w) => cpuSecondsOf(w.child.pid ?? 0));
        const results = await Promise.all(bases.map((base) => load(base, share, options.loadSeconds)));
        targets.forEach((w, i) => {
          w.cpuSeconds = cpuSecondsOf(w.child.pid ?? 0) - (cpuBefore[i] ?? 0);
        });
        phase = "after";
        await sleep(options.afterSeconds);
        return results;
      } finally {
        clearInterval(sampler);
      }
    };

    const results = await phases(
      watched,
      apiPorts.map((p) => `http://127.0.0.1:${p}`),
    );
    // The baseline alone, under the same load.
    const baselineRun = options.baseline
      ? ((await phases([baseline], [`http://127.0.0.1:${baselinePort}`]))[0] as autocannon.Result)
      : undefined;
    const baselineWatched = baseline;

    if (options.samplesFile) {
      const lines = ["process,t,phase,rss_mb,heap_used_mb"];
      for (const w of [...watched, baselineWatched])
        for (const s of w.samples)
          lines.push(
            `${w.name},${s.t.toFixed(0)},${s.phase},${(s.rss / MB).toFixed(1)},${(s.heapUsed / MB).toFixed(1)}`,
          );
      writeFileSync(options.samplesFile, `${lines.join("\n")}\n`);
    }
    const { log: _log, ...rest } = options;
    return {
      processes: watched.map(summarize),
      baseline: summarize(baselineWatched),
      requests: results.reduce((sum, r) => sum + r.requests.total, 0),
      requestsPerReplica: results.map((r) => r.requests.total),
      errors: results.reduce((sum, r) => sum + r.non2xx + r.errors + r.timeouts, 0),
      baselineRequests: baselineRun?.requests.total ?? 0,
      options: rest,
    };
  } finally {
    await stack.stop();
  }
}

export const mb = (bytes: number) => `${(bytes / MB).toFixed(0)} MB`;

/** A row of the benchmark table (bench/run.ts). */
export interface MemoryRow {
  benchmark: string;
  measured: string;
  baseline: string;
  ratio: number;
  target: string;
  met: boolean;
  note?: string;
}

/** Resident memory a replica may use under 200 clients (issue 27). */
export const PEAK_RSS_TARGET = 300 * MB;
/** "Back near the idle figure": at most this much above idle, 30 s after the load. */
export const AFTER_IDLE_RATIO_TARGET = 1.2;

/** The memory rows of the benchmark table: peak under load against the baseline, and after the load. */
export function memoryRows(result: MemoryResult): MemoryRow[] {
  const apis = result.processes.filter((p) => p.name.startsWith("API"));
  const worker = result.processes.find((p) => p.name === "worker");
  const worst = (pick: (p: ProcessMemory) => number) => Math.max(...apis.map(pick));
  const peak = worst((p) => p.peakRss);
  const b = result.baseline;
  const { loadSeconds, connections, replicas } = result.options;
  const cpuPerRequest =
    (apis.reduce((sum, p) => sum + p.cpuSeconds, 0) * 1000) / Math.max(1, result.requests);
  const baselineCpu = (b.cpuSeconds * 1000) / Math.max(1, result.baselineRequests);
  const rows: MemoryRow[] = [
    {
      benchmark: `API memory under ${connections} clients (${replicas} replicas, ${loadSeconds} s)`,
      measured:
        `peak RSS ${mb(peak)} per replica (idle ${mb(worst((p) => p.idleRss))}), heap used peak ` +
        `${mb(worst((p) => p.peakHeap))}; ${fmtInt(result.requests)} requests${result.errors ? `, ${result.errors} errors` : ""}, ` +
        `${cpuPerRequest.toFixed(1)} CPU ms each`,
      baseline:
        `${mb(b.peakRss)} peak RSS (idle ${mb(b.idleRss)}), heap used peak ${mb(b.peakHeap)}: bare Fastify + pg pool, ` +
        `one query a request, same clients; ${fmtInt(result.baselineRequests)} requests, ${baselineCpu.toFixed(1)} CPU ms each`,
      ratio: peak / b.peakRss,
      target: `peak ≤ ${mb(PEAK_RSS_TARGET)}`,
      met: peak <= PEAK_RSS_TARGET && result.errors === 0,
    },
  ];
  for (const p of apis) {
    rows.push({
      benchmark: `${p.name} memory 30 s after the load`,
      measured: `${mb(p.afterRss)} RSS, heap used ${mb(p.afterHeap)}`,
      baseline: `${mb(p.idleRss)} RSS, heap used ${mb(p.idleHeap)}: the same replica idle before the load`,
      ratio: p.afterRss / p.idleRss,
      target: `≤ ${AFTER_IDLE_RATIO_TARGET}`,
      met: p.afterRss / p.idleRss <= AFTER_IDLE_RATIO_TARGET,
    });
  }
  if (worker) {
    rows.push({
      benchmark: "Worker memory during and after the load",
      measured: `peak RSS ${mb(worker.peakRss)}, ${mb(worker.afterRss)} 30 s after; heap used peak ${mb(worker.peakHeap)}`,
      baseline: `${mb(worker.idleRss)} RSS idle before the load`,
      ratio: worker.peakRss / worker.idleRss,
      target: `peak ≤ ${mb(PEAK_RSS_TARGET)}`,
      met: worker.peakRss <= PEAK_RSS_TARGET,
    });
  }
  return rows;
}

const fmtInt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 0 });

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await measureMemory({
    loadSeconds: Number(process.env.MEMORY_LOAD_SECONDS ?? 30),
    afterSeconds: Number(process.env.MEMORY_AFTER_SECONDS ?? 30),
    idleSeconds: Number(process.env.MEMORY_IDLE_SECONDS ?? 10),
    connections: 200,
    replicas: Number(process.env.MEMORY_REPLICAS ?? 1),
    customers: 20,
    baseline: process.env.MEMORY_BASELINE !== "0",
    log: (m) => process.stderr.write(`[memory] ${m}\n`),
    ...(process.env.MEMORY_API_ARGS ? { apiArgs: process.env.MEMORY_API_ARGS.split(" ") } : {}),
    ...(process.env.MEMORY_API_ENV
      ? {
          apiEnv: Object.fromEntries(
            process.env.MEMORY_API_ENV.split(",").map((kv) => kv.split("=") as [string, string]),
          ),
        }
      : {}),
    ...(process.env.MEMORY_REPLICA_ARGS
      ? { replicaArgs: process.env.MEMORY_REPLICA_ARGS.split("|").map((a) => a.split(" ").filter(Boolean)) }
      : {}),
    ...(process.env.MEMORY_SAMPLES ? { samplesFile: process.env.MEMORY_SAMPLES } : {}),
  });
  for (const p of [...result.processes, result.baseline]) {
    process.stdout.write(
      `${p.name}: RSS idle ${mb(p.idleRss)}, peak ${mb(p.peakRss)}, after ${mb(p.afterRss)}; heap idle ${mb(p.idleHeap)}, peak ${mb(p.peakHeap)}, after ${mb(p.afterHeap)}; CPU ${p.cpuSeconds.toFixed(1)} s\n`,
    );
  }
  process.stdout.write(
    `${result.requests} requests to the API (${result.requestsPerReplica.join(" + ")}; ${result.errors} errors), ${result.baselineRequests} to the baseline\n`,
  );
}
