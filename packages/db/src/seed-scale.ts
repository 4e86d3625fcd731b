// A large, realistic data set for trying the admin app at scale (`pnpm db:seed:scale`): thousands of
// accounts with owners, subscriptions (active, past due, unpaid, canceled, expired), plan changes recorded
// as Stripe webhook events, monthly invoices, agents, millions of usage events with their per-period and
// per-day rollups kept consistent (same transaction, same rules as ingestion), and the usage alerts those
// rollups imply. Rows are written in batches with multi-row INSERT ... SELECT FROM unnest(...).
//
// Re-running tops up: seeded rows are recognisable (Stripe ids cus_seed_*, call ids seed-*), so a second
// run with the same numbers adds nothing, and larger numbers add only the difference.
import { randomUUID } from "node:crypto";
import {
  addMonthsClamped,
  billableMinutes,
  dayKey,
  monthlyPeriodContaining,
  monthlyPeriodIndex,
} from "@minutely/domain";
import pg from "pg";
import { lockName, SESSION_LOCK_SQL } from "./locks.ts";

export interface ScaleSeedOptions {
  accounts: number;
  events: number;
  /** "Now" for the data set (default: the current time). */
  now?: Date;
  /** Seed of the pseudo-random generator, so a data set can be reproduced. */
  seed?: number;
  /** Accounts per transaction. */
  accountBatch?: number;
  /** Usage events per transaction. */
  eventBatch?: number;
  onProgress?: (phase: ScalePhase, done: number, total: number) => void;
}

export type ScalePhase = "accounts" | "events" | "alerts";

export interface ScaleSeedResult {
  accountsBefore: number;
  accountsCreated: number;
  eventsBefore: number;
  eventsCreated: number;
  alertsCreated: number;
}

const SEED_CUSTOMER_PREFIX = "cus_seed_";
const SEED_CALL_PREFIX = "seed-";
const MS_PER_DAY = 86_400_000;
const HISTORY_DAYS = 540;
/** Share of an account's events in its current period (the rest in the period before). */
const CURRENT_PERIOD_SHARE = 0.6;
const MAX_CALL_SECONDS = 86_399;

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(items: readonly T[], rnd: () => number): T {
  const item = items[Math.floor(rnd() * items.length)];
  if (item === undefined) throw new Error("pick from an empty list");
  return item;
}

/** Picks a key by weight: [["active", 78], ["canceled", 15], ...]. */
function weighted<T>(entries: readonly (readonly [T, number])[], rnd: () => number): T {
  const total = entries.reduce((sum, [, w]) => sum + w, 0);
  let x = rnd() * total;
  for (const [value, w] of entries) {
    x -= w;
    if (x < 0) return value;
  }
  const last = entries.at(-1);
  if (!last) throw new Error("weighted pick from an empty list");
  return last[0];
}

const PREFIXES = [
  "Acme",
  "Bright",
  "Cedar",
  "Delta",
  "Evergreen",
  "Falcon",
  "Granite",
  "Harbor",
  "Indigo",
  "Juniper",
  "Keystone",
  "Lumen",
  "Maple",
  "Northwind",
  "Orchid",
  "Pioneer",
  "Quartz",
  "Redwood",
  "Summit",
  "Tidal",
  "Union",
  "Vista",
  "Willow",
  "Yardley",
  "Zephyr",
  "Atlas",
  "Beacon",
  "Cobalt",
  "Driftwood",
  "Ember",
];
const TRADES = [
  "Dental",
  "Plumbing",
  "Realty",
  "Clinic",
  "Law",
  "Insurance",
  "Motors",
  "Logistics",
  "Vets",
  "Fitness",
  "Salon",
  "Roofing",
  "Solar",
  "Travel",
  "Bakery",
  "Hotels",
  "Tutoring",
  "Pharmacy",
  "Accounting",
  "Cleaning",
];
const SUFFIXES = ["Ltd", "Inc", "Group", "Co", "LLC", "Partners", "Studio", "Services"];
const FIRST = [
  "maria",
  "james",
  "li",
  "fatima",
  "noah",
  "olga",
  "pedro",
  "aisha",
  "tom",
  "yuki",
  "sam",
  "ines",
];
const LAST = ["garcia", "smith", "chen", "khan", "muller", "rossi", "silva", "okafor", "novak", "tanaka"];
const AGENT_NAMES = [
  "Front desk",
  "After hours",
  "Sales",
  "Support",
  "Bookings",
  "Reminders",
  "Billing line",
];

type SeedStatus = "active" | "past_due" | "unpaid" | "canceled" | "incomplete_expired";

