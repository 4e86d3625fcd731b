// Secrets never reach the logs. The real API process runs a full customer scenario at the most verbose log
// level (sign-up, sign-in, a wrong password, a subscription, an upgrade, an API key used and revoked, usage
// from the calling platform, signed Stripe webhooks, bad requests carrying card data), then every line it
// printed is searched for every secret it handled.
import { testStack, userWithAccount } from "@minutely/testing";
import { describe, expect, it } from "vitest";

const SECRETS = {
  sessionSecret: "log-scan-session-secret-0123456789abcdef",
  stripeSecretKey: "sk_test_logScanSecretKey0123456789",
  meteringToken: "log-scan-metering-token-0123456789",
};
const PASSWORD = "correct-horse-battery-staple-77";
const WRONG_PASSWORD = "wrong-horse-battery-staple-88";
const CARD_NUMBER = "4242424242424242";
const CVC = "987";

const stack = await testStack({
  env: {
    LOG_LEVEL: "trace",
    SESSION_SECRET: SECRETS.sessionSecret,
    STRIPE_SECRET_KEY: SECRETS.stripeSecretKey,
    METERING_API_TOKEN: SECRETS.meteringToken,
  },
});
const base = stack.baseUrl;
const origin = { origin: base };

function cookieOf(response: Response): { header: string; values: string[] } {
  const pairs = response.headers.getSetCookie().map((c) => c.split(";")[0] ?? "");
  const values = pairs.map((p) => p.slice(p.indexOf("=") + 1)).filter((v) => v.length > 0);
  // A signed cookie is `token.signature`, URL-encoded: each part is a secret on its own.
  const parts = values.flatMap((v) => [v, decodeURIComponent(v), ...decodeURIComponent(v).split(".")]);
  return { header: pairs.join("; "), values: parts.filter((p) => p.length >= 16) };
}

