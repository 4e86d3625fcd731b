// A user's sessions over HTTP (issue #24, step 2): listed with device, address and last seen; signing out
// one ends it at once; "sign out everywhere else" keeps only this one; a password change ends the others.
import { testDatabase } from "@minutely/db/vitest";
import { afterAll, describe, expect, it } from "vitest";
import { buildTestServer, cookiesFrom, TEST_ORIGIN } from "./testing.ts";

const { db } = await testDatabase();
const app = await buildTestServer(db);
afterAll(() => app.close());

const PASSWORD = "long-enough-1";
const FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
const SAFARI =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";

let ip = 0;
async function signIn(email: string, userAgent: string): Promise<string> {
  ip += 1;
  const response = await app.inject({
    method: "POST",
    url: "/api/auth/sign-in/email",
    headers: { origin: TEST_ORIGIN, "user-agent": userAgent },
    remoteAddress: `10.7.0.${ip}`,
    payload: { email, password: PASSWORD },
  });
  expect(response.statusCode, response.body).toBe(200);
  return cookiesFrom(response.headers["set-cookie"]);
}

async function signUp(email: string): Promise<string> {
  ip += 1;
  const response = await app.inject({
    method: "POST",
    url: "/api/auth/sign-up/email",
    headers: { origin: TEST_ORIGIN, "user-agent": FIREFOX },
    remoteAddress: `10.7.0.${ip}`,
    payload: { name: "Sam Sessions", email, password: PASSWORD },
  });
  expect(response.statusCode, response.body).toBe(200);
  return cookiesFrom(response.headers["set-cookie"]);
}

async function trpc(cookie: string, path: string, input?: unknown, method: "GET" | "POST" = "POST") {
  const response =
    method === "GET"
      ? await app.inject({ method, url: `/trpc/${path}`, headers: { cookie } })
      : await app.inject({
          method,
          url: `/trpc/${path}`,
          headers: { cookie, origin: TEST_ORIGIN, "content-type": "application/json" },
          payload: JSON.stringify({ json: input }),
        });
  const body = response.json();
  return { status: response.statusCode, data: body.result?.data.json, error: body.error?.json };
}

async function signedIn(cookie: string): Promise<boolean> {
  const response = await app.inject({ method: "GET", url: "/api/auth/get-session", headers: { cookie } });
  return response.json() !== null;
}

interface Listed {
  id: string;
  device: string;
  ipAddress: string | null;
  current: boolean;
  lastSeenAt: string;
}

describe("sessions", () => {
  it("lists the user's sessions (this one first, marked current) with device and address", async () => {
    const laptop = await signUp("sam@example.com");
    const phone = await signIn("sam@example.com", SAFARI);
    const list = await trpc(laptop, "sessions.list", undefined, "GET");
    expect(list.status).toBe(200);
    const sessions = list.data as Listed[];
    expect(sessions).toHaveLength(2);
    expect(sessions[0]).toMatchObject({ device: "Firefox on Windows", current: true });
    expect(sessions[1]).toMatchObject({ device: "Safari on iOS", current: false });
    expect(sessions[1]?.ipAddress).toMatch(/^10\.7\.0\.\d+$/);
    expect(await signedIn(phone)).toBe(true);
  });

  it("signs out one session at once; again is 404 naming sessionId; another user's is 404 too", async () => {
    const laptop = await signUp("one@example.com");
    const phone = await signIn("one@example.com", SAFARI);
    const other = await signUp("stranger@example.com");
    const phoneId = ((await trpc(laptop, "sessions.list", undefined, "GET")).data as Listed[]).find(
      (s) => !s.current,
    )?.id;
    // A stranger cannot end it.
    const refused = await trpc(other, "sessions.revoke", { sessionId: phoneId, requestKey: "stranger-0001" });
    expect(refused.status).toBe(404);
    expect(await signedIn(phone)).toBe(true);

    const input = { sessionId: phoneId, requestKey: "revoke-phone-01" };
    const [first, second] = await Promise.all([
      trpc(laptop, "sessions.revoke", input),
      trpc(laptop, "sessions.revoke", input),
    ]);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(await signedIn(phone)).toBe(false);
    expect(await signedIn(laptop)).toBe(true);
    const again = await trpc(laptop, "sessions.revoke", {
      sessionId: phoneId,
      requestKey: "revoke-phone-02",
    });
    expect(again.status).toBe(404);
    expect(again.error.data.fieldErrors).toHaveProperty("sessionId");
    // A key named like an object internal is refused as unknown (400 naming it), never a 500.
    for (const key of ["prototype", "constructor", "__proto__"]) {
      const polluted = await trpc(laptop, "sessions.revoke", {
        sessionId: phoneId,
        requestKey: "revoke-phone-04",
        [key]: 1,
      });
      if (key === "__proto__") expect([200, 400, 404]).toContain(polluted.status);
      else {
        expect(polluted.status, JSON.stringify(polluted.error)).toBe(400);
        expect(polluted.error.message).toContain(key);
      }
    }
    const bad = await trpc(laptop, "sessions.revoke", { sessionId: "nope", requestKey: "revoke-phone-03" });
    expect(bad.status).toBe(400);
    expect(bad.error.data.fieldErrors).toHaveProperty("sessionId");
  });

  it("signs out every other session and keeps this one", async () => {
    const laptop = await signUp("all@example.com");
    const phone = await signIn("all@example.com", SAFARI);
    const tablet = await signIn("all@example.com", FIREFOX);
    const result = await trpc(laptop, "sessions.revokeOthers", { requestKey: "revoke-others-1" });
    expect(result.data).toEqual({ revoked: 2 });
    expect(await signedIn(phone)).toBe(false);
    expect(await signedIn(tablet)).toBe(false);
    expect(await signedIn(laptop)).toBe(true);
  });

  it("ends the other sessions when the password changes, even if the client asks not to", async () => {
    const laptop = await signUp("change@example.com");
    const phone = await signIn("change@example.com", SAFARI);
    const response = await app.inject({
      method: "POST",
      url: "/api/auth/change-password",
      headers: { origin: TEST_ORIGIN, cookie: laptop },
      remoteAddress: "10.7.9.9",
      payload: { currentPassword: PASSWORD, newPassword: "changed-password-1", revokeOtherSessions: false },
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(await signedIn(phone)).toBe(false);
    // The laptop carries on with the new session cookie it was given.
    const renewed = cookiesFrom(response.headers["set-cookie"]);
    expect(await signedIn(renewed)).toBe(true);
  });
});
