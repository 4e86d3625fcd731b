import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StripeEmulator } from "./server.ts";
import { SHAPE_SPECS } from "./shape-specs.ts";
import { collectResources } from "./shapes.fixtures.ts";
import { startTestEmulator } from "./testing.ts";

function expectedKeys(spec: Record<string, boolean>): string[] {
  return Object.entries(spec)
    .filter(([, included]) => included)
    .map(([key]) => key)
    .sort();
}

describe("resource shapes match the SDK's type declarations", () => {
  let emulator: StripeEmulator;
  let resources: Record<string, object> = {};

  beforeAll(async () => {
    const started = await startTestEmulator();
    emulator = started.emulator;
    resources = await collectResources(started.stripe, emulator.url);
  });
  afterAll(async () => {
    await emulator.close();
  });

  it("has a key spec for every resource kind the emulator returns", () => {
    expect(Object.keys(resources).sort()).toEqual(Object.keys(SHAPE_SPECS).sort());
  });

  for (const [kind, spec] of Object.entries(SHAPE_SPECS)) {
    it(`${kind} has exactly the keys its Stripe type declares`, () => {
      const resource = resources[kind];
      expect(resource, `${kind} was not collected`).toBeDefined();
      expect(Object.keys(resource ?? {}).sort()).toEqual(expectedKeys(spec));
    });
  }
});
