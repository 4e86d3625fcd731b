import { createHash } from "node:crypto";
import { STATUS_CODES } from "node:http";
import {
  AppError,
  type Auth,
  CLIENT_IP_HEADER,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  runIdempotently,
  ZRequestKeySchema,
} from "@minutely/api";
import { type Database, isDatabaseUnavailable } from "@minutely/db";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { RateLimitBuckets } from "./rate-limit-store.ts";
import { parse, RestError } from "./rest.ts";
import { jsonSchemaOf } from "./routes/define-route.ts";
import { headersOf, viewerOf } from "./session.ts";

/** Limits on the endpoints that check passwords or create users, per client IP and endpoint. */
const CREDENTIAL_LIMIT = { max: 10, timeWindow: "1 minute" } as const;

/** Sends another endpoint and body to better-auth than the request's own (a sign-up replayed as a sign-in). */
interface Rewrite {
  path: string;
  body: unknown;
}

function toWebRequest(req: FastifyRequest, rewrite?: Rewrite): Request {
  const url = new URL(rewrite ? `/api/auth/${rewrite.path}` : req.url, `${req.protocol}://${req.host}`);
  const headers = headersOf(req);
  // The client address as Fastify resolved it (TRUST_PROXY decides whether X-Forwarded-For counts): what
  // better-auth records on a session (the sessions list shows it). Replaces whatever the client sent.
  headers.set(CLIENT_IP_HEADER, req.ip);
  const body = rewrite ? rewrite.body : req.body;
  const hasBody = req.method !== "GET" && req.method !== "HEAD" && body !== undefined;
  return new Request(url, {
    method: req.method,
    headers,
    ...(hasBody ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
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

async function forward(
  auth: Auth,
  db: Database,
  req: FastifyRequest,
  reply: FastifyReply,
  /** Runs after better-auth has answered and before the answer is sent (so the client cannot outrun it). */
  beforeSend?: (status: number) => Promise<void>,
  rewrite?: Rewrite,
) {
  const response = await auth.handler(toWebRequest(req, rewrite));
  const text = await response.text();
  // A session cookie that better-auth found no session for: `null` (get-session) or a 401 (the routes
  // that need one). Either way, ask the database whether it could have looked.
  const sessionNotFound =
    (text === "null" || response.status === 401) &&
    /(?:^|;\s*)(?:__Secure-)?better-auth\.session_token=/.test(req.headers.cookie ?? "");
  if (response.status >= 500 || sessionNotFound) await throwIfDatabaseUnavailable(db);
  await beforeSend?.(response.status);
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

/** A user's name: the column is varchar(120), counted in characters (code points), not UTF-16 units. */
export const MAX_USER_NAME_LENGTH = 120;
/** A profile image is a link to one (it travels in every session response), never the image itself. */
export const MAX_IMAGE_URL_LENGTH = 2048;
/** Control characters, line and paragraph separators and bidirectional overrides: no name needs them. */
const CONTROL_CHARACTERS = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/u;

const ZUserNameSchema = z
  .string({ error: "must be a string" })
  .trim()
  .min(1, "is required")
  .refine((name) => [...name].length <= MAX_USER_NAME_LENGTH, {
    message: `must be at most ${MAX_USER_NAME_LENGTH} characters`,
  })
  .refine((name) => !CONTROL_CHARACTERS.test(name), "must not contain control characters");
const ZImageSchema = z
  .string({ error: "must be an http(s) URL or null" })
  .max(MAX_IMAGE_URL_LENGTH, `must be a URL of at most ${MAX_IMAGE_URL_LENGTH} characters`)
  .pipe(z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }))
  .nullable();
const ZEmailSchema = z.email({ error: "must be an email address" }).max(254, "is too long");
const ZPasswordSchema = z
  .string({ error: "must be a string" })
  .min(1, "is required")
  .max(MAX_PASSWORD_LENGTH, `must be at most ${MAX_PASSWORD_LENGTH} characters`);
const ZNewPasswordSchema = z
  .string({ error: "must be a string" })
  .min(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(MAX_PASSWORD_LENGTH, `must be at most ${MAX_PASSWORD_LENGTH} characters`);
const ZCallbackUrlSchema = z.string({ error: "must be a string" }).max(2048, "is too long");
const ZFlagSchema = z.boolean({ error: "must be true or false" });

/** Credential attempts per account (sign-in's email, or the signed-in user's), over every endpoint below. */
export const ACCOUNT_CREDENTIAL_LIMIT = { max: 10, windowMs: 10 * 60_000 } as const;

interface AuthEndpoint {
  path: string;
  summary: string;
  body: z.ZodType;
  /** Counted per client address (10 a minute per endpoint). */
  perAddress: boolean;
  /** Counted per account too: whose credential the request checks. */
  account?: "email" | "session";
  /** A success proves the password, so it clears the account's count (not so for change-email). */
  successClearsCount?: boolean;
  /** Mails a link to the body's email: counted per address (MAIL_REQUEST_LIMIT), answered no faster than the floor. */
  mailTo?: boolean;
}

/**
 * better-auth's endpoints that take a JSON body Minutely validates itself (strictly, naming the field,
 * before better-auth sees it) and every endpoint that checks a password or a token, rate-limited.
 */
const ENDPOINTS: AuthEndpoint[] = [
  {
    path: "sign-up/email",
    summary: "Sign up with { name, email, password }; creates the account and sets the session cookie",
    body: z.strictObject({
      name: ZUserNameSchema,
      email: ZEmailSchema,
      password: ZNewPasswordSchema,
      image: ZImageSchema.optional(),
      callbackURL: ZCallbackUrlSchema.optional(),
      rememberMe: ZFlagSchema.optional(),
    }),
    perAddress: true,
  },
  {
    path: "sign-in/email",
    summary: "Sign in with { email, password }; sets the session cookie",
    body: z.strictObject({
      email: ZEmailSchema,
      password: ZPasswordSchema,
      callbackURL: ZCallbackUrlSchema.optional(),
      rememberMe: ZFlagSchema.optional(),
    }),
    perAddress: true,
    account: "email",
    successClearsCount: true,
  },
  {
    path: "update-user",
    summary: "Change the signed-in user's name or profile image (an http(s) URL, or null to remove it)",
    body: z.strictObject({ name: ZUserNameSchema.optional(), image: ZImageSchema.optional() }),
    perAddress: false,
  },
  {
    path: "change-password",
    summary:
      "Change the signed-in user's password, given the current one; ends every other session of the user (revokeOtherSessions is always true) and answers with a new token",
    body: z.strictObject({
      currentPassword: ZPasswordSchema,
      newPassword: ZNewPasswordSchema,
      revokeOtherSessions: ZFlagSchema.optional(),
    }),
    perAddress: true,
    account: "session",
    successClearsCount: true,
  },
  {
    path: "change-email",
    summary:
      "Change the signed-in user's email address (switched off in Minutely: answers 400 CHANGE_EMAIL_DISABLED)",
    body: z.strictObject({ newEmail: ZEmailSchema, callbackURL: ZCallbackUrlSchema.optional() }),
    perAddress: true,
    account: "session",
  },
  {
    path: "delete-user",
    summary: "Delete the signed-in user with its password (switched off in Minutely: answers 404)",
    body: z.strictObject({
      password: ZPasswordSchema.optional(),
      token: z.string({ error: "must be a string" }).max(512, "is too long").optional(),
      callbackURL: ZCallbackUrlSchema.optional(),
    }),
    perAddress: true,
    account: "session",
    successClearsCount: true,
  },
  {
    path: "verify-password",
    summary: "Check the signed-in user's password",
    body: z.strictObject({ password: ZPasswordSchema }),
    perAddress: true,
    account: "session",
    successClearsCount: true,
  },
  {
    path: "request-password-reset",
    summary:
      "Mail a password reset link to { email } (works once, for an hour). Always answers 200 with the same message, registered or not",
    body: z.strictObject({ email: ZEmailSchema }),
    perAddress: true,
    mailTo: true,
  },
  {
    path: "reset-password",
    summary:
      "Set a new password with the token of a reset link (once); ends every session of the user. With an Idempotency-Key, a repeat of the same submit answers as the first did",
    body: z.strictObject({
      newPassword: ZNewPasswordSchema,
      token: z.string({ error: "must be a string" }).min(1, "is required").max(512, "is too long"),
    }),
    perAddress: true,
  },
  {
    path: "send-verification-email",
    summary:
      "Mail a new email verification link to { email } (signed in: your own address). Answers 200 whether or not the address is registered",
    body: z.strictObject({ email: ZEmailSchema }),
    perAddress: true,
    mailTo: true,
  },
];

/**
 * Mail requested for an address (a reset or verification link), per address: a flood of requests cannot
 * flood a mailbox. Counted whether or not the address is registered, so a 429 tells nothing about it.
 */
export const MAIL_REQUEST_LIMIT = { max: 5, windowMs: 60 * 60_000 } as const;
/**
 * Answers that mail a link take at least this long, so a registered address (a mail stored or sent) and an
 * unknown one (nothing to send) answer alike.
 */
export const MAIL_REQUEST_FLOOR_MS = 400;

async function countMailRequest(buckets: RateLimitBuckets, email: string, reply: FastifyReply) {
  const { current, ttl } = await buckets.hit("mail-request", email, MAIL_REQUEST_LIMIT.windowMs);
  if (current <= MAIL_REQUEST_LIMIT.max) return;
  const seconds = Math.max(1, Math.ceil(ttl / 1000));
  reply.header("retry-after", String(seconds));
  throw new RestError(429, {
    error: "rate_limited",
    message: `Too many mails asked for this address. Try again in ${Math.ceil(seconds / 60)} minutes.`,
  });
}

/** Counts a credential attempt against the account; a 429 once the account has had too many. */
async function countAccountAttempt(buckets: RateLimitBuckets, account: string, reply: FastifyReply) {
  const { current, ttl } = await buckets.hit(
    "credential-account",
    account,
    ACCOUNT_CREDENTIAL_LIMIT.windowMs,
  );
  if (current <= ACCOUNT_CREDENTIAL_LIMIT.max) return;
  const seconds = Math.max(1, Math.ceil(ttl / 1000));
  reply.header("retry-after", String(seconds));
  throw new RestError(429, {
    error: "rate_limited",
    message: `Too many attempts for this account. Try again in ${seconds} seconds.`,
  });
}

/** The optional Idempotency-Key header of the SPAs' auth writes (the same form as tRPC's requestKey). */
const IDEMPOTENCY_HEADER = "Idempotency-Key";

function idempotencyKeyOf(req: FastifyRequest): string | undefined {
  const value = req.headers["idempotency-key"];
  if (value === undefined) return undefined;
  const parsed = ZRequestKeySchema.safeParse(value);
  if (!parsed.success || parsed.data === undefined) {
    throw new RestError(400, {
      error: "validation_error",
      message: `Invalid header: ${IDEMPOTENCY_HEADER} must be 8 to 64 letters, digits, _ or -`,
      fields: { [IDEMPOTENCY_HEADER]: "must be 8 to 64 letters, digits, _ or -" },
    });
  }
  return parsed.data;
}

/**
 * A sign-up has no user yet to scope its key to: the scope is a UUID derived from the address (the
 * account it is creating), so the same key for another address is another intent.
 */
function signUpScope(email: string): string {
  return derivedScope("minutely-sign-up", email);
}

/** A UUID-shaped idempotency scope derived from a value (an address, a token). */
function derivedScope(purpose: string, value: string): string {
  const hex = createHash("sha256").update(`${purpose}\n${value}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * A sign-up with an Idempotency-Key (packages/api/src/idempotency.ts): a double submit or retry of the
 * same sign-up (same key, address and name) waits for the first and is then answered as a sign-in with
 * the credentials it carries (a new session; no session or password is ever stored: the password is
 * checked by the sign-in, so a repeat with another password is a 401); the same key with another name is
 * a 409 naming the header. Without a key, better-auth answers a second sign-up "user already exists".
 */
async function signUpOnce(
  auth: Auth,
  db: Database,
  req: FastifyRequest,
  reply: FastifyReply,
  key: string,
  body: Record<string, unknown>,
  beforeSend?: (status: number) => Promise<void>,
) {
  const email = String(body.email).trim().toLowerCase();
  try {
    const answer = await runIdempotently(
      { db, viewer: { userId: signUpScope(email) } },
      "auth.sign-up/email",
      key,
      { email, name: body.name },
      async () => {
        let status = 0;
        await forward(auth, db, req, reply, async (answered) => {
          status = answered;
          await beforeSend?.(answered);
        });
        return { ok: status === 200, data: { signedUp: true } };
      },
      { keyName: IDEMPOTENCY_HEADER },
    );
    if ("ran" in answer) return reply;
    const signIn = { email: body.email, password: body.password, rememberMe: body.rememberMe };
    return await forward(auth, db, req, reply, beforeSend, { path: "sign-in/email", body: signIn });
  } catch (error) {
    if (error instanceof AppError && error.code === "CONFLICT") {
      throw new RestError(409, {
        error: "idempotency_key_conflict",
        message: error.message,
        fields: { [IDEMPOTENCY_HEADER]: error.message },
      });
    }
    throw error;
  }
}

/**
 * A reset with an Idempotency-Key: the link's token is single use, so a double submit (or a retry after a
 * lost answer) would otherwise be refused INVALID_TOKEN although the password was set. The same key and
 * token waits for the first and gets its answer; the scope is derived from the token (there is no user).
 */
async function resetPasswordOnce(
  auth: Auth,
  db: Database,
  req: FastifyRequest,
  reply: FastifyReply,
  key: string,
  body: Record<string, unknown>,
) {
  const token = String(body.token);
  try {
    const answer = await runIdempotently(
      { db, viewer: { userId: derivedScope("minutely-reset-password", token) } },
      "auth.reset-password",
      key,
      {},
      async () => {
        let status = 0;
        await forward(auth, db, req, reply, async (answered) => {
          status = answered;
        });
        return { ok: status === 200, data: { status: true } };
      },
      { keyName: IDEMPOTENCY_HEADER },
    );
    if ("ran" in answer) return reply;
    return reply.status(200).send(answer.replayed);
  } catch (error) {
    if (error instanceof AppError && error.code === "CONFLICT") {
      throw new RestError(409, {
        error: "idempotency_key_conflict",
        message: error.message,
        fields: { [IDEMPOTENCY_HEADER]: error.message },
      });
    }
    throw error;
  }
}

/** The header as the OpenAPI document describes it (validated by idempotencyKeyOf). */
const IDEMPOTENCY_HEADER_SCHEMA = {
  type: "object",
  properties: {
    "idempotency-key": {
      type: "string",
      description:
        "One key per sign-up intent (a form submission and its retries): a repeat with the same key, address and name is answered as a sign-in with its credentials instead of 'user already exists'; the same key with another name is a 409.",
    },
  },
} as const;

/** What better-auth (and the checks in front of it) refuse with: its `{ message, code }`, or the REST error. */
const AUTH_ERROR_BODY = {
  type: "object",
  properties: {
    message: { type: "string", description: "What went wrong, for people" },
    code: {
      type: "string",
      description: "better-auth's machine-readable code (e.g. INVALID_EMAIL_OR_PASSWORD)",
    },
    error: {
      type: "string",
      description: "Minutely's machine-readable code, for refusals made before better-auth",
    },
    fields: { type: "object", additionalProperties: { type: "string" }, description: "Per-field messages" },
  },
  required: ["message"],
  additionalProperties: true,
} as const;

/** The answers of the documented auth routes (503 with Retry-After is added to every route in one place). */
const AUTH_RESPONSES = {
  200: {
    description: "Done: better-auth's answer (the user and session, or `{ status: true }`)",
    type: "object",
    additionalProperties: true,
  },
  400: {
    description: "Invalid input (the field is named), or refused by the sign-in service",
    ...AUTH_ERROR_BODY,
  },
  401: { description: "Wrong credentials, or not signed in", ...AUTH_ERROR_BODY },
  403: { description: "Not allowed (e.g. an origin that is not the app's)", ...AUTH_ERROR_BODY },
  409: { description: "The same sign-up idempotency key with another name", ...AUTH_ERROR_BODY },
  422: { description: "Refused by the sign-in service (e.g. the user already exists)", ...AUTH_ERROR_BODY },
  429: { description: "Too many attempts: wait the Retry-After header's seconds", ...AUTH_ERROR_BODY },
} as const;

/** better-auth's endpoints under /api/auth/*: sign-up/email, sign-in/email, sign-out, get-session… */
export async function registerAuthRoutes(
  app: FastifyInstance,
  auth: Auth,
  db: Database,
  buckets: RateLimitBuckets,
): Promise<void> {
  for (const endpoint of ENDPOINTS) {
    app.route({
      method: "POST",
      url: `/api/auth/${endpoint.path}`,
      ...(endpoint.perAddress ? { config: { rateLimit: CREDENTIAL_LIMIT } } : {}),
      schema: {
        tags: ["Auth"],
        summary: endpoint.summary,
        body: jsonSchemaOf(endpoint.body, "input"),
        response: AUTH_RESPONSES,
        ...(endpoint.path === "sign-up/email" ? { headers: IDEMPOTENCY_HEADER_SCHEMA } : {}),
      },
      // zod validates below (naming the field, as every route does); the JSON schema documents it.
      attachValidation: true,
      handler: async (req, reply) => {
        const body = parse(endpoint.body, req.body) as Record<string, unknown>;
        // A new password ends every other session: whoever knew the old one is signed out (always, whatever
        // the client asked).
        if (endpoint.path === "change-password") body.revokeOtherSessions = true;
        req.body = body; // forwarded as validated (a name trimmed)
        let account: string | undefined;
        if (endpoint.account === "email") {
          account = String(body.email).trim().toLowerCase();
        } else if (endpoint.account === "session") {
          account = (await viewerOf(auth, req))?.email.toLowerCase();
        }
        if (account !== undefined) await countAccountAttempt(buckets, account, reply);
        if (endpoint.mailTo) {
          await countMailRequest(buckets, String(body.email).trim().toLowerCase(), reply);
          const started = Date.now();
          return await forward(auth, db, req, reply, async () => {
            const remaining = MAIL_REQUEST_FLOOR_MS - (Date.now() - started);
            if (remaining > 0) await new Promise((resolve) => setTimeout(resolve, remaining));
          });
        }
        // A correct password clears the account's count: only failed guesses add up across successes. It is
        // cleared before the answer goes out, so the client's next request always sees the cleared count; a
        // failure to clear is only logged (the count then runs out by itself).
        const clearCount =
          account !== undefined && endpoint.successClearsCount
            ? async (status: number) => {
                if (status !== 200) return;
                await buckets.reset("credential-account", account).catch((error: unknown) => {
                  req.log.warn({ err: error }, "could not clear the account's credential attempts");
                });
              }
            : undefined;
        const key =
          endpoint.path === "sign-up/email" || endpoint.path === "reset-password"
            ? idempotencyKeyOf(req)
            : undefined;
        if (key !== undefined && endpoint.path === "reset-password") {
          return await resetPasswordOnce(auth, db, req, reply, key, body);
        }
        if (key !== undefined) return await signUpOnce(auth, db, req, reply, key, body, clearCount);
        const result = await forward(auth, db, req, reply, clearCount);
        return result;
      },
    });
  }
  app.route({
    method: ["GET", "POST"],
    url: "/api/auth/*",
    handler: (req, reply) => forward(auth, db, req, reply),
  });
}
