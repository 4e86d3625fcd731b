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
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { findCycles, importGraph, importsOf, missingImports } from "@minutely/testing/import-graph";
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

describe("emulator layers", () => {
  const edges = importGraph(SRC);

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
    expect(missingImports(edges)).toEqual([]);
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
