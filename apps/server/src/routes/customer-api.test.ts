import { syncCatalogToStripe } from "@minutely/api";
import { testPorts } from "@minutely/api/testing";
import { testDatabase } from "@minutely/db/vitest";
import { stripeEmulatorUrl, userWithAccount } from "@minutely/testing";
import { afterAll, describe, expect, it } from "vitest";
import { assertMatchesOpenApi } from "../openapi-check.ts";
import { buildTestServer, cookiesFrom, TEST_ORIGIN } from "../testing.ts";
import { API_KEY_RATE_LIMIT } from "./customer-api.ts";

const { db } = await testDatabase();
const app = await buildTestServer(db);
afterAll(() => app.close());
await syncCatalogToStripe(testPorts(db, { stripeApiBase: stripeEmulatorUrl() }));
const openapi = (await app.inject({ method: "GET", url: "/api/openapi.json" })).json();
const plans = Object.fromEntries((await db.subscriptionPlan.findMany()).map((p) => [p.name, p.id]));

async function customerOn(email: string, plan: "Starter" | "Pro" | "Enterprise") {
  const signUp = await app.inject({
    method: "POST",
    url: "/api/auth/sign-up/email",
    headers: { origin: TEST_ORIGIN },
    remoteAddress: `10.1.0.${email.length}`,
    payload: { name: email, email, password: "long-enough-1" },
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
  return { cookie, accountId: user.accountId ?? "" };
}

async function trpc(cookie: string, path: string, input: unknown) {
  return await app.inject({
    method: "POST",
    url: `/trpc/${path}`,
    headers: { cookie, origin: TEST_ORIGIN, "content-type": "application/json" },
    payload: JSON.stringify({ json: input }),
  });
}

async function createKey(cookie: string, name: string): Promise<string> {
  const response = await trpc(cookie, "apiKeys.create", { name });
  expect(response.statusCode).toBe(200);
  return response.json().result.data.json.key;
}

function get(url: string, key: string) {
  return app.inject({ method: "GET", url, headers: { authorization: `Bearer ${key}` } });
}

const alice = await customerOn("alice@example.com", "Enterprise");
const bob = await customerOn("bob@example.com", "Enterprise");
await db.agent.create({ data: { accountId: bob.accountId, name: "Bob's agent" } });
const aliceKey = await createKey(alice.cookie, "CI");
const bobKey = await createKey(bob.cookie, "Ops");

describe("customer API keys", () => {
  it("lists keys by prefix and last use only; the full key is never shown again", async () => {
    await get("/api/v1/subscription", aliceKey);
    const list = await app.inject({
      method: "GET",
      url: "/trpc/apiKeys.list",
      headers: { cookie: alice.cookie },
    });
    const { keys, apiAccess } = list.json().result.data.json;
    expect(apiAccess).toBe(true);
    expect(keys).toHaveLength(1);
    expect(aliceKey.startsWith(keys[0].prefix)).toBe(true);
    expect(keys[0].lastUsedAt).not.toBeNull();
    expect(JSON.stringify(list.json())).not.toContain(aliceKey);
    const row = await db.apiKey.findFirstOrThrow({ where: { accountId: alice.accountId } });
    expect(row.keyHash).not.toContain(aliceKey.slice(12));
  });

  it("scopes every endpoint to the key's own account", async () => {
    const aliceAgents = (await get("/api/v1/agents", aliceKey)).json();
    const bobAgents = (await get("/api/v1/agents", bobKey)).json();
    expect(aliceAgents.agents).toEqual([]);
    expect(bobAgents.agents.map((a: { name: string }) => a.name)).toEqual(["Bob's agent"]);
    const aliceInvoices = (await get("/api/v1/invoices", aliceKey)).json().invoices;
    const aliceRows = await db.billingHistory.findMany({ where: { accountId: alice.accountId } });
    expect(aliceInvoices.map((i: { id: string }) => i.id).sort()).toEqual(aliceRows.map((r) => r.id).sort());
    // Each invoice says what it is for, line by line (Enterprise's first month here).
    expect(aliceInvoices.at(-1)).toMatchObject({
      description: "First payment",
      lines: [{ description: "1 × Enterprise (at $299.00 / month)", amount_cents: 29_900, proration: false }],
    });
  });

  it("answers every endpoint with a body that matches the OpenAPI document", async () => {
    for (const path of [
      "/api/v1/subscription",
      "/api/v1/usage",
      "/api/v1/usage/history",
      "/api/v1/invoices",
      "/api/v1/agents",
    ]) {
      const response = await get(path, aliceKey);
      expect(response.statusCode, `${path}: ${response.body}`).toBe(200);
      assertMatchesOpenApi(openapi, "GET", path, 200, response.json());
      expect(response.headers["x-ratelimit-limit"]).toBe(String(API_KEY_RATE_LIMIT));
    }
    const unauthorized = await get("/api/v1/usage", "mk_nope_nope");
    assertMatchesOpenApi(openapi, "GET", "/api/v1/usage", 401, unauthorized.json());
    expect(() =>
      assertMatchesOpenApi(openapi, "GET", "/api/v1/usage", 200, { usage: { minutes_used: "many" } }),
    ).toThrow(/does not match/);
  });

  it("refuses a missing, unknown or revoked key with 401 and a clear body", async () => {
    const missing = await app.inject({ method: "GET", url: "/api/v1/subscription" });
    expect(missing.statusCode).toBe(401);
    expect(missing.json().message).toMatch(/Authorization: Bearer/);
    const key = await createKey(alice.cookie, "short-lived");
    expect((await get("/api/v1/subscription", key)).statusCode).toBe(200);
    const id = (await db.apiKey.findFirstOrThrow({ where: { name: "short-lived" } })).id;
    expect((await trpc(alice.cookie, "apiKeys.revoke", { id })).statusCode).toBe(200);
    const revoked = await get("/api/v1/subscription", key);
    expect(revoked.statusCode).toBe(401);
    expect(revoked.json()).toEqual({
      error: "unauthorized",
      message: "This API key is not valid (unknown or revoked).",
    });
  });

  it("does not let a package without API access create keys", async () => {
    const carol = await customerOn("carol@example.com", "Pro");
    const refused = await trpc(carol.cookie, "apiKeys.create", { name: "nope" });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.json.message).toMatch(/does not include API access/);
    expect(await db.apiKey.count({ where: { accountId: carol.accountId } })).toBe(0);
  });

  it("stops a key working when the account loses API access (a downgrade took effect)", async () => {
    const dave = await customerOn("dave@example.com", "Enterprise");
    const key = await createKey(dave.cookie, "downgraded");
    expect((await get("/api/v1/usage", key)).statusCode).toBe(200);
    await db.subscription.updateMany({ where: { accountId: dave.accountId }, data: { planId: plans.Pro } });
    const forbidden = await get("/api/v1/usage", key);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().error).toBe("forbidden");
  });

  it("rate-limits each key across all endpoints with standard headers and a clear 429", async () => {
    const erin = await customerOn("erin@example.com", "Enterprise");
    const key = await createKey(erin.cookie, "busy");
    // One budget per key, whichever endpoints the requests go to.
    const endpoints = ["/api/v1/agents", "/api/v1/subscription", "/api/v1/invoices"];
    let last = await get("/api/v1/agents", key);
    for (let i = 1; i < API_KEY_RATE_LIMIT; i++) last = await get(endpoints[i % 3] ?? "", key);
    expect(last.statusCode).toBe(200);
    expect(last.headers["x-ratelimit-remaining"]).toBe("0");
    const limited = await get("/api/v1/usage/history", key);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers["retry-after"]).toBeDefined();
    expect(limited.json()).toMatchObject({
      error: "rate_limited",
      message: expect.stringMatching(/too many/i),
    });
    // Another key is not affected.
    expect((await get("/api/v1/agents", aliceKey)).statusCode).toBe(200);
  });
});
