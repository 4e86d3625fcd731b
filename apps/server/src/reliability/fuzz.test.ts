// Property-based fuzzing (fast-check) of every input the API takes: every procedure of both tRPC routers
// (enumerated from the routers) and every REST route (enumerated from the Fastify instance), so a new
// procedure or route is fuzzed without editing this file. The property everywhere: the answer is 2xx or
// 4xx, never 5xx; an error says what is wrong in a message (invalid input: per-field errors) and leaks no
// internals (stack traces, Prisma, SQL). Bodies over a route's limit get a 413 naming the limit before the
// server reads them; URLs and headers over the HTTP parser's limits get a 4xx.
//
// The run is deterministic. To reproduce a failure or to fuzz harder:
//   FUZZ_SEED=<integer>  base seed of every property (default 20261127; printed with every failure)
//   FUZZ_RUNS=<integer>  inputs per property (default 20; REST routes get 3x, the webhook 15x, raw tRPC
//                        garbage 10x)
//   FUZZ_VERBOSE=1       print the answers per target and status at the end (how deep the inputs got)
//   FUZZ_DEBUG=<text>    print every request and answer whose target contains <text> (e.g. agents.create)
//   FUZZ_SEED=7 FUZZ_RUNS=200 pnpm exec vitest run --config vitest.reliability.config.ts src/reliability/fuzz.test.ts
import { createHmac } from "node:crypto";
import { once } from "node:events";
import { METHODS } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { adminRouter, appRouter, syncCatalogToStripe } from "@minutely/api";
import { testPorts } from "@minutely/api/testing";
import { testDatabase } from "@minutely/db/vitest";
import { stripeEmulatorUrl, userWithAccount } from "@minutely/testing";
import fc from "fast-check";
import type { InjectOptions, LightMyRequestResponse } from "fastify";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestServer, cookiesFrom, TEST_ORIGIN } from "../testing.ts";

const SEED = Number.parseInt(process.env.FUZZ_SEED ?? "", 10) || 20_261_127;
const RUNS = Number.parseInt(process.env.FUZZ_RUNS ?? "", 10) || 20;
const METERING_TOKEN = "fuzz-metering-token-0123456789";
const WEBHOOK_SECRET = "whsec_fuzz_webhook_secret";

const { db } = await testDatabase();
const app = await buildTestServer(db, {
  METERING_API_TOKEN: METERING_TOKEN,
  STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
});
afterAll(() => app.close());
await syncCatalogToStripe(testPorts(db, { stripeApiBase: stripeEmulatorUrl() }));

// ---------------------------------------------------------------------------------------------------------
// Principals: a subscribed customer (Enterprise: analytics and API access, so procedures get past their
// preconditions), an admin, a throwaway user for better-auth's own endpoints (which may sign it out), the
// metering service token and an API key.

