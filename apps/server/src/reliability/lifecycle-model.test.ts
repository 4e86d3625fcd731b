// Model-based lifecycle test: fast-check drives the real API process, its Stripe emulator (webhooks
// delivered duplicated and reordered) and the inline worker through random sequences of what customers, the
// calling platform and time do, and after every step compares what Minutely and Stripe say with a simple
// model of what must be true:
//   - at most one live subscription per account, in Stripe and in Minutely, and it is the model's plan;
//   - what each customer was charged (paid, less refunds and balance credits, plus pending invoice items)
//     equals what the model expects: a package price per subscription, the upgrade preview's total per
//     upgrade, the next package's price and the overage per renewal; nothing for rejected usage; each
//     package line less the discount of a promotion code subscribed with or a coupon an admin applied
//     (percent off rounded half up per line, an amount off once, a coupon limited to a package discounting
//     only its lines); overage is never discounted;
//   - overage is billed up to the customer's overage budget (spend cap) only: the model bills
//     max(billed so far, min(overage minutes, floor(budget / price))) after every step, and the invariant
//     "overage billed in the current period <= the highest budget in force during the period (none: no
//     bound)" is checked on Minutely's bills; budgets are set, raised, lowered and removed at random; late
//     calls of the period a renewal closed are billed by the budget in force when it closed, never by one
//     set since (reportLateAfterRenewal);
//   - a pause (1-3 billing periods or until resumed, from the end of the paid period) charges nothing for
//     the renewals it covers (each is voided: no paid invoice while paused) and every call is denied
//     subscription_paused while it is in effect; resuming early, or Stripe at resumes_at, charges the next
//     renewal again; overage pending on a voided renewal is billed again at once (never forgiven); the
//     platform's usage reports for calls started while paused (during the pause, and late after it ended
//     by a resume, resumes_at or the subscription's end) are rejected subscription_paused and bill nothing;
//   - the subscription's coupon in Minutely is the model's (a `once` coupon is used up by the first invoice);
//   - prepaid minute packs (bought with the saved card at random; 500 minutes, valid a month): minutes
//     beyond the included ones are drawn from packs before any is overage (the model draws, when usage
//     arrives, what is beyond the included minutes and neither drawn nor billed yet, as far as its packs
//     hold), and overage is billed only for what packs did not cover; the ledger balances (bought = used +
//     expired + remaining, used = the model's draws = the periods' drawn minutes) and no period's drawn
//     minutes are also billed as overage (drawn + reported <= minutes beyond the included ones); packs
//     expire on the Billing clock's renewals (the ledger's expired + remaining = bought - used); once a
//     cancellation has taken effect a pack cannot be bought (412, nothing charged or granted);
//   - free trials (admins set and clear a package's trial, with or without a card required): a trial starts
//     for an eligible account only (never a second one for the account, nor for a card whose fingerprint
//     started another account's trial: accounts use distinct test cards, one case shares a card on purpose),
//     charges nothing until its end, bills no overage for its period (outbound calls past the allowance are
//     denied trial_allowance_reached), upgrades at once for free keeping its end, downgrades at its end; at
//     the end a card on file is charged, no card pauses it until "Add a card" resumes it (and charges); no
//     paid invoice dated inside a trial, at most one trial per account and per card, MRR never counts it;
//   - currencies: each run draws the currency each account buys in (USD, EUR or GBP; fixed by its first
//     purchase): every purchase of the account (a card, Checkout, a trial, packs) is in it, at the packages'
//     prices in it (Starter $29 / €29 / £25, Pro $99 / €95 / £85, Enterprise $299 / €289 / £259, overage
//     the same cents a minute), upgrades are prorated and overage and budgets are billed in it; an amount-off
//     code in another currency is refused (400 naming promotion_code); once the account has bought, a
//     purchase in a second currency is a 409 naming currency in any state, and changes nothing;
//   - tax and currencies: Stripe Tax (automatic tax) is on for everything sold; A is in Oregon (no tax
//     collected) and B a German business with a verified EU VAT ID (reverse charged), so every invoice, in
//     Stripe and in Minutely, is in the account's currency with tax 0 and total = subtotal - discounts + tax;
//     every subscription and pack grant of the account is in its currency too;
//   - account deletion: nothing more charged by Stripe, every subscription ending (at the period's end, a
//     trial at once), the Stripe customer scrubbed, the account's calls refused account_deleted, its
//     memberships and its owner's sessions gone;
//   - every accepted minute counted once, in the current period, and the dashboard, the metering API and
//     the admin app agree on it; a replay is "duplicate", a different call with a used id is never silently
//     "duplicate", invalid input is a 4xx or a per-event rejection, never a 5xx, and never fails another
//     account's report sent at the same time.
// Seeded and reproducible (MINUTELY_MODEL_SEED), shrinking to a minimal failing sequence; about a minute by
// default, longer with MINUTELY_MODEL_SECONDS (e.g. 600); runs of up to MINUTELY_MODEL_STEPS steps (10).
// Each run starts with the packages' trials drawn at random (most offer one), which admins change as it goes.
import { createStripeClient, ingestUsageEvents, PostgresJobQueue } from "@minutely/api";
import { crossedThresholds, systemClock } from "@minutely/domain";
import { type Stack, testStack, userWithAccount } from "@minutely/testing";
import fc from "fast-check";
import type Stripe from "stripe";
import superjson from "superjson";
import { describe, expect, it } from "vitest";

const SEED = Number(process.env.MINUTELY_MODEL_SEED ?? 20_261_206);
const BUDGET_MS = Number(process.env.MINUTELY_MODEL_SECONDS ?? 60) * 1000;
/** Steps per run at most (MINUTELY_MODEL_STEPS, default 10). */
const MAX_STEPS = Number(process.env.MINUTELY_MODEL_STEPS ?? 10);
const METERING = { authorization: "Bearer dev-metering-token", "content-type": "application/json" };
const PASSWORD = "model-password-1";
const HOUR_MS = 3_600_000;
const STORY_TASKS = ["process-stripe-event", "send-usage-alert-email", "report-overage", "bill-overage"];

type PlanName = "Starter" | "Pro" | "Enterprise";
type Cur = "usd" | "eur" | "gbp";
const CURRENCIES: readonly Cur[] = ["usd", "eur", "gbp"];
const PLANS: Record<
  PlanName,
  { price: number; prices: Record<Cur, number>; limit: number; overageCents: number | null }
> = {
  Starter: { price: 2900, prices: { usd: 2900, eur: 2900, gbp: 2500 }, limit: 1000, overageCents: null },
  Pro: { price: 9900, prices: { usd: 9900, eur: 9500, gbp: 8500 }, limit: 3000, overageCents: 3 },
  Enterprise: { price: 29900, prices: { usd: 29900, eur: 28900, gbp: 25900 }, limit: 10000, overageCents: 2 },
};
const PLAN_NAMES = Object.keys(PLANS) as PlanName[];
/** The package's monthly price in the currency the account buys in. */
const priceOf = (plan: PlanName, m: { currency: Cur }) => PLANS[plan].prices[m.currency];

/** The coupons an admin made before the run, each with a code of the same name. */
type CouponName = "FOREVER25" | "ONCE10" | "PROONLY50" | "ARCHIVED";
interface CouponModel {
  off: { percent: number } | { amountCents: number };
  duration: "once" | "forever";
  /** The packages it applies to; null: all. */
  plans: PlanName[] | null;
  archived: boolean;
}
const COUPONS: Record<CouponName, CouponModel> = {
  FOREVER25: { off: { percent: 25 }, duration: "forever", plans: null, archived: false },
  ONCE10: { off: { amountCents: 1000 }, duration: "once", plans: null, archived: false },
  PROONLY50: { off: { percent: 50 }, duration: "forever", plans: ["Pro"], archived: false },
  ARCHIVED: { off: { percent: 90 }, duration: "forever", plans: null, archived: true },
};
const COUPON_NAMES = Object.keys(COUPONS) as CouponName[];

const stack: Stack = await testStack({
  // Each run signs up new customers; they come from different addresses (X-Forwarded-For from the local
  // proxy), as real customers do, so the per-address sign-up limit does not throttle the test.
  env: { TRUST_PROXY: "127.0.0.1" },
  emulatorEnv: { STRIPE_EMULATOR_CHAOS: "duplicate,reorder", STRIPE_EMULATOR_CHAOS_SEED: String(SEED) },
});
const stripe = createStripeClient({ secretKey: "sk_test_lifecycle_model", apiBase: stack.stripeApiBase });
/** Another API replica's usage ingestion: the service on the stack's database, in this process. */
const replicaPorts = {
  db: stack.database.db,
  clock: systemClock,
  queue: new PostgresJobQueue(stack.database.db),
};
const admin = await stack.createUser({ email: "ops@model.test", password: PASSWORD, role: "admin" });
const PACK_MINUTES = 500;
const planIds = await waitFor("the catalog's Stripe prices", async () => {
  const rows = await stack.database.db.subscriptionPlan.findMany({ where: { name: { in: PLAN_NAMES } } });
  return rows.length === 3 && rows.every((r) => r.stripePriceId)
    ? (Object.fromEntries(rows.map((r) => [r.name, r.id])) as Record<PlanName, string>)
    : undefined;
});

/**
 * What an invoice of these lines costs after the coupon, as Stripe computes it: a percent off per line,
 * rounded half up; an amount off taken from the lines it applies to. A coupon discounts package lines only
 * (those of its packages when limited to some): overage items have no package and are never discounted.
 */
function afterDiscount(lines: { cents: number; plan: PlanName | null }[], coupon: CouponName | null): number {
  const total = lines.reduce((sum, line) => sum + line.cents, 0);
  if (coupon === null) return total;
  const c = COUPONS[coupon];
  const applies = lines.filter(
    (line) => line.plan !== null && (c.plans === null || c.plans.includes(line.plan)),
  );
  if ("percent" in c.off) {
    const percent = c.off.percent;
    return total - applies.reduce((sum, line) => sum + Math.round((line.cents * percent) / 100), 0);
  }
  const base = applies.reduce((sum, line) => sum + line.cents, 0);
  return total - Math.min(base, c.off.amountCents);
}

/**
 * Whether the code can be redeemed for the package in the currency (not archived, the package is one it
 * applies to, and an amount off is in that currency: the model's amount-off coupons are in USD).
 */
function codeApplies(coupon: CouponName, plan: PlanName, currency: Cur): boolean {
  const c = COUPONS[coupon];
  return (
    !c.archived && (c.plans === null || c.plans.includes(plan)) && ("percent" in c.off || currency === "usd")
  );
}

/** Every answer the API gave in the run; any 5xx fails the step that got it. */
const serverErrors: string[] = [];

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}:\n${stack.logs().slice(-4000)}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

interface Answer {
  status: number;
  body: unknown;
}

async function call(
  path: string,
  init: RequestInit & { headers?: Record<string, string> } = {},
): Promise<Answer> {
  const response = await fetch(`${stack.baseUrl}${path}`, init);
  const text = await response.text();
  if (response.status >= 500)
    serverErrors.push(`${init.method ?? "GET"} ${path} -> ${response.status}: ${text}`);
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  return { status: response.status, body };
}

function asCustomer(
  account: Account,
  body: unknown,
  method = "POST",
): RequestInit & { headers: Record<string, string> } {
  return {
    method,
    headers: { cookie: account.cookie, origin: stack.baseUrl, "content-type": "application/json" },
    body: JSON.stringify(body),
  };
}

async function action(account: Account, body: Record<string, unknown>): Promise<Answer> {
  return await call("/api/subscriptions/user/actions/", asCustomer(account, body));
}

async function trpc<T>(cookie: string, kind: "query" | "mutation", path: string, input: unknown): Promise<T> {
  const base = path.startsWith("admin/") ? "/trpc/admin/" : "/trpc/";
  const procedure = path.replace(/^admin\//, "");
  const headers = { cookie, origin: stack.baseUrl, "content-type": "application/json" };
  const serialized = JSON.stringify(superjson.serialize(input));
  const answer =
    kind === "query"
      ? await call(`${base}${procedure}?input=${encodeURIComponent(serialized)}`, { headers })
      : await call(`${base}${procedure}`, { method: "POST", headers, body: serialized });
  if (answer.status !== 200)
    throw new Error(`${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  const data = (answer.body as { result: { data: Parameters<typeof superjson.deserialize>[0] } }).result.data;
  return superjson.deserialize<T>(data);
}

async function signUp(email: string, name: string): Promise<{ accountId: string; cookie: string }> {
  const address = `10.${(runCounter >> 8) & 255}.${runCounter & 255}.${email.startsWith("a") ? 1 : 2}`;
  const response = await fetch(`${stack.baseUrl}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: stack.baseUrl, "x-forwarded-for": address },
    body: JSON.stringify({ email, password: PASSWORD, name }),
  });
  if (!response.ok) throw new Error(`sign-up of ${email}: ${response.status} ${await response.text()}`);
  const cookie = response.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  const user = await userWithAccount(stack.database.db, { email });
  return { accountId: user.accountId ?? "", cookie };
}

/**
 * The accounts' billing addresses (Stripe Tax runs on everything sold): A is in Oregon, where no tax is
 * collected; B is a German business with a verified EU VAT ID, reverse charged (the seller is in Ireland). So
 * the model's money adds no tax, and the invariants check that Stripe agrees: every invoice's tax is 0 and its
 * total is subtotal - discounts + tax, in the account's currency.
 */
const TAX_DETAILS: Record<
  string,
  { address: Record<string, string | null>; tax_id: { type: string; value: string } | null }
> = {
  A: {
    address: {
      country: "US",
      line1: "1 Main St",
      line2: null,
      city: "Portland",
      state: "OR",
      postal_code: "97201",
    },
    tax_id: null,
  },
  B: {
    address: {
      country: "DE",
      line1: "Unter den Linden 1",
      line2: null,
      city: "Berlin",
      state: null,
      postal_code: "10117",
    },
    tax_id: { type: "eu_vat", value: "DE123456789" },
  },
};

async function enterTaxDetails(cookie: string, label: string, key = `${runCounter}-${label}`): Promise<void> {
  const response = await fetch(`${stack.baseUrl}/api/billing/tax-details`, {
    method: "POST",
    headers: {
      cookie,
      origin: stack.baseUrl,
      "content-type": "application/json",
      "idempotency-key": `model-tax-${key}`,
    },
    body: JSON.stringify(TAX_DETAILS[label]),
  });
  const body = (await response.json()) as { reverse_charge?: boolean };
  expect(response.status, JSON.stringify(body)).toBe(200);
  expect(body.reverse_charge, `${label}: reverse charged`).toBe(label === "B");
}

/** Tax and totals: every invoice in the account's currency, tax 0 (see TAX_DETAILS), total = subtotal - discounts + tax. */
async function checkInvoiceTotals(
  customer: string,
  accountId: string,
  currency: Cur,
  where: string,
): Promise<void> {
  const invoices = await stripe.invoices.list({ customer, limit: 100 }).autoPagingToArray({ limit: 1000 });
  for (const invoice of invoices) {
    const tax = (invoice.total_taxes ?? []).reduce((sum, t) => sum + t.amount, 0);
    const discounts = (invoice.total_discount_amounts ?? []).reduce((sum, d) => sum + d.amount, 0);
    expect(invoice.currency, `${where}: invoice ${invoice.id} currency`).toBe(currency);
    expect(tax, `${where}: invoice ${invoice.id} tax`).toBe(0);
    expect(invoice.total, `${where}: invoice ${invoice.id} total`).toBe(invoice.subtotal - discounts + tax);
  }
  const rows = await stack.database.db.billingHistory.findMany({ where: { accountId } });
  for (const row of rows) {
    expect(row.currency, `${where}: ${row.number} currency`).toBe(currency);
    expect(row.totalCents, `${where}: ${row.number} total`).toBe(
      row.subtotalCents - row.discountCents + row.taxCents,
    );
  }
}

