/**
 * The emulator's layers, read from the import statements of `src/` (tests left out):
 *
 *   1 model    `objects/` (Stripe-shaped object builders) and the files directly in `src/` (state, core,
 *              params, specs, errors, …)
 *   2 billing  `billing/`: invoicing, proration, payments, dunning, schedules, test clock advance
 *   3 http     `resources/` (one route module per `/v1` resource family) and `http/` (the `/v1` pipeline,
 *              the admin API, hosted pages, webhooks delivery, route specs)
 *   4 entry    `server.ts` (the factory that wires the route modules), `main.ts`, `index.ts`, `testing.ts`
 *
 * A file imports only from its own layer or the ones below, and no files import each other in a circle.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, posix, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = dirname(fileURLToPath(import.meta.url));

const LAYERS = ["model", "billing", "http", "entry"] as const;
type Layer = (typeof LAYERS)[number];

const ENTRY_FILES = new Set(["server.ts", "main.ts", "index.ts", "testing.ts"]);
const FOLDER_LAYERS: Record<string, Layer> = {
  objects: "model",
  billing: "billing",
  resources: "http",
  http: "http",
};

function layerOf(file: string): Layer {
  const [first, ...rest] = file.split("/");
  if (rest.length === 0) return ENTRY_FILES.has(file) ? "entry" : "model";
  const layer = first === undefined ? undefined : FOLDER_LAYERS[first];
  if (!layer)
    throw new Error(`${file}: src/${first}/ has no layer; add it to FOLDER_LAYERS in layers.test.ts`);
  return layer;
}

function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    if (!entry.name.endsWith(".ts") || entry.name.endsWith(".test.ts")) return [];
    return [relative(SRC, path).split("\\").join("/")];
  });
}

/** Relative module specifiers of `import … from`, `export … from`, `import "…"` and `import("…")`. */
export function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const pattern = /(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}\/[^"']+)["']/g;
  return [...code.matchAll(pattern)].flatMap((match) => (match[1] ? [match[1]] : []));
}

function graph(): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const file of sourceFiles()) {
    const targets = importsOf(readFileSync(join(SRC, file), "utf8")).map((spec) =>
      posix.normalize(posix.join(posix.dirname(file), spec)),
    );
    edges.set(file, targets);
  }
  return edges;
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

describe("emulator layers", () => {
  const edges = graph();

  it("reads the imports of every source file", () => {
    expect(edges.size).toBeGreaterThan(40);
    expect(edges.get("server.ts")?.length).toBeGreaterThan(5);
    expect(
      importsOf(`import a from "./a.ts";\nimport type { B } from "../b.ts";\nexport { c } from "./c.ts";
import "./d.ts";\nconst e = await import("./e.ts");\n// import f from "./f.ts";\nimport g from "stripe";`),
    ).toEqual(["./a.ts", "../b.ts", "./c.ts", "./d.ts", "./e.ts"]);
    expect(
      findCycles(
        new Map([
          ["a", ["b"]],
          ["b", ["c"]],
          ["c", ["a"]],
        ]),
      ),
    ).toEqual(["a -> b -> c -> a"]);
  });

  it("imports only existing files", () => {
    const missing = [...edges].flatMap(([file, targets]) =>
      targets.filter((t) => !edges.has(t)).map((t) => `${file} imports ${t}, which is not a source file`),
    );
    expect(missing).toEqual([]);
  });

  it("has no import upward (model < billing < http < entry)", () => {
    const upward = [...edges].flatMap(([file, targets]) =>
      targets
        .filter((target) => edges.has(target))
        .filter((target) => LAYERS.indexOf(layerOf(target)) > LAYERS.indexOf(layerOf(file)))
        .map((target) => `${file} (${layerOf(file)}) imports ${target} (${layerOf(target)})`),
    );
    expect(upward).toEqual([]);
  });

  it("has no circle of imports", () => {
    expect(findCycles(edges)).toEqual([]);
  });
});
