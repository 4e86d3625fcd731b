import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

// Browser tests: the built SPA served by the real API process, driven in Chromium.
export default defineConfig({
  test: {
    include: ["e2e/**/*.test.ts"],
    globalSetup: [require.resolve("@minutely/db/vitest-global-setup")],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
