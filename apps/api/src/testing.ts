// Builds the real server (no listening socket) on a test database, for `app.inject` tests.
import { createAuth } from "@minutely/api";
import type { Database } from "@minutely/db";
import { fixedClock } from "@minutely/domain";
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
    ...env,
  });
  const auth = createAuth({
    db,
    secret: config.sessionSecret,
    baseUrl: config.publicUrl,
    trustedOrigins: config.trustedOrigins,
    secureCookies: config.secureCookies,
  });
  const app = await buildServer({ config, db, auth, clock: fixedClock(new Date("2026-11-27T12:00:00Z")) });
  await app.ready();
  return app;
}

/** The cookie header a browser would send back after this response. */
export function cookiesFrom(setCookie: string | string[] | undefined): string {
  const list = setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie];
  return list.map((c) => c.split(";")[0]).join("; ");
}
