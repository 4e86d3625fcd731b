import { randomUUID } from "node:crypto";
import { integrationView } from "@minutely/api";
import { testPorts } from "@minutely/api/testing";
import { testDatabase } from "@minutely/db/vitest";
import { meteringExample } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import Fastify from "fastify";
import { afterAll, describe, expect, it } from "vitest";
import { registerErrorHandler, registerJsonBodyParser } from "../rest.ts";
import { buildTestServer, TEST_ORIGIN } from "../testing.ts";
import { meteringTokenMatches, registerMeteringRoutes } from "./metering.ts";

const { db } = await testDatabase();
const app = await buildTestServer(db, { METERING_API_TOKEN: "test-metering-token-0123456789" });
afterAll(() => app.close());

const auth = { authorization: "Bearer test-metering-token-0123456789" };

async function subscribedAccount(plan: "Starter" | "Pro" = "Pro") {
  const account = await db.account.create({ data: { name: "Caller Co" } });
  const pkg = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: plan } });
  await db.subscription.create({
    data: {
      accountId: account.id,
      planId: pkg.id,
      stripePriceId: `price_http_${account.id}`,
      stripeSubscriptionId: `sub_http_${account.id}`,
      status: "active",
      currentPeriodStart: new Date("2026-11-01T00:00:00Z"),
      currentPeriodEnd: new Date("2026-12-01T00:00:00Z"),
      createdAt: new Date("2026-10-01T00:00:00Z"), // subscribed a period earlier
    },
  });
  const agent = await db.agent.create({ data: { accountId: account.id, name: "Reception" } });
  return { accountId: account.id, agentId: agent.id };
}

function postUsage(payload: unknown, headers: Record<string, string> = auth) {
  return app.inject({ method: "POST", url: "/api/v1/usage/calls", headers, payload: payload as object });
}

function event(accountId: string, overrides: Record<string, unknown> = {}) {
  return {
    call_id: `http-${Math.random().toString(36).slice(2)}`,
    account_id: accountId,
    direction: "inbound",
    started_at: "2026-11-20T10:00:00Z",
    duration_seconds: 61,
    ...overrides,
  };
}

describe("metering API authentication", () => {
  it.each([
    ["no header", {}],
    ["a wrong token", { authorization: "Bearer wrong-token" }],
    ["the token without the Bearer scheme", { authorization: "test-metering-token-0123456789" }],
    [
      "a session cookie (from a trusted origin)",
      { cookie: "better-auth.session_token=abc", origin: TEST_ORIGIN },
    ],
  ])("answers 401 to %s, recording nothing", async (_label, headers) => {
    const { accountId } = await subscribedAccount();
    for (const request of [
      { method: "POST" as const, url: "/api/v1/usage/calls", payload: { events: [event(accountId)] } },
      {
        method: "POST" as const,
        url: "/api/v1/calls/authorize",
        payload: { call_id: "c1", account_id: accountId, agent_id: accountId, direction: "inbound" },
      },
      { method: "GET" as const, url: `/api/v1/accounts/${accountId}/usage` },
    ]) {
      const response = await app.inject({ ...request, headers });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({
        error: "unauthorized",
        message: expect.stringMatching(/Bearer/),
      });
    }
    expect(await db.usageEvent.count({ where: { accountId } })).toBe(0);
  });

  it("compares tokens exactly", () => {
    expect(meteringTokenMatches("Bearer abc", "abc")).toBe(true);
    expect(meteringTokenMatches("bearer abc", "abc")).toBe(true);
    expect(meteringTokenMatches("Bearer abcd", "abc")).toBe(false);
    expect(meteringTokenMatches("Bearer ab", "abc")).toBe(false);
    expect(meteringTokenMatches(undefined, "abc")).toBe(false);
    expect(meteringTokenMatches("Basic abc", "abc")).toBe(false);
  });
});

