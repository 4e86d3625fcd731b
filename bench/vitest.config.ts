import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

// Tests of the benchmark's own routes (not timings): real PostgreSQL, a migrated template per test file.
export default defineConfig({
  test: {
    include: ["*.test.ts"],
    globalSetup: [require.resolve("@minutely/db/vitest-global-setup")],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
