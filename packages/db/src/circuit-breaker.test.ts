import { type AddressInfo, createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { describe, expect, it, onTestFinished } from "vitest";
import { DatabaseCircuitOpenError } from "./circuit-breaker.ts";
import { createPrismaClient, type Database, databaseCircuitOf, isDatabaseUnavailable } from "./client.ts";
import { startDatabaseProxy } from "./testing.ts";
import { testDatabase } from "./vitest.ts";

const { url } = await testDatabase();

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(20);
  }
}

async function errorOf(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error("expected the query to fail");
}

describe("the database circuit breaker", () => {
  it("refuses queries without a connection attempt while PostgreSQL is down, probes once per cooldown, closes when it answers", async () => {
    const proxy = await startDatabaseProxy(url);
    const changes: string[] = [];
    const db = createPrismaClient(proxy.url, {
      poolSize: 2,
      circuit: {
        failureThreshold: 2,
        cooldown: { baseMs: 1000, maxMs: 1000 },
        onChange: (s) => changes.push(s),
      },
    });
    onTestFinished(async () => {
      await db.$disconnect();
      await proxy.close();
    });
    const circuit = databaseCircuitOf(db);
    expect(circuit?.state).toBe("closed");
    await db.$queryRaw`SELECT 1`;

    // The database goes away: the first queries try to connect and fail; then the circuit opens.
    proxy.down();
    await until("the circuit to open", async () => {
      const error = await errorOf(() => db.$queryRaw`SELECT 1`);
      expect(isDatabaseUnavailable(error)).toBe(true);
      return circuit?.state === "open";
    });
    expect(changes).toEqual(["open"]);

    // While open: refused at once, as "database unavailable" (the API's 503), and not one connection made.
    const before = proxy.connections();
    const startedAt = Date.now();
    for (let i = 0; i < 20; i++) {
      const error = await errorOf(() => db.$queryRaw`SELECT 1`);
      expect(isDatabaseUnavailable(error)).toBe(true);
      expect(String((error as Error).message)).toContain("not trying again until a probe succeeds");
      const transaction = await errorOf(() => db.$transaction(async (tx) => tx.account.count()));
      expect(isDatabaseUnavailable(transaction)).toBe(true);
    }
    expect(Date.now() - startedAt).toBeLessThan(900);
    expect(proxy.connections()).toBe(before);
    expect(() => circuit?.check()).toThrow(DatabaseCircuitOpenError);

    // One probe per cooldown: one connection, and the circuit stays open while the database is down.
    await until("a probe", () => proxy.connections() === before + 1);
    await sleep(300);
    expect(proxy.connections()).toBe(before + 1);
    expect(circuit?.state).toBe("open");

    // The database is back: the next probe closes the circuit and queries work again.
    proxy.up();
    await until("the circuit to close", () => circuit?.state === "closed");
    expect(await db.$queryRaw<{ one: number }[]>`SELECT 1 AS one`).toEqual([{ one: 1 }]);
    expect(changes).toEqual(["open", "closed"]);
  });

  it("one lost connection does not open it", async () => {
    const proxy = await startDatabaseProxy(url);
    const db = createPrismaClient(proxy.url, { poolSize: 1, circuit: { failureThreshold: 2 } });
    onTestFinished(async () => {
      await db.$disconnect();
      await proxy.close();
    });
    await db.$queryRaw`SELECT 1`;
    proxy.down();
    proxy.up();
    await sleep(50);
    await db.$queryRaw`SELECT 1`;
    expect(databaseCircuitOf(db)?.state).toBe("closed");
  });
});

describe("a transaction that ran out of time (found by the attack on issue 27)", () => {
  it("is a database that cannot serve the request now (503 and retry, an uncounted job attempt), not a 500", async () => {
    const db = createPrismaClient(url);
    onTestFinished(() => db.$disconnect());
    // Waiting on a row lock held across a slow Stripe call expired the transaction: Prisma's P2028.
    const error = await errorOf(() =>
      db.$transaction(
        async (tx) => {
          await tx.$queryRaw`SELECT pg_sleep(0.3)::text`;
          await tx.$queryRaw`SELECT 1`;
        },
        { timeout: 50 },
      ),
    );
    expect((error as { code?: string }).code, String(error)).toBe("P2028");
    expect(isDatabaseUnavailable(error)).toBe(true);
    // A query that is wrong is still not "unavailable".
    expect(isDatabaseUnavailable(await errorOf(() => db.$queryRaw`SELECT * FROM no_such_table`))).toBe(false);
  });

  it("is a server that refuses or drops the socket (node-postgres passes Node's errno error on as it is)", async () => {
    // A port nothing listens on: the restart's window, when the server is not accepting connections yet.
    const closed = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const client = new pg.Client({ host: "127.0.0.1", port: closed, user: "x", database: "x" });
    const refused = await errorOf(() => client.connect());
    expect((refused as { code?: string }).code, String(refused)).toBe("ECONNREFUSED");
    expect(isDatabaseUnavailable(refused)).toBe(true);
    // A connection reset as the server goes away, wrapped as a cause.
    const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    expect(isDatabaseUnavailable(new Error("query failed", { cause: reset }))).toBe(true);
    // Other errno codes are not the database's availability.
    expect(isDatabaseUnavailable(Object.assign(new Error("no such file"), { code: "ENOENT" }))).toBe(false);
  });
});