describe("POST /api/v1/usage/calls", () => {
  it("answers per event: accepted, duplicate or rejected with a reason", async () => {
    const { accountId, agentId } = await subscribedAccount();
    const first = event(accountId, { agent_id: agentId });
    const response = await postUsage({
      events: [
        first,
        event(accountId, {
          started_at: "2026-10-31T23:00:00Z",
          duration_seconds: undefined,
          ended_at: "2026-10-31T23:10:00.5Z",
        }),
        { ...first },
        event("4b3c9a8e-1d2f-4a5b-8c7d-6e5f4a3b2c1d"),
        event(accountId, { agent_id: "4b3c9a8e-1d2f-4a5b-8c7d-6e5f4a3b2c1d" }),
        event(accountId, { started_at: "2026-11-27T12:30:00Z" }),
      ],
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      accepted: 2,
      duplicates: 1,
      rejected: 3,
      late: 1,
      results: [
        {
          call_id: first.call_id,
          status: "accepted",
          billable_minutes: 2,
          duration_seconds: 61,
          period_start: "2026-11-01T00:00:00.000Z",
          late: false,
        },
        expect.objectContaining({
          status: "accepted",
          billable_minutes: 11,
          duration_seconds: 601,
          period_start: "2026-10-01T00:00:00.000Z",
          late: true,
        }),
        { call_id: first.call_id, status: "duplicate" },
        expect.objectContaining({ status: "rejected", reason: "unknown_account" }),
        expect.objectContaining({ status: "rejected", reason: "unknown_agent" }),
        expect.objectContaining({
          status: "rejected",
          reason: "started_in_future",
          message: expect.any(String),
        }),
      ],
    });
    const again = await postUsage({ events: [first] });
    expect(again.json().results).toEqual([{ call_id: first.call_id, status: "duplicate" }]);

    const usage = await app.inject({
      method: "GET",
      url: `/api/v1/accounts/${accountId}/usage`,
      headers: auth,
    });
    expect(usage.statusCode).toBe(200);
    expect(usage.json()).toMatchObject({
      minutes_used: 2,
      minutes_limit: 3000,
      minutes_remaining: 2998,
      usage_percentage: 0.1,
      period_start: "2026-11-01T00:00:00.000Z",
      period_end: "2026-12-01T00:00:00.000Z",
      overage_policy: "billed",
    });
    const daily = await app.inject({
      method: "GET",
      url: `/api/v1/accounts/${accountId}/usage/daily`,
      headers: auth,
    });
    expect(daily.json().days).toHaveLength(30);
    expect(daily.json().days[19]).toEqual({
      day: "2026-11-20",
      minutes: 2,
      calls: 1,
      inbound_minutes: 2,
      outbound_minutes: 0,
    });
    const agents = await app.inject({
      method: "GET",
      url: `/api/v1/accounts/${accountId}/usage/agents`,
      headers: auth,
    });
    expect(agents.json().agents).toEqual([
      { agent_id: agentId, name: "Reception", active: true, minutes: 2, calls: 1 },
    ]);
  });

  it.each([
    ["an empty list", { events: [] }, "events", /at least one/],
    ["1001 events", { events: Array.from({ length: 1001 }, () => ({})) }, "events", /at most 1000/],
    ["no events field", {}, "events", /list of call events/],
    ["a bad direction", { events: [{ direction: "sideways" }] }, "events.0.direction", /inbound/],
    [
      "ended_at before started_at",
      { events: [{ ended_at: "2026-11-20T09:59:00Z", duration_seconds: undefined }] },
      "events.0.ended_at",
      /before started_at/,
    ],
    [
      "neither ended_at nor a duration",
      { events: [{ duration_seconds: undefined }] },
      "events.0.ended_at",
      /duration_seconds/,
    ],
    ["a negative duration", { events: [{ duration_seconds: -1 }] }, "events.0.duration_seconds", /negative/],
    ["a malformed timestamp", { events: [{ started_at: "yesterday" }] }, "events.0.started_at", /ISO 8601/],
  ])("answers 400 naming the field for %s, recording nothing", async (_label, body, field, message) => {
    const { accountId } = await subscribedAccount();
    const events = (body as { events?: Record<string, unknown>[] }).events;
    const payload =
      events && events.length > 0 && events.length <= 1000
        ? { events: events.map((overrides) => event(accountId, overrides)) }
        : body;
    const response = await postUsage(payload);
    expect(response.statusCode).toBe(400);
    const json = response.json();
    expect(json.error).toBe("validation_error");
    expect(json.fields?.[field]).toMatch(message);
    expect(json.message).toContain(field);
    expect(await db.usageEvent.count({ where: { accountId } })).toBe(0);
  });

  it("answers 400, not 500, to a call_id holding half a surrogate pair, recording nothing", async () => {
    const { accountId } = await subscribedAccount();
    const response = await postUsage({ events: [event(accountId, { call_id: "call-\ud800" })] });
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toMatch(/unpaired surrogate/);
    expect(await db.usageEvent.count({ where: { accountId } })).toBe(0);
  });

  it("refuses a body that is not valid UTF-8, so two ids differing in an invalid byte never merge", async () => {
    const { accountId } = await subscribedAccount();
    for (const byte of [0xff, 0xfe, 0xc0]) {
      const json = Buffer.from(JSON.stringify({ events: [event(accountId, { call_id: "utf-X" })] }));
      const at = json.indexOf("utf-X") + 4;
      json[at] = byte;
      const response = await app.inject({
        method: "POST",
        url: "/api/v1/usage/calls",
        headers: { ...auth, "content-type": "application/json" },
        payload: json,
      });
      expect(response.statusCode, `byte 0x${byte.toString(16)}`).toBe(400);
      expect(response.json().message).toMatch(/not valid UTF-8/);
    }
    expect(await db.usageEvent.count({ where: { accountId } })).toBe(0);
    // The replacement character itself, sent as UTF-8, is an ordinary character.
    const ok = await postUsage({ events: [event(accountId, { call_id: "utf-\ufffd" })] });
    expect(ok.statusCode).toBe(200);
  });

  it("bills a call timed finer than a millisecond by its real duration, fractions of a second rounding up", async () => {
    // Found by the attack on grouped batches: JavaScript dates keep milliseconds, and the digits beyond were
    // dropped, so a call of 60.0008 s (more than a minute: 2 billable) was billed as 60 s (1 minute).
    const { accountId } = await subscribedAccount();
    const timed = (call_id: string, started_at: string, ended_at: string) =>
      event(accountId, { call_id, started_at, ended_at, duration_seconds: undefined });
    const response = await postUsage({
      events: [
        timed("sub-ms-1", "2026-11-20T10:00:00.0001Z", "2026-11-20T10:01:00.0009Z"),
        timed("sub-ms-2", "2026-11-20T10:00:00.123456789Z", "2026-11-20T10:00:00.12345679Z"),
        timed("sub-ms-3", "2026-11-20T10:00:00.0009Z", "2026-11-20T10:01:00.0001Z"),
        timed("sub-ms-4", "2026-11-20T12:00:00.5+02:00", "2026-11-20T10:01:00.5000001Z"),
      ],
    });
    expect(response.statusCode).toBe(200);
    expect(
      response
        .json()
        .results.map((r: { duration_seconds: number; billable_minutes: number }) => [
          r.duration_seconds,
          r.billable_minutes,
        ]),
    ).toEqual([
      [61, 2],
      [1, 1],
      [60, 1],
      [61, 2],
    ]);
    // Ended before it started, by less than a millisecond: refused like any other.
    const backwards = await postUsage({
      events: [timed("sub-ms-5", "2026-11-20T10:00:00.1235Z", "2026-11-20T10:00:00.1234Z")],
    });
    expect(backwards.statusCode).toBe(400);
    expect(backwards.json().fields?.["events.0.ended_at"]).toMatch(/before started_at/);
  });

  it("answers 400, not 500, to a body that is not JSON", async () => {
    const response = await app.inject({
      method: "POST",
      url: "/api/v1/usage/calls",
      headers: { ...auth, "content-type": "application/json" },
      payload: "{not json",
    });
    expect(response.statusCode).toBe(400);
  });
});

