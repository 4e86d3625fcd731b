// One answer per user intent, through the real server with real sessions (issue 19, items 6 and 16): a
// double submit of "Cancel subscription" is one cancellation and two successes; a double submit of "Create
// key" is one key whose secret both answers show; the same key with another input is a 409 naming
// requestKey; and two active keys of an account never share a name, even when two creates race.
import { syncCatalogToStripe } from "@minutely/api";
import { testPorts } from "@minutely/api/testing";
import { testDatabase } from "@minutely/db/vitest";
import { stripeEmulatorUrl, userWithAccount } from "@minutely/testing";
import { afterAll, describe, expect, it } from "vitest";
import { buildTestServer, cookiesFrom, TEST_ORIGIN } from "./testing.ts";

const { db } = await testDatabase();
const app = await buildTestServer(db);
afterAll(() => app.close());
await syncCatalogToStripe(testPorts(db, { stripeApiBase: stripeEmulatorUrl() }));
const plans = Object.fromEntries((await db.subscriptionPlan.findMany()).map((p) => [p.name, p.id]));
const PASSWORD = "long-enough-1";

async function customerOn(email: string, plan: "Pro" | "Enterprise") {
  const signUp = await app.inject({
    method: "POST",
    url: "/api/auth/sign-up/email",
    headers: { origin: TEST_ORIGIN },
    remoteAddress: `10.2.0.${email.length}`,
    payload: { name: email, email, password: PASSWORD },
  });
  const cookie = cookiesFrom(signUp.headers["set-cookie"]);
  const subscribed = await app.inject({
    method: "POST",
    url: "/api/subscriptions/user/actions/",
    headers: { cookie, origin: TEST_ORIGIN },
    payload: { action: "subscribe", package_id: plans[plan], payment_method_id: "pm_card_visa" },
  });
  expect(subscribed.statusCode).toBe(200);
  const user = await userWithAccount(db, { email });
  return { email, cookie, accountId: user.accountId ?? "" };
}

async function signIn(email: string): Promise<string> {
  const response = await app.inject({
    method: "POST",
    url: "/api/auth/sign-in/email",
    headers: { origin: TEST_ORIGIN },
    remoteAddress: "10.2.1.1",
    payload: { email, password: PASSWORD },
  });
  expect(response.statusCode).toBe(200);
  return cookiesFrom(response.headers["set-cookie"]);
}

async function trpc(cookie: string, path: string, input: unknown) {
  const response = await app.inject({
    method: "POST",
    url: `/trpc/${path}`,
    headers: { cookie, origin: TEST_ORIGIN, "content-type": "application/json" },
    payload: JSON.stringify({ json: input }),
  });
  const body = response.json();
  return {
    status: response.statusCode,
    data: body.result?.data.json,
    error: body.error?.json as
      | { message: string; data: { code: string; fieldErrors: Record<string, string> | null } }
      | undefined,
  };
}

