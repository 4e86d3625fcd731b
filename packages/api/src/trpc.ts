import { isDatabaseUnavailable } from "@minutely/db";
import { initTRPC, TRPCError } from "@trpc/server";
import { ZodError, z } from "zod";
import type { Context } from "./context.ts";
import { AppError, DATABASE_UNAVAILABLE, toTRPCError } from "./errors.ts";
import { type IdempotencyOptions, runIdempotently } from "./idempotency.ts";
import { type AccountRole, isAccountRole, procedureAccess, roleRefusal } from "./permissions.ts";
import { wireTransformer } from "./wire.ts";

/**
 * A zod error's problems as (field, message) pairs. An unknown key is named by its own path (`accountId`,
 * `values.colour`), not by the object holding it, so the message says which key to remove.
 */
function issuesOf(error: ZodError): { field: string; message: string }[] {
  return error.issues.flatMap((issue) =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({
          field: [...issue.path, key].join("."),
          message: "is not a field of this input",
        }))
      : [{ field: issue.path.join(".") || "input", message: issue.message }],
  );
}

/** Keys superjson will not serialize (prototype pollution guards). */
const UNSAFE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

const t = initTRPC.context<Context>().create({
  // superjson on the wire both ways; answers written without its generic walk (wire.ts), byte for byte
  // what superjson writes.
  transformer: wireTransformer,
  // Subscriptions (live usage) are server-sent events: a ping keeps proxies from closing a quiet stream,
  // and a client that hears nothing (not even a ping) for 25 s reconnects, resuming from its last event id.
  sse: { ping: { enabled: true, intervalMs: 10_000 }, client: { reconnectAfterInactivityMs: 25_000 } },
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const issues = cause instanceof ZodError ? issuesOf(cause) : [];
    const fieldErrors =
      cause instanceof ZodError
        ? // The first issue of each field, as the message says (a value can break several rules). A field
          // named like an object internal (`prototype`, `__proto__`, `constructor`) is named by the message
          // only: superjson refuses to serialize such a key, which would turn the 400 into a 500.
          Object.fromEntries(
            [...issues]
              .reverse()
              .filter((issue) => !issue.field.split(".").some((part) => UNSAFE_KEYS.has(part)))
              .map((issue) => [issue.field, issue.message]),
          )
        : cause instanceof AppError && cause.field
          ? { [cause.field]: cause.message }
          : null;
    // An unexpected error's own text (a driver's, Stripe's, a stack's first line) is for the logs only.
    const firstIssue = issues[0];
    const message =
      error.code === "INTERNAL_SERVER_ERROR"
        ? "Something went wrong on our side; nothing you did caused it. Please try again in a moment."
        : firstIssue
          ? `Invalid input: ${firstIssue.field}: ${firstIssue.message}`
          : shape.message;
    return { ...shape, message, data: { ...shape.data, stack: undefined, fieldErrors } };
  },
});

/** Turns the services' AppError into the matching tRPC error, in one place. */
const mapAppErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof AppError) {
    throw toTRPCError(result.error.cause);
  }
  if (!result.ok && isDatabaseUnavailable(result.error.cause)) {
    // PostgreSQL is restarting or out of reach: nothing the caller did, and worth retrying shortly.
    throw new TRPCError({
      code: "SERVICE_UNAVAILABLE",
      message: DATABASE_UNAVAILABLE.body.message,
      cause: result.error.cause,
    });
  }
  return result;
});

/**
 * The input of a procedure that takes none: nothing, or an empty object. Every procedure declares an input
 * (this one at least), so an unexpected key (`{ accountId }`) is a BAD_REQUEST naming it, never ignored.
 */
export const ZNoInputRequestSchema = z.strictObject({}).optional();

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const middleware = t.middleware;

export const publicProcedure = t.procedure.use(mapAppErrors);

export const authedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.viewer) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in to continue." });
  return next({ ctx: { ...ctx, viewer: ctx.viewer } });
});