interface Plan {
  id: string;
  name: string;
  priceId: string;
  amount: number;
  currency: string;
  limit: number;
  agents: number;
  overage: boolean;
}

interface Rows {
  [column: string]: unknown[];
}

function columns<const K extends string>(...names: K[]): Record<K, unknown[]> {
  return Object.fromEntries(names.map((n) => [n, []])) as unknown as Record<K, unknown[]>;
}

/** INSERT INTO table (cols) SELECT * FROM unnest($1::t1[], $2::t2[], ...). */
async function insertRows(
  client: pg.ClientBase,
  table: string,
  types: Record<string, string>,
  rows: Rows,
  suffix = "",
): Promise<number> {
  const names = Object.keys(types);
  const first = rows[names[0] ?? ""];
  if (!first || first.length === 0) return 0;
  const list = names.map((n) => `"${n}"`).join(", ");
  const unnest = names.map((n, i) => `$${i + 1}::${types[n]}[]`).join(", ");
  const result = await client.query(
    `INSERT INTO ${table} (${list}) SELECT * FROM unnest(${unnest}) ${suffix}`,
    names.map((n) => rows[n]),
  );
  return result.rowCount ?? 0;
}

async function loadPlans(client: pg.ClientBase): Promise<Plan[]> {
  const { rows } = await client.query<{
    id: string;
    name: string;
    monthly_price_cents: number;
    currency: string;
    call_minutes_limit: number;
    agents_allowed: number;
    overage: number | null;
  }>(`SELECT id, name, monthly_price_cents, currency, call_minutes_limit, agents_allowed,
        overage_price_cents_per_minute AS overage
      FROM subscription_plan WHERE active ORDER BY monthly_price_cents, sort_order`);
  if (rows.length === 0) throw new Error("The catalog is empty: run `pnpm db:seed` first.");
  const plans = rows.map((r) => ({
    id: r.id,
    name: r.name,
    priceId: `price_seed_${r.name.toLowerCase().replace(/[^a-z0-9]+/g, "_")}_${r.monthly_price_cents}`,
    amount: r.monthly_price_cents,
    currency: r.currency.trim().toLowerCase(),
    limit: r.call_minutes_limit,
    agents: r.agents_allowed,
    overage: r.overage !== null,
  }));
  // Subscribers keep the Stripe price they signed up on: the seed's prices are previous prices of the packages.
  await insertRows(
    client,
    "plan_price",
    {
      id: "uuid",
      plan_id: "uuid",
      stripe_price_id: "text",
      amount_cents: "int",
      currency: "text",
      current: "bool",
    },
    {
      id: plans.map(() => randomUUID()),
      plan_id: plans.map((p) => p.id),
      stripe_price_id: plans.map((p) => p.priceId),
      amount_cents: plans.map((p) => p.amount),
      currency: plans.map((p) => p.currency),
      current: plans.map(() => false),
    },
    "ON CONFLICT (stripe_price_id) DO NOTHING",
  );
  return plans;
}

function subscriptionEvent(
  id: string,
  at: Date,
  subscriptionId: string,
  customerId: string,
  from: Plan,
  to: Plan,
): string {
  const item = (plan: Plan) => ({
    data: [
      {
        object: "subscription_item",
        price: { id: plan.priceId, object: "price", unit_amount: plan.amount, currency: plan.currency },
        quantity: 1,
      },
    ],
  });
  return JSON.stringify({
    id,
    object: "event",
    type: "customer.subscription.updated",
    created: Math.floor(at.getTime() / 1000),
    data: {
      object: {
        id: subscriptionId,
        object: "subscription",
        customer: customerId,
        status: "active",
        items: item(to),
      },
      previous_attributes: { items: item(from) },
    },
  });
}

function invoiceEvent(
  id: string,
  type: string,
  at: Date,
  invoiceId: string,
  customerId: string,
  subId: string,
) {
  return JSON.stringify({
    id,
    object: "event",
    type,
    created: Math.floor(at.getTime() / 1000),
    data: { object: { id: invoiceId, object: "invoice", customer: customerId, subscription: subId } },
  });
}

