// `pnpm --filter @minutely/bench profile [path]`: a CPU profile of the API under one hot path, summarised by
// where the time goes (Prisma, the pg driver, Fastify, zod, Minutely's own code, ...). Paths: `usage` (one
// usage event per request, the default), `authorize` (call authorizations), `batch` (50 events a request),
// `webhook` (signed Stripe events), `dashboard` (dashboard.get over tRPC) and `dashboard-plain` (the same
// service call on a plain route, bench/dashboard-routes.ts).
// The API runs as in `pnpm bench` (bench/harness.ts: its own process, worker off) with `--cpu-prof`; 16
// connections for 15 s after a 3 s warm-up. The summary is printed and written beside the .cpuprofile
// (bench/profiles/, not committed). Shares are of the API process's sampled time, idle excluded; run it on
// a quiet machine for throughput, though the shares hold up under load far better than the absolute figures.
import { randomUUID } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { userWithAccount } from "@minutely/testing";
import autocannon from "autocannon";
import Stripe from "stripe";
import {
  METERING_TOKEN,
  startBenchApi,
  startBenchDatabase,
  subscribedAccounts,
  subscribePro,
  WEBHOOK_SECRET,
} from "./harness.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const PATH = process.argv[2] ?? "usage";
if (!["usage", "authorize", "batch", "webhook", "dashboard", "dashboard-plain"].includes(PATH))
  throw new Error(`unknown path ${PATH}`);
const ACCOUNTS = 100;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code lives: a package of node_modules, Minutely's own package, Node itself, or idle/GC. */
export function categoryOf(frame: ProfileNode["callFrame"]): string {
  const { url, functionName } = frame;
  if (functionName === "(idle)") return "(idle)";
  if (functionName === "(garbage collector)") return "garbage collection";
  if (functionName === "(program)") return "(program: V8, native)";
  const pkg = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1]) {
    const name = pkg[1];
    if (name.startsWith("@prisma/") || name === "prisma") return "Prisma (client, engine, adapter)";
    if (name.startsWith("@minutely/")) return `Minutely (${name})`;
    return name;
  }
  const own = /\/(packages|apps)\/([^/]+)\//.exec(url);
  if (own) return `Minutely (${own[1]}/${own[2]})`;
  if (url.startsWith("node:") || url === "") return "Node.js core";
  return "other";
}

export function summarize(profile: CpuProfile): { category: string; ms: number; share: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node) return;
    const category = categoryOf(node.callFrame);
    totals.set(category, (totals.get(category) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  totals.delete("(idle)");
  const busy = [...totals.values()].reduce((a, b) => a + b, 0);
  return [...totals.entries()]
    .map(([category, ms]) => ({ category, ms, share: ms / busy }))
    .sort((a, b) => b.ms - a.ms);
}

/** The functions with the most self time, named with their file: what a category's share is made of. */
export function topFunctions(
  profile: CpuProfile,
  count: number,
): { name: string; ms: number; share: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === "(idle)") return;
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    busy += ms;
    const file = node.callFrame.url.split("/").slice(-2).join("/");
    const name = `${node.callFrame.functionName || "(anonymous)"} ${file}`.trim();
    totals.set(name, (totals.get(name) ?? 0) + ms);
  });
  return [...totals.entries()]
    .map(([name, ms]) => ({ name, ms, share: ms / busy }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, count);
}

