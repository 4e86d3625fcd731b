// Stripe-Signature and body attacks on POST /api/webhooks/stripe: real PostgreSQL, the official SDK's signing.
import { createHmac } from "node:crypto";
import { testPorts } from "@minutely/api/testing";
import { testDatabase } from "@minutely/db/vitest";
import { stripeEmulatorUrl } from "@minutely/testing";
import { afterAll, describe, expect, it } from "vitest";
import { buildTestServer } from "../testing.ts";

const SECRET = "whsec_webhook_sig_attack";
const { db } = await testDatabase();
const app = await buildTestServer(db, { STRIPE_WEBHOOK_SECRET: SECRET });
afterAll(() => app.close());
const stripe = testPorts(db, { stripeApiBase: stripeEmulatorUrl() }).stripe;

function hmac(content: string | Buffer) {
  return createHmac("sha256", SECRET).update(content).digest("hex");
}
function event(id: string) {
  return JSON.stringify({ id, object: "event", type: "ping", created: 1_790_000_000, data: { object: {} } });
}
function post(payload: string | Buffer, headers: Record<string, string | string[]>) {
  return app.inject({ method: "POST", url: "/api/webhooks/stripe", headers, payload });
}
const now = () => Math.floor(Date.now() / 1000);

function signed(payload: string) {
  return stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET });
}
const JSON_TYPE = { "content-type": "application/json" };

describe("POST /api/webhooks/stripe: the Stripe-Signature header attacked", () => {
  it("refuses a signature whose timestamp is no number (it would never expire) with a 400 naming the header", async () => {
    // Signed correctly over `${t}.${body}` as the SDK computes it: without the time check these never expire.
    for (const [id, t, signedT] of [
      ["evt_t_nan", "NaN", "NaN"],
      ["evt_t_empty", "", "NaN"],
      ["evt_t_suffix", `${now()}abc`, `${now()}`],
      ["evt_t_plus", `+${now()}`, `${now()}`],
      ["evt_t_space", ` ${now()}`, `${now()}`],
    ] as const) {
      const body = event(id);
      const response = await post(body, {
        ...JSON_TYPE,
        "stripe-signature": `t=${t},v1=${hmac(`${signedT}.${body}`)}`,
      });
      expect(response.statusCode, `${id}: ${response.body}`).toBe(400);
      expect(Object.keys(response.json().fields ?? {})).toEqual(["stripe-signature"]);
    }
    // Two timestamps, one of them no number: refused too (which one the SDK reads is its business).
    const body = event("evt_t_two");
    const twice = await post(body, {
      ...JSON_TYPE,
      "stripe-signature": `t=x,t=${now()},v1=${hmac(`${now()}.${body}`)}`,
    });
    expect(twice.statusCode, twice.body).toBe(400);
    expect(await db.stripeEvent.count({ where: { id: { startsWith: "evt_t_" } } })).toBe(0);
  });

  it("takes one right v1 among several, refuses v0 only, spaces after commas, and a body signed without its BOM", async () => {
    const several = event("evt_several");
    const t = now();
    expect(
      (
        await post(several, {
          ...JSON_TYPE,
          "stripe-signature": `t=${t},v1=${"0".repeat(64)},v1=${hmac(`${t}.${several}`)}`,
        })
      ).statusCode,
    ).toBe(200);
    for (const [id, header] of [
      ["evt_v0", (b: string) => `t=${t},v0=${hmac(`${t}.${b}`)}`],
      ["evt_spaces", (b: string) => `t=${t}, v1=${hmac(`${t}.${b}`)}`],
      ["evt_huge", () => `t=${t},${"v1=ab,".repeat(2000)}`],
    ] as const) {
      const body = event(id);
      const response = await post(body, { ...JSON_TYPE, "stripe-signature": header(body) });
      expect(response.statusCode, `${id}: ${response.body}`).toBe(400);
      expect(response.json().fields).toHaveProperty("stripe-signature");
    }
    // The SDK decodes the body dropping a BOM, so a signature over the body without it verifies; the bytes
    // with it are still refused (no JSON), never recorded.
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(event("evt_bom"))]);
    const withBom = await post(bom, { ...JSON_TYPE, "stripe-signature": signed(event("evt_bom")) });
    expect(withBom.statusCode, withBom.body).toBe(400);
    const recorded = await db.stripeEvent.findMany({
      where: { id: { in: ["evt_several", "evt_v0", "evt_spaces", "evt_huge", "evt_bom"] } },
      select: { id: true },
    });
    expect(recorded.map((e) => e.id)).toEqual(["evt_several"]);
  });

  it("refuses signed bodies that are no event object with a 400, and takes any content type", async () => {
    for (const body of [
      "[]",
      "1",
      "null",
      '"evt"',
      "",
      '{"id":"evt_on","type":"ping","created":1,"data":{"object":null}}',
    ]) {
      const response = await post(body, { ...JSON_TYPE, "stripe-signature": signed(body) });
      expect(response.statusCode, `${body}: ${response.body}`).toBe(400);
    }
    const plain = event("evt_plain");
    expect(
      (await post(plain, { "content-type": "text/plain", "stripe-signature": signed(plain) })).statusCode,
    ).toBe(200);
    const none = event("evt_no_type");
    expect((await post(none, { "stripe-signature": signed(none) })).statusCode).toBe(200);
    expect(await db.stripeEvent.count({ where: { id: { in: ["evt_plain", "evt_no_type"] } } })).toBe(2);
  });
});
