// Stripe faults, end to end over HTTP: this file's own Stripe emulator answers chosen calls with 500, 429,
// a hang or a dropped connection, before or after doing the work. Each user action must fail with a clear
// 503 (REST) / SERVICE_UNAVAILABLE (tRPC), leave nothing half-written, release the account's lock, and
// succeed when retried — with exactly one subscription and one paid invoice per charge at Stripe.
//
// The API is the real server (buildServer, listening on a port) with the real ports, built here rather than
// by startStack because the SDK's per-attempt timeout must be short for hang faults (testPorts'
// stripeTimeoutMs); faults are global to an emulator process, so no other test file shares this one.
import {
  billOverage,
  classifyFailure,
  createAuth,
  ingestUsageEvents,
  reportOverage,
  syncCatalogToStripe,
} from "@minutely/api";
import { testPorts } from "@minutely/api/testing";
import { testDatabase } from "@minutely/db/vitest";
import { type RunningEmulator, startStripeEmulatorProcess, userWithAccount } from "@minutely/testing";
import type { FastifyInstance } from "fastify";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config.ts";
import { buildServer } from "../server.ts";

const ORIGIN = "http://localhost:3000";
/** Per attempt; the SDK makes three (maxNetworkRetries 2), so a hang fails in about 10 s, not minutes. */
const STRIPE_TIMEOUT_MS = 3000;

const { db } = await testDatabase();
let emulator: RunningEmulator;
let app: FastifyInstance;
let base: string;
let ports: ReturnType<typeof testPorts>;

beforeAll(async () => {
  emulator = await startStripeEmulatorProcess();
  const config = loadConfig({
    NODE_ENV: "test",
    DATABASE_URL: "postgresql://unused@localhost/unused",
    LOG_LEVEL: "silent",
    PUBLIC_URL: ORIGIN,
    STRIPE_API_BASE: emulator.url,
  });
  ports = testPorts(db, {
    stripeApiBase: emulator.url,
    appUrl: config.appUrl,
    stripeTimeoutMs: STRIPE_TIMEOUT_MS,
  });
  await syncCatalogToStripe(ports);
  const auth = createAuth({
    db,
    secret: config.sessionSecret,
    baseUrl: config.publicUrl,
    trustedOrigins: config.trustedOrigins,
    secureCookies: config.secureCookies,
  });
  app = await buildServer({ config, auth, ...ports });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  if (!address || typeof address === "string") throw new Error("the API is not listening on a port");
  base = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  await app?.close();
  await emulator?.stop();
});

// ---- the emulator's fault rules ------------------------------------------------------------------------

interface FaultRule {
  method: "GET" | "POST";
  path: string;
  count: number;
  status?: number;
  kind?: "error" | "timeout" | "reset";
  phase?: "before" | "after";
  timeoutMs?: number;
}

async function addFault(rule: FaultRule): Promise<void> {
  const response = await fetch(`${emulator.url}/_emulator/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(rule),
  });
  expect(response.status, await response.clone().text()).toBe(200);
}

/** Every rule fired exactly `count` times (so the SDK made all its attempts); then the rules are dropped. */
async function expectFaultsSpent(): Promise<void> {
  const listed = (await (await fetch(`${emulator.url}/_emulator/faults`)).json()) as {
    data: { path: string; count: number; hits: number; remaining: number }[];
  };
  expect(listed.data.length).toBeGreaterThan(0);
  for (const rule of listed.data) expect(rule, rule.path).toMatchObject({ hits: rule.count, remaining: 0 });
  await fetch(`${emulator.url}/_emulator/faults`, { method: "DELETE" });
}

// ---- the API, as browsers and API clients call it ------------------------------------------------------

interface Customer {
  email: string;
  accountId: string;
  cookie: string;
}

async function signUp(name: string): Promise<Customer> {
  const email = `${name}@faults.minutely.test`;
  const response = await fetch(`${base}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: ORIGIN },
    body: JSON.stringify({ name, email, password: "long-enough-password-1" }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  const cookie = response.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  const user = await userWithAccount(db, { email });
  return { email, accountId: user.accountId ?? "", cookie };
}

/** POST /api/subscriptions/user/actions/ (the seed's REST contract). */
async function restAction(customer: Customer, body: Record<string, unknown>) {
  const response = await fetch(`${base}/api/subscriptions/user/actions/`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: ORIGIN, cookie: customer.cookie },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get("retry-after"),
    body: (await response.json()) as Record<string, unknown>,
  };
}

