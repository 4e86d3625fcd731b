import { createPrismaClient } from "@minutely/db";
import { testDatabase } from "@minutely/db/vitest";
import type { FastifyInstance } from "fastify";
import { afterAll, describe, expect, it } from "vitest";
import { RateLimitBuckets } from "./rate-limit-store.ts";
import { buildTestServer, TEST_ORIGIN } from "./testing.ts";

const { db } = await testDatabase();
// Two replicas of the API on one database.
const replicas = [await buildTestServer(db), await buildTestServer(db)] as const;
afterAll(() => Promise.all(replicas.map((app) => app.close())));

function signIn(app: FastifyInstance, remoteAddress: string) {
  return app.inject({
    method: "POST",
    url: "/api/auth/sign-in/email",
    headers: { origin: TEST_ORIGIN },
    remoteAddress,
    // An email per address: these tests are about the per-address limit, not the per-account one.
    payload: { email: `nobody-${remoteAddress}@example.com`, password: "wrong-password-1" },
  });
}

/** Sign-in attempts from one address, alternating between the replicas; their status codes. */
async function attempts(count: number, remoteAddress: string): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    statuses.push((await signIn(replicas[i % 2] as FastifyInstance, remoteAddress)).statusCode);
  }
  return statuses;
}

describe("credential rate limits across replicas", () => {
  it("counts attempts on every replica against one limit of 10 a minute", async () => {
    const statuses = await attempts(12, "10.20.0.1");
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual([429, 429]);

    // The 429 is the one a single replica gives: same body and headers.
    const limited = await signIn(replicas[1], "10.20.0.1");
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toEqual({
      error: "rate_limited",
      message: expect.stringMatching(/^Too many attempts\. Try again in \d+ seconds\.$/),
    });
    expect(limited.headers["x-ratelimit-limit"]).toBe("10");
    expect(limited.headers["x-ratelimit-remaining"]).toBe("0");
    const retryAfter = Number(limited.headers["retry-after"]);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.headers["x-ratelimit-reset"]).toBe(String(retryAfter));

    // Other addresses, and sign-up from the same address, keep their own counters.
    expect((await signIn(replicas[0], "10.20.0.2")).statusCode).toBe(401);
    const signUp = await replicas[0].inject({
      method: "POST",
      url: "/api/auth/sign-up/email",
      headers: { origin: TEST_ORIGIN },
      remoteAddress: "10.20.0.1",
      payload: { name: "Sam", email: "sam@example.com", password: "long-enough-1" },
    });
    expect(signUp.statusCode).toBe(200);
  });

  it("counts a restarted replica's attempts where it left off", async () => {
    expect(await attempts(10, "10.20.1.1")).toEqual(Array(10).fill(401));
    const restarted = await buildTestServer(db);
    try {
      expect((await signIn(restarted, "10.20.1.1")).statusCode).toBe(429);
    } finally {
      await restarted.close();
    }
  });

  it("starts a new window once the old one has ended", async () => {
    expect((await attempts(11, "10.20.2.1")).at(-1)).toBe(429);
    // The minute passes (the database's clock decides, so the row's window end is moved back).
    await db.$executeRaw`UPDATE rate_limit_bucket SET window_end = now() - interval '1 second'`;
    const next = await signIn(replicas[1], "10.20.2.1");
    expect(next.statusCode).toBe(401);
    expect(next.headers["x-ratelimit-remaining"]).toBe("9");
  });

  it("stores no client address, only a keyed hash of route and client", async () => {
    await signIn(replicas[0], "10.20.3.1");
    const keys = (await db.rateLimitBucket.findMany()).map((b) => b.key);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(keys).toContain(
      new RateLimitBuckets({ db, secret: "minutely-development-session-secret-not-for-production" }).keyOf(
        "POST /api/auth/sign-in/email",
        "10.20.3.1",
      ),
    );
  });

  it("answers 503 with Retry-After, not 500 or a pass, when PostgreSQL is unreachable", async () => {
    const unreachable = createPrismaClient("postgresql://nobody@127.0.0.1:1/minutely", { poolSize: 1 });
    const app = await buildTestServer(unreachable);
    try {
      const response = await signIn(app, "10.20.4.1");
      expect(response.statusCode).toBe(503);
      expect(response.headers["retry-after"]).toBe("5");
      expect(response.json().error).toBe("service_unavailable");
    } finally {
      await app.close();
      await unreachable.$disconnect();
    }
  });
});

describe("RateLimitBuckets", () => {
  it("counts hits in a window timed by the database and starts over after it", async () => {
    const buckets = new RateLimitBuckets({ db, secret: "s".repeat(32) });
    const first = await buckets.hit("test", "short-window", 400);
    expect(first.current).toBe(1);
    expect(first.ttl).toBeGreaterThan(0);
    expect(first.ttl).toBeLessThanOrEqual(401); // window_end is stored to the millisecond
    const second = await buckets.hit("test", "short-window", 400);
    expect(second.current).toBe(2);
    expect(second.ttl).toBeLessThanOrEqual(first.ttl);
    await new Promise((resolve) => setTimeout(resolve, 450));
    expect((await buckets.hit("test", "short-window", 400)).current).toBe(1);
  });

  it("counts concurrent hits exactly", async () => {
    const buckets = new RateLimitBuckets({ db, secret: "s".repeat(32) });
    const results = await Promise.all(
      Array.from({ length: 25 }, () => buckets.hit("test", "concurrent", 60_000)),
    );
    expect(results.map((r) => r.current).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 25 }, (_, i) => i + 1),
    );
  });

  it("deletes expired rows as it goes, a bounded batch at a time, and keeps live ones", async () => {
    await db.rateLimitBucket.deleteMany();
    await db.$executeRaw`
      INSERT INTO rate_limit_bucket (key, count, window_end)
      SELECT 'expired-' || i, 3, now() - interval '1 minute' FROM generate_series(1, 5) AS i`;
    const buckets = new RateLimitBuckets({ db, secret: "s".repeat(32), sweepBatch: 3 });

    await buckets.hit("test", "live", 60_000); // the first hit of a process sweeps
    expect(await buckets.pendingSweep).toBe(3);
    // A full batch: the next hit sweeps again instead of waiting a minute.
    await buckets.hit("test", "live", 60_000);
    expect(await buckets.pendingSweep).toBe(2);
    // Nothing left to delete: no sweep until the interval has passed.
    await buckets.hit("test", "live", 60_000);
    expect(buckets.pendingSweep).toBeNull();

    const left = await db.rateLimitBucket.findMany();
    expect(left).toEqual([expect.objectContaining({ key: buckets.keyOf("test", "live"), count: 3 })]);
  });

  it("reports a failed sweep without failing the hit", async () => {
    const errors: unknown[] = [];
    const buckets = new RateLimitBuckets({
      db,
      secret: "s".repeat(32),
      sweepBatch: -1, // LIMIT -1 is an error in PostgreSQL
      onSweepError: (error) => errors.push(error),
    });
    expect((await buckets.hit("test", "sweep-fails", 60_000)).current).toBe(1);
    expect(await buckets.pendingSweep).toBe(0);
    expect(errors).toHaveLength(1);
  });
});
