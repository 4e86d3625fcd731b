import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    // Every suite starts its own emulator on a random port and closes it in afterAll.
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