let ipCounter = 0;
/** A fresh client address per request, so per-IP rate limits do not hide the code behind them. */
function nextIp(): string {
  ipCounter += 1;
  return `10.${(ipCounter >> 16) & 255}.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
}

async function signUp(email: string): Promise<string> {
  const response = await app.inject({
    method: "POST",
    url: "/api/auth/sign-up/email",
    headers: { origin: TEST_ORIGIN },
    remoteAddress: nextIp(),
    payload: { name: email, email, password: "long-enough-1" },
  });
  expect(response.statusCode, response.body).toBe(200);
  return cookiesFrom(response.headers["set-cookie"]);
}

async function trpcCall(cookie: string, path: string, input: unknown): Promise<unknown> {
  const response = await app.inject({
    method: "POST",
    url: `/trpc/${path}`,
    headers: { cookie, origin: TEST_ORIGIN, "content-type": "application/json" },
    payload: JSON.stringify(superjson.serialize(input)),
  });
  expect(response.statusCode, response.body).toBe(200);
  return superjson.deserialize(response.json().result.data);
}

const plans = await db.subscriptionPlan.findMany();
const enterprise = plans.find((p) => p.name === "Enterprise");
const customerCookie = await signUp("fuzz-customer@example.com");
const subscribed = await app.inject({
  method: "POST",
  url: "/api/subscriptions/user/actions/",
  headers: { cookie: customerCookie, origin: TEST_ORIGIN },
  payload: { action: "subscribe", package_id: enterprise?.id, payment_method_id: "pm_card_visa" },
});
expect(subscribed.statusCode, subscribed.body).toBe(200);
const customer = await userWithAccount(db, { email: "fuzz-customer@example.com" });
const agent = (await trpcCall(customerCookie, "agents.create", { name: "Fuzz agent" })) as { id: string };
const apiKey = ((await trpcCall(customerCookie, "apiKeys.create", { name: "fuzz" })) as { key: string }).key;
const adminCookie = await signUp("fuzz-admin@example.com");
await db.user.update({ where: { email: "fuzz-admin@example.com" }, data: { role: "admin" } });
const throwawayCookie = await signUp("fuzz-throwaway@example.com");

/** Real ids, so near-miss inputs reach the services behind the lookups. */
const KNOWN_IDS = [customer.accountId ?? "", agent.id, customer.id, ...plans.map((p) => p.id)];

// ---------------------------------------------------------------------------------------------------------
// Values

const NASTY_CONSTANTS: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  -0,
  0.5,
  -1e9,
  2 ** 31,
  2 ** 53 + 2,
  1e308,
  -1e308,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  "",
  " ",
  "NaN",
  "Infinity",
  "-1",
  "1e400",
  "0x1F",
  "null",
  "true",
  "\u0000",
  "a\u0000b",
  "\u202eevil",
  "\ud800",
  "🙂".repeat(500),
  "x".repeat(70_000),
  "'; DROP TABLE account; --",
  "%",
  "_%_",
  "\\",
  "../../etc/passwd",
  "<script>alert(1)</script>",
  "__proto__",
  "constructor",
  "2026-02-30",
  "9999-12-31T23:59:59Z",
  "+275760-09-13T00:00:00.000Z",
  "00000000-0000-0000-0000-000000000000",
  "ffffffff-ffff-ffff-ffff-ffffffffffff",
  [],
  {},
  [null],
  { __proto__: { polluted: true } },
  JSON.parse('{"__proto__": {"polluted": true}}'),
  { constructor: { prototype: { polluted: true } } },
];

/** JSON.stringify that writes what JSON cannot hold (bigint, undefined at the top) anyway. */
function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? v.toString() : v)) ?? "null";
}

/** Values no input expects: wrong types, extremes, NaN-likes, control characters, very long strings. */
const nasty: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_CONSTANTS) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", minLength: 200, maxLength: 2000 }) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.bigInt() },
  { weight: 1, arbitrary: fc.date({ noInvalidDate: false }) },
  { weight: 1, arbitrary: fc.constantFrom(undefined, new Map([["a", 1]]), new Set([1]), /x+/g) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/** Strings of the right type that a database, a LIKE pattern or a renderer may still choke on. */
const HOSTILE_STRINGS = [
  "a\u0000b",
  "\u0000",
  "\u202eevil",
  "\ud800",
  "\udfff\ud800",
  "🙂👩‍👩‍👧",
  "%",
  "_%\\",
  "'; DROP TABLE account; --",
  "$1",
  "\\x00",
  "<script>alert(1)</script>",
  "\r\n\t",
  "\u00ad\u200b\ufeff",
  "evt_",
  "cs_",
  "pm_",
  "invoice.",
];

const hostileString = fc.oneof(
  // NUL first among equals: PostgreSQL refuses it in text, so it reaches furthest when let through.
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }))
      .map(([a, b]) => `${a}\u0000${b}`),
  },
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 20 }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.string({ maxLength: 10 }), fc.constantFrom(...HOSTILE_STRINGS))
      .map(([a, b]) => `${a}${b}`),
  },
);

const idLike = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...KNOWN_IDS) },
  { weight: 3, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: nasty },
);

const plausibleString = fc.oneof(
  fc.string({ minLength: 1, maxLength: 30 }),
  fc.stringMatching(/^[a-z_]{2,10}\.?[a-z_]{0,10}$/),
  fc.constantFrom("pm_card_visa", "cs_test_123", "usd", "request-key-123"),
  hostileString,
);

type ZodLike = { _zod?: { def?: ZodDef } };
type ZodDef = {
  type?: string;
  format?: string;
  shape?: Record<string, ZodLike>;
  innerType?: ZodLike;
  in?: ZodLike;
  element?: ZodLike;
  entries?: Record<string, string>;
  checks?: { _zod?: { def?: ZodCheck } }[];
};
type ZodCheck = {
  check?: string;
  value?: number;
  inclusive?: boolean;
  minimum?: number;
  maximum?: number;
  format?: string;
  pattern?: RegExp;
};

function checksOf(def: ZodDef): ZodCheck[] {
  return (def.checks ?? []).map((check) => check._zod?.def ?? {});
}

/** Numbers inside the schema's bounds (integers when it wants them), with its edges and some outside. */
function numberFor(def: ZodDef): fc.Arbitrary<number> {
  let min = -1_000_000;
  let max = 1_000_000;
  let integer = false;
  for (const check of checksOf(def)) {
    if (check.check === "greater_than" && check.value !== undefined)
      min = check.value + (check.inclusive ? 0 : 1);
    if (check.check === "less_than" && check.value !== undefined)
      max = check.value - (check.inclusive ? 0 : 1);
    if (check.check === "number_format" && /int/.test(check.format ?? "")) integer = true;
  }
  return fc.oneof(
    { weight: 6, arbitrary: integer ? fc.integer({ min, max }) : fc.double({ min, max, noNaN: true }) },
    { weight: 2, arbitrary: fc.constantFrom(min, max) },
    { weight: 1, arbitrary: fc.constantFrom(min - 1, max + 1, 0.5, -0) },
  );
}

/** Strings matching the schema's pattern when it has one, else free text (length-bounded). */
function stringFor(def: ZodDef, strings: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const checks = checksOf(def);
  const pattern = checks.find((check) => check.check === "string_format" && check.pattern)?.pattern;
  if (pattern)
    return fc.oneof({ weight: 4, arbitrary: fc.stringMatching(pattern) }, { weight: 1, arbitrary: strings });
  const maximum = checks.find((check) => check.check === "max_length")?.maximum;
  return maximum === undefined ? strings : strings.map((text) => text.slice(0, maximum));
}

function defOf(schema: unknown): ZodDef | undefined {
  return (schema as ZodLike | undefined)?._zod?.def;
}

/**
 * Values shaped like what a zod schema accepts (often valid), so fuzzing reaches past validation; free-text
 * leaves come from `strings` (plausible ones, or hostile ones that are still strings).
 */
function validish(schema: unknown, strings = plausibleString, depth = 0): fc.Arbitrary<unknown> {
  const def = defOf(schema);
  if (!def || depth > 4) return fc.jsonValue({ maxDepth: 2 });
  switch (def.type) {
    case "object": {
      const shape = def.shape ?? {};
      return fc.record(
        Object.fromEntries(
          Object.entries(shape).map(([key, value]) => [key, validish(value, strings, depth + 1)]),
        ),
      );
    }
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "readonly":
    case "catch":
      return fc.oneof(
        { weight: 4, arbitrary: validish(def.innerType, strings, depth + 1) },
        { weight: 1, arbitrary: fc.constantFrom(undefined, null) },
      );
    case "pipe":
      return validish(def.in, strings, depth + 1);
    case "array":
      return fc.array(validish(def.element, strings, depth + 1), { maxLength: 3 });
    case "enum":
      return fc.oneof(
        fc.constantFrom(...Object.values(def.entries ?? { x: "x" })),
        fc.string({ maxLength: 8 }),
      );
    case "boolean":
      return fc.boolean();
    case "number":
      return numberFor(def);
    case "date":
      return fc.date({
        min: new Date("2020-01-01T00:00:00Z"),
        max: new Date("2030-01-01T00:00:00Z"),
        noInvalidDate: false,
      });
    case "string":
      switch (def.format) {
        case "uuid":
        case "guid":
          return idLike;
        case "date":
          return fc
            .date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true })
            .map((d) => d.toISOString().slice(0, 10));
        case "datetime":
          return fc
            .date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true })
            .map((d) => d.toISOString());
        default:
          return stringFor(def, strings);
      }
    case "custom":
      return fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom("usd", "eur", "gbp") },
        { weight: 1, arbitrary: fc.constantFrom("xxx", 1, null) },
      );
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** The top-level object shape of a schema (through optional/default/pipe), if it has one. */
function objectShape(schema: unknown): Record<string, ZodLike> | null {
  let def = defOf(schema);
  for (let i = 0; def && i < 8; i++) {
    if (def.type === "object") return def.shape ?? null;
    def = defOf(def.type === "pipe" ? def.in : def.innerType);
  }
  return null;
}

/**
 * Near-miss objects: the real keys with mostly plausible values, one to three of them replaced by nasty
 * values, sometimes a key dropped or an unknown key added.
 */
function nearMiss(base: fc.Arbitrary<unknown>, keys: string[]): fc.Arbitrary<unknown> {
  if (keys.length === 0) return base;
  return fc
    .tuple(
      base,
      fc.array(fc.tuple(fc.constantFrom(...keys), nasty), { minLength: 1, maxLength: 3 }),
      fc.option(fc.constantFrom(...keys), { freq: 4 }),
      fc.option(fc.tuple(fc.string({ maxLength: 12 }), nasty), { freq: 4 }),
    )
    .map(([value, replacements, dropped, extra]) => {
      const object: Record<string, unknown> =
        value && typeof value === "object" && !Array.isArray(value) ? { ...value } : {};
      for (const [key, replacement] of replacements) object[key] = replacement;
      if (dropped !== null) delete object[dropped];
      if (extra !== null) object[extra[0]] = extra[1];
      return object;
    });
}

// ---------------------------------------------------------------------------------------------------------
// The property

/** Words that only appear in an answer when internals leak. */
const INTERNALS = new RegExp(
  [
    "prisma",
    "TypeError",
    "ReferenceError",
    "RangeError",
    "SyntaxError:",
    "Maximum call stack",
    "is not a function",
    "is not iterable",
    "Cannot read propert",
    "Cannot destructure",
    "undefined is not",
    "\\bat \\/",
    "node_modules",
    "(?:\\\\\\\\n|\\\\n)\\\\s+at ", // a stack frame, raw or JSON-escaped
    "invalid byte sequence",
    "violates .* constraint",
    "\\bSELECT\\b.*\\bFROM\\b",
    "INSERT INTO",
  ].join("|"),
  "i",
);

/** The message of an error body: REST ({ error, message }), better-auth ({ message }), tRPC (error.json). */
function messagesOf(body: unknown): string[] | null {
  if (Array.isArray(body)) {
    const errors = body.filter((item) => item && typeof item === "object" && "error" in item);
    const messages = errors.map((item) => messagesOf(item));
    return messages.every((m) => m !== null) ? messages.flat() : null;
  }
  if (!body || typeof body !== "object") return null;
  const record = body as Record<string, unknown>;
  const trpc = (record.error as { json?: { message?: unknown } } | undefined)?.json;
  const message = trpc ? trpc.message : record.message;
  return typeof message === "string" ? [message] : null;
}

/**
 * What is wrong with an answer, or null when it is acceptable: a 5xx; an error (a 4xx, or a failed call in
 * a tRPC batch) without a clear message, leaking internals, or refusing input without naming the fields;
 * a REST error without its machine-readable code.
 */
function problemOf(response: LightMyRequestResponse, method: string, restShape: boolean): string | null {
  const status = response.statusCode;
  if (status >= 500) return `status ${status}`;
  if (method === "HEAD") return null;
  let body: unknown;
  try {
    body = response.json();
  } catch {
    return status >= 400 ? `status ${status} with a body that is not JSON` : null;
  }
  const items = Array.isArray(body) ? body : [body];
  const failed = items.filter((item) => item && typeof item === "object" && "error" in item);
  if (status < 400 && failed.length === 0) return null;
  const messages = messagesOf(status >= 400 ? body : failed);
  if (!messages || messages.length === 0) return `status ${status} without an error message`;
  for (const message of messages) {
    if (message.trim().length < 8) return `status ${status} with an unclear message "${message}"`;
  }
  if (INTERNALS.test(JSON.stringify(failed.length > 0 ? failed : body)))
    return `status ${status} leaking internals`;
  if (restShape && status >= 400 && typeof (body as { error?: unknown }).error !== "string") {
    return `status ${status} without the REST error shape { error, message }`;
  }
  for (const item of failed) {
    const error = (
      item as { error?: { json?: { message?: string; data?: { code?: string; fieldErrors?: unknown } } } }
    ).error?.json;
    // Invalid input names the wrong fields (zod's message alone is a JSON dump, not for people).
    if (error?.data?.code === "BAD_REQUEST" && (error.message ?? "").trimStart().startsWith("[")) {
      const fields = error.data.fieldErrors;
      if (!fields || typeof fields !== "object" || Object.keys(fields).length === 0) {
        return "invalid input without fieldErrors";
      }
    }
  }
  return null;
}

function describeRequest(request: InjectOptions): string {
  const payload =
    typeof request.payload === "string" || Buffer.isBuffer(request.payload)
      ? request.payload.toString().slice(0, 600)
      : JSON.stringify(request.payload)?.slice(0, 600);
  return `${request.method} ${String(request.url).slice(0, 600)}\nheaders: ${JSON.stringify(
    request.headers,
  )?.slice(0, 400)}\nbody: ${payload}`;
}

/** Answers per target and status: printed after the run, to see how deep the fuzzing got. */
const statuses = new Map<string, Map<string, number>>();

/** The machine-readable code of an error answer (REST `error`, better-auth `code`, tRPC data.code). */
function errorCodeOf(response: LightMyRequestResponse): string {
  try {
    const body = response.json() as Record<string, unknown> | unknown[];
    const first = (
      Array.isArray(body) ? body.find((item) => item && typeof item === "object" && "error" in item) : body
    ) as { error?: unknown; code?: unknown } | undefined;
    const trpc = (first?.error as { json?: { data?: { code?: string } } } | undefined)?.json?.data?.code;
    return String(trpc ?? (typeof first?.error === "string" ? first.error : first?.code) ?? "?");
  } catch {
    return "?";
  }
}
afterAll(() => {
  if (!process.env.FUZZ_VERBOSE) return;
  const lines = [...statuses.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([target, counts]) => {
      const list = [...counts.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([status, n]) => `${status}×${n}`);
      return `${target.padEnd(58)} ${list.join(" ")}`;
    });
  console.log(`Fuzzing answers (FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}):\n${lines.join("\n")}`);
});

/** Sends a request and throws (for fast-check to shrink) when the answer breaks the property. */
async function send(
  request: InjectOptions,
  target: string,
  restShape = false,
): Promise<LightMyRequestResponse> {
  const response = await app.inject({ remoteAddress: nextIp(), ...request });
  const counts = statuses.get(target) ?? new Map<string, number>();
  const label = `${response.statusCode}${response.statusCode >= 400 ? `:${errorCodeOf(response)}` : ""}`;
  counts.set(label, (counts.get(label) ?? 0) + 1);
  statuses.set(target, counts);
  if (process.env.FUZZ_DEBUG && target.includes(process.env.FUZZ_DEBUG)) {
    console.log(`${describeRequest(request)}\n=> ${response.statusCode} ${response.body.slice(0, 300)}\n`);
  }
  const problem = problemOf(response, String(request.method), restShape);
  if (problem) {
    throw new Error(`${problem}\n${describeRequest(request)}\nanswer: ${response.body.slice(0, 1200)}`);
  }
  return response;
}

/** FNV-1a: a stable number per test name, so each property's seed does not depend on which tests run. */
function hashOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

/** fc.assert with the file's seed (distinct per test) and what to reproduce it with in the failure. */
async function fuzz<T>(arbitrary: fc.Arbitrary<T>, predicate: (value: T) => Promise<void>, runs = RUNS) {
  const seed = (SEED + hashOf(expect.getState().currentTestName ?? "")) | 0;
  try {
    await fc.assert(fc.asyncProperty(arbitrary, predicate), { seed, numRuns: runs });
  } catch (error) {
    const cause = (error as Error).cause;
    // Counterexamples can be megabytes (deeply nested bodies): keep the report readable.
    const report = `${(error as Error).message}\n${cause instanceof Error ? cause.message : ""}`
      .split("\n")
      .map((line) => (line.length > 2000 ? `${line.slice(0, 2000)}… (${line.length} characters)` : line))
      .join("\n");
    throw new Error(
      `Fuzzing failed. Reproduce with FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS} (property seed ${seed}).\n${report}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// tRPC

