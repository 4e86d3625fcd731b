import { createPrismaClient } from "@minutely/db";
import { testDatabase } from "@minutely/db/vitest";
import { userWithAccount } from "@minutely/testing";
import { afterAll, describe, expect, it } from "vitest";
import { buildTestServer, cookiesFrom, TEST_ORIGIN } from "./testing.ts";

const { db } = await testDatabase();
const app = await buildTestServer(db);
afterAll(() => app.close());

let ip = 0;
/** Each test gets its own client address, so the per-IP rate limit only bites where a test wants it. */
function nextIp() {
  ip += 1;
  return `10.0.0.${ip}`;
}

function signUp(body: Record<string, unknown>, remoteAddress = nextIp()) {
  return app.inject({
    method: "POST",
    url: "/api/auth/sign-up/email",
    headers: { origin: TEST_ORIGIN },
    remoteAddress,
    payload: body,
  });
}

function signIn(body: Record<string, unknown>, remoteAddress = nextIp()) {
  return app.inject({
    method: "POST",
    url: "/api/auth/sign-in/email",
    headers: { origin: TEST_ORIGIN },
    remoteAddress,
    payload: body,
  });
}

describe("sign-up", () => {
  it("creates the user, its account with the user as owner, and a session cookie", async () => {
    const response = await signUp({
      name: "Olivia Owner",
      email: "olivia@example.com",
      password: "long-enough-1",
    });
    expect(response.statusCode).toBe(200);
    const cookie = [response.headers["set-cookie"]].flat().find((c) => c?.includes("session_token"));
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    const user = await userWithAccount(db, { email: "olivia@example.com" });
    expect(user.account?.name).toBe("Olivia Owner");
    expect(user.memberships.map((m) => m.role)).toEqual(["owner"]);
    expect(user.role).toBe("user");
  });

  it.each([
    [{ name: "X", email: "not-an-email", password: "long-enough-1" }, /email/i],
    [{ name: "X", email: "short@example.com", password: "short" }, /password/i],
    [{ name: "X", email: "", password: "long-enough-1" }, /email/i],
  ])("refuses %j with a 4xx that names the problem, creating nothing", async (body, message) => {
    const before = await db.user.count();
    const accountsBefore = await db.account.count();
    const response = await signUp(body);
    expect(response.statusCode).toBeGreaterThanOrEqual(400);
    expect(response.statusCode).toBeLessThan(500);
    expect(response.json().message).toMatch(message);
    expect(await db.user.count()).toBe(before);
    expect(await db.account.count()).toBe(accountsBefore);
  });

  it("refuses a duplicate sign-up without creating a second account", async () => {
    const body = { name: "Dup", email: "dup@example.com", password: "long-enough-1" };
    expect((await signUp(body)).statusCode).toBe(200);
    const accountsBefore = await db.account.count();
    const again = await signUp({ ...body, email: "DUP@example.com" });
    expect(again.statusCode).toBe(422);
    expect(again.json().message).toMatch(/already exists/i);
    expect(await db.account.count()).toBe(accountsBefore);
  });

  it("cannot grant itself the admin role or another account", async () => {
    const other = await db.account.create({ data: { name: "Someone else" } });
    const response = await signUp({
      name: "Mallory",
      email: "mallory@example.com",
      password: "long-enough-1",
      role: "admin",
      accountId: other.id,
    });
    expect(response.statusCode).toBeGreaterThanOrEqual(200);
    const user = await db.user.findUnique({
      where: { email: "mallory@example.com" },
      include: { memberships: true },
    });
    if (user) {
      expect(user.role).toBe("user");
      expect(user.memberships.map((m) => m.accountId)).not.toContain(other.id);
    }
  });
});

