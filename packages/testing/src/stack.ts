// Runs the real API process (apps/api) against a fresh copy of the test database, serving the built SPAs,
// for browser and end-to-end tests. The process is started by path: tests drive it over HTTP only.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "@minutely/db/embedded";
import { createTestDatabase, type TestDatabase, type TestDatabaseServer } from "@minutely/db/testing";
import { type RunningEmulator, startStripeEmulatorProcess } from "./emulator.ts";
import { REPO_ROOT } from "./paths.ts";

export interface Stack {
  baseUrl: string;
  /** Signs a user up through the real endpoint; role "admin" is then granted in the database. */
  createUser(user: { email: string; password: string; name?: string; role?: "user" | "admin" }): Promise<{
    userId: string;
    accountId: string;
    cookie: string;
  }>;
  database: TestDatabase;
  /** Base URL of the Stripe emulator this stack's API talks to (its /_emulator/* endpoints drive it). */
  stripeApiBase: string;
  /** Everything the API process printed, for assertions on logs. */
  logs(): string;
  stop(): Promise<void>;
}

export interface StackOptions {
  spas?: { web?: boolean; admin?: boolean };
  env?: Record<string, string>;
}

function distDir(app: "web" | "admin"): string {
  const dir = join(REPO_ROOT, "apps", app, "dist");
  if (!existsSync(join(dir, "index.html"))) {
    throw new Error(`apps/${app}/dist is missing: build it first (pnpm --filter @minutely/${app} build)`);
  }
  return dir;
}

async function waitForHealth(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`the API process exited with code ${child.exitCode}:\n${output()}`);
    }
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the API did not become healthy within 60 s:\n${output()}`);
}

export async function startStack(server: TestDatabaseServer, options: StackOptions = {}): Promise<Stack> {
  const database = await createTestDatabase(server);
  const port = await freePort();
  const webhookSecret = "whsec_minutely_stack_tests";
  // The API's Stripe: a Stripe emulator of this stack's own, unless the caller points it elsewhere.
  let emulator: RunningEmulator | undefined;
  try {
    // The emulator delivers its signed webhooks to this stack's API, as Stripe would.
    emulator = options.env?.STRIPE_API_BASE
      ? undefined
      : await startStripeEmulatorProcess({
          STRIPE_EMULATOR_WEBHOOK_URL: `http://127.0.0.1:${port}/api/webhooks/stripe`,
          STRIPE_EMULATOR_WEBHOOK_SECRET: webhookSecret,
        });
  } catch (error) {
    await database.drop();
    throw error;
  }
  const stripeApiBase = options.env?.STRIPE_API_BASE ?? emulator?.url ?? "";
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "/tmp",
    NODE_ENV: "test",
    HOST: "127.0.0.1",
    PORT: String(port),
    LOG_LEVEL: "info",
    DATABASE_URL: database.url,
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    STRIPE_API_BASE: stripeApiBase,
    STRIPE_WEBHOOK_SECRET: webhookSecret,
    ...(options.spas?.web ? { WEB_DIST_DIR: distDir("web") } : {}),
    ...(options.spas?.admin ? { ADMIN_DIST_DIR: distDir("admin") } : {}),
    ...options.env,
  };
  const tsx = join(REPO_ROOT, "apps/api/node_modules/.bin/tsx");
  const child = spawn(tsx, [join(REPO_ROOT, "apps/api/src/main.ts")], {
    cwd: join(REPO_ROOT, "apps/api"),
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await emulator?.stop();
    await database.drop();
  };
  try {
    await waitForHealth(baseUrl, child, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  const createUser: Stack["createUser"] = async (user) => {
    const response = await fetch(`${baseUrl}/api/auth/sign-up/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: baseUrl },
      body: JSON.stringify({
        email: user.email,
        password: user.password,
        name: user.name ?? user.email.split("@")[0],
      }),
    });
    if (!response.ok)
      throw new Error(`sign-up of ${user.email} failed: ${response.status} ${await response.text()}`);
    const cookie = response.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
    const row = await database.db.user.update({
      where: { email: user.email },
      data: { role: user.role ?? "user" },
    });
    if (!row.accountId) throw new Error(`sign-up of ${user.email} created no account`);
    return { userId: row.id, accountId: row.accountId, cookie };
  };
  return { baseUrl, database, stripeApiBase, createUser, logs: () => output, stop };
}