describe("a database that hangs (SIGSTOP, a frozen host: connections accepted, nothing answered)", () => {
  /** A client of two pooled connections, both made before the database hangs. */
  async function hungClient(options: { queryTimeoutMs: number }) {
    const proxy = await startDatabaseProxy(url);
    const clients: Database[] = [];
    // The proxy first: its closed sockets end the stuck queries, so the clients can disconnect.
    onTestFinished(async () => {
      await proxy.close();
      for (const client of clients) await client.$disconnect();
    });
    // Both connections made before the hang. On a loaded machine a connection can take longer than the short
    // connect timeout the test needs once the database hangs: that is slowness, not the outage, and it may
    // have opened the new client's circuit, so such an attempt starts again with a fresh client.
    for (let attempt = 1; ; attempt += 1) {
      const db = createPrismaClient(proxy.url, {
        poolSize: 2,
        connectTimeoutMs: 300,
        queryTimeoutMs: options.queryTimeoutMs,
        // No probe during the test: the state seen is the one the failures made.
        circuit: { failureThreshold: 2, cooldown: { baseMs: 600_000, maxMs: 600_000 } },
      });
      clients.push(db);
      try {
        await Promise.all([
          db.$queryRaw`SELECT pg_sleep(0.05)::text`,
          db.$queryRaw`SELECT pg_sleep(0.05)::text`,
        ]);
      } catch (error) {
        if (attempt >= 20 || !isDatabaseUnavailable(error)) throw error;
        continue;
      }
      proxy.hang();
      return { db, proxy, circuit: databaseCircuitOf(db) };
    }
  }

  it("bounds the queries in flight (query_timeout) and opens the circuit on them", async () => {
    const { db, circuit } = await hungClient({ queryTimeoutMs: 300 });
    // Every query settles (none waits for the outage to end), as "database unavailable" (503).
    const settled = await Promise.allSettled(Array.from({ length: 4 }, () => db.$queryRaw`SELECT 1`));
    for (const result of settled) {
      expect(result.status).toBe("rejected");
      expect(isDatabaseUnavailable((result as PromiseRejectedResult).reason)).toBe(true);
    }
    expect(circuit?.state).toBe("open");
    const refused = await errorOf(() => db.$queryRaw`SELECT 1`);
    expect(String((refused as Error).message)).toContain("not trying again until a probe succeeds");
  });

  it("opens the circuit on the first timeout, so a lone caller's next request is refused at once", async () => {
    // One caller, one request at a time: its timeouts come a whole wait apart, so a rule of "two within the
    // window" never fired for it and each of its requests waited out the timeout for the whole outage.
    const { db, circuit } = await hungClient({ queryTimeoutMs: 300 });
    const first = await errorOf(() => db.$queryRaw`SELECT 1`);
    expect(isDatabaseUnavailable(first)).toBe(true);
    expect(circuit?.state).toBe("open");
    const next = await errorOf(() => db.$queryRaw`SELECT 1`);
    expect(String((next as Error).message)).toContain("not trying again until a probe succeeds");
  });

  it("opens the circuit when no pooled connection can be had in time", async () => {
    // Without a query timeout the two pooled connections stay stuck: new requests time out waiting for one.
    const { db, circuit } = await hungClient({ queryTimeoutMs: 0 });
    const stuck = [db.$queryRaw`SELECT 1`, db.$queryRaw`SELECT 1`];
    for (const query of stuck) query.catch(() => undefined);
    const waiting = await Promise.allSettled([db.$queryRaw`SELECT 1`, db.$queryRaw`SELECT 1`]);
    for (const result of waiting) {
      expect(isDatabaseUnavailable((result as PromiseRejectedResult).reason)).toBe(true);
    }
    expect(circuit?.state).toBe("open");
  });

  it("a statement that runs past statement_timeout is 'database unavailable' but never opens the circuit", async () => {
    // The server answered (it cancelled the statement): it is up. One slow query, or a lock wait under
    // load, must not turn every other request into a 503.
    const db = createPrismaClient(url, {
      statementTimeoutMs: 100,
      circuit: { failureThreshold: 2, cooldown: { baseMs: 600_000, maxMs: 600_000 } },
    });
    onTestFinished(() => db.$disconnect());
    const error = await errorOf(() => db.$queryRaw`SELECT pg_sleep(1)::text`);
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(databaseCircuitOf(db)?.state).toBe("closed");
    await errorOf(() => db.$queryRaw`SELECT pg_sleep(1)::text`);
    await errorOf(() => db.$queryRaw`SELECT pg_sleep(1)::text`);
    expect(databaseCircuitOf(db)?.state).toBe("closed");
    expect(await db.$queryRaw`SELECT 1::int AS one`).toEqual([{ one: 1 }]);
  });
});
