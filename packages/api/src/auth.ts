// Authentication through better-auth (email + password, sessions stored in PostgreSQL). Minutely adds the
// tenant: sign-up creates the user's Account (the billing entity) in the same database transaction.
import { createHash } from "node:crypto";
import { type Database, Prisma } from "@minutely/db";
import { betterAuth } from "better-auth";
import { prismaAdapter } from "better-auth/adapters/prisma";
import type { Viewer } from "./context.ts";
import { type AccountRole, isAccountRole } from "./permissions.ts";
import type { Mailer } from "./ports/mailer.ts";
import { preparedQuery } from "./prepared.ts";

/**
 * Mail of the sign-in service (password reset, email verification), sent through the outbox mailer. Without
 * it, resetting a password and verifying an address are switched off (tools and benches that only sign up).
 */
export interface AuthMail {
  mailer: Mailer;
  /** The customer app (APP_URL): the links in the mail open its /reset-password and /verify-email pages. */
  appUrl: string;
  /** Told every link sent (development logs it, so the flows work without SMTP). */
  onLink?: (link: { kind: "reset-password" | "verify-email"; to: string; url: string }) => void;
}

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
  mail?: AuthMail;
}

/**
 * Voids the user's password reset links still pending (better-auth stores each as verification
 * `reset-password:<token>` with the user's id as its value): a new password, by a link or in the settings,
 * makes every older link useless, so a link that leaked (a shared mailbox, a forwarded mail) cannot undo it.
 */
export async function voidPasswordResetLinks(db: Database, userId: string): Promise<void> {
  await db.verification.deleteMany({
    where: { value: userId, identifier: { startsWith: "reset-password:" } },
  });
}

/** The domain of a deleted (pseudonymised) user's address (services/accounts/deletion.ts). */
export const DELETED_USER_DOMAIN = "deleted.invalid";

/** A pseudonymised user's address: nobody's, so no link is ever mailed to it (nor logged). */
function isDeletedUserAddress(email: string): boolean {
  return email.toLowerCase().endsWith(`@${DELETED_USER_DOMAIN}`);
}

/** A password reset link works once, for an hour. */
export const RESET_PASSWORD_TOKEN_SECONDS = 60 * 60;
/** An email verification link works for a day (and again: verifying twice is verified). */
export const VERIFY_EMAIL_TOKEN_SECONDS = 24 * 60 * 60;

/** The outbox key of a mail carrying `token` (tokens are long; the key is their hash). */
function mailKey(kind: string, token: string): string {
  return `${kind}:${createHash("sha256").update(token).digest("hex")}`;
}

async function resetPasswordMail(mail: AuthMail, user: { email: string; name: string }, token: string) {
  if (isDeletedUserAddress(user.email)) return;
  const url = `${mail.appUrl.replace(/\/$/, "")}/reset-password?token=${encodeURIComponent(token)}`;
  mail.onLink?.({ kind: "reset-password", to: user.email, url });
  await mail.mailer.send({
    to: user.email,
    subject: "Reset your Minutely password",
    text: [
      `Hello ${user.name},`,
      "",
      "Someone (we hope you) asked to reset the password of your Minutely sign-in. Choose a new one here:",
      "",
      url,
      "",
      "The link works once, for one hour. Setting a new password signs you out everywhere else.",
      "If you did not ask for this, ignore this mail: your password stays as it is.",
    ].join("\n"),
    dedupeKey: mailKey("reset-password", token),
  });
}

/** Mails the link confirming `user.email` (sign-up, the customer's banner, an admin's resend). */
export async function verifyEmailMail(
  mail: Pick<AuthMail, "mailer" | "appUrl" | "onLink">,
  user: { email: string; name: string },
  token: string,
) {
  if (isDeletedUserAddress(user.email)) return;
  const url = `${mail.appUrl.replace(/\/$/, "")}/verify-email?token=${encodeURIComponent(token)}`;
  mail.onLink?.({ kind: "verify-email", to: user.email, url });
  await mail.mailer.send({
    to: user.email,
    subject: "Confirm your email address for Minutely",
    text: [
      `Hello ${user.name},`,
      "",
      "Please confirm that this is your email address. Until you do, you can use Minutely but not buy a package:",
      "",
      url,
      "",
      "The link works for 24 hours; you can ask for a new one on your account page.",
    ].join("\n"),
    dedupeKey: mailKey("verify-email", token),
  });
}

/**
 * The header the server puts the client's address in (as Fastify resolved it, honouring TRUST_PROXY) on
 * every request it hands to better-auth; better-auth reads the address from it alone, never from a
 * client's own X-Forwarded-For.
 */
export const CLIENT_IP_HEADER = "x-minutely-client-ip";

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 128;

/**
 * The Prisma client better-auth writes through. Creating a user also creates its own Account with the user
 * as its owner (an `account_member` row), as one nested write, so a failed sign-up leaves nothing behind. A
 * user who joins by invitation has this account too (their own, empty) besides the one they joined.
 */
function withAccountOnSignUp(db: Database) {
  return db.$extends({
    query: {
      user: {
        async create({ args, query }) {
          const data = args.data as Record<string, unknown>;
          if (data.memberships === undefined) {
            const name = typeof data.name === "string" && data.name.trim() ? data.name.trim() : "My account";
            args.data = {
              ...(args.data as object),
              memberships: { create: { role: "owner", account: { create: { name: name.slice(0, 120) } } } },
            } as typeof args.data;
          }
          return query(args);
        },
      },
    },
  });
}

