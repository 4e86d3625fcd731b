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
});
