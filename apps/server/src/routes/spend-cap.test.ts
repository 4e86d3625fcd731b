// POST/GET /api/billing/spend-cap: the overage budget over REST. Bad input is a 400 naming the field (wrong
// JSON types are refused, never coerced), money is integer minor units with its currency, a retried request
// with the same Idempotency-Key is answered once, and the answers match the OpenAPI document.

import { testDatabase } from "@minutely/db/vitest";
import { userWithAccount } from "@minutely/testing";
import { afterAll, describe, expect, it } from "vitest";
import { assertMatchesOpenApi } from "../openapi-check.ts";
import { buildTestServer, cookiesFrom, TEST_ORIGIN } from "../testing.ts";

const { db } = await testDatabase();
const app = await buildTestServer(db);
afterAll(() => app.close());

const DAY_MS = 86_400_000;

async function customer(email: string, plan: "Pro" | "Starter" | null = "Pro") {
  const response = await app.inject({
    method: "POST",
    url: "/api/auth/sign-up/email",
    headers: { origin: TEST_ORIGIN },
    payload: { name: email, email, password: "long-enough-1" },
  });
  expect(response.statusCode, response.body).toBe(200);
  const cookie = cookiesFrom(response.headers["set-cookie"]);
  const user = await userWithAccount(db, { email });
  const accountId = user.accountId ?? "";
  if (plan) {
    const row = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: plan } });
    await db.subscription.create({
      data: {
        accountId,
        stripeSubscriptionId: `sub_cap_${accountId}`,
        planId: row.id,
        stripePriceId: "price_x",
        status: "active",
        currentPeriodStart: new Date(Date.now() - 5 * DAY_MS),
        currentPeriodEnd: new Date(Date.now() + 25 * DAY_MS),
      },
    });
  }
  return { cookie, accountId };
}

async function post(cookie: string, payload: unknown, key?: string) {
  return await app.inject({
    method: "POST",
    url: "/api/billing/spend-cap",
    headers: {
      cookie,
      origin: TEST_ORIGIN,
      "content-type": "application/json",
      ...(key ? { "idempotency-key": key } : {}),
    },
    payload: JSON.stringify(payload),
  });
}

const openapi = async () => (await app.inject({ method: "GET", url: "/api/openapi.json" })).json();

