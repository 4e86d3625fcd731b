import {
  ACTING_ACCOUNT_HEADER,
  AppError,
  type Auth,
  actingAccountOf,
  resolveViewer,
  roleRefusal,
  routeAllows,
  type Viewer,
} from "@minutely/api";
import type { FastifyRequest } from "fastify";

export function headersOf(req: FastifyRequest): Headers {
  const headers = new Headers();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    // Node's HTTP parser refuses control characters, but a value Headers rejects is skipped, never a 500.
    try {
      if (Array.isArray(value)) for (const v of value) headers.append(key, v);
      else headers.set(key, value);
    } catch {}
  }
  return headers;
}

const cache = new WeakMap<FastifyRequest, Promise<Viewer | null>>();

/** The signed-in viewer of a request (from its session cookie), resolved once per request. */
export function viewerOf(auth: Auth, req: FastifyRequest): Promise<Viewer | null> {
  let viewer = cache.get(req);
  if (!viewer) {
    const acting = actingAccountOf(req.headers[ACTING_ACCOUNT_HEADER]);
    viewer = resolveViewer(auth, headersOf(req)).then((resolved) =>
      resolved && acting ? { ...resolved, actingAccountId: acting } : resolved,
    );
    cache.set(req, viewer);
  }
  return viewer;
}

/** The key of a route in the role table (`ROUTE_ACCESS`): its method and URL pattern as registered. */
export function routeKeyOf(req: FastifyRequest): string {
  return `${req.method} ${req.routeOptions.url ?? req.url}`;
}

/**
 * A signed-in member of the session's active account whose role the role table allows for this route, or a
 * 401/403 in the REST error shape. A route missing from the table is refused (deny by default).
 */
export async function requireCustomer(
  auth: Auth,
  req: FastifyRequest,
): Promise<Viewer & { accountId: string }> {
  const viewer = await viewerOf(auth, req);
  if (!viewer) throw new AppError("UNAUTHORIZED", "Sign in to continue.");
  if (!viewer.accountId || !viewer.accountRole) {
    throw new AppError("FORBIDDEN", "This user has no customer account.");
  }
  if (!routeAllows(routeKeyOf(req), viewer.accountRole)) {
    throw new AppError("FORBIDDEN", roleRefusal(viewer.accountRole));
  }
  if (req.method !== "GET" && viewer.actingAccountId && viewer.actingAccountId !== viewer.accountId) {
    // As the tRPC account procedures: the page was for the account this browser switched away from.
    throw new AppError(
      "CONFLICT",
      "This page was showing another account: you switched accounts in another tab. Reload the page to act in the account you are in now.",
    );
  }
  return { ...viewer, accountId: viewer.accountId };
}

export async function requireAdmin(auth: Auth, req: FastifyRequest): Promise<Viewer> {
  const viewer = await viewerOf(auth, req);
  if (!viewer) throw new AppError("UNAUTHORIZED", "Sign in to continue.");
  if (viewer.role !== "admin") throw new AppError("FORBIDDEN", "This needs the admin role.");
  return viewer;
}