describe("the customer app's example request (Integration page)", () => {
  /** The JSON between the single quotes after -d, as a shell would pass it. */
  function curlBody(curl: string): string {
    const match = /-d '((?:[^']|'\\'')*)'$/.exec(curl);
    if (!match?.[1]) throw new Error(`no body in ${curl}`);
    return match[1].replaceAll("'\\''", "'");
  }

  it.each([
    ["an account that subscribed a period ago", null],
    ["an account that subscribed 30 seconds ago", 30_000],
  ])("is accepted by the real route, as the page shows it, for %s", async (_label, subscribedAgoMs) => {
    const { accountId, agentId } = await subscribedAccount("Starter");
    if (subscribedAgoMs !== null) {
      // The test clock's now is 2026-11-27T12:00:00Z: a call starting 95 s ago would be before_subscription.
      await db.subscription.updateMany({
        where: { accountId },
        data: {
          currentPeriodStart: new Date(Date.parse("2026-11-27T12:00:00Z") - subscribedAgoMs),
          currentPeriodEnd: new Date("2026-12-27T12:00:00Z"),
          createdAt: new Date(Date.parse("2026-11-27T12:00:00Z") - subscribedAgoMs),
        },
      });
    }
    // What the page reads (integration.get) and builds the example from, with the function the page uses.
    const view = await integrationView(
      testPorts(db, { stripeApiBase: stripeEmulatorUrl(), publicUrl: TEST_ORIGIN }),
      accountId,
    );
    expect(view.agents.map((a) => a.id)).toEqual([agentId]);
    const example = meteringExample({
      baseUrl: view.apiBaseUrl,
      accountId: view.account.id,
      agentId: view.agents[0]?.id ?? null,
      callId: `example-${randomUUID()}`,
      now: view.now,
      notBefore: view.subscribedSince,
    });
    expect(example.curl).toContain(`'${TEST_ORIGIN}/api/v1/usage/calls'`);
    expect(example.curl).toContain('"Authorization: Bearer $METERING_API_TOKEN"');
    expect(example.curl).not.toContain("test-metering-token");

    const response = await app.inject({
      method: "POST",
      url: new URL(example.url).pathname,
      headers: { ...auth, "content-type": "application/json" },
      payload: curlBody(example.curl),
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({
      accepted: 1,
      rejected: 0,
      late: 0,
      results: [{ call_id: example.body.events[0].call_id, status: "accepted", billable_minutes: 2 }],
    });
    const recorded = await db.usageEvent.findFirstOrThrow({ where: { accountId } });
    expect(recorded).toMatchObject({ agentId, direction: "outbound", durationSeconds: 95 });
  });
});

describe("POST /api/v1/calls/authorize", () => {
  it("allows and reserves, repeats the same answer for the same call, and denies at a hard cap", async () => {
    const { accountId, agentId } = await subscribedAccount("Starter");
    const authorize = (callId: string, direction = "outbound") =>
      app.inject({
        method: "POST",
        url: "/api/v1/calls/authorize",
        headers: auth,
        payload: { call_id: callId, account_id: accountId, agent_id: agentId, direction },
      });
    const allowed = await authorize("auth-1");
    expect(allowed.statusCode).toBe(200);
    expect(allowed.json()).toEqual({
      decision: "allow",
      call_id: "auth-1",
      reserved_minutes: 5,
      expires_at: "2026-11-27T12:30:00.000Z",
      over_cap: false,
      replayed: false,
      max_duration_seconds: 1000 * 60,
    });
    expect((await authorize("auth-1")).json()).toMatchObject({ decision: "allow", replayed: true });

    await postUsage({ events: [event(accountId, { duration_seconds: 995 * 60, direction: "outbound" })] });
    expect((await authorize("auth-2")).json()).toMatchObject({
      decision: "deny",
      call_id: "auth-2",
      reason: "minutes_exhausted",
      message: expect.stringMatching(/used up/),
    });
    expect((await authorize("auth-3", "inbound")).json()).toMatchObject({
      decision: "allow",
      over_cap: true,
    });
  });

  it("denies unknown accounts and agents, and answers 400 naming the field for a bad body", async () => {
    const { accountId } = await subscribedAccount();
    const unknown = await app.inject({
      method: "POST",
      url: "/api/v1/calls/authorize",
      headers: auth,
      payload: { call_id: "x", account_id: accountId, agent_id: "nope", direction: "inbound" },
    });
    expect(unknown.json()).toMatchObject({ decision: "deny", reason: "unknown_agent" });
    const bad = await app.inject({
      method: "POST",
      url: "/api/v1/calls/authorize",
      headers: auth,
      payload: { call_id: "x", account_id: accountId, direction: "both" },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().fields).toMatchObject({ agent_id: expect.any(String), direction: expect.any(String) });
  });
});

describe("usage reads", () => {
  it("answer 404 for an unknown account and 412 for an account without a subscription", async () => {
    const missing = await app.inject({
      method: "GET",
      url: "/api/v1/accounts/4b3c9a8e-1d2f-4a5b-8c7d-6e5f4a3b2c1d/usage",
      headers: auth,
    });
    expect(missing.statusCode).toBe(404);
    const notAnId = await app.inject({ method: "GET", url: "/api/v1/accounts/nope/usage", headers: auth });
    expect(notAnId.statusCode).toBe(400);
    expect(notAnId.json().fields).toHaveProperty("account_id");
    const account = await db.account.create({ data: { name: "No plan" } });
    const unsubscribed = await app.inject({
      method: "GET",
      url: `/api/v1/accounts/${account.id}/usage`,
      headers: auth,
    });
    expect(unsubscribed.statusCode).toBe(412);
  });

  it("are described in the OpenAPI document", async () => {
    const doc = (await app.inject({ method: "GET", url: "/api/openapi.json" })).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/api/v1/usage/calls",
        "/api/v1/calls/authorize",
        "/api/v1/accounts/{account_id}/usage",
        "/api/v1/accounts/{account_id}/usage/daily",
        "/api/v1/accounts/{account_id}/usage/agents",
      ]),
    );
    expect(doc.paths["/api/v1/usage/calls"].post.description).toMatch(/per started minute/);
  });
});