describe("a double submit is one intent", () => {
  it("cancels once and answers both requests with success (no 'in progress' conflict)", async () => {
    const carol = await customerOn("carol-intents@example.com", "Pro");
    const input = { requestKey: "cancel-intent-0001" };
    const [first, second] = await Promise.all([
      trpc(carol.cookie, "subscription.cancel", input),
      trpc(carol.cookie, "subscription.cancel", input),
    ]);
    expect([first.status, second.status], JSON.stringify([first.error, second.error])).toEqual([200, 200]);
    expect(first.data.cancelAtPeriodEnd).toBe(true);
    expect(second.data).toEqual(first.data);
  });

  it("creates one API key for a double click and shows its secret in both answers", async () => {
    const dave = await customerOn("dave-intents@example.com", "Enterprise");
    const input = { name: "Deploy", requestKey: "create-key-intent-1" };
    const answers = await Promise.all([
      trpc(dave.cookie, "apiKeys.create", input),
      trpc(dave.cookie, "apiKeys.create", input),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    const [first, second] = answers.map((a) => a.data as { key: string; apiKey: { id: string } });
    expect(first?.key).toMatch(/^mk_/);
    expect(second).toEqual(first);
    expect(await db.apiKey.count({ where: { accountId: dave.accountId } })).toBe(1);

    // The same user in another session (another browser) gets the same key, but not its secret.
    const elsewhere = await signIn(dave.email);
    const replay = await trpc(elsewhere, "apiKeys.create", input);
    expect(replay.status).toBe(200);
    expect(replay.data).toMatchObject({ key: null, apiKey: { id: first?.apiKey.id } });

    // The same key with another name: refused, naming the key; nothing created.
    const changed = await trpc(dave.cookie, "apiKeys.create", { ...input, name: "Other" });
    expect(changed.status).toBe(409);
    expect(changed.error?.data.code).toBe("CONFLICT");
    expect(Object.keys(changed.error?.data.fieldErrors ?? {})).toEqual(["requestKey"]);
    expect(await db.apiKey.count({ where: { accountId: dave.accountId } })).toBe(1);
  });
});

describe("API key names", () => {
  it("refuses a second active key with the same name (trimmed, any case) with a 409 naming `name`", async () => {
    const erin = await customerOn("erin-intents@example.com", "Enterprise");
    expect((await trpc(erin.cookie, "apiKeys.create", { name: "Deploy" })).status).toBe(200);
    const again = await trpc(erin.cookie, "apiKeys.create", { name: "  deploy " });
    expect(again.status).toBe(409);
    expect(again.error?.data.fieldErrors).toEqual({ name: expect.stringContaining('"deploy"') });
    expect(again.error?.message).toMatch(/already exists/);

    // Once the first is revoked, the name is free again; another account may always use it.
    const [key] = (await db.apiKey.findMany({ where: { accountId: erin.accountId } })).map((k) => k.id);
    expect((await trpc(erin.cookie, "apiKeys.revoke", { id: key })).status).toBe(200);
    expect((await trpc(erin.cookie, "apiKeys.create", { name: "DEPLOY" })).status).toBe(200);
  });

  it("lets only one of concurrent creates with the same name win; the others are 409, never 500", async () => {
    const fay = await customerOn("fay-intents@example.com", "Enterprise");
    const answers = await Promise.all(
      [1, 2, 3, 4].map((n) => trpc(fay.cookie, "apiKeys.create", { name: n % 2 ? "Race" : "race " })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409, 409, 409]);
    for (const refused of answers.filter((a) => a.status === 409)) {
      expect(Object.keys(refused.error?.data.fieldErrors ?? {})).toEqual(["name"]);
    }
    expect(await db.apiKey.count({ where: { accountId: fay.accountId } })).toBe(1);
  });

  it("takes any name of up to 80 characters, also one that lower-cases longer (İ), and refuses 81 with a 400", async () => {
    const hal = await customerOn("hal-intents@example.com", "Enterprise");
    // "İ" lower-cases to two code points: its key once overflowed name_key's varchar(80) as a 500.
    const turkish = "İ".repeat(80);
    const created = await trpc(hal.cookie, "apiKeys.create", { name: turkish });
    expect(created.status, JSON.stringify(created.error)).toBe(200);
    expect(
      (await trpc(hal.cookie, "apiKeys.create", { name: turkish.toLowerCase().slice(0, 80) })).status,
    ).not.toBe(500);
    const tooLong = await trpc(hal.cookie, "apiKeys.create", { name: "İ".repeat(81) });
    expect(tooLong.status).toBe(400);
    expect(Object.keys(tooLong.error?.data.fieldErrors ?? {})).toEqual(["name"]);
  });

  it("is enforced by the database itself (a unique index of active names)", async () => {
    const gus = await customerOn("gus-intents@example.com", "Enterprise");
    const row = { accountId: gus.accountId, name: "Ops", nameKey: "ops", keyHash: "" };
    await db.apiKey.create({ data: { ...row, prefix: "mk_gus00001", keyHash: "1".repeat(64) } });
    await expect(
      db.apiKey.create({ data: { ...row, prefix: "mk_gus00002", keyHash: "2".repeat(64) } }),
    ).rejects.toMatchObject({ code: "P2002" });
    await db.apiKey.create({
      data: { ...row, prefix: "mk_gus00003", keyHash: "3".repeat(64), revokedAt: new Date() },
    });
  });
});

describe("a sign-up with an Idempotency-Key", () => {
  function signUp(email: string, name: string, key?: string, password = PASSWORD) {
    return app.inject({
      method: "POST",
      url: "/api/auth/sign-up/email",
      headers: { origin: TEST_ORIGIN, ...(key ? { "idempotency-key": key } : {}) },
      remoteAddress: "10.2.2.1",
      payload: { name, email, password },
    });
  }

  it("answers a double submit with two sessions for one new user", async () => {
    const [first, second] = await Promise.all([
      signUp("hana-intents@example.com", "Hana", "sign-up-intent-1"),
      signUp("hana-intents@example.com", "Hana", "sign-up-intent-1"),
    ]);
    expect([first.statusCode, second.statusCode], second.body).toEqual([200, 200]);
    for (const answer of [first, second]) {
      const cookie = cookiesFrom(answer.headers["set-cookie"]);
      expect(cookie).toContain("session_token=");
      const session = await app.inject({ method: "GET", url: "/api/auth/get-session", headers: { cookie } });
      expect(session.json().user.email).toBe("hana-intents@example.com");
    }
    expect(await db.user.count({ where: { email: "hana-intents@example.com" } })).toBe(1);
  });

  it("refuses the same key with another name (409 naming the header); another password is a 401", async () => {
    expect((await signUp("ivan-intents@example.com", "Ivan", "sign-up-intent-2")).statusCode).toBe(200);
    const renamed = await signUp("ivan-intents@example.com", "Ivan the Second", "sign-up-intent-2");
    expect(renamed.statusCode).toBe(409);
    expect(renamed.json()).toMatchObject({
      error: "idempotency_key_conflict",
      fields: { "Idempotency-Key": expect.stringContaining("Idempotency-Key") },
    });
    const otherPassword = await signUp(
      "ivan-intents@example.com",
      "Ivan",
      "sign-up-intent-2",
      "another-pass-2",
    );
    expect(otherPassword.statusCode).toBe(401);
  });

  it("without a key, a repeat is refused as an existing user (as before); a malformed key is a 400", async () => {
    expect((await signUp("jo-intents@example.com", "Jo")).statusCode).toBe(200);
    expect((await signUp("jo-intents@example.com", "Jo")).statusCode).toBe(422);
    const malformed = await signUp("kim-intents@example.com", "Kim", "no!");
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().fields).toHaveProperty("Idempotency-Key");
  });
});
