// The import graph of a source folder, read from its import statements (no compiler needed), for tests
// that keep a package's structure: no circle of imports, no import against a layering rule. Used by
// apps/stripe-emulator/src/layers.test.ts and packages/api/src/structure.test.ts. Only relative
// specifiers count (`./x.ts`, `../y/z.ts`); `import type` counts too, so a type-only circle is reported.
import { readdirSync, readFileSync } from "node:fs";
import { join, posix, relative } from "node:path";

/** Relative module specifiers of `import … from`, `export … from`, `import "…"` and `import("…")`. */
export function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const pattern = /(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}\/[^"']+)["']/g;
  return [...code.matchAll(pattern)].flatMap((match) => (match[1] ? [match[1]] : []));
}

/** The `.ts` files under `dir` (relative, with `/`), tests (`*.test.ts`) and `generated/` folders left out. */
export function sourceFiles(dir: string, root = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "generated" ? [] : sourceFiles(path, root);
    if (!entry.name.endsWith(".ts") || entry.name.endsWith(".test.ts")) return [];
    return [relative(root, path).split("\\").join("/")];
  });
}

/** Each source file of `dir` with the files it imports (paths relative to `dir`). */
export function importGraph(dir: string): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const file of sourceFiles(dir)) {
    const targets = importsOf(readFileSync(join(dir, file), "utf8")).map((spec) =>
      posix.normalize(posix.join(posix.dirname(file), spec)),
    );
    edges.set(file, targets);
  }
  return edges;
}

/** Imports of files that are not in the graph (a typo, or a file that moved). */
export function missingImports(edges: Map<string, string[]>): string[] {
  return [...edges].flatMap(([file, targets]) =>
    targets.filter((t) => !edges.has(t)).map((t) => `${file} imports ${t}, which is not a source file`),
  );
}

/** Every circle of imports, each as the path that closes it (`a.ts -> b.ts -> a.ts`). */
export function findCycles(edges: Map<string, string[]>): string[] {
  const cycles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, "open");
    stack.push(file);
    for (const target of edges.get(file) ?? []) {
      if (state.get(target) === "open") {
        cycles.push([...stack.slice(stack.indexOf(target)), target].join(" -> "));
      } else if (!state.has(target) && edges.has(target)) {
        visit(target);
      }
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of [...edges.keys()].sort()) if (!state.has(file)) visit(file);
  return cycles;
}
