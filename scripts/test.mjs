#!/usr/bin/env node
// `pnpm test`: lint, typecheck, unit and database-backed integration tests, then browser tests against
// the built SPAs in Chromium (installed through apt when missing and running as root).
import { spawnSync } from "node:child_process";

const env = { ...process.env, TURBO_TELEMETRY_DISABLED: "1" };

function run(title, command, args) {
  console.log(`\n▶ ${title}: ${command} ${args.join(" ")}`);
  const started = Date.now();
  const result = spawnSync(command, args, { stdio: "inherit", env });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) {
    console.error(`\n✖ ${title} failed after ${seconds}s`);
    process.exit(result.status ?? 1);
  }
  console.log(`✔ ${title} (${seconds}s)`);
}

run("lint", "pnpm", ["exec", "biome", "ci", "."]);
run("typecheck", "pnpm", ["exec", "turbo", "run", "typecheck", "--output-logs=errors-only"]);
run("typecheck scripts", "pnpm", ["exec", "tsc", "-p", "tsconfig.json"]);
run("unit and integration tests", "pnpm", [
  "exec",
  "turbo",
  "run",
  "test",
  "--concurrency=2",
  "--output-logs=full",
]);
run("reliability tests", "pnpm", [
  "exec",
  "turbo",
  "run",
  "test:reliability",
  "--concurrency=1",
  "--output-logs=full",
]);
run("browser tests", "pnpm", [
  "exec",
  "turbo",
  "run",
  "test:browser",
  "--concurrency=1",
  "--output-logs=full",
]);
console.log("\nAll checks passed.");