/**
 * A signed-in user acting for themselves, not for an account (their sessions, memberships, accepting an
 * invitation): the role table (permissions.ts) must say "user" for the procedure.
 */
export const userProcedure = authedProcedure.use(({ path, next }) => {
  if (procedureAccess(path) !== "user") {
    throw new TRPCError({ code: "FORBIDDEN", message: `${path} is not in the role table.` });
  }
  return next();
});

/**
 * A member of the session's active account whose role the role table (permissions.ts) allows for this
 * procedure: the procedures customers use. ctx.accountId is theirs alone; a procedure missing from the table
 * is refused (deny by default).
 */
export const accountProcedure = authedProcedure.use(async ({ ctx, path, type, next }) => {
  const accountId = ctx.viewer.accountId;
  if (!accountId) throw new TRPCError({ code: "FORBIDDEN", message: "This user has no customer account." });
  const access = procedureAccess(path);
  if (!Array.isArray(access)) {
    throw new TRPCError({ code: "FORBIDDEN", message: `${path} is not in the role table.` });
  }
  let role: AccountRole | null | undefined = ctx.viewer.accountRole;
  if (role === undefined) {
    // A viewer made without the server's session lookup (tests, tools): read the membership here.
    const member = await ctx.db.accountMember.findUnique({
      where: { accountId_userId: { accountId, userId: ctx.viewer.userId } },
      select: { role: true },
    });
    role = member && isAccountRole(member.role) ? member.role : null;
  }
  if (!role) throw new TRPCError({ code: "FORBIDDEN", message: "You are not a member of this account." });
  if (type === "mutation" && ctx.viewer.actingAccountId && ctx.viewer.actingAccountId !== accountId) {
    // This browser switched accounts in another tab since this page was loaded: its action was meant for
    // the account the page showed, and is not carried out on the other one.
    throw new TRPCError({
      code: "CONFLICT",
      message:
        "This page was showing another account: you switched accounts in another tab. Reload the page to act in the account you are in now.",
    });
  }
  if (!(access as readonly AccountRole[]).includes(role)) {
    throw new TRPCError({ code: "FORBIDDEN", message: roleRefusal(role) });
  }
  return next({ ctx: { ...ctx, accountId, accountRole: role } });
});

/** The header a client names the account its page shows with (see Viewer.actingAccountId). */
export const ACTING_ACCOUNT_HEADER = "x-minutely-account";

/** The header's account id when it is one (a uuid), else undefined: a malformed value is not a claim. */
export function actingAccountOf(value: unknown): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  return typeof text === "string" && z.uuid().safeParse(text).success ? text.toLowerCase() : undefined;
}

export const adminProcedure = authedProcedure.use(({ ctx, next }) => {
  if (ctx.viewer.role !== "admin") {
    throw new TRPCError({ code: "FORBIDDEN", message: "This needs the admin role." });
  }
  return next();
});

/**
 * Makes a mutation answer once per user intent (see idempotency.ts): placed after `.input()` of every
 * mutation, whose input accepts `requestKey` (`withRequestKey`). A test enumerates the routers' mutations
 * and checks each one honours the key.
 */
export function idempotent(options: IdempotencyOptions = {}) {
  return t.middleware(async ({ ctx, input, path, type, next }) => {
    const key = (input as { requestKey?: unknown } | undefined)?.requestKey;
    if (type !== "mutation" || !ctx.viewer || typeof key !== "string") return await next();
    const viewer = ctx.viewer;
    const answer = await runIdempotently({ ...ctx, viewer }, path, key, input, () => next(), options);
    if ("ran" in answer) return answer.ran;
    // The stored answer of the first request with this key; the procedure does not run again.
    const replayed = { ok: true as const, data: answer.replayed, ctx };
    return replayed as unknown as Awaited<ReturnType<typeof next>>;
  });
}