async function main() {
  const { server: pgServer, url, db } = await startBenchDatabase("profile");
  const now = new Date();
  const periodStart = new Date(now.getTime() - 10 * 24 * 3600 * 1000);
  const accounts = await subscribedAccounts(db, ACCOUNTS, { periodStart, withAgent: true });

  const dir = join(HERE, "profiles", `${PATH}-${new Date().toISOString().replace(/[:.]/g, "-")}`);
  mkdirSync(dir, { recursive: true });
  const api = await startBenchApi(url, { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${dir}`] });
  const { base } = api;
  const dashboardPath = PATH === "dashboard" || PATH === "dashboard-plain";
  let cookie = "";
  if (dashboardPath) {
    // A customer on Pro with 300 calls this period, as in `pnpm bench`.
    const signUp = await fetch(`${base}/api/auth/sign-up/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: base },
      body: JSON.stringify({ name: "Dash", email: "dash@example.com", password: "bench-password-1" }),
    });
    cookie = signUp.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
    const user = await userWithAccount(db, { email: "dash@example.com" });
    await subscribePro(db, user.accountId ?? "", periodStart, "sub_profile_dash");
    const events = Array.from({ length: 300 }, (_, i) => ({
      call_id: `profile-dash-${i}`,
      account_id: user.accountId,
      direction: i % 2 === 0 ? "inbound" : "outbound",
      started_at: new Date(now.getTime() - (i + 60) * 60_000).toISOString(),
      duration_seconds: 30 + (i % 240),
    }));
    await fetch(`${base}/api/v1/usage/calls`, {
      method: "POST",
      headers: { authorization: `Bearer ${METERING_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ events }),
    });
  }
  await db.$disconnect();

  let seq = 0;
  const run = randomUUID().slice(0, 8);
  const event = () => {
    seq += 1;
    const account = accounts[seq % accounts.length];
    return {
      call_id: `profile-${run}-${seq}`,
      account_id: account?.id ?? "",
      agent_id: account?.agentId ?? null,
      direction: seq % 2 === 0 ? "inbound" : "outbound",
      started_at: new Date(now.getTime() - ((seq % 7200) + 60) * 1000).toISOString(),
      duration_seconds: 30 + (seq % 240),
    };
  };
  const stripe = new Stripe("sk_test_bench");
  const signedEvent = () => {
    seq += 1;
    const payload = JSON.stringify({
      id: `evt_profile_${run}_${seq}`,
      object: "event",
      type: "customer.updated",
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: "cus_bench", object: "customer" } },
    });
    const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
    return { payload, signature };
  };
  const request = dashboardPath
    ? {
        method: "GET" as const,
        path: PATH === "dashboard" ? "/trpc/dashboard.get" : "/bench/dashboard",
        body: () => "",
      }
    : PATH === "webhook"
      ? {
          method: "POST" as const,
          path: "/api/webhooks/stripe",
          body: () => "",
        }
      : PATH === "authorize"
        ? {
            method: "POST" as const,
            path: "/api/v1/calls/authorize",
            body: () => {
              const { call_id, account_id, agent_id, direction } = event();
              return JSON.stringify({ call_id, account_id, agent_id, direction });
            },
          }
        : {
            method: "POST" as const,
            path: "/api/v1/usage/calls",
            body: () => JSON.stringify({ events: Array.from({ length: PATH === "batch" ? 50 : 1 }, event) }),
          };
  const load = (seconds: number) =>
    autocannon({
      url: base,
      connections: 16,
      duration: seconds,
      requests: [
        {
          method: request.method,
          path: request.path,
          headers: { authorization: `Bearer ${METERING_TOKEN}`, "content-type": "application/json" },
          setupRequest: (req: autocannon.Request) => {
            if (dashboardPath) return { ...req, headers: { cookie } };
            if (PATH !== "webhook") return { ...req, body: request.body() };
            const { payload, signature } = signedEvent();
            return {
              ...req,
              body: payload,
              headers: { "content-type": "application/json", "stripe-signature": signature },
            };
          },
        },
      ],
    });
  await load(3);
  const result = await load(15);
  console.info(
    `${PATH}: ${Math.round(result.requests.average)} req/s, p99 ${result.latency.p99} ms, ${result.non2xx} non-2xx, ${result.errors} errors`,
  );
  await api.stop("SIGINT");
  await pgServer.stop();

  // Worker threads write profiles too: the API's main thread is the largest.
  const file = readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile"))
    .sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size)[0];
  if (!file) throw new Error(`no .cpuprofile in ${dir}: did the API exit cleanly?`);
  const profile = JSON.parse(readFileSync(join(dir, file), "utf8")) as CpuProfile;
  const summary = summarize(profile);
  const lines = [
    `path: ${PATH}; ${Math.round(result.requests.average)} req/s, p99 ${result.latency.p99} ms, ${result.non2xx + result.errors} errors`,
    "| where | CPU ms | share of busy time |",
    "| --- | --- | --- |",
    ...summary
      .slice(0, 14)
      .map(
        (r) =>
          `| ${r.category} | ${Math.round(r.ms).toLocaleString("en-US")} | ${(r.share * 100).toFixed(1)} % |`,
      ),
    "",
    "| function (self time) | CPU ms | share of busy time |",
    "| --- | --- | --- |",
    ...topFunctions(profile, 20).map(
      (r) => `| ${r.name} | ${Math.round(r.ms).toLocaleString("en-US")} | ${(r.share * 100).toFixed(1)} % |`,
    ),
  ];
  writeFileSync(join(dir, "summary.md"), `${lines.join("\n")}\n`);
  console.info(lines.join("\n"));
  console.info(`profile: ${join(dir, file)}`);
}

await main();
