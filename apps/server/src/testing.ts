// Builds the real server (no listening socket) on a test database, for `app.inject` tests.
import { createAuth } from "@minutely/api";
import { testPorts } from "@minutely/api/testing";
import type { Database } from "@minutely/db";
import { stripeEmulatorUrl } from "@minutely/testing";
import type { FastifyInstance } from "fastify";
import { loadConfig } from "./config.ts";
import { buildServer } from "./server.ts";

export const TEST_ORIGIN = "http://localhost:3000";

export async function buildTestServer(
  db: Database,
  env: Record<string, string> = {},
): Promise<FastifyInstance> {
  const config = loadConfig({
    NODE_ENV: "test",
    DATABASE_URL: "postgresql://unused@localhost/unused",
    LOG_LEVEL: "silent",
    PUBLIC_URL: TEST_ORIGIN,
    STRIPE_API_BASE: stripeEmulatorUrl(),
    ...env,
  });
  const ports = testPorts(db, {
    stripeApiBase: config.stripe.apiBase ?? "",
    appUrl: config.appUrl,
    publicUrl: config.publicUrl,
  });
  const auth = createAuth({
    db,
    secret: config.sessionSecret,
    baseUrl: config.publicUrl,
    trustedOrigins: config.trustedOrigins,
    secureCookies: config.secureCookies,
    mail: { mailer: ports.mailer, appUrl: config.appUrl },
  });
  const settings = { ...ports.settings, requireVerifiedEmailToBuy: config.requireVerifiedEmailToBuy };
  const app = await buildServer({ config, auth, ...ports, settings });
  await app.ready();
  return app;
}

/** The cookie header a browser would send back after this response. */
export function cookiesFrom(setCookie: string | string[] | undefined): string {
  const list = setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie];
  return list.map((c) => c.split(";")[0]).join("; ");
}
