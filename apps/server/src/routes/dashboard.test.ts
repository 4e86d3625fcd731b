// GET /api/dashboard/comprehensive/ over HTTP (app.inject): the seed's snake_case shape for a subscribed
// account with usage reported through the metering API, a new account, and 401 when signed out.
import { testDatabase } from "@minutely/db/vitest";
import { userWithAccount } from "@minutely/testing";
import { afterAll, describe, expect, it } from "vitest";
import { assertMatchesOpenApi } from "../openapi-check.ts";
import { buildTestServer, cookiesFrom, TEST_ORIGIN } from "../testing.ts";

const { db } = await testDatabase();
const TOKEN = "test-metering-token-dashboard-0123";
// The test server's clock is fixed at 2026-11-27T12:00:00Z.
const app = await buildTestServer(db, { METERING_API_TOKEN: TOKEN });
afterAll(() => app.close());

async function signedIn(email: string) {
  const response = await app.inject({
    method: "POST",
    url: "/api/auth/sign-up/email",
    headers: { origin: TEST_ORIGIN },
    payload: { name: "Dora Dashboard", email, password: "long-enough-1" },
  });
  expect(response.statusCode, response.body).toBe(200);
  const user = await userWithAccount(db, { email });
  return { cookie: cookiesFrom(response.headers["set-cookie"]), accountId: user.accountId ?? "", user };
}

const PATH = "/api/dashboard/comprehensive/";

/** The dashboard as `headers` get it, checked against the route's documented OpenAPI response. */
async function getDashboard(headers: Record<string, string> = {}) {
  const response = await app.inject({ method: "GET", url: PATH, headers });
  const openapi = (await app.inject({ method: "GET", url: "/api/openapi.json" })).json();
  assertMatchesOpenApi(openapi, "GET", PATH, response.statusCode, response.json());
  return response;
}

