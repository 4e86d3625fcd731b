// Test databases on real PostgreSQL. A vitest globalSetup starts one server per test run (embedded, or the
// one DATABASE_URL points at), migrates and seeds a template database once, and every test file gets a
// fresh copy of it (CREATE DATABASE ... TEMPLATE), dropped afterwards. Nothing is left running.
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { createPrismaClient, type Database } from "./client.ts";
import { type EmbeddedPostgresServer, startEmbeddedPostgres } from "./embedded.ts";
import { prepareDatabase } from "./queue.ts";
import { seedCatalog } from "./seed.ts";

export interface TestDatabaseServer {
  /** URL of a maintenance database on the server (where CREATE/DROP DATABASE run). */
  adminUrl: string;
  /** Name of the migrated and seeded template database. */
  template: string;
}

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(name)}`;
  return parsed.toString();
}

function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
}

async function admin<T>(adminUrl: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/**
 * For vitest's globalSetup: returns the server description and a teardown that drops the template and
 * stops the embedded server (if one was started).
 */
export async function startTestDatabaseServer(
  env: { DATABASE_URL?: string | undefined } = {},
): Promise<{ server: TestDatabaseServer; teardown: () => Promise<void> }> {
  let embedded: EmbeddedPostgresServer | undefined;
  let adminUrl: string;
  if (env.DATABASE_URL) {
    adminUrl = env.DATABASE_URL;
  } else {
    embedded = await startEmbeddedPostgres({
      dataDir: join(mkdtempSync(join(tmpdir(), "minutely-test-pg-")), "data"),
      ephemeral: true,
    });
    adminUrl = embedded.adminUrl;
  }
  const template = uniqueName("minutely_tpl");
  try {
    await admin(adminUrl, (c) => c.query(`CREATE DATABASE "${template}"`));
    const templateUrl = withDatabase(adminUrl, template);
    await prepareDatabase(templateUrl);
    const db = createPrismaClient(templateUrl, { poolSize: 1 });
    try {
      await seedCatalog(db);
    } finally {
      await db.$disconnect();
    }
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
  return {
    server: { adminUrl, template },
    async teardown() {
      try {
        await admin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`));
      } finally {
        await embedded?.stop();
      }
    },
  };
}

export interface TestDatabase {
  name: string;
  url: string;
  db: Database;
  drop(): Promise<void>;
}

/** A fresh database cloned from the template: migrated, with the default catalog. */
export async function createTestDatabase(server: TestDatabaseServer): Promise<TestDatabase> {
  const name = uniqueName("minutely_test");
  await admin(server.adminUrl, async (c) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await c.query(`CREATE DATABASE "${name}" TEMPLATE "${server.template}"`);
        return;
      } catch (error) {
        // Two clones of one template at the same instant can collide; a short retry resolves it.
        const busy = error instanceof Error && /being accessed by other users/.test(error.message);
        if (!busy || attempt >= 20) throw error;
        await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
      }
    }
  });
  const url = withDatabase(server.adminUrl, name);
  const db = createPrismaClient(url, { poolSize: 5 });
  return {
    name,
    url,
    db,
    async drop() {
      await db.$disconnect();
      await admin(server.adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

/** A TCP proxy in front of a database, to take it "down" and count the connections made to it. */
export interface DatabaseProxy {
  /** `url` with the proxy's host and port. */
  url: string;
  /** Connections accepted so far (each one a round trip the application made to the database). */
  connections(): number;
  /** Breaks every open connection and refuses new ones (accepted, then closed at once). */
  down(): void;
  up(): void;
  /**
   * Hangs like a stopped server (SIGSTOP): open connections stay open and carry nothing more; new ones are
   * accepted and never answered.
   */
  hang(): void;
  close(): Promise<void>;
}

export async function startDatabaseProxy(url: string): Promise<DatabaseProxy> {
  const target = new URL(url);
  let accepting = true;
  let hung = false;
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const pairs: [net.Socket, net.Socket][] = [];
  const server = net.createServer((client) => {
    connections += 1;
    if (!accepting) {
      client.destroy();
      return;
    }
    if (hung) {
      // A hung server (SIGSTOP): the kernel accepts the connection, nothing ever answers.
      sockets.add(client);
      client.on("error", () => client.destroy());
      client.pause();
      return;
    }
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", close);
      socket.on("close", close);
    }
    client.pipe(upstream).pipe(client);
    pairs.push([client, upstream]);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  const proxied = new URL(url);
  proxied.hostname = "127.0.0.1";
  proxied.port = String(port);
  return {
    url: proxied.toString(),
    connections: () => connections,
    down() {
      accepting = false;
      for (const socket of sockets) socket.destroy();
    },
    up() {
      accepting = true;
    },
    hang() {
      hung = true;
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
