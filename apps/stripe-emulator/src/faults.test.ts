import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StripeEmulator } from "./server.ts";
import { startTestEmulator } from "./testing.ts";

let emulator: StripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  ({ emulator, stripe } = await startTestEmulator());
});
afterAll(async () => {
  await emulator.close();
});

async function addFault(rule: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${emulator.url}/_emulator/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(rule),
  });
  expect(response.status).toBe(200);
}

describe("fault injection", () => {
  it("fails the configured number of matching requests with a Stripe api_error", async () => {
    await addFault({ method: "POST", path: "/v1/customers", status: 500, count: 1 });
    await expect(stripe.customers.create({})).rejects.toBeInstanceOf(Stripe.errors.StripeAPIError);
    await expect(stripe.customers.create({})).resolves.toMatchObject({ object: "customer" });
  });

  it("answers 429 as a rate limit error and matches regular expressions", async () => {
    await addFault({ path: "^/v1/products/prod_", status: 429, count: 1 });
    const product = await stripe.products.create({ name: "Limited" });
    await expect(stripe.products.retrieve(product.id)).rejects.toBeInstanceOf(
      Stripe.errors.StripeRateLimitError,
    );
  });

  it("resets connections", async () => {
    await addFault({ path: "/v1/prices", kind: "reset", count: 2 });
    await expect(stripe.prices.list()).rejects.toBeInstanceOf(Stripe.errors.StripeConnectionError);
  });

  it("loses the response after committing, and the SDK's idempotent retry recovers it", async () => {
    const retrying = new Stripe("sk_test_retry", {
      host: "127.0.0.1",
      port: emulator.port,
      protocol: "http",
      maxNetworkRetries: 2,
    });
    await addFault({ method: "POST", path: "/v1/customers", status: 500, count: 1, phase: "after" });
    const customer = await retrying.customers.create({ email: "once@minutely.test" });
    const listed = await stripe.customers.list({ email: "once@minutely.test" });
    expect(listed.data.map((c) => c.id)).toEqual([customer.id]);
  });

  it("lists and clears rules", async () => {
    await addFault({ path: "/v1/never", count: 3 });
    const listed = (await fetch(`${emulator.url}/_emulator/faults`).then((r) => r.json())) as {
      data: { path: string }[];
    };
    expect(listed.data.some((rule) => rule.path === "/v1/never")).toBe(true);
    await fetch(`${emulator.url}/_emulator/faults`, { method: "DELETE" });
    const cleared = (await fetch(`${emulator.url}/_emulator/faults`).then((r) => r.json())) as {
      data: unknown[];
    };
    expect(cleared.data).toEqual([]);
  });
});
