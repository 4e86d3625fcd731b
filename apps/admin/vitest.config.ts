import { defineConfig } from "vitest/config";

// Unit tests only; the browser tests in e2e/ run with vitest.browser.config.ts against the built app.
export default defineConfig({
  test: { include: ["src/**/*.test.{ts,tsx}"], passWithNoTests: true },
});
