// Reliability tests (src/reliability): chaos, faults, crashes, load, fuzzing and log scans against real
// processes. They run after the other suites, one file at a time, so their load does not skew other tests.
import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

export default defineConfig({
  test: {
    include: ["src/reliability/**/*.test.ts"],
    globalSetup: [require.resolve("@minutely/testing/global-setup")],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
