#!/usr/bin/env node
// CI's check of the README's first command: starts `pnpm dev` (on a fresh clone, before anything else
// touched it), waits until the API's /health, the customer app and the admin app answer, stops it the way
// Ctrl+C does, and checks that it exited cleanly and left nothing listening. Prints what `pnpm dev` printed
// when something fails.
import { spawn } from "node:child_process";
import { createConnection } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

const TIMEOUT_MS = 300_000;
const CHECKS = [
  { name: "API health", url: "http://127.0.0.1:3000/health", expect: /"status":"ok"/ },
  { name: "customer app", url: "http://127.0.0.1:5173/", expect: /<div id="root">/ },
  { name: "admin app", url: "http://127.0.0.1:5174/admin/", expect: /<div id="root">/ },
  // Through the dev server's proxy, as the apps call the API.
  { name: "customer app → API", url: "http://127.0.0.1:5173/api/subscriptions/user/packages/", status: 401 },
];
const PORTS = [3000, 5173, 5174, 12111, 54329];

let output = "";
const child = spawn("pnpm", ["dev"], {
  detached: true,
  stdio: ["ignore", "pipe", "pipe"],
  env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" },
});
for (const stream of [child.stdout, child.stderr]) stream.on("data", (chunk) => (output += chunk.toString()));
const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));

let failing = false;
/**
 * Reports the failure and stops pnpm dev as Ctrl+C does (SIGINT to its process group: it stops the stack,
 * which runs in a process group of its own, so a SIGKILL of pnpm's group alone left the emulator, the API
 * and PostgreSQL running and the next run found their ports taken); SIGKILL only if that takes over 20 s.
 * Never resolves: the process exits.
 */
async function fail(message) {
  if (failing) return new Promise(() => {});
  failing = true;
  console.error(`\n✖ pnpm dev: ${message}\n--- output of pnpm dev ---\n${output}\n---`);
  try {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(-child.pid, "SIGINT");
      await Promise.race([exited, sleep(20_000)]);
    }
    process.kill(-child.pid, "SIGKILL");
  } catch {}
  process.exit(1);
}

async function answers(check) {
  try {
    const response = await fetch(check.url, { signal: AbortSignal.timeout(5000) });
    const body = await response.text();
    if (check.status !== undefined) return response.status === check.status;
    return response.ok && check.expect.test(body);
  } catch {
    return false;
  }
}

function listening(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => socket.destroy() || resolve(true));
    socket.once("error", () => resolve(false));
  });
}

const started = Date.now();
const pending = new Set(CHECKS);
while (pending.size > 0) {
  if (child.exitCode !== null) await fail(`exited with code ${child.exitCode} before everything answered`);
  if (Date.now() - started > TIMEOUT_MS) {
    await fail(
      `not up after ${TIMEOUT_MS / 1000} s: ${[...pending].map((c) => c.name).join(", ")} did not answer`,
    );
  }
  for (const check of [...pending]) {
    if (await answers(check)) {
      pending.delete(check);
      console.log(
        `✔ ${check.name} answers (${check.url}) after ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
    }
  }
  if (pending.size > 0) await sleep(500);
}
// pnpm dev prints where everything runs once its own poll of the API's health succeeds, which may come a
// moment after ours did: wait for it (bounded), rather than race it.
const printedBy = Date.now() + 15_000;
while (!/Minutely is running/.test(output) && Date.now() < printedBy) await sleep(200);
if (!/Minutely is running/.test(output)) await fail("did not print where everything runs");
if (/"level":\d+/.test(output)) await fail("printed JSON log lines; development logs are meant to be pretty");

// Ctrl+C: the terminal sends SIGINT to the whole foreground process group.
const beforeStop = output.length;
process.kill(-child.pid, "SIGINT");
const stopTimer = setTimeout(() => void fail("did not stop within 30 s of Ctrl+C"), 30_000);
const { code, signal } = await exited;
clearTimeout(stopTimer);
if (code !== 0 && signal !== "SIGINT")
  await fail(`stopped with code ${code} (signal ${signal}) after Ctrl+C`);
const stopOutput = output.slice(beforeStop);
// pnpm itself always says " ELIFECYCLE  Command failed." when it gets Ctrl+C, whatever its script does (a
// script that exits 0 on SIGINT included); everything else printed while stopping must be clean.
const noise = stopOutput
  .split("\n")
  .filter((line) => !/^[^│]*ELIFECYCLE\s+Command failed\.\s*$/.test(line))
  .filter((line) => /ERR_PNPM|ELIFECYCLE|error|terminating connection/i.test(line));
if (noise.length > 0)
  await fail(`printed errors while stopping after Ctrl+C:\n${noise.slice(0, 10).join("\n")}`);
if (!/stopped: the API/.test(stopOutput)) await fail("did not say that it stopped");
const left = [];
for (const port of PORTS) if (await listening(port)) left.push(port);
if (left.length > 0) await fail(`something still listens on ${left.join(", ")} after it stopped`);
console.log(`✔ pnpm dev stopped cleanly after Ctrl+C; nothing left listening on ${PORTS.join(", ")}`);
