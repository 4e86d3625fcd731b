// Load: 200 concurrent virtual clients against the real API process (with its own Stripe emulator delivering
// signed webhooks) for 60 seconds, mixing what customers and the calling platform really do at once:
// - dashboard reads: GET /api/dashboard/comprehensive/ and the tRPC batch the web SPA sends
//   (dashboard.get with the payment banner's subscription.overview);
// - usage ingestion by the calling platform: POST /api/v1/usage/calls with the metering token, batches of
//   1 to 500 calls for one or many accounts, some calls authorized first (POST /api/v1/calls/authorize),
//   repeats inside a batch, batches re-sent later or racing the original, retries overlapping new calls
//   (with replayed calls carrying another duration: answered call_id_conflict) and calls that must be rejected (unknown account, a
//   year ahead, before the customer subscribed: the customers subscribed at set-up, so none can be late);
// - subscription actions: upgrade previews and upgrades, downgrade schedule / cancel, cancel / resume, each
//   submitted twice at once (a double click), over REST and tRPC;
// - customer API reads with an API key (Enterprise accounts), paced under the documented 120 a minute.
// The API runs with NODE_ENV=test, where the same rate limits apply as in production: sign-up (10 a minute
// per client address; each customer signs up from its own X-Forwarded-For address) and the customer API
// (per key). Metering, dashboards and subscription actions have none, so what is measured is the product.
//
// Every response is recorded. Asserted: no 5xx and no dropped connection at all; a 409 only as the
// documented "another change is in progress" answer to a concurrent action and a 429 only from the customer
// API; afterwards, for every account, the stored usage (usage_event rows, period and daily rollups, the
// dashboard over REST and tRPC, the metering API) is exactly the set of distinct calls the clients got
// "accepted" or "duplicate" for: each call_id accepted once, stored as the version that was accepted,
// nothing lost, nothing counted twice, rollups equal to a recount of usage_event; and once every webhook is
// processed, each subscription in Minutely equals Stripe's. One summary line (requests, status classes,
// p50/p99 latency) and one per kind of request are printed; nothing is asserted on timings.
//
// MINUTELY_SOAK_SECONDS (passed through by turbo) sets the duration for soak runs, for example
//   cd apps/server && MINUTELY_SOAK_SECONDS=1800 pnpm exec vitest run --config vitest.reliability.config.ts \
//     src/reliability/load.test.ts
// MINUTELY_LOAD_SEED replays a run's random choices (the seed is printed in the summary).
import { randomUUID } from "node:crypto";
import { createStripeClient } from "@minutely/api";
import { seededRandom, testStack, userWithAccount } from "@minutely/testing";
import superjson from "superjson";
import { beforeAll, describe, expect, it } from "vitest";

const DURATION_MS = Number(process.env.MINUTELY_SOAK_SECONDS ?? 60) * 1000;
const SEED = Number(process.env.MINUTELY_LOAD_SEED ?? 20_261_127);
const CLIENTS = 200;
const ACCOUNTS = 36;
const INGEST_CLIENTS = 70;
/** The customer API allows 120 requests a minute per key; the readers stay well under it. */
const CUSTOMER_API_INTERVAL_MS = 700;
const METERING_TOKEN = "load-test-metering-token-0123456789";
const PASSWORD = "load-test-password-4242";
const RUN = randomUUID().slice(0, 8);
const LOCK_CONFLICT = "Another change to this subscription is in progress";

// Sign-up is limited to 10 a minute per client address: each customer signs up from its own address,
// which the API takes from X-Forwarded-For because it trusts the loopback proxy here.
const stack = await testStack({ env: { TRUST_PROXY: "loopback", METERING_API_TOKEN: METERING_TOKEN } });
const base = stack.baseUrl;
const db = stack.database.db;
const stripe = createStripeClient({ secretKey: "sk_test_load", apiBase: stack.stripeApiBase });

/** A small seeded PRNG (mulberry32), so a failing run's choices can be replayed. */
function prng(seed: number) {
  const next = seededRandom(seed);
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
    chance: (p: number) => next() < p,
  };
}
type Rng = ReturnType<typeof prng>;

// ---------------------------------------------------------------------------------------------------------
// Every response, recorded.

interface Sample {
  kind: string;
  status: number;
  ms: number;
  /** Method and path, and the body of anything but a 2xx (truncated). */
  what: string;
  body?: string;
}
const samples: Sample[] = [];

interface Reply {
  status: number;
  text: string;
  json: unknown;
  headers: Headers;
}

