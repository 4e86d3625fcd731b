#!/usr/bin/env node
// Runs a command under Node 24 LTS, the recommended version, whatever Node started this script: CI runs the
// unit and database tests under it as well as under the machine's Node (20.19+ is supported). Node's
// binaries are published on the npm registry (node-<platform>-<arch>), so no other download is needed; the
// exact version is pinned here and, for linux-x64, the package's integrity too. Cached in .cache/node-<v>.
//
//   node scripts/with-node24.mjs pnpm exec turbo run test
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

const VERSION = "24.22.3";
const INTEGRITY = {
  "linux-x64":
    "sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==",
};

const root = join(import.meta.dirname, "..");
const platform = `${process.platform}-${process.arch}`;
const home = join(root, ".cache", `node-${VERSION}-${platform}`);
const bin = join(home, "bin");

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: "inherit", ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

if (!existsSync(join(bin, "node"))) {
  const pkg = `node-${platform}@${VERSION}`;
  console.log(`▶ fetching Node ${VERSION} (${pkg}) from the npm registry`);
  const work = mkdtempSync(join(tmpdir(), "minutely-node-"));
  try {
    const packed = spawnSync("npm", ["pack", pkg, "--silent"], { cwd: work, encoding: "utf8" });
    if (packed.status !== 0) throw new Error(`npm pack ${pkg} failed:\n${packed.stderr}`);
    const file = join(work, packed.stdout.trim().split("\n").pop() ?? "");
    const expected = INTEGRITY[platform];
    if (expected) {
      const actual = `sha512-${createHash("sha512").update(readFileSync(file)).digest("base64")}`;
      if (actual !== expected) throw new Error(`${pkg}: integrity ${actual}, pinned ${expected}`);
    }
    if (run("tar", ["xzf", file, "-C", work]) !== 0) throw new Error(`could not unpack ${file}`);
    mkdirSync(join(root, ".cache"), { recursive: true });
    rmSync(home, { recursive: true, force: true });
    renameSync(join(work, "package"), home);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.log(join(bin, "node"));
  process.exit(0);
}
const env = { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ""}` };
const version = spawnSync(join(bin, "node"), ["--version"], { encoding: "utf8" }).stdout.trim();
console.log(`▶ under Node ${version}: ${command} ${args.join(" ")}`);
process.exit(run(command, args, { env }));
