import type Stripe from "stripe";
import {
  DEFAULT_INVOICE_NOTICES,
  DEFAULT_PAYMENT_RETRIES,
  type InvoiceNoticeOptions,
  type PaymentRetryOptions,
} from "./config.ts";
import { invalidRequest, resourceMissing } from "./errors.ts";
import { newId } from "./ids.ts";
import type { Params } from "./params.ts";
import { emptyState, type State } from "./state.ts";
import { API_VERSION } from "./version.ts";

export type EventType = Stripe.Event["type"];
export type EventObject<T extends EventType> = Extract<Stripe.Event, { type: T }>["data"]["object"];

export interface RequestInfo {
  id: string;
  idempotency_key: string | null;
}

export interface CoreOptions {
  /** Wall clock in milliseconds; injectable for unit tests. */
  now?: () => number;
  /** Automatic payment retries and what follows the last failure (default: Stripe's Smart Retries). */
  paymentRetries?: PaymentRetryOptions;
  /** Days before a renewal, a due date and after it for `invoice.upcoming`, `.will_be_due`, `.overdue`. */
  invoiceNotices?: Partial<InvoiceNoticeOptions>;
}

type Listener = (events: Stripe.Event[]) => void;

/**
 * Thrown from inside a transaction to commit what happened so far and still answer with an error
 * (a declined `invoices.pay` keeps its failed attempt, as in Stripe).
 */
export class CommitThenThrow extends Error {
  readonly error: Error;

  constructor(error: Error) {
    super(error.message);
    this.error = error;
  }
}

/**
 * The emulator's state machine host: owns the state, runs every mutation in a transaction (snapshot and
 * rollback on error, so a declined `error_if_incomplete` subscription leaves nothing behind) and records
 * the events a transaction produced, publishing them only when it commits.
 */
export class EmulatorCore {
  state: State = emptyState();
  events: Stripe.Event[] = [];
  /** Public base URL (e.g. http://127.0.0.1:12111) used for hosted pages. */
  baseUrl = "http://127.0.0.1:12111";
  request: RequestInfo | null = null;
  readonly paymentRetries: PaymentRetryOptions;
  readonly invoiceNotices: InvoiceNoticeOptions;
  /** Subscriptions inside a composite operation that emits one summarising event itself. */
  readonly quietSubscriptions = new Set<string>();

  private pendingEvents: Stripe.Event[] | null = null;
  private readonly listeners: Listener[] = [];
  private readonly changeListeners: (() => void)[] = [];
  private readonly wallClock: () => number;

  constructor(options: CoreOptions = {}) {
    this.wallClock = options.now ?? Date.now;
    this.paymentRetries = options.paymentRetries ?? DEFAULT_PAYMENT_RETRIES;
    this.invoiceNotices = { ...DEFAULT_INVOICE_NOTICES, ...options.invoiceNotices };
  }

  /** Real current time, seconds. */
  realNow(): number {
    return Math.floor(this.wallClock() / 1000);
  }

  /** Current time for objects on a test clock (its frozen time) or real time. */
  clockNow(clockId: string | null): number {
    if (clockId === null) return this.realNow();
    const clock = this.state.testClocks[clockId];
    return clock ? clock.frozen_time : this.realNow();
  }

  customerNow(customerId: string): number {
    return this.clockNow(this.state.customers[customerId]?.test_clock ?? null);
  }

  nextSeq(): number {
    this.state.seq += 1;
    return this.state.seq;
  }

  onEvents(listener: Listener): void {
    this.listeners.push(listener);
  }

  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  get inTransaction(): boolean {
    return this.pendingEvents !== null;
  }

  /** Runs `fn` atomically: on throw the state is restored and its events dropped. Nested calls join. */
  tx<T>(fn: () => T): T {
    if (this.pendingEvents !== null) return fn();
    const snapshot = structuredClone(this.state);
    this.pendingEvents = [];
    try {
      const result = fn();
      this.commit();
      return result;
    } catch (error) {
      if (error instanceof CommitThenThrow) {
        this.commit();
        throw error.error;
      }
      this.state = snapshot;
      this.pendingEvents = null;
      throw error;
    }
  }

  private commit(): void {
    const committed = this.pendingEvents ?? [];
    this.pendingEvents = null;
    this.events.push(...committed);
    for (const listener of this.changeListeners) listener();
    if (committed.length > 0) {
      for (const listener of this.listeners) listener(committed);
    }
  }

  /** Position in the current transaction's event list, for `emit(..., { at })`. */
  eventMark(): number {
    return this.pendingEvents?.length ?? 0;
  }

  /**
   * Runs `fn` on a copy of the state and drops the copy (previews). Works inside or outside a transaction;
   * the records the caller holds stay the live ones (`fn` must look up what it changes in `core.state`).
   */
  dryRun<T>(fn: () => T): T {
    const live = this.state;
    const outerEvents = this.pendingEvents;
    this.state = structuredClone(live);
    this.pendingEvents = [];
    try {
      return fn();
    } finally {
      this.state = live;
      this.pendingEvents = outerEvents;
    }
  }