interface TrpcError {
  message: string;
  data: { code: string; httpStatus: number; stack?: unknown };
}

async function trpcResult(response: Response) {
  const body = (await response.json()) as {
    result?: { data: Parameters<typeof superjson.deserialize>[0] };
    error?: Parameters<typeof superjson.deserialize>[0];
  };
  return {
    status: response.status,
    retryAfter: response.headers.get("retry-after"),
    data: body.result ? superjson.deserialize<Record<string, unknown>>(body.result.data) : undefined,
    error: body.error ? superjson.deserialize<TrpcError>(body.error) : undefined,
  };
}

/** A tRPC mutation as the web app's client sends it (superjson, one procedure per request). */
async function trpcMutation(customer: Customer, path: string, input: unknown) {
  const response = await fetch(`${base}/trpc/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: ORIGIN, cookie: customer.cookie },
    body: JSON.stringify(superjson.serialize(input)),
  });
  return await trpcResult(response);
}

async function trpcQuery(customer: Customer, path: string, input: unknown) {
  const query = encodeURIComponent(JSON.stringify(superjson.serialize(input)));
  const response = await fetch(`${base}/trpc/${path}?input=${query}`, {
    headers: { origin: ORIGIN, cookie: customer.cookie },
  });
  return await trpcResult(response);
}

/** Ids, hosts, SDK class names, error codes, paths or stack frames: nothing a customer should read. */
const INTERNALS =
  /\b(sub|sub_sched|cus|pi|in|req|price|prod|cs|pm|clock|seti)_\w+|emulator|api_error|rate_limit|ECONN|ETIMEDOUT|timeout being reached|Stripe\w*Error|127\.0\.0\.1|localhost|\/v1\/|\bat \S+ \(/i;

function expectClearMessage(message: string): void {
  expect(message).toMatch(/Stripe/);
  expect(message).toMatch(/try again/i);
  expect(message).not.toMatch(INTERNALS);
}

function expectRest503(response: {
  status: number;
  retryAfter: string | null;
  body: Record<string, unknown>;
}): void {
  expect(response.status, JSON.stringify(response.body)).toBe(503);
  expect(Number(response.retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Object.keys(response.body).sort()).toEqual(["error", "message"]);
  expect(response.body.error).toBe("upstream_unavailable");
  expectClearMessage(String(response.body.message));
}

function expectTrpc503(result: Awaited<ReturnType<typeof trpcResult>>): void {
  expect(result.status, JSON.stringify(result.error)).toBe(503);
  expect(Number(result.retryAfter)).toBeGreaterThanOrEqual(1);
  expect(result.error?.data).toMatchObject({ code: "SERVICE_UNAVAILABLE", httpStatus: 503 });
  expect(result.error?.data.stack).toBeUndefined();
  expectClearMessage(result.error?.message ?? "");
}

// ---- what Stripe and Minutely hold ---------------------------------------------------------------------

async function plan(name: string) {
  return await db.subscriptionPlan.findUniqueOrThrow({ where: { name } });
}

async function local(customer: Customer) {
  const [account, subscriptions, invoices] = await Promise.all([
    db.account.findUniqueOrThrow({ where: { id: customer.accountId } }),
    db.subscription.findMany({ where: { accountId: customer.accountId }, include: { plan: true } }),
    db.billingHistory.findMany({ where: { accountId: customer.accountId } }),
  ]);
  return { account, subscriptions, invoices };
}

async function stripeCustomers(customer: Customer) {
  return (await ports.stripe.customers.list({ email: customer.email, limit: 100 })).data;
}

/** Stripe's side, read through the SDK (no faults are armed while it is read): one customer, and its things. */
async function atStripe(customer: Customer) {
  const customers = await stripeCustomers(customer);
  expect(customers).toHaveLength(1);
  const customerId = customers[0]?.id ?? "";
  const [subscriptions, invoices, paymentIntents, schedules, sessions] = await Promise.all([
    ports.stripe.subscriptions.list({ customer: customerId, status: "all", limit: 100 }),
    ports.stripe.invoices.list({ customer: customerId, limit: 100 }),
    ports.stripe.paymentIntents.list({ customer: customerId, limit: 100 }),
    ports.stripe.subscriptionSchedules.list({ customer: customerId, limit: 100 }),
    ports.stripe.checkout.sessions.list({ customer: customerId, limit: 100 }),
  ]);
  return {
    customerId,
    subscriptions: subscriptions.data,
    invoices: invoices.data,
    paidInvoices: invoices.data.filter((i) => i.status === "paid"),
    succeededPayments: paymentIntents.data.filter((p) => p.status === "succeeded"),
    schedules: schedules.data,
    sessions: sessions.data,
  };
}

// ---- the tests -----------------------------------------------------------------------------------------

describe("Stripe faults during user actions", () => {
  it("500s on subscription create (REST, card): 503, no subscription anywhere, the retry charges once", async () => {
    const customer = await signUp("five-hundred");
    const starter = await plan("Starter");
    await addFault({ method: "POST", path: "^/v1/subscriptions$", status: 500, count: 3 });

    const failed = await restAction(customer, {
      action: "subscribe",
      package_id: starter.id,
      payment_method_id: "pm_card_visa",
    });
    expectRest503(failed);
    await expectFaultsSpent(); // the SDK tried three times before giving up

    // The customer record is kept (a real Stripe customer, nothing charged, reused by the retry).
    const after = await local(customer);
    expect(after.subscriptions).toEqual([]);
    expect(after.invoices).toEqual([]);
    const stripeAfter = await atStripe(customer); // exactly one customer
    expect(after.account.stripeCustomerId).toBe(stripeAfter.customerId);
    expect(stripeAfter.subscriptions).toEqual([]);
    expect(stripeAfter.invoices).toEqual([]);

    // Retrying at once works: the account's action lock was released with the failure.
    const retried = await restAction(customer, {
      action: "subscribe",
      package_id: starter.id,
      payment_method_id: "pm_card_visa",
    });
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    expect(retried.body).toMatchObject({
      result: "subscribed",
      subscription: { status: "active", package_name: "Starter" },
    });
    const stripe = await atStripe(customer);
    expect(stripe.subscriptions).toHaveLength(1);
    expect(stripe.paidInvoices.map((i) => i.amount_paid)).toEqual([starter.monthlyPriceCents]);
    expect(stripe.succeededPayments).toHaveLength(1);
    const synced = await local(customer);
    expect(synced.subscriptions.map((s) => [s.plan.name, s.status])).toEqual([["Starter", "active"]]);
    expect(synced.invoices.map((i) => i.status)).toEqual(["paid"]);
  });

  it("a 429 on customer creation (tRPC subscribe): SERVICE_UNAVAILABLE, nothing created, the retry works", async () => {
    const customer = await signUp("rate-limited");
    const pro = await plan("Pro");
    await addFault({ method: "POST", path: "^/v1/customers$", status: 429, count: 1 });
    const input = { packageId: pro.id, paymentMethodId: "pm_card_visa", requestKey: "rate-limited-1" };

    const failed = await trpcMutation(customer, "subscription.subscribe", input);
    expectTrpc503(failed);
    // Stripe never runs a rate-limited request, so this message may promise that nothing happened.
    expect(failed.error?.message).toMatch(/nothing was charged/i);
    await expectFaultsSpent(); // one hit: the SDK does not retry a 429

    const after = await local(customer);
    expect(after.account.stripeCustomerId).toBeNull();
    expect(after.subscriptions).toEqual([]);
    expect(await stripeCustomers(customer)).toEqual([]);

    const retried = await trpcMutation(customer, "subscription.subscribe", input);
    expect(retried.error).toBeUndefined();
    expect(retried.data).toMatchObject({ kind: "subscribed", subscription: { status: "active" } });
    const stripe = await atStripe(customer);
    expect(stripe.subscriptions).toHaveLength(1);
    expect(stripe.paidInvoices.map((i) => i.amount_paid)).toEqual([pro.monthlyPriceCents]);
  });

  it("answers lost after Stripe created the subscription (hangs): the same requestKey gives one subscription", async () => {
    const customer = await signUp("hanging");
    const starter = await plan("Starter");
    // Stripe creates and charges, then never answers: three attempts, each timing out (replays included).
    await addFault({
      method: "POST",
      path: "^/v1/subscriptions$",
      kind: "timeout",
      phase: "after",
      count: 3,
      timeoutMs: 60_000,
    });
    const input = { packageId: starter.id, paymentMethodId: "pm_card_visa", requestKey: "hanging-intent-1" };

    const failed = await trpcMutation(customer, "subscription.subscribe", input);
    expectTrpc503(failed);
    await expectFaultsSpent();
    // Stripe did the work; Minutely has no row yet (a retry or the webhooks bring it), and nothing else.
    const stripeAfter = await atStripe(customer);
    expect(stripeAfter.subscriptions).toHaveLength(1);
    expect(stripeAfter.paidInvoices).toHaveLength(1);
    const after = await local(customer);
    expect(after.subscriptions).toEqual([]);
    expect(after.invoices).toEqual([]);

    const retried = await trpcMutation(customer, "subscription.subscribe", input);
    expect(retried.error).toBeUndefined();
    expect(retried.data).toMatchObject({ kind: "subscribed", subscription: { status: "active" } });
    const stripe = await atStripe(customer);
    expect(stripe.subscriptions.map((s) => s.id)).toEqual(stripeAfter.subscriptions.map((s) => s.id));
    expect(stripe.paidInvoices.map((i) => i.amount_paid)).toEqual([starter.monthlyPriceCents]);
    expect(stripe.succeededPayments).toHaveLength(1);
    const synced = await local(customer);
    expect(synced.subscriptions.map((s) => s.stripeSubscriptionId)).toEqual([stripe.subscriptions[0]?.id]);
    expect(synced.invoices).toHaveLength(1);
  });

  it("connection resets after Stripe created the subscription: a retry with another card still charges once", async () => {
    const customer = await signUp("reset-subscribe");
    const pro = await plan("Pro");
    await addFault({ method: "POST", path: "^/v1/subscriptions$", kind: "reset", phase: "after", count: 3 });

    expectRest503(
      await restAction(customer, {
        action: "subscribe",
        package_id: pro.id,
        payment_method_id: "pm_card_visa",
      }),
    );
    await expectFaultsSpent();
    expect((await atStripe(customer)).subscriptions).toHaveLength(1);

    // Another card makes another idempotency key; Minutely must find the subscription Stripe already has.
    const retried = await restAction(customer, {
      action: "subscribe",
      package_id: pro.id,
      payment_method_id: "pm_card_mastercard",
    });
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    expect(retried.body).toMatchObject({ result: "subscribed", subscription: { package_name: "Pro" } });
    const stripe = await atStripe(customer);
    expect(stripe.subscriptions).toHaveLength(1);
    expect(stripe.paidInvoices.map((i) => i.amount_paid)).toEqual([pro.monthlyPriceCents]);
    expect(stripe.succeededPayments).toHaveLength(1);
  });

  it("upgrade: a 429 on the preview, then resets after the change; the same preview charges the proration once", async () => {
    const customer = await signUp("upgrader");
    const [starter, pro] = [await plan("Starter"), await plan("Pro")];
    const subscribed = await restAction(customer, {
      action: "subscribe",
      package_id: starter.id,
      payment_method_id: "pm_card_visa",
    });
    expect(subscribed.status, JSON.stringify(subscribed.body)).toBe(200);

    await addFault({ method: "POST", path: "^/v1/invoices/create_preview$", status: 429, count: 1 });
    expectTrpc503(await trpcQuery(customer, "subscription.previewUpgrade", { packageId: pro.id }));
    await expectFaultsSpent();
    const preview = await trpcQuery(customer, "subscription.previewUpgrade", { packageId: pro.id });
    expect(preview.error).toBeUndefined();
    const { prorationDate, totalDueNowCents } = preview.data as {
      prorationDate: Date;
      totalDueNowCents: number;
    };
    expect(totalDueNowCents).toBeGreaterThan(0);

    await addFault({
      method: "POST",
      path: "^/v1/subscriptions/sub_",
      kind: "reset",
      phase: "after",
      count: 3,
    });
    const failed = await trpcMutation(customer, "subscription.upgrade", { packageId: pro.id, prorationDate });
    expectTrpc503(failed);
    await expectFaultsSpent();
    const after = await local(customer);
    expect(after.subscriptions.map((s) => s.plan.name)).toEqual(["Starter"]);
    expect(after.invoices).toHaveLength(1);

    const retried = await trpcMutation(customer, "subscription.upgrade", {
      packageId: pro.id,
      prorationDate,
    });
    expect(retried.error).toBeUndefined();
    expect(retried.data).toMatchObject({ package: { name: "Pro" } });
    const stripe = await atStripe(customer);
    expect(stripe.subscriptions).toHaveLength(1);
    expect(stripe.subscriptions[0]?.items.data[0]?.price.id).toBe(pro.stripePriceId);
    const prorations = stripe.invoices.filter((i) => i.billing_reason === "subscription_update");
    expect(prorations.map((i) => [i.status, i.amount_paid])).toEqual([["paid", totalDueNowCents]]);
    expect(stripe.succeededPayments).toHaveLength(2);
    const synced = await local(customer);
    expect(synced.subscriptions.map((s) => s.plan.name)).toEqual(["Pro"]);
    expect(synced.invoices).toHaveLength(2);
  });

  it("downgrade and cancel: 500s leave nothing recorded, later actions still work, one schedule at the end", async () => {
    const customer = await signUp("downgrader");
    const [starter, pro] = [await plan("Starter"), await plan("Pro")];
    const subscribed = await restAction(customer, {
      action: "subscribe",
      package_id: pro.id,
      payment_method_id: "pm_card_visa",
    });
    expect(subscribed.status, JSON.stringify(subscribed.body)).toBe(200);

    // The schedule gets created, then setting its phases fails: Stripe keeps a schedule without a change.
    await addFault({ method: "POST", path: "^/v1/subscription_schedules/sub_sched_", status: 500, count: 3 });
    expectRest503(await restAction(customer, { action: "downgrade", package_id: starter.id }));
    await expectFaultsSpent();
    let row = (await local(customer)).subscriptions[0];
    expect(row).toMatchObject({ scheduledPlanId: null, stripeScheduleId: null, cancelAtPeriodEnd: false });

    // Cancelling must cope with that leftover schedule (Stripe refuses to cancel a scheduled subscription).
    await addFault({ method: "POST", path: "^/v1/subscriptions/sub_", status: 500, count: 3 });
    expectRest503(await restAction(customer, { action: "cancel" }));
    await expectFaultsSpent();
    row = (await local(customer)).subscriptions[0];
    expect(row?.cancelAtPeriodEnd).toBe(false);
    const cancelled = await restAction(customer, { action: "cancel" });
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(cancelled.body).toMatchObject({ subscription: { cancel_at_period_end: true } });
    expect((await atStripe(customer)).subscriptions[0]?.cancel_at_period_end).toBe(true);

    await addFault({ method: "POST", path: "^/v1/subscriptions/sub_", kind: "reset", count: 3 });
    expectRest503(await restAction(customer, { action: "resume" }));
    await expectFaultsSpent();
    expect((await local(customer)).subscriptions[0]?.cancelAtPeriodEnd).toBe(true);
    const resumed = await restAction(customer, { action: "resume" });
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(200);
    expect(resumed.body).toMatchObject({ subscription: { cancel_at_period_end: false } });

    const downgraded = await restAction(customer, { action: "downgrade", package_id: starter.id });
    expect(downgraded.status, JSON.stringify(downgraded.body)).toBe(200);
    expect(downgraded.body).toMatchObject({
      subscription: { scheduled_change: { package_name: "Starter" } },
    });
    const stripe = await atStripe(customer);
    const live = stripe.schedules.filter((s) => s.status === "active" || s.status === "not_started");
    expect(live).toHaveLength(1);
    expect(live[0]?.phases.map((p) => p.items[0]?.price)).toEqual([pro.stripePriceId, starter.stripePriceId]);
    expect(stripe.subscriptions[0]?.schedule).toBe(live[0]?.id);
    expect(stripe.paidInvoices).toHaveLength(1);
  });

  it("payment-method fix: 500s on the setup page and on its return are 503s; retries work", async () => {
    const customer = await signUp("card-fixer");
    const starter = await plan("Starter");
    const subscribed = await restAction(customer, {
      action: "subscribe",
      package_id: starter.id,
      payment_method_id: "pm_card_visa",
    });
    expect(subscribed.status, JSON.stringify(subscribed.body)).toBe(200);

    await addFault({ method: "POST", path: "^/v1/checkout/sessions$", status: 500, count: 3 });
    const input = { requestKey: "card-fixer-intent-1" };
    expectTrpc503(await trpcMutation(customer, "subscription.updatePaymentMethod", input));
    await expectFaultsSpent();
    expect((await atStripe(customer)).sessions).toEqual([]);
    const started = await trpcMutation(customer, "subscription.updatePaymentMethod", input);
    expect(started.error).toBeUndefined();
    const sessionId = String(started.data?.sessionId);
    expect((await atStripe(customer)).sessions.map((s) => s.id)).toEqual([sessionId]);

    // Stripe being down on the return is "try again", not "no such checkout session".
    await addFault({ method: "GET", path: "^/v1/checkout/sessions/cs_", status: 500, count: 3 });
    expectTrpc503(await trpcMutation(customer, "subscription.completeCheckout", { sessionId }));
    await expectFaultsSpent();
    const completed = await trpcMutation(customer, "subscription.completeCheckout", { sessionId });
    expect(completed.error).toBeUndefined();
    expect(completed.data).toMatchObject({ status: "open", subscription: { status: "active" } });
    expect((await atStripe(customer)).paidInvoices).toHaveLength(1);
  });
});

describe("Stripe hanging while overage is billed", () => {
  it("the account's ingestion goes on meanwhile, and the retry bills the range once", async () => {
    const customer = await signUp("overage-hang");
    const pro = await plan("Pro");
    const subscribed = await trpcMutation(customer, "subscription.subscribe", {
      packageId: pro.id,
      paymentMethodId: "pm_card_visa",
    });
    expect(subscribed.error).toBeUndefined();
    const subscription = await db.subscription.findFirstOrThrow({ where: { accountId: customer.accountId } });
    // In the account's time (its Stripe test clock): just after its period began.
    const startedAt = new Date(subscription.currentPeriodStart.getTime() + 1000);
    const call = (n: number, minutes: number) => ({
      callId: `overage-hang-${n}`,
      accountId: customer.accountId,
      agentId: null,
      direction: "outbound" as const,
      startedAt,
      durationSeconds: minutes * 60,
    });
    // 3,100 of Pro's 3,000 minutes: 100 to bill.
    const ingested = await ingestUsageEvents(ports, [call(1, 1440), call(2, 1440), call(3, 220)]);
    expect(ingested, JSON.stringify(ingested.results)).toMatchObject({ accepted: 3 });
    const bill = await reportOverage(ports, {
      accountId: customer.accountId,
      periodStart: subscription.currentPeriodStart,
    });
    expect(bill).toMatchObject({ fromMinutes: 0, toMinutes: 100 });

    // Stripe creates the invoice item and then never answers, on every attempt of the SDK.
    await addFault({
      method: "POST",
      path: "^/v1/invoiceitems$",
      kind: "timeout",
      phase: "after",
      count: 3,
      timeoutMs: 60_000,
    });
    let billingSettled = false;
    const billing = billOverage(ports, bill as NonNullable<typeof bill>).finally(() => {
      billingSettled = true;
    });
    billing.catch(() => undefined);
    await until("Stripe to be asked", async () => {
      const listed = (await (await fetch(`${emulator.url}/_emulator/faults`)).json()) as {
        data: { hits: number }[];
      };
      return (listed.data[0]?.hits ?? 0) >= 1;
    });
    // The same account's usage is recorded while the bill still waits for Stripe (it used to wait on the
    // period's row, locked across the Stripe call, and every account's group commit behind it).
    const more = await ingestUsageEvents(ports, [call(4, 10)]);
    expect(more).toMatchObject({ accepted: 1 });
    expect(billingSettled).toBe(false);

    // The hang ends as an outage of Stripe (the job is put back, no attempt counted)...
    const failure = await billing.then(
      () => null,
      (error: unknown) => error,
    );
    expect(classifyFailure(failure)).toEqual({ kind: "infrastructure", dependency: "stripe" });
    await expectFaultsSpent();
    // ... and its retry completes the pending claim with the same key: the item Stripe made, once.
    const retried = await billOverage(ports, bill as NonNullable<typeof bill>);
    const account = await db.account.findUniqueOrThrow({ where: { id: customer.accountId } });
    const items = (await ports.stripe.invoiceItems.list({ customer: account.stripeCustomerId ?? "" })).data;
    expect(items.map((item) => [item.id, item.amount])).toEqual([[retried?.invoiceItemId, 300]]);
  });
});

async function until(what: string, condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
