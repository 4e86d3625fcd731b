// One answer per user intent (idempotency.ts). The table part enumerates every mutation of both routers (so a
// new one is covered without editing this file, and fails here until it takes the key) and checks, over
// tRPC's HTTP handler, that each declares `requestKey`, replays a stored answer for the same key and input
// without running, and refuses the same key with another input (409 naming requestKey). The rest runs real
// mutations: concurrent duplicates, failures that store nothing, and the sealed secret of a new API key.

import { isDeepStrictEqual } from "node:util";
import { testDatabase } from "@minutely/db/vitest";
import { stripeEmulatorUrl } from "@minutely/testing";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import superjson from "superjson";
import { describe, expect, it } from "vitest";
import type { Context, Viewer } from "./context.ts";
import { inputHashOf } from "./idempotency.ts";
import { adminRouter, appRouter } from "./root.ts";
import { testPorts } from "./testing.ts";

const { db } = await testDatabase();
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl() });

async function createUser(email: string, role: "user" | "admin", sessionId?: string): Promise<Viewer> {
  const account = await db.account.create({ data: { name: `${email}'s account` } });
  const user = await db.user.create({
    data: { email, name: email, memberships: { create: { accountId: account.id, role: "owner" } }, role },
  });
  return { userId: user.id, email, name: email, role, accountId: account.id, sessionId };
}

const customer = await createUser("intents-customer@example.com", "user");
const admin = await createUser("intents-admin@example.com", "admin");

type AnyRouter = typeof appRouter | typeof adminRouter;

function mutations(router: AnyRouter): string[] {
  return Object.entries(router._def.procedures as unknown as Record<string, { _def: { type: string } }>)
    .filter(([, procedure]) => procedure._def.type === "mutation")
    .map(([path]) => path)
    .sort();
}

