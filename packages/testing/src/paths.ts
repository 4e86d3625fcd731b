import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The monorepo root (this file is packages/testing/src/paths.ts). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../..");
export const SCREENSHOT_DIR = join(REPO_ROOT, "test-results/screenshots");
