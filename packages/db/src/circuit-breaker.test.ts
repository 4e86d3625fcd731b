import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it, onTestFinished } from "vitest";
import { DatabaseCircuitOpenError } from "./circuit-breaker.ts";
import { createPrismaClient, databaseCircuitOf, isDatabaseUnavailable } from "./client.ts";
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
});
