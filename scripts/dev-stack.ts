// The development stack behind `pnpm dev` (scripts/dev.ts generates the Prisma client, then imports this
// file): the whole product on this machine with demo data. Starts an embedded PostgreSQL (data in
// .data/postgres, git-ignored) unless DATABASE_URL is set, migrates and seeds it, then runs the API, the
// customer app and the admin app (each in its own process group), and prints where everything is.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createAuth, DEMO_USERS, seedDemoUsers } from "@minutely/api";
import { createPrismaClient, prepareDatabase, seedCatalog } from "@minutely/db";
import { type EmbeddedPostgresServer, freePort, startEmbeddedPostgres } from "@minutely/db/embedded";
import pg from "pg";

const ROOT = join(import.meta.dirname, "..");
const API_PORT = 3000;
const DEV_WEBHOOK_SECRET = "whsec_minutely_dev_webhook_secret";

function step(message: string) {
  console.log(`\x1b[36m▶\x1b[0m ${message}`);
}

async function ensureDatabase(adminUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function portIsFree(port: number): Promise<boolean> {
  const { createServer } = await import("node:net");
  return await new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

let embedded: EmbeddedPostgresServer | undefined;
let databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  const preferred = 54329;
  const port = (await portIsFree(preferred)) ? preferred : await freePort();
  step(`starting embedded PostgreSQL on port ${port} (data in .data/postgres)`);
  embedded = await startEmbeddedPostgres({ dataDir: join(ROOT, ".data/postgres"), port });
  databaseUrl = await ensureDatabase(embedded.adminUrl, "minutely");
}

step("applying migrations");
const migrated = await prepareDatabase(databaseUrl, { log: (line) => console.log(`  ${line}`) });
if (migrated.applied.length === 0) console.log("  database is up to date");

step("seeding demo data");
const db = createPrismaClient(databaseUrl, { poolSize: 1 });
try {
  const catalog = await seedCatalog(db);
  console.log(catalog.created > 0 ? `  created ${catalog.created} packages` : "  packages already present");
  // Demo users exist in development only; the production server never creates them.
  const auth = createAuth({
    db,
    secret: "minutely-dev-seed-secret-only-used-to-hash-demo-passwords",
    baseUrl: `http://localhost:${API_PORT}`,
    trustedOrigins: [],
    secureCookies: false,
  });
  const users = await seedDemoUsers(auth, db);
  console.log(
    users.length > 0 ? `  created demo users: ${users.join(", ")}` : "  demo users already present",
  );
} finally {
  await db.$disconnect();
}

if (!(await portIsFree(API_PORT))) {
  console.error(`Port ${API_PORT} is in use: stop whatever listens there (another pnpm dev?) and try again.`);
  await embedded?.stop();
  process.exit(1);
}

step("starting the API (:3000), the customer app (:5173) and the admin app (:5174)");
let stopping = false;
const children: ChildProcess[] = [];
const childEnv = {
  ...process.env,
  TURBO_TELEMETRY_DISABLED: "1",
  DATABASE_URL: databaseUrl,
  PORT: String(API_PORT),
  NODE_ENV: "development",
};
const colors = { api: "\x1b[35m", web: "\x1b[32m", admin: "\x1b[33m", stripe: "\x1b[34m" } as const;

/** Runs a package's dev script in its own process group, its output prefixed with its name. */
function run(name: keyof typeof colors, pkg: string, extraEnv: Record<string, string> = {}): ChildProcess {
  const child = spawn("pnpm", ["--filter", pkg, "run", "dev"], {
    cwd: ROOT,
    env: { ...childEnv, ...extraEnv },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const prefix = `${colors[name]}${name.padEnd(5)}\x1b[0m│ `;
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = "";
    stream?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) process.stdout.write(`${prefix}${line}\n`);
    });
  }
  child.on("exit", (code) => {
    if (!stopping) {
      console.error(`${name} exited with code ${code}; stopping everything.`);
      void shutdown(code ?? 1);
    }
  });
  children.push(child);
  return child;
}

if (!process.env.STRIPE_SECRET_KEY) {
  // The Stripe-compatible emulator (not Stripe), its state kept next to the database's, delivering
  // webhooks to the API with the shared development secret.
  run("stripe", "@minutely/stripe-emulator", {
    STRIPE_EMULATOR_PORT: "12111",
    STRIPE_EMULATOR_WEBHOOK_URL: `http://127.0.0.1:${API_PORT}/api/webhooks/stripe`,
    STRIPE_EMULATOR_WEBHOOK_SECRET: DEV_WEBHOOK_SECRET,
    STRIPE_EMULATOR_STATE_FILE: join(ROOT, ".data/stripe-emulator.json"),
  });
}
run("api", "@minutely/server", {
  // Customers use the app on the Vite server, which proxies /api and /trpc here: Checkout returns there.
  APP_URL: process.env.APP_URL ?? "http://localhost:5173",
  STRIPE_WEBHOOK_SECRET: process.env.STRIPE_WEBHOOK_SECRET ?? DEV_WEBHOOK_SECRET,
  ...(process.env.STRIPE_SECRET_KEY ? {} : { STRIPE_API_BASE: "http://127.0.0.1:12111" }),
});
run("web", "@minutely/web");
run("admin", "@minutely/admin");

async function waitForApi(): Promise<boolean> {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${API_PORT}/health`)).ok) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

void waitForApi().then((up) => {
  if (!up) return;
  console.log(`
\x1b[1mMinutely is running\x1b[0m
  Customer app   http://localhost:5173/
  Admin app      http://localhost:5174/admin/
  API            http://localhost:${API_PORT}  (health: /health, tRPC: /trpc and /trpc/admin)
  Stripe         ${process.env.STRIPE_SECRET_KEY ? "Stripe (STRIPE_SECRET_KEY)" : "Stripe-compatible emulator for development (not Stripe): http://127.0.0.1:12111"}
  Metering API   POST http://localhost:${API_PORT}/api/v1/usage/calls  (Authorization: Bearer dev-metering-token)
  Database       ${embedded ? `embedded PostgreSQL, ${embedded.adminUrl.replace(/\/postgres$/, "/minutely")}` : "DATABASE_URL"}
Demo logins (password for both: ${DEMO_USERS[0].password})
${DEMO_USERS.map((u) => `  ${u.email.padEnd(24)} ${u.role === "admin" ? "admin (admin app)" : "customer, no subscription yet"}`).join("\n")}
Press Ctrl+C to stop everything.
`);
});

async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  for (const child of children) {
    if (child.pid && child.exitCode === null) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
  }
  await Promise.all(
    children.map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null) resolve(undefined);
          else child.once("exit", resolve);
          setTimeout(resolve, 8000).unref();
        }),
    ),
  );
  // Whatever ignored SIGTERM (a watcher's grandchild, say) does not outlive `pnpm dev`.
  for (const child of children) {
    try {
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    } catch {
      // the group is gone
    }
  }
  await embedded?.stop();
  process.exit(code);
}

process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));
