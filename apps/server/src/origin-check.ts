import type { FastifyInstance } from "fastify";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Cookie-authenticated state changes must come from one of our own origins (defence against CSRF on top
 * of SameSite cookies). Requests without cookies (service tokens, API keys) are not affected. The auth
 * endpoints (/api/auth/*) are browser-only and checked with or without a cookie: a forged sign-in plants
 * the attacker's session (login CSRF), a forged sign-out ends the victim's, and better-auth's own check
 * lets a cross-site sign-out through.
 */
export function registerOriginCheck(app: FastifyInstance, trustedOrigins: readonly string[]): void {
  const trusted = new Set(trustedOrigins);
  app.addHook("onRequest", async (req, reply) => {
    if (SAFE_METHODS.has(req.method) || req.url.startsWith("/api/webhooks/")) return;
    if (!req.headers.cookie && !req.url.startsWith("/api/auth/")) return;
    const origin = req.headers.origin ?? refererOrigin(req.headers.referer);
    if (origin && trusted.has(origin)) return;
    return reply.code(403).send({
      error: "forbidden_origin",
      message: origin
        ? `Requests from ${origin} may not change data here.`
        : "Missing Origin header: this request must come from the Minutely app.",
    });
  });
}

function refererOrigin(referer: string | undefined): string | undefined {
  if (!referer) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return undefined;
  }
}
