import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.ts";

describe("loadConfig", () => {
  it("fills development defaults", () => {
    const config = loadConfig({ DATABASE_URL: "postgresql://u:p@localhost:5432/minutely" });
    expect(config.env).toBe("development");
    expect(config.port).toBe(3000);
    expect(config.secureCookies).toBe(false);
    expect(config.trustedOrigins).toContain("http://localhost:5173");
    expect(config.trustedOrigins).toContain("http://localhost:5174");
    expect(config.stripe.apiBase).toBe("http://127.0.0.1:12111");
    expect(config.meteringApiToken).toBe("dev-metering-token");
  });

  it("lists every missing or malformed variable at once in production", () => {
    let error: unknown;
    try {
      loadConfig({ NODE_ENV: "production", PORT: "not-a-port" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join("\n");
    expect(problems).toMatch(/DATABASE_URL/);
    expect(problems).toMatch(/PORT/);
    expect(problems).toMatch(/SESSION_SECRET is required in production/);
    expect(problems).toMatch(/PUBLIC_URL is required in production/);
    expect(problems).toMatch(/STRIPE_SECRET_KEY is required in production/);
    expect(problems).toMatch(/STRIPE_WEBHOOK_SECRET is required in production/);
    expect(problems).toMatch(/METERING_API_TOKEN is required in production/);
  });

  it("uses secure cookies and only the public origin in production", () => {
    const config = loadConfig({
      NODE_ENV: "production",
      DATABASE_URL: "postgresql://u:p@db:5432/minutely",
      SESSION_SECRET: "x".repeat(40),
      PUBLIC_URL: "https://billing.example.com/",
      STRIPE_SECRET_KEY: "sk_live_abc123",
      STRIPE_WEBHOOK_SECRET: "whsec_abc123",
      METERING_API_TOKEN: "a-long-metering-token",
    });
    expect(config.stripe.apiBase).toBeUndefined();
    expect(config.secureCookies).toBe(true);
    expect(config.publicUrl).toBe("https://billing.example.com");
    expect(config.trustedOrigins).toEqual(["https://billing.example.com"]);
  });
});
