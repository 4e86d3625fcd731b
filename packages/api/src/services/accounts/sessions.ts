// A user's own sign-in sessions (better-auth's `session` rows): where they are signed in, and signing out
// one of them or every other one. Deleting the row ends the session at once (better-auth keeps no cookie
// cache here: every request looks its session up).
import type { Ports } from "../../context.ts";
import { AppError } from "../../errors.ts";

export interface SessionView {
  id: string;
  /** "Chrome on macOS", from the browser's User-Agent; "Unknown device" without one. */
  device: string;
  /** The client address it signed in from (as the server saw it: behind a proxy, TRUST_PROXY decides). */
  ipAddress: string | null;
  signedInAt: Date;
  /** When the session was last refreshed: better-auth refreshes it at most once a day (updateAge). */
  lastSeenAt: Date;
  expiresAt: Date;
  /** The session of this request. */
  current: boolean;
}

const BROWSERS: [RegExp, string][] = [
  [/Edg(e|A|iOS)?\//, "Edge"],
  [/OPR\/|Opera/, "Opera"],
  [/Firefox\/|FxiOS/, "Firefox"],
  [/Chrome\/|CriOS|Chromium/, "Chrome"],
  [/Safari\//, "Safari"],
];
const SYSTEMS: [RegExp, string][] = [
  [/iPhone|iPad|iPod/, "iOS"],
  [/Android/, "Android"],
  [/Windows/, "Windows"],
  [/Mac OS X|Macintosh/, "macOS"],
  [/CrOS/, "ChromeOS"],
  [/Linux/, "Linux"],
];

/** A short, human name for a User-Agent: "Firefox on Windows". */
export function deviceOf(userAgent: string | null): string {
  if (!userAgent) return "Unknown device";
  const browser = BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1];
  const system = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1];
  if (browser && system) return `${browser} on ${system}`;
  return browser ?? system ?? userAgent.slice(0, 60);
}

/** The user's sessions that have not expired, the current one first, then the most recently seen. */
export async function listSessions(
  ports: Pick<Ports, "db" | "clock">,
  viewer: { userId: string; sessionId?: string | undefined },
): Promise<SessionView[]> {
  const rows = await ports.db.session.findMany({
    where: { userId: viewer.userId, expiresAt: { gt: ports.clock.now() } },
    orderBy: [{ updatedAt: "desc" }, { id: "asc" }],
    select: { id: true, userAgent: true, ipAddress: true, createdAt: true, updatedAt: true, expiresAt: true },
  });
  return rows
    .map((row) => ({
      id: row.id,
      device: deviceOf(row.userAgent),
      ipAddress: row.ipAddress,
      signedInAt: row.createdAt,
      lastSeenAt: row.updatedAt,
      expiresAt: row.expiresAt,
      current: row.id === viewer.sessionId,
    }))
    .sort((a, b) => Number(b.current) - Number(a.current));
}

/**
 * Signs out one of the user's sessions. Another user's session, or one already gone, is NOT_FOUND; the
 * same request repeated answers from its requestKey (idempotent), so a double click is one sign-out.
 */
export async function revokeSession(
  ports: Pick<Ports, "db">,
  viewer: { userId: string },
  sessionId: string,
): Promise<{ revoked: true }> {
  const { count } = await ports.db.session.deleteMany({ where: { id: sessionId, userId: viewer.userId } });
  if (count === 0)
    throw new AppError("NOT_FOUND", "No such session (it may have ended already).", "sessionId");
  return { revoked: true };
}

/** Signs out every session of the user but this request's; how many ended. */
export async function revokeOtherSessions(
  ports: Pick<Ports, "db">,
  viewer: { userId: string; sessionId?: string | undefined },
): Promise<{ revoked: number }> {
  const { count } = await ports.db.session.deleteMany({
    where: { userId: viewer.userId, ...(viewer.sessionId ? { id: { not: viewer.sessionId } } : {}) },
  });
  return { revoked: count };
}
