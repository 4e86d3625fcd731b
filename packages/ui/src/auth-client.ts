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

async function post(path: string, body: unknown): Promise<unknown> {
  const response = await fetch(`/api/auth/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    credentials: "same-origin",
    body: JSON.stringify(body),
  });
  const text = await response.text();
  const data: unknown = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const { message, code } = (data ?? {}) as { message?: string; code?: string };
    throw new AuthError(message ?? `Request failed (${response.status})`, response.status, code);
  }
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
