// The two plain Fastify routes the dashboard benchmark measures tRPC's dashboard.get against, in the API
// process (dashboard-server.ts): GET /bench/dashboard makes the same service call as the tRPC query, with the
// same session lookup; GET /bench/dashboard-sql answers the same JSON from one SQL statement, session
// included (dashboard-floor.ts), after checking the session cookie's signature as better-auth does.
import { createHmac, timingSafeEqual } from "node:crypto";
import { type Auth, dashboard, type Ports } from "@minutely/api";
import type { FastifyInstance } from "fastify";
import type pg from "pg";
import { viewerOf } from "../apps/server/src/session.ts";
import { dashboardFloor } from "./dashboard-floor.ts";

/**
 * The session token of a better-auth session cookie (`name` in the `Cookie` header), or null when it is
 * absent or its signature is not the secret's: `token.signature`, URI-encoded, where the signature is the
 * base64 HMAC-SHA256 of the token (better-call's signed cookies; the first cookie of the name counts).
 */
export function sessionTokenOf(
  cookieHeader: string | undefined,
  name: string,
  secret: string,
): string | null {
  if (!cookieHeader) return null;
  for (const pair of cookieHeader.split(";")) {
    const eq = pair.indexOf("=");
    if (eq === -1 || pair.slice(0, eq).trim() !== name) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.startsWith('"')) value = value.slice(1, -1);
    try {
      value = decodeURIComponent(value);
    } catch {
      return null;
    }
    const dot = value.lastIndexOf(".");
    if (dot < 1) return null;
    const token = value.slice(0, dot);
    const signature = value.slice(dot + 1);
    if (signature.length !== 44 || !signature.endsWith("=")) return null;
    const expected = createHmac("sha256", secret).update(token).digest();
    const given = Buffer.from(signature, "base64");
    return given.length === expected.length && timingSafeEqual(given, expected) ? token : null;
  }
  return null;
}

export async function registerDashboardRoutes(
  app: FastifyInstance,
  deps: {
    auth: Auth;
    ports: Pick<Ports, "db" | "clock">;
    /** The pool under `ports.db` (databasePoolOf). */
    pool: pg.Pool;
    sessionSecret: string;
  },
): Promise<void> {
  const { auth, ports, pool, sessionSecret } = deps;
  const cookieName = (await auth.$context).authCookies.sessionToken.name;
  app.get("/bench/dashboard", async (req, reply) => {
    const viewer = await viewerOf(auth, req);
    if (!viewer?.accountId) return reply.code(401).send({ error: "unauthorized" });
    return await dashboard(ports, { ...viewer, accountId: viewer.accountId });
  });
  app.get("/bench/dashboard-sql", async (req, reply) => {
    const token = sessionTokenOf(req.headers.cookie, cookieName, sessionSecret);
    const json = token === null ? null : await dashboardFloor(pool, token, ports.clock.now());
    if (json === null) return reply.code(401).send({ error: "unauthorized" });
    // PostgreSQL's text as it is: no parse and no stringify in the API process.
    return reply.type("application/json; charset=utf-8").send(json);
  });
}
