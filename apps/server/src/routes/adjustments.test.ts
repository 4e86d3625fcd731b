// Refunds and credits over REST (admins) and one invoice with its documents (customers): bad input is a 400
// naming the field (wrong JSON types refused, never coerced), another account's invoice a 404, a retried
// request with the same Idempotency-Key gives back once, and the answers match the OpenAPI document.
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
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl() });
await syncCatalogToStripe(ports);

let ip = 0;
async function signedIn(email: string, role: "user" | "admin" = "user"): Promise<string> {
  ip += 1;
  const response = await app.inject({
    method: "POST",
    url: "/api/auth/sign-up/email",
    remoteAddress: `10.45.${Math.floor(ip / 250)}.${ip % 250}`,
    headers: { origin: TEST_ORIGIN },
    payload: { name: email, email, password: "long-enough-1" },
  });
  expect(response.statusCode, response.body).toBe(200);
  await db.user.update({ where: { email }, data: { role } });
  return cookiesFrom(response.headers["set-cookie"]);
}

/** A customer subscribed to Pro with the test Visa: its first invoice, paid (9900 usd). */
async function paidCustomer(email: string) {
  const cookie = await signedIn(email);
  const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
  const paid = await app.inject({
    method: "POST",
    url: "/api/subscriptions/user/actions/",
    headers: { cookie, origin: TEST_ORIGIN, "content-type": "application/json" },
    payload: JSON.stringify({ action: "subscribe", package_id: pro.id, payment_method_id: "pm_card_visa" }),
  });
  expect(paid.statusCode, paid.body).toBe(200);
  const user = await userWithAccount(db, { email });
  const invoice = await db.billingHistory.findFirstOrThrow({ where: { accountId: user.accountId ?? "" } });
  return { cookie, accountId: user.accountId ?? "", invoiceId: invoice.id };
}

const adminCookie = await signedIn("refund-ops@example.com", "admin");
let keys = 0;

async function adjust(accountId: string, payload: unknown, key: string | null = `rest-key-${++keys}`) {
  return await app.inject({
    method: "POST",
    url: `/api/admin/customers/${accountId}/adjustments`,
    headers: {
      cookie: adminCookie,
      origin: TEST_ORIGIN,
      "content-type": "application/json",
      ...(key ? { "idempotency-key": key } : {}),
    },
    payload: JSON.stringify(payload),
  });
}

const openapi = async () => (await app.inject({ method: "GET", url: "/api/openapi.json" })).json();

