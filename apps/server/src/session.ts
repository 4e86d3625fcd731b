import { AppError, type Auth, resolveViewer, type Viewer } from "@minutely/api";
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
    viewer = resolveViewer(auth, headersOf(req));
    cache.set(req, viewer);
  }
  return viewer;
}

/** A signed-in customer with an account, or a 401/403 in the REST error shape. */
export async function requireCustomer(
  auth: Auth,
  req: FastifyRequest,
): Promise<Viewer & { accountId: string }> {
  const viewer = await viewerOf(auth, req);
  if (!viewer) throw new AppError("UNAUTHORIZED", "Sign in to continue.");
  if (!viewer.accountId) throw new AppError("FORBIDDEN", "This user has no customer account.");
  return { ...viewer, accountId: viewer.accountId };
}

export async function requireAdmin(auth: Auth, req: FastifyRequest): Promise<Viewer> {
  const viewer = await viewerOf(auth, req);
  if (!viewer) throw new AppError("UNAUTHORIZED", "Sign in to continue.");
  if (viewer.role !== "admin") throw new AppError("FORBIDDEN", "This needs the admin role.");
  return viewer;
}