describe("sign-in and sign-out", () => {
  it("signs in with the right password, identifies the viewer over tRPC, and signs out", async () => {
    await signUp({ name: "Sid", email: "sid@example.com", password: "right-password-1" });
    const response = await signIn({ email: "sid@example.com", password: "right-password-1" });
    expect(response.statusCode).toBe(200);
    const cookie = cookiesFrom(response.headers["set-cookie"]);

    const me = await app.inject({ method: "GET", url: "/trpc/auth.me", headers: { cookie } });
    expect(me.json().result.data.json.user.email).toBe("sid@example.com");

    const out = await app.inject({
      method: "POST",
      url: "/api/auth/sign-out",
      headers: { cookie, origin: TEST_ORIGIN },
      payload: {},
    });
    expect(out.statusCode).toBe(200);
    const after = await app.inject({ method: "GET", url: "/trpc/auth.me", headers: { cookie } });
    expect(after.json().result.data.json).toBeNull();
  });

  it("refuses a wrong password with 401 and a clear message", async () => {
    await signUp({ name: "Wanda", email: "wanda@example.com", password: "right-password-1" });
    const response = await signIn({ email: "wanda@example.com", password: "wrong-password-1" });
    expect(response.statusCode).toBe(401);
    expect(response.json().message).toMatch(/invalid email or password/i);
  });

  it("rate-limits repeated sign-in attempts from one address", async () => {
    const address = nextIp();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      statuses.push(
        (await signIn({ email: "nobody@example.com", password: "wrong-password-1" }, address)).statusCode,
      );
    }
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
    const limited = await signIn({ email: "nobody@example.com", password: "wrong-password-1" }, address);
    expect(limited.json().message).toMatch(/too many attempts/i);
    expect(limited.headers["retry-after"]).toBeDefined();
  });
});

describe("protection", () => {
  it("refuses cookie-authenticated state changes from a foreign origin", async () => {
    const response = await app.inject({
      method: "POST",
      url: "/trpc/catalog.list",
      headers: { cookie: "better-auth.session_token=whatever", origin: "https://evil.example" },
      payload: {},
    });
    expect(response.statusCode).toBe(403);
    expect(response.json().message).toMatch(/evil\.example/);
  });

  it("sends security headers and a request id", async () => {
    const response = await app.inject({ method: "GET", url: "/health" });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: "ok", database: "up" });
    expect(response.headers["x-content-type-options"]).toBe("nosniff");
    expect(response.headers["content-security-policy"]).toContain("default-src 'self'");
    expect(response.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(response.headers["strict-transport-security"]).toMatch(/max-age=\d+/);
    expect(response.headers["x-request-id"]).toBeTruthy();
  });
});

describe("while PostgreSQL is unreachable", () => {
  it("answers the sign-in routes with 503 and Retry-After, never a 500 or a false 'signed out'", async () => {
    const unreachable = createPrismaClient("postgresql://nobody@127.0.0.1:1/minutely", { poolSize: 1 });
    const down = await buildTestServer(unreachable);
    try {
      const headers = { origin: TEST_ORIGIN, cookie: "better-auth.session_token=abc.def" };
      const credentials = { email: "a@b.test", password: "x".repeat(12) };
      const requests = [
        { method: "GET", url: "/api/auth/get-session" },
        { method: "POST", url: "/api/auth/sign-in/email", payload: credentials },
        { method: "POST", url: "/api/auth/sign-up/email", payload: { name: "A", ...credentials } },
      ] as const;
      for (const request of requests) {
        const response = await down.inject({ ...request, headers, remoteAddress: nextIp() });
        expect(response.statusCode, `${request.method} ${request.url}: ${response.body}`).toBe(503);
        expect(response.headers["retry-after"]).toBe("5");
        expect(response.json()).toMatchObject({ error: "service_unavailable" });
      }
      // Signing out still works in the browser: the cookie is cleared (the session row expires by itself).
      const signOut = await down.inject({ method: "POST", url: "/api/auth/sign-out", headers, payload: {} });
      expect(signOut.statusCode).toBe(200);
      expect(String(signOut.headers["set-cookie"])).toMatch(/better-auth\.session_token=;.*Max-Age=0/i);
    } finally {
      await down.close();
      await unreachable.$disconnect();
    }
  });
});

describe("the API description of the auth routes", () => {
  it("documents what each answers, not only the 503 every route can give", async () => {
    const doc = (await app.inject({ method: "GET", url: "/api/openapi.json" })).json() as {
      paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
    };
    const auth = Object.entries(doc.paths).filter(([path]) => path.startsWith("/api/auth/"));
    expect(auth.length).toBeGreaterThanOrEqual(5);
    for (const [path, operations] of auth) {
      for (const operation of Object.values(operations)) {
        expect(Object.keys(operation.responses ?? {}), path).toEqual(
          expect.arrayContaining(["200", "400", "401", "429", "503"]),
        );
      }
    }
  });
});