describe("an account whose subscription ended", () => {
  it("has its later calls refused as no_active_subscription, as authorize denies them, and no period after the end", async () => {
    const { accountId, agentId } = await subscribedAccount("Pro");
    // Cancelled at the end of a period that ended two hours before the test clock (2026-11-27T12:00Z).
    const end = new Date("2026-11-27T10:00:00Z");
    const start = new Date("2026-10-27T10:00:00Z");
    await db.subscription.updateMany({
      where: { accountId },
      data: {
        status: "canceled",
        currentPeriodStart: start,
        currentPeriodEnd: end,
        createdAt: start,
        canceledAt: start,
        endedAt: end,
      },
    });
    const startedAfterEnd = new Date(end.getTime() + 33 * 60_000).toISOString();
    const response = await postUsage({
      events: [1, 2, 3].map(() =>
        event(accountId, { started_at: startedAfterEnd, duration_seconds: 86_400 }),
      ),
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ accepted: 0, rejected: 3 });
    for (const result of response.json().results) {
      expect(result).toMatchObject({ status: "rejected", reason: "no_active_subscription" });
    }
    const authorize = await app.inject({
      method: "POST",
      url: "/api/v1/calls/authorize",
      headers: auth,
      payload: { call_id: "after-end", account_id: accountId, agent_id: agentId, direction: "inbound" },
    });
    expect(authorize.json()).toMatchObject({ decision: "deny", reason: "no_active_subscription" });
    expect(await db.usagePeriodRollup.count({ where: { accountId } })).toBe(0);

    const usage = await app.inject({
      method: "GET",
      url: `/api/v1/accounts/${accountId}/usage`,
      headers: auth,
    });
    expect(usage.json()).toMatchObject({
      active: false,
      subscription_status: "canceled",
      minutes_used: 0,
      period_start: start.toISOString(),
      period_end: end.toISOString(),
    });
  });
});

