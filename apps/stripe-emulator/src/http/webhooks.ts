import { createHmac } from "node:crypto";
import type Stripe from "stripe";
import { z } from "zod";
import type { WebhookRetryOptions } from "../config.ts";
import type { EmulatorCore } from "../core.ts";
import { newId } from "../ids.ts";
import type { WebhookEndpointRec } from "../state.ts";

export const chaosOptionsSchema = z.object({
  /** Deliver each event more than once: `true` = always twice, a number in (0,1] = probability of a duplicate. */
  duplicate: z.union([z.boolean(), z.number().min(0).max(1)]).optional(),
  /** Shuffle delivery order: `true` = window of 5 pending deliveries, or the window size. */
  reorder: z.union([z.boolean(), z.number().int().min(2).max(1000)]).optional(),
  /** Random delay before each delivery attempt: `true` = 0–250 ms, or explicit bounds. */
  delay: z
    .union([z.boolean(), z.object({ minMs: z.number().int().min(0), maxMs: z.number().int().min(0) })])
    .optional(),
  /** Seed for the chaos random number generator; the same seed and inputs give the same choices. */
  seed: z.number().int().optional(),
});

export type ChaosOptions = z.infer<typeof chaosOptionsSchema>;

export const DEFAULT_RETRY: WebhookRetryOptions = {
  maxAttempts: 8,
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  timeoutMs: 10_000,
};

export interface DeliveryRecord {
  id: string;
  event_id: string;
  event_type: string;
  endpoint_id: string;
  url: string;
  attempt: number;
  duplicate: boolean;
  status: "succeeded" | "failed" | "retrying";
  status_code: number | null;
  error: string | null;
  signature_timestamp: number;
  delivered_at: string;
  /** Chaos delay waited before this attempt (0 without chaos delays), so tests can see delays happened. */
  delay_ms: number;
}

interface Job {
  event: Stripe.Event;
  endpointId: string;
  attempt: number;
  duplicate: boolean;
}

/** Stripe's `Stripe-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.payload" keyed by the secret>`. */
export function signPayload(payload: string, secret: string, timestamp: number): string {
  const signature = createHmac("sha256", secret).update(`${timestamp}.${payload}`, "utf8").digest("hex");
  return `t=${timestamp},v1=${signature}`;
}

export function endpointWants(endpoint: WebhookEndpointRec, type: string): boolean {
  return (
    endpoint.status === "enabled" &&
    !endpoint.deleted &&
    (endpoint.enabled_events.includes("*") || endpoint.enabled_events.includes(type))
  );
}

/** Mulberry32: tiny seeded PRNG so chaos runs are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Delivers events to webhook endpoints the way Stripe does: JSON POST, signed, at least once, retried
 * with exponential backoff on non-2xx or connection errors. Per endpoint, deliveries go out one at a
 * time in event order unless chaos mode says otherwise.
 */
export class WebhookDispatcher {
  private readonly core: EmulatorCore;
  private readonly retry: WebhookRetryOptions;
  private chaos: ChaosOptions = {};
  private random: () => number = Math.random;
  private readonly queues = new Map<string, Job[]>();
  private readonly running = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly controllers = new Set<AbortController>();
  private waiters: (() => void)[] = [];
  private log: DeliveryRecord[] = [];
  private closed = false;
  private paused = false;

  constructor(core: EmulatorCore, retry: Partial<WebhookRetryOptions> = {}, chaos: ChaosOptions = {}) {
    this.core = core;
    this.retry = { ...DEFAULT_RETRY, ...retry };
    this.setChaos(chaos);
    core.onEvents((events) => this.enqueue(events));
  }

  setChaos(chaos: ChaosOptions): void {
    this.chaos = chaosOptionsSchema.parse(chaos);
    this.random = seededRandom(this.chaos.seed ?? Date.now());
  }

  getChaos(): ChaosOptions {
    return { ...this.chaos };
  }