async function call(kind: string, path: string, init: RequestInit = {}): Promise<Reply> {
  const started = performance.now();
  const what = `${init.method ?? "GET"} ${path.split("?")[0]}`;
  try {
    const response = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(120_000) });
    const text = await response.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: kept as text
    }
    // A tRPC batch answers 207 when some of its calls failed: each call counts with its own status.
    const status = Array.isArray(json)
      ? Math.max(
          response.status === 207 ? 200 : response.status,
          ...json.map((item: { error?: { json?: { data?: { httpStatus?: number } } } }) =>
            item.error ? (item.error.json?.data?.httpStatus ?? 500) : 200,
          ),
        )
      : response.status;
    const sample: Sample = { kind, status, ms: performance.now() - started, what };
    if (status < 200 || status >= 300) sample.body = text.slice(0, 600);
    samples.push(sample);
    return { status, text, json, headers: response.headers };
  } catch (error) {
    // A dropped connection or a timeout: status 0, which the test counts as a failure like a 5xx.
    samples.push({ kind, status: 0, ms: performance.now() - started, what, body: String(error) });
    return { status: 0, text: "", json: null, headers: new Headers() };
  }
}

const jsonHeaders = (extra: Record<string, string> = {}) => ({
  "content-type": "application/json",
  ...extra,
});

// ---------------------------------------------------------------------------------------------------------
// Customers.

type PlanName = "Starter" | "Pro" | "Enterprise";
const PLAN_ORDER: PlanName[] = ["Starter", "Pro", "Enterprise"];

interface SubscriptionState {
  plan: PlanName;
  cancelAtPeriodEnd: boolean;
  scheduled: string | null;
}

interface Customer {
  index: number;
  email: string;
  accountId: string;
  cookie: string;
  agentId: string;
  periodStart: Date;
  apiKey: string | null;
  state: SubscriptionState;
}

let plans: Record<PlanName, string>;
const customers: Customer[] = [];

function stateOf(subscription: unknown): SubscriptionState {
  const s = subscription as {
    package_name?: string;
    cancel_at_period_end?: boolean;
    scheduled_change?: { package_name: string } | null;
    package?: { name: string } | null;
    cancelAtPeriodEnd?: boolean;
    scheduledChange?: { packageName: string } | null;
  };
  const plan = (s.package_name ?? s.package?.name) as PlanName;
  if (!PLAN_ORDER.includes(plan)) throw new Error(`unexpected subscription ${JSON.stringify(subscription)}`);
  return {
    plan,
    cancelAtPeriodEnd: Boolean(s.cancel_at_period_end ?? s.cancelAtPeriodEnd),
    scheduled: s.scheduled_change?.package_name ?? s.scheduledChange?.packageName ?? null,
  };
}

/** A tRPC mutation as the SPA sends it (superjson, the session cookie and our origin). */
async function trpcMutation(kind: string, customer: Customer, procedure: string, input?: unknown) {
  const reply = await call(kind, `/trpc/${procedure}`, {
    method: "POST",
    headers: jsonHeaders({ cookie: customer.cookie, origin: base }),
    body: JSON.stringify(input === undefined ? {} : superjson.serialize(input)),
  });
  const result = (reply.json as { result?: { data?: unknown } } | null)?.result?.data;
  return { ...reply, data: result === undefined ? undefined : superjson.deserialize(result as never) };
}

