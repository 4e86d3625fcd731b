// While PostgreSQL is down the answer is a cheap 503: once the pool's circuit breaker has seen connections
// fail, requests that need the database are refused without a connection attempt (no round trip), with
// Retry-After, over REST, tRPC, the session lookup and readiness alike.
import { createPrismaClient, databaseCircuitOf } from "@minutely/db";
import { startDatabaseProxy } from "@minutely/db/testing";
import { testDatabase } from "@minutely/db/vitest";
import { afterAll, describe, expect, it } from "vitest";
import { assertMatchesOpenApi } from "./openapi-check.ts";
import { buildTestServer, cookiesFrom, TEST_ORIGIN } from "./testing.ts";

const { url } = await testDatabase();
const proxy = await startDatabaseProxy(url);
// A long cooldown: the circuit stays open (no probe) for the whole test once it opened.
const db = createPrismaClient(proxy.url, {
  poolSize: 3,
  circuit: { cooldown: { baseMs: 60_000, maxMs: 60_000 } },
});
const TOKEN = "database-circuit-metering-token";
const app = await buildTestServer(db, { METERING_API_TOKEN: TOKEN });
afterAll(async () => {
  await app.close();
  await db.$disconnect();
  await proxy.close();
});

// A real session, so that requests with it need the database to look it up.
const signUp = await app.inject({
  method: "POST",
  url: "/api/auth/sign-up/email",
  headers: { origin: TEST_ORIGIN },
  payload: { name: "Circuit Tester", email: "circuit@example.com", password: "long-enough-1" },
});
const cookie = cookiesFrom(signUp.headers["set-cookie"]);

const usage = {
  events: [
    {
      call_id: "circuit-1",
      account_id: "5b0c5e0e-8a4f-4a3e-9a43-6a8f3c1f2d10",
      agent_id: null,
      direction: "outbound",
      started_at: new Date(Date.now() - 120_000).toISOString(),
      duration_seconds: 30,
    },
  ],
};
const requests = {
  metering: () =>
    app.inject({
      method: "POST",
      url: "/api/v1/usage/calls",
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: usage,
    }),
  dashboard: () =>
    app.inject({
      method: "GET",
      url: "/api/dashboard/comprehensive/",
      headers: { cookie, origin: TEST_ORIGIN },
    }),
  trpc: () =>
    app.inject({
      method: "GET",
      url: "/trpc/dashboard.get",
      headers: { cookie, origin: TEST_ORIGIN },
    }),
  ready: () => app.inject({ method: "GET", url: "/health/ready" }),
  // better-auth answers a session it could not look up as 401 on the routes that need one.
  updateUser: () =>
    app.inject({
      method: "POST",
      url: "/api/auth/update-user",
      headers: { cookie, origin: TEST_ORIGIN },
      payload: { name: "Renamed in an outage" },
    }),
  getSession: () =>
    app.inject({ method: "GET", url: "/api/auth/get-session", headers: { cookie, origin: TEST_ORIGIN } }),
};

describe("with PostgreSQL down and the circuit open", () => {
  it("answers 503 with Retry-After and makes no database round trip", async () => {
    expect(signUp.statusCode).toBe(200);
    expect((await requests.dashboard()).statusCode).toBe(200);
    expect((await requests.ready()).statusCode).toBe(200);
    proxy.down();
    // The first requests find out (they try to connect, and fail): then the circuit opens.
    for (let i = 0; i < 10 && databaseCircuitOf(db)?.state !== "open"; i++) {
      expect((await requests.metering()).statusCode).toBe(503);
    }
    expect(databaseCircuitOf(db)?.state).toBe("open");

    const before = proxy.connections();
    for (let round = 0; round < 10; round++) {
      for (const via of ["metering", "dashboard", "trpc", "updateUser", "getSession"] as const) {
        const response = await requests[via]();
        expect(response.statusCode, `${via}: ${response.body}`).toBe(503);
        expect(response.headers["retry-after"], via).toBe("5");
        expect(response.body, via).toContain("Minutely cannot reach its database right now");
      }
      const ready = await requests.ready();
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toEqual({ status: "not_ready", reason: "database_down" });
    }
    expect(proxy.connections()).toBe(before);
  });

  it("every documented route that answers 503 with Retry-After documents it, and its body matches", async () => {
    expect(databaseCircuitOf(db)?.state).toBe("open");
    const doc = (await app.inject({ method: "GET", url: "/api/openapi.json" })).json() as Parameters<
      typeof assertMatchesOpenApi
    >[0] & { paths: Record<string, Record<string, { responses: Record<string, { headers?: object }> }>> };
    const answered503: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        // Documented once for every route (the same response object): 503 with Retry-After.
        expect(operation.responses["503"]?.headers, `${method} ${path}`).toHaveProperty("retry-after");
        const url = path.replace(/\{[^}]+\}/g, "5b0c5e0e-8a4f-4a3e-9a43-6a8f3c1f2d10");
        const bearer = /^\/api\/v1\/(accounts|usage\/calls|calls)/.test(path)
          ? TOKEN
          : "mk_0123abcd_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        const response = await app.inject({
          method: method.toUpperCase() as "GET",
          url,
          headers: {
            cookie,
            origin: TEST_ORIGIN,
            ...(path.startsWith("/api/v1/") ? { authorization: `Bearer ${bearer}` } : {}),
          },
          ...(method === "get" ? {} : { payload: path === "/api/v1/usage/calls" ? usage : {} }),
        });
        if (response.statusCode !== 503) continue;
        answered503.push(`${method.toUpperCase()} ${path}`);
        expect(response.headers["retry-after"], `${method} ${path}`).toBe("5");
        assertMatchesOpenApi(doc, method, path, 503, response.json());
      }
    }
    // The GET routes of the metering API, the dashboard, the packages and the customer API among them.
    expect(answered503).toEqual(
      expect.arrayContaining([
        "GET /api/v1/accounts/{account_id}/usage",
        "GET /api/dashboard/comprehensive/",
        "GET /api/subscriptions/user/packages/",
        "GET /api/v1/usage",
        "GET /api/v1/subscription",
        "POST /api/v1/usage/calls",
      ]),
    );
  });

  it("the API description tells the calling platform how to retry a 503", async () => {
    const doc = (await app.inject({ method: "GET", url: "/api/openapi.json" })).json() as {
      paths: Record<
        string,
        { post: { description: string; responses: Record<string, { headers?: object }> } }
      >;
    };
    for (const path of ["/api/v1/usage/calls", "/api/v1/calls/authorize"]) {
      const operation = doc.paths[path]?.post;
      expect(operation?.responses["503"]?.headers).toHaveProperty("retry-after");
      expect(operation?.description).toContain("same call_ids");
      expect(operation?.description).toContain("Retry-After");
      expect(operation?.description).toContain("jitter");
    }
  });
});
