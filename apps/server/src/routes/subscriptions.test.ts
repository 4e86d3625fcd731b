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

let ip = 0;
async function signedIn(email: string, role: "user" | "admin" = "user"): Promise<string> {
  ip += 1;
  const response = await app.inject({
    method: "POST",
    url: "/api/auth/sign-up/email",
    // Each sign-up from its own address: the file signs up more users than one address may a minute.
    remoteAddress: `10.44.${Math.floor(ip / 250)}.${ip % 250}`,
    headers: { origin: TEST_ORIGIN },
    payload: { name: email, email, password: "long-enough-1" },
  });
  expect(response.statusCode, response.body).toBe(200);
  await db.user.update({ where: { email }, data: { role } });
  return cookiesFrom(response.headers["set-cookie"]);
}

describe("GET /api/subscriptions/user/packages/ (the seed's contract)", () => {
  it("returns the packages, the feature comparison and the selection state in the seed's shape", async () => {
    const cookie = await signedIn("shopper@example.com");
    const response = await app.inject({
      method: "GET",
      url: "/api/subscriptions/user/packages/",
      headers: { cookie },
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    const openapi = (await app.inject({ method: "GET", url: "/api/openapi.json" })).json();
    assertMatchesOpenApi(openapi, "GET", "/api/subscriptions/user/packages/", 200, body);
    expect(body.user_needs_package_selection).toBe(true);
    expect(body.current_package_id).toBeNull();
    const pro = body.available_packages.find((p: { package_name: string }) => p.package_name === "Pro");
    expect(pro).toMatchObject({
      monthly_price: 99,
      call_minutes_limit: 3000,
      agents_allowed: 5,
      analytics_access: true,
      api_access: false,
      recommended: true,
    });
    expect(body.feature_comparison).toEqual({
      features: ["Monthly Call Minutes", "Number of Agents", "Analytics", "API Access"],
      packages: {
        Starter: ["1000 minutes", "1 agent", "❌ No", "❌ No"],
        Pro: ["3000 minutes", "5 agents", "✅ Yes", "❌ No"],
        Enterprise: ["10000 minutes", "25 agents", "✅ Yes", "✅ Yes"],
      },
    });
  });

  it("marks the current package of a subscribed account", async () => {
    const cookie = await signedIn("subscriber@example.com");
    const user = await userWithAccount(db, { email: "subscriber@example.com" });
    const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
    await db.subscription.create({
      data: {
        accountId: user.accountId ?? "",
        stripeSubscriptionId: "sub_rest_contract",
        planId: pro.id,
        stripePriceId: "price_x",
        status: "active",
        currentPeriodStart: new Date("2026-11-01T00:00:00Z"),
        currentPeriodEnd: new Date("2026-12-01T00:00:00Z"),
      },
    });
    const body = (
      await app.inject({ method: "GET", url: "/api/subscriptions/user/packages", headers: { cookie } })
    ).json();
    expect(body.user_needs_package_selection).toBe(false);
    expect(body.current_package_id).toBe(pro.id);
  });

  it("prices the packages in the currency asked for until the account has a billing currency, which then wins", async () => {
    const cookie = await signedIn("euro-shopper@example.com");
    const inEuro = await app.inject({
      method: "GET",
      url: "/api/subscriptions/user/packages/?currency=eur",
      headers: { cookie },
    });
    expect(inEuro.statusCode, inEuro.body).toBe(200);
    const openapi = (await app.inject({ method: "GET", url: "/api/openapi.json" })).json();
    assertMatchesOpenApi(openapi, "GET", "/api/subscriptions/user/packages/", 200, inEuro.json());
    const euro = inEuro.json();
    expect({ billing: euro.billing_currency, shown: euro.currency }).toEqual({ billing: null, shown: "eur" });
    expect(
      euro.available_packages.map((p: { package_name: string; monthly_price: number; currency: string }) => [
        p.package_name,
        p.monthly_price,
        p.currency,
      ]),
    ).toEqual([
      ["Starter", 29, "eur"],
      ["Pro", 95, "eur"],
      ["Enterprise", 289, "eur"],
    ]);
    // Once the account is billed in GBP, GBP prices whatever is asked.
    const user = await userWithAccount(db, { email: "euro-shopper@example.com" });
    const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
    await db.subscription.create({
      data: {
        accountId: user.accountId ?? "",
        stripeSubscriptionId: "sub_rest_gbp",
        planId: pro.id,
        stripePriceId: "price_gbp_x",
        currency: "gbp",
        status: "active",
        currentPeriodStart: new Date("2026-11-01T00:00:00Z"),
        currentPeriodEnd: new Date("2026-12-01T00:00:00Z"),
      },
    });
    const fixed = (
      await app.inject({
        method: "GET",
        url: "/api/subscriptions/user/packages/?currency=eur",
        headers: { cookie },
      })
    ).json();
    expect({ billing: fixed.billing_currency, shown: fixed.currency }).toEqual({
      billing: "gbp",
      shown: "gbp",
    });
    expect(
      fixed.available_packages.find((p: { package_name: string }) => p.package_name === "Pro"),
    ).toMatchObject({
      monthly_price: 85,
      currency: "gbp",
    });
  });

  it("refuses an unknown currency or another query parameter with a 400 naming it", async () => {
    const cookie = await signedIn("odd-shopper@example.com");
    for (const [query, field] of [
      ["currency=jpy", "currency"],
      ["currency=EUR", "currency"],
      ["currency=eur%20", "currency"],
      ["currency=", "currency"],
      ["currency=eur&currency=gbp", "currency"],
      ["currency[]=eur", "currency[]"],
      ["colour=blue", "colour"],
    ] as const) {
      const response = await app.inject({
        method: "GET",
        url: `/api/subscriptions/user/packages/?${query}`,
        headers: { cookie },
      });
      expect(response.statusCode, response.body).toBe(400);
      expect(JSON.stringify(response.json())).toContain(field);
    }
  });

  it("answers 401 with the REST error shape when signed out", async () => {
    const response = await app.inject({ method: "GET", url: "/api/subscriptions/user/packages/" });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ error: "unauthorized", message: "Sign in to continue." });
  });
});

