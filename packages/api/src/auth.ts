// Authentication through better-auth (email + password, sessions stored in PostgreSQL). Minutely adds the
// tenant: sign-up creates the user's Account (the billing entity) in the same database transaction.
import type { Database } from "@minutely/db";
import { betterAuth } from "better-auth";
import { prismaAdapter } from "better-auth/adapters/prisma";
import type { Viewer } from "./context.ts";

export interface AuthOptions {
  db: Database;
  /** Signs session cookies; at least 32 characters. */
  secret: string;
  /** Where the API is reachable from browsers, e.g. http://localhost:3000 or https://app.example.com. */
  baseUrl: string;
  /** Origins allowed to make cookie-authenticated state changes (the SPAs). */
  trustedOrigins: string[];
  /** Secure cookies (HTTPS only). On everywhere except local development and tests. */
  secureCookies: boolean;
}

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 128;

/**
 * The Prisma client better-auth writes through. Creating a user also creates its Account with the user as
 * owner, as one nested write, so a failed sign-up leaves neither behind.
 */
function withAccountOnSignUp(db: Database) {
  return db.$extends({
    query: {
      user: {
        async create({ args, query }) {
          const data = args.data as Record<string, unknown>;
          if (data.accountId === undefined && data.account === undefined) {
            const name = typeof data.name === "string" && data.name.trim() ? data.name.trim() : "My account";
            args.data = {
              ...(args.data as object),
              accountRole: "owner",
              account: { create: { name: name.slice(0, 120) } },
            } as typeof args.data;
          }
          return query(args);
        },
      },
    },
  });
}

export function createAuth(options: AuthOptions) {
  return betterAuth({
    appName: "Minutely",
    baseURL: options.baseUrl,
    basePath: "/api/auth",
    secret: options.secret,
    trustedOrigins: options.trustedOrigins,
    database: prismaAdapter(withAccountOnSignUp(options.db), { provider: "postgresql", transaction: true }),
    emailAndPassword: {
      enabled: true,
      autoSignIn: true,
      minPasswordLength: MIN_PASSWORD_LENGTH,
      maxPasswordLength: MAX_PASSWORD_LENGTH,
    },
    user: {
      modelName: "user",
      additionalFields: {
        role: { type: "string", required: false, input: false, defaultValue: "user" },
        accountId: { type: "string", required: false, input: false },
      },
    },
    account: { modelName: "authCredential" },
    session: {
      modelName: "session",
      expiresIn: 60 * 60 * 24 * 14,
      updateAge: 60 * 60 * 24,
    },
    verification: { modelName: "verification" },
    // Rate limits are applied by the HTTP server (shared with the rest of the API).
    rateLimit: { enabled: false },
    telemetry: { enabled: false },
    advanced: {
      database: { generateId: "uuid" },
      useSecureCookies: options.secureCookies,
      defaultCookieAttributes: { httpOnly: true, sameSite: "lax", secure: options.secureCookies },
    },
  });
}

export type Auth = ReturnType<typeof createAuth>;

/** The signed-in viewer for a request's headers, or null. */
export async function resolveViewer(auth: Auth, headers: Headers): Promise<Viewer | null> {
  const result = await auth.api.getSession({ headers });
  if (!result) return null;
  const user = result.user as typeof result.user & { role?: unknown; accountId?: unknown };
  return {
    userId: user.id,
    email: user.email,
    name: user.name,
    role: user.role === "admin" ? "admin" : "user",
    accountId: typeof user.accountId === "string" ? user.accountId : null,
    sessionStartedAt: new Date(result.session.createdAt),
    sessionId: result.session.id,
  };
}
