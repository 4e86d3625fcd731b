import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

export default defineConfig({
  test: {
    // src/reliability runs on its own (vitest.reliability.config.ts, `pnpm test:reliability`).
    exclude: ["**/node_modules/**", "**/dist/**", "src/reliability/**"],
    globalSetup: [require.resolve("@minutely/testing/global-setup")],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
