// Bounded tRPC requests: a batch holds at most MAX_TRPC_BATCH_CALLS calls and a body at most TRPC_BODY_LIMIT
// bytes, on both routers; beyond that a 4xx says what the limit is, and none of the calls runs. The SPAs'
// batch links never exceed the bound themselves.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { testDatabase } from "@minutely/db/vitest";
import superjson from "superjson";
import { afterAll, describe, expect, it } from "vitest";
import { MAX_TRPC_BATCH_CALLS, TRPC_BODY_LIMIT } from "./server.ts";
import { buildTestServer, cookiesFrom, TEST_ORIGIN } from "./testing.ts";

const { db } = await testDatabase();
const app = await buildTestServer(db);
afterAll(() => app.close());

async function signUp(email: string): Promise<string> {
  const response = await app.inject({
    method: "POST",
    url: "/api/auth/sign-up/email",
    headers: { origin: TEST_ORIGIN },
    payload: { name: "Batcher", email, password: "long-enough-password-1" },
  });
  expect(response.statusCode, response.body).toBe(200);
  return cookiesFrom(response.headers["set-cookie"]);
}

const customer = await signUp("batcher@example.com");
const admin = await signUp("batch-admin@example.com");
await db.user.update({ where: { email: "batch-admin@example.com" }, data: { role: "admin" } });

function batchOf(prefix: string, path: string, calls: number, cookie: string) {
  const paths = Array.from({ length: calls }, () => path).join(",");
  const input = Object.fromEntries(
    Array.from({ length: calls }, (_, i) => [i, superjson.serialize(undefined)]),
  );
  return app.inject({
    method: "GET",
    url: `${prefix}/${paths}?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`,
    headers: { cookie },
  });
}

describe("tRPC batches", () => {
  it.each([
    { prefix: "/trpc", path: "catalog.list", cookie: () => customer },
    { prefix: "/trpc/admin", path: "packages.list", cookie: () => admin },
  ])(
    "on $prefix: up to the bound are answered, one more is a 400 stating the bound",
    async ({ prefix, path, cookie }) => {
      const within = await batchOf(prefix, path, MAX_TRPC_BATCH_CALLS, cookie());
      expect(within.statusCode, within.body).toBe(200);
      expect(within.json()).toHaveLength(MAX_TRPC_BATCH_CALLS);

      for (const calls of [MAX_TRPC_BATCH_CALLS + 1, 100]) {
        const beyond = await batchOf(prefix, path, calls, cookie());
        expect(beyond.statusCode).toBe(400);
        expect(beyond.json()).toEqual({
          error: "batch_too_large",
          message: `A tRPC batch may hold at most ${MAX_TRPC_BATCH_CALLS} calls; this one has ${calls}. Send the others in further requests.`,
        });
      }
    },
  );

  it("runs none of the calls of a refused batch (a mutation batch changes nothing)", async () => {
    const calls = MAX_TRPC_BATCH_CALLS + 1;
    const paths = Array.from({ length: calls }, () => "agents.create").join(",");
    const body = Object.fromEntries(
      Array.from({ length: calls }, (_, i) => [i, superjson.serialize({ name: `Agent ${i}` })]),
    );
    const response = await app.inject({
      method: "POST",
      url: `/trpc/${paths}?batch=1`,
      headers: { cookie: customer, origin: TEST_ORIGIN, "content-type": "application/json" },
      payload: JSON.stringify(body),
    });
    expect(response.statusCode).toBe(400);
    expect(await db.agent.count()).toBe(0);
  });

  it("refuses a body over the tRPC limit with a 413 stating it, on both routers", async () => {
    for (const prefix of ["/trpc", "/trpc/admin"]) {
      const name = "x".repeat(TRPC_BODY_LIMIT);
      const response = await app.inject({
        method: "POST",
        url: `${prefix}/agents.create`,
        headers: { cookie: customer, origin: TEST_ORIGIN, "content-type": "application/json" },
        payload: JSON.stringify(superjson.serialize({ name })),
      });
      expect(response.statusCode).toBe(413);
      expect(response.json().message).toContain(`${TRPC_BODY_LIMIT} bytes`);
    }
  });

  it("the SPAs batch at most the bound themselves (httpBatchLink maxItems)", () => {
    // Both SPAs make their tRPC client with createTrpc of @minutely/ui.
    for (const spa of ["web", "admin"]) {
      const app = readFileSync(
        fileURLToPath(new URL(`../../${spa}/src/lib/trpc.ts`, import.meta.url)),
        "utf8",
      );
      expect(app, `apps/${spa}/src/lib/trpc.ts`).toMatch(/\bcreateTrpc</);
    }
    const source = readFileSync(
      fileURLToPath(new URL("../../../packages/ui/src/trpc.ts", import.meta.url)),
      "utf8",
    );
    const maxItems = /httpBatchLink(?:<[^>]*>)?\(\{[^}]*maxItems:\s*(\d+)/.exec(source)?.[1];
    expect(maxItems, "packages/ui/src/trpc.ts sets no maxItems").toBeDefined();
    expect(Number(maxItems)).toBeLessThanOrEqual(MAX_TRPC_BATCH_CALLS);
  });
});
