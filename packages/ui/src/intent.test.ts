/// <reference types="vite/client" />
// Every mutation of the apps goes through useIntentMutation (intent.ts), so each one carries its intent's
// idempotency key and a double submit sends one request. A plain useMutation would not.
import { describe, expect, it } from "vitest";

/** The sources (not the tests) of the two SPAs, as text by path. */
const SOURCES = Object.entries(
  import.meta.glob<string>(["../../../apps/{web,admin}/src/**/*.{ts,tsx}", "!**/*.test.{ts,tsx}"], {
    query: "?raw",
    import: "default",
    eager: true,
  }),
);

describe("mutations", () => {
  it.each(["web", "admin"])("of apps/%s all go through useIntentMutation", (app) => {
    const sources = SOURCES.filter(([path]) => path.startsWith(`../../../apps/${app}/src/`));
    const plain = sources.filter(([, text]) => /\buseMutation\b/.test(text)).map(([path]) => path);
    expect(plain).toEqual([]);
    const intents = sources.filter(([, text]) => /useIntentMutation\(/.test(text));
    expect(intents.length).toBeGreaterThan(2);
  });
});
