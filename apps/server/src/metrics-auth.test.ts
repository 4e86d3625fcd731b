// /metrics on the API's port tells whoever asks how the business runs (requests, minutes ingested, the
// webhook backlog, the Node version): with METRICS_TOKEN it answers only Prometheus's bearer token, and
// production refuses to start without one.
import { testDatabase } from "@minutely/db/vitest";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.ts";
import { buildTestServer } from "./testing.ts";

const TOKEN = "metrics-token-0123456789-0123456789";
const { db } = await testDatabase();
const app = await buildTestServer(db, { METRICS_TOKEN: TOKEN });
afterAll(() => app.close());

describe("/metrics with METRICS_TOKEN", () => {
  it("refuses requests without the token, with a wrong one or another scheme, and reveals nothing", async () => {
    for (const authorization of [
      undefined,
      "Bearer wrong-token",
      `Basic ${TOKEN}`,
      `Bearer ${TOKEN}x`,
      "Bearer ",
    ]) {
      const response = await app.inject({
        method: "GET",
        url: "/metrics",
        headers: authorization === undefined ? {} : { authorization },
      });
      expect(response.statusCode, String(authorization)).toBe(401);
      expect(response.headers["www-authenticate"]).toBe('Bearer realm="metrics"');
      expect(response.body).not.toContain("minutely_");
      expect(response.body).not.toContain("nodejs_");
    }
  });

  it("answers Prometheus's bearer token", async () => {
    const response = await app.inject({
      method: "GET",
      url: "/metrics",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain("minutely_http_requests_total");
  });

  it("is required in production (and must be long enough)", () => {
    const production = {
      NODE_ENV: "production",
      DATABASE_URL: "postgresql://minutely@db/minutely",
      SESSION_SECRET: "s".repeat(40),
      PUBLIC_URL: "https://billing.example.com",
      STRIPE_SECRET_KEY: "sk_live_abc",
      STRIPE_WEBHOOK_SECRET: "whsec_abc",
      METERING_API_TOKEN: "m".repeat(20),
      SMTP_URL: "smtps://u:p@smtp.example.com:465",
      MAIL_FROM: "billing@example.com",
    };
    const options = { fileExists: () => true };
    const problemsOf = (env: Record<string, string>) => {
      try {
        loadConfig(env, options);
        return [];
      } catch (error) {
        if (error instanceof ConfigError) return error.problems;
        throw error;
      }
    };
    expect(problemsOf(production)).toEqual(["METRICS_TOKEN is required in production"]);
    expect(problemsOf({ ...production, METRICS_TOKEN: "short" })).toEqual([
      "METRICS_TOKEN must be at least 32 characters",
    ]);
    expect(loadConfig({ ...production, METRICS_TOKEN: TOKEN }, options).metricsToken).toBe(TOKEN);
    // The worker serves its /metrics on its own port (WORKER_PORT) and does not need it.
    expect(() =>
      loadConfig(
        {
          NODE_ENV: "production",
          DATABASE_URL: production.DATABASE_URL,
          STRIPE_SECRET_KEY: "sk_live_abc",
          SMTP_URL: production.SMTP_URL,
          MAIL_FROM: production.MAIL_FROM,
        },
        { ...options, role: "worker" },
      ),
    ).not.toThrow();
  });
});
