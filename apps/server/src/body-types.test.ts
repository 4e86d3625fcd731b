// Wrong JSON types are refused, never coerced: every field of every REST JSON body (enumerated from the
// OpenAPI document, and every body-taking route of the Fastify instance must be in it or explicitly exempt)
// gets null, a string for a number, a number for a string, a boolean, an array, an object, and every object
// of the body an unknown extra field. Each answer must be a 400 whose message names the field, and nothing
// may be written.
import { createHash, randomUUID } from "node:crypto";
import { testDatabase } from "@minutely/db/vitest";
import { userWithAccount } from "@minutely/testing";
import { afterAll, describe, expect, it } from "vitest";
import { buildTestServer, cookiesFrom, TEST_ORIGIN } from "./testing.ts";

const METERING_TOKEN = "body-types-metering-token-0123456789";
const { db } = await testDatabase();
const app = await buildTestServer(db, { METERING_API_TOKEN: METERING_TOKEN });
afterAll(() => app.close());

let ipCounter = 0;
/** A fresh client address per request, so per-address rate limits do not answer instead of validation. */
function nextIp(): string {
  ipCounter += 1;
  return `10.77.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
}

async function signUp(email: string): Promise<string> {
  const response = await app.inject({
    method: "POST",
    url: "/api/auth/sign-up/email",
    headers: { origin: TEST_ORIGIN },
    remoteAddress: nextIp(),
    payload: { name: "Body Types", email, password: "long-enough-password-1" },
  });
  expect(response.statusCode, response.body).toBe(200);
  return cookiesFrom(response.headers["set-cookie"]);
}

const customer = await signUp("body-types@example.com");
const admin = await signUp("body-types-admin@example.com");
await db.user.update({ where: { email: "body-types-admin@example.com" }, data: { role: "admin" } });

// An Enterprise subscription and an API key of the customer's account, so customer API routes get past
// their key check to validation.
const viewer = await userWithAccount(db, { email: "body-types@example.com" });
const accountId = viewer.accountId ?? "";
const enterprise = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Enterprise" } });
await db.subscription.create({
  data: {
    accountId,
    planId: enterprise.id,
    stripePriceId: "price_body_types",
    stripeSubscriptionId: "sub_body_types",
    status: "active",
    currentPeriodStart: new Date("2026-11-01T00:00:00Z"),
    currentPeriodEnd: new Date("2026-12-01T00:00:00Z"),
  },
});
const API_KEY = "mk_body_types_0123456789abcdef0123456789";
await db.apiKey.create({
  data: {
    accountId,
    name: "body types",
    nameKey: "body types",
    prefix: API_KEY.slice(0, 11),
    keyHash: createHash("sha256").update(API_KEY).digest("hex"),
  },
});

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
};
type Operation = {
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  security?: Record<string, unknown>[];
};

const openapi = (await app.inject({ method: "GET", url: "/api/openapi.json" })).json() as {
  paths: Record<string, Record<string, Operation>>;
};

/** A valid body of each documented route (the table's starting point) and the credentials it needs. */
const VALID: Record<string, { body: Record<string, unknown>; headers: Record<string, string> }> = {
  "POST /api/subscriptions/user/actions/": {
    body: {
      action: "billing_history",
      package_id: randomUUID(),
      payment_method_id: "pm_card_visa",
      proration_date: 1_800_000_000,
      keep_agent_ids: [randomUUID()],
      currency: "usd",
    },
    headers: { cookie: customer },
  },
  "POST /api/v1/usage/calls": {
    body: {
      events: [
        {
          call_id: "body-types-call",
          account_id: randomUUID(),
          agent_id: randomUUID(),
          direction: "inbound",
          started_at: "2026-11-20T10:00:00Z",
          duration_seconds: 61,
        },
      ],
    },
    headers: { authorization: `Bearer ${METERING_TOKEN}` },
  },
  "POST /api/auth/sign-up/email": {
    body: {
      name: "Valid Body",
      email: "valid-body@example.com",
      password: "long-enough-password-1",
      image: "https://example.com/avatar.png",
      callbackURL: "/",
      rememberMe: true,
    },
    headers: {},
  },
  "POST /api/auth/sign-in/email": {
    body: {
      email: "body-types@example.com",
      password: "long-enough-password-1",
      callbackURL: "/",
      rememberMe: false,
    },
    headers: {},
  },
  "POST /api/auth/update-user": {
    body: { name: "Body Types", image: "https://example.com/avatar.png" },
    headers: { cookie: customer },
  },
  // Wrong credentials: valid bodies that better-auth refuses, so the user stays as it is.
  "POST /api/auth/change-password": {
    body: {
      currentPassword: "not-the-password-1",
      newPassword: "another-password-1",
      revokeOtherSessions: false,
    },
    headers: { cookie: customer },
  },
  "POST /api/auth/change-email": {
    body: { newEmail: "body-types-new@example.com", callbackURL: "/" },
    headers: { cookie: customer },
  },
  "POST /api/auth/delete-user": {
    body: { password: "not-the-password-1", token: "not-a-token", callbackURL: "/" },
    headers: { cookie: customer },
  },
  "POST /api/auth/verify-password": {
    body: { password: "not-the-password-1" },
    headers: { cookie: customer },
  },
  "POST /api/auth/request-password-reset": {
    body: { email: "body-types-reset@example.com" },
    headers: {},
  },
  "POST /api/auth/send-verification-email": {
    body: { email: "body-types-verify@example.com" },
    headers: {},
  },
  "POST /api/auth/reset-password": {
    body: { newPassword: "another-password-1", token: "not-a-reset-token" },
    headers: {},
  },
  "POST /api/packs/purchase": {
    body: { pack_id: randomUUID(), method: "saved_card" },
    headers: { cookie: customer, "idempotency-key": "body-types-pack-1" },
  },
  "POST /api/packs/auto-top-up": {
    body: { auto_top_up: { pack_id: randomUUID(), threshold_minutes: 100, max_per_month: 2 } },
    headers: { cookie: customer },
  },
  "POST /api/billing/tax-details": {
    body: {
      address: { country: "FR", line1: null, line2: null, city: null, state: null, postal_code: null },
      tax_id: { type: "eu_vat", value: "FRAB123456789" },
    },
    headers: { cookie: customer, "idempotency-key": "body-types-tax-1" },
  },
  "POST /api/billing/spend-cap": {
    body: { amount_cents: 5000, currency: "usd" },
    headers: { cookie: customer },
  },
  // An unknown invoice of the customer's account: valid, answered 404 (nothing is refunded).
  "POST /api/admin/customers/{accountId}/adjustments": {
    body: {
      type: "refund",
      invoice_id: randomUUID(),
      amount_cents: 100,
      currency: "usd",
      reason: "Body types",
    },
    headers: { cookie: admin, "idempotency-key": "body-types-adjust-1" },
  },
  "POST /api/v1/calls/authorize": {
    body: {
      call_id: "body-types-call",
      account_id: randomUUID(),
      agent_id: randomUUID(),
      direction: "inbound",
    },
    headers: { authorization: `Bearer ${METERING_TOKEN}` },
  },
};

/** Routes taking a body that is not a JSON document of the API's own: Stripe's signed events, tRPC. */
const EXEMPT = new Set(["/api/webhooks/stripe", "/trpc/:path", "/trpc/admin/:path"]);

function documentedBodies(): { key: string; method: string; url: string; schema: JsonSchema }[] {
  const list: { key: string; method: string; url: string; schema: JsonSchema }[] = [];
  for (const [path, operations] of Object.entries(openapi.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const schema = operation.requestBody?.content?.["application/json"]?.schema;
      // A path parameter is the customer's account id (the only one a body-taking route has).
      const url = path.replace(/\{\w+\}/g, accountId);
      if (schema)
        list.push({ key: `${method.toUpperCase()} ${path}`, method: method.toUpperCase(), url, schema });
    }
  }
  return list;
}

/** Method and path of every body-taking route, read from Fastify's route tree. */
function bodyRoutes(): string[] {
  const routes: string[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split("\n")) {
    const match = /^([│ ]*)[├└]── (\S+) \(([^)]+)\)$/.exec(line.replace(/\s+$/, ""));
    if (!match) continue;
    stack.length = (match[1] ?? "").length / 4;
    const path = `${stack.join("")}${match[2] ?? ""}`;
    stack.push(match[2] ?? "");
    for (const method of (match[3] ?? "").split(", ")) {
      if (["POST", "PUT", "PATCH", "DELETE"].includes(method)) routes.push(`${method} ${path}`);
    }
  }
  return routes;
}

interface Field {
  path: string[];
  types: string[];
  /** The valid value at this path, if the valid body has one. */
  value: unknown;
}

function typesOf(schema: JsonSchema): string[] {
  const own = schema.type === undefined ? [] : [schema.type].flat();
  return [...own, ...(schema.anyOf ?? []).flatMap(typesOf)];
}

/** Every field of a body schema (nested objects and the first item of arrays too) with its types. */
function fieldsOf(schema: JsonSchema, value: unknown, path: string[] = []): Field[] {
  const fields: Field[] = [];
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    const childValue = (value as Record<string, unknown> | undefined)?.[name];
    fields.push({ path: [...path, name], types: typesOf(child), value: childValue });
    fields.push(...fieldsOf(child, childValue, [...path, name]));
  }
  if (schema.items) {
    const item = Array.isArray(value) ? value[0] : undefined;
    fields.push({ path: [...path, "0"], types: typesOf(schema.items), value: item });
    fields.push(...fieldsOf(schema.items, item, [...path, "0"]));
  }
  return fields;
}

/** Objects of the body (by path) that get an unknown extra field. */
function objectsOf(schema: JsonSchema, path: string[] = []): string[][] {
  const paths: string[][] = typesOf(schema).includes("object") || schema.properties ? [path] : [];
  for (const [name, child] of Object.entries(schema.properties ?? {}))
    paths.push(...objectsOf(child, [...path, name]));
  if (schema.items) paths.push(...objectsOf(schema.items, [...path, "0"]));
  return paths;
}

const WRONG: { label: string; value: (valid: unknown) => unknown; wrongFor: (types: string[]) => boolean }[] =
  [
    { label: "null", value: () => null, wrongFor: (t) => !t.includes("null") },
    {
      label: "a string for a number",
      value: () => "5",
      wrongFor: (t) => t.includes("number") || t.includes("integer"),
    },
    { label: "a number for a string", value: () => 5, wrongFor: (t) => t.includes("string") },
    { label: "a boolean", value: () => true, wrongFor: (t) => !t.includes("boolean") },
    { label: "an array", value: (valid) => [valid ?? "x"], wrongFor: (t) => !t.includes("array") },
    { label: "an object", value: () => ({}), wrongFor: (t) => !t.includes("object") },
  ];

function withValue(body: unknown, path: string[], value: unknown): unknown {
  const copy = structuredClone(body) as Record<string, unknown>;
  let node: Record<string, unknown> = copy;
  for (const segment of path.slice(0, -1)) node = node[segment] as Record<string, unknown>;
  node[path.at(-1) ?? ""] = value;
  return copy;
}

/** Row counts of every table but the rate-limit counters: a refused request must not have written anything. */
async function snapshot(): Promise<Record<string, number>> {
  const tables = await db.$queryRawUnsafe<{ tablename: string }[]>(
    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'rate_limit_bucket' ORDER BY 1",
  );
  const counts: Record<string, number> = {};
  for (const { tablename } of tables) {
    const [row] = await db.$queryRawUnsafe<{ n: bigint }[]>(`SELECT count(*) AS n FROM "${tablename}"`);
    counts[tablename] = Number(row?.n ?? 0);
  }
  return counts;
}

describe("wrong JSON types in REST bodies", () => {
  it("knows every route that takes a body: documented with a valid example, or exempt", () => {
    const documented = documentedBodies().map((b) => b.key.replace(/\/$/, ""));
    for (const route of bodyRoutes()) {
      if (EXEMPT.has(route.split(" ")[1] ?? "") || route.includes("*")) continue;
      expect(documented, `${route} takes a body: document it in OpenAPI (or exempt it here)`).toContain(
        route.replace(/\/$/, "").replace(/:([A-Za-z_]\w*)/g, "{$1}"),
      );
    }
    for (const { key } of documentedBodies()) {
      expect(Object.keys(VALID), `add a valid body of ${key} to this test`).toContain(key);
    }
  });

  it("passes validation with each valid body (so each case below differs from a valid request in one field only)", async () => {
    for (const { key, method, url } of documentedBodies()) {
      const valid = VALID[key];
      if (!valid) continue;
      const response = await app.inject({
        method: method as "POST",
        url,
        headers: { ...valid.headers, origin: TEST_ORIGIN },
        remoteAddress: nextIp(),
        payload: valid.body,
      });
      // Accepted, or refused for its credentials (wrong password, disabled endpoint), never as malformed.
      expect(response.statusCode, `${key}: ${response.body}`).toBeLessThan(500);
      expect(response.json().error, `${key}: ${response.body}`).not.toBe("validation_error");
    }
  });

  it("refuses every wrong type and unknown field with a 400 naming the field, writing nothing", async () => {
    const before = await snapshot();
    const failures: string[] = [];
    let cases = 0;
    for (const { key, method, url, schema } of documentedBodies()) {
      const valid = VALID[key];
      if (!valid) continue;
      const attempts: { label: string; field: string; body: unknown }[] = [];
      for (const field of fieldsOf(schema, valid.body)) {
        for (const wrong of WRONG) {
          if (!wrong.wrongFor(field.types)) continue;
          attempts.push({
            label: wrong.label,
            field: field.path.join("."),
            body: withValue(valid.body, field.path, wrong.value(field.value)),
          });
        }
      }
      for (const path of objectsOf(schema)) {
        // "toString": a name every plain object inherits, which must be named like any other.
        for (const name of ["unexpected_field", "toString"]) {
          const field = [...path, name];
          attempts.push({
            label: "an unknown field",
            field: field.join("."),
            body: withValue(valid.body, field, 1),
          });
        }
      }
      for (const attempt of attempts) {
        cases += 1;
        const response = await app.inject({
          method: method as "POST",
          url,
          headers: { ...valid.headers, origin: TEST_ORIGIN },
          remoteAddress: nextIp(),
          payload: attempt.body as object,
        });
        const body = response.json() as { message?: string; fields?: Record<string, string> };
        const named =
          (body.message ?? "").includes(attempt.field) ||
          Object.keys(body.fields ?? {}).includes(attempt.field);
        if (response.statusCode !== 400 || !named) {
          failures.push(
            `${key} ${attempt.field} = ${attempt.label}: ${response.statusCode} ${response.body}`,
          );
        }
      }
    }
    expect(cases).toBeGreaterThan(50);
    expect(failures).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });
  it("refuses an unknown query parameter on every documented route with a 400 naming it", async () => {
    const credentials: Record<string, Record<string, string>> = {
      session: { cookie: customer },
      meteringToken: { authorization: `Bearer ${METERING_TOKEN}` },
      apiKey: { authorization: `Bearer ${API_KEY}` },
    };
    const failures: string[] = [];
    let routes = 0;
    for (const [path, operations] of Object.entries(openapi.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        routes += 1;
        const key = `${method.toUpperCase()} ${path}`;
        const scheme = Object.keys(operation.security?.[0] ?? {})[0] ?? "";
        const response = await app.inject({
          method: method.toUpperCase() as "GET",
          url: `${path.replace(/\{\w+\}/g, accountId)}?unexpected_param=1`,
          headers: { ...(VALID[key]?.headers ?? credentials[scheme] ?? {}), origin: TEST_ORIGIN },
          remoteAddress: nextIp(),
          ...(VALID[key] ? { payload: VALID[key].body } : {}),
        });
        const named = (response.json() as { message?: string }).message?.includes("unexpected_param");
        if (response.statusCode !== 400 || !named)
          failures.push(`${key}: ${response.statusCode} ${response.body}`);
      }
    }
    expect(routes).toBeGreaterThan(10);
    expect(failures).toEqual([]);
  });
});
