// GET/POST /api/billing/tax-details: the billing address and tax ID over REST. Bad input is a 400 naming the
// field (wrong JSON types refused, never coerced), nothing written; the Idempotency-Key is required, a retry
// with it replays the first answer and another body with it is a 409; the answers match the OpenAPI
// document. Real PostgreSQL and the Stripe emulator, which holds the address and tax ID.
import { testDatabase } from "@minutely/db/vitest";
import { userWithAccount } from "@minutely/testing";
import { afterAll, describe, expect, it } from "vitest";
import { assertMatchesOpenApi } from "../openapi-check.ts";
import { buildTestServer, cookiesFrom, TEST_ORIGIN } from "../testing.ts";

const { db } = await testDatabase();
const app = await buildTestServer(db);
afterAll(() => app.close());

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
  return { cookie, accountId: user.accountId ?? "" };
}

async function post(cookie: string, payload: unknown, key?: string) {
  return await app.inject({
    method: "POST",
    url: "/api/billing/tax-details",
    headers: {
      cookie,
      origin: TEST_ORIGIN,
      "content-type": "application/json",
      ...(key ? { "idempotency-key": key } : {}),
    },
    payload: JSON.stringify(payload),
  });
}

const french = {
  address: {
    country: "FR",
    line1: "1 rue de Rivoli",
    line2: null,
    city: "Paris",
    state: null,
    postal_code: "75001",
  },
  tax_id: { type: "eu_vat", value: "FRAB123456789" },
};

