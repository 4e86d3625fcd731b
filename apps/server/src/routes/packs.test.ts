// /api/packs*: minute packs over REST. Bad input is a 400 naming the field (wrong JSON types refused, never
// coerced; every number in its range), a purchase needs an Idempotency-Key, and the answers match the
// OpenAPI document.
import { syncCatalogToStripe } from "@minutely/api";
import { testPorts } from "@minutely/api/testing";
import { testDatabase } from "@minutely/db/vitest";
import { stripeEmulatorUrl, userWithAccount } from "@minutely/testing";
import { afterAll, describe, expect, it } from "vitest";
import { assertMatchesOpenApi } from "../openapi-check.ts";
import { buildTestServer, cookiesFrom, TEST_ORIGIN } from "../testing.ts";

const { db } = await testDatabase();
const app = await buildTestServer(db);
afterAll(() => app.close());

const DAY_MS = 86_400_000;
const UUID = "00000000-0000-4000-8000-0000000000aa";

async function customer(email: string) {
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
  const row = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
  await db.subscription.create({
    data: {
      accountId,
      stripeSubscriptionId: `sub_packs_${accountId}`,
      planId: row.id,
      stripePriceId: "price_x",
      status: "active",
      currentPeriodStart: new Date(Date.now() - 5 * DAY_MS),
      currentPeriodEnd: new Date(Date.now() + 25 * DAY_MS),
    },
  });
  return { cookie, accountId };
}

async function post(cookie: string, url: string, payload: unknown, key?: string) {
  return await app.inject({
    method: "POST",
    url,
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

describe("minute packs over REST", () => {
  it("reads the offer, the balance and the auto top-up settings, matching the OpenAPI document", async () => {
    const { cookie, accountId } = await customer("packs-rest@example.com");
    await db.packGrant.create({
      data: {
        accountId,
        sourceKey: `test:${accountId}`,
        minutes: 1000,
        remaining: 1000,
        priceCents: 2500,
        currency: "usd",
        grantedAt: new Date(Date.now() - DAY_MS),
        expiresAt: new Date(Date.now() + 300 * DAY_MS),
      },
    });
    const doc = await openapi();
    for (const url of ["/api/packs", "/api/packs/balance", "/api/packs/auto-top-up"]) {
      const response = await app.inject({ method: "GET", url, headers: { cookie } });
      expect(response.statusCode, response.body).toBe(200);
      assertMatchesOpenApi(doc, "GET", url, 200, response.json());
    }
    const balance = await app.inject({ method: "GET", url: "/api/packs/balance", headers: { cookie } });
    expect(balance.json()).toMatchObject({
      balance_minutes: 1000,
      totals: { bought: 1000, used: 0, expired: 0, remaining: 1000 },
      packs: [{ minutes: 1000, state: "active", price_cents: 2500, currency: "usd" }],
    });
  });

  it("refuses bad input with a 400 naming the field, never coercing it", async () => {
    const { cookie } = await customer("packs-bad@example.com");
    const cases: [string, unknown, string][] = [
      ["/api/packs/purchase", { pack_id: "nope", method: "checkout" }, "pack_id"],
      ["/api/packs/purchase", { pack_id: UUID, method: "card" }, "method"],
      ["/api/packs/purchase", { pack_id: UUID, method: "checkout", extra: 1 }, "extra"],
      [
        "/api/packs/auto-top-up",
        { auto_top_up: { pack_id: UUID, threshold_minutes: "200", max_per_month: 2 } },
        "threshold_minutes",
      ],
      [
        "/api/packs/auto-top-up",
        { auto_top_up: { pack_id: UUID, threshold_minutes: 0, max_per_month: 2 } },
        "threshold_minutes",
      ],
      [
        "/api/packs/auto-top-up",
        { auto_top_up: { pack_id: UUID, threshold_minutes: 200, max_per_month: 11 } },
        "max_per_month",
      ],
      [
        "/api/packs/auto-top-up",
        { auto_top_up: { pack_id: UUID, threshold_minutes: 2.5, max_per_month: 1 } },
        "threshold_minutes",
      ],
    ];
    for (const [url, payload, field] of cases) {
      const response = await post(cookie, url, payload, "packs-bad-key-1");
      expect(response.statusCode, `${JSON.stringify(payload)}: ${response.body}`).toBe(400);
      expect(JSON.stringify(response.json().fields ?? {}), JSON.stringify(payload)).toContain(field);
    }
    // A purchase without its Idempotency-Key: 400 naming the header (a retry must not buy twice).
    const unkeyed = await post(cookie, "/api/packs/purchase", { pack_id: UUID, method: "saved_card" });
    expect(unkeyed.statusCode).toBe(400);
    expect(unkeyed.json().fields).toHaveProperty("Idempotency-Key");
    // A pack that is not offered: 400 naming pack_id.
    const unknown = await post(
      cookie,
      "/api/packs/purchase",
      { pack_id: UUID, method: "saved_card" },
      "packs-key-2",
    );
    expect(unknown.statusCode, unknown.body).toBe(400);
    expect(unknown.json().fields).toHaveProperty("pack_id");
  });

  it("an Idempotency-Key already used for another pack is a 409 naming the header, charging nothing more", async () => {
    const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl() });
    await syncCatalogToStripe(ports);
    /** A pack offered with its one-time Stripe price (as the admin's packs.create makes it). */
    const offer = async (minutes: number) => {
      const product = await ports.stripe.products.create({ name: `REST ${minutes} minutes` });
      const price = await ports.stripe.prices.create({
        product: product.id,
        unit_amount: 1500,
        currency: "usd",
      });
      return await db.minutePack.create({
        data: {
          name: `REST ${minutes} minutes`,
          minutes,
          priceCents: 1500,
          currency: "usd",
          validityMonths: 12,
          stripeProductId: product.id,
          stripePriceId: price.id,
        },
      });
    };
    const small = await offer(500);
    const big = await offer(900);
    const email = "packs-reused-key@example.com";
    const signUp = await app.inject({
      method: "POST",
      url: "/api/auth/sign-up/email",
      headers: { origin: TEST_ORIGIN },
      payload: { name: email, email, password: "long-enough-1" },
    });
    const cookie = cookiesFrom(signUp.headers["set-cookie"]);
    const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
    const subscribed = await post(cookie, "/api/subscriptions/user/actions/", {
      action: "subscribe",
      package_id: pro.id,
      payment_method_id: "pm_card_visa",
    });
    expect(subscribed.statusCode, subscribed.body).toBe(200);
    for (const method of ["saved_card", "checkout"]) {
      const key = `packs-reused-${method}`;
      const first = await post(cookie, "/api/packs/purchase", { pack_id: small.id, method }, key);
      expect(first.statusCode, first.body).toBe(200);
      const again = await post(cookie, "/api/packs/purchase", { pack_id: small.id, method }, key);
      expect(again.statusCode, again.body).toBe(200);
      const other = await post(cookie, "/api/packs/purchase", { pack_id: big.id, method }, key);
      expect(other.statusCode, other.body).toBe(409);
      expect(other.json().fields).toHaveProperty("Idempotency-Key");
      assertMatchesOpenApi(await openapi(), "POST", "/api/packs/purchase", 409, other.json());
    }
    const balance = await app.inject({ method: "GET", url: "/api/packs/balance", headers: { cookie } });
    expect(balance.json().totals.bought).toBe(500);
  });
});
