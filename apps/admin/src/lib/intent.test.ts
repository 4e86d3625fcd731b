// Every mutation of this app goes through useIntentMutation (lib/intent.ts), so each one carries its
// intent's idempotency key and a double submit sends one request. A plain useMutation would not.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = join(import.meta.dirname, "..");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

describe("mutations", () => {
  it("all go through useIntentMutation", () => {
    const files = sources(SRC);
    const plain = files.filter(
      (f) => !f.endsWith("intent.ts") && /\buseMutation\b/.test(readFileSync(f, "utf8")),
    );
    expect(plain).toEqual([]);
    const intents = files.filter((f) => /useIntentMutation\(/.test(readFileSync(f, "utf8")));
    expect(intents.length).toBeGreaterThan(2);
  });
});