const couponIds = {} as Record<CouponName, string>;
for (const name of COUPON_NAMES) {
  const c = COUPONS[name];
  const created = await trpc<{ coupon: { id: string }; syncError: string | null }>(
    admin.cookie,
    "mutation",
    "admin/coupons.create",
    {
      name,
      percentOff: "percent" in c.off ? c.off.percent : null,
      amountOffCents: "amountCents" in c.off ? c.off.amountCents : null,
      currency: "amountCents" in c.off ? "usd" : null,
      duration: c.duration,
      packageIds: c.plans ? c.plans.map((p) => planIds[p]) : [],
    },
  );
  expect(created.syncError).toBeNull();
  couponIds[name] = created.coupon.id;
  await trpc(admin.cookie, "mutation", "admin/coupons.createCode", {
    couponId: created.coupon.id,
    code: name,
  });
  if (c.archived) await trpc(admin.cookie, "mutation", "admin/coupons.archive", { id: created.coupon.id });
}
/**
 * The minute pack customers buy in the model, one per currency (a pack has one currency; customers buy
 * those of their billing currency): 500 minutes for $10.00, €10.00 or £9.00, valid one month.
 */
const PACK_PRICES: Record<Cur, number> = { usd: 1000, eur: 1000, gbp: 900 };
const packIds = {} as Record<Cur, string>;
for (const currency of CURRENCIES) {
  const created = await trpc<{ pack: { id: string }; syncError: string | null }>(
    admin.cookie,
    "mutation",
    "admin/packs.create",
    {
      name: `Model pack ${currency.toUpperCase()}`,
      minutes: PACK_MINUTES,
      priceCents: PACK_PRICES[currency],
      currency,
      validityMonths: 1,
    },
  );
  expect(created.syncError).toBeNull();
  packIds[currency] = created.pack.id;
}

// ---------------------------------------------------------------------------------------------- trials

/** The free trial each package offers now (set and cleared by admins in the run; cleared before each run). */
interface TrialOffer {
  days: number;
  requiresCard: boolean;
}
const packageTrials: Record<PlanName, TrialOffer | null> = { Starter: null, Pro: null, Enterprise: null };
/**
 * Each account's own test card (distinct fingerprints in the emulator); `sharedCard` steps give B A's card.
 * The emulator's fingerprints are the card number's: the same across runs, so a card that started a trial
 * for some account (this map: card -> account id) starts no other account's trial for the rest of the run.
 */
const ACCOUNT_CARDS = [
  { paymentMethod: "pm_card_visa", slug: "visa" },
  { paymentMethod: "pm_card_mastercard", slug: "mastercard" },
] as const;
const trialCards = new Map<string, string>();

/** The package's trial for a new subscription of the account paid with `card` (null: none, it starts paid). */
function trialOffered(plan: PlanName, m: AccountModel, accountId: string, card: string | null) {
  const offer = packageTrials[plan];
  if (offer === null || m.hadTrial) return null;
  if (card === null) return offer.requiresCard ? null : offer;
  const owner = trialCards.get(card);
  return owner !== undefined && owner !== accountId ? null : offer;
}

/** Sets the package's trial as an admin does in the package form (the package's other fields unchanged). */
async function setPackageTrial(plan: PlanName, offer: TrialOffer | null): Promise<void> {
  const row = await stack.database.db.subscriptionPlan.findUniqueOrThrow({ where: { id: planIds[plan] } });
  await trpc(admin.cookie, "mutation", "admin/packages.update", {
    id: row.id,
    requestKey: `model-trial-${runCounter}-${Date.now()}-${Math.floor(Math.random() * 1e9)}`,
    values: {
      name: row.name,
      description: row.description,
      monthlyPriceCents: row.monthlyPriceCents,
      currency: row.currency,
      callMinutesLimit: row.callMinutesLimit,
      agentsAllowed: row.agentsAllowed,
      analyticsAccess: row.analyticsAccess,
      apiAccess: row.apiAccess,
      overagePriceCentsPerMinute: row.overagePriceCentsPerMinute,
      recommended: row.recommended,
      trialDays: offer?.days ?? null,
      ...(offer ? { trialRequiresCard: offer.requiresCard } : {}),
    },
  });
  packageTrials[plan] = offer;
  const after = await stack.database.db.subscriptionPlan.findUniqueOrThrow({ where: { id: planIds[plan] } });
  expect({ days: after.trialDays, requiresCard: after.trialRequiresCard }).toMatchObject(
    offer ? { days: offer.days, requiresCard: offer.requiresCard } : { days: null },
  );
}

// ---------------------------------------------------------------------------------------------- model

/** A call as the model remembers it: everything its key's replay must repeat to be the same call. */
interface ModelCall {
  seconds: number;
  minutes: number;
  startedAt: string;
  direction: "inbound" | "outbound";
}

interface AccountModel {
  /** The currency the account buys in (drawn per run; fixed at its first purchase). */
  currency: Cur;
  /** Whether it has bought (a subscription was made): from then on its currency is fixed. */
  bought: boolean;
  plan: PlanName | null;
  cancelAtPeriodEnd: boolean;
  scheduled: PlanName | null;
  /** Cents the customer owes Stripe by now: what the model expects "committed" to be. */
  charged: number;
  /** Accepted calls of the current period: call id -> [duration seconds, minutes]. */
  calls: Map<string, ModelCall>;
  /** Once renewed on the test clock, the account's time runs ahead of the wall clock: no more usage. */
  renewed: boolean;
  /** The overage budget in cents (null: none). */
  cap: number | null;
  /** The highest budget in force during the current period (Infinity once it had none). */
  capBound: number;
  /** Overage minutes of the current period billed so far (by the plan that governs it now). */
  billedMinutes: number;
  /** The coupon on the live subscription (a code subscribed with, or one an admin applied). */
  discount: CouponName | null;
  /**
   * The period closed by the first renewal (the wall clock is still inside it, so a call reported now is a
   * late call of it): its plan, minutes, overage billed and the budget in force when it closed, which bounds
   * its late overage whatever the budget is later. Null before that renewal, after a second one or an end.
   */
  closed: {
    plan: PlanName;
    start: number;
    minutes: number;
    billedMinutes: number;
    cap: number | null;
    /** A trial's period: no overage billed for it, late calls included. */
    trial: boolean;
  } | null;
  /** Cents of late overage items still pending (invoiced, never discounted, by the next renewal). */
  pendingLateCents: number;
  /** Credit notes an admin issued, by Stripe invoice id (cents). */
  creditNotes: Map<string, number>;
  renewals: number;
  /**
   * The pause set on the subscription: how many renewals it still voids (Infinity: until resumed), whether
   * it is in effect (after the first voided renewal), and when it starts (the end of the period paid when
   * it was set).
   */
  pause: { periods: 1 | 2 | 3 | null; voidsLeft: number; inEffect: boolean; startsAt: number } | null;
  /** When the subscription was paused at its trial's end (the trial's end), while `trialPaused`. */
  trialPausedAt: number | null;
  /**
   * The pauses that ended (resumed early, at resumes_at, or with the subscription), [start, end) in ms:
   * usage that started inside one is rejected subscription_paused, also reported late.
   */
  pausedSpans: { start: number; end: number }[];
  /** Pack minutes bought, and drawn in total (every period). */
  packsBought: number;
  packsUsed: number;
  /** Minutes of the current period drawn from packs, and the period's minutes when last settled. */
  drawnCurrent: number;
  settledMinutes: number;
  settledCap: number | null;
  /**
   * Usage alerts of the current period the model expects (`limit|percent`: the default thresholds crossed
   * while that limit governed), and the period's minutes when they were last settled.
   */
  alerts: Set<string>;
  alertMinutes: number;
  /** The free trial the subscription is in (its end from Minutely's row), and whether a card is on file. */
  trial: { end: number } | null;
  cardOnFile: boolean;
  /** Whether the account ever had a trial (one per account, ever). */
  hadTrial: boolean;
  /** A trial that ended without a card: Stripe paused the subscription until a card is added. */
  trialPaused: boolean;
}

interface Account {
  label: string;
  accountId: string;
  cookie: string;
  stripeCustomerId: string | null;
}

interface Model {
  accounts: AccountModel[];
}

interface Real {
  accounts: Account[];
  run: number;
}

/** A new account's model: buying in `currency`, no subscription, nothing charged. */
function freshAccountModel(currency: Cur): AccountModel {
  return {
    currency,
    bought: false,
    plan: null,
    cancelAtPeriodEnd: false,
    scheduled: null,
    charged: 0,
    calls: new Map(),
    renewed: false,
    cap: null,
    capBound: Number.POSITIVE_INFINITY,
    billedMinutes: 0,
    discount: null,
    closed: null,
    pendingLateCents: 0,
    creditNotes: new Map(),
    renewals: 0,
    pause: null,
    trialPausedAt: null,
    pausedSpans: [],
    trial: null,
    cardOnFile: false,
    hadTrial: false,
    trialPaused: false,
    packsBought: 0,
    packsUsed: 0,
    drawnCurrent: 0,
    settledMinutes: 0,
    settledCap: null,
    alerts: new Set(),
    alertMinutes: 0,
  };
}

let runCounter = 0;
let callCounter = 0;
const newCallId = () => `model-${SEED}-${runCounter}-${++callCounter}`;

function periodMinutes(model: AccountModel): number {
  let total = 0;
  for (const call of model.calls.values()) total += call.minutes;
  return total;
}

/**
 * The current period's overage billed by now, by the plan that governs it now (an upgrade governs the whole
 * period): each decision bills up to the overage the budget then in force pays for, and never takes back.
 */
function settleOverage(model: AccountModel): void {
  if (model.plan === null || model.renewed) return;
  // Usage arrived since the last step: packs pay first for what is beyond the included minutes and neither
  // drawn nor billed yet (ingestion draws with the period locked; a pack bought later draws nothing until
  // usage arrives). The model's packs are used only before the first renewal, so none has expired then.
  const used = periodMinutes(model);
  // A changed budget asks report-overage to decide again, which draws first too (packages with overage).
  const redecided = model.cap !== model.settledCap && PLANS[model.plan].overageCents !== null;
  model.settledCap = model.cap;
  if (used !== model.settledMinutes || redecided) {
    const beyond = Math.max(0, used - PLANS[model.plan].limit);
    const needed = Math.max(0, beyond - model.drawnCurrent - model.billedMinutes);
    const take = Math.min(needed, model.packsBought - model.packsUsed);
    model.drawnCurrent += take;
    model.packsUsed += take;
    model.settledMinutes = used;
  }
  // A trial's period bills no overage.
  if (model.trial !== null) return;
  const plan = PLANS[model.plan];
  if (plan.overageCents === null) return;
  const overage = Math.max(0, periodMinutes(model) - plan.limit - model.drawnCurrent);
  const budgetMinutes =
    model.cap === null ? Number.POSITIVE_INFINITY : Math.floor(model.cap / plan.overageCents);
  model.billedMinutes = Math.max(model.billedMinutes, Math.min(overage, budgetMinutes));
}

function currentOverageCents(model: AccountModel): number {
  if (model.plan === null || model.renewed || model.trial !== null) return 0;
  const plan = PLANS[model.plan];
  if (plan.overageCents === null) return 0;
  return model.billedMinutes * plan.overageCents;
}

// ---------------------------------------------------------------------------------------------- real reads

