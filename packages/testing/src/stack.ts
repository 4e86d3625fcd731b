// Runs the real API process (apps/server) against a fresh copy of the test database, serving the built SPAs,
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
  /** Signs a user up through the real endpoint (address confirmed, its verification mail consumed); role "admin" is then granted in the database. */
  createUser(user: { email: string; password: string; name?: string; role?: "user" | "admin" }): Promise<{
    userId: string;
    accountId: string;
    cookie: string;
  }>;
  database: TestDatabase;
  /** Base URL of the Stripe emulator this stack's API talks to (its /_emulator/* endpoints drive it). */
  stripeApiBase: string;
  /** Everything the API process printed (across restarts), for assertions on logs. */
  logs(): string;
  /** Kills the API process at once (SIGKILL by default): no drain, no shutdown hooks, as a crash would. */
  kill(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
  /** How the API process last ended: its exit code, or null while it runs or when a signal ended it. */
  exitCode(): number | null;
  /** Starts the API process again on the same port, database and emulator (after `kill`), and waits for health. */
  restart(extraEnv?: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
}

export interface StackOptions {
  spas?: { web?: boolean; admin?: boolean };
  /** Extra environment of the API process. */
  env?: Record<string, string>;
  /** Extra environment of the stack's Stripe emulator process (STRIPE_EMULATOR_CHAOS, say). */
  emulatorEnv?: Record<string, string>;
  /** Use this database instead of a fresh copy of the template (it is not dropped by `stop`). */
  database?: TestDatabase;
  /** Chooses the API's port (a free one by default); the stack's own test gives it one already taken. */
  choosePort?: () => Promise<number>;
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
      // Bounded: whatever else listens on the port (it was taken meanwhile) may accept and never answer.
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the API did not become healthy within 60 s:\n${output()}`);
}

/** Attempts at a port before giving up: one taken between choosing it and the API's listen is chosen again. */
const PORT_ATTEMPTS = 5;

export async function startStack(server: TestDatabaseServer, options: StackOptions = {}): Promise<Stack> {
  const ownDatabase = options.database === undefined;
  const database = options.database ?? (await createTestDatabase(server));
  const webhookSecret = "whsec_minutely_stack_tests";
  let output = "";
  let port = 0;
  let env: Record<string, string> = {};
  // The API's Stripe: a Stripe emulator of this stack's own, unless the caller points it elsewhere.
  let emulator: RunningEmulator | undefined;
  // Node itself runs the API (tsx as a loader, not as a wrapper process), so killing the child kills the
  // server: a crash test must not leave an orphan listening on the port.
  const spawnApi = (extraEnv: Record<string, string> = {}): ChildProcess => {
    const started = spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "apps/server/src/main.ts")], {
      cwd: join(REPO_ROOT, "apps/server"),
      env: { ...env, ...extraEnv },
      stdio: ["ignore", "pipe", "pipe"],
    });
    started.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    started.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    return started;
  };
  let child: ChildProcess | undefined;
  const kill = async (signal: NodeJS.Signals = "SIGKILL", graceMs = 10_000) => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once("exit", resolve));
    running.kill(signal);
    const timer = setTimeout(() => running.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  };
  const stopProcesses = async () => {
    await kill("SIGTERM");
    await emulator?.stop();
    emulator = undefined;
  };
  const stop = async () => {
    await stopProcesses();
    if (ownDatabase) await database.drop();
  };
  // A free port is only free when it is chosen: before the API listens on it, another process's listen on
  // port 0 or an outgoing connection (a database client's) may take it (EADDRINUSE, seen in CI with the two
  // SPAs' browser tests starting stacks at once). The API then exits at once: a new port, a new emulator
  // (its webhooks go to the port), and the API again.
  for (let attempt = 1; ; attempt++) {
    port = await (options.choosePort ?? freePort)();
    try {
      // The emulator delivers its signed webhooks to this stack's API, as Stripe would.
      emulator = options.env?.STRIPE_API_BASE
        ? undefined
        : await startStripeEmulatorProcess({
            STRIPE_EMULATOR_WEBHOOK_URL: `http://127.0.0.1:${port}/api/webhooks/stripe`,
            STRIPE_EMULATOR_WEBHOOK_SECRET: webhookSecret,
            ...options.emulatorEnv,
          });
      env = {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/tmp",
        NODE_ENV: "test",
        HOST: "127.0.0.1",
        PORT: String(port),
        LOG_LEVEL: "info",
        DATABASE_URL: database.url,
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        STRIPE_API_BASE: options.env?.STRIPE_API_BASE ?? emulator?.url ?? "",
        STRIPE_WEBHOOK_SECRET: webhookSecret,
        ...(options.spas?.web ? { WEB_DIST_DIR: distDir("web") } : {}),
        ...(options.spas?.admin ? { ADMIN_DIST_DIR: distDir("admin") } : {}),
        ...options.env,
      };
      output = "";
      const started = spawnApi();
      child = started;
      await waitForHealth(`http://127.0.0.1:${port}`, started, () => output);
      break;
    } catch (error) {
      const portTaken = output.includes("EADDRINUSE");
      await stopProcesses();
      if (portTaken && attempt < PORT_ATTEMPTS) continue;
      if (ownDatabase) await database.drop();
      throw error;
    }
  }
  const baseUrl = `http://127.0.0.1:${port}`;
  const stripeApiBase = env.STRIPE_API_BASE ?? "";
  const restart = async (extraEnv: Record<string, string> = {}) => {
    await kill("SIGKILL");
    const started = spawnApi(extraEnv);
    child = started;
    await waitForHealth(baseUrl, started, () => output);
  };
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
    // A fixture user has confirmed their address (as the demo users have): its verification mail is
    // consumed, so tests that read the outbox see only the mail they are about.
    const row = await database.db.user.update({
      where: { email: user.email },
      data: { role: user.role ?? "user", emailVerified: true },
      select: { id: true, memberships: { where: { role: "owner" }, select: { accountId: true } } },
    });
    await database.db.mailMessage.deleteMany({
      where: { to: user.email, subject: "Confirm your email address for Minutely" },
    });
    const accountId = row.memberships[0]?.accountId;
    if (!accountId) throw new Error(`sign-up of ${user.email} created no account`);
    return { userId: row.id, accountId, cookie };
  };
  return {
    baseUrl,
    database,
    stripeApiBase,
    createUser,
    logs: () => output,
    kill: (signal, graceMs) => kill(signal ?? "SIGKILL", graceMs),
    exitCode: () => child?.exitCode ?? null,
    restart,
    stop,
  };
}
