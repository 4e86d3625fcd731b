// One answer per user intent. Every mutation of the SPAs carries a `requestKey` that the client makes when
// the user starts an intent (opens a dialog, fills a form) and reuses for every retry and double submit of
// it; a new intent (after a success, or once the input changed) gets a new key. The server keeps the first
// successful answer per (user, procedure, key) in `idempotent_request`:
//
// - the first request claims the key (a lease, timed by the database's clock) and runs the procedure;
// - a request with the same key and the same input while the first runs waits for it, then answers with
//   its answer (a double click of "Cancel subscription" is one cancellation and two successes);
// - once stored, the same key and input replays the answer for 24 hours without running anything;
// - the same key with another input is refused: 409 CONFLICT naming `requestKey`;
// - a failure stores nothing: the claim is released and a retry with the same key runs again (the input
//   was refused, or Stripe was down: running again is what the retry asks for).
//
// One-time secrets (the full API key of apiKeys.create) are never stored in the clear: the stored answer
// holds them sealed (AES-256-GCM) under a key derived from the server's secret and the session that made
// the request. A replay from the same session within {@link SECRET_REPLAY_SECONDS} shows the secret again
// (the same user, in the same browser, who asked for it a moment ago); later, or from another session,
// the replay answers the same key without its secret (null). A leak of the database alone reveals none.
//
// The Stripe idempotency keys the services already derive from `requestKey` (subscribe,
// updatePaymentMethod) stay: they cover the step between Stripe's answer and this table.
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  randomBytes,
  randomUUID,
} from "node:crypto";
import superjson from "superjson";
import { z } from "zod";
import type { Context } from "./context.ts";
import { AppError } from "./errors.ts";

/** How a key looks: what the SPAs send (a UUID without dashes) and what the Stripe keys built from it allow. */
export const ZRequestKeySchema = z
  .string()
  .regex(/^[\w-]{8,64}$/, "Use 8 to 64 letters, digits, _ or -")
  .optional();

/** A mutation's input with the optional `requestKey` every mutation accepts. */
export function withRequestKey<Shape extends z.ZodRawShape>(schema: z.ZodObject<Shape>) {
  return schema.extend({ requestKey: ZRequestKeySchema });
}

/** The input of a mutation that takes nothing but the key. */
export const ZRequestKeyOnlySchema = z.strictObject({ requestKey: ZRequestKeySchema }).optional();

/** How long a stored answer is replayed. */
export const REPLAY_HOURS = 24;
/** How long a replay in the same session shows a one-time secret again. */
export const SECRET_REPLAY_SECONDS = 600;
/** A claim whose holder died (crash, deploy) is taken over after this; a live holder renews it. */
const LEASE_SECONDS = 120;
const LEASE_RENEW_MS = 30_000;
/** How long a duplicate waits for the first request before asking the client to try again. */
const WAIT_FOR_FIRST_MS = 30_000;
const POLL_MS = 50;

/** JSON with object keys sorted, so equal inputs hash alike whatever order their keys came in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** SHA-256 of the validated input without its key (dates, as superjson sends them, included). */
export function inputHashOf(input: unknown): string {
  const rest =
    input !== null && typeof input === "object"
      ? Object.fromEntries(Object.entries(input).filter(([k]) => k !== "requestKey"))
      : (input ?? {});
  const { json, meta } = superjson.serialize(rest);
  return createHash("sha256")
    .update(canonicalJson({ json, meta: meta ?? null }))
    .digest("hex");
}

interface Sealed {
  sealed: string;
}

function sealKey(secret: string, sessionId: string): Buffer {
  return createHmac("sha256", secret).update(`minutely-idempotency-seal\n${sessionId}`).digest();
}