describe("GET /api/subscriptions/admin/packages/", () => {
  it("gives admins every package with every field, archived ones included", async () => {
    await db.subscriptionPlan.update({ where: { name: "Starter" }, data: { active: false } });
    const cookie = await signedIn("ops@example.com", "admin");
    const response = await app.inject({
      method: "GET",
      url: "/api/subscriptions/admin/packages/",
      headers: { cookie },
    });
    expect(response.statusCode).toBe(200);
    const packages = response.json().packages as {
      package_name: string;
      active: boolean;
      monthly_price_cents: number;
    }[];
    expect(packages.map((p) => [p.package_name, p.active, p.monthly_price_cents])).toEqual([
      ["Starter", false, 2900],
      ["Pro", true, 9900],
      ["Enterprise", true, 29900],
    ]);
  });

  it("refuses customers with 403", async () => {
    const cookie = await signedIn("curious@example.com");
    const response = await app.inject({
      method: "GET",
      url: "/api/subscriptions/admin/packages/",
      headers: { cookie },
    });
    expect(response.statusCode).toBe(403);
    expect(response.json().error).toBe("forbidden");
  });
});

describe("OpenAPI", () => {
  it("describes the seed's endpoints", async () => {
    const doc = (await app.inject({ method: "GET", url: "/api/openapi.json" })).json();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/api/subscriptions/user/packages/", "/api/subscriptions/admin/packages/"]),
    );
  });

  it("documents the answers every route can give: 400 and 503 on all, 413 and 415 where a body is taken", async () => {
    const doc = (await app.inject({ method: "GET", url: "/api/openapi.json" })).json() as {
      paths: Record<string, Record<string, { requestBody?: unknown; responses?: Record<string, unknown> }>>;
    };
    const missing: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const expected = ["400", "503", ...(method === "post" ? ["413", "415"] : [])];
        for (const status of expected) {
          if (!operation.responses?.[status]) missing.push(`${method.toUpperCase()} ${path} ${status}`);
        }
      }
    }
    expect(missing).toEqual([]);
    const actions = doc.paths["/api/subscriptions/user/actions/"]?.post?.responses ?? {};
    expect(Object.keys(actions)).toEqual(expect.arrayContaining(["402", "409", "412"]));
  });
});