async function trpcQuery(kind: string, customer: Customer, procedure: string, input?: unknown) {
  const query =
    input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(superjson.serialize(input)))}`;
  const reply = await call(kind, `/trpc/${procedure}${query}`, { headers: { cookie: customer.cookie } });
  const result = (reply.json as { result?: { data?: unknown } } | null)?.result?.data;
  return { ...reply, data: result === undefined ? undefined : superjson.deserialize(result as never) };
}

async function restAction(kind: string, customer: Customer, body: Record<string, unknown>) {
  return await call(kind, "/api/subscriptions/user/actions/", {
    method: "POST",
    headers: jsonHeaders({ cookie: customer.cookie, origin: base }),
    body: JSON.stringify(body),
  });
}

async function setUpCustomer(index: number): Promise<Customer> {
  const email = `load-${RUN}-${index}@example.com`;
  const signUp = await call("setup", "/api/auth/sign-up/email", {
    method: "POST",
    headers: jsonHeaders({
      origin: base,
      "x-forwarded-for": `10.42.${Math.floor(index / 250)}.${(index % 250) + 1}`,
    }),
    body: JSON.stringify({ name: `Load ${index}`, email, password: PASSWORD }),
  });
  if (signUp.status !== 200) throw new Error(`sign-up ${index}: ${signUp.status} ${signUp.text}`);
  const cookie = signUp.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  const user = await userWithAccount(db, { email });
  if (!user.accountId) throw new Error(`sign-up ${index} created no account`);
  // A third of the accounts start on each package, so every upgrade and downgrade path is exercised.
  const plan = PLAN_ORDER[index % 3] as PlanName;
  const customer: Customer = {
    index,
    email,
    accountId: user.accountId,
    cookie,
    agentId: "",
    periodStart: new Date(0),
    apiKey: null,
    state: { plan, cancelAtPeriodEnd: false, scheduled: null },
  };
  const subscribed = await restAction("setup", customer, {
    action: "subscribe",
    package_id: plans[plan],
    payment_method_id: "pm_card_visa",
  });
  if (subscribed.status !== 200)
    throw new Error(`subscribe ${index}: ${subscribed.status} ${subscribed.text}`);
  const subscription = (subscribed.json as { subscription: { current_period_start: string } }).subscription;
  customer.state = stateOf(subscription);
  customer.periodStart = new Date(subscription.current_period_start);
  const agent = await trpcMutation("setup", customer, "agents.create", { name: `Agent ${index}` });
  if (agent.status !== 200) throw new Error(`agent ${index}: ${agent.status} ${agent.text}`);
  customer.agentId = (agent.data as { id: string }).id;
  if (plan === "Enterprise") {
    const key = await trpcMutation("setup", customer, "apiKeys.create", { name: "load test" });
    if (key.status !== 200) throw new Error(`API key ${index}: ${key.status} ${key.text}`);
    customer.apiKey = (key.data as { key: string }).key;
  }
  return customer;
}

async function inBatches<T>(count: number, parallel: number, make: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let start = 0; start < count; start += parallel) {
    const chunk = Array.from({ length: Math.min(parallel, count - start) }, (_, j) => make(start + j));
    out.push(...(await Promise.all(chunk)));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Usage: what was sent and what the API answered, per call_id.

interface SentEvent {
  call_id: string;
  account_id: string;
  agent_id?: string | null;
  direction: "inbound" | "outbound";
  started_at: string;
  duration_seconds?: number;
  ended_at?: string;
}

/** An "accepted" answer and the version of the call it accepted (kept small: a soak run has millions). */
interface Accepted {
  minutes: number;
  seconds: number;
  periodStart: string;
  late: boolean;
  /** The seconds the accepted version of the call should count. */
  sentSeconds: number;
  startedAtMs: number;
  direction: SentEvent["direction"];
  agentId: string | null;
}

interface CallRecord {
  accountId: string;
  /** The call may be rejected (unknown account, in the future): it must never be stored. */
  mustReject: boolean;
  accepted: Accepted[];
  duplicates: number;
  /** Seconds of each report answered call_id_conflict (a replay carrying another duration). */
  conflicts: number[];
  rejected: string[];
}
const calls = new Map<string, CallRecord>();
/** Batches already sent, to re-send some of them later. */
const sentBatches: SentEvent[][] = [];

/** The metering rule, independently: whole seconds rounded up, then per started minute. */
function expectedSeconds(event: SentEvent): number {
  if (event.duration_seconds !== undefined) return Math.ceil(event.duration_seconds);
  return Math.ceil((Date.parse(event.ended_at ?? "") - Date.parse(event.started_at)) / 1000);
}

const runStartedAt = { ms: 0 };

function newEvent(rng: Rng, customer: Customer): SentEvent {
  const now = Date.now();
  // Calls of the current period start after set-up (the periods started when the customers subscribed, so
  // no call can be late: one dated before the subscription began is rejected, see rejectedEvent).
  const started = rng.int(runStartedAt.ms, now);
  const event: SentEvent = {
    call_id: `load-${RUN}-${randomUUID()}`,
    account_id: customer.accountId,
    direction: rng.chance(0.5) ? "inbound" : "outbound",
    started_at: new Date(started).toISOString(),
  };
  if (rng.chance(0.5)) event.agent_id = customer.agentId;
  const seconds = rng.pick([0, 1, 59, 60, 61, 119, 120, 121, rng.int(0, 3600), rng.int(0, 600)]);
  if (rng.chance(0.3)) event.ended_at = new Date(started + seconds * 1000 + rng.int(0, 999)).toISOString();
  else event.duration_seconds = rng.chance(0.2) ? seconds + rng.int(1, 999) / 1000 : seconds;
  return event;
}

function rejectedEvent(rng: Rng, customer: Customer): SentEvent {
  const event = newEvent(rng, customer);
  if (rng.chance(0.4)) return { ...event, account_id: randomUUID() };
  const { ended_at: _ended, ...rest } = event;
  // Before the customer subscribed (before_subscription), or a year ahead (started_in_future).
  const startedMs = rng.chance(0.3)
    ? customer.periodStart.getTime() - rng.int(1, 5) * 86_400_000
    : Date.now() + 365 * 86_400_000;
  return { ...rest, started_at: new Date(startedMs).toISOString(), duration_seconds: 30 };
}

function record(event: SentEvent, mustReject: boolean): void {
  if (!calls.has(event.call_id)) {
    calls.set(event.call_id, {
      accountId: event.account_id,
      mustReject,
      accepted: [],
      duplicates: 0,
      conflicts: [],
      rejected: [],
    });
  }
}

interface IngestResult {
  call_id: string;
  status: "accepted" | "duplicate" | "rejected";
  billable_minutes?: number;
  duration_seconds?: number;
  period_start?: string;
  late?: boolean;
  reason?: string;
}

const ingestProblems: string[] = [];

async function sendBatch(kind: string, events: SentEvent[]): Promise<void> {
  const reply = await call(kind, "/api/v1/usage/calls", {
    method: "POST",
    headers: jsonHeaders({ authorization: `Bearer ${METERING_TOKEN}` }),
    body: JSON.stringify({ events }),
  });
  if (reply.status !== 200) return; // recorded as a failed sample
  const results = (reply.json as { results: IngestResult[] }).results;
  if (results.length !== events.length) {
    ingestProblems.push(`${events.length} events sent, ${results.length} results`);
    return;
  }
  for (const [i, result] of results.entries()) {
    const event = events[i] as SentEvent;
    const entry = calls.get(event.call_id);
    if (!entry || result.call_id !== event.call_id) {
      ingestProblems.push(`result ${i} is for ${result.call_id}, sent ${event.call_id}`);
      continue;
    }
    if (result.status === "accepted") {
      entry.accepted.push({
        minutes: result.billable_minutes ?? -1,
        seconds: result.duration_seconds ?? -1,
        periodStart: result.period_start ?? "",
        late: result.late ?? false,
        sentSeconds: expectedSeconds(event),
        startedAtMs: Date.parse(event.started_at),
        direction: event.direction,
        agentId: event.agent_id ?? null,
      });
    } else if (result.status === "duplicate") entry.duplicates += 1;
    else if (result.reason === "call_id_conflict") entry.conflicts.push(expectedSeconds(event));
    else entry.rejected.push(result.reason ?? "?");
  }
}

/** Some calls of `batch` (half of them with another duration) and new calls, shuffled. */
function overlapping(rng: Rng, batch: readonly SentEvent[]): SentEvent[] {
  const customer = rng.pick(customers);
  const replayed = batch
    .filter(() => rng.chance(0.5))
    .map((event) => {
      if (rng.chance(0.5)) return event;
      const { ended_at: _ended, ...rest } = event;
      return { ...rest, duration_seconds: rng.int(0, 900) };
    });
  const fresh = Array.from({ length: rng.int(1, 20) }, () => {
    const event = newEvent(rng, customer);
    record(event, false);
    return event;
  });
  const mixed = [...replayed, ...fresh];
  for (let i = mixed.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [mixed[i], mixed[j]] = [mixed[j] as SentEvent, mixed[i] as SentEvent];
  }
  return mixed;
}

async function ingestClient(rng: Rng, endAt: number): Promise<void> {
  while (Date.now() < endAt) {
    const roll = rng.next();
    if (roll < 0.12 && sentBatches.length > 0) {
      // The platform retries a batch it is unsure about: everything in it was already sent.
      await sendBatch("ingest-resend", rng.pick(sentBatches));
      continue;
    }
    if (roll < 0.17 && sentBatches.length > 0) {
      // A retry that overlaps new calls: only the new ones count, and a replayed call keeps its first
      // recorded duration even when the replay says otherwise.
      await sendBatch("ingest-overlap", overlapping(rng, rng.pick(sentBatches)));
      continue;
    }
    if (roll < 0.25) {
      // One call authorized first (it reserves minutes), then reported with its agent.
      const customer = rng.pick(customers);
      const event = { ...newEvent(rng, customer), agent_id: customer.agentId };
      const authorized = await call("authorize", "/api/v1/calls/authorize", {
        method: "POST",
        headers: jsonHeaders({ authorization: `Bearer ${METERING_TOKEN}` }),
        body: JSON.stringify({
          call_id: event.call_id,
          account_id: event.account_id,
          agent_id: customer.agentId,
          direction: event.direction,
        }),
      });
      if (authorized.status !== 200) continue;
      record(event, false);
      await sendBatch("ingest", [event]);
      continue;
    }
    const size = rng.pick([1, 1, 2, 5, 10, 25, 50, 100, 200, 500]);
    const oneAccount = rng.chance(0.7);
    const first = rng.pick(customers);
    const events: SentEvent[] = [];
    for (let i = 0; i < size; i++) {
      const customer = oneAccount ? first : rng.pick(customers);
      if (rng.chance(0.01)) {
        const bad = rejectedEvent(rng, customer);
        record(bad, true);
        events.push(bad);
      } else if (events.length > 0 && rng.chance(0.03)) {
        events.push({ ...rng.pick(events) }); // a repeat inside the batch
      } else {
        const event = newEvent(rng, customer);
        record(event, false);
        events.push(event);
      }
    }
    // The last batches only: what a platform would retry, and a soak run's memory stays flat.
    if (sentBatches.length >= 500) sentBatches.splice(rng.int(0, sentBatches.length - 1), 1);
    sentBatches.push(events);
    if (rng.chance(0.05)) {
      // A retry racing the original, the same batch or one overlapping it: the unique index decides.
      const retry = rng.chance(0.5) ? events : overlapping(rng, events);
      await Promise.all([sendBatch("ingest", events), sendBatch("ingest-resend", retry)]);
    } else {
      await sendBatch("ingest", events);
    }
    if (rng.chance(0.1)) {
      const customer = rng.pick(customers);
      await call("metering-read", `/api/v1/accounts/${customer.accountId}/usage`, {
        headers: { authorization: `Bearer ${METERING_TOKEN}` },
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Dashboards, customer API, subscription actions.

const readProblems: string[] = [];

async function dashboardClient(rng: Rng, customer: Customer, endAt: number): Promise<void> {
  // Usage only grows during the run (one period, no resets): a later read never shows fewer minutes.
  let seen = 0;
  const observe = (minutes: unknown, source: string) => {
    if (typeof minutes !== "number") {
      readProblems.push(`${source}: minutes_used is ${JSON.stringify(minutes)}`);
      return;
    }
    if (minutes < seen)
      readProblems.push(`${source}: ${minutes} minutes after ${seen} for ${customer.accountId}`);
    seen = Math.max(seen, minutes);
  };
  while (Date.now() < endAt) {
    if (rng.chance(0.5)) {
      const reply = await call("dashboard-rest", "/api/dashboard/comprehensive/", {
        headers: { cookie: customer.cookie },
      });
      if (reply.status === 200)
        observe((reply.json as { usage: { minutes_used: unknown } }).usage.minutes_used, "REST");
    } else {
      // What the web SPA sends: dashboard.get batched with the payment banner's overview, one round trip.
      const input = encodeURIComponent(JSON.stringify({ 0: {}, 1: {} }));
      const reply = await call(
        "dashboard-trpc",
        `/trpc/dashboard.get,subscription.overview?batch=1&input=${input}`,
        {
          headers: { cookie: customer.cookie },
        },
      );
      if (reply.status === 200) {
        const [dash] = reply.json as { result: { data: unknown } }[];
        const view = superjson.deserialize(dash?.result.data as never) as {
          usage: { minutesUsed: number } | null;
        };
        observe(view.usage?.minutesUsed, "tRPC");
      }
    }
  }
}

async function customerApiClient(rng: Rng, customer: Customer, endAt: number): Promise<void> {
  const paths = [
    "/api/v1/subscription",
    "/api/v1/usage",
    "/api/v1/usage/history",
    "/api/v1/invoices",
    "/api/v1/agents",
  ];
  while (Date.now() < endAt) {
    const started = Date.now();
    await call("customer-api", rng.pick(paths), { headers: { authorization: `Bearer ${customer.apiKey}` } });
    // Pacing, not waiting for a condition: the key's limit is per minute.
    const wait = CUSTOMER_API_INTERVAL_MS - (Date.now() - started);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

interface DoubleSubmit {
  action: string;
  statuses: number[];
}
const doubleSubmits: DoubleSubmit[] = [];
const actionProblems: string[] = [];

/** Sends the same action twice at once; the successful answers must agree, and at least one succeeds. */
async function twice(
  customer: Customer,
  action: string,
  send: () => Promise<{ status: number; subscription: unknown }>,
): Promise<void> {
  const replies = await Promise.all([send(), send()]);
  doubleSubmits.push({ action, statuses: replies.map((r) => r.status) });
  const states = replies.filter((r) => r.status === 200).map((r) => JSON.stringify(stateOf(r.subscription)));
  if (new Set(states).size > 1) actionProblems.push(`${action} twice answered ${states.join(" and ")}`);
  const last = states.at(-1);
  if (last) customer.state = JSON.parse(last) as SubscriptionState;
  else await refreshState(customer);
}

/** After an unexpected answer (already recorded as such), the client re-reads its state and goes on. */
async function refreshState(customer: Customer): Promise<void> {
  const overview = await trpcQuery("action-overview", customer, "subscription.overview");
  if (overview.status === 200) customer.state = stateOf(overview.data);
}

async function actionClient(rng: Rng, customer: Customer, endAt: number): Promise<void> {
  const rest = (body: Record<string, unknown>) => async () => {
    const reply = await restAction(`action-${body.action}`, customer, body);
    return {
      status: reply.status,
      subscription: (reply.json as { subscription?: unknown } | null)?.subscription,
    };
  };
  const trpc = (procedure: string, input?: unknown) => async () => {
    const reply = await trpcMutation(`action-${procedure}`, customer, procedure, input);
    return { status: reply.status, subscription: reply.data };
  };
  while (Date.now() < endAt) {
    const { plan, cancelAtPeriodEnd, scheduled } = customer.state;
    if (cancelAtPeriodEnd) {
      await twice(
        customer,
        "resume",
        rng.chance(0.5) ? rest({ action: "resume" }) : trpc("subscription.resume"),
      );
    } else if (scheduled !== null) {
      if (rng.chance(0.5))
        await twice(customer, "cancelScheduledChange", trpc("subscription.cancelScheduledChange"));
      else await twice(customer, "cancel", rest({ action: "cancel" }));
    } else if (plan !== "Enterprise") {
      const target = PLAN_ORDER[PLAN_ORDER.indexOf(plan) + 1] as PlanName;
      const preview = await trpcQuery("action-previewUpgrade", customer, "subscription.previewUpgrade", {
        packageId: plans[target],
      });
      if (preview.status !== 200) {
        await refreshState(customer);
        continue;
      }
      const prorationDate = (preview.data as { prorationDate: Date }).prorationDate;
      await twice(
        customer,
        "upgrade",
        rng.chance(0.5)
          ? rest({
              action: "upgrade",
              package_id: plans[target],
              proration_date: Math.floor(prorationDate.getTime() / 1000),
            })
          : trpc("subscription.upgrade", { packageId: plans[target], prorationDate }),
      );
    } else if (rng.chance(0.6)) {
      const target = rng.pick(["Starter", "Pro"] as const);
      await twice(
        customer,
        "downgrade",
        rng.chance(0.5)
          ? rest({ action: "downgrade", package_id: plans[target] })
          : trpc("subscription.downgrade", { packageId: plans[target] }),
      );
    } else {
      await twice(
        customer,
        "cancel",
        rng.chance(0.5) ? rest({ action: "cancel" }) : trpc("subscription.cancel"),
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------------------

/** The errors the API process logged, grouped by message (most frequent first), for a failure's message. */
function loggedErrors(): string {
  const counts = new Map<string, number>();
  for (const line of stack.logs().split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      if ((entry.level ?? 0) < 50) continue;
      const key = `${entry.msg}: ${entry.err?.message?.slice(0, 160) ?? ""}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    } catch {
      // a partial line
    }
  }
  return JSON.stringify([...counts].sort((a, b) => b[1] - a[1]).slice(0, 8));
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  // The API gives the catalog Stripe prices just after it starts listening.
  await until("the catalog's Stripe prices", async () => {
    const rows = await db.subscriptionPlan.findMany({ where: { name: { in: PLAN_ORDER } } });
    return rows.length === 3 && rows.every((r) => r.stripePriceId);
  });
  const rows = await db.subscriptionPlan.findMany({ where: { name: { in: PLAN_ORDER } } });
  plans = Object.fromEntries(rows.map((r) => [r.name, r.id])) as Record<PlanName, string>;
  customers.push(...(await inBatches(ACCOUNTS, 6, setUpCustomer)));
}, 300_000);