describe("GET /api/dashboard/comprehensive/", () => {
  it("returns the dashboard of a subscribed account in the seed's snake_case shape", async () => {
    const { cookie, accountId, user } = await signedIn("dora@example.com");
    const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
    await db.subscription.create({
      data: {
        accountId,
        stripeSubscriptionId: "sub_dashboard_rest",
        planId: pro.id,
        stripePriceId: "price_dashboard_rest",
        status: "active",
        currentPeriodStart: new Date("2026-11-01T00:00:00Z"),
        currentPeriodEnd: new Date("2026-12-01T00:00:00Z"),
      },
    });
    await db.agent.create({ data: { accountId, name: "Reception" } });
    await db.billingHistory.create({
      data: {
        accountId,
        stripeInvoiceId: "in_dashboard_rest",
        number: "MIN-0001",
        status: "paid",
        currency: "usd",
        subtotalCents: 9900,
        totalCents: 9900,
        amountDueCents: 9900,
        amountPaidCents: 9900,
        issuedAt: new Date("2026-11-01T00:00:00Z"),
      },
    });
    const reported = await app.inject({
      method: "POST",
      url: "/api/v1/usage/calls",
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: {
        events: [1200, 1200, 90].map((minutes, i) => ({
          call_id: `dash-rest-${i}`,
          account_id: accountId,
          direction: "outbound",
          started_at: "2026-11-20T10:00:00Z",
          duration_seconds: minutes * 60,
        })),
      },
    });
    expect(reported.json()).toMatchObject({ accepted: 3 });

    const response = await getDashboard({ cookie });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.user).toEqual({ id: user.id, email: "dora@example.com", name: "Dora Dashboard" });
    expect(body.account).toEqual({ id: accountId, name: "Dora Dashboard" });
    expect(body.subscription).toEqual({
      status: "active",
      status_label: "Active",
      grants_access: true,
      needs_payment_attention: false,
      package_id: pro.id,
      package_name: "Pro",
      monthly_price: 99,
      currency: "usd",
      current_period_start: "2026-11-01T00:00:00.000Z",
      current_period_end: "2026-12-01T00:00:00.000Z",
      cancel_at_period_end: false,
      scheduled_change: null,
      pause: null,
      trial: null,
    });
    expect(body.user_needs_package_selection).toBe(false);
    expect(body.usage).toMatchObject({
      minutes_used: 2490,
      minutes_limit: 3000,
      minutes_remaining: 510,
      usage_percentage: 83,
      period_start: "2026-11-01T00:00:00.000Z",
      overage_policy: "billed",
      overage_minutes: 0,
      overage_cost: 0,
    });
    expect(body.daily_usage).toHaveLength(30);
    expect(body.daily_usage.find((d: { date: string }) => d.date === "2026-11-20")).toEqual({
      date: "2026-11-20",
      minutes: 2490,
      calls: 3,
      inbound_minutes: 0,
      outbound_minutes: 2490,
    });
    expect(body.agents).toEqual({ used: 1, allowed: 5, total: 1 });
    expect(body.active_alerts).toHaveLength(1);
    expect(body.active_alerts[0]).toMatchObject({ threshold_percent: 80, kind: "threshold" });
    expect(body.billing_history).toEqual([
      expect.objectContaining({ number: "MIN-0001", amount: 99, amount_cents: 9900, status: "paid" }),
    ]);
    expect(body.quick_actions.map((a: { label: string; url: string }) => [a.label, a.url])).toContainEqual([
      "Subscription & Packages",
      "/packages",
    ]);
    expect(body.entitlements).toEqual({
      has_access: true,
      analytics_access: true,
      api_access: false,
      call_minutes_limit: 3000,
      agents_allowed: 5,
      overage: "billed",
    });
    // 26.5 of 30 days gone: 2,490 -> ceil(2490 x 30 / 26.5) = 2,819 minutes, within Pro's 3,000.
    expect(body.forecast).toMatchObject({
      projected_minutes: 2819,
      extrapolated: true,
      projected_minutes_over: 0,
      projected_overage_cost: 0,
      projected_monthly_cost: 99,
      currency: "usd",
      advice: {
        kind: "stay",
        suggested_package_name: "Pro",
        monthly_savings: 0,
        message: "At this pace you will use 2,819 of 3,000 minutes; Pro remains your best option.",
      },
    });
  });

  it("tells a new account to choose a package, with zero usage and no forecast", async () => {
    const { cookie } = await signedIn("newbie@example.com");
    const response = await getDashboard({ cookie });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({
      user_needs_package_selection: true,
      subscription: { status: "none", package_name: null, current_period_end: null, scheduled_change: null },
      usage: {
        minutes_used: 0,
        minutes_limit: 0,
        minutes_remaining: 0,
        usage_percentage: 0,
        period_start: null,
      },
      daily_usage: [],
      agents: { used: 0, allowed: 0 },
      active_alerts: [],
      billing_history: [],
      entitlements: { has_access: false, analytics_access: false, api_access: false },
      forecast: null,
    });
    expect(body.quick_actions[0]).toMatchObject({ label: "Subscription & Packages", urgent: true });
  });

  it("answers 401 with the REST error shape when signed out (or with a forged cookie)", async () => {
    const attempts: Record<string, string>[] = [{}, { cookie: "better-auth.session_token=forged" }];
    for (const headers of attempts) {
      const response = await getDashboard(headers);
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual({ error: "unauthorized", message: "Sign in to continue." });
    }
  });

  it("is described in the OpenAPI document, whose schema refuses a wrong shape", async () => {
    const spec = (await app.inject({ method: "GET", url: "/api/openapi.json" })).json();
    expect(() => assertMatchesOpenApi(spec, "GET", PATH, 200, { usage: { minutes_used: "many" } })).toThrow(
      /does not match/,
    );
    const operation = spec.paths[PATH]?.get;
    expect(operation?.security).toEqual([{ session: [] }]);
    const schema = operation?.responses?.["200"]?.content?.["application/json"]?.schema;
    expect(Object.keys(schema?.properties ?? {})).toEqual(
      expect.arrayContaining(["usage", "subscription", "quick_actions", "entitlements", "forecast"]),
    );
    expect(Object.keys(schema.properties.usage.properties)).toEqual(
      expect.arrayContaining(["minutes_used", "minutes_limit", "minutes_remaining", "usage_percentage"]),
    );
  });
});
