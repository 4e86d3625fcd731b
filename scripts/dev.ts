// `pnpm dev`: a thin launcher. It generates the Prisma client first and only then imports the stack
// (scripts/dev-stack.ts): static imports are evaluated before a module's body runs, so a script that
// imported @minutely/db itself could never generate the client it needs (a fresh clone failed with
// ERR_MODULE_NOT_FOUND on packages/db/src/generated). `pnpm install` generates it too (postinstall of
// @minutely/db); doing it here as well keeps a schema pulled without a reinstall in step.
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..");
console.log("\x1b[36m▶\x1b[0m generating the Prisma client");
const generated = spawnSync("pnpm", ["exec", "turbo", "run", "generate", "--output-logs=errors-only"], {
  cwd: ROOT,
  stdio: "inherit",
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" },
});
if (generated.status !== 0) process.exit(generated.status ?? 1);

await import("./dev-stack.ts");