describe("load", () => {
  it(`${CLIENTS} concurrent clients for ${DURATION_MS / 1000} s: no 5xx, no lost or duplicated usage`, {
    timeout: DURATION_MS + 300_000,
  }, async () => {
    const setupSamples = samples.length;
    const rng = prng(SEED);
    const clientRng = () => prng(rng.int(1, 2 ** 31));
    runStartedAt.ms = Date.now();
    const endAt = runStartedAt.ms + DURATION_MS;
    const withKeys = customers.filter((c) => c.apiKey !== null);
    const clients: Promise<void>[] = [];
    for (const customer of customers) clients.push(actionClient(clientRng(), customer, endAt));
    for (const customer of withKeys) clients.push(customerApiClient(clientRng(), customer, endAt));
    for (let i = 0; i < INGEST_CLIENTS; i++) clients.push(ingestClient(clientRng(), endAt));
    for (let i = 0; clients.length < CLIENTS; i++) {
      clients.push(dashboardClient(clientRng(), customers[i % customers.length] as Customer, endAt));
    }
    await Promise.all(clients);
    const run = samples.slice(setupSamples);

    // One line for the log; timings are reported, never asserted (the machine is shared).
    const byClass = new Map<string, number>();
    for (const s of run) {
      const cls = s.status === 0 ? "error" : `${Math.floor(s.status / 100)}xx`;
      byClass.set(cls, (byClass.get(cls) ?? 0) + 1);
    }
    const latencies = run.map((s) => s.ms).sort((a, b) => a - b);
    const eventsSent = [...calls.values()].filter((c) => !c.mustReject).length;
    console.info(
      `load: ${run.length} requests in ${DURATION_MS / 1000} s by ${clients.length} clients (seed ${SEED}), ` +
        `${[...byClass].map(([k, v]) => `${k} ${v}`).join(", ")}; p50 ${percentile(latencies, 50).toFixed(0)} ms, ` +
        `p99 ${percentile(latencies, 99).toFixed(0)} ms; ${eventsSent} distinct calls, ${doubleSubmits.length} double submits`,
    );

    const byKind = new Map<string, Sample[]>();
    for (const s of run) byKind.set(s.kind, [...(byKind.get(s.kind) ?? []), s]);
    const kindLine = [...byKind]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([kind, list]) => {
        const statuses = new Map<number, number>();
        for (const s of list) statuses.set(s.status, (statuses.get(s.status) ?? 0) + 1);
        const ms = list.map((s) => s.ms).sort((a, b) => a - b);
        return `${kind} ${[...statuses].map(([st, n]) => `${st}x${n}`).join("/")} p50 ${percentile(ms, 50).toFixed(0)} ms`;
      });
    console.info(`load by kind: ${kindLine.join("; ")}`);

    // No 5xx, no dropped connection.
    const failures = run.filter((s) => s.status === 0 || s.status >= 500);
    expect(
      failures.slice(0, 5).map((s) => `${s.status} ${s.what} (${s.kind}): ${s.body}`),
      `${failures.length} requests failed; the API logged: ${loggedErrors()}`,
    ).toEqual([]);
    // 4xx only where documented: a concurrent action's CONFLICT, the customer API's rate limit.
    const unexpected = run.filter((s) => {
      if (s.status < 400) return false;
      if (s.status === 409 && s.kind.startsWith("action-")) return s.body?.includes(LOCK_CONFLICT) !== true;
      if (s.status === 429 && s.kind === "customer-api") return false;
      return true;
    });
    expect(
      unexpected.slice(0, 5).map((s) => `${s.status} ${s.what} (${s.kind}): ${s.body}`),
      `${unexpected.length} unexpected 4xx`,
    ).toEqual([]);
    // A double submit is one action: at least one of the two goes through.
    expect(doubleSubmits.filter((d) => !d.statuses.includes(200))).toEqual([]);
    expect(actionProblems).toEqual([]);
    expect(ingestProblems).toEqual([]);
    expect(readProblems.slice(0, 5)).toEqual([]);
    // The run did real work on every front (a run of only conflicts or only reads proves nothing).
    const okKinds = new Set(run.filter((s) => s.status === 200).map((s) => s.kind));
    for (const kind of [
      "ingest",
      "ingest-resend",
      "ingest-overlap",
      "dashboard-rest",
      "dashboard-trpc",
      "customer-api",
    ]) {
      expect(okKinds, kind).toContain(kind);
    }
    expect(doubleSubmits.filter((d) => d.action === "upgrade").length).toBeGreaterThan(0);
    expect(doubleSubmits.filter((d) => d.action === "downgrade").length).toBeGreaterThan(0);
    expect(doubleSubmits.filter((d) => d.action === "resume").length).toBeGreaterThan(0);

    await verifyUsage();
    await verifySubscriptionsConverged();
  });
});

