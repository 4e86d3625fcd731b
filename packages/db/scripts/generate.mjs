// Runs `prisma generate` offline: Prisma 7's CLI tries to download its native schema engine at start-up
// even though generate never uses it, so point it at a stub that fails loudly if it is ever called.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY:
    process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? join(root, "scripts/no-schema-engine.sh"),
  PRISMA_HIDE_UPDATE_MESSAGE: "1",
  CHECKPOINT_DISABLE: "1",
};
const result = spawnSync("pnpm", ["exec", "prisma", "generate"], { cwd: root, env, stdio: "inherit" });
process.exit(result.status ?? 1);