  /** Holds deliveries (queued events stay queued) until `resume()`; handy to build a batch for reorder tests. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    for (const endpointId of this.queues.keys()) this.kick(endpointId);
    this.checkIdle();
  }

  deliveries(): DeliveryRecord[] {
    return [...this.log];
  }

  clearLog(): void {
    this.log = [];
  }

  pendingCount(): number {
    let count = this.timers.size + this.running.size;
    for (const queue of this.queues.values()) count += queue.length;
    return count;
  }

  enqueue(events: Stripe.Event[]): void {
    if (this.closed) return;
    const endpoints = Object.values(this.core.state.webhookEndpoints);
    for (const endpoint of endpoints) {
      const jobs: Job[] = [];
      const duplicates: Job[] = [];
      for (const event of events) {
        if (!endpointWants(endpoint, event.type)) continue;
        event.pending_webhooks += 1;
        jobs.push({ event, endpointId: endpoint.id, attempt: 0, duplicate: false });
        const dup = this.chaos.duplicate;
        if (dup === true || (typeof dup === "number" && dup > 0 && this.random() < dup)) {
          duplicates.push({ event, endpointId: endpoint.id, attempt: 0, duplicate: true });
        }
      }
      if (jobs.length === 0) continue;
      const queue = this.queues.get(endpoint.id) ?? [];
      queue.push(...jobs, ...duplicates);
      this.queues.set(endpoint.id, queue);
      setImmediate(() => this.kick(endpoint.id));
    }
  }

  private kick(endpointId: string): void {
    if (this.closed || this.paused || this.running.has(endpointId)) return;
    const queue = this.queues.get(endpointId);
    if (!queue || queue.length === 0) return;
    this.running.add(endpointId);
    void this.work(endpointId).finally(() => {
      this.running.delete(endpointId);
      if ((this.queues.get(endpointId)?.length ?? 0) > 0) this.kick(endpointId);
      this.checkIdle();
    });
  }

  private async work(endpointId: string): Promise<void> {
    const queue = this.queues.get(endpointId);
    while (queue && queue.length > 0 && !this.closed && !this.paused) {
      const window =
        this.chaos.reorder === true ? 5 : typeof this.chaos.reorder === "number" ? this.chaos.reorder : 1;
      const index = window > 1 ? Math.floor(this.random() * Math.min(window, queue.length)) : 0;
      const [job] = queue.splice(index, 1);
      if (!job) break;
      const delay = this.chaos.delay;
      let delayMs = 0;
      if (delay) {
        const { minMs, maxMs } = delay === true ? { minMs: 0, maxMs: 250 } : delay;
        delayMs = minMs + Math.floor(this.random() * Math.max(0, maxMs - minMs));
        await this.sleep(delayMs);
      }
      await this.deliver(job, delayMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  private async deliver(job: Job, delayMs: number): Promise<void> {
    const endpoint = this.core.state.webhookEndpoints[job.endpointId];
    if (!endpoint || endpoint.deleted || endpoint.status !== "enabled") return;
    job.attempt += 1;
    const payload = JSON.stringify(job.event, null, 2);
    // Stripe signs with the real current time, even when a test clock is far ahead.
    const timestamp = Math.floor(Date.now() / 1000);
    const controller = new AbortController();
    this.controllers.add(controller);
    const timeout = setTimeout(() => controller.abort(), this.retry.timeoutMs);
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const response = await fetch(endpoint.url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json; charset=utf-8",
          "Stripe-Signature": signPayload(payload, endpoint.secret, timestamp),
          "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks) minutely-stripe-emulator",
          "X-Stripe-Emulator": "true",
        },
        body: payload,
        signal: controller.signal,
      });
      statusCode = response.status;
      await response.arrayBuffer().catch(() => undefined);
    } catch (cause) {
      error = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    } finally {
      clearTimeout(timeout);
      this.controllers.delete(controller);
    }
    const ok = statusCode !== null && statusCode >= 200 && statusCode < 300;
    const willRetry = !ok && job.attempt < this.retry.maxAttempts && !this.closed;
    this.record({
      id: newId("whdel", 16),
      event_id: job.event.id,
      event_type: job.event.type,
      endpoint_id: endpoint.id,
      url: endpoint.url,
      attempt: job.attempt,
      duplicate: job.duplicate,
      status: ok ? "succeeded" : willRetry ? "retrying" : "failed",
      status_code: statusCode,
      error,
      signature_timestamp: timestamp,
      delivered_at: new Date().toISOString(),
      delay_ms: delayMs,
    });
    if (ok) {
      if (!job.duplicate) job.event.pending_webhooks = Math.max(0, job.event.pending_webhooks - 1);
      return;
    }
    if (willRetry) {
      const delay = Math.min(this.retry.baseDelayMs * 2 ** (job.attempt - 1), this.retry.maxDelayMs);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        const queue = this.queues.get(job.endpointId) ?? [];
        queue.push(job);
        this.queues.set(job.endpointId, queue);
        this.kick(job.endpointId);
        this.checkIdle();
      }, delay);
      this.timers.add(timer);
    }
  }

  private record(delivery: DeliveryRecord): void {
    this.log.push(delivery);
    if (this.log.length > 10_000) this.log.splice(0, this.log.length - 10_000);
  }

  private checkIdle(): void {
    if (this.pendingCount() > 0 && !this.closed && !this.paused) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Resolves once every queued delivery, including retries, has finished (or when paused/closed). */
  flush(): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      setImmediate(() => this.checkIdle());
    });
  }

  /** Drops queued work (after `/_emulator/reset`). */
  clear(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.queues.clear();
    this.log = [];
    this.checkIdle();
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const controller of this.controllers) controller.abort();
    this.queues.clear();
    this.checkIdle();
  }
}