describe("POST /api/subscriptions/user/actions/ (the seed's contract)", () => {
  async function act(cookie: string, payload: unknown) {
    return await app.inject({
      method: "POST",
      url: "/api/subscriptions/user/actions/",
      headers: { cookie, origin: TEST_ORIGIN },
      payload: payload as Record<string, unknown>,
    });
  }

  it("refuses bad input with a 400 naming the field, and signed-out callers with 401", async () => {
    const cookie = await signedIn("typo@example.com");
    const wrongAction = await act(cookie, { action: "teleport" });
    expect(wrongAction.statusCode).toBe(400);
    expect(wrongAction.json().fields).toHaveProperty("action");
    const wrongId = await act(cookie, { action: "subscribe", package_id: "not-a-uuid" });
    expect(wrongId.statusCode).toBe(400);
    expect(wrongId.json().fields).toHaveProperty("package_id");
    const noPackage = await act(cookie, { action: "subscribe" });
    expect(noPackage.statusCode).toBe(400);
    expect(noPackage.json().fields).toHaveProperty("package_id");
    const signedOut = await app.inject({
      method: "POST",
      url: "/api/subscriptions/user/actions/",
      payload: { action: "cancel" },
    });
    expect(signedOut.statusCode).toBe(401);
  });

  it("refuses an over-long payment method id with a 400 naming it (it is part of Stripe's idempotency keys)", async () => {
    const cookie = await signedIn("long-pm@example.com");
    const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
    const response = await act(cookie, {
      action: "subscribe",
      package_id: pro.id,
      payment_method_id: `pm_${"a".repeat(100)}`,
    });
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().fields).toHaveProperty("payment_method_id");
  });

  it("refuses a promotion code that does not exist, or is not text, with a 400 naming promotion_code", async () => {
    await syncCatalogToStripe(ports);
    const cookie = await signedIn("bad-code@example.com");
    const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
    const unknown = await act(cookie, { action: "subscribe", package_id: pro.id, promotion_code: "NO-SUCH" });
    expect(unknown.statusCode, unknown.body).toBe(400);
    expect(unknown.json().fields.promotion_code).toBe(
      '"NO-SUCH" is not a valid promotion code. Check the spelling.',
    );
    const wrongType = await act(cookie, { action: "subscribe", package_id: pro.id, promotion_code: 25 });
    expect(wrongType.statusCode).toBe(400);
    expect(wrongType.json().fields).toHaveProperty("promotion_code");
  });

  it("subscribe's currency: another than usd, eur, gbp is a 400, one the package has no price in a 409, both naming currency; GBP sells on Pro's GBP price", async () => {
    await syncCatalogToStripe(ports);
    const cookie = await signedIn("currency-choice@example.com");
    const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
    for (const currency of [
      "chf",
      "USD",
      "EUR",
      "Eur",
      "eur ",
      " eur",
      "",
      "xxx",
      ["eur"],
      { code: "eur" },
      1,
      840,
      true,
      null,
    ]) {
      const wrong = await act(cookie, { action: "subscribe", package_id: pro.id, currency });
      expect(wrong.statusCode, wrong.body).toBe(400);
      expect(wrong.json().fields).toHaveProperty("currency");
    }
    // Pro without its GBP price (an admin removed it): not sold in GBP.
    const gbp = await db.subscriptionPlanPrice.findUniqueOrThrow({
      where: { planId_currency: { planId: pro.id, currency: "gbp" } },
    });
    await db.subscriptionPlanPrice.delete({ where: { id: gbp.id } });
    const notSold = await act(cookie, { action: "subscribe", package_id: pro.id, currency: "gbp" });
    await db.subscriptionPlanPrice.create({ data: gbp });
    expect(notSold.statusCode, notSold.body).toBe(409);
    expect(notSold.json().fields.currency).toBe("Pro has no price in GBP: choose USD, EUR.");
    // Sold in GBP: a Checkout page in GBP.
    const checkout = await act(cookie, { action: "subscribe", package_id: pro.id, currency: "gbp" });
    expect(checkout.statusCode, checkout.body).toBe(200);
    expect(checkout.json()).toMatchObject({ result: "checkout" });
    const sessionId = new URL(checkout.json().checkout_url).pathname.split("/").at(-1) ?? "";
    const session = await ports.stripe.checkout.sessions.retrieve(sessionId);
    expect({ currency: session.currency, total: session.amount_total }).toEqual({
      currency: "gbp",
      total: 8500,
    });
  });

  it("answers a package whose Stripe price is not made yet with 503 and Retry-After", async () => {
    const cookie = await signedIn("too-early@example.com");
    const {
      id: _id,
      name: _name,
      stripeProductId: _p,
      stripePriceId: _q,
      createdAt: _c,
      updatedAt: _u,
      ...rest
    } = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
    const fresh = await db.subscriptionPlan.create({
      data: { ...rest, name: "Pro, not synced yet" } as never,
    });
    const response = await act(cookie, { action: "subscribe", package_id: fresh.id });
    expect(response.statusCode, response.body).toBe(503);
    expect(Number(response.headers["retry-after"])).toBeGreaterThan(0);
    await db.subscriptionPlan.delete({ where: { id: fresh.id } });
  });

  it("refuses an upgrade's proration_date out of range with a 400 naming it, never a 500", async () => {
    await syncCatalogToStripe(ports);
    const cookie = await signedIn("ranges@example.com");
    const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
    const enterprise = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Enterprise" } });
    const paid = await act(cookie, {
      action: "subscribe",
      package_id: pro.id,
      payment_method_id: "pm_card_visa",
    });
    expect(paid.statusCode, paid.body).toBe(200);
    // The test server's clock (fixed) is "now" for the service; real time is only used by Stripe's signatures.
    const periodStart = Date.parse(paid.json().subscription.current_period_start) / 1000;
    for (const proration_date of [1e15, 1e300, 1.5, 0, -1, periodStart - 1, periodStart + 10 * 24 * 3600]) {
      const response = await act(cookie, { action: "upgrade", package_id: enterprise.id, proration_date });
      expect(response.statusCode, `${proration_date}: ${response.body}`).toBe(400);
      expect(response.json().fields, String(proration_date)).toHaveProperty("proration_date");
    }
    const user = await userWithAccount(db, { email: "ranges@example.com" });
    const [sub] = await db.subscription.findMany({ where: { accountId: user.accountId ?? "" } });
    expect(sub?.planId).toBe(pro.id);
  });

  it("subscribes through Checkout or with a card; a declined card gets 402 and nothing is created", async () => {
    await syncCatalogToStripe(ports);
    const cookie = await signedIn("buyer@example.com");
    const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
    const checkout = await act(cookie, { action: "subscribe", package_id: pro.id });
    expect(checkout.json()).toMatchObject({ result: "checkout" });
    expect(checkout.statusCode).toBe(200);
    expect(checkout.json()).toMatchObject({ result: "checkout" });
    expect(checkout.json().checkout_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/checkout\/cs_/);

    const declined = await act(cookie, {
      action: "subscribe",
      package_id: pro.id,
      payment_method_id: "pm_card_chargeCustomerFail",
    });
    expect(declined.statusCode).toBe(402);
    expect(declined.json().message).toMatch(/declined/i);
    const unknownCard = await act(cookie, {
      action: "subscribe",
      package_id: pro.id,
      payment_method_id: "pm_never_created_by_stripe",
    });
    expect(unknownCard.statusCode).toBe(400);
    expect(unknownCard.json().message).toMatch(/no such payment method/i);
    expect(unknownCard.json().fields).toHaveProperty("payment_method_id");
    const user = await userWithAccount(db, { email: "buyer@example.com" });
    expect(await db.subscription.count({ where: { accountId: user.accountId ?? "" } })).toBe(0);

    const paid = await act(cookie, {
      action: "subscribe",
      package_id: pro.id,
      payment_method_id: "pm_card_visa",
    });
    expect(paid.statusCode).toBe(200);
    const openapi = (await app.inject({ method: "GET", url: "/api/openapi.json" })).json();
    assertMatchesOpenApi(openapi, "POST", "/api/subscriptions/user/actions/", 200, paid.json());
    expect(paid.json().subscription).toMatchObject({
      status: "active",
      package_name: "Pro",
      cancel_at_period_end: false,
    });
    const history = await act(cookie, { action: "billing_history" });
    expect(history.json().invoices).toHaveLength(1);
    expect(history.json().invoices[0]).toMatchObject({ amount: 99, status: "paid", currency: "usd" });
    expect(history.json().invoices[0].hosted_invoice_url).toMatch(/^http/);
    // Fields added to the seed's shape (none changed): what the invoice is for, line by line.
    expect(history.json().invoices[0]).toMatchObject({
      description: "First payment",
      lines: [
        {
          description: "1 × Pro (at $99.00 / month)",
          amount_cents: 9900,
          currency: "usd",
          period_start: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          period_end: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          proration: false,
        },
      ],
    });
    assertMatchesOpenApi(openapi, "POST", "/api/subscriptions/user/actions/", 200, history.json());
  });

  it("pauses and resumes; a bad pause_periods gets a 400 naming it, never a coercion", async () => {
    await syncCatalogToStripe(ports);
    const cookie = await signedIn("pauser@example.com");
    const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
    const paid = await act(cookie, {
      action: "subscribe",
      package_id: pro.id,
      payment_method_id: "pm_card_visa",
    });
    expect(paid.statusCode, paid.body).toBe(200);
    for (const pause_periods of [0, 4, 1.5, "1", true, {}]) {
      const response = await act(cookie, { action: "pause", pause_periods });
      expect(response.statusCode, `${JSON.stringify(pause_periods)}: ${response.body}`).toBe(400);
      expect(response.json().fields).toHaveProperty("pause_periods");
    }
    const missing = await act(cookie, { action: "pause" });
    expect(missing.statusCode, missing.body).toBe(400);
    expect(missing.json().fields).toHaveProperty("pause_periods");

    const openapi = (await app.inject({ method: "GET", url: "/api/openapi.json" })).json();
    const paused = await act(cookie, { action: "pause", pause_periods: 2 });
    expect(paused.statusCode, paused.body).toBe(200);
    assertMatchesOpenApi(openapi, "POST", "/api/subscriptions/user/actions/", 200, paused.json());
    const periodEnd = paused.json().subscription.current_period_end;
    expect(paused.json().subscription.pause).toEqual({
      starts_at: periodEnd,
      resumes_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      paused: false,
    });
    // Another pause while one is set: 409.
    expect((await act(cookie, { action: "pause", pause_periods: null })).statusCode).toBe(409);
    const resumed = await act(cookie, { action: "resume_pause" });
    expect(resumed.statusCode, resumed.body).toBe(200);
    expect(resumed.json().subscription.pause).toBeNull();
    // Until resumed (null) is a valid length.
    const untilResumed = await act(cookie, { action: "pause", pause_periods: null });
    expect(untilResumed.json().subscription.pause).toMatchObject({ resumes_at: null });
  });
});
