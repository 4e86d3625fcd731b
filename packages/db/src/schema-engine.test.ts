// Proof that the migrations `pnpm db:migration:create` writes (Prisma's schema engine built to WebAssembly,
// @prisma/schema-engine-wasm, a different engine build than the Prisma CLI's native one) equal what the native
// engine writes for the same change. The expected SQL comes from Prisma's own test suites, run against the
// native engine (see src/schema-engine-fixtures.ts for each source). Comparison ignores only trailing
// whitespace on each line and blank lines at the start and end. Cases where the two differ are kept, with the
// exact line diff asserted, so that a change in either engine's output is noticed.
import { describe, expect, inject, it } from "vitest";
import { diffSchemas } from "./schema-engine.ts";
import { ENGINE_FIXTURES, lineDiff, normalizeSql } from "./schema-engine-fixtures.ts";

const { adminUrl } = inject("minutelyTestDatabaseServer");

describe("the WebAssembly schema engine writes the native engine's migrations", () => {
  it("diffs lines the way the assertions below rely on", () => {
    expect(lineDiff(["a", "b", "c"], ["a", "x", "c", "d"])).toEqual(["- b", "+ x", "+ d"]);
    expect(lineDiff(["a"], ["a"])).toEqual([]);
  });

  for (const fixture of ENGINE_FIXTURES) {
    it(`${fixture.name} [${fixture.via}]`, async () => {
      const ours = await diffSchemas({ connectionString: adminUrl, from: fixture.from, to: fixture.to });
      const diff = lineDiff(normalizeSql(fixture.native), normalizeSql(ours));
      if (fixture.knownDifference === undefined) {
        expect(diff, `source: ${fixture.source}\n--- ours:\n${ours}`).toEqual([]);
      } else {
        expect(diff, `known difference changed; source: ${fixture.source}\n--- ours:\n${ours}`).toEqual(
          fixture.knownDifference.lines,
        );
      }
    });
  }
});
