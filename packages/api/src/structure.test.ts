/**
 * The structure of packages/api/src, read from the import statements of its source files (tests left out):
 *
 * - no files import each other in a circle (type-only imports included);
 * - `services/` is grouped by sub-domain (`services/<group>/`), and anything outside a group (routers,
 *   jobs, other groups, the package index) imports it only through its `index.ts`;
 * - the groups themselves import each other without a circle (catalog and metering at the bottom, then
 *   accounts, billing, subscriptions, and dashboard and admin on top).
 */
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { findCycles, importGraph, missingImports } from "@minutely/testing/import-graph";
import { describe, expect, it } from "vitest";

const SRC = dirname(fileURLToPath(import.meta.url));

/** The service group of a file (`services/<group>/…`), or undefined. */
function groupOf(file: string): string | undefined {
  const [first, group, ...rest] = file.split("/");
  return first === "services" && rest.length > 0 ? group : undefined;
}

describe("packages/api structure", () => {
  const edges = importGraph(SRC);

  it("reads the imports of every source file", () => {
    expect(edges.size).toBeGreaterThan(60);
    expect(edges.get("root.ts")?.length).toBeGreaterThan(10);
    expect(missingImports(edges)).toEqual([]);
  });

  it("has no circle of imports", () => {
    expect(findCycles(edges)).toEqual([]);
  });

  it("reaches a service group from outside only through its index", () => {
    const bypassing = [...edges].flatMap(([file, targets]) =>
      targets
        .filter((target) => {
          const group = groupOf(target);
          return group !== undefined && group !== groupOf(file) && target !== `services/${group}/index.ts`;
        })
        .map((target) => `${file} imports ${target}; import services/${groupOf(target)}/index.ts instead`),
    );
    expect(bypassing).toEqual([]);
  });

  it("has no circle between service groups", () => {
    const groups = new Map<string, string[]>();
    for (const [file, targets] of edges) {
      const from = groupOf(file);
      if (from === undefined) continue;
      const to = targets.map(groupOf).filter((g): g is string => g !== undefined && g !== from);
      groups.set(from, [...new Set([...(groups.get(from) ?? []), ...to])]);
    }
    expect(groups.size).toBeGreaterThanOrEqual(6);
    expect(findCycles(groups)).toEqual([]);
  });
});
