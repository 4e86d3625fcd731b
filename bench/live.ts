// Live usage under load (a section of `pnpm bench`; `pnpm --filter @minutely/bench exec tsx live.ts` runs it
// alone): how many open streams (tRPC subscriptions over server-sent events) one API replica holds, and the
// delay from a usage report (POST /api/v1/usage/calls) to the message on a customer's stream at that load,
// against the same delay with a single open stream (the baseline, same run, same API process).
import { createHmac, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { METERING_TOKEN, startBenchApi, startBenchDatabase, subscribePro } from "./harness.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const SESSION_SECRET = "bench-live-session-secret-0123456789abcdef";

export interface LiveRow {
  benchmark: string;
  measured: string;
  baseline: string;
  ratio: number;
  target: string;
  met: boolean;
}

/** Delay at load against the delay with one stream: at most. And the absolute goal of the issue. */
export const LIVE_DELAY_RATIO_TARGET = 3;
export const LIVE_DELAY_GOAL_MS = 1_000;

interface Stream {
  accountId: string;
  /** Resolves with the arrival time of the next data message. */
  nextMessage(): Promise<number>;
  /** Forgets the messages received and not asked for (another stream of the account was sampled). */
  drain(): void;
  close(): void;
}

/** Opens `/trpc/live.usage` as the browser's EventSource does and waits for its first message. */
async function openStream(base: string, cookie: string, accountId: string): Promise<Stream> {
  const abort = new AbortController();
  const response = await fetch(`${base}/trpc/live.usage`, {
    headers: { cookie, accept: "text/event-stream" },
    signal: abort.signal,
  });
  if (response.status !== 200 || !response.body) throw new Error(`stream refused: ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const waiting: { resolve: ((at: number) => void) | null } = { resolve: null };
  let arrived: number[] = [];
  let failure: Error | null = null;
  void (async () => {
    try {
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) throw new Error("the stream ended");
        buffer += chunk.value;
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.includes("event: serialized-error")) throw new Error(`stream error: ${block}`);
          if (!block.includes("event:") && block.includes("data:")) {
            const at = performance.now();
            const resolve = waiting.resolve;
            waiting.resolve = null;
            if (resolve) resolve(at);
            else arrived.push(at);
          }
          end = buffer.indexOf("\n\n");
        }
      }
    } catch (error) {
      if (!abort.signal.aborted) failure = error as Error;
    }
  })();
  const stream: Stream = {
    accountId,
    nextMessage() {
      if (failure) return Promise.reject(failure);
      const first = arrived[0];
      if (first !== undefined) {
        arrived = arrived.slice(1);
        return Promise.resolve(first);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(failure ?? new Error("no message within 30 s")), 30_000);
        waiting.resolve = (at) => {
          clearTimeout(timer);
          resolve(at);
        };
      });
    },
    drain: () => {
      arrived = [];
    },
    close: () => abort.abort(),
  };
  await stream.nextMessage(); // the current state
  return stream;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

let callCounter = 0;

/** Reports one call for the stream's account and measures until that stream's message arrives. */
async function reportToClient(base: string, stream: Stream): Promise<{ delayMs: number; postMs: number }> {
  callCounter += 1;
  stream.drain();
  const message = stream.nextMessage();
  const started = performance.now();
  const response = await fetch(`${base}/api/v1/usage/calls`, {
    method: "POST",
    headers: { authorization: `Bearer ${METERING_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({
      events: [
        {
          call_id: `live-bench-${callCounter}`,
          account_id: stream.accountId,
          direction: "outbound",
          started_at: new Date().toISOString(),
          duration_seconds: 90,
        },
      ],
    }),
  });
  const postMs = performance.now() - started;
  if (response.status !== 200) throw new Error(`report answered ${response.status}`);
  const at = await message;
  return { delayMs: at - started, postMs };
}

async function sample(base: string, streams: Stream[], count: number) {
  const delays: number[] = [];
  const posts: number[] = [];
  for (let i = 0; i < count; i++) {
    const stream = streams[(i * 7919) % streams.length] as Stream;
    const { delayMs, postMs } = await reportToClient(base, stream);
    delays.push(delayMs);
    posts.push(postMs);
  }
  return {
    p50: percentile(delays, 50),
    p95: percentile(delays, 95),
    postP50: percentile(posts, 50),
  };
}

export interface LiveResult {
  users: number;
  target: number;
  held: number;
  refused: string | null;
  rssMb: number;
  /** With one stream open, before the others. */
  rssBeforeMb: number;
  baseline: { p50: number; p95: number; postP50: number };
  loaded: { p50: number; p95: number; postP50: number };
}

/**
 * Signs up `users` customers (each a Pro account), opens one stream (the baseline) and measures, then opens
 * streams up to `streams` in all, spread over the users, and measures again.
 */
export async function measureLive(options: {
  streams: number;
  users: number;
  samples: number;
  log: (message: string) => void;
}): Promise<LiveResult> {
  const { db, url, server } = await startBenchDatabase("bench_live");
  const perUser = Math.ceil(options.streams / options.users);
  const api = await startBenchApi(url, {
    env: {
      LIVE_MAX_STREAMS: String(options.streams + 100),
      LIVE_MAX_STREAMS_PER_USER: String(perUser + 1),
      SESSION_SECRET,
    },
  });
  const opened: Stream[] = [];
  try {
    const periodStart = new Date(Date.now() - 24 * 3600 * 1000);
    // Customers with a session each, written as better-auth writes them (the cookie is the session's token
    // and its HMAC-SHA256 under SESSION_SECRET): signing up through the API is limited to 10 a minute.
    const customers: { cookie: string; accountId: string }[] = [];
    for (let i = 0; i < options.users; i++) {
      const account = await db.account.create({ data: { name: `Live ${i}` } });
      const user = await db.user.create({
        data: {
          email: `live-${i}@example.com`,
          name: `Live ${i}`,
          memberships: { create: { accountId: account.id, role: "owner" } },
        },
      });
      const token = randomBytes(24).toString("base64url");
      await db.session.create({
        data: { token, userId: user.id, expiresAt: new Date(Date.now() + 24 * 3600 * 1000) },
      });
      await subscribePro(db, account.id, periodStart, `sub_bench_live_${i}`);
      const signature = createHmac("sha256", SESSION_SECRET).update(token).digest("base64");
      customers.push({
        cookie: `better-auth.session_token=${encodeURIComponent(`${token}.${signature}`)}`,
        accountId: account.id,
      });
    }
    options.log(`live: ${options.users} customers signed up`);

    const first = customers[0] as { cookie: string; accountId: string };
    const single = await openStream(api.base, first.cookie, first.accountId);
    opened.push(single);
    await sample(api.base, [single], 3); // warm-up
    const baseline = await sample(api.base, [single], options.samples);
    options.log(`live: baseline with 1 stream p50 ${baseline.p50.toFixed(1)} ms`);

    const rssOf = () =>
      Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${api.process.pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
    const rssBeforeMb = rssOf();
    let refused: string | null = null;
    for (let i = 1; i < options.streams; i += 50) {
      const batch = [];
      for (let j = i; j < Math.min(i + 50, options.streams); j++) {
        const customer = customers[j % customers.length] as { cookie: string; accountId: string };
        batch.push(openStream(api.base, customer.cookie, customer.accountId));
      }
      const results = await Promise.allSettled(batch);
      for (const result of results) {
        if (result.status === "fulfilled") opened.push(result.value);
        else refused ??= String(result.reason);
      }
      if (refused) break;
    }
    options.log(`live: ${opened.length} streams open`);
    // One stream per account is sampled, so a report wakes that account's streams (perUser of them).
    const loaded = await sample(api.base, opened, options.samples);
    return {
      users: options.users,
      target: options.streams,
      held: opened.length,
      refused,
      rssMb: rssOf(),
      rssBeforeMb,
      baseline,
      loaded,
    };
  } finally {
    for (const stream of opened) stream.close();
    await api.stop("SIGTERM");
    await db.$disconnect();
    await server.stop();
  }
}

export function liveRows(result: LiveResult): LiveRow[] {
  const ratio = result.loaded.p50 / result.baseline.p50;
  const fmt = (n: number) => n.toFixed(1);
  return [
    {
      benchmark: "Live usage: open streams one replica holds",
      measured: `${result.held.toLocaleString("en-US")} of ${result.target.toLocaleString("en-US")} opened and held (${result.users} customers, ${Math.ceil(result.target / result.users)} streams each; API resident memory ${result.rssMb.toFixed(0)} MB, ${result.rssBeforeMb.toFixed(0)} MB with one stream)${result.refused ? `; stopped at: ${result.refused.slice(0, 120)}` : ""}`,
      baseline: "the target count (LIVE_MAX_STREAMS set above it for the run)",
      ratio: result.held / result.target,
      target: "= 1",
      met: result.held === result.target,
    },
    {
      benchmark: `Live usage: report to client at ${result.held.toLocaleString("en-US")} open streams`,
      measured: `p50 ${fmt(result.loaded.p50)} ms, p95 ${fmt(result.loaded.p95)} ms from POST /api/v1/usage/calls to the message on the account's stream (the POST itself: p50 ${fmt(result.loaded.postP50)} ms)`,
      baseline: `the same with 1 open stream: p50 ${fmt(result.baseline.p50)} ms, p95 ${fmt(result.baseline.p95)} ms (POST p50 ${fmt(result.baseline.postP50)} ms)`,
      ratio,
      target: `≤ ${LIVE_DELAY_RATIO_TARGET} and p95 < ${LIVE_DELAY_GOAL_MS} ms`,
      met: ratio <= LIVE_DELAY_RATIO_TARGET && result.loaded.p95 < LIVE_DELAY_GOAL_MS,
    },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const full = process.argv.includes("--full");
  const result = await measureLive({
    streams: full ? 5_000 : 2_000,
    users: full ? 100 : 50,
    samples: full ? 50 : 20,
    log: (m) => process.stderr.write(`[bench] ${m}\n`),
  });
  const rows = liveRows(result);
  const table = [
    `# Minutely live usage benchmark (${full ? "full" : "quick"}, ${new Date().toISOString()})`,
    "",
    "The API (one replica, worker off) and the load generator on the same 2-core machine, unpinned; PostgreSQL 18 embedded.",
    "",
    "| benchmark | measured | baseline (same run) | ratio | target | met |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows.map(
      (r) =>
        `| ${r.benchmark} | ${r.measured} | ${r.baseline} | ${r.ratio.toFixed(2)} | ${r.target} | ${r.met ? "yes" : "**no**"} |`,
    ),
    "",
  ].join("\n");
  mkdirSync(join(HERE, "results"), { recursive: true });
  writeFileSync(join(HERE, "results", `live-${new Date().toISOString().replace(/[:.]/g, "-")}.md`), table);
  process.stdout.write(`${table}\n`);
}