/** Writes accounts [from, to) (numbered, so runs never collide) in one transaction. */
async function seedAccountBatch(
  client: pg.ClientBase,
  plans: readonly Plan[],
  from: number,
  to: number,
  now: Date,
  seed: number,
): Promise<void> {
  const rnd = random(seed * 1_000_003 + from);
  const accounts = columns("id", "name", "stripe_customer_id", "created_at", "updated_at");
  const users = columns("id", "name", "email", "email_verified", "role", "created_at", "updated_at");
  const members = columns("account_id", "user_id", "role", "created_at", "updated_at");
  const subs = columns(
    "id",
    "account_id",
    "stripe_subscription_id",
    "plan_id",
    "stripe_price_id",
    "status",
    "stripe_status",
    "current_period_start",
    "current_period_end",
    "cancel_at_period_end",
    "canceled_at",
    "ended_at",
    "scheduled_plan_id",
    "scheduled_change_at",
    "synced_at",
    "created_at",
    "updated_at",
  );
  const invoices = columns(
    "id",
    "account_id",
    "subscription_id",
    "stripe_invoice_id",
    "number",
    "status",
    "billing_reason",
    "currency",
    "subtotal_cents",
    "total_cents",
    "amount_due_cents",
    "amount_paid_cents",
    "period_start",
    "period_end",
    "issued_at",
    "paid_at",
    "created_at",
    "updated_at",
  );
  const events = columns(
    "id",
    "type",
    "payload",
    "status",
    "attempts",
    "last_error",
    "stripe_created_at",
    "received_at",
    "processed_at",
  );
  const agents = columns("id", "account_id", "name", "active", "created_at", "updated_at");

  const addEvent = (
    id: string,
    type: string,
    payload: string,
    at: Date,
    state: "processed" | "failed" = "processed",
  ) => {
    events.id.push(id);
    events.type.push(type);
    events.payload.push(payload);
    events.status.push(state);
    events.attempts.push(state === "failed" ? 1 + Math.floor(rnd() * 30) : 1);
    events.last_error.push(state === "failed" ? "Stripe API unavailable (seeded failure)" : null);
    events.stripe_created_at.push(at);
    events.received_at.push(new Date(at.getTime() + 1000));
    events.processed_at.push(state === "processed" ? new Date(at.getTime() + 2000) : null);
  };

  for (let i = from; i < to; i++) {
    const tag = String(i).padStart(6, "0");
    const accountId = randomUUID();
    const customerId = `${SEED_CUSTOMER_PREFIX}${tag}`;
    const created = new Date(now.getTime() - Math.floor(rnd() * HISTORY_DAYS * MS_PER_DAY) - 3_600_000);
    // Anchors on days 1..28: every month has the day, so periods are plain calendar-month steps.
    if (created.getUTCDate() > 28) created.setUTCDate(1 + Math.floor(rnd() * 28));
    const prefix = pick(PREFIXES, rnd);
    const trade = pick(TRADES, rnd);
    const name = `${prefix} ${trade} ${pick(SUFFIXES, rnd)}`;
    const domain = `${prefix}${trade}`.toLowerCase();
    accounts.id.push(accountId);
    accounts.name.push(name);
    accounts.stripe_customer_id.push(customerId);
    accounts.created_at.push(created);
    accounts.updated_at.push(created);
    const people = rnd() < 0.2 ? 2 : 1;
    for (let p = 0; p < people; p++) {
      const first = pick(FIRST, rnd);
      const last = pick(LAST, rnd);
      users.id.push(randomUUID());
      users.name.push(
        `${first[0]?.toUpperCase()}${first.slice(1)} ${last[0]?.toUpperCase()}${last.slice(1)}`,
      );
      users.email.push(`${first}.${last}.${tag}${p === 0 ? "" : `.${p}`}@${domain}.example`);
      users.email_verified.push(true);
      users.role.push("user");
      users.created_at.push(new Date(created.getTime() + p * 86_400_000));
      users.updated_at.push(created);
      members.account_id.push(accountId);
      members.user_id.push(users.id[users.id.length - 1]);
      members.role.push(p === 0 ? "owner" : "member");
      members.created_at.push(new Date(created.getTime() + p * 86_400_000));
      members.updated_at.push(created);
    }

    if (rnd() < 0.15) continue; // never subscribed
    const periodsLived = monthlyPeriodIndex(created, now); // whole periods before the current one
    let status = weighted<SeedStatus>(
      [
        ["active", 78],
        ["past_due", 4],
        ["unpaid", 1],
        ["canceled", 15],
        ["incomplete_expired", 2],
      ],
      rnd,
    );
    if (status === "canceled" && periodsLived < 1) status = "active";
    const planIndex = weighted(
      plans.map(
        (_, index) =>
          [index, index === 0 ? 50 : index === 1 ? 35 : 15 / Math.max(1, plans.length - 2)] as const,
      ),
      rnd,
    );
    const subscriptionId = randomUUID();
    const stripeSubscriptionId = `sub_seed_${tag}`;
    // The last period the subscription lived in (canceled ones ended at the end of one).
    const lastIndex = status === "canceled" ? Math.floor(rnd() * periodsLived) : periodsLived;
    const periodStart = addMonthsClamped(created, lastIndex);
    const periodEnd = addMonthsClamped(created, lastIndex + 1);

    // A plan change (one upgrade mid-period, or one downgrade at a renewal) for some subscriptions.
    let change: { period: number; at: Date; from: Plan; to: Plan } | null = null;
    if (status !== "incomplete_expired" && lastIndex >= 1 && plans.length > 1) {
      const roll = rnd();
      const period = 1 + Math.floor(rnd() * lastIndex);
      if (roll < 0.12 && planIndex > 0) {
        const start = addMonthsClamped(created, period);
        const at = new Date(start.getTime() + Math.floor(rnd() * 20) * MS_PER_DAY + 36_000_000);
        change = { period, at, from: plans[planIndex - 1] as Plan, to: plans[planIndex] as Plan };
      } else if (roll < 0.18 && planIndex < plans.length - 1) {
        const at = addMonthsClamped(created, period);
        change = { period, at, from: plans[planIndex + 1] as Plan, to: plans[planIndex] as Plan };
      }
    }
    if (change && change.at.getTime() > now.getTime()) change = null;
    const plan = plans[planIndex] as Plan;
    const scheduled =
      status === "active" && !change && planIndex > 0 && rnd() < 0.03 ? (plans[planIndex - 1] as Plan) : null;
    const cancelling = status === "active" && !scheduled && rnd() < 0.03;
    const ended =
      status === "canceled"
        ? periodEnd
        : status === "incomplete_expired"
          ? new Date(created.getTime() + 23 * 3_600_000)
          : null;
    subs.id.push(subscriptionId);
    subs.account_id.push(accountId);
    subs.stripe_subscription_id.push(stripeSubscriptionId);
    subs.plan_id.push(plan.id);
    subs.stripe_price_id.push(plan.priceId);
    subs.status.push(status);
    subs.stripe_status.push(status);
    subs.current_period_start.push(status === "incomplete_expired" ? created : periodStart);
    subs.current_period_end.push(status === "incomplete_expired" ? addMonthsClamped(created, 1) : periodEnd);
    subs.cancel_at_period_end.push(status === "canceled" || cancelling);
    subs.canceled_at.push(
      status === "canceled"
        ? new Date(periodEnd.getTime() - (1 + Math.floor(rnd() * 20)) * MS_PER_DAY)
        : null,
    );
    subs.ended_at.push(ended);
    subs.scheduled_plan_id.push(scheduled?.id ?? null);
    subs.scheduled_change_at.push(scheduled ? periodEnd : null);
    subs.synced_at.push(now);
    subs.created_at.push(created);
    subs.updated_at.push(now);
    if (status === "incomplete_expired") continue;

    // One invoice per period lived; the last one is open when the subscription is past due or unpaid.
    for (let p = 0; p <= lastIndex; p++) {
      const start = addMonthsClamped(created, p);
      const priceThen =
        change && p < change.period
          ? change.from
          : change && p === change.period && change.at.getTime() > start.getTime()
            ? change.from
            : plan;
      const unpaid = p === lastIndex && (status === "past_due" || status === "unpaid");
      const invoiceId = `in_seed_${tag}_${p}`;
      invoices.id.push(randomUUID());
      invoices.account_id.push(accountId);
      invoices.subscription_id.push(subscriptionId);
      invoices.stripe_invoice_id.push(invoiceId);
      invoices.number.push(`SEED${tag}-${String(p + 1).padStart(4, "0")}`);
      invoices.status.push(unpaid ? "open" : "paid");
      invoices.billing_reason.push(p === 0 ? "subscription_create" : "subscription_cycle");
      invoices.currency.push(priceThen.currency);
      invoices.subtotal_cents.push(priceThen.amount);
      invoices.total_cents.push(priceThen.amount);
      invoices.amount_due_cents.push(priceThen.amount);
      invoices.amount_paid_cents.push(unpaid ? 0 : priceThen.amount);
      invoices.period_start.push(p === 0 ? start : addMonthsClamped(created, p - 1));
      invoices.period_end.push(start);
      invoices.issued_at.push(start);
      invoices.paid_at.push(unpaid ? null : new Date(start.getTime() + 60_000));
      invoices.created_at.push(start);
      invoices.updated_at.push(start);
      // One in a thousand deliveries failed (some still retrying, some given up) for the webhook page.
      addEvent(
        `evt_seed_${tag}_in${p}`,
        unpaid ? "invoice.payment_failed" : "invoice.paid",
        invoiceEvent(
          `evt_seed_${tag}_in${p}`,
          unpaid ? "invoice.payment_failed" : "invoice.paid",
          start,
          invoiceId,
          customerId,
          stripeSubscriptionId,
        ),
        start,
        rnd() < 0.001 ? "failed" : "processed",
      );
    }
    if (change) {
      const eventId = `evt_seed_${tag}_change`;
      addEvent(
        eventId,
        "customer.subscription.updated",
        subscriptionEvent(eventId, change.at, stripeSubscriptionId, customerId, change.from, change.to),
        change.at,
      );
      if (change.to.amount > change.from.amount) {
        // Upgrades are prorated and invoiced at once.
        const periodEndThen = addMonthsClamped(created, change.period + 1);
        const share =
          (periodEndThen.getTime() - change.at.getTime()) /
          (periodEndThen.getTime() - addMonthsClamped(created, change.period).getTime());
        const amount = Math.round((change.to.amount - change.from.amount) * share);
        invoices.id.push(randomUUID());
        invoices.account_id.push(accountId);
        invoices.subscription_id.push(subscriptionId);
        invoices.stripe_invoice_id.push(`in_seed_${tag}_upgrade`);
        invoices.number.push(`SEED${tag}-U001`);
        invoices.status.push("paid");
        invoices.billing_reason.push("subscription_update");
        invoices.currency.push(change.to.currency);
        invoices.subtotal_cents.push(amount);
        invoices.total_cents.push(amount);
        invoices.amount_due_cents.push(amount);
        invoices.amount_paid_cents.push(amount);
        invoices.period_start.push(change.at);
        invoices.period_end.push(change.at);
        invoices.issued_at.push(change.at);
        invoices.paid_at.push(change.at);
        invoices.created_at.push(change.at);
        invoices.updated_at.push(change.at);
      }
    }
    if (status !== "canceled") {
      const count = 1 + Math.floor(rnd() * Math.min(plan.agents, 4));
      for (let a = 0; a < count; a++) {
        agents.id.push(randomUUID());
        agents.account_id.push(accountId);
        agents.name.push(AGENT_NAMES[a % AGENT_NAMES.length] ?? `Agent ${a + 1}`);
        agents.active.push(true);
        agents.created_at.push(new Date(created.getTime() + a * 60_000));
        agents.updated_at.push(created);
      }
    }
  }

  await insertRows(
    client,
    "account",
    {
      id: "uuid",
      name: "text",
      stripe_customer_id: "text",
      created_at: "timestamptz",
      updated_at: "timestamptz",
    },
    accounts,
  );
  await insertRows(
    client,
    '"user"',
    {
      id: "uuid",
      name: "text",
      email: "text",
      email_verified: "bool",
      role: '"PlatformRole"',
      created_at: "timestamptz",
      updated_at: "timestamptz",
    },
    users,
  );
  await insertRows(
    client,
    "account_member",
    {
      account_id: "uuid",
      user_id: "uuid",
      role: '"AccountRole"',
      created_at: "timestamptz",
      updated_at: "timestamptz",
    },
    members,
  );
  await insertRows(
    client,
    "subscription",
    {
      id: "uuid",
      account_id: "uuid",
      stripe_subscription_id: "text",
      plan_id: "uuid",
      stripe_price_id: "text",
      status: '"SubscriptionStatus"',
      stripe_status: "text",
      current_period_start: "timestamptz",
      current_period_end: "timestamptz",
      cancel_at_period_end: "bool",
      canceled_at: "timestamptz",
      ended_at: "timestamptz",
      scheduled_plan_id: "uuid",
      scheduled_change_at: "timestamptz",
      synced_at: "timestamptz",
      created_at: "timestamptz",
      updated_at: "timestamptz",
    },
    subs,
  );
  await insertRows(
    client,
    "billing_history",
    {
      id: "uuid",
      account_id: "uuid",
      subscription_id: "uuid",
      stripe_invoice_id: "text",
      number: "text",
      status: '"InvoiceStatus"',
      billing_reason: "text",
      currency: "text",
      subtotal_cents: "int",
      total_cents: "int",
      amount_due_cents: "int",
      amount_paid_cents: "int",
      period_start: "timestamptz",
      period_end: "timestamptz",
      issued_at: "timestamptz",
      paid_at: "timestamptz",
      created_at: "timestamptz",
      updated_at: "timestamptz",
    },
    invoices,
  );
  await insertRows(
    client,
    "stripe_event",
    {
      id: "text",
      type: "text",
      payload: "jsonb",
      status: '"WebhookEventStatus"',
      attempts: "int",
      last_error: "text",
      stripe_created_at: "timestamptz",
      received_at: "timestamptz",
      processed_at: "timestamptz",
    },
    events,
  );
  await insertRows(
    client,
    "agent",
    {
      id: "uuid",
      account_id: "uuid",
      name: "text",
      active: "bool",
      created_at: "timestamptz",
      updated_at: "timestamptz",
    },
    agents,
  );
}

