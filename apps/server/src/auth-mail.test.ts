// Password reset by mailed link and email verification on sign-up (issue #24, step 1), through the HTTP
// API with the outbox mailer: the link is read from the stored mail, as a person reads it from their inbox.
import { syncCatalogToStripe } from "@minutely/api";
import { testPorts } from "@minutely/api/testing";
import { testDatabase } from "@minutely/db/vitest";
import { stripeEmulatorUrl } from "@minutely/testing";
import { afterAll, describe, expect, it } from "vitest";
import { buildTestServer, cookiesFrom, TEST_ORIGIN } from "./testing.ts";

const { db } = await testDatabase();
// The gate is off by default in tests (fixtures sign up without mailboxes): this file turns it on.
const app = await buildTestServer(db, { REQUIRE_VERIFIED_EMAIL_TO_BUY: "true" });
afterAll(() => app.close());

let ip = 0;
function nextIp() {
  ip += 1;
  return `10.24.${Math.floor(ip / 250)}.${ip % 250}`;
}

function post(
  path: string,
  payload: unknown,
  headers: Record<string, string> = {},
  remoteAddress = nextIp(),
) {
  return app.inject({
    method: "POST",
    url: `/api/auth/${path}`,
    headers: { origin: TEST_ORIGIN, ...headers },
    remoteAddress,
    payload: payload as Record<string, unknown>,
  });
}

async function signUp(email: string, password = "long-enough-1") {
  const response = await post("sign-up/email", { name: "Rita Reset", email, password });
  expect(response.statusCode, response.body).toBe(200);
  return cookiesFrom(response.headers["set-cookie"]);
}

/** The token of the last link mailed to `to` whose path is `path` (/reset-password, /verify-email). */
async function linkToken(to: string, path: string): Promise<string> {
  const mails = await db.mailMessage.findMany({ where: { to }, orderBy: { createdAt: "desc" } });
  for (const mail of mails) {
    const match = new RegExp(`https?://\\S+${path}\\?token=(\\S+)`).exec(mail.text);
    if (match?.[1]) return decodeURIComponent(match[1]);
  }
  throw new Error(`no ${path} link mailed to ${to}`);
}

function me(cookie: string) {
  return app.inject({ method: "GET", url: "/api/auth/get-session", headers: { cookie } });
}

describe("email verification", () => {
  it("mails a link on sign-up; following it verifies the address, and following it again is still verified", async () => {
    const email = "vera@example.com";
    await signUp(email);
    const mail = await db.mailMessage.findFirstOrThrow({ where: { to: email } });
    expect(mail.subject).toMatch(/confirm your email/i);
    expect(mail.text).toContain(`${TEST_ORIGIN}/verify-email?token=`);
    expect((await db.user.findUniqueOrThrow({ where: { email } })).emailVerified).toBe(false);

    const token = await linkToken(email, "/verify-email");
    for (let i = 0; i < 2; i++) {
      const verified = await app.inject({
        method: "GET",
        url: `/api/auth/verify-email?token=${encodeURIComponent(token)}`,
      });
      expect(verified.statusCode, verified.body).toBe(200);
      expect(verified.json()).toMatchObject({ status: true });
    }
    expect((await db.user.findUniqueOrThrow({ where: { email } })).emailVerified).toBe(true);
  });

  it("refuses a forged or damaged link with 401 INVALID_TOKEN", async () => {
    const response = await app.inject({ method: "GET", url: "/api/auth/verify-email?token=not-a-token" });
    expect(response.statusCode).toBe(401);
    expect(response.json().code).toBe("INVALID_TOKEN");
  });

  it("resends a link to a signed-in unverified user", async () => {
    const email = "resend@example.com";
    const cookie = await signUp(email);
    // The sign-up's mail got lost on its way.
    await db.mailMessage.deleteMany({ where: { to: email } });
    const response = await post("send-verification-email", { email }, { cookie });
    expect(response.statusCode, response.body).toBe(200);
    expect(await linkToken(email, "/verify-email")).toBeTruthy();
  });
});