interface Procedure {
  prefix: "/trpc" | "/trpc/admin";
  path: string;
  type: "query" | "mutation";
  inputs: unknown[];
}

type AnyRouter = { _def: { procedures: Record<string, { _def: { type: string; inputs?: unknown[] } }> } };

function proceduresOf(router: AnyRouter, prefix: Procedure["prefix"]): Procedure[] {
  return Object.entries(router._def.procedures)
    .map(([path, procedure]) => ({
      prefix,
      path,
      type: procedure._def.type === "mutation" ? ("mutation" as const) : ("query" as const),
      inputs: procedure._def.inputs ?? [],
    }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

const PROCEDURES = [
  ...proceduresOf(appRouter as unknown as AnyRouter, "/trpc"),
  ...proceduresOf(adminRouter as unknown as AnyRouter, "/trpc/admin"),
];

/** Inputs for one procedure: arbitrary JSON-ish values and near misses of its zod input. */
function inputsFor(procedure: Procedure): fc.Arbitrary<unknown> {
  const schema = procedure.inputs[0];
  const keys = Object.keys(objectShape(schema) ?? {});
  const nested = Object.entries(objectShape(schema) ?? {})
    .map(([key, value]) => [key, Object.keys(objectShape(value) ?? {})] as const)
    .filter(([, nestedKeys]) => nestedKeys.length > 0);
  const base = schema ? validish(schema) : fc.constant(undefined);
  return fc.oneof(
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
    { weight: 1, arbitrary: nasty },
    { weight: 3, arbitrary: base },
    { weight: 3, arbitrary: schema ? validish(schema, hostileString) : nasty },
    { weight: 4, arbitrary: nearMiss(base, keys) },
    ...nested.map(([key, nestedKeys]) => ({
      weight: 2,
      arbitrary: fc
        .tuple(base, nearMiss(fc.constant({}), nestedKeys))
        .map(([value, inner]) => ({ ...(value as object), [key]: inner })),
    })),
  );
}

type Wire = { kind: "superjson"; value: unknown } | { kind: "raw"; json: unknown };

/** The body the client sends: superjson as the SPA does, or raw JSON that skipped the transformer. */
function wireOf(input: fc.Arbitrary<unknown>): fc.Arbitrary<Wire> {
  const annotation = fc.constantFrom("undefined", "bigint", "Date", "regexp", "set", "map", "number", [
    "class",
    "Nope",
  ]);
  const meta = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.record({
      values: fc.oneof(
        fc.dictionary(fc.constantFrom("", "0", "name", "id", "__proto__", "a.b", "constructor"), annotation),
        annotation,
      ),
    }),
    fc.record({ referentialEqualities: fc.jsonValue({ maxDepth: 3 }) }),
  );
  return fc.oneof(
    { weight: 6, arbitrary: input.map((value) => ({ kind: "superjson" as const, value })) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((json) => ({ kind: "raw" as const, json })) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.jsonValue({ maxDepth: 3 }), meta)
        .map(([json, m]) => ({ kind: "raw" as const, json: { json, meta: m } })),
    },
  );
}

function encode(wire: Wire): unknown {
  if (wire.kind === "raw") return wire.json;
  try {
    return superjson.serialize(wire.value);
  } catch {
    // superjson refuses to write __proto__ / constructor keys; an attacker's client would not.
    return JSON.parse(toJson({ json: wire.value }));
  }
}

type Caller = "right" | "anonymous" | "wrong";

function headersFor(procedure: Procedure, caller: Caller): Record<string, string> {
  const own = procedure.prefix === "/trpc/admin" ? adminCookie : customerCookie;
  const other = procedure.prefix === "/trpc/admin" ? customerCookie : adminCookie;
  if (caller === "anonymous") return {};
  return { cookie: caller === "right" ? own : other, origin: TEST_ORIGIN };
}

describe("tRPC: every procedure of both routers", () => {
  it("enumerates the procedures of both routers", () => {
    expect(PROCEDURES.filter((p) => p.prefix === "/trpc").length).toBeGreaterThan(20);
    expect(PROCEDURES.filter((p) => p.prefix === "/trpc/admin").length).toBeGreaterThan(10);
  });

  for (const procedure of PROCEDURES) {
    it(`${procedure.prefix} ${procedure.path} (${procedure.type}) answers 2xx/4xx with a clear error`, async () => {
      // Mostly the right principal, so the input is what decides; sometimes none or the wrong one.
      const caller = fc.oneof(
        { weight: 5, arbitrary: fc.constant<Caller>("right") },
        { weight: 1, arbitrary: fc.constantFrom<Caller>("anonymous", "wrong") },
      );
      const companion = fc.constantFrom(
        ...PROCEDURES.filter((p) => p.prefix === procedure.prefix && p.type === procedure.type).map(
          (p) => p.path,
        ),
      );
      await fuzz(
        fc.tuple(wireOf(inputsFor(procedure)), caller, fc.boolean(), companion, wireOf(fc.jsonValue())),
        async ([wire, who, batched, other, otherWire]) => {
          const headers = headersFor(procedure, who);
          const json = encode(wire);
          if (procedure.type === "query") {
            const input = batched ? { 0: json, 1: encode(otherWire) } : json;
            const path = batched ? `${procedure.path},${other}` : procedure.path;
            const query = [
              batched ? "batch=1" : "",
              input === undefined ? "" : `input=${encodeURIComponent(JSON.stringify(input))}`,
            ]
              .filter(Boolean)
              .join("&");
            await send(
              { method: "GET", url: `${procedure.prefix}/${path}${query ? `?${query}` : ""}`, headers },
              `${procedure.prefix} ${procedure.path}`,
            );
          } else {
            const body = batched ? { 0: json, 1: encode(otherWire) } : json;
            const path = batched ? `${procedure.path},${other}` : procedure.path;
            await send(
              {
                method: "POST",
                url: `${procedure.prefix}/${path}${batched ? "?batch=1" : ""}`,
                headers: { ...headers, "content-type": "application/json" },
                ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
              },
              `${procedure.prefix} ${procedure.path}`,
            );
          }
        },
      );
    });
  }

  it("answers raw garbage, malformed batches and wrong methods with a 4xx", async () => {
    const procedurePath = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...PROCEDURES.map((p) => `${p.prefix}/${p.path}`)) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.constantFrom("/trpc", "/trpc/admin"), fc.string({ unit: "binary", maxLength: 30 }))
          .map(([prefix, path]) => `${prefix}/${encodeURIComponent(path) || "x"}`),
      },
      {
        weight: 1,
        arbitrary: fc
          .array(fc.constantFrom(...PROCEDURES.filter((p) => p.prefix === "/trpc").map((p) => p.path)), {
            minLength: 2,
            maxLength: 5,
          })
          .map((paths) => `/trpc/${paths.join(",")}`),
      },
    );
    const rawQuery = fc.oneof(
      fc.constant(""),
      fc.constantFrom("?batch=1", "?batch=1&input=5", "?batch=1&input=%5B%5D", "?batch=true&input=%7B%7D"),
      fc.constantFrom("?input=", "?input=%7B", "?input=%E0%A4%A", "?input=undefined", "?input=%00"),
      fc.jsonValue().map((v) => `?batch=1&input=${encodeURIComponent(JSON.stringify(v))}`),
      fc
        .tuple(
          fc.constantFrom(64, 1_000),
          fc.constantFrom<"array" | "object">("array", "object"),
          fc.boolean(),
        )
        .map(
          ([depth, kind, proto]) =>
            `?input=${encodeURIComponent(`{"json":${deeplyNested(depth, kind, proto)}}`)}`,
        ),
      fc.string({ unit: "binary", maxLength: 40 }).map((s) => `?input=${encodeURIComponent(s)}`),
      fc
        .tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 20 }))
        .map(([k, v]) => `?${encodeURIComponent(k)}=${encodeURIComponent(v)}&input=1&input=2`),
    );
    const deep = fc
      .tuple(
        fc.constantFrom(64, 5_000, 100_000),
        fc.constantFrom<"array" | "object">("array", "object"),
        fc.boolean(),
      )
      .map(([depth, kind, proto]) => deeplyNested(depth, kind, proto));
    const rawBody = fc.oneof(
      deep,
      deep.map((json) => `{"json":${json}}`),
      deep.map((json) => `{"0":{"json":${json}}}`),
      fc.string({ unit: "binary", maxLength: 200 }),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.jsonValue().map((v) => JSON.stringify({ 0: v, 1: { json: v }, 7: null })),
      fc.constantFrom('{"json":', '{"0":{"json":{}}', "[]", "null", "", '{"json":null,"meta":"x"}'),
      fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
    );
    const contentType = fc.constantFrom(
      "application/json",
      "application/json",
      "application/json",
      "application/json; charset=utf-8",
      "application/json; charset=latin1",
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/octet-stream",
      "",
    );
    const method = fc.constantFrom("GET", "POST", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");
    await fuzz(
      fc.tuple(method, procedurePath, rawQuery, rawBody, contentType, fc.boolean()),
      async ([m, path, query, body, type, admin]) => {
        const hasBody = m !== "GET" && m !== "OPTIONS";
        await send(
          {
            method: m as InjectOptions["method"],
            url: `${path}${query}`,
            headers: {
              cookie: admin ? adminCookie : customerCookie,
              origin: TEST_ORIGIN,
              ...(hasBody && type ? { "content-type": type } : {}),
            },
            ...(hasBody ? { payload: body } : {}),
          },
          "tRPC raw garbage",
        );
      },
      RUNS * 10,
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// REST: every route of the Fastify instance

interface Route {
  path: string;
  methods: string[];
}

/** Every route with its methods, read from Fastify's route tree (printRoutes), so new routes are included. */
function routesOf(tree: string): Route[] {
  const routes: Route[] = [];
  const segments: string[] = [];
  for (const line of tree.split("\n")) {
    const match = /^((?:│ {3}| {4})*)(?:├── |└── )(.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    segments.length = (match[1] ?? "").length / 4;
    segments.push(match[2] ?? "");
    if (match[3]) {
      const methods = match[3].split(", ").filter((m) => METHODS.includes(m));
      routes.push({ path: segments.join(""), methods });
    }
  }
  return routes;
}

const ROUTES = routesOf(app.printRoutes());

type JsonSchema = {
  type?: string | string[];
  required?: string[];
  format?: string;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
};

interface OpenApiOperation {
  security?: Record<string, unknown>[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}

const openapi = (await app.inject({ method: "GET", url: "/api/openapi.json" })).json() as {
  paths: Record<string, Record<string, OpenApiOperation>>;
};

/** Body schemas the OpenAPI document does not carry: better-auth's endpoints and Stripe's events. */
const UNDOCUMENTED_BODIES: Record<string, JsonSchema> = {
  "/api/auth/sign-in/email": {
    type: "object",
    properties: {
      email: { type: "string", format: "email" },
      password: { type: "string" },
      rememberMe: { type: "boolean" },
      callbackURL: { type: "string" },
    },
  },
  "/api/auth/sign-up/email": {
    type: "object",
    properties: {
      name: { type: "string" },
      email: { type: "string", format: "email" },
      password: { type: "string", format: "password" },
      callbackURL: { type: "string" },
    },
  },
  "/api/auth/*": {
    type: "object",
    properties: {
      name: { type: "string" },
      image: { type: "string" },
      email: { type: "string", format: "email" },
      newEmail: { type: "string", format: "email" },
      password: { type: "string", format: "password" },
      newPassword: { type: "string", format: "password" },
      currentPassword: { type: "string", format: "password" },
      token: { type: "string" },
      callbackURL: { type: "string" },
      redirectTo: { type: "string" },
      revokeOtherSessions: { type: "boolean" },
    },
  },
  "/api/webhooks/stripe": {
    type: "object",
    required: ["id", "object", "type", "created", "data"],
    properties: {
      id: { type: "string", format: "stripe-id" },
      object: { type: "string", enum: ["event"] },
      type: {
        type: "string",
        enum: [
          "invoice.paid",
          "invoice.payment_failed",
          "customer.subscription.updated",
          "checkout.session.completed",
        ],
      },
      created: { type: "integer" },
      // Strings inside the event's object reach PostgreSQL too (the payload is stored as jsonb).
      data: {
        type: "object",
        properties: {
          object: {
            type: "object",
            properties: {
              id: { type: "string" },
              customer: { type: "string" },
              description: { type: "string" },
            },
          },
        },
      },
    },
  },
};

/** better-auth's endpoints behind its catch-all (the router cannot list them). */
const BETTER_AUTH_PATHS = [
  "get-session",
  "sign-out",
  "update-user",
  "change-password",
  "change-email",
  "list-sessions",
  "revoke-session",
  "revoke-other-sessions",
  "request-password-reset",
  "reset-password",
  "verify-email",
  "send-verification-email",
  "delete-user",
  "ok",
  "error",
];

/** The route's operations in the OpenAPI document (paths there use {param} and may end in a slash). */
function documentedOperations(route: Route): OpenApiOperation[] {
  const documented = Object.entries(openapi.paths).find(
    ([path]) => path.replace(/\{(\w+)\}/g, ":$1").replace(/\/$/, "") === route.path,
  )?.[1];
  return Object.values(documented ?? {});
}

function bodySchemaOf(route: Route): JsonSchema | undefined {
  const documented = documentedOperations(route).find((operation) => operation.requestBody);
  return documented?.requestBody?.content?.["application/json"]?.schema ?? UNDOCUMENTED_BODIES[route.path];
}

/** Values shaped like what a JSON schema accepts (often valid), so fuzzing reaches past validation. */
function fromJsonSchema(
  schema: JsonSchema | undefined,
  strings: fc.Arbitrary<string> = fc.oneof(fc.string({ maxLength: 40 }), hostileString),
  depth = 0,
): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return fc.jsonValue({ maxDepth: 2 });
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "object":
      return fc.record(
        Object.fromEntries(
          Object.entries(schema.properties ?? {}).map(([key, value]) => [
            key,
            fromJsonSchema(value, strings, depth + 1),
          ]),
        ),
        { requiredKeys: (schema.required ?? []).filter((key) => key in (schema.properties ?? {})) },
      );
    case "array":
      return fc.array(fromJsonSchema(schema.items, strings, depth + 1), { minLength: 1, maxLength: 3 });
    case "integer":
    case "number":
      return fc.oneof(fc.integer({ min: 0, max: 4000 }), fc.integer());
    case "boolean":
      return fc.boolean();
    case "string":
      switch (schema.format) {
        case "uuid":
          return fc.oneof(fc.constantFrom(...KNOWN_IDS), fc.uuid());
        case "date-time":
          return fc
            .date({ min: new Date("2026-10-01"), max: new Date("2026-12-31"), noInvalidDate: true })
            .map((d) => d.toISOString());
        case "email":
          return fc.oneof(fc.emailAddress(), fc.constantFrom("fuzz-throwaway@example.com"));
        case "password":
          return fc.string({ minLength: 6, maxLength: 140 });
        case "stripe-id":
          return fc.stringMatching(/^evt_[a-zA-Z0-9]{1,20}$/);
        default:
          return strings;
      }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Keys of a JSON schema object, for near-miss bodies. */
function keysOf(schema: JsonSchema | undefined): string[] {
  return Object.keys(schema?.properties ?? {});
}

/** JSON nested `depth` levels deep: what a naive recursive parser or serializer overflows on. */
function deeplyNested(depth: number, kind: "array" | "object", proto: boolean): string {
  const open = kind === "array" ? "[" : '{"a":';
  const close = kind === "array" ? "]" : "}";
  const inner = proto ? '{"__proto__":{"x":1}}' : "1";
  return `${open.repeat(depth)}${inner}${close.repeat(depth)}`;
}

function jsonBody(schema: JsonSchema | undefined): fc.Arbitrary<string | Buffer> {
  const base = fromJsonSchema(schema);
  const keys = keysOf(schema);
  const eventKeys = keysOf(schema?.properties?.events?.items);
  return fc.oneof(
    { weight: 3, arbitrary: base.map(toJson) },
    { weight: 4, arbitrary: fromJsonSchema(schema, hostileString).map(toJson) },
    { weight: 6, arbitrary: nearMiss(base, keys).map(toJson) },
    ...(eventKeys.length > 0
      ? [
          {
            weight: 4,
            arbitrary: fc
              .array(
                fc.oneof(
                  fromJsonSchema(schema?.properties?.events?.items, hostileString),
                  nearMiss(fromJsonSchema(schema?.properties?.events?.items), eventKeys),
                ),
                { minLength: 1, maxLength: 3 },
              )
              .map((events) => toJson({ events })),
          },
        ]
      : []),
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map(toJson) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.constantFrom(64, 5_000, 100_000),
          fc.constantFrom("array", "object") as fc.Arbitrary<"array" | "object">,
          fc.boolean(),
        )
        .map(([depth, kind, proto]) => deeplyNested(depth, kind, proto)),
    },
    {
      weight: 1,
      arbitrary: fc
        .uint8Array({ minLength: 1, maxLength: 40 })
        .map((bytes) => Buffer.concat([Buffer.from('{"name":"'), Buffer.from(bytes), Buffer.from('"}')])),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 100 }).map((bytes) => Buffer.from(bytes)) },
    { weight: 1, arbitrary: fc.constantFrom("", "null", "{", '{"a":1}{"b":2}', '"\\u0000"', "\u0000") },
  );
}

