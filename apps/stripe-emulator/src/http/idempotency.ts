import { createHash } from "node:crypto";

export interface SavedResponse {
  method: string;
  path: string;
  fingerprint: string;
  status: number;
  body: string;
  createdAt: number;
}

export type IdempotencyLookup =
  | { kind: "miss" }
  | { kind: "replay"; saved: SavedResponse }
  | { kind: "mismatch" };

/**
 * Stripe's `Idempotency-Key` semantics: the first response for a key is saved for 24 hours; the same
 * key with the same method, path and parameters replays it, anything else is an `idempotency_error`.
 */
export class IdempotencyStore {
  private readonly saved = new Map<string, SavedResponse>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;

  constructor(maxEntries = 10_000, ttlMs = 24 * 60 * 60 * 1000) {
    this.maxEntries = maxEntries;
    this.ttlMs = ttlMs;
  }

  static fingerprint(params: unknown): string {
    return createHash("sha256").update(stableStringify(params)).digest("hex");
  }

  lookup(
    scope: string,
    key: string,
    method: string,
    path: string,
    fingerprint: string,
    nowMs: number,
  ): IdempotencyLookup {
    const entry = this.saved.get(`${scope}\u0000${key}`);
    if (!entry) return { kind: "miss" };
    if (nowMs - entry.createdAt > this.ttlMs) {
      this.saved.delete(`${scope}\u0000${key}`);
      return { kind: "miss" };
    }
    if (entry.method !== method || entry.path !== path || entry.fingerprint !== fingerprint) {
      return { kind: "mismatch" };
    }
    return { kind: "replay", saved: entry };
  }

  save(scope: string, key: string, response: SavedResponse): void {
    const id = `${scope}\u0000${key}`;
    this.saved.delete(id);
    this.saved.set(id, response);
    while (this.saved.size > this.maxEntries) {
      const oldest = this.saved.keys().next();
      if (oldest.done) break;
      this.saved.delete(oldest.value);
    }
  }

  clear(): void {
    this.saved.clear();
  }
}

/** JSON with sorted keys, so parameter order does not change the fingerprint. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