describe("the buy gate", () => {
  it("refuses an unverified user's subscribe with 403 saying what to do, and lets them buy once verified", async () => {
    const email = "buyer@example.com";
    const cookie = await signUp(email);
    const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
    const subscribe = () =>
      app.inject({
        method: "POST",
        url: "/api/subscriptions/user/actions/",
        headers: { origin: TEST_ORIGIN, cookie },
        payload: { action: "subscribe", package_id: pro.id },
      });
    const refused = await subscribe();
    expect(refused.statusCode, refused.body).toBe(403);
    expect(refused.json().message).toMatch(/confirm your email address \(buyer@example\.com\)/i);

    // Minute packs are buying too: with the saved card, through Checkout, or by turning on auto top-up.
    const pack = "00000000-0000-4000-8000-000000000001";
    for (const method of ["saved_card", "checkout"]) {
      const packRefused = await app.inject({
        method: "POST",
        url: "/api/packs/purchase",
        headers: { origin: TEST_ORIGIN, cookie, "idempotency-key": `unverified-pack-${method}` },
        payload: { pack_id: pack, method },
      });
      expect(packRefused.statusCode, packRefused.body).toBe(403);
      expect(packRefused.json().message).toMatch(/confirm your email address/i);
    }
    const topUpRefused = await app.inject({
      method: "POST",
      url: "/api/packs/auto-top-up",
      headers: { origin: TEST_ORIGIN, cookie },
      payload: { auto_top_up: { pack_id: pack, threshold_minutes: 10, max_per_month: 1 } },
    });
    expect(topUpRefused.statusCode, topUpRefused.body).toBe(403);
    expect(topUpRefused.json().message).toMatch(/confirm your email address/i);

    // Everything else works unverified: the dashboard, for one.
    const dashboard = await app.inject({
      method: "GET",
      url: "/api/dashboard/comprehensive/",
      headers: { cookie },
    });
    expect(dashboard.statusCode, dashboard.body).toBe(200);

    const token = await linkToken(email, "/verify-email");
    await app.inject({ method: "GET", url: `/api/auth/verify-email?token=${encodeURIComponent(token)}` });
    await syncCatalogToStripe(testPorts(db, { stripeApiBase: stripeEmulatorUrl() }));
    const bought = await subscribe();
    expect(bought.statusCode, bought.body).toBe(200);
    expect(bought.json()).toMatchObject({ result: "checkout" });
  });
});

