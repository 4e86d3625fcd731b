#!/usr/bin/env node
// `pnpm dev`: a thin launcher in plain JavaScript (no TypeScript loader between pnpm and it, so Ctrl+C ends it
// with the stack's own exit code). It generates the Prisma client first and only then starts the stack
// (scripts/dev-stack.ts): static imports are evaluated before a module's body runs, so a script that
// imported @minutely/db itself could never generate the client it needs (a fresh clone failed with
// ERR_MODULE_NOT_FOUND on packages/db/src/generated). `pnpm install` generates it too (postinstall of
// @minutely/db); doing it here as well keeps a schema pulled without a reinstall in step.
import { spawn, spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
console.log("\x1b[36m▶\x1b[0m generating the Prisma client");
const generated = spawnSync("pnpm", ["exec", "turbo", "run", "generate", "--output-logs=errors-only"], {
  cwd: ROOT,
  stdio: "inherit",
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" },
});
if (generated.status !== 0) process.exit(generated.status ?? 1);

// The stack runs in a process group of its own, with PostgreSQL under it: Ctrl+C in the terminal signals the
// terminal's whole foreground group, and PostgreSQL would take that SIGINT as "fast shutdown" and cut the
// API's connections while the API is still stopping. Here the signal is passed to the stack alone, which
// stops the API and the apps first and PostgreSQL last.
const stack = spawn(process.execPath, ["--import", "tsx", join(ROOT, "scripts/dev-stack.ts")], {
  cwd: ROOT,
  stdio: "inherit",
  detached: true,
});
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    if (stack.exitCode === null) stack.kill(signal === "SIGHUP" ? "SIGTERM" : signal);
  });
}
stack.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