function seal(value: string, key: Buffer): Sealed {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([cipher.update(value, "utf8"), cipher.final()]);
  return { sealed: Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url") };
}

/** The sealed value, or null when it was sealed for another session (or tampered with). */
function unseal(value: Sealed, key: Buffer): string | null {
  try {
    const raw = Buffer.from(value.sealed, "base64url");
    const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
  } catch {
    return null;
  }
}

export interface IdempotencyOptions {
  /** A top-level field of the answer that is a one-time secret: stored sealed, replayed as described above. */
  secretField?: string;
  /** How the key is named in refusals: `requestKey` (tRPC input), `Idempotency-Key` (a REST header). */
  keyName?: string;
}

type Scope = { db: Context["db"]; userId: string; procedure: string; key: string };

interface StoredRow {
  input_hash: string;
  holder: string | null;
  lease_alive: boolean;
  result: unknown;
  secret_replayable: boolean;
}

let nextSweepAt = 0;

/** Deletes a batch of expired rows, at most once a minute per process; never fails the request. */
function maybeSweep(db: Context["db"]): void {
  if (Date.now() < nextSweepAt) return;
  nextSweepAt = Date.now() + 60_000;
  db.$executeRaw`
    DELETE FROM idempotent_request WHERE (user_id, procedure, key) IN (
      SELECT user_id, procedure, key FROM idempotent_request WHERE expires_at < now() LIMIT 500
      FOR UPDATE SKIP LOCKED)`.catch(() => {
    // The next sweep tries again; expired rows are ignored meanwhile.
  });
}

/**
 * Claims the key for this request (a new row, an expired one, or a claim whose holder died) or finds the
 * row someone else holds or completed.
 */
async function claimOrRead(scope: Scope, inputHash: string, holder: string): Promise<"claimed" | StoredRow> {
  const { db, userId, procedure, key } = scope;
  const claimed = await db.$executeRaw`
    INSERT INTO idempotent_request AS r
      (user_id, procedure, key, input_hash, holder, lease_expires_at, expires_at)
    VALUES (${userId}::uuid, ${procedure}, ${key}, ${inputHash}, ${holder}::uuid,
      now() + make_interval(secs => ${LEASE_SECONDS}), now() + make_interval(secs => ${REPLAY_HOURS * 3600}))
    ON CONFLICT (user_id, procedure, key) DO UPDATE SET
      input_hash = EXCLUDED.input_hash, holder = EXCLUDED.holder, lease_expires_at = EXCLUDED.lease_expires_at,
      expires_at = EXCLUDED.expires_at, result = NULL, completed_at = NULL, created_at = now()
    WHERE r.expires_at <= now()
       OR (r.completed_at IS NULL AND r.lease_expires_at <= now() AND r.input_hash = EXCLUDED.input_hash)`;
  if (claimed > 0) return "claimed";
  const rows = await db.$queryRaw<StoredRow[]>`
    SELECT input_hash, holder, lease_expires_at > now() AS lease_alive, result,
      completed_at > now() - make_interval(secs => ${SECRET_REPLAY_SECONDS}) AS secret_replayable
    FROM idempotent_request
    WHERE user_id = ${userId}::uuid AND procedure = ${procedure} AND key = ${key} AND expires_at > now()`;
  // Gone between the two statements (released after a failure, or expired): claim again.
  return rows[0] ?? (await claimOrRead(scope, inputHash, holder));
}

/**
 * Runs `run` once per (user, procedure, key): see the top of this file. Without a key (callers other than
 * the SPAs, tests), `run` simply runs.
 */
export async function runIdempotently<R extends { ok: boolean; data?: unknown }>(
  ctx: Pick<Context, "db"> & {
    settings?: Pick<Context["settings"], "secret">;
    viewer: { userId: string; sessionId?: string | undefined };
  },
  procedure: string,
  key: string | undefined,
  input: unknown,
  run: () => Promise<R>,
  options: IdempotencyOptions = {},
): Promise<{ ran: R } | { replayed: unknown }> {
  if (key === undefined) return { ran: await run() };
  const scope: Scope = { db: ctx.db, userId: ctx.viewer.userId, procedure, key };
  const inputHash = inputHashOf(input);
  const holder = randomUUID();
  const sessionKey =
    ctx.viewer.sessionId && ctx.settings ? sealKey(ctx.settings.secret, ctx.viewer.sessionId) : null;
  const keyName = options.keyName ?? "requestKey";
  const conflict = (message: string) => new AppError("CONFLICT", message, keyName);
  const deadline = Date.now() + WAIT_FOR_FIRST_MS;
  for (;;) {
    const found = await claimOrRead(scope, inputHash, holder);
    if (found === "claimed") break;
    if (found.input_hash !== inputHash) {
      throw conflict(
        `This ${keyName} was already used for a ${procedure} request with other input. Send a new ${keyName} for a new request.`,
      );
    }
    if (found.holder === null) return { replayed: replay(found, options, sessionKey) };
    if (Date.now() >= deadline) {
      throw conflict(
        `The first request with this ${keyName} is still being processed. Try again in a moment.`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  maybeSweep(ctx.db);

  const renew = setInterval(() => {
    ctx.db.$executeRaw`
      UPDATE idempotent_request SET lease_expires_at = now() + make_interval(secs => ${LEASE_SECONDS})
      WHERE user_id = ${scope.userId}::uuid AND procedure = ${procedure} AND key = ${key}
        AND holder = ${holder}::uuid`.catch(() => {
      // A missed renewal only shortens the lease; the next one, or the end of the request, follows.
    });
  }, LEASE_RENEW_MS);
  renew.unref();
  try {
    const result = await run();
    if (result.ok) {
      const stored = toStored(result.data, options, sessionKey);
      await ctx.db.$executeRaw`
        UPDATE idempotent_request SET holder = NULL, completed_at = now(), result = ${JSON.stringify(stored)}::jsonb
        WHERE user_id = ${scope.userId}::uuid AND procedure = ${procedure} AND key = ${key}
          AND holder = ${holder}::uuid`;
    } else {
      await release(scope, holder);
    }
    return { ran: result };
  } catch (error) {
    await release(scope, holder).catch(() => {
      // The lease runs out by itself.
    });
    throw error;
  } finally {
    clearInterval(renew);
  }
}

async function release(scope: Scope, holder: string): Promise<void> {
  await scope.db.$executeRaw`
    DELETE FROM idempotent_request
    WHERE user_id = ${scope.userId}::uuid AND procedure = ${scope.procedure} AND key = ${scope.key}
      AND holder = ${holder}::uuid`;
}

function toStored(data: unknown, options: IdempotencyOptions, sessionKey: Buffer | null) {
  let value = data;
  const field = options.secretField;
  if (field && value !== null && typeof value === "object" && field in value) {
    const secret = (value as Record<string, unknown>)[field];
    value = {
      ...value,
      [field]: typeof secret === "string" && sessionKey ? seal(secret, sessionKey) : null,
    };
  }
  return superjson.serialize(value);
}

function replay(row: StoredRow, options: IdempotencyOptions, sessionKey: Buffer | null): unknown {
  const value = superjson.deserialize(row.result as Parameters<typeof superjson.deserialize>[0]);
  const field = options.secretField;
  if (field && value !== null && typeof value === "object" && field in value) {
    const sealed = (value as Record<string, unknown>)[field] as Sealed | null;
    (value as Record<string, unknown>)[field] =
      sealed && sessionKey && row.secret_replayable ? unseal(sealed, sessionKey) : null;
  }
  return value;
}
