import type { EmulatorCore } from "../core.ts";
import { emptyState } from "../state.ts";
import type { Faults } from "./faults.ts";
import type { IdempotencyStore } from "./idempotency.ts";
import type { RequestLog } from "./request-log.ts";
import type { WebhookDispatcher } from "./webhooks.ts";

/** One emulator's state and stores, shared by its route modules (`api.ts`, `admin.ts`, `hosted-pages.ts`). */
export interface EmulatorContext {
  core: EmulatorCore;
  webhooks: WebhookDispatcher;
  faults: Faults;
  idempotency: IdempotencyStore;
  requestLog: RequestLog;
  /** Timers of `timeout` faults that hold a socket open; `close()` clears them. */
  hangingTimers: Set<NodeJS.Timeout>;
  /** Receives human-readable log lines. */
  log: (line: string) => void;
}

/** Drops all data, events, idempotency keys, queued deliveries, logged requests and faults; pre-registered webhook endpoints stay. */
export function resetEmulator(ctx: EmulatorContext): void {
  ctx.webhooks.clear();
  ctx.idempotency.clear();
  ctx.requestLog.clear();
  ctx.faults.clear();
  ctx.core.reset((state) => {
    const next = emptyState();
    for (const endpoint of Object.values(state.webhookEndpoints)) {
      if (endpoint.preregistered && !endpoint.deleted) next.webhookEndpoints[endpoint.id] = endpoint;
    }
    next.seq = state.seq;
    return next;
  });
}