/** The database each auth instance was made with (resolveViewer reads memberships through it). */
const databaseOfAuth = new WeakMap<object, Database>();

export function createAuth(options: AuthOptions) {
  const auth = betterAuth({
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
      // Unverified users can sign in and use the app; buying needs a verified address (Settings).
      requireEmailVerification: false,
      resetPasswordTokenExpiresIn: RESET_PASSWORD_TOKEN_SECONDS,
      // A new password ends every session: whoever knew the old one is signed out.
      revokeSessionsOnPasswordReset: true,
      // ...and voids the other links still pending.
      onPasswordReset: async ({ user }: { user: { id: string } }) => {
        await voidPasswordResetLinks(options.db, user.id);
      },
      ...(options.mail
        ? {
            sendResetPassword: async ({
              user,
              token,
            }: {
              user: { email: string; name: string };
              token: string;
            }) => {
              await resetPasswordMail(options.mail as AuthMail, user, token);
            },
          }
        : {}),
    },
    ...(options.mail
      ? {
          emailVerification: {
            sendOnSignUp: true,
            sendOnSignIn: false,
            autoSignInAfterVerification: false,
            expiresIn: VERIFY_EMAIL_TOKEN_SECONDS,
            sendVerificationEmail: async ({
              user,
              token,
            }: {
              user: { email: string; name: string };
              token: string;
            }) => {
              await verifyEmailMail(options.mail as AuthMail, user, token);
            },
          },
        }
      : {}),
    user: {
      modelName: "user",
      additionalFields: {
        role: { type: "string", required: false, input: false, defaultValue: "user" },
      },
    },
    account: { modelName: "authCredential" },
    session: {
      modelName: "session",
      // The account this session acts in; set only by Minutely (`memberships.switch`), never by a client.
      additionalFields: { activeAccountId: { type: "string", required: false, input: false } },
      expiresIn: 60 * 60 * 24 * 14,
      updateAge: 60 * 60 * 24,
    },
    verification: { modelName: "verification" },
    databaseHooks: {
      account: {
        update: {
          // change-password writes the credential's new hash: the reset links asked for before are void.
          after: async (credential: { userId?: unknown; providerId?: unknown; password?: unknown }) => {
            if (
              credential.providerId === "credential" &&
              typeof credential.userId === "string" &&
              typeof credential.password === "string"
            ) {
              await voidPasswordResetLinks(options.db, credential.userId);
            }
          },
        },
      },
    },
    // Rate limits are applied by the HTTP server (shared with the rest of the API).
    rateLimit: { enabled: false },
    telemetry: { enabled: false },
    advanced: {
      database: { generateId: "uuid" },
      useSecureCookies: options.secureCookies,
      ipAddress: { ipAddressHeaders: [CLIENT_IP_HEADER] },
      defaultCookieAttributes: { httpOnly: true, sameSite: "lax", secure: options.secureCookies },
    },
  });
  databaseOfAuth.set(auth, options.db);
  return auth;
}

export type Auth = ReturnType<typeof createAuth>;

/**
 * The account a session acts in and the user's role there: the session's chosen account when the user is
 * still a member of it, else the user's oldest membership (their own account, made at sign-up). Read on every
 * request, so a removed member or a changed role takes effect at the next request.
 */
export async function activeMembership(
  db: Database,
  userId: string,
  activeAccountId: string | null,
): Promise<{ accountId: string; role: AccountRole } | null> {
  // Every signed-in request reads this: a prepared statement on the pool, the chosen row only (the session's
  // account when the person is still a member of it, else their oldest membership).
  const [chosen] = await preparedQuery<{ account_id: string; role: string }>(
    db,
    Prisma.sql`SELECT account_id::text AS account_id, role::text AS role FROM account_member
      WHERE user_id = ${userId}::uuid
      ORDER BY account_id = ${activeAccountId}::uuid DESC NULLS LAST, created_at, account_id
      LIMIT 1`,
  );
  if (!chosen || !isAccountRole(chosen.role)) return null;
  return { accountId: chosen.account_id, role: chosen.role };
}

/** The signed-in viewer for a request's headers, or null. */
export async function resolveViewer(auth: Auth, headers: Headers): Promise<Viewer | null> {
  const result = await auth.api.getSession({ headers });
  if (!result) return null;
  const user = result.user as typeof result.user & { role?: unknown };
  const session = result.session as typeof result.session & { activeAccountId?: unknown };
  const db = databaseOfAuth.get(auth);
  if (!db) throw new Error("resolveViewer: this auth instance was not made by createAuth");
  const active = typeof session.activeAccountId === "string" ? session.activeAccountId : null;
  const membership = await activeMembership(db, user.id, active);
  // The session was read before its memberships: an account deleted (or a removal) committing in between
  // ended the session with the membership. Without this check the request would run without an account
  // (403), or, when the session had chosen the account and the person has another, in that other account
  // (the oldest membership). Only then is the session read again (rare): gone, the request is signed out.
  if (membership === null || (active !== null && membership.accountId !== active)) {
    const still = await db.session.findUnique({ where: { id: result.session.id }, select: { id: true } });
    if (!still) return null;
  }
  return {
    userId: user.id,
    email: user.email,
    name: user.name,
    role: user.role === "admin" ? "admin" : "user",
    emailVerified: user.emailVerified === true,
    accountId: membership?.accountId ?? null,
    accountRole: membership?.role ?? null,
    sessionStartedAt: new Date(result.session.createdAt),
    sessionId: result.session.id,
  };
}
