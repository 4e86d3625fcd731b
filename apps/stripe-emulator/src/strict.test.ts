/**
 * Emulator-only checks of the strictness machinery (the behaviour itself is in contract.test.ts, shared
 * with real Stripe): refused requests change nothing, every route has a spec, handlers read only declared
 * parameters, the emulator's own API version rules and request log.
 */
import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROUTE_SPECS } from "./http/route-specs.ts";
import { Router } from "./http/router.ts";
import { Params } from "./params.ts";
import { registerAll } from "./resources/index.ts";
import type { StripeEmulator } from "./server.ts";
import { int, obj, str, validateParams } from "./spec.ts";
import { startTestEmulator } from "./testing.ts";
import { API_VERSION } from "./version.ts";

let emulator: StripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  ({ emulator, stripe } = await startTestEmulator());
});
afterAll(async () => {
  await emulator.close();
});

async function raw(
  method: "GET" | "POST",
  path: string,
  form: Record<string, string> = {},
  headers: Record<string, string> = {},
) {
  const encoded = new URLSearchParams(form).toString();
  const response = await fetch(
    method === "GET" && encoded ? `${emulator.url}${path}?${encoded}` : `${emulator.url}${path}`,
    {
      method,
      headers: {
        authorization: "Bearer sk_test_strict",
        "stripe-version": API_VERSION,
        ...(method === "POST" ? { "content-type": "application/x-www-form-urlencoded" } : {}),
        ...headers,
      },
      ...(method === "POST" ? { body: encoded } : {}),
    },
  );
  return {
    status: response.status,
    body: (await response.json()) as { error?: Record<string, unknown> } & Record<string, unknown>,
  };
}

describe("route specs", () => {
  it("declare every registered route, and nothing else", () => {
    const router = new Router();
    registerAll(router);
    expect(new Set(router.names())).toEqual(new Set(Object.keys(ROUTE_SPECS)));
  });

  it("make the router refuse a route without a spec", () => {
    const router = new Router({});
    expect(() => router.get("/v1/anything", () => ({}))).toThrow(/No parameter spec for GET \/v1\/anything/);
  });

  it("report a handler's read of an undeclared parameter", () => {
    const spec = obj({ name: str(), items: { kind: "array", emptyable: false, of: obj({ price: str() }) } });
    const reads: string[] = [];
    const p = new Params({ name: "x", items: [{ price: "p", quantity: "2" }] }, "", spec, (name) =>
      reads.push(name),
    );
    p.str("name");
    p.list("items")?.[0]?.int("quantity");
    p.has("undeclared");
    expect(reads).toEqual(["items[0][quantity]", "undeclared"]);
  });

  it("check nested values and integer bounds", () => {
    const spec = obj({ limit: int({ min: 1, max: 100 }), nested: obj({ n: int() }) });
    expect(() => validateParams(spec, { limit: "0" })).toThrow(
      "This value must be greater than or equal to 1.",
    );
    expect(() => validateParams(spec, { limit: "101" })).toThrow(
      "This value must be less than or equal to 100.",
    );
    expect(() => validateParams(spec, { nested: { n: "x" } })).toThrow("Invalid integer: x");
    expect(() => validateParams(spec, { nested: "flat" })).toThrow("Invalid object: nested");
    expect(() => validateParams(spec, { limit: "" })).toThrow(/You passed an empty string for 'limit'/);
  });
});

describe("refused requests", () => {
  it("change no state: an invalid nested item leaves the subscription as it was", async () => {
    const customer = await stripe.customers.create({
      payment_method: "pm_card_visa",
      invoice_settings: { default_payment_method: "pm_card_visa" },
    });
    const product = await stripe.products.create({ name: "Strict" });
    const price = await stripe.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount: 100,
      recurring: { interval: "month" },
    });
    const other = await stripe.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount: 900,
      recurring: { interval: "month" },
    });
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    const eventsBefore = (await stripe.events.list({ limit: 100 })).data.length;
    const refused = await raw("POST", `/v1/subscriptions/${sub.id}`, {
      "items[0][id]": sub.items.data[0]?.id ?? "",
      "items[0][price]": other.id,
      "items[0][bogus]": "1",
      proration_behavior: "always_invoice",
    });
    expect(refused.status).toBe(400);
    const after = await stripe.subscriptions.retrieve(sub.id);
    expect(after.items.data[0]?.price.id).toBe(price.id);
    expect((await stripe.events.list({ limit: 100 })).data.length).toBe(eventsBefore);
  });

  it("change no state when only expand[] is impossible", async () => {
    const email = `expand-post-${Date.now()}@minutely.test`;
    const refused = await raw("POST", "/v1/customers", { email, "expand[]": "email" });
    expect(refused.status).toBe(400);
    expect(refused.body.error?.message).toBe("This property cannot be expanded (email).");
    expect((await stripe.customers.list({ email })).data).toEqual([]);
  });

  it("name a field Stripe has but the emulator does not implement", async () => {
    const customer = await stripe.customers.create({
      payment_method: "pm_card_visa",
      invoice_settings: { default_payment_method: "pm_card_visa" },
    });
    const product = await stripe.products.create({ name: "Pause" });
    const price = await stripe.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount: 100,
      recurring: { interval: "month" },
    });
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    const refused = await raw("POST", `/v1/subscriptions/${sub.id}`, {
      "billing_thresholds[amount_gte]": "1000",
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error?.param).toBe("billing_thresholds");
    expect(refused.body.error?.message).toMatch(
      /^Received unsupported parameter: billing_thresholds\. Stripe accepts it, but the Stripe emulator does not implement it/,
    );
  });

  it("keep what failed, for their request_log_url", async () => {
    const refused = await raw("POST", "/v1/customers", { foo_bar: "1" });
    const url = String(refused.body.error?.request_log_url);
    expect(url.startsWith(`${emulator.url}/_emulator/logs/req_`)).toBe(true);
    const logged = (await (await fetch(url)).json()) as Record<string, unknown>;
    expect(logged).toMatchObject({
      method: "POST",
      path: "/v1/customers",
      status: 400,
      params: { foo_bar: "1" },
    });
    const card = await raw("POST", "/v1/payment_methods", {
      "card[number]": "4242424242424242",
      "card[bogus]": "1",
    });
    const cardLog = (await (await fetch(String(card.body.error?.request_log_url))).json()) as Record<
      string,
      unknown
    >;
    expect(cardLog.params).toEqual({ card: { number: "[redacted]", bogus: "1" } });
  });
});

describe("Stripe-Version", () => {
  it("is honoured when it is the emulator's version, or absent", async () => {
    expect((await raw("GET", "/v1/customers", {}, { "stripe-version": API_VERSION })).status).toBe(200);
    const response = await fetch(`${emulator.url}/v1/customers`, {
      headers: { authorization: "Bearer sk_test_x" },
    });
    expect(response.status).toBe(200);
  });

  it("refuses another real version, naming the one the emulator speaks", async () => {
    const refused = await raw("GET", "/v1/customers", {}, { "stripe-version": "2024-06-20" });
    expect(refused.status).toBe(400);
    expect(refused.body.error?.message).toContain(`speaks only API version ${API_VERSION}`);
    expect(refused.body.error?.message).toContain("2024-06-20");
  });
});