describe("wrong JSON types in metering bodies", () => {
  // Every field of every metering body, with the wrong types a careless client sends. None is coerced: each
  // is a 400 naming the field, and nothing is recorded or reserved. (agent_id: null is a valid usage event
  // field, "no agent"; ended_at and duration_seconds are optional one at a time, agent_id too.)
  const wrongTypes = (right: "string" | "number"): [string, unknown][] => [
    ["null", null],
    right === "string" ? ["a number", 12345] : ["a numeric string", "60"],
    ["a boolean", true],
    ["an array", right === "string" ? ["x"] : [60]],
    ["an object", { value: right === "string" ? "x" : 60 }],
  ];
  const usageFields = {
    call_id: { right: "string", required: true },
    account_id: { right: "string", required: true },
    agent_id: { right: "string", required: false, nullable: true },
    direction: { right: "string", required: true },
    started_at: { right: "string", required: true },
    ended_at: { right: "string", required: false },
    duration_seconds: { right: "number", required: false },
  } as const;
  const usageCases: [string, string, unknown][] = [];
  for (const [field, spec] of Object.entries(usageFields)) {
    for (const [label, value] of wrongTypes(spec.right)) {
      if (value === null && "nullable" in spec) continue;
      usageCases.push([field, label, value]);
    }
    if (spec.required) usageCases.push([field, "missing", undefined]);
  }

  it.each(usageCases)(
    "POST /usage/calls: %s as %s is a 400 naming it, single and batched",
    async (field, _label, value) => {
      const { accountId, agentId } = await subscribedAccount();
      const wrong = (index: number) => {
        const base: Record<string, unknown> = event(accountId, {
          agent_id: agentId,
          call_id: `types-${field}-${index}`,
        });
        // ended_at is checked with duration_seconds away (one of them, not both).
        if (field === "ended_at") delete base.duration_seconds;
        if (value === undefined) delete base[field];
        else base[field] = value;
        return base;
      };
      for (const [events, path] of [
        [[wrong(0)], `events.0.${field}`],
        [[event(accountId), event(accountId), wrong(2)], `events.2.${field}`],
      ] as const) {
        const response = await postUsage({ events });
        expect(response.statusCode).toBe(400);
        expect(response.json().error).toBe("validation_error");
        expect(response.json().fields).toHaveProperty([path]);
      }
      expect(await db.usageEvent.count({ where: { accountId } })).toBe(0);
      expect(await db.usagePeriodRollup.count({ where: { accountId } })).toBe(0);
    },
  );

  it("are refused by the routes themselves, even on a server whose ajv coerces types (Fastify's default)", async () => {
    // Fastify's defaults: coerceTypes "array", removeAdditional true. The routes do not rely on the
    // server's settings: they judge a copy of the body taken before Fastify's validation.
    const coercing = Fastify();
    registerErrorHandler(coercing);
    registerJsonBodyParser(coercing);
    await registerMeteringRoutes(coercing, {
      ...testPorts(db, { stripeApiBase: stripeEmulatorUrl() }),
      config: { meteringApiToken: "test-metering-token-0123456789" },
    });
    await coercing.ready();
    try {
      const { accountId, agentId } = await subscribedAccount();
      for (const [field, value] of [
        ["duration_seconds", null],
        ["duration_seconds", "60"],
        ["duration_seconds", [60]],
        ["duration_seconds", true],
        ["call_id", 12345],
        ["direction", ["outbound"]],
      ] as const) {
        const response = await coercing.inject({
          method: "POST",
          url: "/api/v1/usage/calls",
          headers: auth,
          payload: { events: [{ ...event(accountId), [field]: value }] },
        });
        expect(response.statusCode, `${field}: ${JSON.stringify(value)}`).toBe(400);
        expect(response.json().fields).toHaveProperty([`events.0.${field}`]);
      }
      const authorize = await coercing.inject({
        method: "POST",
        url: "/api/v1/calls/authorize",
        headers: auth,
        payload: { call_id: 42, account_id: accountId, agent_id: agentId, direction: "outbound" },
      });
      expect(authorize.statusCode).toBe(400);
      expect(authorize.json().fields).toHaveProperty(["call_id"]);
      expect(await db.usageEvent.count({ where: { accountId } })).toBe(0);
      expect(await db.callReservation.count({ where: { accountId } })).toBe(0);
    } finally {
      await coercing.close();
    }
  });

  it("POST /usage/calls: duration_seconds null is refused, so the real report of the call is still counted", async () => {
    const { accountId } = await subscribedAccount();
    const careless = event(accountId, { duration_seconds: null });
    expect((await postUsage({ events: [careless] })).statusCode).toBe(400);
    const real = await postUsage({ events: [{ ...careless, duration_seconds: 600 }] });
    expect(real.json().results).toEqual([
      expect.objectContaining({ status: "accepted", billable_minutes: 10 }),
    ]);
  });

  it.each([["events", [null, "a string", true, { call_id: "x" }, 1]]] as const)(
    "POST /usage/calls: %s of a wrong type is a 400 naming it",
    async (field, values) => {
      for (const value of values) {
        const response = await postUsage({ [field]: value });
        expect(response.statusCode).toBe(400);
        expect(response.json().fields).toHaveProperty([field]);
      }
    },
  );

  it("POST /usage/calls: an id of the wrong type says so (not that it is missing)", async () => {
    const { accountId } = await subscribedAccount();
    const numeric = await postUsage({ events: [{ ...event(accountId), call_id: 12345 }] });
    expect(numeric.statusCode).toBe(400);
    expect(numeric.json().fields["events.0.call_id"]).toBe("must be a string");
    const { call_id: _omitted, ...withoutId } = event(accountId);
    const missing = await postUsage({ events: [withoutId] });
    expect(missing.json().fields["events.0.call_id"]).toBe("is required");
  });

  it("POST /usage/calls: an unknown field, in the body or in an event, is a 400 naming it", async () => {
    const { accountId } = await subscribedAccount();
    const inEvent = await postUsage({ events: [event(accountId), { ...event(accountId), duration: 60 }] });
    expect(inEvent.statusCode).toBe(400);
    expect(inEvent.json().fields).toHaveProperty(["events.1.duration"]);
    const inBody = await postUsage({ events: [event(accountId)], dry_run: true });
    expect(inBody.statusCode).toBe(400);
    expect(inBody.json().fields).toHaveProperty(["dry_run"]);
    for (const body of [null, [], "events", 1, true]) {
      const response = await app.inject({
        method: "POST",
        url: "/api/v1/usage/calls",
        headers: { ...auth, "content-type": "application/json" },
        payload: JSON.stringify(body),
      });
      expect(response.statusCode).toBe(400);
    }
    expect(await db.usageEvent.count({ where: { accountId } })).toBe(0);
  });

  const authorizeCases: [string, string, unknown][] = [];
  for (const field of ["call_id", "account_id", "agent_id", "direction"]) {
    for (const [label, value] of wrongTypes("string")) authorizeCases.push([field, label, value]);
    authorizeCases.push([field, "missing", undefined]);
  }
  authorizeCases.push(["extra", "an unknown field", "x"]);

  it.each(authorizeCases)(
    "POST /calls/authorize: %s as %s is a 400 naming it",
    async (field, _label, value) => {
      const { accountId, agentId } = await subscribedAccount();
      const body: Record<string, unknown> = {
        call_id: `types-${field}`,
        account_id: accountId,
        agent_id: agentId,
        direction: "outbound",
      };
      if (value === undefined) delete body[field];
      else body[field] = value;
      const response = await app.inject({
        method: "POST",
        url: "/api/v1/calls/authorize",
        headers: auth,
        payload: body,
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().fields).toHaveProperty([field]);
      expect(await db.callReservation.count({ where: { accountId } })).toBe(0);
    },
  );
});

describe("the key of a call", () => {
  it("is (account_id, call_id): a reused call_id with another duration is a conflict, another account's is another call", async () => {
    const first = await subscribedAccount();
    const second = await subscribedAccount();
    const original = event(first.accountId, { duration_seconds: 60 });
    expect((await postUsage({ events: [original] })).json().accepted).toBe(1);
    const response = await postUsage({
      events: [
        original,
        { ...original, duration_seconds: 120 },
        { ...original, account_id: second.accountId },
      ],
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      accepted: 1,
      duplicates: 1,
      rejected: 1,
      results: [
        { call_id: original.call_id, status: "duplicate" },
        {
          call_id: original.call_id,
          status: "rejected",
          reason: "call_id_conflict",
          message: expect.stringMatching(/duration_seconds 60 recorded, 120 reported/),
        },
        { call_id: original.call_id, status: "accepted", billable_minutes: 1 },
      ],
    });
    const doc = (await app.inject({ method: "GET", url: "/api/openapi.json" })).json();
    const ingest = doc.paths["/api/v1/usage/calls"].post;
    expect(ingest.description).toMatch(/key is \(account_id, call_id\)/);
    expect(doc.paths["/api/v1/calls/authorize"].post.description).toMatch(/key is \(account_id, call_id\)/);
  });
});

describe("an account whose subscription was paused", () => {
  it("has the calls it reports for a paused span refused as subscription_paused, also after the resume", async () => {
    const { accountId } = await subscribedAccount("Pro");
    const sub = await db.subscription.findFirstOrThrow({ where: { accountId } });
    // A pause of the account (recorded by the subscription sync), lifted before the test clock's now.
    const startsAt = new Date("2026-11-10T00:00:00Z");
    const endsAt = new Date("2026-11-20T00:00:00Z");
    await db.subscriptionPauseSpan.create({
      data: { accountId, subscriptionId: sub.id, startsAt, endsAt, liftedAt: endsAt },
    });
    const response = await postUsage({
      events: [
        event(accountId, { started_at: "2026-11-09T23:59:59Z", duration_seconds: 60 }),
        event(accountId, { started_at: "2026-11-10T00:00:00Z", duration_seconds: 86_400 }),
        event(accountId, { started_at: "2026-11-19T23:59:59Z", duration_seconds: 86_400 }),
        event(accountId, { started_at: "2026-11-20T00:00:00Z", duration_seconds: 60 }),
      ],
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ accepted: 2, rejected: 2 });
    expect(
      response.json().results.map((r: { status: string; reason?: string }) => r.reason ?? r.status),
    ).toEqual(["accepted", "subscription_paused", "subscription_paused", "accepted"]);
    expect(response.json().results[1].message).toMatch(/paused .*2026-11-10T00:00:00.000Z until 2026-11-20/);
    const usage = await app.inject({
      method: "GET",
      url: `/api/v1/accounts/${accountId}/usage`,
      headers: auth,
    });
    expect(usage.json()).toMatchObject({ minutes_used: 2 });
    // The reason is one of the documented enum's.
    const doc = (await app.inject({ method: "GET", url: "/api/openapi.json" })).json();
    const result =
      doc.paths["/api/v1/usage/calls"].post.responses["200"].content["application/json"].schema.properties
        .results.items;
    expect(result.properties.reason.enum).toContain("subscription_paused");
    expect(doc.paths["/api/v1/usage/calls"].post.description).toMatch(/subscription_paused/);
  });
});

describe("the hard cap", () => {
  it("is told to the platform as max_duration_seconds, and minutes beyond it are shown as over-cap, unbilled", async () => {
    const { accountId, agentId } = await subscribedAccount("Starter");
    await postUsage({ events: [event(accountId, { duration_seconds: 990 * 60, direction: "outbound" })] });
    const authorized = await app.inject({
      method: "POST",
      url: "/api/v1/calls/authorize",
      headers: auth,
      payload: { call_id: "cap-call", account_id: accountId, agent_id: agentId, direction: "outbound" },
    });
    expect(authorized.json()).toMatchObject({ decision: "allow", max_duration_seconds: 600 });
    // An inbound call is answered beyond the cap: nothing ends it, so null (not 0).
    const inbound = await app.inject({
      method: "POST",
      url: "/api/v1/calls/authorize",
      headers: auth,
      payload: { call_id: "cap-inbound", account_id: accountId, agent_id: agentId, direction: "inbound" },
    });
    expect(inbound.json()).toMatchObject({ decision: "allow", max_duration_seconds: null });
    await postUsage({
      events: [
        event(accountId, {
          call_id: "cap-call",
          agent_id: agentId,
          direction: "outbound",
          duration_seconds: 7200,
        }),
      ],
    });
    const usage = await app.inject({
      method: "GET",
      url: `/api/v1/accounts/${accountId}/usage`,
      headers: auth,
    });
    expect(usage.json()).toMatchObject({
      minutes_used: 1110,
      minutes_remaining: 0,
      overage_policy: "hard_cap",
      overage_minutes: 0,
      over_cap_minutes: 110,
    });
    const doc = (await app.inject({ method: "GET", url: "/api/openapi.json" })).json();
    const allow =
      doc.paths["/api/v1/calls/authorize"].post.responses["200"].content["application/json"].schema;
    expect(allow.properties.max_duration_seconds.type).toEqual(["integer", "null"]);
  });
});

describe("a poisoned report among concurrent ones", () => {
  it("gets its own rejection, and every other report is answered 200 and stored", async () => {
    const accounts: string[] = [];
    for (let i = 0; i < 5; i++) accounts.push((await subscribedAccount()).accountId);
    // Renews on the 15th: before the fix, a call of 0001-01-01 fell in a period said to start on 0000-12-15,
    // a year PostgreSQL does not have (22008), and failed the whole group commit with it (500s).
    const poisoned = (await subscribedAccount()).accountId;
    await db.subscription.updateMany({
      where: { accountId: poisoned },
      data: {
        currentPeriodStart: new Date("2026-11-15T00:00:00Z"),
        currentPeriodEnd: new Date("2026-12-15T00:00:00Z"),
      },
    });
    const bodies = Array.from({ length: 30 }, (_, i) =>
      i === 12
        ? { events: [event(poisoned, { started_at: "0001-01-01T00:00:00Z" })] }
        : { events: [event(accounts[i % 5] as string)] },
    );
    const responses = await Promise.all(bodies.map((body) => postUsage(body)));
    expect(responses.map((r) => r.statusCode)).toEqual(bodies.map(() => 200));
    expect(responses[12]?.json().results).toEqual([
      expect.objectContaining({ status: "rejected", reason: "too_old" }),
    ]);
    expect(await db.usageEvent.count({ where: { accountId: { in: accounts } } })).toBe(29);
    expect(await db.usageEvent.count({ where: { accountId: poisoned } })).toBe(0);
  });
});

describe("after a renewal on the account's test clock (issue 19)", () => {
  it("usage and authorization are the new period's, on the new package, by the clock's time", async () => {
    // Pro at 2,502 minutes in November; Minutely's clock is Nov 27.
    const { accountId, agentId } = await subscribedAccount("Pro");
    const accepted = await postUsage({
      events: [
        event(accountId, { direction: "outbound", duration_seconds: 1440 * 60 }),
        event(accountId, {
          direction: "outbound",
          duration_seconds: 1062 * 60,
          started_at: "2026-11-22T10:00:00Z",
        }),
      ],
    });
    expect(accepted.json().accepted).toBe(2);
    // The test clock passed the period end; the renewal (with the downgrade to Starter) was synced.
    const starter = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Starter" } });
    await db.subscription.updateMany({
      where: { accountId },
      data: {
        planId: starter.id,
        currentPeriodStart: new Date("2026-12-01T00:00:00Z"),
        currentPeriodEnd: new Date("2027-01-01T00:00:00Z"),
        testClockTime: new Date("2026-12-01T01:00:00Z"),
      },
    });
    const usage = await app.inject({
      method: "GET",
      url: `/api/v1/accounts/${accountId}/usage`,
      headers: auth,
    });
    expect(usage.json()).toMatchObject({
      minutes_used: 0,
      minutes_limit: 1000,
      period_start: "2026-12-01T00:00:00.000Z",
      period_end: "2027-01-01T00:00:00.000Z",
    });
    const authorized = await app.inject({
      method: "POST",
      url: "/api/v1/calls/authorize",
      headers: auth,
      payload: { call_id: "after-renewal", account_id: accountId, agent_id: agentId, direction: "outbound" },
    });
    expect(authorized.json()).toMatchObject({
      decision: "allow",
      max_duration_seconds: 1000 * 60,
      expires_at: "2026-12-01T01:30:00.000Z",
    });
  });
});

describe("an account or agent id in upper case (found by the attack on issue 19)", () => {
  it("is the same account and agent everywhere: ingestion, a replay in lower case, authorization and the reads", async () => {
    const { accountId, agentId } = await subscribedAccount("Pro");
    const upper = { account_id: accountId.toUpperCase(), agent_id: agentId.toUpperCase() };
    const first = await postUsage({ events: [event(accountId, { ...upper, call_id: "case-1" })] });
    expect(first.json()).toMatchObject({ accepted: 1, results: [{ status: "accepted" }] });
    // The same call reported with the ids in lower case is the same call: a duplicate.
    const replay = await postUsage({
      events: [event(accountId, { call_id: "case-1", agent_id: agentId })],
    });
    expect(replay.json()).toMatchObject({ results: [{ status: "duplicate" }] });
    const authorized = await app.inject({
      method: "POST",
      url: "/api/v1/calls/authorize",
      headers: auth,
      payload: { call_id: "case-2", ...upper, direction: "outbound" },
    });
    expect(authorized.json()).toMatchObject({ decision: "allow" });
    const read = await app.inject({
      method: "GET",
      url: `/api/v1/accounts/${accountId.toUpperCase()}/usage`,
      headers: auth,
    });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ minutes_used: 2 });
    const stored = await db.usageEvent.findMany({ where: { accountId } });
    expect(stored.map((e) => [e.callId, e.agentId])).toEqual([["case-1", agentId]]);
  });
});
