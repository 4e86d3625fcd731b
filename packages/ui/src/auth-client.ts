// Minimal client for the API's /api/auth endpoints (better-auth on the server). Cookies carry the session.

export class AuthError extends Error {
  override name = "AuthError";
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

/**
 * One Idempotency-Key per intent and endpoint, as the apps' tRPC mutations have (their lib/intent.ts): the
 * same values sent again (a double submit, a retry after a lost answer) carry the same key, other values or
 * a success start a new one. The server honours it on sign-up (a repeat is answered as a sign-in instead of
 * "user already exists"); signing in or out again has the same outcome by itself.
 */
const intents = new Map<string, { key: string; fingerprint: string }>();

function intentKeyOf(path: string, body: unknown): string {
  const fingerprint = JSON.stringify(body);
  const current = intents.get(path);
  if (current?.fingerprint === fingerprint) return current.key;
  const key = crypto.randomUUID().replaceAll("-", "");
  intents.set(path, { key, fingerprint });
  return key;
}

/** Statuses that mean "not now" rather than "no": the same request may succeed a moment later. */
const TRANSIENT_STATUSES = new Set([502, 503, 504]);
/** Attempts of one request in all (the first and two retries), as the apps' tRPC mutations make. */
const MAX_ATTEMPTS = 3;
/** The longest wait between attempts: a Retry-After beyond it is not waited out, the error is shown. */
const MAX_WAIT_MS = 5_000;

export interface AuthTransport {
  fetch: typeof fetch;
  sleep: (ms: number) => Promise<void>;
}

const browserTransport: AuthTransport = {
  fetch: (...args) => fetch(...args),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** How long to wait before attempt `attempt + 1`: the server's Retry-After (seconds) if it sent one, else 1 s, 2 s. */
function waitBefore(attempt: number, retryAfter: string | null): number | null {
  const seconds = retryAfter === null ? Number.NaN : Number(retryAfter);
  const ms = Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 1000 * attempt;
  return ms <= MAX_WAIT_MS ? ms : null;
}

/**
 * Posts to an auth endpoint. A lost connection or an unavailable server (502/503/504, during a restart or a
 * database failover) is retried twice with the same Idempotency-Key, after the server's Retry-After when it
 * is short; every other answer is final. Signing in or out again has the same outcome, and a repeated
 * sign-up is answered by its key, so a retry never creates a second account.
 */
export async function postAuth(
  path: string,
  body: unknown,
  transport: AuthTransport = browserTransport,
): Promise<unknown> {
  const key = intentKeyOf(path, body);
  for (let attempt = 1; ; attempt++) {
    let response: Response;
    try {
      response = await transport.fetch(`/api/auth/${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": key },
        credentials: "same-origin",
        body: JSON.stringify(body),
      });
    } catch {
      if (attempt >= MAX_ATTEMPTS) throw new AuthError("Could not reach Minutely. Check your connection.", 0);
      await transport.sleep(1000 * attempt);
      continue;
    }
    if (TRANSIENT_STATUSES.has(response.status) && attempt < MAX_ATTEMPTS) {
      const wait = waitBefore(attempt, response.headers.get("retry-after"));
      if (wait !== null) {
        await response.body?.cancel();
        await transport.sleep(wait);
        continue;
      }
    }
    const text = await response.text();
    let data: unknown = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!response.ok) {
      const { message, code } = (data ?? {}) as { message?: string; code?: string };
      throw new AuthError(message ?? `Request failed (${response.status})`, response.status, code);
    }
    intents.delete(path);
    return data;
  }
}

export function signIn(input: { email: string; password: string }) {
  return postAuth("sign-in/email", input);
}

export function signUp(input: { name: string; email: string; password: string }) {
  return postAuth("sign-up/email", input);
}

export function signOut() {
  return postAuth("sign-out", {});
}

/** Mails a reset link if the address is registered; the answer is the same either way. */
export function requestPasswordReset(input: { email: string }) {
  return postAuth("request-password-reset", input);
}

/** Sets a new password with a reset link's token (once; a repeat of the same submit answers as the first). */
export function resetPassword(input: { token: string; newPassword: string }) {
  return postAuth("reset-password", input);
}

/** Changes the signed-in user's password; every other session ends (the server insists). */
export function changePassword(input: { currentPassword: string; newPassword: string }) {
  return postAuth("change-password", input);
}

/** Mails a new verification link to the signed-in user's address. */
export function sendVerificationEmail(input: { email: string }) {
  return postAuth("send-verification-email", input);
}

/** Follows a verification link's token; verifying again is still verified. */
export async function verifyEmail(token: string, transport: AuthTransport = browserTransport): Promise<void> {
  let response: Response;
  try {
    response = await transport.fetch(`/api/auth/verify-email?token=${encodeURIComponent(token)}`, {
      credentials: "same-origin",
    });
  } catch {
    throw new AuthError("Could not reach Minutely. Check your connection.", 0);
  }
  if (response.ok) return;
  const data = (await response.json().catch(() => null)) as { message?: string; code?: string } | null;
  throw new AuthError(data?.message ?? `Request failed (${response.status})`, response.status, data?.code);
}

// Browsers read "\\" as "/" in an address and drop tabs and newlines, so "/\\evil.example" and
// "/<tab>/evil.example" are "//evil.example", another site: any backslash or control character is refused.
const hasUnsafeCharacter = (text: string) =>
  [...text].some((character) => character === "\\" || character <= "\u001f" || character === "\u007f");
// A "." or ".." segment (also percent-encoded, which browsers resolve too) climbs out of the app's base.
const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)/i;

/**
 * Where to go after signing in: only same-app paths are followed (no open redirects). A path that starts
 * with one "/", without backslashes, control characters or dot segments; anything else is the home page.
 */
export function safeRedirect(target: string | undefined): string {
  if (typeof target !== "string" || !target.startsWith("/") || target.startsWith("//")) return "/";
  if (hasUnsafeCharacter(target)) return "/";
  const path = target.split(/[?#]/, 1)[0] ?? "";
  return DOT_SEGMENT.test(path) ? "/" : target;
}