describe("the spend cap over REST", () => {
  it("sets, reads and removes the budget in integer minor units, matching the OpenAPI document", async () => {
    const { cookie } = await customer("cap-rest@example.com");
    const set = await post(cookie, { amount_cents: 5000, currency: "usd" });
    expect(set.statusCode, set.body).toBe(200);
    const doc = await openapi();
    assertMatchesOpenApi(doc, "POST", "/api/billing/spend-cap", 200, set.json());
    expect(set.json()).toMatchObject({
      spend_cap: { amount_cents: 5000, currency: "usd" },
      available: true,
      currency: "usd",
      status: { spent_cents: 0, percentage: 0, reached: false },
      min_cents: 0,
      max_cents: 10_000_000,
    });
    const read = await app.inject({ method: "GET", url: "/api/billing/spend-cap", headers: { cookie } });
    assertMatchesOpenApi(doc, "GET", "/api/billing/spend-cap", 200, read.json());
    expect(read.json().spend_cap).toEqual({ amount_cents: 5000, currency: "usd" });
    const removed = await post(cookie, { amount_cents: null, currency: "usd" });
    expect(removed.json()).toMatchObject({ spend_cap: null, status: null });
  });

  it("refuses bad input with a 400 naming the field, never coercing it", async () => {
    const { cookie, accountId } = await customer("cap-bad@example.com");
    const cases: [unknown, string][] = [
      [{ amount_cents: "5000", currency: "usd" }, "amount_cents"],
      [{ amount_cents: true, currency: "usd" }, "amount_cents"],
      [{ amount_cents: [5000], currency: "usd" }, "amount_cents"],
      [{ amount_cents: -1, currency: "usd" }, "amount_cents"],
      [{ amount_cents: 50.5, currency: "usd" }, "amount_cents"],
      [{ amount_cents: 1e300, currency: "usd" }, "amount_cents"],
      [{ amount_cents: 10_000_001, currency: "usd" }, "amount_cents"],
      [{ currency: "usd" }, "amount_cents"],
      [{ amount_cents: 5000 }, "currency"],
      [{ amount_cents: 5000, currency: "USD" }, "currency"],
      [{ amount_cents: 5000, currency: 840 }, "currency"],
      [{ amount_cents: 5000, currency: "usd", cap: 1 }, "cap"],
      // The account is billed in USD: a budget in another currency is refused.
      [{ amount_cents: 5000, currency: "eur" }, "currency"],
    ];
    for (const [payload, field] of cases) {
      const response = await post(cookie, payload);
      expect(response.statusCode, `${JSON.stringify(payload)}: ${response.body}`).toBe(400);
      expect(Object.keys(response.json().fields ?? {}), JSON.stringify(payload)).toContain(field);
    }
    const account = await db.account.findUniqueOrThrow({ where: { id: accountId } });
    expect(account.overageCapCents).toBeNull();
    expect(await db.auditLog.count({ where: { entityId: accountId } })).toBe(0);
  });

  it("refuses removing the budget in another currency than the billing currency, naming currency", async () => {
    const { cookie, accountId } = await customer("cap-remove-eur@example.com");
    expect((await post(cookie, { amount_cents: 5000, currency: "usd" })).statusCode).toBe(200);
    const response = await post(cookie, { amount_cents: null, currency: "eur" });
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().fields).toHaveProperty("currency");
    const account = await db.account.findUniqueOrThrow({ where: { id: accountId } });
    expect(account.overageCapCents).toBe(5000);
  });

  it("says an absurdly large whole budget is above the maximum, not that it is not a whole number", async () => {
    const { cookie } = await customer("cap-absurd@example.com");
    for (const amount of ["1e308", "9007199254740993", "1e16"]) {
      const response = await post(cookie, JSON.parse(`{"amount_cents":${amount},"currency":"usd"}`));
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().fields.amount_cents, amount).toContain("at most 10000000");
    }
  });

  it("over tRPC, an absurd budget's message and its field error say the same thing", async () => {
    const { cookie } = await customer("cap-absurd-trpc@example.com");
    const response = await app.inject({
      method: "POST",
      url: "/trpc/spendCap.set",
      headers: { cookie, origin: TEST_ORIGIN, "content-type": "application/json" },
      payload: JSON.stringify({ json: { amountCents: 1e308, currency: "usd" } }),
    });
    expect(response.statusCode).toBe(400);
    const { message, data } = response.json().error.json;
    expect(message).toContain(data.fieldErrors.amountCents);
  });

  it("refuses a budget on a hard-cap package or without a subscription, and anonymous callers", async () => {
    const starter = await customer("cap-starter@example.com", "Starter");
    const refused = await post(starter.cookie, { amount_cents: 100, currency: "usd" });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().fields).toHaveProperty("amount_cents");
    expect(refused.json().message).toContain("hard cap");
    const none = await customer("cap-none@example.com", null);
    const noSubscription = await post(none.cookie, { amount_cents: 100, currency: "usd" });
    expect(noSubscription.statusCode).toBe(400);
    expect(noSubscription.json().fields).toHaveProperty("amount_cents");
    const anonymous = await app.inject({
      method: "POST",
      url: "/api/billing/spend-cap",
      headers: { origin: TEST_ORIGIN, "content-type": "application/json" },
      payload: JSON.stringify({ amount_cents: 100, currency: "usd" }),
    });
    expect(anonymous.statusCode).toBe(401);
  });

  it("answers a retried request with the same Idempotency-Key once, and refuses the key with another body", async () => {
    const { cookie, accountId } = await customer("cap-retry@example.com");
    const key = "cap-intent-0001";
    const answers = await Promise.all([
      post(cookie, { amount_cents: 2500, currency: "usd" }, key),
      post(cookie, { amount_cents: 2500, currency: "usd" }, key),
    ]);
    for (const answer of answers) expect(answer.statusCode, answer.body).toBe(200);
    const again = await post(cookie, { amount_cents: 2500, currency: "usd" }, key);
    expect(again.json()).toEqual(answers[0]?.json());
    const other = await post(cookie, { amount_cents: 9900, currency: "usd" }, key);
    expect(other.statusCode).toBe(409);
    expect(other.json().fields).toHaveProperty("Idempotency-Key");
    const bad = await post(cookie, { amount_cents: 2500, currency: "usd" }, "no spaces allowed");
    expect(bad.statusCode).toBe(400);
    expect(await db.auditLog.count({ where: { entityId: accountId, action: "spend_cap.set" } })).toBe(1);
  });

  it("over tRPC (spendCap.set) too: a 400 naming the field, and one answer per requestKey", async () => {
    const { cookie, accountId } = await customer("cap-trpc@example.com");
    const trpc = async (input: unknown) =>
      await app.inject({
        method: "POST",
        url: "/trpc/spendCap.set",
        headers: { cookie, origin: TEST_ORIGIN, "content-type": "application/json" },
        payload: JSON.stringify({ json: input }),
      });
    const cases: [unknown, string][] = [
      [{ amountCents: "5000", currency: "usd" }, "amountCents"],
      [{ amountCents: -5, currency: "usd" }, "amountCents"],
      [{ amountCents: 0.5, currency: "usd" }, "amountCents"],
      [{ amountCents: 99_999_999_999, currency: "usd" }, "amountCents"],
      [{ amountCents: 100, currency: "gbp" }, "currency"],
      [{ amountCents: 100, currency: "usd", accountId }, "accountId"],
    ];
    for (const [input, field] of cases) {
      const response = await trpc(input);
      expect(response.statusCode, `${JSON.stringify(input)}: ${response.body}`).toBe(400);
      expect(Object.keys(response.json().error.json.data.fieldErrors ?? {})).toContain(field);
    }
    const input = { amountCents: 1200, currency: "usd", requestKey: "trpc-cap-intent-1" };
    const first = await trpc(input);
    expect(first.statusCode, first.body).toBe(200);
    expect((await trpc(input)).json()).toEqual(first.json());
    expect((await trpc({ ...input, amountCents: 1300 })).statusCode).toBe(409);
    expect(await db.auditLog.count({ where: { entityId: accountId } })).toBe(1);
  });
});