const BAD_SEGMENTS = [
  "%",
  "%E0%A4%A",
  "%00",
  "%2e%2e",
  "..",
  "a%2Fb",
  "%C0%AF",
  "x".repeat(3000),
  "%F0%9F%99%82",
  "%20",
  "undefined",
  "null",
];

/** A value for a path parameter or wildcard: real ids, uuids, any text (encoded), malformed escapes. */
const pathSegment = fc.oneof(
  fc.constantFrom(...KNOWN_IDS),
  fc.uuid(),
  fc.string({ unit: "binary", maxLength: 30 }).map((s) => encodeURIComponent(s) || "x"),
  fc.constantFrom(...BAD_SEGMENTS),
);

const queryString = fc.oneof(
  { weight: 3, arbitrary: fc.constant("") },
  {
    weight: 2,
    arbitrary: fc
      .dictionary(fc.string({ maxLength: 10 }), fc.string({ unit: "binary", maxLength: 30 }), { maxKeys: 4 })
      .map((q) => `?${new URLSearchParams(q).toString()}`),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "?%",
      "?a=%E0%A4%A",
      "?a[b]=1&a[c]=2",
      "?__proto__[polluted]=1",
      "?constructor[prototype][polluted]=1",
      "?a=1&a=2&a=3",
      "?=&&=",
      `?q=${"x".repeat(4000)}`,
    ),
  },
);