interface MeteredAccount {
  accountId: string;
  periodStart: Date;
  periodEnd: Date;
  /** The subscription started in this period: no usage before it. */
  firstPeriod: boolean;
  limit: number;
  agentIds: string[];
  /** Usage this period as a share of the limit the account is heading for (0.05 .. 1.3). */
  intensity: number;
}

async function loadMeteredAccounts(client: pg.ClientBase, rnd: () => number): Promise<MeteredAccount[]> {
  const { rows } = await client.query<{
    account_id: string;
    period_start: Date;
    period_end: Date;
    created_at: Date;
    limit: number;
    agent_ids: string[] | null;
  }>(`
    SELECT s.account_id, s.current_period_start AS period_start, s.current_period_end AS period_end, s.created_at,
      pl.call_minutes_limit AS limit,
      (SELECT array_agg(g.id ORDER BY g.created_at) FROM agent g WHERE g.account_id = s.account_id) AS agent_ids
    FROM subscription s
    JOIN account a ON a.id = s.account_id
    JOIN subscription_plan pl ON pl.id = s.plan_id
    WHERE a.stripe_customer_id LIKE '${SEED_CUSTOMER_PREFIX}%' AND s.status <> 'incomplete_expired'
    ORDER BY s.account_id`);
  return rows.map((r) => ({
    accountId: r.account_id,
    periodStart: r.period_start,
    periodEnd: r.period_end,
    firstPeriod: addMonthsClamped(r.period_start, -1).getTime() < r.created_at.getTime(),
    limit: r.limit,
    agentIds: r.agent_ids ?? [],
    // Most accounts use a fraction of their minutes; about one in eight is near or over the limit.
    intensity: rnd() < 0.12 ? 0.8 + rnd() * 0.5 : 0.05 + rnd() * 0.7,
  }));
}

