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
    expect(problems).toMatch(/METRICS_TOKEN is required in production/);
    expect(problems).toMatch(/SMTP_URL is required in production/);
    expect(problems).toMatch(/MAIL_FROM is required in production/);
  });

  it("uses secure cookies and only the public origin in production", () => {
    const config = loadConfig(
      {
        NODE_ENV: "production",
        DATABASE_URL: "postgresql://u:p@db:5432/minutely",
        SESSION_SECRET: "x".repeat(40),
        PUBLIC_URL: "https://billing.example.com/",
        STRIPE_SECRET_KEY: "sk_live_abc123",
        STRIPE_WEBHOOK_SECRET: "whsec_abc123",
        METERING_API_TOKEN: "a-long-metering-token",
        METRICS_TOKEN: "a-long-metrics-token-for-prometheus-0123",
        SMTP_URL: "smtps://mailer:pw@smtp.example.com:465",
        MAIL_FROM: "Minutely <billing@example.com>",
      },
      { fileExists: () => true },
    );
    expect(config.stripe.apiBase).toBeUndefined();
    expect(config.secureCookies).toBe(true);
    expect(config.publicUrl).toBe("https://billing.example.com");
    expect(config.trustedOrigins).toEqual(["https://billing.example.com"]);
    expect(config.appUrl).toBe("https://billing.example.com");
  });

  it("returns Checkout to the customer app's own address when APP_URL names one (pnpm dev: Vite)", () => {
    const config = loadConfig({
      DATABASE_URL: "postgresql://u:p@localhost:5432/minutely",
      APP_URL: "http://localhost:5173/",
    });
    expect(config.publicUrl).toBe("http://localhost:3000");
    expect(config.appUrl).toBe("http://localhost:5173");
    expect(config.trustedOrigins).toContain("http://localhost:5173");
    expect(() => loadConfig({ DATABASE_URL: "postgresql://u:p@localhost/m", APP_URL: "not a url" })).toThrow(
      /APP_URL must be an absolute http\(s\) URL/,
    );
  });

  it("names every malformed production value in one error, secrets not echoed", () => {
    let error: unknown;
    try {
      loadConfig(
        {
          NODE_ENV: "production",
          DATABASE_URL: "mysql://u:p@db/minutely",
          SESSION_SECRET: "short",
          PUBLIC_URL: "http://billing.example.com",
          STRIPE_SECRET_KEY: "pk_live_publishable",
          STRIPE_WEBHOOK_SECRET: "whsec_abc",
          METERING_API_TOKEN: "a-long-metering-token",
          METRICS_TOKEN: "a-long-metrics-token-for-prometheus-0123",
          SMTP_URL: "https://user:hunter2@mail.example.com",
          MAIL_FROM: "not an address",
          TRUST_PROXY: "10.0.0.0/8,the-proxy",
        },
        { fileExists: () => false },
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message } = error as ConfigError;
    expect(problems).toEqual([
      "DATABASE_URL must be a postgresql:// URL",
      "TRUST_PROXY must be true, false or comma-separated proxy addresses / CIDR ranges (not the-proxy)",
      "SESSION_SECRET must be at least 32 characters",
      "STRIPE_SECRET_KEY must look like sk_test_... or sk_live_...",
      "SMTP_URL must be an smtp:// or smtps:// URL such as smtps://user:password@smtp.example.com:465",
      'MAIL_FROM must be an address such as billing@example.com or "Minutely <billing@example.com>"',
      "PUBLIC_URL must be an https:// URL in production (session cookies are Secure)",
      expect.stringMatching(/^WEB_DIST_DIR: .*apps\/web\/dist has no index.html \(run `pnpm build`/),
      expect.stringMatching(/^ADMIN_DIST_DIR: .*apps\/admin\/dist has no index.html/),
      expect.stringMatching(/packages\/db\/prisma\/migrations is missing/),
    ]);
    expect(message).toMatch(/^Invalid configuration \(10 problems\):\n {2}- DATABASE_URL/);
    expect(message).not.toMatch(/hunter2|short|pk_live_publishable/);
  });

  it("serves the built SPAs in production from the build output unless told otherwise", () => {
    const production = {
      NODE_ENV: "production",
      DATABASE_URL: "postgresql://u:p@db:5432/minutely",
      SESSION_SECRET: "x".repeat(40),
      PUBLIC_URL: "https://billing.example.com",
      STRIPE_SECRET_KEY: "sk_live_abc123",
      STRIPE_WEBHOOK_SECRET: "whsec_abc123",
      METERING_API_TOKEN: "a-long-metering-token",
      METRICS_TOKEN: "a-long-metrics-token-for-prometheus-0123",
      SMTP_URL: "smtp://smtp.example.com:587",
      MAIL_FROM: "billing@example.com",
    };
    const checked: string[] = [];
    const config = loadConfig(production, {
      fileExists: (path) => {
        checked.push(path);
        return true;
      },
    });
    expect(config.webDistDir).toMatch(/apps\/web\/dist$/);
    expect(config.adminDistDir).toMatch(/apps\/admin\/dist$/);
    expect(checked).toEqual(
      expect.arrayContaining([`${config.webDistDir}/index.html`, `${config.adminDistDir}/index.html`]),
    );
    expect(config.smtp).toEqual({ url: "smtp://smtp.example.com:587", from: "billing@example.com" });
    const custom = loadConfig({ ...production, WEB_DIST_DIR: "/srv/web" }, { fileExists: () => true });
    expect(custom.webDistDir).toBe("/srv/web");
    // Development serves the SPAs from Vite, and stores mail without sending it.
    const development = loadConfig(
      { DATABASE_URL: "postgresql://u@localhost/x" },
      { fileExists: () => false },
    );
    expect(development.webDistDir).toBeUndefined();
    expect(development.smtp).toBeUndefined();
  });

  it("asks the worker process only for what background jobs need", () => {
    let error: unknown;
    try {
      loadConfig({ NODE_ENV: "production" }, { role: "worker", fileExists: () => true });
    } catch (e) {
      error = e;
    }
    expect((error as ConfigError).problems).toEqual([
      "DATABASE_URL is required (a postgresql:// URL)",
      "STRIPE_SECRET_KEY is required in production",
      "SMTP_URL is required in production",
      "MAIL_FROM is required in production",
    ]);
    const config = loadConfig(
      {
        NODE_ENV: "production",
        DATABASE_URL: "postgresql://u:p@db:5432/minutely",
        STRIPE_SECRET_KEY: "sk_live_abc123",
        SMTP_URL: "smtp://smtp.example.com:587",
        MAIL_FROM: "billing@example.com",
        WORKER_PORT: "9400",
      },
      { role: "worker", fileExists: () => true },
    );
    expect(config.worker.port).toBe(9400);
    expect(config.webDistDir).toBeUndefined();
  });

  it.each([
    ["true", true],
    ["1", true],
    ["false", false],
    ["", false],
    ["10.0.0.0/8, 2001:db8::/32,192.168.1.7", ["10.0.0.0/8", "2001:db8::/32", "192.168.1.7"]],
    ["loopback,uniquelocal", ["loopback", "uniquelocal"]],
  ])("reads TRUST_PROXY=%j", (value, expected) => {
    const config = loadConfig({ DATABASE_URL: "postgresql://u@localhost/x", TRUST_PROXY: value });
    expect(config.trustProxy).toEqual(expected);
  });

  it.each(["yes", "10.0.0.0/33", "300.1.1.1", "10.0.0.0/8/1"])("rejects TRUST_PROXY=%j", (value) => {
    expect(() => loadConfig({ DATABASE_URL: "postgresql://u@localhost/x", TRUST_PROXY: value })).toThrow(
      /TRUST_PROXY must be true, false or comma-separated/,
    );
  });
});

describe("an env file", () => {
  it("treats empty variables as unset", () => {
    let error: unknown;
    try {
      loadConfig(
        {
          NODE_ENV: "production",
          DATABASE_URL: "postgresql://u@db/x",
          SESSION_SECRET: "",
          STRIPE_SECRET_KEY: " ",
        },
        { fileExists: () => true },
      );
    } catch (e) {
      error = e;
    }
    const problems = (error as ConfigError).problems;
    expect(problems.filter((p) => p.startsWith("SESSION_SECRET"))).toEqual([
      "SESSION_SECRET is required in production",
    ]);
    expect(problems.filter((p) => p.startsWith("STRIPE_SECRET_KEY"))).toEqual([
      "STRIPE_SECRET_KEY is required in production",
    ]);
  });
});