describe("billing address and tax ID over REST", () => {
  it("sets and reads them, replays a retry and refuses another body with the same key", async () => {
    const { cookie } = await customer("rest-tax@example.com");
    const doc = (await app.inject({ method: "GET", url: "/api/openapi.json" })).json();
    const before = await app.inject({ method: "GET", url: "/api/billing/tax-details", headers: { cookie } });
    expect(before.json()).toEqual({
      address: null,
      tax_id: null,
      reverse_charge: false,
      tax_location_known: false,
    });
    const set = await post(cookie, french, "rest-tax-key-1");
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json()).toMatchObject({
      address: { country: "FR", postal_code: "75001" },
      tax_id: { type: "eu_vat", value: "FRAB123456789", verification: "verified" },
      reverse_charge: true,
      tax_location_known: true,
    });
    assertMatchesOpenApi(doc, "POST", "/api/billing/tax-details", 200, set.json());
    const read = await app.inject({ method: "GET", url: "/api/billing/tax-details", headers: { cookie } });
    expect(read.json()).toEqual(set.json());
    assertMatchesOpenApi(doc, "GET", "/api/billing/tax-details", 200, read.json());
    const again = await post(cookie, french, "rest-tax-key-1");
    expect(again.json()).toEqual(set.json());
    const other = await post(cookie, { ...french, tax_id: null }, "rest-tax-key-1");
    expect(other.statusCode, other.body).toBe(409);
    expect(Object.keys(other.json().fields)).toEqual(["Idempotency-Key"]);
  });

  it("refuses bad input with a 400 naming the field, and a missing key; nothing is written", async () => {
    const { cookie, accountId } = await customer("rest-tax-bad@example.com");
    const cases: [unknown, string][] = [
      [{ ...french, address: { ...french.address, country: "" } }, "address.country"],
      [{ ...french, address: { ...french.address, country: 49 } }, "address.country"],
      [
        { ...french, address: { ...french.address, country: "US", state: "CA", postal_code: "123" } },
        "address.postal_code",
      ],
      [{ ...french, tax_id: { type: "eu_vat", value: "FR1" } }, "tax_id.value"],
      [{ ...french, tax_id: { type: "xx_vat", value: "1" } }, "tax_id.type"],
      [{ address: french.address }, "tax_id"],
    ];
    for (const [payload, field] of cases) {
      const answer = await post(cookie, payload, `rest-tax-bad-${field.replaceAll(".", "-")}`);
      expect(answer.statusCode, answer.body).toBe(400);
      expect(Object.keys(answer.json().fields ?? {}), answer.body).toContain(field);
    }
    const noKey = await post(cookie, french);
    expect(noKey.statusCode).toBe(400);
    expect(Object.keys(noKey.json().fields)).toEqual(["Idempotency-Key"]);
    const account = await db.account.findUniqueOrThrow({ where: { id: accountId } });
    expect(account.stripeCustomerId).toBeNull();
  });

  it("hostile bodies are a 400 naming the field, never a 500: lone surrogates, huge strings, prototype keys, wrong types", async () => {
    const { cookie, accountId } = await customer("rest-tax-hostile@example.com");
    const cases: [unknown, string][] = [
      [{ ...french, address: { ...french.address, line2: "a".repeat(10_000) } }, "address.line2"],
      [{ ...french, address: null }, "address"],
      [{ ...french, address: [] }, "address"],
      [{ ...french, tax_id: [] }, "tax_id"],
      [{ ...french, tax_id: { type: "eu_vat", value: 123456789 } }, "tax_id.value"],
      [{ ...french, address: { ...french.address, city: 7 } }, "address.city"],
      [
        { ...french, address: { ...french.address, country: "us", state: null, postal_code: null } },
        "address.state",
      ],
      [{ ...french, address: { ...french.address, country: "XX" } }, "address.country"],
    ];
    for (const [payload, field] of cases) {
      const answer = await post(
        cookie,
        payload,
        `rest-tax-hostile-${cases.findIndex((c) => c[0] === payload)}`,
      );
      expect(answer.statusCode, answer.body).toBe(400);
      expect(Object.keys(answer.json().fields ?? {}), answer.body).toContain(field);
    }
    // A lone surrogate is no Unicode text (Stripe's form encoding would throw on it): refused with the body.
    for (const bad of ["Rue \\ud800", "\\udfff", "x\\ud83d"]) {
      const raw = JSON.stringify({ ...french, address: { ...french.address, line1: "LINE" } }).replace(
        "LINE",
        bad,
      );
      const answer = await app.inject({
        method: "POST",
        url: "/api/billing/tax-details",
        headers: {
          cookie,
          origin: TEST_ORIGIN,
          "content-type": "application/json",
          "idempotency-key": "rest-tax-surrogate",
        },
        payload: raw,
      });
      expect(answer.statusCode, answer.body).toBe(400);
    }
    const proto = await app.inject({
      method: "POST",
      url: "/api/billing/tax-details",
      headers: {
        cookie,
        origin: TEST_ORIGIN,
        "content-type": "application/json",
        "idempotency-key": "rest-tax-proto",
      },
      payload: `{"address":{"country":"FR","line1":null,"line2":null,"city":null,"state":null,"postal_code":null,"__proto__":{"admin":true}},"tax_id":null}`,
    });
    expect(proto.statusCode, proto.body).toBe(400);
    const account = await db.account.findUniqueOrThrow({ where: { id: accountId } });
    expect(account.stripeCustomerId).toBeNull();
    // Unicode that is well formed is an address like any other.
    const ok = await post(
      cookie,
      {
        ...french,
        address: { ...french.address, line1: "Straße 1 — 東京 🏢", city: "Zürich" },
        tax_id: null,
      },
      "rest-tax-unicode",
    );
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().address.line1).toBe("Straße 1 — 東京 🏢");
  });

  it("ten retries of one Idempotency-Key at once change Stripe once and answer alike", async () => {
    const { cookie } = await customer("rest-tax-retries@example.com");
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => post(cookie, french, "rest-tax-retried-key")),
    );
    for (const answer of answers) expect([200, 409], answer.body).toContain(answer.statusCode);
    const ok = answers.filter((a) => a.statusCode === 200);
    expect(ok.length).toBeGreaterThan(0);
    for (const answer of ok) expect(answer.json()).toEqual(ok[0]?.json());
    const again = await post(cookie, french, "rest-tax-retried-key");
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json()).toEqual(ok[0]?.json());
  });
});