describe("refunds and credits over REST", () => {
  it("refunds part of an invoice once per Idempotency-Key; the customer reads it on the invoice", async () => {
    const customer = await paidCustomer("refund-rest@example.com");
    const body = {
      type: "refund",
      invoice_id: customer.invoiceId,
      amount_cents: 1200,
      reason: "Dropped calls",
    };
    const first = await adjust(customer.accountId, body, "same-key-0001");
    expect(first.statusCode, first.body).toBe(200);
    const doc = await openapi();
    assertMatchesOpenApi(doc, "POST", "/api/admin/customers/:accountId/adjustments", 200, first.json());
    expect(first.json()).toMatchObject({
      type: "refund",
      status: "succeeded",
      amount_cents: 1200,
      currency: "usd",
    });
    const again = await adjust(customer.accountId, body, "same-key-0001");
    expect(again.json().id).toBe(first.json().id);
    const read = await app.inject({
      method: "GET",
      url: `/api/billing/invoices/${customer.invoiceId}`,
      headers: { cookie: customer.cookie },
    });
    expect(read.statusCode, read.body).toBe(200);
    assertMatchesOpenApi(doc, "GET", "/api/billing/invoices/:id", 200, read.json());
    expect(read.json()).toMatchObject({
      refunded_cents: 1200,
      adjustments: [{ type: "refund", amount_cents: 1200, reason: "Dropped calls" }],
    });
    expect(read.json().invoice_pdf).toMatch(/\/invoices\/in_\w+\/pdf$/);
    expect(read.json().hosted_invoice_url).toMatch(/\/invoices\/in_\w+$/);
  });

  it("answers bad input with a 400 naming the field, and another account's invoice with a 404", async () => {
    const mine = await paidCustomer("refund-bad@example.com");
    const theirs = await paidCustomer("refund-other@example.com");
    const refund = (extra: Record<string, unknown>) => ({
      type: "refund",
      invoice_id: mine.invoiceId,
      amount_cents: 100,
      reason: "x",
      ...extra,
    });
    const cases: [Record<string, unknown>, string][] = [
      [refund({ amount_cents: 0 }), "amount_cents"],
      [refund({ amount_cents: -100 }), "amount_cents"],
      [refund({ amount_cents: 9901 }), "amount_cents"],
      [refund({ amount_cents: "100" }), "amount_cents"],
      [refund({ amount_cents: 1.5 }), "amount_cents"],
      [refund({ invoice_id: 42 }), "invoice_id"],
      [refund({ invoice_id: "not-a-uuid" }), "invoice_id"],
      [refund({ reason: "" }), "reason"],
      [refund({ type: "gift" }), "type"],
      [{ type: "balance_credit", amount_cents: 100, reason: "x" }, "currency"],
    ];
    for (const [body, field] of cases) {
      const response = await adjust(mine.accountId, body);
      expect(response.statusCode, `${JSON.stringify(body)}: ${response.body}`).toBe(400);
      expect(response.json().fields, JSON.stringify(body)).toHaveProperty(field);
    }
    for (const invoice_id of [theirs.invoiceId, "00000000-0000-4000-8000-000000000000"]) {
      const response = await adjust(mine.accountId, refund({ invoice_id }));
      expect(response.statusCode, response.body).toBe(404);
      expect(response.json().fields).toHaveProperty("invoice_id");
    }
    const noKey = await adjust(mine.accountId, refund({}), null);
    expect(noKey.statusCode).toBe(400);
    expect(noKey.json().fields).toHaveProperty("Idempotency-Key");
    // Customers cannot give themselves money back, nor read another account's invoice (no IDOR by id).
    const asCustomer = await app.inject({
      method: "POST",
      url: `/api/admin/customers/${mine.accountId}/adjustments`,
      headers: {
        cookie: mine.cookie,
        origin: TEST_ORIGIN,
        "content-type": "application/json",
        "idempotency-key": "customer-key-1",
      },
      payload: JSON.stringify(refund({})),
    });
    expect(asCustomer.statusCode).toBe(403);
    const other = await app.inject({
      method: "GET",
      url: `/api/billing/invoices/${theirs.invoiceId}`,
      headers: { cookie: mine.cookie },
    });
    expect(other.statusCode).toBe(404);
    expect(other.json().fields).toHaveProperty("id");
    expect(other.body).not.toContain("invoice_pdf");
    expect(await db.invoiceAdjustment.count({ where: { accountId: mine.accountId } })).toBe(0);
  });

  it("refuses hostile numbers and a currency mismatch naming the field, and an Idempotency-Key reused with another body (also once its stored answer expired) with a 409", async () => {
    const customer = await paidCustomer("refund-hostile@example.com");
    const raw = async (payload: string) =>
      await app.inject({
        method: "POST",
        url: `/api/admin/customers/${customer.accountId}/adjustments`,
        headers: {
          cookie: adminCookie,
          origin: TEST_ORIGIN,
          "content-type": "application/json",
          "idempotency-key": `rest-key-${++keys}`,
        },
        payload,
      });
    const invoice = `"invoice_id":"${customer.invoiceId}","reason":"x"`;
    const cases: [string, string][] = [
      [`{"type":"refund",${invoice},"amount_cents":1e309}`, "amount_cents"],
      [`{"type":"refund",${invoice},"amount_cents":-0}`, "amount_cents"],
      [`{"type":"refund",${invoice},"amount_cents":0.5}`, "amount_cents"],
      [`{"type":"refund",${invoice},"amount_cents":9007199254740991}`, "amount_cents"],
      [`{"type":"refund",${invoice},"amount_cents":true}`, "amount_cents"],
      [`{"type":"balance_credit","amount_cents":100,"currency":"eur","reason":"x"}`, "currency"],
      [`{"type":"balance_credit","amount_cents":100,"currency":"us","reason":"x"}`, "currency"],
      // The billing currency in another casing or JSON type is refused, never coerced into "usd".
      [`{"type":"balance_credit","amount_cents":100,"currency":"USD","reason":"x"}`, "currency"],
      [`{"type":"balance_credit","amount_cents":100,"currency":"Usd","reason":"x"}`, "currency"],
      [`{"type":"balance_credit","amount_cents":100,"currency":"xxx","reason":"x"}`, "currency"],
      [`{"type":"balance_credit","amount_cents":100,"currency":["usd"],"reason":"x"}`, "currency"],
      [`{"type":"balance_credit","amount_cents":100,"currency":1,"reason":"x"}`, "currency"],
      [`{"type":"balance_credit","amount_cents":100,"currency":null,"reason":"x"}`, "currency"],
      [`{"type":"balance_credit",${invoice},"amount_cents":100,"currency":"usd"}`, "invoice_id"],
    ];
    for (const [payload, field] of cases) {
      const response = await raw(payload);
      expect(response.statusCode, `${payload}: ${response.body}`).toBe(400);
      expect(response.json().fields, payload).toHaveProperty(field);
    }

    const body = { type: "refund", invoice_id: customer.invoiceId, amount_cents: 500, reason: "Once" };
    const first = await adjust(customer.accountId, body, "reused-key-0001");
    expect(first.statusCode, first.body).toBe(200);
    const changed = await adjust(customer.accountId, { ...body, amount_cents: 5000 }, "reused-key-0001");
    expect(changed.statusCode, changed.body).toBe(409);
    expect(changed.json().fields).toHaveProperty("Idempotency-Key");
    // A day later the stored answer is gone; the key still names the first refund, not a new one of 5000.
    await db.idempotentRequest.deleteMany({ where: { key: "reused-key-0001" } });
    const later = await adjust(customer.accountId, { ...body, amount_cents: 5000 }, "reused-key-0001");
    expect(later.statusCode, later.body).toBe(409);
    expect(later.json().fields).toHaveProperty("Idempotency-Key");
    const replay = await adjust(customer.accountId, body, "reused-key-0001");
    expect(replay.statusCode, replay.body).toBe(200);
    expect(replay.json().id).toBe(first.json().id);
    expect(await db.invoiceAdjustment.count({ where: { accountId: customer.accountId } })).toBe(1);
  });

  it("a deleted account: its invoice is still refunded, a credit note or balance credit is a 409 naming type", async () => {
    const customer = await paidCustomer("refund-deleted@example.com");
    // Deleted by its owner (the account row as the deletion leaves it; the service test deletes for real).
    await db.account.update({ where: { id: customer.accountId }, data: { deletedAt: new Date() } });
    for (const body of [
      { type: "credit_note", invoice_id: customer.invoiceId, amount_cents: 100, reason: "Sorry" },
      { type: "balance_credit", amount_cents: 100, currency: "usd", reason: "Goodwill" },
    ]) {
      const refused = await adjust(customer.accountId, body);
      expect(refused.statusCode, refused.body).toBe(409);
      expect(Object.keys(refused.json().fields ?? {})).toEqual(["type"]);
      assertMatchesOpenApi(
        await openapi(),
        "POST",
        "/api/admin/customers/:accountId/adjustments",
        409,
        refused.json(),
      );
    }
    const refund = await adjust(customer.accountId, {
      type: "refund",
      invoice_id: customer.invoiceId,
      amount_cents: null,
      reason: "Closing the account",
    });
    expect(refund.statusCode, refund.body).toBe(200);
    expect(refund.json()).toMatchObject({ type: "refund", status: "succeeded", amount_cents: 9900 });
  });
});