/** Stored usage == the distinct calls the clients were told about; rollups == a recount of the events. */
async function verifyUsage(): Promise<void> {
  // Per call_id: answered accepted exactly once, never for a call that had to be rejected.
  const expected = new Map<string, Accepted & { accountId: string }>();
  const problems: string[] = [];
  for (const [callId, c] of calls) {
    if (c.mustReject) {
      if (c.accepted.length > 0 || c.duplicates > 0 || c.conflicts.length > 0 || c.rejected.length === 0)
        problems.push(`${callId} should have been rejected: ${JSON.stringify(c)}`);
      continue;
    }
    if (c.rejected.length > 0) problems.push(`${callId} was rejected (${c.rejected.join(", ")})`);
    if (c.accepted.length === 0 && c.duplicates === 0) continue; // sent only in a batch whose answer failed
    if (c.accepted.length !== 1) {
      problems.push(`${callId} was accepted ${c.accepted.length} times`);
      continue;
    }
    const a = c.accepted[0] as Accepted;
    // A conflict is a report of the same key with another duration than the one recorded, never the same.
    if (c.conflicts.includes(a.seconds))
      problems.push(`${callId}: a report of the recorded ${a.seconds} s was answered call_id_conflict`);
    if (a.seconds !== a.sentSeconds || a.minutes !== Math.ceil(a.sentSeconds / 60))
      problems.push(`${callId}: answered ${a.seconds} s / ${a.minutes} min for ${a.sentSeconds} s`);
    expected.set(callId, { ...a, accountId: c.accountId });
  }
  expect(problems.slice(0, 10), `${problems.length} calls answered wrongly`).toEqual([]);

  // usage_event holds exactly those calls, each as it was accepted.
  const stored = await db.usageEvent.findMany({
    where: { callId: { startsWith: `load-${RUN}-` } },
    select: {
      callId: true,
      accountId: true,
      agentId: true,
      direction: true,
      startedAt: true,
      durationSeconds: true,
      billableMinutes: true,
      periodStart: true,
      late: true,
    },
  });
  const storedIds = new Set(stored.map((s) => s.callId));
  const lost = [...expected.keys()].filter((id) => !storedIds.has(id));
  const extra = stored.filter((s) => !expected.has(s.callId)).map((s) => s.callId);
  expect(lost.slice(0, 5), `${lost.length} accepted calls are not stored`).toEqual([]);
  expect(extra.slice(0, 5), `${extra.length} stored calls were never accepted`).toEqual([]);
  const mismatched = stored.filter((s) => {
    const e = expected.get(s.callId);
    return (
      !e ||
      s.accountId !== e.accountId ||
      s.durationSeconds !== e.seconds ||
      s.billableMinutes !== e.minutes ||
      s.late !== e.late ||
      s.periodStart.toISOString() !== e.periodStart ||
      s.startedAt.getTime() !== e.startedAtMs ||
      s.direction !== e.direction ||
      (s.agentId ?? null) !== e.agentId
    );
  });
  expect(
    mismatched.slice(0, 5),
    `${mismatched.length} stored calls differ from the accepted version`,
  ).toEqual([]);

  // The per-period rollups: the expected totals, and a recount of usage_event.
  const expectedPeriods = new Map<string, { minutes: number; seconds: number; calls: number }>();
  for (const e of expected.values()) {
    const key = `${e.accountId}|${e.periodStart}`;
    const p = expectedPeriods.get(key) ?? { minutes: 0, seconds: 0, calls: 0 };
    p.minutes += e.minutes;
    p.seconds += e.seconds;
    p.calls += 1;
    expectedPeriods.set(key, p);
  }
  const accountIds = customers.map((c) => c.accountId);
  const rollups = await db.usagePeriodRollup.findMany({ where: { accountId: { in: accountIds } } });
  const rollupMap = new Map(
    rollups.map((r) => [
      `${r.accountId}|${r.periodStart.toISOString()}`,
      { minutes: r.minutes, seconds: Number(r.seconds), calls: r.calls },
    ]),
  );
  expect(rollupMap).toEqual(expectedPeriods);
  const recount = await db.$queryRaw<
    { account_id: string; period_start: Date; minutes: number; seconds: number; calls: number }[]
  >`
    SELECT account_id::text, period_start, sum(billable_minutes)::int AS minutes,
      sum(duration_seconds)::int AS seconds, count(*)::int AS calls
    FROM usage_event WHERE account_id = ANY(${accountIds}::uuid[]) GROUP BY 1, 2`;
  expect(
    new Map(
      recount.map((r) => [
        `${r.account_id}|${r.period_start.toISOString()}`,
        { minutes: r.minutes, seconds: r.seconds, calls: r.calls },
      ]),
    ),
  ).toEqual(rollupMap);

  // The per-day rollups (UTC day, agent, direction) against a recount of usage_event.
  const daily = await db.$queryRaw<{ key: string; minutes: number; calls: number }[]>`
    SELECT account_id::text || '|' || to_char(day, 'YYYY-MM-DD') || '|' || agent_key || '|' || direction::text AS key,
      minutes, calls
    FROM usage_daily_rollup WHERE account_id = ANY(${accountIds}::uuid[])`;
  const dailyRecount = await db.$queryRaw<{ key: string; minutes: number; calls: number }[]>`
    SELECT account_id::text || '|' || to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') || '|' ||
      COALESCE(agent_id::text, '') || '|' || direction::text AS key,
      sum(billable_minutes)::int AS minutes, count(*)::int AS calls
    FROM usage_event WHERE account_id = ANY(${accountIds}::uuid[]) GROUP BY 1`;
  const asMap = (rows: { key: string; minutes: number; calls: number }[]) =>
    new Map(rows.map((r) => [r.key, { minutes: r.minutes, calls: r.calls }]));
  expect(asMap(daily)).toEqual(asMap(dailyRecount));

  // What customers and the platform read: the dashboard (REST and tRPC) and the metering API.
  for (const customer of customers) {
    const current = expectedPeriods.get(`${customer.accountId}|${customer.periodStart.toISOString()}`) ?? {
      minutes: 0,
      calls: 0,
    };
    const rest = await call("verify", "/api/dashboard/comprehensive/", {
      headers: { cookie: customer.cookie },
    });
    expect(rest.status).toBe(200);
    const view = rest.json as {
      usage: { minutes_used: number; calls: number };
      daily_usage: { minutes: number }[];
    };
    expect({ minutes: view.usage.minutes_used, calls: view.usage.calls }, customer.email).toEqual({
      minutes: current.minutes,
      calls: current.calls,
    });
    expect(view.daily_usage.reduce((sum, d) => sum + d.minutes, 0)).toBe(current.minutes);
    const trpc = await trpcQuery("verify", customer, "dashboard.get");
    expect((trpc.data as { usage: { minutesUsed: number } }).usage.minutesUsed).toBe(current.minutes);
    const metering = await call("verify", `/api/v1/accounts/${customer.accountId}/usage`, {
      headers: { authorization: `Bearer ${METERING_TOKEN}` },
    });
    expect((metering.json as { minutes_used: number }).minutes_used).toBe(current.minutes);
  }
}