/** Waits until the emulator delivered everything and the API worked off every queued job (twice in a row). */
async function drain(): Promise<void> {
  const db = stack.database.db;
  let settled = 0;
  await waitFor("webhooks delivered and jobs done", async () => {
    await fetch(`${stack.stripeApiBase}/_emulator/flush`, { method: "POST" });
    const [jobs] = await db.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM graphile_worker.jobs WHERE task_identifier = ANY(${STORY_TASKS})
        AND attempts < max_attempts`;
    const unprocessed = await db.stripeEvent.count({ where: { status: "received" } });
    const deliveries = (await (await fetch(`${stack.stripeApiBase}/_emulator/deliveries`)).json()) as {
      pending: number;
    };
    settled = Number(jobs?.n) === 0 && unprocessed === 0 && deliveries.pending === 0 ? settled + 1 : 0;
    return settled >= 2 ? true : undefined;
  });
}

async function stripeCustomerOf(account: Account): Promise<string | null> {
  if (account.stripeCustomerId) return account.stripeCustomerId;
  const row = await stack.database.db.account.findUniqueOrThrow({ where: { id: account.accountId } });
  account.stripeCustomerId = row.stripeCustomerId;
  return row.stripeCustomerId;
}

const LIVE = new Set(["active", "trialing", "past_due", "unpaid", "incomplete", "paused"]);

/** What the customer owes Stripe: paid invoices, less refunds and balance credit, plus items not yet invoiced. */
async function committedCents(customer: string): Promise<number> {
  const invoices = await stripe.invoices
    .list({ customer, limit: 100, expand: ["data.payments"] })
    .autoPagingToArray({ limit: 1000 });
  const paid = invoices.reduce((sum, invoice) => sum + invoice.amount_paid, 0);
  const items = await stripe.invoiceItems
    .list({ customer, pending: true, limit: 100 })
    .autoPagingToArray({ limit: 1000 });
  const pending = items.reduce((sum, item) => sum + item.amount, 0);
  let refunded = 0;
  for (const invoice of invoices) {
    const payments = invoice.payments?.data ?? [];
    for (const payment of payments) {
      const intent = payment.payment.payment_intent;
      const id = typeof intent === "string" ? intent : intent?.id;
      if (!id) continue;
      const refunds = await stripe.refunds
        .list({ payment_intent: id, limit: 100 })
        .autoPagingToArray({ limit: 1000 });
      refunded += refunds
        .filter((r) => r.status !== "failed" && r.status !== "canceled")
        .reduce((s, r) => s + r.amount, 0);
    }
  }
  const remote = await stripe.customers.retrieve(customer);
  const balance = "deleted" in remote && remote.deleted ? 0 : remote.balance;
  return paid - refunded + pending + balance;
}

/** How often each kind of step ran (printed at the end, so a run shows what it exercised). */
const stepCounts = new Map<string, number>();
/** The currencies the runs' accounts bought in (printed at the end). */
const currencyCounts = new Map<Cur, number>();

async function checkInvariants(model: Model, real: Real, step: string): Promise<void> {
  const kind = step.slice(0, step.indexOf("("));
  stepCounts.set(kind, (stepCounts.get(kind) ?? 0) + 1);
  await drain();
  expect(serverErrors, `${step}: no 5xx`).toEqual([]);
  for (const [index, account] of real.accounts.entries()) {
    const expected = model.accounts[index] as AccountModel;
    const where = `${step}, ${account.label}`;
    settleOverage(expected);
    const db = stack.database.db;
    const rows = await db.subscription.findMany({
      where: { accountId: account.accountId },
      include: { plan: true },
    });
    const localLive = rows.filter((r) => LIVE.has(r.status));
    // Every subscription and pack grant of the account is in the currency it buys in.
    expect(
      rows.map((r) => r.currency),
      `${where}: currencies of the subscriptions`,
    ).toEqual(rows.map(() => expected.currency));
    const grants = await db.packGrant.findMany({ where: { accountId: account.accountId } });
    expect(
      grants.map((g) => g.currency.trim()),
      `${where}: currencies of the pack grants`,
    ).toEqual(grants.map(() => expected.currency));
    expect(localLive.length, `${where}: live subscriptions in Minutely`).toBeLessThanOrEqual(1);
    expect(localLive[0]?.plan.name ?? null, `${where}: Minutely's plan`).toBe(expected.plan);
    expect(localLive[0]?.couponId ?? null, `${where}: Minutely's coupon`).toBe(
      expected.plan && expected.discount ? couponIds[expected.discount] : null,
    );
    // Trials: the model's state of the trial is Minutely's; at most one trial per account, ever.
    if (expected.plan !== null) {
      const status = localLive[0]?.status;
      if (expected.trial) expect(status, `${where}: in a trial`).toBe("trialing");
      else if (expected.trialPaused) expect(status, `${where}: paused at the trial's end`).toBe("paused");
      else expect(status, `${where}: not in a trial`).not.toBe("trialing");
      if (expected.trial)
        expect(localLive[0]?.trialEnd?.getTime(), `${where}: the trial keeps its end`).toBe(
          expected.trial.end,
        );
    }
    const trials = rows.filter((r) => r.trialStart !== null);
    expect(trials.length, `${where}: trials of the account`).toBeLessThanOrEqual(1);
    expect(trials.length > 0, `${where}: had a trial`).toBe(expected.hadTrial);
    // No overage billed for a trial's period.
    for (const t of trials) {
      const billed = await db.overageBill.aggregate({
        where: {
          accountId: account.accountId,
          periodStart: { gte: t.trialStart as Date, lt: t.trialEnd ?? new Date(8.64e15) },
          status: { in: ["pending", "billed"] },
        },
        _sum: { amountCents: true },
      });
      expect(billed._sum.amountCents ?? 0, `${where}: overage billed for a trial's period`).toBe(0);
    }
    const customer = await stripeCustomerOf(account);
    if (customer && trials.length > 0) {
      // Nothing paid on an invoice dated inside a trial (its end excluded: the conversion's invoice).
      const invoices = await stripe.invoices
        .list({ customer, limit: 100 })
        .autoPagingToArray({ limit: 1000 });
      for (const t of trials) {
        const start = (t.trialStart as Date).getTime() / 1000;
        const end = t.trialEnd ? t.trialEnd.getTime() / 1000 : Number.POSITIVE_INFINITY;
        const inside = invoices.filter((i) => i.amount_paid > 0 && i.created > start && i.created < end);
        expect(
          inside.map((i) => [i.billing_reason, i.amount_paid, new Date(i.created * 1000).toISOString()]),
          `${where}: paid invoices inside the trial ${t.trialStart?.toISOString()}..${t.trialEnd?.toISOString()}`,
        ).toEqual([]);
      }
    }
    if (customer) {
      const remote = await stripe.subscriptions
        .list({ customer, status: "all", limit: 100 })
        .autoPagingToArray({ limit: 1000 });
      const remoteLive = remote.filter((s) => LIVE.has(s.status));
      expect(remoteLive.length, `${where}: live subscriptions in Stripe`).toBeLessThanOrEqual(1);
      await checkInvoiceTotals(customer, account.accountId, expected.currency, where);
      // Overage of the current period is on a pending invoice item until the renewal invoices it, up to the
      // budget.
      expect(await committedCents(customer), `${where}: charged`).toBe(
        expected.charged + currentOverageCents(expected),
      );
    } else {
      expect(expected.charged, `${where}: charged without a Stripe customer`).toBe(0);
    }
    // Never more overage billed in the current period than the highest budget in force during it.
    const current = rows.find((r) => LIVE.has(r.status));
    if (current) {
      const bills = await db.overageBill.aggregate({
        where: {
          accountId: account.accountId,
          periodStart: { gte: current.currentPeriodStart },
          status: { in: ["pending", "billed"] },
        },
        _sum: { amountCents: true },
      });
      expect(bills._sum.amountCents ?? 0, `${where}: overage billed within the budget`).toBeLessThanOrEqual(
        expected.capBound,
      );
    }
    // Every default threshold the period's minutes crossed under the plan governing them fired once, and no
    // other (spend cap alerts apart): whether a group of reports was written alone or in its transaction.
    if (expected.plan !== null) {
      const minutesNow = periodMinutes(expected);
      const limit = PLANS[expected.plan].limit;
      for (const percent of crossedThresholds({ before: expected.alertMinutes, after: minutesNow, limit }))
        expected.alerts.add(`${limit}|${percent}`);
      expected.alertMinutes = minutesNow;
    }
    if (current) {
      const alerts = await db.usageAlert.findMany({
        where: {
          accountId: account.accountId,
          periodStart: current.currentPeriodStart,
          kind: { not: "spend_cap" },
        },
      });
      expect(
        alerts.map((a) => `${a.minutesLimit}|${a.thresholdPercent}`).sort(),
        `${where}: usage alerts of the period`,
      ).toEqual([...expected.alerts].sort());
    }
    // After a renewal on the Billing clock too: the account's time is then its test clock's, and every
    // reader agrees on the new period (no calls in it: the model's calls were cleared at the renewal).
    if (expected.plan) {
      const minutes = periodMinutes(expected);
      const metering = await call(`/api/v1/accounts/${account.accountId}/usage`, { headers: METERING });
      expect((metering.body as { minutes_used: number }).minutes_used, `${where}: metering API minutes`).toBe(
        minutes,
      );
      const dashboard = await call("/api/dashboard/comprehensive/", {
        headers: { cookie: account.cookie, origin: stack.baseUrl },
      });
      expect(
        (dashboard.body as { usage: { minutes_used: number } }).usage.minutes_used,
        `${where}: dashboard minutes`,
      ).toBe(minutes);
      const detail = await trpc<{ usage: { minutesUsed: number } | null }>(
        admin.cookie,
        "query",
        "admin/customers.get",
        {
          accountId: account.accountId,
        },
      );
      expect(detail.usage?.minutesUsed, `${where}: admin minutes`).toBe(minutes);
    }
    // The pack ledger balances and matches the model; no minute is both drawn from a pack and billed.
    const ledger = await call("/api/packs/balance", { headers: { cookie: account.cookie } });
    expect(ledger.status, JSON.stringify(ledger.body)).toBe(200);
    const totals = (
      ledger.body as { totals: { bought: number; used: number; expired: number; remaining: number } }
    ).totals;
    expect(totals.bought, `${where}: pack minutes bought`).toBe(expected.packsBought);
    expect(totals.used, `${where}: pack minutes used`).toBe(expected.packsUsed);
    expect(totals.bought, `${where}: the ledger balances`).toBe(
      totals.used + totals.expired + totals.remaining,
    );
    const periods = await db.usagePeriodRollup.findMany({ where: { accountId: account.accountId } });
    expect(
      periods.reduce((sum, p) => sum + p.packMinutesDrawn, 0),
      `${where}: the periods' drawn minutes are the ledger's used`,
    ).toBe(totals.used);
    for (const p of periods) {
      expect(
        p.packMinutesDrawn + p.overageReported,
        `${where}: period ${p.periodStart.toISOString()}: drawn + billed <= beyond the included minutes`,
      ).toBeLessThanOrEqual(Math.max(0, p.minutes - (p.callMinutesLimit ?? 0)));
    }
    if (current && !expected.renewed && expected.plan !== null) {
      const row = periods.find((p) => p.periodStart.getTime() === current.currentPeriodStart.getTime());
      expect(row?.packMinutesDrawn ?? 0, `${where}: drawn this period`).toBe(expected.drawnCurrent);
    }
    if (localLive[0]?.status === "trialing") {
      // MRR never counts a trialing subscription.
      const detail = await trpc<{ mrr: { amount: number } | null }>(
        admin.cookie,
        "query",
        "admin/customers.get",
        {
          accountId: account.accountId,
        },
      );
      expect(detail.mrr?.amount ?? 0, `${where}: MRR of a trialing subscription`).toBe(0);
    }
  }
  // At most one account's trial per card fingerprint.
  const byCard = await stack.database.db.subscription.groupBy({
    by: ["trialCardFingerprint", "accountId"],
    where: { trialCardFingerprint: { not: null } },
  });
  const cards = new Map<string, number>();
  for (const r of byCard)
    cards.set(r.trialCardFingerprint ?? "", (cards.get(r.trialCardFingerprint ?? "") ?? 0) + 1);
  expect(
    [...cards.entries()].filter(([, n]) => n > 1),
    `${step}: cards that started trials for several accounts`,
  ).toEqual([]);
}

// ---------------------------------------------------------------------------------------------- commands

type Cmd = fc.AsyncCommand<Model, Real>;

const accountIndex = fc.integer({ min: 0, max: 1 });
const planName = fc.constantFrom(...PLAN_NAMES);

/**
 * A purchase asking for a second currency once the account has bought in its own (every package is sold in
 * USD, EUR and GBP, but Stripe fixes a customer's currency at its first purchase): 409 naming currency,
 * whatever the account's state (its subscription live or ended, on this package or another), with a card or
 * through Checkout, and nothing changes (the invariants after the step check that nothing was charged or
 * started). `shift` picks the other currency (1 or 2 places after the account's).
 */
class BuyInOtherCurrency implements Cmd {
  constructor(
    readonly index: number,
    readonly plan: PlanName,
    readonly shift: 1 | 2,
    readonly withCard: boolean,
  ) {}
  check = (model: Readonly<Model>) => model.accounts[this.index]?.bought === true;
  otherCurrency = (m: AccountModel): Cur =>
    CURRENCIES[(CURRENCIES.indexOf(m.currency) + this.shift) % CURRENCIES.length] as Cur;
  async run(model: Model, real: Real) {
    const account = real.accounts[this.index] as Account;
    const m = model.accounts[this.index] as AccountModel;
    const answer = await action(account, {
      action: "subscribe",
      package_id: planIds[this.plan],
      currency: this.otherCurrency(m),
      ...(this.withCard ? { payment_method_id: "pm_card_visa" } : {}),
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(409);
    expect(
      (answer.body as { fields?: Record<string, string> }).fields,
      JSON.stringify(answer.body),
    ).toHaveProperty("currency");
    await checkInvariants(model, real, this.toString());
  }
  toString = () => `buyInOtherCurrency(${this.index}, ${this.plan}, +${this.shift}, ${this.withCard})`;
}

class SubscribeWithCard implements Cmd {
  constructor(
    readonly index: number,
    readonly plan: PlanName,
    readonly doubleClick: boolean,
    /** A promotion code typed on the package page (any case: it is sent in lower case). */
    readonly code: CouponName | null = null,
    /** B pays with A's card (the same fingerprint: a trial it started elsewhere starts none here). */
    readonly sharedCard = false,
  ) {}
  // A code on a package with a trial is left out (its first charge is at the trial's end).
  check = () => this.code === null || packageTrials[this.plan] === null;
  async run(model: Model, real: Real) {
    const m = model.accounts[this.index] as AccountModel;
    const account = real.accounts[this.index] as Account;
    const card = (ACCOUNT_CARDS[this.sharedCard ? 0 : this.index] ?? ACCOUNT_CARDS[0]).paymentMethod;
    const trial = m.plan === null ? trialOffered(this.plan, m, account.accountId, card) : null;
    const body = {
      action: "subscribe",
      package_id: planIds[this.plan],
      payment_method_id: card,
      currency: m.currency,
      ...(this.code ? { promotion_code: this.code.toLowerCase() } : {}),
    };
    const answers = this.doubleClick
      ? await Promise.all([action(account, body), action(account, body)])
      : [await action(account, body)];
    if (this.code && !codeApplies(this.code, this.plan, m.currency)) {
      // Archived, or for another package: a 400 naming promotion_code, whatever the account has.
      for (const a of answers) {
        expect(a.status, JSON.stringify(a.body)).toBe(400);
        expect(Object.keys((a.body as { fields?: object }).fields ?? {})).toEqual(["promotion_code"]);
      }
    } else if (m.plan === null && this.code) {
      expect(
        answers.some((a) => a.status === 200),
        `subscribe with ${this.code}: ${JSON.stringify(answers)}`,
      ).toBe(true);
      for (const a of answers) expect([200, 409]).toContain(a.status);
      m.plan = this.plan;
      m.bought = true;
      m.charged += afterDiscount([{ cents: priceOf(this.plan, m), plan: this.plan }], this.code);
      // A once coupon is used up by the first invoice; the others stay on the subscription.
      m.discount = COUPONS[this.code].duration === "once" ? null : this.code;
    } else if (m.plan === null) {
      expect(
        answers.some((a) => a.status === 200),
        `subscribe: ${JSON.stringify(answers)}`,
      ).toBe(true);
      for (const a of answers) expect([200, 409]).toContain(a.status);
      m.plan = this.plan;
      m.bought = true;
      m.cardOnFile = true;
      m.trialPaused = false;
      if (trial) {
        // The trial starts with the card on file: nothing charged until its end.
        await startedTrial(m, account, card);
      } else {
        m.charged += priceOf(this.plan, m);
      }
    } else if (m.plan === this.plan) {
      // Already on it: the answer may replay the subscription, and nothing is charged again.
      for (const a of answers) expect([200, 409], JSON.stringify(a.body)).toContain(a.status);
    } else {
      for (const a of answers) expect(a.status, JSON.stringify(a.body)).toBe(409);
    }
    await checkInvariants(model, real, this.toString());
  }
  toString = () =>
    `subscribeWithCard(${this.index}, ${this.plan}${this.doubleClick ? ", double click" : ""}${this.code ? `, code ${this.code}` : ""}${this.sharedCard ? ", A's card" : ""})`;
}

/** Records a trial that just started (its end as Minutely has it), and the card that started it. */
async function startedTrial(m: AccountModel, account: Account, card: string | null): Promise<void> {
  const row = await waitFor("the trial in Minutely", async () => {
    const found = await stack.database.db.subscription.findFirst({
      where: { accountId: account.accountId, status: "trialing" },
    });
    return found?.trialEnd ? found : undefined;
  });
  m.trial = { end: (row.trialEnd as Date).getTime() };
  m.hadTrial = true;
  if (card !== null && !trialCards.has(card)) trialCards.set(card, account.accountId);
}

/**
 * Subscribes without a card to a package whose trial needs none: created at once (no Checkout), trialing,
 * nothing charged. Only for an account that never had a trial and has no subscription.
 */
class StartTrialWithoutCard implements Cmd {
  constructor(
    readonly index: number,
    readonly plan: PlanName,
  ) {}
  check = (model: Readonly<Model>) => {
    const m = model.accounts[this.index];
    return (
      m !== undefined && m.plan === null && !m.hadTrial && packageTrials[this.plan]?.requiresCard === false
    );
  };
  async run(model: Model, real: Real) {
    const m = model.accounts[this.index] as AccountModel;
    const account = real.accounts[this.index] as Account;
    const answer = await action(account, {
      action: "subscribe",
      package_id: planIds[this.plan],
      currency: m.currency,
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect((answer.body as { result: string }).result, JSON.stringify(answer.body)).toBe("subscribed");
    m.plan = this.plan;
    m.bought = true;
    m.cardOnFile = false;
    m.trialPaused = false;
    await startedTrial(m, account, null);
    await checkInvariants(model, real, this.toString());
  }
  toString = () => `startTrialWithoutCard(${this.index}, ${this.plan})`;
}

/** An admin gives a package a trial (a length, with or without a card required) or takes it away. */
class SetTrial implements Cmd {
  constructor(
    readonly plan: PlanName,
    readonly offer: TrialOffer | null,
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    await setPackageTrial(this.plan, this.offer);
    await checkInvariants(model, real, this.toString());
  }
  toString = () =>
    `setTrial(${this.plan}, ${this.offer ? `${this.offer.days} days${this.offer.requiresCard ? ", card required" : ", no card"}` : "none"})`;
}

/**
 * "Add a card" (Checkout in setup mode, then the return page): during a trial it converts early (nothing
 * charged until the trial's end); after a trial that ended without a card it resumes the paused
 * subscription, charging a new period from then.
 */
class AddCard implements Cmd {
  constructor(readonly index: number) {}
  check = (model: Readonly<Model>) => model.accounts[this.index]?.plan !== null;
  async run(model: Model, real: Real) {
    const m = model.accounts[this.index] as AccountModel;
    const account = real.accounts[this.index] as Account;
    const started = await trpc<{ url: string; sessionId: string }>(
      account.cookie,
      "mutation",
      "subscription.updatePaymentMethod",
      { requestKey: `model-card-${runCounter}-${Date.now()}-${Math.floor(Math.random() * 1e9)}` },
    );
    const paid = await fetch(`${started.url}/pay`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        card: (ACCOUNT_CARDS[this.index] ?? ACCOUNT_CARDS[0]).slug,
        email: "card@model.test",
        name: "Add A Card",
      }).toString(),
      redirect: "manual",
    });
    expect(paid.status, await paid.clone().text()).toBeLessThan(500);
    await trpc(account.cookie, "mutation", "subscription.completeCheckout", {
      sessionId: started.sessionId,
      requestKey: `model-return-${runCounter}-${Date.now()}-${Math.floor(Math.random() * 1e9)}`,
    });
    m.cardOnFile = true;
    // A card added to a trial given without one (during it, or after it paused) is that trial's card: it
    // starts no other account's trial (recordTrialCard), unless it already started one elsewhere. A trial
    // that started with a card keeps that one (a subscription holds one trial card): the card added starts
    // nothing and holds nothing.
    const card = (ACCOUNT_CARDS[this.index] ?? ACCOUNT_CARDS[0]).paymentMethod;
    const trialHasCard = [...trialCards.values()].includes(account.accountId);
    if ((m.trial !== null || m.trialPaused) && !trialHasCard && !trialCards.has(card))
      trialCards.set(card, account.accountId);
    if (m.trialPaused) {
      // Resumed: a new period from now, charged (a discount on the subscription applies). The pause spanned
      // from the trial's end to now.
      m.trialPaused = false;
      m.pausedSpans.push({ start: m.trialPausedAt ?? 0, end: (await accountNowOf(account)).getTime() });
      m.trialPausedAt = null;
      m.charged += afterDiscount([{ cents: priceOf(m.plan as PlanName, m), plan: m.plan }], m.discount);
      m.calls.clear();
      m.alerts.clear();
      m.alertMinutes = 0;
      m.billedMinutes = 0;
      m.capBound = m.cap ?? Number.POSITIVE_INFINITY;
      m.closed = null;
    }
    await checkInvariants(model, real, this.toString());
    await expectCallsWhilePaused(account, m);
    await expectPausedUsageRejected(model, real, this.index);
  }
  toString = () => `addCard(${this.index})`;
}

/**
 * During a trial the platform reports inbound hour-long calls up to the allowance and `extraHours` beyond:
 * all answered and recorded, none billed; an outbound call is then denied trial_allowance_reached.
 */
class TrialPastAllowance implements Cmd {
  constructor(
    readonly index: number,
    readonly extraHours: number,
  ) {}
  check = (model: Readonly<Model>) => {
    const m = model.accounts[this.index];
    return m !== undefined && m.plan !== null && m.trial !== null && !m.renewed;
  };
  async run(model: Model, real: Real) {
    const m = model.accounts[this.index] as AccountModel;
    const account = real.accounts[this.index] as Account;
    const plan = PLANS[m.plan as PlanName];
    const hours = Math.ceil(Math.max(0, plan.limit - periodMinutes(m)) / 60) + this.extraHours;
    const busy = new ReportBusyDay(this.index, hours);
    busy.toString = this.toString;
    await busy.run(model, real);
    const db = stack.database.db;
    const agent =
      (await db.agent.findFirst({ where: { accountId: account.accountId, active: true } })) ??
      (await db.agent.create({ data: { accountId: account.accountId, name: "Model agent" } }));
    const answer = await call("/api/v1/calls/authorize", {
      method: "POST",
      headers: METERING,
      body: JSON.stringify({
        call_id: newCallId(),
        account_id: account.accountId,
        agent_id: agent.id,
        direction: "outbound",
      }),
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body, `${account.label}: an outbound call past the trial's allowance`).toMatchObject({
      decision: "deny",
      reason: "trial_allowance_reached",
    });
  }
  toString = () => `trialPastAllowance(${this.index}, ${this.extraHours} hours beyond)`;
}

/**
 * Both accounts subscribe at the same moment with one card (A's): a card gets one account's trial, so when
 * both are offered one, exactly one trial goes on with the card and the other starts paid (its trial refused
 * before Stripe is asked, or ended at once when both claimed the card together: charged the package's price
 * either way). Which one wins is the race's; the model reads it and checks the rest.
 */
class SubscribeBothWithOneCard implements Cmd {
  constructor(
    readonly plans: readonly [PlanName, PlanName],
    /** A trial an admin gives both packages first (null: the packages' trials as they are). */
    readonly offer: TrialOffer | null,
  ) {}
  check = (model: Readonly<Model>) => model.accounts.every((m) => m.plan === null);
  async run(model: Model, real: Real) {
    if (this.offer !== null) for (const plan of new Set(this.plans)) await setPackageTrial(plan, this.offer);
    const card = ACCOUNT_CARDS[0].paymentMethod;
    const offers = [0, 1].map((i) =>
      trialOffered(
        this.plans[i] as PlanName,
        model.accounts[i] as AccountModel,
        (real.accounts[i] as Account).accountId,
        card,
      ),
    );
    const answers = await Promise.all(
      [0, 1].map((i) =>
        action(real.accounts[i] as Account, {
          action: "subscribe",
          package_id: planIds[this.plans[i] as PlanName],
          payment_method_id: card,
          currency: (model.accounts[i] as AccountModel).currency,
        }),
      ),
    );
    for (const a of answers) expect(a.status, JSON.stringify(a.body)).toBe(200);
    const rows = await Promise.all(
      [0, 1].map((i) =>
        stack.database.db.subscription.findFirstOrThrow({
          where: { accountId: (real.accounts[i] as Account).accountId },
          orderBy: { createdAt: "desc" },
        }),
      ),
    );
    const trialing = [0, 1].filter((i) => rows[i]?.status === "trialing");
    // One trial at most, and only where one was offered; one whenever one was offered.
    expect(trialing.length, `trialing: ${trialing}, offers: ${JSON.stringify(offers)}`).toBe(
      offers.some((o) => o !== null) ? 1 : 0,
    );
    for (const i of [0, 1]) {
      const m = model.accounts[i] as AccountModel;
      const account = real.accounts[i] as Account;
      const plan = this.plans[i] as PlanName;
      m.plan = plan;
      m.bought = true;
      m.cardOnFile = true;
      m.trialPaused = false;
      if (trialing.includes(i)) {
        expect(offers[i], `account ${i} trialing without an offer`).not.toBeNull();
        await startedTrial(m, account, card);
      } else {
        m.charged += priceOf(plan, m);
        // A trial ended at once (both claimed the card together) still was this account's one trial.
        if (offers[i] !== null && rows[i]?.trialStart !== null) m.hadTrial = true;
      }
    }
    await checkInvariants(model, real, this.toString());
  }
  toString = () =>
    `subscribeBothWithOneCard(${this.plans[0]}, ${this.plans[1]}${this.offer ? `, trials of ${this.offer.days} days` : ""})`;
}

/** Two browser tabs each open Checkout for a package, and both pages are then paid. */
class SubscribeInTwoTabs implements Cmd {
  constructor(
    readonly index: number,
    readonly first: PlanName,
    readonly second: PlanName,
    readonly payFirstTabFirst: boolean,
  ) {}
  // Trials started in Checkout are left out (packages with a trial).
  check = (model: Readonly<Model>) =>
    model.accounts[this.index]?.plan === null &&
    packageTrials[this.first] === null &&
    packageTrials[this.second] === null;
  async run(model: Model, real: Real) {
    const m = model.accounts[this.index] as AccountModel;
    const account = real.accounts[this.index] as Account;
    const urls: string[] = [];
    for (const plan of [this.first, this.second]) {
      const answer = await action(account, {
        action: "subscribe",
        package_id: planIds[plan],
        currency: m.currency,
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      urls.push((answer.body as { checkout_url: string }).checkout_url);
    }
    const order = this.payFirstTabFirst ? urls : [...urls].reverse();
    const pages: string[] = [];
    for (const url of order) {
      const paid = await fetch(`${url}/pay`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          card: "visa",
          email: "tabs@model.test",
          name: "Two Tabs",
        }).toString(),
        redirect: "manual",
      });
      expect(paid.status, await paid.clone().text()).toBeLessThan(500);
      pages.push(
        `${url} -> ${paid.status} ${paid.headers.get("location") ?? (await paid.text()).slice(0, 200)}`,
      );
    }
    await drain();
    const live = await stack.database.db.subscription.findMany({
      where: { accountId: account.accountId, status: { in: [...LIVE] as never } },
      include: { plan: true },
    });
    const all = await stack.database.db.subscription.findMany({ where: { accountId: account.accountId } });
    expect(
      live.length,
      `one live subscription after two paid tabs (${pages.join("; ")}; rows ${JSON.stringify(all.map((r) => r.status))})`,
    ).toBe(1);
    const plan = live[0]?.plan.name as PlanName;
    m.plan = plan;
    m.bought = true;
    m.cardOnFile = true;
    m.trialPaused = false;
    m.charged += priceOf(plan, m);
    await checkInvariants(model, real, this.toString());
  }
  toString = () =>
    `subscribeInTwoTabs(${this.index}, ${this.first} then ${this.second}, pay ${this.payFirstTabFirst ? "first" : "second"} tab first)`;
}

class Upgrade implements Cmd {
  constructor(
    readonly index: number,
    readonly plan: PlanName,
    readonly doubleClick: boolean,
    /** Through tRPC as the customer app does: one idempotency key per intent, sent three times. */
    readonly intent = false,
  ) {}
  // Not modelled for an account holding packs (the upgrade gives the period's draws back and the new
  // package draws again: pack-draws.test.ts).
  check = (model: Readonly<Model>) => (model.accounts[this.index]?.packsBought ?? 0) === 0;
  async run(model: Model, real: Real) {
    const m = model.accounts[this.index] as AccountModel;
    const account = real.accounts[this.index] as Account;
    // Package changes wait while a pause is set (409).
    const allowed =
      m.plan !== null && priceOf(this.plan, m) > priceOf(m.plan, m) && m.pause === null && !m.trialPaused;
    if (m.plan === this.plan) {
      // An upgrade to the package the account is on is the replay of one whose answer was lost: nothing
      // changes and nothing is charged.
      const answer = await action(account, { action: "upgrade", package_id: planIds[this.plan] });
      expect([200, 409], JSON.stringify(answer.body)).toContain(answer.status);
      return await checkInvariants(model, real, this.toString());
    }
    if (!allowed) {
      const answer = await action(account, { action: "upgrade", package_id: planIds[this.plan] });
      expect(answer.status, JSON.stringify(answer.body)).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
      return await checkInvariants(model, real, this.toString());
    }
    const preview = await trpc<{ totalDueNowCents: number; prorationDate: Date }>(
      account.cookie,
      "query",
      "subscription.previewUpgrade",
      { packageId: planIds[this.plan] },
    );
    // During a trial an upgrade is free (and keeps the trial's end: the invariants compare it).
    if (m.trial) expect(preview.totalDueNowCents, "an upgrade during a trial is free").toBe(0);
    const body = {
      action: "upgrade",
      package_id: planIds[this.plan],
      proration_date: Math.floor(preview.prorationDate.getTime() / 1000),
      // The total confirmed (as the customer app sends it): the upgrade charges it, or is a 409.
      expected_total_cents: preview.totalDueNowCents,
    };
    if (this.intent) {
      // The customer app: one idempotency key for the intent, a double click and a retry after a lost answer
      // send it three times; one upgrade, one charge, the same answer each time. The same key with another
      // package is refused.
      const requestKey = `model-${this.index}-${Date.now()}-${Math.floor(Math.random() * 1e9)}`;
      const input = {
        packageId: planIds[this.plan],
        prorationDate: preview.prorationDate,
        expectedTotalCents: preview.totalDueNowCents,
        requestKey,
      };
      type Upgraded = { upgrade: { invoice: { id: string; totalCents: number } | null } };
      const clicks = await Promise.all([
        trpc<Upgraded>(account.cookie, "mutation", "subscription.upgrade", input),
        trpc<Upgraded>(account.cookie, "mutation", "subscription.upgrade", input),
      ]);
      const retried = await trpc<Upgraded>(account.cookie, "mutation", "subscription.upgrade", input);
      const invoiceIds = [...clicks, retried].map((a) => a.upgrade.invoice?.id ?? null);
      expect(new Set(invoiceIds).size, JSON.stringify(invoiceIds)).toBe(1);
      expect(retried.upgrade.invoice?.totalCents).toBe(preview.totalDueNowCents);
      const other = PLAN_NAMES.find((p) => p !== this.plan) as PlanName;
      const conflict = await call("/trpc/subscription.upgrade", {
        method: "POST",
        headers: { cookie: account.cookie, origin: stack.baseUrl, "content-type": "application/json" },
        body: JSON.stringify(superjson.serialize({ ...input, packageId: planIds[other] })),
      });
      expect(conflict.status, JSON.stringify(conflict.body)).toBe(409);
      expect(JSON.stringify(conflict.body)).toContain("requestKey");
    } else {
      const answers = this.doubleClick
        ? await Promise.all([action(account, body), action(account, body)])
        : [await action(account, body)];
      expect(
        answers.some((a) => a.status === 200),
        JSON.stringify(answers),
      ).toBe(true);
      for (const a of answers) expect([200, 409]).toContain(a.status);
    }
    m.plan = this.plan;
    m.scheduled = null;
    m.charged += preview.totalDueNowCents;
    // The upgrade withdrew the period's overage; the new package's is decided afresh (within the budget).
    m.billedMinutes = 0;
    m.drawnCurrent = 0;
    m.settledMinutes = 0;
    await checkInvariants(model, real, this.toString());
  }
  toString = () =>
    this.intent
      ? `upgradeByIntent(${this.index}, ${this.plan}, sent three times)`
      : `upgrade(${this.index}, ${this.plan}${this.doubleClick ? ", double click" : ""})`;
}

class Downgrade implements Cmd {
  constructor(
    readonly index: number,
    readonly plan: PlanName,
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const m = model.accounts[this.index] as AccountModel;
    const account = real.accounts[this.index] as Account;
    const answer = await action(account, { action: "downgrade", package_id: planIds[this.plan] });
    const allowed =
      m.plan !== null &&
      priceOf(this.plan, m) < priceOf(m.plan, m) &&
      m.scheduled === null &&
      !m.cancelAtPeriodEnd &&
      m.pause === null &&
      !m.trialPaused;
    if (allowed) {
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      m.scheduled = this.plan;
    } else if (answer.status === 200) {
      // A downgrade over a scheduled one replaces it; nothing is charged either way.
      expect(m.plan).not.toBeNull();
      expect(m.pause, "a package change while paused").toBeNull();
      expect(m.trialPaused, "a package change while paused after a trial").toBe(false);
      m.scheduled = this.plan;
    } else {
      expect(answer.status, JSON.stringify(answer.body)).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
    }
    await checkInvariants(model, real, this.toString());
  }
  toString = () => `downgrade(${this.index}, ${this.plan})`;
}

class CancelOrResume implements Cmd {
  constructor(
    readonly index: number,
    readonly cancel: boolean,
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const m = model.accounts[this.index] as AccountModel;
    const account = real.accounts[this.index] as Account;
    const answer = await action(account, { action: this.cancel ? "cancel" : "resume" });
    expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(500);
    if (m.plan !== null && answer.status === 200) m.cancelAtPeriodEnd = this.cancel;
    if (m.plan === null) expect(answer.status).toBeGreaterThanOrEqual(400);
    await checkInvariants(model, real, this.toString());
  }
  toString = () => `${this.cancel ? "cancel" : "resume"}(${this.index})`;
}

type UsageKind = "new" | "replay" | "conflict" | "moved" | "other-account-id";

/** The calling platform reports a batch of calls: new ones, replays, and reuses of an id for another call. */
class ReportCalls implements Cmd {
  constructor(
    readonly index: number,
    readonly calls: { kind: UsageKind; seconds: number; minutesAgo: number }[],
  ) {}
  check = (model: Readonly<Model>) => {
    const m = model.accounts[this.index];
    return m !== undefined && m.plan !== null && !m.renewed;
  };
  async run(model: Model, real: Real) {
    const m = model.accounts[this.index] as AccountModel;
    const other = model.accounts[1 - this.index] as AccountModel;
    const account = real.accounts[this.index] as Account;
    const row = await stack.database.db.subscription.findFirstOrThrow({
      where: { accountId: account.accountId, status: { in: [...LIVE] as never } },
    });
    const now = Date.now();
    const expectations: {
      callId: string;
      expect: "accepted" | "duplicate" | "not-duplicate" | "rejected";
      minutes: number;
      seconds: number;
      startedAt: string;
      direction: ModelCall["direction"];
    }[] = [];
    const events = this.calls.map((c) => {
      const startedAt = new Date(
        Math.max(row.currentPeriodStart.getTime() + 1000, now - c.minutesAgo * 60_000),
      ).toISOString();
      const known = [...m.calls.entries()];
      const foreign = [...other.calls.keys()];
      let callId = newCallId();
      let seconds = c.seconds;
      let at = startedAt;
      let direction: ModelCall["direction"] = "outbound";
      let expectation: "accepted" | "duplicate" | "not-duplicate" | "rejected" = "accepted";
      if (c.kind === "replay" && known.length > 0) {
        const [id, original] = known[c.seconds % known.length] as [string, ModelCall];
        callId = id;
        seconds = original.seconds;
        at = original.startedAt;
        direction = original.direction;
        expectation = "duplicate";
      } else if (c.kind === "conflict" && known.length > 0) {
        const [id, original] = known[c.seconds % known.length] as [string, ModelCall];
        callId = id;
        seconds = original.seconds + 60;
        at = original.startedAt;
        direction = original.direction;
        expectation = "not-duplicate";
      } else if (c.kind === "moved" && known.length > 0) {
        // The same call reported with another start (possibly another month, so another partition of
        // usage_event): never a second event, never counted twice.
        const [id, original] = known[c.seconds % known.length] as [string, ModelCall];
        callId = id;
        seconds = original.seconds;
        direction = original.direction;
        at =
          startedAt === original.startedAt
            ? new Date(new Date(original.startedAt).getTime() - 1000).toISOString()
            : startedAt;
        expectation = "rejected";
      } else if (c.kind === "other-account-id" && foreign.length > 0) {
        callId = foreign[c.seconds % foreign.length] as string;
        expectation = "not-duplicate";
      }
      if (expectations.some((e) => e.callId === callId)) {
        // The same id twice in one batch: the second is the replay of the first, or a conflict with it.
        callId = newCallId();
        expectation = "accepted";
      }
      expectations.push({
        callId,
        expect: expectation,
        minutes: Math.ceil(seconds / 60),
        seconds,
        startedAt: at,
        direction,
      });
      return {
        call_id: callId,
        account_id: account.accountId,
        direction,
        started_at: at,
        duration_seconds: seconds,
      };
    });
    const answer = await call("/api/v1/usage/calls", {
      method: "POST",
      headers: METERING,
      body: JSON.stringify({ events }),
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const results = (answer.body as { results: { call_id: string; status: string }[] }).results;
    for (const [i, e] of expectations.entries()) {
      const result = results[i];
      expect(result?.call_id).toBe(e.callId);
      if (e.expect === "accepted")
        expect(result?.status, `new call ${JSON.stringify(result)}`).toBe("accepted");
      if (e.expect === "duplicate") expect(result?.status, `replay of ${e.callId}`).toBe("duplicate");
      if (e.expect === "not-duplicate")
        expect(result?.status, `another call with id ${e.callId}`).not.toBe("duplicate");
      if (e.expect === "rejected")
        expect(result?.status, `the same call moved ${JSON.stringify(result)}`).toBe("rejected");
      if (result?.status === "accepted")
        m.calls.set(e.callId, {
          seconds: e.seconds,
          minutes: e.minutes,
          startedAt: e.startedAt,
          direction: e.direction,
        });
    }
    await checkInvariants(model, real, this.toString());
  }
  toString = () => `reportCalls(${this.index}, ${JSON.stringify(this.calls)})`;
}

/** The platform reports a busy day: many hour-long calls at once, enough to cross 80%, 100% and into overage. */
class ReportBusyDay implements Cmd {
  constructor(
    readonly index: number,
    readonly hours: number,
    /**
     * Reported through another API replica (the service on the same database in this process): what the API
     * process saw of the period is then behind, and only the write statement's own checks can tell whether
     * a group crosses a threshold or has overage to report (usage-write-guard.ts).
     */
    readonly replica = false,
  ) {}
  check = (model: Readonly<Model>) => {
    const m = model.accounts[this.index];
    return m !== undefined && m.plan !== null && !m.renewed;
  };
  async run(model: Model, real: Real) {
    const m = model.accounts[this.index] as AccountModel;
    const account = real.accounts[this.index] as Account;
    const row = await stack.database.db.subscription.findFirstOrThrow({
      where: { accountId: account.accountId, status: { in: [...LIVE] as never } },
    });
    const startedAt = new Date(
      Math.max(row.currentPeriodStart.getTime() + 1000, Date.now() - 60_000),
    ).toISOString();
    const events = Array.from({ length: this.hours }, () => ({
      call_id: newCallId(),
      account_id: account.accountId,
      direction: "inbound",
      started_at: startedAt,
      duration_seconds: 3600,
    }));
    let results: { status: string }[];
    if (this.replica) {
      const answer = await ingestUsageEvents(
        replicaPorts,
        events.map((e) => ({
          callId: e.call_id,
          accountId: e.account_id,
          agentId: null,
          direction: "inbound" as const,
          startedAt: new Date(e.started_at),
          durationSeconds: e.duration_seconds,
        })),
      );
      results = answer.results;
    } else {
      const answer = await call("/api/v1/usage/calls", {
        method: "POST",
        headers: METERING,
        body: JSON.stringify({ events }),
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      results = (answer.body as { results: { call_id: string; status: string }[] }).results;
    }
    for (const [i, event] of events.entries()) {
      expect(results[i]?.status, JSON.stringify(results[i])).toBe("accepted");
      m.calls.set(event.call_id, { seconds: 3600, minutes: 60, startedAt, direction: "inbound" });
    }
    await checkInvariants(model, real, this.toString());
  }
  toString = () =>
    `reportBusyDay(${this.index}, ${this.hours} hours${this.replica ? ", through another API replica" : ""})`;
}

/** Each invalid event: a valid one with one field made wrong (a wrong JSON type, or an absurd date). */
const INVALID_EVENTS: [string, Record<string, unknown>][] = [
  ["duration null", { duration_seconds: null }],
  ["duration as a string", { duration_seconds: "60" }],
  ["duration true", { duration_seconds: true }],
  ["duration [60]", { duration_seconds: [60] }],
  ["direction as an array", { direction: ["outbound"] }],
  ["year 1", { started_at: "0001-01-01T00:00:00Z", duration_seconds: 86_400 }],
  ["year 1990", { started_at: "1990-06-01T00:00:00Z", duration_seconds: 86_400 }],
  ["year 1582", { started_at: "1582-10-15T00:00:00Z", duration_seconds: 3_600 }],
];

function invalidEvent(wrong: Record<string, unknown>, accountId: string, callId: string) {
  return {
    call_id: callId,
    account_id: accountId,
    direction: "outbound",
    started_at: new Date().toISOString(),
    duration_seconds: 60,
    ...wrong,
  };
}

/**
 * A careless or hostile client sends an invalid event while both accounts' platforms report valid calls at
 * the same moment (small reports are committed together): the invalid one is refused, the others are not.
 */
class InvalidAmongValid implements Cmd {
  constructor(
    readonly index: number,
    readonly invalid: number,
    readonly seconds: number,
  ) {}
  check = (model: Readonly<Model>) => model.accounts.every((m) => m.plan !== null && !m.renewed);
  async run(model: Model, real: Real) {
    const [label, wrong] = INVALID_EVENTS[
      this.invalid % INVALID_EVENTS.length
    ] as (typeof INVALID_EVENTS)[number];
    const bad = real.accounts[this.index] as Account;
    const badId = newCallId();
    const starts = await Promise.all(
      real.accounts.map(async (account) => {
        const row = await stack.database.db.subscription.findFirstOrThrow({
          where: { accountId: account.accountId, status: { in: [...LIVE] as never } },
        });
        // Within the current period, and never before the subscription began.
        return new Date(Math.max(row.currentPeriodStart.getTime() + 1000, Date.now() - 60_000)).toISOString();
      }),
    );
    const valid = real.accounts.map((account, i) => ({
      i,
      callId: newCallId(),
      event: {
        call_id: "",
        account_id: account.accountId,
        direction: "inbound",
        started_at: starts[i] ?? "",
        duration_seconds: this.seconds,
      },
    }));
    for (const v of valid) v.event.call_id = v.callId;
    const [badAnswer, ...validAnswers] = await Promise.all([
      call("/api/v1/usage/calls", {
        method: "POST",
        headers: METERING,
        body: JSON.stringify({ events: [invalidEvent(wrong, bad.accountId, badId)] }),
      }),
      ...valid.map((v) =>
        call("/api/v1/usage/calls", {
          method: "POST",
          headers: METERING,
          body: JSON.stringify({ events: [v.event] }),
        }),
      ),
    ]);
    expect(badAnswer?.status, `${label}: ${JSON.stringify(badAnswer?.body)}`).toBeLessThan(500);
    if (badAnswer?.status === 200) {
      const status = (badAnswer.body as { results: { status: string }[] }).results[0]?.status;
      expect(status, `${label}: ${JSON.stringify(badAnswer.body)}`).toBe("rejected");
    } else {
      expect(badAnswer?.status, label).toBe(400);
    }
    for (const [k, v] of valid.entries()) {
      const answer = validAnswers[k] as Answer;
      expect(answer.status, `valid report next to "${label}": ${JSON.stringify(answer.body)}`).toBe(200);
      expect(
        (answer.body as { results: { status: string }[] }).results[0]?.status,
        JSON.stringify(answer.body),
      ).toBe("accepted");
      (model.accounts[v.i] as AccountModel).calls.set(v.callId, {
        seconds: this.seconds,
        minutes: Math.ceil(this.seconds / 60),
        startedAt: v.event.started_at,
        direction: "inbound",
      });
    }
    await checkInvariants(model, real, this.toString());
  }
  toString = () =>
    `invalidAmongValid(${this.index}, ${INVALID_EVENTS[this.invalid % INVALID_EVENTS.length]?.[0]})`;
}

/** An admin applies a coupon to the account's subscription (idempotent by its request key, sent twice). */
class ApplyCoupon implements Cmd {
  constructor(
    readonly index: number,
    readonly coupon: Exclude<CouponName, "ONCE10">,
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const m = model.accounts[this.index] as AccountModel;
    const account = real.accounts[this.index] as Account;
    const input = {
      accountId: account.accountId,
      couponId: couponIds[this.coupon],
      requestKey: `model-apply-${runCounter}-${Date.now()}-${Math.floor(Math.random() * 1e9)}`,
    };
    const send = () =>
      call("/trpc/admin/coupons.applyToSubscription", {
        method: "POST",
        headers: { cookie: admin.cookie, origin: stack.baseUrl, "content-type": "application/json" },
        body: JSON.stringify(superjson.serialize(input)),
      });
    const answers = [await send(), await send()];
    const statuses = answers.map((a) => a.status);
    if (m.plan === null) {
      expect(statuses, JSON.stringify(answers)).toEqual([412, 412]);
    } else if (!codeApplies(this.coupon, m.plan, m.currency)) {
      expect(statuses, JSON.stringify(answers)).toEqual([400, 400]);
      expect(JSON.stringify(answers[0]?.body)).toContain("couponId");
    } else {
      expect(statuses, JSON.stringify(answers)).toEqual([200, 200]);
      m.discount = this.coupon;
    }
    await checkInvariants(model, real, this.toString());
  }
  toString = () => `applyCoupon(${this.index}, ${this.coupon})`;
}

type GiveBackKind = "refund" | "credit_note" | "balance_credit";

/**
 * An admin gives money back (a double click: the same request key twice): a refund or a credit note on the
 * account's newest paid invoice, or a balance credit. Exact money: it is accepted only when the invoice has
 * that much left (what it collected less its refunds at Stripe and the credit notes given here), then the
 * customer owes that much less (a refund comes off what was paid, a credit off the balance) and Minutely's
 * invoice says the same refunded and credited amounts as Stripe; more than is left is a 400 naming
 * amountCents and changes nothing.
 */
class GiveBack implements Cmd {
  constructor(
    readonly index: number,
    readonly kind: GiveBackKind,
    readonly cents: number,
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const m = model.accounts[this.index] as AccountModel;
    const account = real.accounts[this.index] as Account;
    const db = stack.database.db;
    const customer = (await db.account.findUniqueOrThrow({ where: { id: account.accountId } }))
      .stripeCustomerId;
    await drain();
    const invoices = customer
      ? (await stripe.invoices.list({ customer, status: "paid", limit: 100, expand: ["data.payments"] })).data
      : [];
    const invoice = invoices.find((i) => i.amount_paid > 0);
    const row = invoice?.id
      ? await db.billingHistory.findUnique({ where: { stripeInvoiceId: invoice.id } })
      : null;
    let left = 0;
    if (invoice?.id && row) {
      const intent = invoice.payments?.data[0]?.payment.payment_intent;
      const refunds =
        typeof intent === "string" ? (await stripe.refunds.list({ payment_intent: intent })).data : [];
      left =
        invoice.amount_paid -
        refunds.reduce((sum, r) => sum + r.amount, 0) -
        (m.creditNotes.get(invoice.id) ?? 0);
    }
    const input = {
      accountId: account.accountId,
      kind: this.kind,
      amountCents: this.cents,
      reason: "model",
      requestKey: `model-give-${runCounter}-${Date.now()}-${Math.floor(Math.random() * 1e9)}`,
      ...(this.kind === "balance_credit"
        ? { currency: m.currency }
        : { invoiceId: row?.id ?? crypto.randomUUID() }),
    };
    const send = () =>
      call("/trpc/admin/customers.adjust", {
        method: "POST",
        headers: { cookie: admin.cookie, origin: stack.baseUrl, "content-type": "application/json" },
        body: JSON.stringify(superjson.serialize(input)),
      });
    const answers = [await send(), await send()];
    const statuses = answers.map((a) => a.status);
    if (!customer) {
      expect(statuses, JSON.stringify(answers)).toEqual([409, 409]);
    } else if (this.kind === "balance_credit") {
      expect(statuses, JSON.stringify(answers)).toEqual([200, 200]);
      m.charged -= this.cents;
      // A balance credit fixes the Stripe customer's currency as a purchase does.
      m.bought = true;
    } else if (!row) {
      expect(statuses, JSON.stringify(answers)).toEqual([404, 404]);
    } else if (this.cents > left) {
      expect(statuses, JSON.stringify(answers)).toEqual([400, 400]);
      expect(JSON.stringify(answers[0]?.body)).toContain("amountCents");
    } else {
      expect(statuses, JSON.stringify(answers)).toEqual([200, 200]);
      m.charged -= this.cents;
      if (this.kind === "credit_note" && invoice?.id) {
        m.creditNotes.set(invoice.id, (m.creditNotes.get(invoice.id) ?? 0) + this.cents);
      }
    }
    if (statuses[0] === 200) {
      // The same key with another amount, once the request store forgot it (a day later): refused naming
      // requestKey, never answered with the first adjustment nor made as a second one.
      await db.idempotentRequest.deleteMany({ where: { key: input.requestKey } });
      const reused = await call("/trpc/admin/customers.adjust", {
        method: "POST",
        headers: { cookie: admin.cookie, origin: stack.baseUrl, "content-type": "application/json" },
        body: JSON.stringify(
          superjson.serialize({ ...input, amountCents: this.cents > 1 ? this.cents - 1 : 2 }),
        ),
      });
      expect(reused.status, JSON.stringify(reused)).toBe(409);
      expect(JSON.stringify(reused.body)).toContain("requestKey");
    }
    if (invoice?.id && row) {
      // Per invoice, Minutely says what Stripe has: refunded (all refunds of its payment) and credited.
      await drain();
      const intent = invoice.payments?.data[0]?.payment.payment_intent;
      const refunds =
        typeof intent === "string" ? (await stripe.refunds.list({ payment_intent: intent })).data : [];
      const after = await db.billingHistory.findUniqueOrThrow({ where: { id: row.id } });
      expect(after.refundedCents, `${this}: refunded`).toBe(refunds.reduce((sum, r) => sum + r.amount, 0));
      expect(after.creditedCents, `${this}: credited`).toBe(m.creditNotes.get(invoice.id) ?? 0);
      expect(after.refundedCents + after.creditedCents).toBeLessThanOrEqual(invoice.amount_paid);
    }
    await checkInvariants(model, real, this.toString());
  }
  toString = () => `giveBack(${this.index}, ${this.kind}, ${this.cents})`;
}

/** The admin Billing clock moves the account's Stripe test clock past the period end: a renewal. */
class Renew implements Cmd {
  constructor(readonly index: number) {}
  // A subscription paused at its trial's end has no period to renew until a card is added.
  check = (model: Readonly<Model>) =>
    model.accounts[this.index]?.plan !== null && model.accounts[this.index]?.trialPaused !== true;
  async run(model: Model, real: Real) {
    const m = model.accounts[this.index] as AccountModel;
    const account = real.accounts[this.index] as Account;
    const row = await stack.database.db.subscription.findFirstOrThrow({
      where: { accountId: account.accountId, status: { in: [...LIVE] as never } },
    });
    const plan = m.plan as PlanName;
    settleOverage(m);
    const overage = currentOverageCents(m);
    const closed = {
      plan,
      start: row.currentPeriodStart.getTime(),
      minutes: periodMinutes(m),
      billedMinutes: m.billedMinutes,
      cap: m.cap,
      trial: m.trial !== null,
    };
    const pendingLate = m.pendingLateCents;
    m.charged -= pendingLate;
    m.pendingLateCents = 0;
    m.renewals += 1;
    await trpc(admin.cookie, "mutation", "admin/billingClock.advance", {
      accountId: account.accountId,
      to: new Date(row.currentPeriodEnd.getTime() + HOUR_MS),
    });
    const ended = m.cancelAtPeriodEnd;
    // A pause voids the renewal; the overage pending on it is billed again on an invoice of its own. Once the
    // pause has voided the renewals it covers, Stripe resumes collection at resumes_at, before the renewal due.
    const voided = !ended && m.pause !== null && m.pause.voidsLeft > 0;
    // A pause in effect that ends with this renewal (Stripe lifts it at resumes_at, or the subscription
    // ends): its span ends at resumes_at, at the latest the period's end.
    const pauseEnd = Math.min(
      row.currentPeriodEnd.getTime(),
      row.pauseResumesAt?.getTime() ?? Number.POSITIVE_INFINITY,
    );
    if (!voided && m.pause?.inEffect) m.pausedSpans.push({ start: m.pause.startsAt, end: pauseEnd });
    const trialEnded = m.trial !== null;
    const trialEnd = m.trial?.end ?? null;
    m.trial = null;
    if (trialEnded && !ended && !m.cardOnFile) {
      // The trial ends without a card: Stripe pauses the subscription (nothing charged) until one is added.
      m.plan = m.scheduled ?? plan;
      m.trialPaused = true;
      m.trialPausedAt = trialEnd;
      m.closed = m.renewals === 1 ? closed : null;
    } else if (m.cancelAtPeriodEnd) {
      // The final invoice bills the overage only (never discounted: coupons discount package prices).
      m.charged += afterDiscount(
        [
          { cents: overage, plan: null },
          { cents: pendingLate, plan: null },
        ],
        m.discount,
      );
      m.plan = null;
      m.closed = null;
      m.discount = null;
      m.pause = null;
    } else if (voided && m.pause) {
      // The renewal is voided; the items pending on it (overage, late overage) are billed again at once on
      // an invoice of their own, outside the subscription, so without its discount.
      m.charged += overage + pendingLate;
      m.pause = { ...m.pause, voidsLeft: m.pause.voidsLeft - 1, inEffect: true };
      m.closed = m.renewals === 1 ? closed : null;
    } else {
      m.plan = m.scheduled ?? plan;
      m.charged += afterDiscount(
        [
          { cents: overage, plan: null },
          { cents: pendingLate, plan: null },
          { cents: priceOf(m.plan, m), plan: m.plan },
        ],
        m.discount,
      );
      m.closed = m.renewals === 1 ? closed : null;
      m.pause = null;
    }
    m.scheduled = null;
    m.cancelAtPeriodEnd = false;
    m.calls.clear();
    m.alerts.clear();
    m.alertMinutes = 0;
    m.renewed = true;
    // The next period starts with nothing spent against the same budget.
    m.billedMinutes = 0;
    m.drawnCurrent = 0;
    m.settledMinutes = 0;
    m.capBound = m.cap ?? Number.POSITIVE_INFINITY;
    await checkInvariants(model, real, this.toString());
    await expectCallsWhilePaused(account, m);
    await expectPausedUsageRejected(model, real, this.index);
    if (ended) {
      await expectRefusedAfterEnd(account, m.currency);
      await checkInvariants(model, real, "reportAfterEnd(renewal)");
    }
  }
  toString = () => `renew(${this.index})`;
}

/**
 * The platform reports one day-long inbound call per start time, in one batch: a 200 whose every event is
 * rejected with `reason` (`describe` names the call in a failure).
 */
async function reportDayLongCallsRejected(
  account: Account,
  startedAts: readonly string[],
  reason: string,
  describe: (startedAt: string) => string,
): Promise<void> {
  const events = startedAts.map((startedAt) => ({
    call_id: newCallId(),
    account_id: account.accountId,
    direction: "inbound",
    started_at: startedAt,
    duration_seconds: 86_400,
  }));
  const answer = await call("/api/v1/usage/calls", {
    method: "POST",
    headers: METERING,
    body: JSON.stringify({ events }),
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  const results = (answer.body as { results: { status: string; reason?: string }[] }).results;
  expect(results).toHaveLength(events.length);
  for (const [i, result] of results.entries()) {
    expect(result, `${describe(events[i]?.started_at ?? "")}: ${JSON.stringify(result)}`).toMatchObject({
      status: "rejected",
      reason,
    });
  }
}

/**
 * Calls that started after the account's subscription ended (the model: it was cancelled and renewed past
 * its end) are refused one by one as no_active_subscription, and make up no period: nothing is billed.
 */
async function expectRefusedAfterEnd(account: Account, currency: Cur): Promise<void> {
  // The model says the cancellation took effect: the account's subscriptions have all ended.
  const ended = await waitFor(
    "the cancellation to reach the database",
    async () => {
      const rows = await stack.database.db.subscription.findMany({
        where: { accountId: account.accountId },
        orderBy: { createdAt: "desc" },
      });
      return rows.length > 0 &&
        rows.every((r) => r.status === "canceled" || r.status === "incomplete_expired")
        ? rows.find((r) => r.status === "canceled")
        : undefined;
    },
    30_000,
  );
  const end = ended.endedAt ?? ended.currentPeriodEnd;
  const startedAt = new Date(end.getTime() + 33 * 60_000).toISOString();
  await reportDayLongCallsRejected(
    account,
    [startedAt, startedAt, startedAt],
    "no_active_subscription",
    () => "a call started after the subscription ended",
  );
  expect(
    await stack.database.db.usagePeriodRollup.count({
      where: { accountId: account.accountId, periodStart: { gte: end } },
    }),
  ).toBe(0);
  // A minute pack could never be used now: buying one is refused before Stripe charges (412), nothing granted.
  const packsBefore = await stack.database.db.packGrant.count({ where: { accountId: account.accountId } });
  const pack = await call("/api/packs/purchase", {
    method: "POST",
    headers: {
      cookie: account.cookie,
      origin: stack.baseUrl,
      "content-type": "application/json",
      "idempotency-key": `model-pack-after-end-${SEED}-${++callCounter}`,
    },
    body: JSON.stringify({ pack_id: packIds[currency], method: "saved_card" }),
  });
  expect(pack.status, JSON.stringify(pack.body)).toBe(412);
  expect(await stack.database.db.packGrant.count({ where: { accountId: account.accountId } })).toBe(
    packsBefore,
  );
}

/**
 * After a cancellation took effect (renew past the end of a cancelled subscription), the platform reports
 * day-long calls started after the end: each is refused as no_active_subscription (authorize denies so
 * too), no period is made up for them and nothing is billed (the invariants compare what Stripe charged).
 */
class ReportAfterEnd implements Cmd {
  constructor(readonly index: number) {}
  check = (model: Readonly<Model>) => {
    const m = model.accounts[this.index];
    return m !== undefined && m.plan === null && m.renewed;
  };
  async run(model: Model, real: Real) {
    await expectRefusedAfterEnd(
      real.accounts[this.index] as Account,
      (model.accounts[this.index] as AccountModel).currency,
    );
    await checkInvariants(model, real, this.toString());
  }
  toString = () => `reportAfterEnd(${this.index})`;
}

/** While a pause is in effect every call is denied subscription_paused; otherwise a live account's is not. */
async function expectCallsWhilePaused(account: Account, m: AccountModel): Promise<void> {
  if (m.plan === null) return;
  const paused = m.pause?.inEffect === true || m.trialPaused;
  const db = stack.database.db;
  const agent =
    (await db.agent.findFirst({ where: { accountId: account.accountId, active: true } })) ??
    (await db.agent.create({ data: { accountId: account.accountId, name: "Model agent" } }));
  const answer = await call("/api/v1/calls/authorize", {
    method: "POST",
    headers: METERING,
    body: JSON.stringify({
      call_id: newCallId(),
      account_id: account.accountId,
      agent_id: agent.id,
      direction: "inbound",
    }),
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  const body = answer.body as { decision: string; reason?: string };
  if (paused) {
    expect(body, `${account.label}: a call while paused`).toMatchObject({
      decision: "deny",
      reason: "subscription_paused",
    });
  } else {
    expect(body.reason, `${account.label}: a call while not paused`).not.toBe("subscription_paused");
  }
}

/** The account's now: its Stripe test clock's time once that is ahead of the wall clock (renewals). */
async function accountNowOf(account: Account): Promise<Date> {
  const row = await stack.database.db.subscription.findFirst({
    where: { accountId: account.accountId },
    orderBy: { createdAt: "desc" },
  });
  const clock = row?.testClockTime?.getTime() ?? 0;
  return new Date(Math.max(Date.now(), clock));
}

/** Day-long calls per probe: 11,520 minutes, beyond every package's allowance (overage if ever counted). */
const PAUSED_PROBE_CALLS = 8;

/**
 * Usage reports are not gated by authorization: the platform reports day-long inbound calls that started
 * while the subscription was paused (now, while a pause is in effect; and just before the end of each pause
 * that ended, late, within the 35-day window). Each is rejected subscription_paused: nothing recorded in
 * any period, nothing billed (the invariants after it compare minutes and charges with the model, which
 * counts none of them).
 */
async function expectPausedUsageRejected(model: Model, real: Real, index: number): Promise<void> {
  const m = model.accounts[index] as AccountModel;
  const account = real.accounts[index] as Account;
  const now = (await accountNowOf(account)).getTime();
  const probes: string[] = [];
  const current = m.plan === null ? null : m.pause?.inEffect ? m.pause.startsAt : m.trialPausedAt;
  if (current !== null && current <= now)
    probes.push(new Date(Math.max(current, now - 60_000)).toISOString());
  // Late reports of calls made during an ended pause (a margin of an hour inside the late window).
  const windowStart = now - 35 * 24 * HOUR_MS + HOUR_MS;
  for (const span of m.pausedSpans) {
    const at = Math.max(span.start, span.end - 60_000, windowStart);
    if (at < span.end) probes.push(new Date(at).toISOString());
  }
  if (probes.length === 0) return;
  await reportDayLongCallsRejected(
    account,
    probes.flatMap((startedAt) => Array.from({ length: PAUSED_PROBE_CALLS }, () => startedAt)),
    "subscription_paused",
    (startedAt) => `${account.label}: a call started at ${startedAt}, while paused`,
  );
  await checkInvariants(model, real, `reportWhilePaused(${index}, ${probes.join(", ")})`);
}

/**
 * The customer pauses for 1-3 billing periods or until resumed (REST action pause), or resumes early
 * (resume_pause). A pause needs an active subscription with no cancellation or change pending and no pause
 * set (409 otherwise; the same pause again is a retry: 200 and nothing changes); resuming is idempotent.
 */
class PauseOrResume implements Cmd {
  constructor(
    readonly index: number,
    /** 1-3 billing periods, null until resumed, or "resume". */
    readonly what: 1 | 2 | 3 | null | "resume",
    /** Then the Billing clock renews (the pause's first renewal: voided, its overage billed again). */
    readonly thenRenew = false,
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const m = model.accounts[this.index] as AccountModel;
    const account = real.accounts[this.index] as Account;
    if (this.what === "resume") {
      const answer = await action(account, { action: "resume_pause" });
      if (m.plan === null || m.trialPaused) {
        // Nothing to resume, or paused at a trial's end: only a card resumes it.
        expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(500);
      } else {
        expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      }
      // Resumed early: a pause in effect spanned until now; one not in effect yet leaves no span.
      if (m.plan !== null && m.pause?.inEffect)
        m.pausedSpans.push({ start: m.pause.startsAt, end: (await accountNowOf(account)).getTime() });
      m.pause = null;
    } else {
      // The pause starts at the end of the period paid now.
      const paidUntil = (
        await stack.database.db.subscription.findFirst({
          where: { accountId: account.accountId, status: { in: [...LIVE] as never } },
        })
      )?.currentPeriodEnd.getTime();
      const answer = await action(account, { action: "pause", pause_periods: this.what });
      // Pausing is refused during a trial, and after one that ended without a card (already paused).
      const allowed =
        m.plan !== null &&
        !m.cancelAtPeriodEnd &&
        m.scheduled === null &&
        m.pause === null &&
        m.trial === null &&
        !m.trialPaused;
      if (allowed) {
        expect(answer.status, JSON.stringify(answer.body)).toBe(200);
        m.pause = {
          periods: this.what,
          voidsLeft: this.what ?? Number.POSITIVE_INFINITY,
          inEffect: false,
          startsAt: paidUntil ?? 0,
        };
      } else if (m.pause && !m.pause.inEffect && m.pause.periods === this.what && answer.status === 200) {
        // The same pause again, before it starts: a retry, nothing changes.
      } else {
        expect(answer.status, JSON.stringify(answer.body)).toBeGreaterThanOrEqual(400);
        expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(500);
      }
    }
    await checkInvariants(model, real, this.toString());
    await expectCallsWhilePaused(account, m);
    await expectPausedUsageRejected(model, real, this.index);
    const renew = new Renew(this.index);
    if (this.thenRenew && renew.check(model)) await renew.run(model, real);
  }
  toString = () =>
    this.what === "resume"
      ? `resumePause(${this.index})`
      : `pause(${this.index}, ${this.what ?? "until resumed"}${this.thenRenew ? ", then renew" : ""})`;
}

type PauseEnd = "resume early" | "runs its course" | "cancel";

/**
 * The story of a pause from start to end (docs/billing.md, "Pausing a subscription"): the account subscribes
 * (if it has no subscription) and uses it, pauses for 1-3 periods or until resumed, the Billing clock renews
 * into the pause (voided: the platform's calls reported then are rejected subscription_paused, billing
 * nothing), and the pause ends: resumed early, run to its resumes_at (a renewal per period it covers; one
 * until resumed is resumed after a second voided renewal), or cancelled (the subscription ends inside it).
 * After its end, late reports of calls made during it are rejected too (expectPausedUsageRejected).
 */
class PauseStory implements Cmd {
  constructor(
    readonly index: number,
    readonly plan: PlanName,
    readonly periods: 1 | 2 | 3 | null,
    readonly end: PauseEnd,
  ) {}
  check = (model: Readonly<Model>) => {
    const m = model.accounts[this.index];
    return m !== undefined && m.pause === null && !m.trialPaused;
  };
  async run(model: Model, real: Real) {
    const m = model.accounts[this.index] as AccountModel;
    if (m.plan === null) await new SubscribeWithCard(this.index, this.plan, false).run(model, real);
    // Only an active subscription pauses (not a trial, nor one cancelling or changing).
    if (m.plan === null || m.trial !== null || m.cancelAtPeriodEnd || m.scheduled !== null) return;
    if (!m.renewed) await new ReportBusyDay(this.index, 1).run(model, real);
    await new PauseOrResume(this.index, this.periods, true).run(model, real);
    if (!m.pause?.inEffect) return;
    if (this.end === "resume early") {
      await new PauseOrResume(this.index, "resume").run(model, real);
    } else if (this.end === "cancel") {
      await new CancelOrResume(this.index, true).run(model, real);
      await new Renew(this.index).run(model, real);
    } else {
      for (let k = 0; k < 4 && m.pause !== null; k++) {
        if (this.periods === null && k === 1) await new PauseOrResume(this.index, "resume").run(model, real);
        else await new Renew(this.index).run(model, real);
      }
    }
  }
  toString = () => `pauseStory(${this.index}, ${this.plan}, ${this.periods ?? "until resumed"}, ${this.end})`;
}

type CapChange = "set" | "raise" | "lower" | "remove";

/**
 * The customer sets, raises, lowers or removes the overage budget (spendCap.set, as the web app does): only
 * packages with overage take one (a 400 naming amountCents otherwise); lowering it reverses nothing billed,
 * raising it lets the minutes used beyond the old budget be billed up to the new one.
 */
class SetSpendCap implements Cmd {
  constructor(
    readonly index: number,
    readonly change: CapChange,
    readonly cents: number,
    /** Then the platform reports calls past the new budget (when the package takes one). */
    readonly thenPastBudget = 0,
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const m = model.accounts[this.index] as AccountModel;
    const account = real.accounts[this.index] as Account;
    const amountCents =
      this.change === "remove"
        ? null
        : this.change === "raise"
          ? (m.cap ?? 0) + this.cents
          : this.change === "lower"
            ? Math.max(0, (m.cap ?? 0) - this.cents)
            : this.cents;
    const answer = await call("/trpc/spendCap.set", {
      method: "POST",
      headers: { cookie: account.cookie, origin: stack.baseUrl, "content-type": "application/json" },
      body: JSON.stringify(superjson.serialize({ amountCents, currency: m.currency })),
    });
    const takesBudget = m.plan !== null && PLANS[m.plan].overageCents !== null;
    if (amountCents === null || takesBudget) {
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    } else if (m.plan === null) {
      // Never subscribed (400), or its subscription ended: a budget then bounds nothing, either answer.
      expect([200, 400], JSON.stringify(answer.body)).toContain(answer.status);
    } else {
      expect(answer.status, JSON.stringify(answer.body)).toBe(400);
      expect(JSON.stringify(answer.body)).toContain("amountCents");
    }
    if (answer.status === 200) {
      m.cap = amountCents;
      m.capBound = amountCents === null ? Number.POSITIVE_INFINITY : Math.max(m.capBound, amountCents);
    }
    await checkInvariants(model, real, this.toString());
    const past = new ReportPastBudget(this.index, this.thenPastBudget);
    if (this.thenPastBudget > 0 && past.check(model)) await past.run(model, real);
  }
  toString = () =>
    `setSpendCap(${this.index}, ${this.change}${this.change === "remove" ? "" : ` ${this.cents}`}${this.thenPastBudget ? `, then ${this.thenPastBudget} hours past it` : ""})`;
}

/**
 * The platform reports inbound hour-long calls (answered beyond any budget) that take the period past the
 * included minutes plus what the budget pays for, by `extraHours` more: the minutes beyond it must not be
 * billed. Only for an account on a package with overage that set a budget.
 */
class ReportPastBudget implements Cmd {
  constructor(
    readonly index: number,
    readonly extraHours: number,
  ) {}
  // Not modelled for an account holding packs: their minutes move the budget's and the late calls' limits.
  check = (model: Readonly<Model>) => {
    const m = model.accounts[this.index];
    if ((m?.packsBought ?? 0) > 0) return false;
    return (
      m !== undefined &&
      m.plan !== null &&
      !m.renewed &&
      m.cap !== null &&
      PLANS[m.plan].overageCents !== null
    );
  };
  async run(model: Model, real: Real) {
    const m = model.accounts[this.index] as AccountModel;
    const plan = PLANS[m.plan as PlanName];
    const budgetMinutes = Math.floor((m.cap ?? 0) / (plan.overageCents ?? 1));
    const missing = Math.max(0, plan.limit + budgetMinutes - periodMinutes(m));
    const hours = Math.ceil(missing / 60) + this.extraHours;
    const busy = new ReportBusyDay(this.index, hours);
    busy.toString = this.toString;
    await busy.run(model, real);
  }
  toString = () => `reportPastBudget(${this.index}, ${this.extraHours} hours beyond)`;
}

/**
 * After the renewal, the platform reports hour-long inbound calls of the closed period (late): they count in
 * that period, and its overage is billed by its own plan and the budget in force when it closed, up to it,
 * never by a budget set since (a raised budget bills none of it), as a pending item on the next invoice.
 */
class ReportLateAfterRenewal implements Cmd {
  constructor(
    readonly index: number,
    readonly hours: number,
  ) {}
  // Not modelled for an account holding packs: their minutes move the budget's and the late calls' limits.
  check = (model: Readonly<Model>) => {
    const m = model.accounts[this.index];
    if ((m?.packsBought ?? 0) > 0) return false;
    return m !== undefined && m.plan !== null && m.closed !== null;
  };
  async run(model: Model, real: Real) {
    const m = model.accounts[this.index] as AccountModel;
    const closed = m.closed as NonNullable<AccountModel["closed"]>;
    const account = real.accounts[this.index] as Account;
    // In the closed period, which the wall clock is still in (the account's time is past it), and after the
    // account's first subscription was recorded: metering counts an account's calls from then (a test
    // clock's period may have started earlier than that, in the clock's frozen time).
    const first = await stack.database.db.subscription.findFirstOrThrow({
      where: { accountId: account.accountId },
      orderBy: { createdAt: "asc" },
      select: { createdAt: true },
    });
    const startedAt = new Date(
      Math.max(closed.start + 1000, first.createdAt.getTime() + 1000, Date.now() - 60_000),
    ).toISOString();
    const events = Array.from({ length: this.hours }, () => ({
      call_id: newCallId(),
      account_id: account.accountId,
      direction: "inbound",
      started_at: startedAt,
      duration_seconds: 3600,
    }));
    const answer = await call("/api/v1/usage/calls", {
      method: "POST",
      headers: METERING,
      body: JSON.stringify({ events }),
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const results = (answer.body as { results: { status: string; late?: boolean }[] }).results;
    for (const result of results)
      expect(result, JSON.stringify(result)).toMatchObject({ status: "accepted", late: true });
    closed.minutes += 60 * this.hours;
    const plan = PLANS[closed.plan];
    if (plan.overageCents !== null && !closed.trial) {
      const overage = Math.max(0, closed.minutes - plan.limit);
      const budgetMinutes =
        closed.cap === null ? Number.POSITIVE_INFINITY : Math.floor(closed.cap / plan.overageCents);
      const billed = Math.max(closed.billedMinutes, Math.min(overage, budgetMinutes));
      const cents = (billed - closed.billedMinutes) * plan.overageCents;
      closed.billedMinutes = billed;
      m.charged += cents;
      m.pendingLateCents += cents;
    }
    await checkInvariants(model, real, this.toString());
  }
  toString = () => `reportLateAfterRenewal(${this.index}, ${this.hours} hours)`;
}

/**
 * The story of rule "a closed period keeps its budget": the customer sets a budget, the period goes past it,
 * the renewal closes it, the customer raises the budget for the new period, and late calls of the closed
 * period arrive: they are billed up to the closed period's budget only.
 */
class BudgetThenLateCalls implements Cmd {
  constructor(
    readonly index: number,
    readonly capCents: number,
    readonly raiseCents: number,
    readonly lateHours: number,
  ) {}
  // Not modelled for an account holding packs: their minutes move the budget's and the late calls' limits.
  check = (model: Readonly<Model>) => {
    const m = model.accounts[this.index];
    if ((m?.packsBought ?? 0) > 0) return false;
    return m !== undefined && m.plan !== null && !m.renewed && PLANS[m.plan].overageCents !== null;
  };
  async run(model: Model, real: Real) {
    const m = model.accounts[this.index] as AccountModel;
    await new SetSpendCap(this.index, "set", this.capCents).run(model, real);
    const past = new ReportPastBudget(this.index, 1);
    if (past.check(model)) await past.run(model, real);
    await new Renew(this.index).run(model, real);
    if (m.closed === null || m.plan === null) return;
    await new SetSpendCap(this.index, "raise", this.raiseCents).run(model, real);
    const late = new ReportLateAfterRenewal(this.index, this.lateHours);
    if (late.check(model)) await late.run(model, real);
  }
  toString = () =>
    `budgetThenLateCalls(${this.index}, ${this.capCents}, raised by ${this.raiseCents}, ${this.lateHours} hours late)`;
}

type TrialMiddle = "none" | "upgrade" | "downgrade" | "cancel" | "add card" | "past allowance";

/**
 * The story of a trial from start to end: the admin gives the package a trial, the account starts it (with
 * its card or without one), does one thing during it (upgrade, downgrade, cancel, add a card, calls past the
 * allowance), the Billing clock reaches its end (a card: charged, converts; none: paused), then a card is
 * added (resumes a paused one, charging it) and the other account tries the same package with the same card.
 */
class TrialStory implements Cmd {
  constructor(
    readonly index: number,
    readonly plan: PlanName,
    readonly days: number,
    readonly withCard: boolean,
    readonly middle: TrialMiddle,
  ) {}
  check = (model: Readonly<Model>) => {
    const m = model.accounts[this.index];
    return m !== undefined && m.plan === null && !m.hadTrial;
  };
  async run(model: Model, real: Real) {
    const m = model.accounts[this.index] as AccountModel;
    await new SetTrial(this.plan, { days: this.days, requiresCard: this.withCard }).run(model, real);
    if (this.withCard) await new SubscribeWithCard(this.index, this.plan, false).run(model, real);
    else await new StartTrialWithoutCard(this.index, this.plan).run(model, real);
    if (m.trial === null) return;
    const higher = PLAN_NAMES.find((p) => PLANS[p].price > PLANS[this.plan].price);
    const lower = PLAN_NAMES.find((p) => PLANS[p].price < PLANS[this.plan].price);
    if (this.middle === "upgrade" && higher) await new Upgrade(this.index, higher, false).run(model, real);
    if (this.middle === "downgrade" && lower) await new Downgrade(this.index, lower).run(model, real);
    if (this.middle === "cancel") await new CancelOrResume(this.index, true).run(model, real);
    if (this.middle === "add card") await new AddCard(this.index).run(model, real);
    if (this.middle === "past allowance") await new TrialPastAllowance(this.index, 2).run(model, real);
    await new Renew(this.index).run(model, real);
    if (m.plan !== null) await new AddCard(this.index).run(model, real);
    // The other account, with this account's card: a card that started a trial starts none elsewhere.
    const other = model.accounts[1 - this.index] as AccountModel;
    if (other.plan === null && this.withCard)
      await new SubscribeWithCard(1 - this.index, this.plan, false, null, this.index === 0).run(model, real);
  }
  toString = () =>
    `trialStory(${this.index}, ${this.plan} ${this.days} days, ${this.withCard ? "with a card" : "no card"}, ${this.middle})`;
}

const usageCall = fc.record({
  kind: fc.constantFrom<UsageKind>("new", "new", "replay", "conflict", "moved", "other-account-id"),
  seconds: fc.integer({ min: 1, max: 4 * 3600 }),
  minutesAgo: fc.integer({ min: 0, max: 120 }),
});

const subscribeWithCard = fc
  .tuple(accountIndex, planName, fc.boolean())
  .map(([i, p, d]) => new SubscribeWithCard(i, p, d));
const subscribeWithCode = fc
  .tuple(accountIndex, planName, fc.boolean(), fc.constantFrom(...COUPON_NAMES))
  .map(([i, p, d, c]) => new SubscribeWithCard(i, p, d, c));
const applyCoupon = fc
  .tuple(accountIndex, fc.constantFrom<Exclude<CouponName, "ONCE10">>("FOREVER25", "PROONLY50", "ARCHIVED"))
  .map(([i, c]) => new ApplyCoupon(i, c));
const reportCalls = fc
  .tuple(accountIndex, fc.array(usageCall, { minLength: 1, maxLength: 6 }))
  .map(([i, c]) => new ReportCalls(i, c));
const busyDay = fc
  .tuple(accountIndex, fc.integer({ min: 10, max: 60 }), fc.boolean())
  .map(([i, h, replica]) => new ReportBusyDay(i, h, replica));
const invalidAmongValid = fc
  .tuple(accountIndex, fc.nat(), fc.integer({ min: 1, max: 3600 }))
  .map(([i, k, s]) => new InvalidAmongValid(i, k, s));

/** The currency an account of a run buys in. */
const currency = fc.constantFrom<Cur>(...CURRENCIES);
const trialOffer = fc.record({ days: fc.constantFrom(3, 7, 14), requiresCard: fc.boolean() });
/** The packages' trials a run starts with (Starter, Pro, Enterprise): most offer one. */
const initialTrials = fc.tuple(...PLAN_NAMES.map(() => fc.option(trialOffer, { freq: 3 }))) as fc.Arbitrary<
  (TrialOffer | null)[]
>;
const trialSetting = fc
  .tuple(planName, fc.option(trialOffer, { freq: 4 }))
  .map(([p, offer]) => new SetTrial(p, offer));

// fc.commands picks uniformly among these: subscribing and usage appear twice so that most runs get to
// metering (its commands need a subscription) within their ten steps.
/** The customer buys the model's minute pack with the saved card (REST, with an Idempotency-Key, sent twice). */
class BuyPack implements Cmd {
  constructor(
    readonly index: number,
    /**
     * Then the platform reports calls up to the included minutes and this many hours beyond them (null:
     * none), so packs are drawn from (500 minutes: some of them, all of them and overage beyond).
     */
    readonly thenHoursBeyond: number | null = null,
  ) {}
  check = (model: Readonly<Model>) => {
    const m = model.accounts[this.index];
    return m !== undefined && m.plan !== null && !m.renewed;
  };
  async run(model: Model, real: Real) {
    const m = model.accounts[this.index] as AccountModel;
    const account = real.accounts[this.index] as Account;
    const key = `model-pack-${SEED}-${real.run}-${++callCounter}`;
    const buy = () =>
      call("/api/packs/purchase", {
        method: "POST",
        headers: {
          cookie: account.cookie,
          origin: stack.baseUrl,
          "content-type": "application/json",
          "idempotency-key": key,
        },
        body: JSON.stringify({ pack_id: packIds[m.currency], method: "saved_card" }),
      });
    const first = await buy();
    const replay = await buy();
    // A customer who subscribed through Checkout may have no saved default card: 402, nothing granted.
    expect([200, 402], JSON.stringify(first.body)).toContain(first.status);
    expect(replay.status, JSON.stringify(replay.body)).toBe(first.status);
    if (first.status === 200) m.packsBought += PACK_MINUTES;
    await checkInvariants(model, real, this.toString());
    if (this.thenHoursBeyond === null || m.plan === null) return;
    const missing = Math.max(0, PLANS[m.plan].limit - periodMinutes(m));
    const busy = new ReportBusyDay(this.index, Math.ceil(missing / 60) + this.thenHoursBeyond);
    busy.toString = this.toString;
    if (busy.check(model)) await busy.run(model, real);
  }
  toString = () => `buyPack(${this.index}, then ${this.thenHoursBeyond ?? "no"} hours beyond the included)`;
}

/**
 * The owner deletes the account (docs/accounts.md), clicking twice at once: one deletion. Stripe charges
 * nothing for it (what the customer owes Stripe is unchanged), its live subscription ends at the period's
 * end (a trial, unpaid or incomplete one at once), the Stripe customer keeps no personal data or card, and
 * the platform's calls for it are refused account_deleted (reported and authorized). The index then holds
 * a newly signed-up account, so the run goes on with two live accounts.
 */
class DeleteAccount implements Cmd {
  constructor(readonly index: number) {}
  check = (model: Readonly<Model>) => model.accounts[this.index] !== undefined;
  async run(model: Model, real: Real) {
    const account = real.accounts[this.index] as Account;
    const deleting = model.accounts[this.index] as AccountModel;
    const db = stack.database.db;
    await drain();
    const customer = await stripeCustomerOf(account);
    const owedBefore = customer ? await committedCents(customer) : 0;
    const { name } = await db.account.findUniqueOrThrow({ where: { id: account.accountId } });
    const owner = await db.accountMember.findFirstOrThrow({
      where: { accountId: account.accountId, role: "owner" },
    });
    const wrong = await call("/trpc/accountSettings.delete", {
      ...asCustomer(account, superjson.serialize({ confirmation: `${name} (not)` })),
    });
    expect(wrong.status, JSON.stringify(wrong.body)).toBe(400);
    const key = `model-delete-${SEED}-${real.run}-${++callCounter}`;
    const click = () =>
      call("/trpc/accountSettings.delete", {
        ...asCustomer(account, superjson.serialize({ confirmation: name, requestKey: key })),
      });
    // Another tab buys a minute pack with the saved card at the same time (docs/accounts.md, "Money and
    // writes racing the deletion"): it completes before the deletion, or it is refused, or its payment is
    // refunded; never charged and lost.
    const packKey = `model-delete-pack-${SEED}-${real.run}-${++callCounter}`;
    const buyPack = () =>
      call("/api/packs/purchase", {
        method: "POST",
        headers: {
          cookie: account.cookie,
          origin: stack.baseUrl,
          "content-type": "application/json",
          "idempotency-key": packKey,
        },
        body: JSON.stringify({ pack_id: packIds[deleting.currency], method: "saved_card" }),
      });
    const [first, second, pack] = await Promise.all([click(), click(), buyPack()]);
    const answers = [first, second];
    // The purchase holds the account's action lock while it charges the card: a delete clicked meanwhile is
    // a 409 to retry (nothing deleted), and the owner clicks again once the purchase is done.
    if (!answers.some((a) => a.status === 200) && answers.every((a) => a.status === 409)) {
      answers.push(await click());
    }
    // One deletion: the first click answers; the second is its replay, waits for it, or comes after the
    // session ended with the account (401).
    expect(
      answers.some((a) => a.status === 200),
      JSON.stringify(answers),
    ).toBe(true);
    for (const a of answers) expect([200, 401, 409], JSON.stringify(a.body)).toContain(a.status);
    expect([200, 401, 402, 404, 409, 412], JSON.stringify(pack.body)).toContain(pack.status);
    const row = await db.account.findUniqueOrThrow({ where: { id: account.accountId } });
    expect(row.deletedAt, `${this}: deleted`).not.toBeNull();
    expect(await db.accountMember.count({ where: { accountId: account.accountId } })).toBe(0);
    expect(await db.session.count({ where: { userId: owner.userId } })).toBe(0);

    const callId = newCallId();
    const report = await call("/api/v1/usage/calls", {
      method: "POST",
      headers: METERING,
      body: JSON.stringify({
        events: [
          {
            call_id: callId,
            account_id: account.accountId,
            direction: "outbound",
            started_at: new Date().toISOString(),
            duration_seconds: 60,
          },
        ],
      }),
    });
    expect(report.body, `${this}: usage refused`).toMatchObject({
      results: [{ status: "rejected", reason: "account_deleted" }],
    });
    const authorize = await call("/api/v1/calls/authorize", {
      method: "POST",
      headers: METERING,
      body: JSON.stringify({
        call_id: newCallId(),
        account_id: account.accountId,
        agent_id: "00000000-0000-4000-8000-000000000000",
        direction: "outbound",
      }),
    });
    expect(authorize.body, `${this}: call denied`).toMatchObject({
      decision: "deny",
      reason: "account_deleted",
    });

    if (customer) {
      await drain();
      for (const sub of (await stripe.subscriptions.list({ customer, status: "all", limit: 100 })).data) {
        if (sub.status === "canceled" || sub.status === "incomplete_expired") continue;
        expect(sub.cancel_at_period_end, `${this}: ${sub.id} (${sub.status}) ends at the period's end`).toBe(
          true,
        );
      }
      const remote = await stripe.customers.retrieve(customer);
      expect(remote, `${this}: the Stripe customer is scrubbed`).toMatchObject({ email: null, name: null });
      expect((await stripe.customers.listPaymentMethods(customer)).data).toEqual([]);
      expect(await committedCents(customer), `${this}: nothing charged by the deletion`).toBe(owedBefore);
      // Every pack payment of the customer is granted and kept, or not granted and refunded in full.
      const intents = await stripe.paymentIntents
        .list({ customer, limit: 100, expand: ["data.latest_charge"] })
        .autoPagingToArray({ limit: 1000 });
      for (const intent of intents) {
        if (!intent.metadata?.minutely_pack_id || intent.status !== "succeeded") continue;
        const charge = intent.latest_charge as Stripe.Charge;
        const granted = await db.packGrant.count({ where: { sourceKey: `payment_intent:${intent.id}` } });
        expect(
          { granted, refunded: charge.amount_refunded },
          `${this}: pack payment ${intent.id} (the racing purchase answered ${pack.status})`,
        ).toEqual(granted ? { granted: 1, refunded: 0 } : { granted: 0, refunded: charge.amount });
      }
    }

    // The index goes on with a new account.
    const label = account.label;
    const email = `${label.toLowerCase()}-${SEED}-${real.run}-${++callCounter}@model.test`;
    const signedUp = await signUp(email, `${label} ${real.run} again`);
    await enterTaxDetails(signedUp.cookie, label, `${real.run}-${label}-${callCounter}`);
    real.accounts[this.index] = { label, ...signedUp, stripeCustomerId: null };
    model.accounts[this.index] = freshAccountModel((model.accounts[this.index] as AccountModel).currency);
    await checkInvariants(model, real, this.toString());
  }
  toString = () => `deleteAccount(${this.index})`;
}

const allCommands: fc.Arbitrary<Cmd>[] = [
  fc
    .tuple(accountIndex, planName, fc.constantFrom<1 | 2>(1, 2), fc.boolean())
    .map(([i, p, shift, card]) => new BuyInOtherCurrency(i, p, shift, card)),
  accountIndex.map((i) => new DeleteAccount(i)),
  subscribeWithCard,
  subscribeWithCard,
  subscribeWithCode,
  applyCoupon,
  fc
    .tuple(accountIndex, planName, planName, fc.boolean())
    .map(([i, a, b, f]) => new SubscribeInTwoTabs(i, a, b, f)),
  fc
    .tuple(accountIndex, planName, fc.constantFrom("once", "double click", "intent"))
    .map(([i, p, how]) => new Upgrade(i, p, how === "double click", how === "intent")),
  fc.tuple(accountIndex, planName).map(([i, p]) => new Downgrade(i, p)),
  trialSetting,
  trialSetting,
  fc
    .tuple(accountIndex, planName, fc.boolean())
    .map(([i, p, d]) => new SubscribeWithCard(i, p, d, null, i === 1)),
  fc.tuple(accountIndex, planName).map(([i, p]) => new StartTrialWithoutCard(i, p)),
  fc
    .tuple(planName, planName, fc.option(trialOffer, { freq: 4 }))
    .map(([a, b, offer]) => new SubscribeBothWithOneCard([a, b], offer)),
  accountIndex.map((i) => new AddCard(i)),
  fc
    .tuple(
      accountIndex,
      planName,
      fc.constantFrom(3, 7, 14),
      fc.boolean(),
      fc.constantFrom<TrialMiddle>("none", "upgrade", "downgrade", "cancel", "add card", "past allowance"),
    )
    .map(([i, p, d, c, middle]) => new TrialStory(i, p, d, c, middle)),
  fc.tuple(accountIndex, fc.integer({ min: 1, max: 10 })).map(([i, h]) => new TrialPastAllowance(i, h)),
  fc.tuple(accountIndex, fc.boolean()).map(([i, c]) => new CancelOrResume(i, c)),
  reportCalls,
  reportCalls,
  fc.tuple(accountIndex, fc.constantFrom(null, 1, 5, 12)).map(([i, h]) => new BuyPack(i, h)),
  fc.tuple(accountIndex, fc.constantFrom(null, 1, 5, 12)).map(([i, h]) => new BuyPack(i, h)),
  invalidAmongValid,
  invalidAmongValid,
  busyDay,
  busyDay,
  accountIndex.map((i) => new Renew(i)),
  accountIndex.map((i) => new ReportAfterEnd(i)),
  fc
    .tuple(
      accountIndex,
      fc.constantFrom<CapChange>("set", "raise", "lower", "remove"),
      fc.integer({ min: 0, max: 6000 }),
    )
    .map(([i, change, cents]) => new SetSpendCap(i, change, cents)),
  fc
    .tuple(
      accountIndex,
      fc.constantFrom<CapChange>("set", "raise", "lower"),
      fc.integer({ min: 0, max: 3000 }),
      fc.integer({ min: 1, max: 3 }),
    )
    .map(([i, change, cents, past]) => new SetSpendCap(i, change, cents, past)),
  fc.tuple(accountIndex, fc.integer({ min: 1, max: 5 })).map(([i, h]) => new ReportPastBudget(i, h)),
  fc.tuple(accountIndex, fc.integer({ min: 1, max: 40 })).map(([i, h]) => new ReportLateAfterRenewal(i, h)),
  fc
    .tuple(
      accountIndex,
      fc.integer({ min: 0, max: 3000 }),
      fc.integer({ min: 1, max: 30_000 }),
      fc.integer({ min: 1, max: 40 }),
    )
    .map(([i, cap, raise, h]) => new BudgetThenLateCalls(i, cap, raise, h)),
  fc
    .tuple(accountIndex, fc.constantFrom<1 | 2 | 3 | null>(1, 2, 3, null), fc.boolean())
    .map(([i, periods, renew]) => new PauseOrResume(i, periods, renew)),
  accountIndex.map((i) => new PauseOrResume(i, "resume")),
  fc
    .tuple(
      accountIndex,
      planName,
      fc.constantFrom<1 | 2 | 3 | null>(1, 2, 3, null),
      fc.constantFrom<PauseEnd>("resume early", "runs its course", "cancel"),
    )
    .map(([i, plan, periods, end]) => new PauseStory(i, plan, periods, end)),
  fc
    .tuple(
      accountIndex,
      fc.constantFrom<GiveBackKind>("refund", "credit_note", "balance_credit"),
      fc.integer({ min: 1, max: 12_000 }),
    )
    .map(([i, kind, cents]) => new GiveBack(i, kind, cents)),
];

/** MINUTELY_MODEL_ONLY=reportCalls,renew (names as in the counterexamples) narrows the commands for a hunt. */
const only = (process.env.MINUTELY_MODEL_ONLY ?? "").split(",").filter(Boolean);
const commands = only.length
  ? allCommands.filter((arbitrary) => {
      const sample = fc.sample(arbitrary, { numRuns: 1, seed: SEED })[0];
      return only.some((name) => sample?.toString().startsWith(`${name}(`));
    })
  : allCommands;

describe("the billing lifecycle against a model", () => {
  it(
    "keeps money and minutes right through random sequences of customers, the platform, Stripe and time",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          initialTrials,
          fc.tuple(currency, currency),
          fc.commands(commands, { maxCommands: MAX_STEPS }),
          async (trials, currencies, cmds) => {
            runCounter++;
            serverErrors.length = 0;
            const accounts: Account[] = [];
            for (const label of ["A", "B"]) {
              const email = `${label.toLowerCase()}-${SEED}-${runCounter}@model.test`;
              const signedUp = await signUp(email, `${label} ${runCounter}`);
              await enterTaxDetails(signedUp.cookie, label);
              accounts.push({ label, ...signedUp, stripeCustomerId: null });
            }
            const model: Model = {
              accounts: accounts.map((_, i) => freshAccountModel(currencies[i] ?? "usd")),
            };
            for (const c of currencies) currencyCounts.set(c, (currencyCounts.get(c) ?? 0) + 1);
            // Each run starts with the packages' trials drawn for it.
            for (const [i, plan] of PLAN_NAMES.entries()) {
              const offer = trials[i] ?? null;
              if (JSON.stringify(packageTrials[plan]) !== JSON.stringify(offer))
                await setPackageTrial(plan, offer);
            }
            await fc.asyncModelRun(() => ({ model, real: { accounts, run: runCounter } }), cmds);
          },
        ),
        {
          seed: SEED,
          interruptAfterTimeLimit: BUDGET_MS,
          markInterruptAsFailure: false,
          numRuns: 10_000,
          verbose: 1,
        },
      );
      console.log(
        `lifecycle model: ${runCounter} runs; accounts by currency: ${JSON.stringify(Object.fromEntries(currencyCounts))}; steps checked: ${JSON.stringify(Object.fromEntries(stepCounts))}`,
      );
    },
    BUDGET_MS * 6 + 300_000,
  );
});
