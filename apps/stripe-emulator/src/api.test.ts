import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StripeEmulator } from "./server.ts";
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

describe("API version", () => {
  it("is the version the installed stripe SDK pins", () => {
    expect(API_VERSION).toBe(Stripe.API_VERSION);
  });

  it("is reported by /_emulator/health, the Stripe-Version header and events", async () => {
    const health = await fetch(`${emulator.url}/_emulator/health`).then((r) => r.json());
    expect(health).toMatchObject({ ok: true, apiVersion: Stripe.API_VERSION, emulator: true });
    const response = await fetch(`${emulator.url}/v1/customers`, {
      headers: { authorization: "Bearer sk_test_x" },
    });
    expect(response.headers.get("stripe-version")).toBe(Stripe.API_VERSION);
    await stripe.customers.create({ email: "version@minutely.test" });
    const [event] = (await stripe.events.list({ limit: 1 })).data;
    expect(event?.api_version).toBe(Stripe.API_VERSION);
  });
});

describe("authentication", () => {
  it("rejects requests without a sk_test_ key with Stripe's 401 envelope", async () => {
    const live = new Stripe("sk_live_nope", {
      host: "127.0.0.1",
      port: emulator.port,
      protocol: "http",
      maxNetworkRetries: 0,
    });
    await expect(live.customers.list()).rejects.toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    const response = await fetch(`${emulator.url}/v1/customers`);
    expect(response.status).toBe(401);
    const body = (await response.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe("invalid_request_error");
    expect(body.error.message).toMatch(/did not provide an API key/);
  });
});

describe("errors", () => {
  it("raises typed SDK errors for missing resources and bad params", async () => {
    const missing = await stripe.customers.retrieve("cus_nope").catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect((missing as Stripe.errors.StripeError).code).toBe("resource_missing");
    expect((missing as Stripe.errors.StripeError).statusCode).toBe(404);
    const bad = await stripe.prices.create({ currency: "usd", unit_amount: 100 }).catch((e: unknown) => e);
    expect((bad as Stripe.errors.StripeError).param).toBe("product");
  });

  it("answers unknown endpoints and the removed upcoming-invoice API with 404", async () => {
    const response = await fetch(`${emulator.url}/v1/nothing_here`, {
      headers: { authorization: "Bearer sk_test_x" },
    });
    expect(response.status).toBe(404);
    const upcoming = await stripe.rawRequest("GET", "/v1/invoices/upcoming").catch((e: unknown) => e);
    expect((upcoming as Stripe.errors.StripeError).statusCode).toBe(404);
  });

  it("keeps prices immutable", async () => {
    const product = await stripe.products.create({ name: "Immutable" });
    const price = await stripe.prices.create({ product: product.id, currency: "usd", unit_amount: 500 });
    const error = await stripe
      .rawRequest("POST", `/v1/prices/${price.id}`, { unit_amount: 700 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect((error as Stripe.errors.StripeError).message).toMatch(/unknown parameter: unit_amount/);
    const renamed = await stripe.prices.update(price.id, { nickname: "renamed", active: false });
    expect(renamed).toMatchObject({ nickname: "renamed", active: false, unit_amount: 500 });
  });
});

describe("idempotency", () => {
  it("replays the saved response for the same key and body", async () => {
    const first = await stripe.customers.create(
      { email: "idem@minutely.test" },
      { idempotencyKey: "idem-1" },
    );
    const second = await stripe.customers.create(
      { email: "idem@minutely.test" },
      { idempotencyKey: "idem-1" },
    );
    expect(second.id).toBe(first.id);
    expect(second.lastResponse.headers["idempotent-replayed"]).toBe("true");
    const all = await stripe.customers.list({ email: "idem@minutely.test" });
    expect(all.data).toHaveLength(1);
  });

  it("raises an idempotency_error when the key is reused with a different body", async () => {
    await stripe.customers.create({ email: "a@minutely.test" }, { idempotencyKey: "idem-2" });
    const error = await stripe.customers
      .create({ email: "b@minutely.test" }, { idempotencyKey: "idem-2" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
  });
});

describe("lists and expand", () => {
  it("paginates newest first with has_more and starting_after, and auto-pagination works", async () => {
    const product = await stripe.products.create({ name: "Paged" });
    const created: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      created.push(
        (await stripe.prices.create({ product: product.id, currency: "usd", unit_amount: 100 + i })).id,
      );
    }
    const page1 = await stripe.prices.list({ product: product.id, limit: 2 });
    expect(page1.has_more).toBe(true);
    expect(page1.data.map((p) => p.id)).toEqual([created[4], created[3]]);
    const page2 = await stripe.prices.list({
      product: product.id,
      limit: 2,
      starting_after: page1.data[1]?.id ?? "",
    });
    expect(page2.data.map((p) => p.id)).toEqual([created[2], created[1]]);
    const all = await stripe.prices.list({ product: product.id, limit: 2 }).autoPagingToArray({ limit: 100 });
    expect(all.map((p) => p.id)).toEqual([...created].reverse());
  });

  it("expands ids into objects, including inside lists and includable fields", async () => {
    const customer = await stripe.customers.create({
      email: "expand@minutely.test",
      payment_method: "pm_card_visa",
      invoice_settings: { default_payment_method: "pm_card_visa" },
    });
    const product = await stripe.products.create({ name: "Expand" });
    const price = await stripe.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount: 900,
      recurring: { interval: "month" },
    });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      expand: ["customer", "latest_invoice.payments", "items.data.price.product"],
    });
    expect((sub.customer as Stripe.Customer).email).toBe("expand@minutely.test");
    const invoice = sub.latest_invoice as Stripe.Invoice;
    expect(invoice.payments?.data[0]?.status).toBe("paid");
    expect((sub.items.data[0]?.price.product as Stripe.Product | undefined)?.name).toBe("Expand");
    const listed = await stripe.subscriptions.list({
      customer: customer.id,
      expand: ["data.default_payment_method"],
    });
    expect(listed.data).toHaveLength(1);
    const withSubs = await stripe.customers.retrieve(customer.id, {
      expand: ["subscriptions", "invoice_settings.default_payment_method"],
    });
    expect((withSubs as Stripe.Customer).subscriptions?.data.map((s) => s.id)).toEqual([sub.id]);
    expect(
      ((withSubs as Stripe.Customer).invoice_settings.default_payment_method as Stripe.PaymentMethod).card
        ?.last4,
    ).toBe("4242");
  });

  it("supports search with the basic query language", async () => {
    await stripe.customers.create({ email: "search-me@minutely.test", metadata: { tenant: "t-42" } });
    const found = await stripe.customers.search({ query: "metadata['tenant']:'t-42'" });
    expect(found.data.map((c) => c.email)).toEqual(["search-me@minutely.test"]);
  });
});

