// CSRF defence, route by route: every state-changing HTTP route and every tRPC mutation of both routers,
// called with a valid session cookie from a foreign origin (or with no origin at all), is refused and
// changes nothing. Routes and procedures are enumerated from the running server and the routers, so a new
// one is covered without editing this test.
import { adminRouter, appRouter } from "@minutely/api";
import { testDatabase } from "@minutely/db/vitest";
import { afterAll, describe, expect, it } from "vitest";
import { buildTestServer, cookiesFrom, TEST_ORIGIN } from "../testing.ts";

const { db } = await testDatabase();
const app = await buildTestServer(db);
afterAll(() => app.close());

const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const FOREIGN = "https://evil.example";

/** Method and full path of every route, read from Fastify's route tree (`printRoutes`). */
function httpRoutes(): { method: string; path: string }[] {
  const routes: { method: string; path: string }[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split("\n")) {
    const match = /^([│ ]*)[├└]── (\S+) \(([^)]+)\)$/.exec(line.replace(/\s+$/, ""));
    if (!match) continue;
    const depth = (match[1] ?? "").length / 4;
    const segment = match[2] ?? "";
    stack.length = depth;
    const path = `${stack.join("")}${segment}`;
    stack.push(segment);
    for (const method of (match[3] ?? "").split(", ")) routes.push({ method, path });
  }
  return routes;
}

function mutations(router: { _def: { procedures: Record<string, unknown> } }): string[] {
  return Object.entries(router._def.procedures)
    .filter(([, procedure]) => (procedure as { _def: { type: string } })._def.type === "mutation")
    .map(([path]) => path)
    .sort();
}

async function signUp(email: string): Promise<string> {
  const response = await app.inject({
    method: "POST",
    url: "/api/auth/sign-up/email",
    headers: { origin: TEST_ORIGIN },
    remoteAddress: `10.9.0.${email.length}`,
    payload: { name: email, email, password: "long-enough-password-1" },
  });
  expect(response.statusCode).toBe(200);
  return cookiesFrom(response.headers["set-cookie"]);
}

const customer = await signUp("origin-customer@example.com");
const admin = await signUp("origin-admin@example.com");
await db.user.update({ where: { email: "origin-admin@example.com" }, data: { role: "admin" } });

/** Row counts of every table: a refused request must not have written anything. */
async function snapshot(): Promise<Record<string, number>> {
  const tables = await db.$queryRawUnsafe<{ tablename: string }[]>(
    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
  );
  const counts: Record<string, number> = {};
  for (const { tablename } of tables) {
    const [row] = await db.$queryRawUnsafe<{ n: bigint }[]>(`SELECT count(*) AS n FROM "${tablename}"`);
    counts[tablename] = Number(row?.n ?? 0);
  }
  return counts;
}

type Target = { method: string; url: string; cookie: string; body: string };

function targets(): Target[] {
  const list: Target[] = [];
  for (const route of httpRoutes()) {
    if (!STATE_CHANGING.has(route.method) || route.path.includes(":path") || route.path === "*") continue;
    const url = route.path.replace(/:(\w+)/g, "00000000-0000-4000-8000-000000000000");
    list.push({ method: route.method, url, cookie: customer, body: "{}" });
  }
  for (const path of mutations(appRouter)) {
    list.push({ method: "POST", url: `/trpc/${path}`, cookie: customer, body: '{"json":{}}' });
  }
  for (const path of mutations(adminRouter)) {
    list.push({ method: "POST", url: `/trpc/admin/${path}`, cookie: admin, body: '{"json":{}}' });
  }
  // better-auth's own endpoints that change state for a signed-in user.
  list.push({ method: "POST", url: "/api/auth/sign-out", cookie: customer, body: "{}" });
  return list;
}

describe("origin checks on cookie-authenticated state changes", () => {
  it("covers the HTTP routes and both routers' mutations", () => {
    const urls = targets().map((t) => t.url);
    expect(urls).toEqual(
      expect.arrayContaining([
        "/api/subscriptions/user/actions",
        "/api/v1/usage/calls",
        "/api/webhooks/stripe",
        "/trpc/subscription.subscribe",
        "/trpc/admin/packages.create",
      ]),
    );
    expect(urls.filter((u) => u.startsWith("/trpc/admin/")).length).toBeGreaterThan(3);
  });

  it("refuses each one from a foreign origin, or with no origin, and writes nothing", async () => {
    const before = await snapshot();
    const accepted: string[] = [];
    for (const target of targets()) {
      for (const origin of [{ origin: FOREIGN }, { referer: `${FOREIGN}/page` }, {}]) {
        const response = await app.inject({
          method: target.method as "POST",
          url: target.url,
          headers: { cookie: target.cookie, "content-type": "application/json", ...origin },
          payload: target.body,
        });
        // The webhook route is not cookie-authenticated: its Stripe signature is what protects it.
        const refused =
          target.url === "/api/webhooks/stripe" ? response.statusCode === 400 : response.statusCode === 403;
        if (!refused)
          accepted.push(`${target.method} ${target.url} ${JSON.stringify(origin)} -> ${response.statusCode}`);
      }
    }
    expect(accepted).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });

  it("lets the same requests through from the app's own origin (the check is not a blanket refusal)", async () => {
    const blocked: string[] = [];
    for (const target of targets()) {
      if (target.url === "/api/auth/sign-out") continue; // would end the session the loop uses
      const response = await app.inject({
        method: target.method as "POST",
        url: target.url,
        headers: { cookie: target.cookie, "content-type": "application/json", origin: TEST_ORIGIN },
        payload: target.body,
      });
      const body = response.body;
      if (response.statusCode === 403 && /origin/i.test(body)) blocked.push(`${target.method} ${target.url}`);
    }
    expect(blocked).toEqual([]);
  });
});