  /** Records an event; `object` is snapshotted as JSON so later mutations do not leak into it. */
  emit<T extends EventType>(
    type: T,
    object: EventObject<T>,
    previous?: Record<string, unknown>,
    options: { at?: number } = {},
  ): void {
    const data: { object: unknown; previous_attributes?: unknown } = { object: toJson(object) };
    if (previous !== undefined && Object.keys(previous).length > 0)
      data.previous_attributes = toJson(previous);
    const event = {
      id: newId("evt"),
      object: "event" as const,
      api_version: API_VERSION,
      created: this.realNow(),
      data,
      livemode: false,
      pending_webhooks: 0,
      request: this.request
        ? { id: this.request.id, idempotency_key: this.request.idempotency_key }
        : { id: null, idempotency_key: null },
      type,
    };
    // The JSON snapshot above is exactly the typed object, so this narrowing is sound.
    const typed = event as unknown as Stripe.Event;
    if (this.pendingEvents === null) {
      this.tx(() => this.emit(type, object, previous, options));
      return;
    }
    if (options.at !== undefined) this.pendingEvents.splice(options.at, 0, typed);
    else this.pendingEvents.push(typed);
  }

  /** Emits an update event with `previous_attributes` holding the changed top-level keys. */
  emitUpdate<T extends EventType>(type: T, before: EventObject<T>, after: EventObject<T>): void {
    this.emit(type, after, diffTopLevel(before, after));
  }

  reset(keep: (state: State) => State): void {
    this.state = keep(this.state);
    this.events = [];
    for (const listener of this.changeListeners) listener();
  }

  // ---- lookups -------------------------------------------------------------------------------------

  customer(id: string, param = "customer") {
    const rec = this.state.customers[id];
    if (!rec || rec.deleted) throw resourceMissing("customer", id, param);
    return rec;
  }

  price(id: string, param = "price") {
    const rec = this.state.prices[id];
    if (!rec) throw resourceMissing("price", id, param);
    return rec;
  }

  product(id: string, param = "product") {
    const rec = this.state.products[id];
    if (!rec || rec.deleted) throw resourceMissing("product", id, param);
    return rec;
  }

  subscription(id: string, param = "subscription") {
    const rec = this.state.subscriptions[id];
    if (!rec) throw resourceMissing("subscription", id, param);
    return rec;
  }

  invoice(id: string, param = "invoice") {
    const rec = this.state.invoices[id];
    if (!rec || rec.deleted) throw resourceMissing("invoice", id, param);
    return rec;
  }

  paymentMethod(id: string, param = "payment_method") {
    const rec = this.state.paymentMethods[id];
    if (!rec) throw resourceMissing("payment_method", id, param);
    return rec;
  }

  schedule(id: string, param = "schedule") {
    const rec = this.state.schedules[id];
    if (!rec) throw resourceMissing("subscription_schedule", id, param);
    return rec;
  }

  testClock(id: string, param = "test_clock") {
    const rec = this.state.testClocks[id];
    if (!rec || rec.deleted) throw resourceMissing("test_clock", id, param);
    return rec;
  }
}

export function toJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function diffTopLevel(before: object, after: object): Record<string, unknown> {
  const prev: Record<string, unknown> = {};
  const b = before as Record<string, unknown>;
  const a = after as Record<string, unknown>;
  for (const key of Object.keys(a)) {
    if (JSON.stringify(b[key]) !== JSON.stringify(a[key])) prev[key] = b[key] ?? null;
  }
  return prev;
}

interface Listable {
  id: string;
  created: number;
  seq: number;
}

/** Newest first, like Stripe lists. */
export function sortNewestFirst<T extends Listable>(items: T[]): T[] {
  return [...items].sort((x, y) => y.created - x.created || y.seq - x.seq);
}

/** Applies `limit`, `starting_after`, `ending_before` and `created` filters to newest-first items. */
export function paginate<T extends Listable, R>(
  items: T[],
  params: Params,
  url: string,
  build: (item: T) => R,
): Stripe.ApiList<R> {
  const limit = params.int("limit") ?? 10;
  if (limit < 1 || limit > 100) throw invalidRequest("Limit must be between 1 and 100.", "limit");
  let filtered = sortNewestFirst(items);
  // Only lists that accept `created` read it (the customer's payment methods, a session's lines do not).
  const created = params.declares("created") ? params.obj("created") : undefined;
  const createdExact = created || !params.declares("created") ? undefined : params.int("created");
  if (createdExact !== undefined) filtered = filtered.filter((i) => i.created === createdExact);
  if (created) {
    const gt = created.int("gt");
    const gte = created.int("gte");
    const lt = created.int("lt");
    const lte = created.int("lte");
    filtered = filtered.filter(
      (i) =>
        (gt === undefined || i.created > gt) &&
        (gte === undefined || i.created >= gte) &&
        (lt === undefined || i.created < lt) &&
        (lte === undefined || i.created <= lte),
    );
  }
  const startingAfter = params.str("starting_after");
  const endingBefore = params.str("ending_before");
  let page: T[];
  let hasMore: boolean;
  if (startingAfter) {
    const index = filtered.findIndex((i) => i.id === startingAfter);
    if (index < 0) throw invalidRequest(`Invalid starting_after id: ${startingAfter}`, "starting_after");
    const rest = filtered.slice(index + 1);
    page = rest.slice(0, limit);
    hasMore = rest.length > limit;
  } else if (endingBefore) {
    const index = filtered.findIndex((i) => i.id === endingBefore);
    if (index < 0) throw invalidRequest(`Invalid ending_before id: ${endingBefore}`, "ending_before");
    const before = filtered.slice(0, index);
    page = before.slice(Math.max(0, before.length - limit));
    hasMore = before.length > limit;
  } else {
    page = filtered.slice(0, limit);
    hasMore = filtered.length > limit;
  }
  return { object: "list", data: page.map(build), has_more: hasMore, url };
}

/** A list envelope for embedded lists (subscription items, invoice lines). */
export function embeddedList<R>(data: R[], url: string): Stripe.ApiList<R> {
  return { object: "list", data, has_more: false, url };
}