/** One call through tRPC's HTTP handler (the server's error formatting), as `viewer`. */
async function call(router: AnyRouter, viewer: Viewer, path: string, input: unknown) {
  const response = await fetchRequestHandler({
    endpoint: "/trpc",
    req: new Request(`http://localhost/trpc/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(superjson.serialize(input)),
    }),
    router,
    createContext: (): Context => ({ ...ports, viewer, requestId: "idempotency" }),
  });
  const body = (await response.json()) as {
    result?: { data: Parameters<typeof superjson.deserialize>[0] };
    error?: { json: { message: string; data: { code: string; fieldErrors: Record<string, string> | null } } };
  };
  return {
    status: response.status,
    data: body.result ? superjson.deserialize(body.result.data) : undefined,
    error: body.error?.json,
  };
}

const someId = "00000000-0000-4000-8000-000000000001";
const packageValues = {
  name: "Intent",
  description: "",
  monthlyPriceCents: 100,
  currency: "usd",
  callMinutesLimit: 10,
  agentsAllowed: 1,
  analyticsAccess: false,
  apiAccess: false,
  overagePriceCentsPerMinute: null,
  recommended: false,
};

/** A valid input of every mutation (as its schema leaves it: trimmed, defaults filled). */
const INPUTS: Record<string, unknown> = {
  "agents.activate": { id: someId },
  "agents.create": { name: "Reception" },
  "agents.deactivate": { id: someId },
  "agents.rename": { id: someId, name: "Front desk" },
  "alerts.dismiss": { id: someId },
  "alerts.thresholds.remove": { percent: 50 },
  "alerts.thresholds.set": { percent: 50 },
  "apiKeys.create": { name: "CI" },
  "apiKeys.revoke": { id: someId },
  "sessions.revoke": { sessionId: someId },
  "accountSettings.update": { name: "Acme Calls" },
  "accountSettings.delete": { confirmation: "Acme Calls" },
  "sessions.revokeOthers": {},
  "team.invite": { email: "new@example.com", role: "member" },
  "team.resendInvitation": { invitationId: someId },
  "team.revokeInvitation": { invitationId: someId },
  "team.changeRole": { userId: someId, role: "billing" },
  "team.remove": { userId: someId },
  "team.leave": {},
  "team.transferOwnership": { userId: someId },
  "memberships.switch": { accountId: someId },
  "invitations.accept": { token: "a".repeat(43) },
  "customers.resendInvitation": { accountId: someId, invitationId: someId },
  "spendCap.set": { amountCents: 5000, currency: "usd" },
  "packs.autoTopUp.set": { settings: { packId: someId, thresholdMinutes: 100, maxPerMonth: 2 } },
  "packs.buyWithCheckout": { packId: someId },
  "packs.buyWithSavedCard": { packId: someId },
  "subscription.cancel": {},
  "subscription.cancelScheduledChange": {},
  "subscription.completeCheckout": { sessionId: "cs_intent" },
  "subscription.downgrade": { packageId: someId },
  "subscription.resume": {},
  "subscription.pause": { periods: 1 },
  "subscription.resumePause": {},
  "subscription.subscribe": { packageId: someId, currency: "usd" },
  "subscription.updatePaymentMethod": {},
  "subscription.updateTaxDetails": {
    address: { country: "FR", line1: null, line2: null, city: null, state: null, postalCode: null },
    taxId: null,
  },
  "subscription.upgrade": { packageId: someId, prorationDate: new Date("2026-11-27T12:00:00Z") },
  "billingClock.advance": { accountId: someId, to: new Date("2026-12-27T12:00:00Z") },
  "billingClock.setCard": { accountId: someId, card: "failing" },
  "coupons.applyToSubscription": { accountId: someId, couponId: someId },
  "coupons.archive": { id: someId },
  "coupons.archiveCode": { id: someId },
  "coupons.create": {
    name: "Spring",
    percentOff: 20,
    amountOffCents: null,
    currency: null,
    duration: "once",
    durationInMonths: null,
    redeemBy: null,
    maxRedemptions: null,
    packageIds: [],
  },
  "coupons.createCode": { couponId: someId, code: "SPRING", expiresAt: null, maxRedemptions: null },
  "coupons.sync": { id: someId },
  "packs.archive": { id: someId },
  "packs.create": {
    name: "1,000 minutes",
    minutes: 1000,
    priceCents: 2500,
    currency: "usd",
    validityMonths: 12,
  },
  "packs.sync": { id: someId },
  "jobs.replay": { id: "123456" },
  "customers.pause": { accountId: someId, periods: null },
  "customers.adjust": {
    accountId: someId,
    kind: "balance_credit",
    amountCents: 100,
    currency: "usd",
    reason: "Sorry for the wait",
  },
  "customers.resumePause": { accountId: someId },
  "customers.resendVerification": { accountId: someId, userId: someId },
  "packages.archive": { id: someId },
  "packages.create": packageValues,
  "packages.reorder": { ids: [someId] },
  "packages.sync": { id: someId },
  "packages.unarchive": { id: someId },
  "packages.update": { id: someId, values: packageValues },
  "webhooks.replay": { id: "evt_intent" },
};

/** Stores a finished answer for (viewer, path, key) as the first request would have. */
async function storeAnswer(viewer: Viewer, path: string, key: string, input: unknown, answer: unknown) {
  await db.idempotentRequest.create({
    data: {
      userId: viewer.userId,
      procedure: path,
      key,
      inputHash: inputHashOf(input),
      holder: null,
      leaseExpiresAt: new Date(),
      result: superjson.serialize(answer) as object,
      completedAt: new Date(),
      expiresAt: new Date(Date.now() + 3_600_000),
    },
  });
}

describe("every mutation takes an idempotency key (requestKey)", () => {
  const routers = [
    { name: "app", router: appRouter as AnyRouter, viewer: customer },
    { name: "admin", router: adminRouter as AnyRouter, viewer: admin },
  ];

  it("has an input for every mutation of both routers", () => {
    const all = [...mutations(appRouter), ...mutations(adminRouter)];
    expect(all.length).toBeGreaterThanOrEqual(26);
    expect(all.filter((path) => !(path in INPUTS))).toEqual([]);
  });

  it.each(routers)(
    "declares and checks requestKey on every mutation of the $name router",
    async ({ router, viewer }) => {
      const wrong: string[] = [];
      for (const path of mutations(router)) {
        const { status, error } = await call(router, viewer, path, {
          ...(INPUTS[path] as object),
          requestKey: "no!",
        });
        if (status !== 400 || error?.data.fieldErrors?.requestKey === undefined) {
          wrong.push(`${path}: ${status} ${JSON.stringify(error ?? "no error")}`);
        }
      }
      expect(wrong).toEqual([]);
    },
  );

  it.each(routers)(
    "replays the first answer for the same key and input, without running: $name router",
    async ({ router, viewer }) => {
      const wrong: string[] = [];
      for (const path of mutations(router)) {
        const key = `replay-${path.replaceAll(".", "-")}`;
        const input = INPUTS[path] as object;
        await storeAnswer(viewer, path, key, input, {
          firstAnswerOf: path,
          at: new Date("2026-11-27T12:00:00Z"),
        });
        const { status, data, error } = await call(router, viewer, path, { ...input, requestKey: key });
        const expected = { firstAnswerOf: path, at: new Date("2026-11-27T12:00:00Z") };
        if (status !== 200 || !isDeepStrictEqual(data, expected)) {
          wrong.push(`${path}: ${status} ${JSON.stringify(data ?? error)}`);
        }
      }
      expect(wrong).toEqual([]);
    },
  );

  it.each(routers)(
    "refuses the same key with another input (409 naming requestKey): $name router",
    async ({ router, viewer }) => {
      const wrong: string[] = [];
      for (const path of mutations(router)) {
        const key = `other-${path.replaceAll(".", "-")}`;
        await storeAnswer(viewer, path, key, { somethingElse: true }, { firstAnswerOf: path });
        const { status, error } = await call(router, viewer, path, {
          ...(INPUTS[path] as object),
          requestKey: key,
        });
        if (status !== 409 || error?.data.code !== "CONFLICT" || !error.data.fieldErrors?.requestKey) {
          wrong.push(`${path}: ${status} ${JSON.stringify(error ?? "no error")}`);
        }
      }
      expect(wrong).toEqual([]);
    },
  );

  it("keeps one user's key apart from another's", async () => {
    const other = await createUser("intents-other@example.com", "user");
    await storeAnswer(customer, "alerts.thresholds.set", "shared-key-1", { percent: 55 }, { mine: true });
    const { status, data } = await call(appRouter, other, "alerts.thresholds.set", {
      percent: 55,
      requestKey: "shared-key-1",
    });
    expect(status).toBe(200);
    expect(data).not.toEqual({ mine: true });
  });
});

describe("real mutations with a key", () => {
  it("runs concurrent duplicates once: every caller gets the first answer", async () => {
    const viewer = await createUser("intents-double@example.com", "user");
    const input = { percent: 65, requestKey: "double-click-1" };
    const answers = await Promise.all(
      [1, 2, 3].map(() => call(appRouter, viewer, "alerts.thresholds.set", input)),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers[1]?.data).toEqual(answers[0]?.data);
    expect(answers[2]?.data).toEqual(answers[0]?.data);
    const stored = await db.idempotentRequest.findMany({ where: { userId: viewer.userId } });
    expect(stored).toHaveLength(1);
    expect(stored[0]?.completedAt).not.toBeNull();
    expect(stored[0]?.holder).toBeNull();
  });

  it("stores nothing when the first attempt fails: a retry with the same key runs again", async () => {
    const viewer = await createUser("intents-retry@example.com", "user");
    // No package yet: creating an agent is refused, and the refusal is not kept for the key.
    const first = await call(appRouter, viewer, "agents.create", { name: "Ann", requestKey: "retry-key-1" });
    expect(first.status).toBe(412);
    expect(await db.idempotentRequest.count({ where: { userId: viewer.userId } })).toBe(0);
    const plan = await db.subscriptionPlan.findFirstOrThrow({ where: { name: "Pro" } });
    await db.subscription.create({
      data: {
        accountId: viewer.accountId ?? "",
        planId: plan.id,
        status: "active",
        stripeSubscriptionId: "sub_intents_retry",
        stripePriceId: plan.stripePriceId ?? "price_intents",
        currentPeriodStart: new Date("2026-11-01T00:00:00Z"),
        currentPeriodEnd: new Date("2026-12-01T00:00:00Z"),
      },
    });
    const retry = await call(appRouter, viewer, "agents.create", { name: "Ann", requestKey: "retry-key-1" });
    expect(retry.status).toBe(200);
    const again = await call(appRouter, viewer, "agents.create", { name: "Ann", requestKey: "retry-key-1" });
    expect(again.data).toEqual(retry.data);
    expect(await db.agent.count({ where: { accountId: viewer.accountId ?? "" } })).toBe(1);
  });

  it("seals a new API key's secret: shown again only to the same session, within the window", async () => {
    const plan = await db.subscriptionPlan.findFirstOrThrow({ where: { name: "Enterprise" } });
    const viewer = await createUser(
      "intents-keys@example.com",
      "user",
      "00000000-0000-4000-8000-00000000aaaa",
    );
    await db.subscription.create({
      data: {
        accountId: viewer.accountId ?? "",
        planId: plan.id,
        status: "active",
        stripeSubscriptionId: "sub_intents_keys",
        stripePriceId: plan.stripePriceId ?? "price_intents",
        currentPeriodStart: new Date("2026-11-01T00:00:00Z"),
        currentPeriodEnd: new Date("2026-12-01T00:00:00Z"),
      },
    });
    const input = { name: "Deploy", requestKey: "create-key-1" };
    const [a, b] = await Promise.all([
      call(appRouter, viewer, "apiKeys.create", input),
      call(appRouter, viewer, "apiKeys.create", input),
    ]);
    type Created = { key: string | null; apiKey: { id: string } };
    const first = a?.data as Created;
    const second = b?.data as Created;
    expect(a?.status).toBe(200);
    expect(b?.status).toBe(200);
    expect(second.apiKey.id).toBe(first.apiKey.id);
    expect(second.key).toBe(first.key);
    expect(first.key).toMatch(/^mk_/);
    expect(await db.apiKey.count({ where: { accountId: viewer.accountId ?? "" } })).toBe(1);

    // The stored answer holds no readable secret.
    const row = await db.idempotentRequest.findFirstOrThrow({ where: { userId: viewer.userId } });
    expect(JSON.stringify(row.result)).not.toContain(first.key?.slice(12));

    // Another session of the same user: the same key, without its secret.
    const elsewhere = { ...viewer, sessionId: "00000000-0000-4000-8000-00000000bbbb" };
    const fromElsewhere = await call(appRouter, elsewhere, "apiKeys.create", input);
    expect(fromElsewhere.status).toBe(200);
    expect(fromElsewhere.data).toMatchObject({ key: null, apiKey: { id: first.apiKey.id } });

    // The same session after the window: no secret either.
    await db.idempotentRequest.updateMany({
      where: { userId: viewer.userId },
      data: { completedAt: new Date(Date.now() - 11 * 60_000) },
    });
    const later = await call(appRouter, viewer, "apiKeys.create", input);
    expect(later.data).toMatchObject({ key: null, apiKey: { id: first.apiKey.id } });

    // Another name with the same key: refused, naming the key.
    const changed = await call(appRouter, viewer, "apiKeys.create", { ...input, name: "Other" });
    expect(changed.status).toBe(409);
    expect(changed.error?.data.fieldErrors).toMatchObject({ requestKey: expect.any(String) });
    expect(changed.error?.message).toContain("requestKey");
  });
});