/** Writes usage events [from, to) and moves the rollups by exactly what was inserted, in one transaction. */
async function seedEventBatch(
  client: pg.ClientBase,
  accounts: readonly MeteredAccount[],
  cumulative: readonly number[],
  meanMinutes: number,
  from: number,
  to: number,
  now: Date,
  rnd: () => number,
): Promise<void> {
  const totalWeight = cumulative.at(-1) ?? 0;
  const events = columns(
    "call_id",
    "account_id",
    "agent_id",
    "direction",
    "started_at",
    "duration_seconds",
    "billable_minutes",
    "period_start",
    "late",
    "received_at",
  );
  const periods = new Map<
    string,
    { accountId: string; start: Date; end: Date; minutes: number; seconds: number; calls: number }
  >();
  const days = new Map<
    string,
    { accountId: string; day: string; agentKey: string; direction: string; minutes: number; calls: number }
  >();
  for (let n = from; n < to; n++) {
    // Accounts are picked in proportion to intensity x limit, so each lands near its intended share.
    const x = rnd() * totalWeight;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] ?? 0) > x) hi = mid;
      else lo = mid + 1;
    }
    const account = accounts[lo] as MeteredAccount;
    const current = account.firstPeriod || rnd() < CURRENT_PERIOD_SHARE;
    const period = current
      ? { start: account.periodStart, end: account.periodEnd }
      : { start: addMonthsClamped(account.periodStart, -1), end: account.periodStart };
    const until = Math.min(period.end.getTime(), now.getTime()) - 60_000;
    const seconds = Math.min(
      MAX_CALL_SECONDS,
      Math.max(1, Math.round(-Math.log(1 - rnd()) * meanMinutes * 60)),
    );
    const startedAt = new Date(
      period.start.getTime() + Math.floor(rnd() * Math.max(1, until - period.start.getTime())),
    );
    const minutes = billableMinutes(seconds);
    const agentId = account.agentIds.length > 0 && rnd() < 0.9 ? pick(account.agentIds, rnd) : null;
    const direction = rnd() < 0.6 ? "inbound" : "outbound";
    // The period containing the start, by the same monthly steps as ingestion.
    const placed = monthlyPeriodContaining(account.periodStart, startedAt);
    events.call_id.push(`${SEED_CALL_PREFIX}${n}`);
    events.account_id.push(account.accountId);
    events.agent_id.push(agentId);
    events.direction.push(direction);
    events.started_at.push(startedAt);
    events.duration_seconds.push(seconds);
    events.billable_minutes.push(minutes);
    events.period_start.push(placed.start);
    events.late.push(false);
    events.received_at.push(new Date(startedAt.getTime() + seconds * 1000 + 5_000));
    const pk = `${account.accountId}|${placed.start.getTime()}`;
    const p = periods.get(pk) ?? {
      accountId: account.accountId,
      start: placed.start,
      end: placed.end,
      minutes: 0,
      seconds: 0,
      calls: 0,
    };
    p.minutes += minutes;
    p.seconds += seconds;
    p.calls += 1;
    periods.set(pk, p);
    const day = dayKey(startedAt);
    const dk = `${account.accountId}|${day}|${agentId ?? ""}|${direction}`;
    const d = days.get(dk) ?? {
      accountId: account.accountId,
      day,
      agentKey: agentId ?? "",
      direction,
      minutes: 0,
      calls: 0,
    };
    d.minutes += minutes;
    d.calls += 1;
    days.set(dk, d);
  }
  // Every month of the chunk gets its partition (history would otherwise fill the DEFAULT one), and every
  // call its key (usage_call_key: an event without its key is refused by a foreign key).
  const startTimes = events.started_at.map((t) => (t as Date).getTime());
  if (startTimes.length > 0) {
    await client.query("SELECT count(*) FROM usage_event_ensure_partitions($1, $2)", [
      new Date(startTimes.reduce((a, b) => Math.min(a, b))),
      new Date(startTimes.reduce((a, b) => Math.max(a, b))),
    ]);
  }
  await insertRows(
    client,
    "usage_call_key",
    { account_id: "uuid", call_id: "text", started_at: "timestamptz" },
    events,
  );
  const inserted = await insertRows(
    client,
    "usage_event",
    {
      call_id: "text",
      account_id: "uuid",
      agent_id: "uuid",
      direction: '"CallDirection"',
      started_at: "timestamptz",
      duration_seconds: "int",
      billable_minutes: "int",
      period_start: "timestamptz",
      late: "bool",
      received_at: "timestamptz",
    },
    events,
  );
  if (inserted !== to - from) throw new Error(`inserted ${inserted} of ${to - from} usage events`);
  const periodList = [...periods.values()];
  await client.query(
    `INSERT INTO usage_period_rollup (account_id, period_start, period_end, minutes, seconds, calls, overage_reported, updated_at)
     SELECT t.*, 0, $7 FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[], $4::int[], $5::bigint[], $6::int[])
       AS t(account_id, period_start, period_end, minutes, seconds, calls)
     ON CONFLICT (account_id, period_start) DO UPDATE SET
       minutes = usage_period_rollup.minutes + EXCLUDED.minutes,
       seconds = usage_period_rollup.seconds + EXCLUDED.seconds,
       calls = usage_period_rollup.calls + EXCLUDED.calls,
       updated_at = EXCLUDED.updated_at`,
    [
      periodList.map((p) => p.accountId),
      periodList.map((p) => p.start),
      periodList.map((p) => p.end),
      periodList.map((p) => p.minutes),
      periodList.map((p) => p.seconds),
      periodList.map((p) => p.calls),
      now,
    ],
  );
  const dayList = [...days.values()];
  await client.query(
    `INSERT INTO usage_daily_rollup (account_id, day, agent_key, direction, minutes, calls)
     SELECT * FROM unnest($1::uuid[], $2::date[], $3::text[], $4::"CallDirection"[], $5::int[], $6::int[])
     ON CONFLICT (account_id, day, agent_key, direction) DO UPDATE SET
       minutes = usage_daily_rollup.minutes + EXCLUDED.minutes,
       calls = usage_daily_rollup.calls + EXCLUDED.calls`,
    [
      dayList.map((d) => d.accountId),
      dayList.map((d) => d.day),
      dayList.map((d) => d.agentKey),
      dayList.map((d) => d.direction),
      dayList.map((d) => d.minutes),
      dayList.map((d) => d.calls),
    ],
  );
}

