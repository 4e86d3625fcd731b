import { STATUS_CODES } from "node:http";
import type { Auth } from "@minutely/api";
import { type Database, isDatabaseUnavailable } from "@minutely/db";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { headersOf } from "./session.ts";

/** Limits on the endpoints that guess passwords or create users, per client IP. */
const CREDENTIAL_LIMIT = { max: 10, timeWindow: "1 minute" } as const;

function toWebRequest(req: FastifyRequest): Request {
  const url = new URL(req.url, `${req.protocol}://${req.host}`);
  const headers = headersOf(req);
  const hasBody = req.method !== "GET" && req.method !== "HEAD" && req.body !== undefined;
  return new Request(url, {
    method: req.method,
    headers,
    ...(hasBody ? { body: typeof req.body === "string" ? req.body : JSON.stringify(req.body) } : {}),
  });
}

/**
 * better-auth answers a failed database query with a bare 500, and a session it could not look up as no
 * session (`null`). When PostgreSQL is unreachable neither is true: it is an outage the client should retry
 * through, not our bug and not a signed-out user. Rethrow the database's own error, which the error handler
 * answers with 503 and Retry-After, as every other route does.
 */
async function throwIfDatabaseUnavailable(db: Database): Promise<void> {
  try {
    await db.$queryRaw`SELECT 1`;
  } catch (error) {
    if (isDatabaseUnavailable(error)) throw error;
  }
}

async function forward(auth: Auth, db: Database, req: FastifyRequest, reply: FastifyReply) {
  const response = await auth.handler(toWebRequest(req));
  const text = await response.text();
  const sessionNotFound =
    text === "null" && /(?:^|;\s*)(?:__Secure-)?better-auth\.session_token=/.test(req.headers.cookie ?? "");
  if (response.status >= 500 || sessionNotFound) await throwIfDatabaseUnavailable(db);
  reply.status(response.status);
  response.headers.forEach((value, key) => {
    if (key !== "set-cookie") reply.header(key, value);
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) reply.header("set-cookie", cookies);
  if (response.status >= 400 && !hasMessage(text)) {
    // better-auth answers unknown endpoints (and a few refusals) without a body: say what happened.
    const path = req.url.split("?")[0] ?? req.url;
    reply.removeHeader("content-length");
    return reply.type("application/json; charset=utf-8").send({
      error: response.status === 404 ? "not_found" : `http_${response.status}`,
      message:
        response.status === 404
          ? `No route for ${req.method} ${path}`
          : `The sign-in service refused ${req.method} ${path} (${response.status} ${STATUS_CODES[response.status] ?? "error"}).`,
    });
  }
  return reply.send(text.length > 0 ? text : null);
}

function hasMessage(text: string): boolean {
  try {
    const body = JSON.parse(text) as { message?: unknown } | null;
    return typeof body?.message === "string" && body.message.trim().length > 0;
  } catch {
    return false;
  }
}

/** better-auth's endpoints under /api/auth/*: sign-up/email, sign-in/email, sign-out, get-session… */
export async function registerAuthRoutes(app: FastifyInstance, auth: Auth, db: Database): Promise<void> {
  for (const url of ["/api/auth/sign-in/email", "/api/auth/sign-up/email"]) {
    app.route({
      method: "POST",
      url,
      config: { rateLimit: CREDENTIAL_LIMIT },
      schema: {
        tags: ["Auth"],
        summary: url.endsWith("sign-in/email")
          ? "Sign in with { email, password }; sets the session cookie"
          : "Sign up with { name, email, password }; creates the account and sets the session cookie",
      },
      handler: (req, reply) => forward(auth, db, req, reply),
    });
  }
  app.route({
    method: ["GET", "POST"],
    url: "/api/auth/*",
    handler: (req, reply) => forward(auth, db, req, reply),
  });
}