describe("password reset", () => {
  it("answers a registered and an unknown address alike, and mails a link only to the registered one", async () => {
    const email = "rita@example.com";
    await signUp(email);
    const known = await post("request-password-reset", { email });
    const unknown = await post("request-password-reset", { email: "nobody-here@example.com" });
    expect(known.statusCode, known.body).toBe(200);
    expect(unknown.statusCode).toBe(200);
    expect(unknown.json()).toEqual(known.json());
    expect(await db.mailMessage.count({ where: { to: "nobody-here@example.com" } })).toBe(0);
    const mail = await db.mailMessage.findFirstOrThrow({
      where: { to: email, subject: { contains: "Reset" } },
    });
    expect(mail.text).toContain(`${TEST_ORIGIN}/reset-password?token=`);
    expect(mail.text).toMatch(/once, for one hour/);
    // The token expires an hour after it was asked for.
    const token = await linkToken(email, "/reset-password");
    const row = await db.verification.findFirstOrThrow({ where: { identifier: `reset-password:${token}` } });
    const lifetime = row.expiresAt.getTime() - row.createdAt.getTime();
    expect(Math.abs(lifetime - 3600_000)).toBeLessThan(5_000);
  });

  it("sets the new password once, ends every session, and a double submit with its key answers as the first", async () => {
    const email = "double@example.com";
    const cookie = await signUp(email, "old-password-1");
    expect((await me(cookie)).json()).not.toBeNull();
    await post("request-password-reset", { email });
    const token = await linkToken(email, "/reset-password");

    const key = "reset-intent-0001";
    const [first, second] = await Promise.all([
      post("reset-password", { token, newPassword: "new-password-1" }, { "idempotency-key": key }),
      post("reset-password", { token, newPassword: "new-password-1" }, { "idempotency-key": key }),
    ]);
    expect(first.statusCode, first.body).toBe(200);
    expect(second.statusCode, second.body).toBe(200);
    expect(second.json()).toEqual({ status: true });

    // Single use: another submit (a new intent) with the used token is refused.
    const again = await post("reset-password", { token, newPassword: "other-password-1" });
    expect(again.statusCode).toBe(400);
    expect(again.json().code).toBe("INVALID_TOKEN");

    // The old session is gone; the new password signs in, the old one does not.
    expect((await me(cookie)).json()).toBeNull();
    expect((await post("sign-in/email", { email, password: "old-password-1" })).statusCode).toBe(401);
    expect((await post("sign-in/email", { email, password: "new-password-1" })).statusCode).toBe(200);
  });

  it("a new password voids every reset link still pending (another link used, or the password changed)", async () => {
    // Two links asked for; the second one is used: the first must not set the password again.
    const email = "two-links@example.com";
    await signUp(email, "old-password-1");
    await post("request-password-reset", { email });
    const first = await linkToken(email, "/reset-password");
    await db.mailMessage.deleteMany({ where: { to: email } });
    await post("request-password-reset", { email });
    const second = await linkToken(email, "/reset-password");
    expect(second).not.toBe(first);
    const used = await post("reset-password", { token: second, newPassword: "new-password-1" });
    expect(used.statusCode, used.body).toBe(200);
    const stale = await post("reset-password", { token: first, newPassword: "attacker-password-1" });
    expect(stale.statusCode, stale.body).toBe(400);
    expect(stale.json().code).toBe("INVALID_TOKEN");
    expect((await post("sign-in/email", { email, password: "new-password-1" })).statusCode).toBe(200);

    // A link asked for, then the password changed in the settings: the link is void.
    const other = "changed@example.com";
    const cookie = await signUp(other, "old-password-1");
    await post("request-password-reset", { email: other });
    const pending = await linkToken(other, "/reset-password");
    const changed = await post(
      "change-password",
      { currentPassword: "old-password-1", newPassword: "changed-password-1" },
      { cookie },
    );
    expect(changed.statusCode, changed.body).toBe(200);
    const late = await post("reset-password", { token: pending, newPassword: "attacker-password-1" });
    expect(late.statusCode, late.body).toBe(400);
    expect(late.json().code).toBe("INVALID_TOKEN");
    expect((await post("sign-in/email", { email: other, password: "changed-password-1" })).statusCode).toBe(
      200,
    );
  });

  it("refuses an unknown token with 400 INVALID_TOKEN, and bad input with 400 naming the field", async () => {
    const bad = await post("reset-password", { token: "nope", newPassword: "long-enough-1" });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe("INVALID_TOKEN");
    const short = await post("reset-password", { token: "nope", newPassword: "short" });
    expect(short.statusCode).toBe(400);
    expect(short.json().fields).toHaveProperty("newPassword");
    const notEmail = await post("request-password-reset", { email: 42 });
    expect(notEmail.statusCode).toBe(400);
    expect(notEmail.json().fields).toHaveProperty("email");
    const extra = await post("request-password-reset", {
      email: "a@example.com",
      redirectTo: "https://evil",
    });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().fields).toHaveProperty("redirectTo");
  });

  it("limits the links asked for one address (registered or not) across client addresses", async () => {
    for (const email of ["limited@example.com", "limited-unknown@example.com"]) {
      if (email === "limited@example.com") await signUp(email);
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await post("request-password-reset", { email })).statusCode);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    }
    const limited = await post("request-password-reset", { email: "limited@example.com" });
    expect(limited.headers["retry-after"]).toBeDefined();
    expect(limited.json().message).toMatch(/too many/i);
  });

  it("answers no faster for an unknown address than the floor", async () => {
    const started = Date.now();
    await post("request-password-reset", { email: "timing-unknown@example.com" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
  });
});