/** Once every webhook is delivered and processed, Minutely's copy of each subscription equals Stripe's. */
async function verifySubscriptionsConverged(): Promise<void> {
  const flushed = await fetch(`${stack.stripeApiBase}/_emulator/flush`, { method: "POST" });
  expect(flushed.status).toBe(200);
  await until(
    "every Stripe event processed",
    async () => (await db.stripeEvent.count({ where: { status: { not: "processed" } } })) === 0,
    180_000,
  );
  const differences: string[] = [];
  for (const customer of customers) {
    const [row, ...others] = await db.subscription.findMany({ where: { accountId: customer.accountId } });
    if (!row || others.length > 0) {
      differences.push(`${customer.email} has ${others.length + (row ? 1 : 0)} subscriptions`);
      continue;
    }
    const remote = await stripe.subscriptions.retrieve(row.stripeSubscriptionId);
    const ours = { price: row.stripePriceId, cancel: row.cancelAtPeriodEnd, schedule: row.stripeScheduleId };
    const theirs = {
      price: remote.items.data[0]?.price.id,
      cancel: remote.cancel_at_period_end,
      schedule: typeof remote.schedule === "string" ? remote.schedule : (remote.schedule?.id ?? null),
    };
    if (JSON.stringify(ours) !== JSON.stringify(theirs)) {
      differences.push(`${customer.email}: ours ${JSON.stringify(ours)}, Stripe ${JSON.stringify(theirs)}`);
    }
  }
  expect(differences).toEqual([]);
}
