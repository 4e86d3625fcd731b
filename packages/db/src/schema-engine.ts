// Prisma's schema engine compiled to WebAssembly, driven through the pg driver adapter. Used by the
// developer tooling (creating migrations) and by the drift test; never at run time. The native engine
// cannot be downloaded on machines without access to Prisma's CDN; the WebAssembly build comes from npm.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { PrismaPg } from "@prisma/adapter-pg";
import { bindMigrationAwareSqlAdapterFactory } from "@prisma/driver-adapter-utils";
import type { SchemaEngine } from "@prisma/schema-engine-wasm";

type Bindings = typeof import("@prisma/schema-engine-wasm");

/** The slice of the WebAssembly global used here (Node has it; @types/node does not declare it). */
interface WebAssemblyApi {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, unknown>,
  ): Promise<{ instance: { exports: Record<string, unknown> } }>;
}
const { WebAssembly } = globalThis as unknown as { WebAssembly: WebAssemblyApi };

let bindings: Promise<Bindings> | undefined;

async function loadBindings(): Promise<Bindings> {
  const require = createRequire(import.meta.url);
  const gluePath = require.resolve("@prisma/schema-engine-wasm/schema_engine_bg");
  const glue = (await import("@prisma/schema-engine-wasm/schema_engine_bg")) as unknown as Bindings & {
    __wbg_set_wasm(exports: Record<string, unknown>): void;
  };
  const bytes = readFileSync(gluePath.replace(/schema_engine_bg\.js$/, "schema_engine_bg.wasm"));
  const { instance } = await WebAssembly.instantiate(bytes, {
    "./schema_engine_bg.js": glue,
  });
  glue.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  return glue;
}

const NO_FILTER = { externalTables: [], externalEnums: [] };

/** SQL that turns a database described by `from` (null = empty) into one described by `to`. */
export async function diffSchemas(opts: {
  /** Any reachable PostgreSQL database; the engine needs a connection even for a pure schema diff. */
  connectionString: string;
  from: string | null;
  to: string;
}): Promise<string> {
  bindings ??= loadBindings();
  const { SchemaEngine: Engine } = await bindings;
  const adapter = bindMigrationAwareSqlAdapterFactory(
    new PrismaPg({ connectionString: opts.connectionString }),
  );
  const engine: SchemaEngine = await Engine.new(
    { datamodels: [["schema.prisma", opts.to]] },
    () => {},
    adapter,
  );
  try {
    const target = (content: string) => ({
      tag: "schemaDatamodel" as const,
      files: [{ path: "schema.prisma", content }],
    });
    const result = await engine.diff({
      from: opts.from === null ? { tag: "empty" } : target(opts.from),
      to: target(opts.to),
      script: true,
      exitCode: null,
      filters: NO_FILTER,
    });
    return result.stdout ?? "";
  } finally {
    (engine as unknown as { free?: () => void }).free?.();
  }
}
