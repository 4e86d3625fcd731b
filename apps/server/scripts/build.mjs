#!/usr/bin/env node
// `pnpm build` for the server: bundles the API process (src/main.ts) and the worker process
// (src/worker-main.ts) with esbuild into dist/, so production runs plain JavaScript on Node (no TypeScript
// toolchain, faster start). The workspace packages (@minutely/*, TypeScript sources, including Prisma's
// generated client) are bundled; every other package stays an import resolved from apps/server/node_modules
// at run time, so each must be a dependency of this package: the build fails naming any that is not.
import { readFileSync, rmSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const declared = new Set(Object.keys(pkg.dependencies ?? {}));
const builtins = new Set(builtinModules);

/** "@scope/name/sub/path" -> "@scope/name", "name/sub" -> "name". */
function packageName(specifier) {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
}

const undeclared = new Map();
/** Bundles the workspace packages, leaves the rest to node_modules and checks they can be found there. */
const externals = {
  name: "node-modules-external",
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith("node:") || builtins.has(args.path)) return { external: true };
      const name = packageName(args.path);
      if (name.startsWith("@minutely/")) return undefined;
      if (!declared.has(name)) undeclared.set(name, args.importer);
      return { external: true };
    });
  },
};

const outdir = join(root, "dist");
rmSync(outdir, { recursive: true, force: true });
const started = Date.now();
const result = await build({
  absWorkingDir: root,
  entryPoints: { main: "src/main.ts", "worker-main": "src/worker-main.ts" },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20.19",
  sourcemap: true,
  // Conditions of the workspace packages' exports; Node resolves the external ones itself.
  conditions: ["node", "import"],
  plugins: [externals],
  logLevel: "warning",
  metafile: true,
  banner: {
    // For any CommonJS inside the bundle that calls require().
    js: 'import { createRequire as __minutelyCreateRequire } from "node:module"; const require = __minutelyCreateRequire(import.meta.url);',
  },
  // Shared code next to the entry points: src/paths.ts finds the repository from its own location.
  chunkNames: "[name]-[hash]",
});
if (undeclared.size > 0) {
  const list = [...undeclared].map(([name, importer]) => `  - ${name} (imported by ${importer})`).join("\n");
  console.error(
    `apps/server/package.json must list these packages in "dependencies": the bundle imports them at run time:\n${list}`,
  );
  process.exit(1);
}
const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
console.log(
  `bundled dist/main.js and dist/worker-main.js (${(bytes / 1024 / 1024).toFixed(1)} MB with source maps) in ${Date.now() - started} ms`,
);