type Credential = "none" | "customer" | "admin" | "metering" | "api-key" | "bad-bearer" | "bad-cookie";

const CREDENTIALS: Credential[] = [
  "none",
  "customer",
  "admin",
  "metering",
  "api-key",
  "bad-bearer",
  "bad-cookie",
];

/** The credential a route documents (its OpenAPI security), so most requests get past authentication. */
function preferredCredential(route: Route): Credential {
  if (route.path.startsWith("/api/auth/")) return "customer";
  const scheme = Object.keys(documentedOperations(route)[0]?.security?.[0] ?? {})[0];
  if (scheme === "meteringToken") return "metering";
  if (scheme === "apiKey") return "api-key";
  if (scheme === "session") return route.path.includes("/admin/") ? "admin" : "customer";
  return "none";
}

function credentialHeaders(route: Route, credential: Credential): Record<string, string> {
  // better-auth's own endpoints get the throwaway session (they may sign it out or change it).
  const isAuth = route.path.startsWith("/api/auth/");
  switch (credential) {
    case "none":
      return {};
    case "customer":
      return { cookie: isAuth ? throwawayCookie : customerCookie };
    case "admin":
      return { cookie: isAuth ? throwawayCookie : adminCookie };
    case "metering":
      return { authorization: `Bearer ${METERING_TOKEN}` };
    case "api-key":
      return { authorization: `Bearer ${apiKey}` };
    case "bad-bearer":
      // Latin-1 bytes arrive over HTTP; control characters do not (Node's parser refuses them, see below).
      return { authorization: "Bearer mk_live_\u00e9garbage\u00ff" };
    case "bad-cookie":
      return { cookie: "better-auth.session_token=%E0%A4%A.%%%; better-auth.session_token=x.y; =;;" };
    default: {
      const unreachable: never = credential;
      return unreachable;
    }
  }
}

