// A SPA's Vite development server, as `pnpm dev` runs it (the app's own vite.config.ts with its /api/ and
// /trpc/ proxy), pointed at a test stack's API: browser tests of the development wiring drive it.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { freePort } from "@minutely/db/embedded";
import { afterAll } from "vitest";
import { REPO_ROOT } from "./paths.ts";

export interface ViteDevServer {
  /** Origin of the dev server, e.g. http://127.0.0.1:41234 (the admin app lives under /admin/ of it). */
  url: string;
  output(): string;
  stop(): Promise<void>;
}

export async function startViteDevServer(
  app: "web" | "admin",
  options: { apiUrl: string; port?: number },
): Promise<ViteDevServer> {
  const port = options.port ?? (await freePort());
  const cwd = join(REPO_ROOT, "apps", app);
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(cwd, "node_modules/vite/bin/vite.js"),
      "--port",
      String(port),
      "--strictPort",
      "--host",
      "127.0.0.1",
    ],
    {
      cwd,
      env: { ...process.env, MINUTELY_API_URL: options.apiUrl, NODE_ENV: "development" },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
  }
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // gone
      }
    }, 5000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`vite (${app}) exited with ${child.exitCode}:\n${output}`);
    try {
      if ((await fetch(`${url}${app === "admin" ? "/admin/" : "/"}`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`vite (${app}) did not answer within 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, output: () => output, stop };
}

/** A Vite dev server for this test file; stopped after it. */
export async function testViteDevServer(
  app: "web" | "admin",
  options: { apiUrl: string; port?: number },
): Promise<ViteDevServer> {
  const server = await startViteDevServer(app, options);
  afterAll(() => server.stop());
  return server;
}

/**
 * The paths a SPA's table of paths declares (the keys of `ROUTES` in src/routing.ts, one a line:
 * `  "/usage": {`; params as `:name`), for tests that visit them all.
 */
export async function declaredRoutes(app: "web" | "admin"): Promise<string[]> {
  const { readFile } = await import("node:fs/promises");
  const source = await readFile(join(REPO_ROOT, "apps", app, "src/routing.ts"), "utf8");
  const table = source.slice(source.indexOf("export const ROUTES = {"));
  return [...table.matchAll(/^ {2}"(\/[^"]*)": \{/gm)].map((match) => match[1] ?? "");
}