async function inTransaction<T>(client: pg.ClientBase, work: () => Promise<T>): Promise<T> {
  await client.query("BEGIN");
  try {
    const result = await work();
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  }
}

/** Seeds (or tops up to) `accounts` seeded accounts and `events` seeded usage events. */
export async function seedScale(
  connectionString: string,
  options: ScaleSeedOptions,
): Promise<ScaleSeedResult> {
  const now = options.now ?? new Date();
  const seed = options.seed ?? 42;
  const accountBatch = options.accountBatch ?? 500;
  const eventBatch = options.eventBatch ?? 10_000;
  const progress = options.onProgress ?? (() => {});
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    // One seeder at a time per database.
    await client.query(SESSION_LOCK_SQL.lock, [lockName("seed-scale")]);
    const plans = await loadPlans(client);
    const {
      rows: [accountCount],
    } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM account WHERE stripe_customer_id LIKE '${SEED_CUSTOMER_PREFIX}%'`,
    );
    const accountsBefore = accountCount?.n ?? 0;
    for (let from = accountsBefore; from < options.accounts; from += accountBatch) {
      const to = Math.min(options.accounts, from + accountBatch);
      await inTransaction(client, () => seedAccountBatch(client, plans, from, to, now, seed));
      progress("accounts", to - accountsBefore, options.accounts - accountsBefore);
    }

    const {
      rows: [eventCount],
    } = await client.query<{ n: number; next: number | null }>(
      `SELECT count(*)::int AS n, max(substring(call_id FROM ${SEED_CALL_PREFIX.length + 1})::bigint + 1)::int AS next
       FROM usage_event WHERE call_id LIKE '${SEED_CALL_PREFIX}%'`,
    );
    const eventsBefore = eventCount?.n ?? 0;
    const nextCallNumber = eventCount?.next ?? 0;
    const wanted = Math.max(0, options.events - eventsBefore);
    const rnd = random(seed * 7_919 + eventsBefore);
    const metered = await loadMeteredAccounts(client, rnd);
    if (wanted > 0 && metered.length === 0)
      throw new Error("No seeded subscribed accounts to give usage to.");
    const cumulative: number[] = [];
    let sum = 0;
    for (const a of metered) {
      sum += a.intensity * a.limit;
      cumulative.push(sum);
    }
    // Mean call length so the picked share of the events lands each account near intensity x limit.
    const meanMinutes = options.events > 0 ? sum / (CURRENT_PERIOD_SHARE * options.events) : 1;
    for (let done = 0; done < wanted; done += eventBatch) {
      const size = Math.min(eventBatch, wanted - done);
      const start = nextCallNumber + done;
      await inTransaction(client, () =>
        seedEventBatch(client, metered, cumulative, meanMinutes, start, start + size, now, rnd),
      );
      progress("events", done + size, wanted);
    }

    // The alerts the rollups imply (80% and 100% of the included minutes this period), once each.
    const alerts = await client.query(
      `INSERT INTO usage_alert (id, account_id, period_start, threshold_percent, kind, minutes_used, minutes_limit,
         message, emailed_at, created_at)
       SELECT gen_random_uuid(), r.account_id, r.period_start, t.pct,
         (CASE WHEN t.pct < 100 THEN 'threshold' WHEN pl.overage_price_cents_per_minute IS NULL THEN 'limit_reached'
           ELSE 'overage' END)::"UsageAlertKind",
         r.minutes, pl.call_minutes_limit,
         format('You have reached %s%% of your included call minutes (%s of %s minutes used) this billing period.',
           t.pct, r.minutes, pl.call_minutes_limit),
         $1::timestamptz, $1::timestamptz
       FROM usage_period_rollup r
       JOIN account a ON a.id = r.account_id AND a.stripe_customer_id LIKE '${SEED_CUSTOMER_PREFIX}%'
       JOIN subscription s ON s.account_id = r.account_id AND s.current_period_start = r.period_start
         AND s.status IN ('active', 'past_due', 'trialing')
       JOIN subscription_plan pl ON pl.id = s.plan_id
       CROSS JOIN (VALUES (80), (100)) AS t(pct)
       WHERE pl.call_minutes_limit > 0 AND r.minutes::bigint * 100 >= t.pct::bigint * pl.call_minutes_limit
       ON CONFLICT (account_id, period_start, threshold_percent, minutes_limit, kind, budget_cents) DO NOTHING`,
      [now],
    );
    progress("alerts", 1, 1);
    await client.query("ANALYZE");
    return {
      accountsBefore,
      accountsCreated: Math.max(0, options.accounts - accountsBefore),
      eventsBefore,
      eventsCreated: wanted,
      alertsCreated: alerts.rowCount ?? 0,
    };
  } finally {
    await client.end();
  }
}