describe("test payment methods", () => {
  it("creates a fresh pm_ object per attach of a test id", async () => {
    const customer = await stripe.customers.create({});
    const a = await stripe.paymentMethods.attach("pm_card_visa", { customer: customer.id });
    const b = await stripe.paymentMethods.attach("pm_card_visa", { customer: customer.id });
    expect(a.id).toMatch(/^pm_/);
    expect(a.id).not.toBe(b.id);
    expect(a.card?.last4).toBe("4242");
    const listed = await stripe.customers.listPaymentMethods(customer.id);
    expect(listed.data).toHaveLength(2);
    const detached = await stripe.paymentMethods.detach(a.id);
    expect(detached.customer).toBeNull();
  });

  it("declines pm_card_visa_chargeDeclined on attach and accepts pm_card_chargeCustomerFail", async () => {
    const customer = await stripe.customers.create({});
    const error = await stripe.paymentMethods
      .attach("pm_card_visa_chargeDeclined", { customer: customer.id })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect((error as Stripe.errors.StripeCardError).decline_code).toBe("generic_decline");
    const fine = await stripe.paymentMethods.attach("pm_card_chargeCustomerFail", { customer: customer.id });
    expect(fine.card?.last4).toBe("0341");
  });
});

describe("admin API", () => {
  it("resets state but keeps the server usable", async () => {
    await stripe.products.create({ name: "Before reset" });
    const reset = await fetch(`${emulator.url}/_emulator/reset`, { method: "POST" });
    expect(reset.status).toBe(200);
    expect((await stripe.products.list()).data).toHaveLength(0);
    expect((await stripe.events.list()).data).toHaveLength(0);
  });
});