async function json(path: string, init: RequestInit & { body?: string } = {}) {
  const response = await fetch(`${base}${path}`, init);
  const text = await response.text();
  return {
    response,
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

async function trpc(cookie: string, path: string, input: unknown) {
  return await json(`/trpc/${path}`, {
    method: "POST",
    headers: { cookie, ...origin, "content-type": "application/json" },
    body: JSON.stringify({ json: input }),
  });
}

async function until(what: string, check: () => Promise<boolean>) {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("logs of a full scenario", () => {
  it("hold no password, session, token, key, signature or card data", async () => {
    const handled: string[] = [PASSWORD, WRONG_PASSWORD, CARD_NUMBER, ...Object.values(SECRETS)];

    const signUp = await fetch(`${base}/api/auth/sign-up/email`, {
      method: "POST",
      headers: { ...origin, "content-type": "application/json" },
      body: JSON.stringify({ name: "Log Scan", email: "log-scan@example.com", password: PASSWORD }),
    });
    expect(signUp.status).toBe(200);
    handled.push(...cookieOf(signUp).values);

    const wrong = await fetch(`${base}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { ...origin, "content-type": "application/json" },
      body: JSON.stringify({ email: "log-scan@example.com", password: WRONG_PASSWORD }),
    });
    expect(wrong.status).toBe(401);
    const signIn = await fetch(`${base}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { ...origin, "content-type": "application/json" },
      body: JSON.stringify({ email: "log-scan@example.com", password: PASSWORD }),
    });
    expect(signIn.status).toBe(200);
    const session = cookieOf(signIn);
    handled.push(...session.values);
    const cookie = session.header;

    const packages = await json("/api/subscriptions/user/packages/", { headers: { cookie } });
    expect(packages.status).toBe(200);
    const ids = Object.fromEntries(
      (packages.body.available_packages as { id: string; package_name: string }[]).map((p) => [
        p.package_name,
        p.id,
      ]),
    );
    const act = (body: Record<string, unknown>) =>
      json("/api/subscriptions/user/actions/", {
        method: "POST",
        headers: { cookie, ...origin, "content-type": "application/json" },
        body: JSON.stringify(body),
      });

    // Card data sent where it does not belong is refused, and not echoed into the logs either.
    const withCard = await act({
      action: "subscribe",
      package_id: ids.Pro,
      card: { number: CARD_NUMBER, cvc: CVC, exp_month: 12, exp_year: 2030 },
      payment_method_id: CARD_NUMBER,
    });
    expect(withCard.status).toBeGreaterThanOrEqual(400);
    expect(withCard.status).toBeLessThan(500);
    expect(
      (await act({ action: "subscribe", package_id: ids.Pro, payment_method_id: "pm_card_visa" })).status,
    ).toBe(200);
    const preview = await json(
      `/trpc/subscription.previewUpgrade?input=${encodeURIComponent(JSON.stringify({ json: { packageId: ids.Enterprise } }))}`,
      { headers: { cookie } },
    );
    expect(preview.status).toBe(200);
    const prorationDate = (preview.body as { result: { data: { json: { prorationDate: string } } } }).result
      .data.json.prorationDate;
    const upgraded = await json("/trpc/subscription.upgrade", {
      method: "POST",
      headers: { cookie, ...origin, "content-type": "application/json" },
      body: JSON.stringify({
        json: { packageId: ids.Enterprise, prorationDate },
        meta: { values: { prorationDate: ["Date"] } },
      }),
    });
    expect(upgraded.status).toBe(200);

    // An API key: shown once, used by header, revoked.
    const created = await trpc(cookie, "apiKeys.create", { name: "log scan" });
    expect(created.status).toBe(200);
    const key = (created.body as { result: { data: { json: { key: string; apiKey: { id: string } } } } })
      .result.data.json;
    handled.push(key.key);
    expect(
      (await json("/api/v1/subscription", { headers: { authorization: `Bearer ${key.key}` } })).status,
    ).toBe(200);
    expect((await json("/api/v1/usage", { headers: { "x-api-key": key.key } })).status).toBeLessThan(500);
    expect((await trpc(cookie, "apiKeys.revoke", { id: key.apiKey.id })).status).toBe(200);
    expect(
      (await json("/api/v1/subscription", { headers: { authorization: `Bearer ${key.key}` } })).status,
    ).toBe(401);

    // The calling platform reports usage; a wrong token is refused.
    const user = await userWithAccount(stack.database.db, { email: "log-scan@example.com" });
    const usage = await json("/api/v1/usage/calls", {
      method: "POST",
      headers: { authorization: `Bearer ${SECRETS.meteringToken}`, "content-type": "application/json" },
      body: JSON.stringify({
        events: [
          {
            call_id: "log-scan-call-1",
            account_id: user.accountId,
            direction: "inbound",
            started_at: new Date(Date.now() - 120_000).toISOString(),
            duration_seconds: 61,
          },
        ],
      }),
    });
    expect(usage.status).toBe(200);
    const forged = `${SECRETS.meteringToken}-forged`;
    handled.push(forged);
    expect(
      (
        await json("/api/v1/usage/calls", {
          method: "POST",
          headers: { authorization: `Bearer ${forged}`, "content-type": "application/json" },
          body: JSON.stringify({ events: [] }),
        })
      ).status,
    ).toBe(401);

    // A forged webhook, then wait for the emulator's signed webhooks to be received and processed.
    const forgedSignature = `t=${Math.floor(Date.now() / 1000)},v1=${"ab".repeat(32)}`;
    handled.push("ab".repeat(32));
    const hook = await fetch(`${base}/api/webhooks/stripe`, {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": forgedSignature },
      body: JSON.stringify({ id: "evt_forged", object: "event" }),
    });
    expect(hook.status).toBe(400);
    const db = stack.database.db;
    await until("the emulator's webhooks to be processed", async () => {
      const events = await db.stripeEvent.findMany({ select: { status: true } });
      return events.length > 0 && events.every((e) => e.status === "processed");
    });

    expect(
      (await fetch(`${base}/api/auth/sign-out`, { method: "POST", headers: { cookie, ...origin } })).status,
    ).toBe(200);

    const logs = stack.logs();
    // The scan means something only if the scenario was logged in detail.
    expect(logs).toContain("/api/v1/usage/calls");
    expect(logs).toContain("/api/webhooks/stripe");
    expect(logs).toContain("/api/auth/sign-in/email");
    expect(logs.split("\n").length).toBeGreaterThan(40);
    for (const secret of new Set(handled)) {
      const at = logs.indexOf(secret);
      expect(
        at,
        `a secret (${secret.slice(0, 6)}…) appears in the logs: ${logs.slice(at - 200, at + 100)}`,
      ).toBe(-1);
    }
    // Card numbers in any grouping, and the verification code next to a card field.
    expect(logs).not.toMatch(/4242[ -]?4242[ -]?4242[ -]?4242/);
    expect(logs).not.toMatch(new RegExp(`"cvc"\\s*:\\s*"?${CVC}`));
  });
});
