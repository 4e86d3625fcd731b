// Customer API keys, for packages that include API access. A key is 160 random bits, shown once; only its
// SHA-256 is stored. Every request re-checks the account's entitlements, so when a downgrade removes API
// access the keys stop working at once (and start again if access returns; revoked keys never do).
import { createHash, randomBytes } from "node:crypto";
import type { Ports, Viewer } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { lockLiveAccount } from "../live-account.ts";
import { accountEntitlements } from "./entitlements.ts";

const KEY_PREFIX = "mk_";
const MAX_ACTIVE_KEYS = 20;

/** How names are compared: two active keys of an account whose names trim and lower-case alike clash. */
export function apiKeyNameKey(name: string): string {
  return name.trim().toLowerCase();
}

const duplicateName = (name: string) =>
  new AppError(
    "CONFLICT",
    `An active API key named "${name.trim()}" already exists. Choose another name, or revoke that key first.`,
    "name",
  );

/** The unique index of active names (api_key_active_name_key) refused the row: a concurrent create won. */
function isDuplicateNameViolation(error: unknown): boolean {
  if (typeof error !== "object" || error === null || (error as { code?: unknown }).code !== "P2002") {
    return false;
  }
  return JSON.stringify((error as { meta?: unknown }).meta ?? {}).includes("name_key");
}

export function hashApiKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** True when the account's subscription grants access and its package includes the API. */
export async function hasApiAccess(ports: Pick<Ports, "db">, accountId: string): Promise<boolean> {
  return (await accountEntitlements(ports, accountId)).entitlements.apiAccess;
}

const NO_API_ACCESS =
  "Your package does not include API access. Upgrade to a package with API access to use API keys.";

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

function view(row: ApiKeyView): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    revokedAt: row.revokedAt,
  };
}

export async function listApiKeys(ports: Pick<Ports, "db">, accountId: string) {
  const [keys, apiAccess] = await Promise.all([
    ports.db.apiKey.findMany({ where: { accountId }, orderBy: { createdAt: "desc" } }),
    hasApiAccess(ports, accountId),
  ]);
  return { apiAccess, keys: keys.map(view) };
}

/**
 * Creates a key; the full key is in the result and nowhere else. `key` is null only in a replay of the same
 * request (same requestKey) from another session or after the replay window: see idempotency.ts.
 */
export async function createApiKey(
  ports: Ports,
  viewer: Viewer & { accountId: string },
  name: string,
): Promise<{ key: string | null; apiKey: ApiKeyView }> {
  if (!(await hasApiAccess(ports, viewer.accountId))) throw new AppError("FORBIDDEN", NO_API_ACCESS);
  const active = await ports.db.apiKey.count({ where: { accountId: viewer.accountId, revokedAt: null } });
  if (active >= MAX_ACTIVE_KEYS) {
    throw new AppError(
      "CONFLICT",
      `An account can have at most ${MAX_ACTIVE_KEYS} active keys; revoke one first.`,
    );
  }
  // No look-up first: the unique index of active names (api_key_active_name_key) decides, also between two
  // creates that race, and its refusal becomes the 409 naming `name`.
  const nameKey = apiKeyNameKey(name);
  const id = randomBytes(4).toString("hex");
  const secret = randomBytes(20).toString("base64url");
  const prefix = `${KEY_PREFIX}${id}`;
  const key = `${prefix}_${secret}`;
  // In a transaction that keeps the account alive until the key is written (a deletion revokes every key).
  const row = await ports.db
    .$transaction(async (tx) => {
      await lockLiveAccount(tx, viewer.accountId);
      return await tx.apiKey.create({
        data: {
          accountId: viewer.accountId,
          name: name.trim(),
          nameKey,
          prefix,
          keyHash: hashApiKey(key),
          createdByUserId: viewer.userId,
          createdAt: ports.clock.now(),
        },
      });
    })
    .catch((error: unknown) => {
      throw isDuplicateNameViolation(error) ? duplicateName(name) : error;
    });
  return { key, apiKey: view(row) };
}

export async function revokeApiKey(ports: Ports, accountId: string, id: string) {
  const row = await ports.db.apiKey.findFirst({ where: { id, accountId } });
  if (!row) throw new AppError("NOT_FOUND", "No such API key.", "id");
  if (row.revokedAt) return view(row);
  return view(await ports.db.apiKey.update({ where: { id }, data: { revokedAt: ports.clock.now() } }));
}

export type ApiKeyCheck =
  | { ok: true; accountId: string; keyId: string }
  | { ok: false; status: 401 | 403; error: string; message: string };

/** Authenticates a request's bearer key: the account it acts for, or why not. */
export async function authenticateApiKey(
  ports: Pick<Ports, "db" | "clock">,
  key: string | null,
): Promise<ApiKeyCheck> {
  if (!key) {
    return {
      ok: false,
      status: 401,
      error: "unauthorized",
      message: "Send your API key as Authorization: Bearer <key>.",
    };
  }
  const row = await ports.db.apiKey.findUnique({ where: { keyHash: hashApiKey(key) } });
  if (!row || row.revokedAt) {
    return {
      ok: false,
      status: 401,
      error: "unauthorized",
      message: "This API key is not valid (unknown or revoked).",
    };
  }
  if (!(await hasApiAccess(ports, row.accountId))) {
    return { ok: false, status: 403, error: "forbidden", message: NO_API_ACCESS };
  }
  const now = ports.clock.now();
  // Last use is shown to the customer; writing it at most once a minute keeps reads cheap.
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > 60_000) {
    await ports.db.apiKey.update({ where: { id: row.id }, data: { lastUsedAt: now } });
  }
  return { ok: true, accountId: row.accountId, keyId: row.id };
}
