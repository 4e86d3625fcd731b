import { isRecord, type Raw } from "../spec.ts";

/** How many failed requests `/_emulator/logs/:id` (each error's `request_log_url`) keeps. */
const REQUEST_LOG_SIZE = 500;

export interface RequestLogEntry {
  id: string;
  method: string;
  path: string;
  status: number;
  created: number;
  params: Raw;
  response: unknown;
}

/** Card numbers and CVCs (test cards only, but still) stay out of the request log. */
function redact(value: unknown): Raw {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (!isRecord(v)) return v;
    return Object.fromEntries(
      Object.entries(v).map(([k, inner]) => [k, k === "number" || k === "cvc" ? "[redacted]" : walk(inner)]),
    );
  };
  const result = walk(value);
  return isRecord(result) ? result : {};
}

/** The last failed API requests, what Stripe's `request_log_url` of an error opens. */
export class RequestLog {
  private readonly entries = new Map<string, RequestLogEntry>();

  get(id: string): RequestLogEntry | undefined {
    return this.entries.get(id);
  }

  clear(): void {
    this.entries.clear();
  }

  remember(entry: RequestLogEntry): void {
    this.entries.set(entry.id, { ...entry, params: redact(entry.params) });
    while (this.entries.size > REQUEST_LOG_SIZE) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }
}
