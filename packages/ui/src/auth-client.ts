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

async function post(path: string, body: unknown): Promise<unknown> {
  const response = await fetch(`/api/auth/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": intentKeyOf(path, body) },
    credentials: "same-origin",
    body: JSON.stringify(body),
  });
  const text = await response.text();
  const data: unknown = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const { message, code } = (data ?? {}) as { message?: string; code?: string };
    throw new AuthError(message ?? `Request failed (${response.status})`, response.status, code);
  }
  intents.delete(path);
  return data;
}

export function signIn(input: { email: string; password: string }) {
  return post("sign-in/email", input);
}

export function signUp(input: { name: string; email: string; password: string }) {
  return post("sign-up/email", input);
}

export function signOut() {
  return post("sign-out", {});
}

/** Where to go after signing in: only same-app paths are followed (no open redirects). */
export function safeRedirect(target: string | undefined): string {
  return target?.startsWith("/") && !target.startsWith("//") ? target : "/";
}