function credentialFor(route: Route): fc.Arbitrary<Credential> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(preferredCredential(route)) },
    { weight: 1, arbitrary: fc.constantFrom(...CREDENTIALS) },
  );
}

/** Mostly the app's own origin (state changes need it), sometimes none or a foreign one. */
const originHeader = fc.oneof(
  { weight: 8, arbitrary: fc.constant<Record<string, string>>({ origin: TEST_ORIGIN }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Record<string, string>>(
      {},
      { origin: "https://evil.example" },
      { origin: "null" },
    ),
  },
);

const contentType = fc.constantFrom(
  ...Array<string>(12).fill("application/json"),
  "application/json; charset=utf-8",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/octet-stream",
  "application/json; charset=utf-16",
  "garbage",
  "",
);

function signed(body: string | Buffer): string {
  const timestamp = Math.floor(Date.now() / 1000);
  const mac = createHmac("sha256", WEBHOOK_SECRET).update(`${timestamp}.${body.toString()}`).digest("hex");
  return `t=${timestamp},v1=${mac}`;
}

const signatureHeader = fc.constantFrom("none", "garbage", "stale", "signed", "signed");

const REST_ROUTES = ROUTES.filter((route) => !route.path.startsWith("/trpc"));

describe("REST: every route of the server", () => {
  it("enumerates the routes from the server", () => {
    const paths = ROUTES.map((route) => route.path);
    for (const expected of [
      "/api/auth/*",
      "/api/auth/sign-in/email",
      "/api/v1/usage/calls",
      "/api/v1/calls/authorize",
      "/api/webhooks/stripe",
      "/api/subscriptions/user/actions",
      "/api/v1/subscription",
      "/api/v1/accounts/:account_id/usage",
    ]) {
      expect(paths).toContain(expected);
    }
  });

  for (const route of REST_ROUTES) {
    for (const method of route.methods.filter((m) => m !== "HEAD")) {
      const takesBody = method !== "GET" && method !== "OPTIONS";
      const schema = takesBody ? bodySchemaOf(route) : undefined;
      const secured = (documentedOperations(route)[0]?.security ?? []).length > 0;
      it(`${method} ${route.path} answers 2xx/4xx with a clear error`, async () => {
        const wildcard = route.path.startsWith("/api/auth/")
          ? fc.oneof(fc.constantFrom(...BETTER_AUTH_PATHS), pathSegment)
          : fc.oneof(
              pathSegment,
              fc.constantFrom("index.html", "../../package.json", "%2e%2e/%2e%2e/package.json"),
            );
        await fuzz(
          fc.tuple(
            fc.array(pathSegment, { minLength: 3, maxLength: 3 }),
            wildcard,
            queryString,
            fc.tuple(credentialFor(route), originHeader),
            takesBody ? jsonBody(schema) : fc.constant(undefined),
            contentType,
            signatureHeader,
          ),
          async ([params, tail, query, [who, origin], body, type, signature]) => {
            let index = 0;
            const path = route.path
              .replace(/:\w+/g, () => params[index++ % params.length] ?? "x")
              .replace("*", tail);
            const headers: Record<string, string> = { ...credentialHeaders(route, who), ...origin };
            if (body !== undefined && type) headers["content-type"] = type;
            if (route.path === "/api/webhooks/stripe" && body !== undefined) {
              if (signature === "garbage") headers["stripe-signature"] = "t=1,v1=deadbeef,v0=\u00ff";
              if (signature === "stale") headers["stripe-signature"] = "t=1000000000,v1=00";
              if (signature === "signed") headers["stripe-signature"] = signed(body);
            }
            const request: InjectOptions = {
              method: method as InjectOptions["method"],
              url: `${path}${query}`,
              headers,
              ...(body === undefined ? {} : { payload: body }),
            };
            const response = await send(
              request,
              `${method} ${route.path}`,
              !route.path.startsWith("/api/auth/"),
            );
            // Nothing protected answers without valid credentials; no unsigned webhook is accepted.
            const anonymous = who === "none" || who === "bad-bearer" || who === "bad-cookie";
            if (secured && anonymous && response.statusCode < 400) {
              throw new Error(
                `answered ${response.statusCode} without credentials\n${describeRequest(request)}`,
              );
            }
            const unsigned = route.path === "/api/webhooks/stripe" && signature !== "signed";
            if (unsigned && response.statusCode !== 400 && response.statusCode !== 415) {
              throw new Error(`an unsigned webhook got ${response.statusCode}\n${describeRequest(request)}`);
            }
          },
          // The webhook stores whatever a signed body holds: it gets the most inputs.
          route.path === "/api/webhooks/stripe" ? RUNS * 15 : RUNS * 3,
        );
      });
    }
  }
});

// ---------------------------------------------------------------------------------------------------------
// Limits, over a real socket: app.inject bypasses Node's HTTP parser and streams nothing.

interface RawAnswer {
  status: number;
  body: string;
  /** Body bytes written before the server answered or closed the connection. */
  bytesSent: number;
}

/**
 * Sends a request head and then up to `body.total` bytes of body in chunks (stopping as soon as the server
 * answers or closes), and reads the answer.
 */
async function rawRequest(
  port: number,
  head: string,
  body?: { total: number; chunk: Buffer; chunked?: boolean },
): Promise<RawAnswer> {
  const socket = connect({ host: "127.0.0.1", port });
  let received = Buffer.alloc(0);
  let bytesSent = 0;
  let answer: RawAnswer | null = null;
  const settled = new Promise<void>((resolve) => {
    const finish = () => {
      if (!answer) answer = parseAnswer(received, bytesSent) ?? { status: 0, body: "", bytesSent };
      resolve();
    };
    socket.on("data", (data: Buffer) => {
      received = Buffer.concat([received, data]);
      const parsed = parseAnswer(received, bytesSent);
      if (parsed) {
        answer = parsed;
        finish();
      }
    });
    socket.on("close", finish);
    socket.on("error", finish); // EPIPE / ECONNRESET once the server has hung up
  });
  await once(socket, "connect");
  socket.write(head);
  if (body) {
    const frame = body.chunked
      ? Buffer.concat([Buffer.from(`${body.chunk.length.toString(16)}\r\n`), body.chunk, Buffer.from("\r\n")])
      : body.chunk;
    while (bytesSent < body.total && !answer && !socket.destroyed) {
      const piece = body.chunked ? frame : frame.subarray(0, Math.min(frame.length, body.total - bytesSent));
      bytesSent += body.chunked ? body.chunk.length : piece.length;
      if (!socket.write(piece)) await Promise.race([once(socket, "drain"), settled]);
    }
    if (body.chunked && !answer && !socket.destroyed) socket.write("0\r\n\r\n");
  }
  // A server that read everything and still waits for the announced rest would hang the test: the whole
  // body is out, so an answer is due now; a generous deadline turns silence into a failure.
  const deadline = setTimeout(() => socket.destroy(), 30_000);
  await settled;
  clearTimeout(deadline);
  socket.destroy();
  return answer ?? { status: 0, body: "", bytesSent };
}

/** A complete HTTP/1.1 answer (status line, headers, Content-Length body) in `data`, or null. */
function parseAnswer(data: Buffer, bytesSent: number): RawAnswer | null {
  const text = data.toString("latin1");
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return null;
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
  const body = data.subarray(end + 4);
  if (body.length < length) return null;
  return { status, body: body.subarray(0, length).toString("utf8"), bytesSent };
}

/** A JSON document of exactly `size` bytes. */
function jsonOfSize(size: number): Buffer {
  const frame = '{"pad":""}';
  return Buffer.from(`{"pad":"${"x".repeat(Math.max(0, size - frame.length))}"}`);
}

const MUTATION = PROCEDURES.find((p) => p.prefix === "/trpc" && p.type === "mutation")?.path ?? "x";

/** Every route that takes a body, with a concrete URL. */
const BODY_ROUTES = ROUTES.filter((route) => route.methods.includes("POST")).map((route) => ({
  route,
  url: route.path.replace(":path", MUTATION).replace(/:\w+/g, "x").replace("*", "fuzz"),
}));

describe("limits", () => {
  let port = 0;
  const headers = (url: string, extra: string) =>
    `POST ${url} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\norigin: ${TEST_ORIGIN}\r\n` +
    `authorization: Bearer ${METERING_TOKEN}\r\n${extra}\r\n`;

  beforeAll(async () => {
    await app.listen({ host: "127.0.0.1", port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });

  it("covers every route that takes a body", () => {
    expect(BODY_ROUTES.map((r) => r.url)).toEqual(
      expect.arrayContaining(["/api/v1/usage/calls", "/api/webhooks/stripe", `/trpc/${MUTATION}`]),
    );
  });

  for (const { route, url } of BODY_ROUTES) {
    it(`POST ${route.path}: a body over its limit is a 413 naming the limit, refused before it is read`, async () => {
      const STREAM = 64 * 1024 * 1024;
      const chunk = Buffer.alloc(64 * 1024, "x");
      // Announced as 1 GiB, streamed until the server answers: it must answer without reading it.
      const announced = await rawRequest(port, headers(url, "content-length: 1073741824\r\n"), {
        total: STREAM,
        chunk,
      });
      expect(announced.status, announced.body).toBe(413);
      expect(announced.bytesSent).toBeLessThan(STREAM);
      const limit = Number(/ (\d+) bytes/.exec(JSON.parse(announced.body).message)?.[1]);
      expect(JSON.parse(announced.body)).toMatchObject({ error: "payload_too_large" });
      expect(limit).toBeGreaterThan(0);
      expect(limit).toBeLessThanOrEqual(8 * 1024 * 1024);

      // Streamed without a length: refused once the limit is passed, the rest not read.
      const streamed = await rawRequest(port, headers(url, "transfer-encoding: chunked\r\n"), {
        total: STREAM,
        chunk,
        chunked: true,
      });
      expect(streamed.status, streamed.body).toBe(413);
      expect(streamed.bytesSent).toBeLessThan(STREAM);

      // The limit is exact: one byte over is refused, a body of exactly the limit is read.
      const over = jsonOfSize(limit + 1);
      const justOver = await rawRequest(port, headers(url, `content-length: ${over.length}\r\n`), {
        total: over.length,
        chunk: over,
      });
      expect(justOver.status, justOver.body).toBe(413);
      const at = jsonOfSize(limit);
      const atLimit = await rawRequest(port, headers(url, `content-length: ${at.length}\r\n`), {
        total: at.length,
        chunk: at,
      });
      expect(atLimit.status, atLimit.body).not.toBe(413);
      expect(atLimit.status).toBeGreaterThanOrEqual(200);
      expect(atLimit.status).toBeLessThan(500);
    });
  }

  it("refuses bodies tRPC would read unbounded (multipart) before reading them", async () => {
    const STREAM = 64 * 1024 * 1024;
    // Signed in, so nothing but the body decides.
    for (const [prefix, cookie] of [
      ["/trpc", customerCookie],
      ["/trpc/admin", adminCookie],
    ] as const) {
      const path = PROCEDURES.find((p) => p.prefix === prefix && p.type === "mutation")?.path ?? "x";
      const answer = await rawRequest(
        port,
        `POST ${prefix}/${path} HTTP/1.1\r\nhost: 127.0.0.1\r\norigin: ${TEST_ORIGIN}\r\ncookie: ${cookie}\r\n` +
          "content-type: multipart/form-data; boundary=x\r\ntransfer-encoding: chunked\r\n\r\n",
        { total: STREAM, chunk: Buffer.alloc(64 * 1024, "x"), chunked: true },
      );
      expect(answer.bytesSent, `${answer.status} ${answer.body}`).toBeLessThan(STREAM);
      expect(answer.status, answer.body).toBe(415);
      expect(JSON.parse(answer.body).message).toMatch(/application\/json/);
    }
  });

  it("answers a huge ?input=, a huge header, an over-long path segment and a NUL in a header with a 4xx", async () => {
    const get = (target: string, extra = "") =>
      rawRequest(port, `GET ${target} HTTP/1.1\r\nhost: 127.0.0.1\r\n${extra}\r\n`);
    const hugeInput = await get(
      `/trpc/catalog.list?input=${encodeURIComponent(`{"json":"${"x".repeat(100_000)}"}`)}`,
    );
    const hugeHeader = await get("/health", `x-fuzz: ${"x".repeat(100_000)}\r\n`);
    const manyCookies = await get("/trpc/auth.me", `cookie: ${"a=b; ".repeat(20_000)}\r\n`);
    const longSegment = await get(
      `/api/v1/accounts/${"x".repeat(6_000)}/usage`,
      `authorization: Bearer ${METERING_TOKEN}\r\n`,
    );
    const nulInHeader = await get("/trpc/auth.me", "x-fuzz: a\u0000b\r\n");
    for (const answer of [hugeInput, hugeHeader, manyCookies, longSegment, nulInHeader]) {
      expect(answer.status, answer.body).toBeGreaterThanOrEqual(400);
      expect(answer.status, answer.body).toBeLessThan(500);
    }
    expect([hugeInput.status, hugeHeader.status, manyCookies.status]).toEqual([431, 431, 431]);
    expect(longSegment.status).toBe(414);
    expect(JSON.parse(longSegment.body)).toMatchObject({ error: "uri_too_long" });

    // Just under Node's 16 KiB header limit the input reaches tRPC, which refuses it properly.
    const bigInput = await get(
      `/trpc/catalog.list?input=${encodeURIComponent(deeplyNested(2_000, "array", false))}`,
    );
    expect(bigInput.status, bigInput.body).toBe(400);
    expect(JSON.parse(bigInput.body).message).toMatch(/nests deeper/);
  });
});
