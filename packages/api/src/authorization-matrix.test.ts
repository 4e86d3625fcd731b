// The authorization matrix, enumerated from the router definitions themselves: a new procedure cannot be
// forgotten, because every one is called here as a signed-out visitor, a customer and an admin.
import { testDatabase } from "@minutely/db/vitest";
import { stripeEmulatorUrl } from "@minutely/testing";
import { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";
import type { Context, Viewer } from "./context.ts";
import { ACCOUNT_ROLES, type AccountRole, PROCEDURE_ACCESS } from "./permissions.ts";
import { adminRouter, appRouter } from "./root.ts";
import { syncCatalogToStripe } from "./services/catalog/catalog-admin.ts";
import { testPorts } from "./testing.ts";
import { createCallerFactory } from "./trpc.ts";

const { db } = await testDatabase();
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl() });
await syncCatalogToStripe(ports);

/** Procedures anyone may call. Adding one here is a deliberate decision. */
const PUBLIC_PROCEDURES = new Set(["system.status", "auth.me", "catalog.list", "invitations.preview"]);

/**
 * For every account-scoped customer procedure, a probe run as a customer of account A while account B has
 * data: either an input that points at B's data (the call must be refused: FORBIDDEN, NOT_FOUND or
 * BAD_REQUEST), or, for procedures without such an input, a check that the result shows A's data only.
 */
type Probe =
  | { input: (b: AccountFixture) => unknown; mayActOnOwnAccount?: boolean; alsoRefusedWith?: string }
  | { input?: undefined; check: (result: unknown, a: AccountFixture, b: AccountFixture) => void };

interface AccountFixture {
  accountId: string;
  userId: string;
  planId: string | null;
}

const CROSS_ACCOUNT_PROBES: Record<string, Probe> = {
  "apiKeys.list": { check: (result) => expect((result as { keys: unknown[] }).keys).toEqual([]) },
  // Creating a key acts on the caller's own account (and A's package has no API access anyway).
  "apiKeys.create": { input: () => ({ name: "probe" }), mayActOnOwnAccount: true },
  "apiKeys.revoke": { input: () => ({ id: apiKeyOfB.id }) },
  "subscription.overview": {
    check: (result) => expect((result as { status: string }).status).toBe("none"),
  },
  "subscription.invoices": { check: (result) => expect(result).toEqual([]) },
  // One invoice with its documents: B's invoice id is unknown to A (no IDOR through the id).
  "subscription.invoice": { input: () => ({ invoiceId: invoicesOfB[0]?.id }) },
  "subscription.credits": { check: (result) => expect(result).toEqual([]) },
  // The billing address and tax ID are the caller's own Stripe customer's: none (or the one A's own
  // updateTaxDetails probe set), never B's.
  "subscription.taxDetails": {
    check: (result) => {
      const view = result as { address: { country: string } | null; taxId: unknown };
      expect(view.taxId).toBeNull();
      expect([null, "FR"]).toContain(view.address?.country ?? null);
    },
  },
  // Setting them acts on the caller's own account only (its own Stripe customer).
  "subscription.updateTaxDetails": {
    input: () => ({
      address: { country: "FR", line1: null, line2: null, city: null, state: null, postalCode: null },
      taxId: null,
      requestKey: "probe-tax-details",
    }),
    mayActOnOwnAccount: true,
  },
  // The stream is always the caller's own account: an account id in the input is refused.
  "live.usage": { input: (b) => ({ accountId: b.accountId }) },
  // Subscribing acts on the caller's own account only (B's subscription is checked unchanged below).
  "subscription.subscribe": { input: (b) => ({ packageId: b.planId }), mayActOnOwnAccount: true },
  "subscription.completeCheckout": { input: () => ({ sessionId: "cs_of_account_b" }) },
  "subscription.previewUpgrade": { input: (b) => ({ packageId: b.planId }) },
  // A code is the same for every account: naming another account is refused (strict input).
  "subscription.checkPromotionCode": {
    input: (b) => ({ packageId: b.planId, code: "SPRING", accountId: b.accountId }),
  },
  "subscription.upgrade": { input: (b) => ({ packageId: b.planId, prorationDate: new Date() }) },
  "subscription.downgrade": { input: (b) => ({ packageId: b.planId }) },
  "subscription.cancelScheduledChange": { input: () => undefined },
  "subscription.cancel": { input: () => undefined },
  "subscription.resume": { input: () => undefined },
  // A has no subscription: pausing and resuming act on the caller's own account only (refused / nothing to do).
  "subscription.pause": { input: () => ({ periods: 1 }) },
  "subscription.resumePause": { input: () => undefined, mayActOnOwnAccount: true },
  "subscription.updatePaymentMethod": { input: () => ({ requestKey: "probe-key-1" }) },
  "catalog.selection": {
    check: (result) => {
      const selection = result as { currentPackageId: string | null; needsPackageSelection: boolean };
      expect(selection.currentPackageId).toBeNull();
      expect(selection.needsPackageSelection).toBe(true);
    },
  },
  // Metering: A has no subscription; B has usage, an alert, a custom threshold and agents (see below).
  "usage.current": { check: (result) => expect(result).toBeNull() },
  "usage.daily": { input: (b) => ({ accountId: b.accountId }) },
  "usage.byAgent": { input: (b) => ({ accountId: b.accountId }) },
  "usage.byDirection": { input: (b) => ({ accountId: b.accountId }) },
  "alerts.list": { check: (result) => expect(result).toEqual([]) },
  "alerts.dismiss": { input: () => ({ id: meteringOfB.alertId }) },
  "alerts.thresholds.list": { check: (result) => expect(result).toMatchObject({ custom: [] }) },
  "alerts.thresholds.set": { input: (b) => ({ percent: 60, accountId: b.accountId }) },
  "alerts.thresholds.remove": { input: () => ({ percent: 50 }) },
  // The overage budget is the caller's own: A has no subscription (none to show; setting one is refused) and
  // an account id in the input is an unknown key.
  "spendCap.get": { check: (result) => expect(result).toMatchObject({ cap: null, available: false }) },
  "spendCap.set": { input: (b) => ({ amountCents: 100, currency: "usd", accountId: b.accountId }) },
  // Minute packs: the catalog is the same for everyone; the ledger, the auto top-up and purchases are the
  // caller's own (A has none; an account id in the input is an unknown key).
  "packs.list": { check: (result) => expect(Array.isArray(result)).toBe(true) },
  "packs.ledger": {
    check: (result) =>
      expect(result).toMatchObject({ totals: { bought: 0, used: 0 }, balance: { minutes: 0 }, grants: [] }),
  },
  "packs.autoTopUp.get": { check: (result) => expect(result).toMatchObject({ thisMonth: [] }) },
  "packs.autoTopUp.set": { input: (b) => ({ settings: null, accountId: b.accountId }) },
  "packs.buyWithCheckout": { input: (b) => ({ packId: b.accountId, accountId: b.accountId }) },
  "packs.buyWithSavedCard": { input: (b) => ({ packId: b.accountId, accountId: b.accountId }) },
  "agents.list": { check: (result) => expect(result).toMatchObject({ agents: [], allowed: 0 }) },
  "agents.create": { input: (b) => ({ name: "Intruder", accountId: b.accountId }) },
  "agents.rename": { input: () => ({ id: meteringOfB.agentId, name: "Renamed by A" }) },
  "agents.deactivate": { input: () => ({ id: meteringOfB.agentId }) },
  "agents.activate": { input: () => ({ id: meteringOfB.inactiveAgentId }) },
  // The dashboard composes every read above: A's own account, none of B's subscription, usage, agents,
  // alerts or invoices.
  "dashboard.get": {
    check: (result, a) =>
      expect(result).toMatchObject({
        account: { id: a.accountId },
        user: { id: a.userId },
        subscription: { status: "none" },
        needsPackageSelection: true,
        usage: null,
        daily: [],
        agents: { active: 0, total: 0, allowed: 0 },
        alerts: [],
        invoices: [],
        forecast: null,
        entitlements: { hasAccess: false, analytics: false },
      }),
  },
  "analytics.overview": { input: (b) => ({ accountId: b.accountId }) },
  // The Integration page: A's own account id and none of B's agents.
  // Sessions are the user's own: B's session is neither listed, nor ended (checked unchanged below).
  "sessions.list": { check: (result) => expect(result).toEqual([]) },
  "sessions.revoke": { input: () => ({ sessionId: sessionOfB.id }) },
  "sessions.revokeOthers": { input: () => undefined, mayActOnOwnAccount: true },
  "accountSettings.get": {
    check: (result) =>
      expect(result).toMatchObject({ name: "a@example.com's account", invoicesTo: "a@example.com" }),
  },
  "accountSettings.update": { input: (b) => ({ name: "Renamed by A", accountId: b.accountId }) },
  // The team is the caller's active account's; B's members, invitations and ownership are out of reach.
  "team.list": {
    check: (result, a) =>
      expect((result as { members: { userId: string }[] }).members.map((m) => m.userId)).toEqual([a.userId]),
  },
  "team.invite": { input: (b) => ({ email: "x@example.com", role: "member", accountId: b.accountId }) },
  "team.resendInvitation": { input: () => ({ invitationId: invitationOfB.id }) },
  "team.revokeInvitation": { input: () => ({ invitationId: invitationOfB.id }) },
  "team.changeRole": { input: (b) => ({ userId: b.userId, role: "member" }) },
  "team.remove": { input: (b) => ({ userId: b.userId }) },
  // The owner of A cannot leave A; nothing of B is named.
  "team.leave": { input: () => undefined, alsoRefusedWith: "CONFLICT" },
  "team.transferOwnership": { input: (b) => ({ userId: b.userId }) },
  // A user's own memberships; switching into B (not a member) is refused.
  "memberships.list": {
    check: (result, a) =>
      expect((result as { accountId: string }[]).map((m) => m.accountId)).toEqual([a.accountId]),
  },
  "memberships.switch": { input: (b) => ({ accountId: b.accountId }) },
  // Accepting needs the invited address: B's invitation token is not A's (and the stored hash is no token).
  "invitations.accept": { input: () => ({ token: invitationOfB.tokenHash }) },
  // Deleting names no account: A typing B's company name deletes nothing (A's own name does not match).
  "accountSettings.delete": { input: () => ({ confirmation: "b@example.com's account" }) },
  "integration.get": {
    check: (result, a) =>
      expect(result).toMatchObject({ account: { id: a.accountId }, agents: [], subscribed: false }),
  },
};

type Caller = Record<string, unknown>;

function procedurePaths(router: { _def: { procedures: Record<string, unknown> } }): string[] {
  return Object.keys(router._def.procedures).sort();
}

async function call(caller: Caller, path: string, input?: unknown): Promise<unknown> {
  let target: unknown = caller;
  for (const segment of path.split(".")) target = (target as Record<string, unknown>)[segment];
  return await (target as (input: unknown) => Promise<unknown>)(input);
}

async function errorCodeOf(promise: Promise<unknown>): Promise<string | "OK"> {
  try {
    await promise;
    return "OK";
  } catch (error) {
    if (error instanceof TRPCError) return error.code;
    throw error;
  }
}

async function createCustomer(email: string): Promise<Viewer> {
  const account = await db.account.create({ data: { name: `${email}'s account` } });
  const user = await db.user.create({
    data: { email, name: email, memberships: { create: { accountId: account.id, role: "owner" } } },
  });
  return { userId: user.id, email, name: email, role: "user", accountId: account.id };
}

function context(viewer: Viewer | null): Context {
  return { ...ports, viewer, requestId: "test" };
}

const customerA = await createCustomer("a@example.com");
const customerB = await createCustomer("b@example.com");
// Account B has a subscription (and, as features land, agents, usage, invoices...); A has none.
const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
await db.subscription.create({
  data: {
    accountId: customerB.accountId ?? "",
    stripeSubscriptionId: "sub_matrix_b",
    planId: pro.id,
    stripePriceId: "price_matrix_b",
    status: "active",
    currentPeriodStart: new Date("2026-11-01T00:00:00Z"),
    currentPeriodEnd: new Date("2026-12-01T00:00:00Z"),
  },
});
await db.billingHistory.create({
  data: {
    accountId: customerB.accountId ?? "",
    stripeInvoiceId: "in_matrix_b",
    status: "paid",
    currency: "usd",
    subtotalCents: 9900,
    totalCents: 9900,
    amountDueCents: 9900,
    amountPaidCents: 9900,
    issuedAt: new Date("2026-11-01T00:00:00Z"),
  },
});
const subscriptionsOfB = await db.subscription.findMany({ where: { accountId: customerB.accountId ?? "" } });
const invoicesOfB = await db.billingHistory.findMany({ where: { accountId: customerB.accountId ?? "" } });
const fixtureA: AccountFixture = {
  accountId: customerA.accountId ?? "",
  userId: customerA.userId,
  planId: null,
};
const fixtureB: AccountFixture = {
  accountId: customerB.accountId ?? "",
  userId: customerB.userId,
  planId: pro.id,
};
const admin: Viewer = { ...(await createCustomer("admin@example.com")), role: "admin" };

const apiKeyOfB = await db.apiKey.create({
  data: {
    accountId: fixtureB.accountId,
    name: "B's key",
    nameKey: "b's key",
    prefix: "mk_b0b0b0b0",
    keyHash: "b".repeat(64),
  },
});

// Account B's metering data, which no probe of account A may see or change.
const agentOfB = await db.agent.create({ data: { accountId: fixtureB.accountId, name: "B's agent" } });
const inactiveAgentOfB = await db.agent.create({
  data: { accountId: fixtureB.accountId, name: "B's old agent", active: false },
});
const alertOfB = await db.usageAlert.create({
  data: {
    accountId: fixtureB.accountId,
    periodStart: new Date("2026-11-01T00:00:00Z"),
    thresholdPercent: 80,
    kind: "threshold",
    minutesUsed: 2400,
    minutesLimit: 3000,
    message: "B used 80%",
  },
});
await db.alertThreshold.create({ data: { accountId: fixtureB.accountId, percent: 50 } });
const sessionOfB = await db.session.create({
  data: {
    userId: fixtureB.userId,
    token: "matrix-session-of-b",
    expiresAt: new Date("2099-01-01T00:00:00Z"),
  },
});
const invitationOfB = await db.accountInvitation.create({
  data: {
    accountId: fixtureB.accountId,
    email: "invitee-of-b@example.com",
    role: "member",
    tokenHash: "c".repeat(64),
    expiresAt: new Date("2099-01-01T00:00:00Z"),
    sentAt: new Date("2026-11-01T00:00:00Z"),
  },
});
const meteringOfB = { agentId: agentOfB.id, inactiveAgentId: inactiveAgentOfB.id, alertId: alertOfB.id };
const meteringSnapshotOfB = async () => ({
  agents: await db.agent.findMany({ where: { accountId: fixtureB.accountId }, orderBy: { name: "asc" } }),
  alerts: await db.usageAlert.findMany({ where: { accountId: fixtureB.accountId } }),
  thresholds: await db.alertThreshold.findMany({ where: { accountId: fixtureB.accountId } }),
});
const meteringOfBBefore = await meteringSnapshotOfB();

const appCaller = (viewer: Viewer | null) =>
  createCallerFactory(appRouter)(context(viewer)) as unknown as Caller;
const adminCaller = (viewer: Viewer | null) =>
  createCallerFactory(adminRouter)(context(viewer)) as unknown as Caller;

describe("authorization matrix", () => {
  const appPaths = procedurePaths(appRouter);
  const adminPaths = procedurePaths(adminRouter);

  it("finds the procedures of both routers", () => {
    expect(appPaths.length).toBeGreaterThanOrEqual(3);
    expect(adminPaths.length).toBeGreaterThanOrEqual(2);
    for (const path of PUBLIC_PROCEDURES) expect(appPaths).toContain(path);
  });

  it.each(appPaths.filter((p) => !PUBLIC_PROCEDURES.has(p)))(
    "customer %s: UNAUTHORIZED when signed out",
    async (path) => {
      expect(await errorCodeOf(call(appCaller(null), path))).toBe("UNAUTHORIZED");
    },
  );

  it.each(adminPaths)("admin %s: UNAUTHORIZED signed out, FORBIDDEN for a customer", async (path) => {
    expect(await errorCodeOf(call(adminCaller(null), path))).toBe("UNAUTHORIZED");
    expect(await errorCodeOf(call(adminCaller(customerA), path))).toBe("FORBIDDEN");
  });

  it.each(adminPaths)("admin %s: passes authorization for an admin", async (path) => {
    const code = await errorCodeOf(call(adminCaller(admin), path));
    expect(["UNAUTHORIZED", "FORBIDDEN"]).not.toContain(code);
  });

  it("has a cross-account probe for every account-scoped customer procedure", () => {
    const scoped = appPaths.filter((p) => !PUBLIC_PROCEDURES.has(p));
    expect(Object.keys(CROSS_ACCOUNT_PROBES).sort()).toEqual(scoped);
  });

  it.each(Object.entries(CROSS_ACCOUNT_PROBES))(
    "customer %s: account A cannot reach account B",
    async (path, probe) => {
      if (probe.input) {
        const code = await errorCodeOf(call(appCaller(customerA), path, probe.input(fixtureB)));
        const refused = ["FORBIDDEN", "NOT_FOUND", "BAD_REQUEST", "PRECONDITION_FAILED"];
        if (probe.alsoRefusedWith) refused.push(probe.alsoRefusedWith);
        expect(probe.mayActOnOwnAccount ? [...refused, "OK"] : refused).toContain(code);
      } else {
        probe.check(await call(appCaller(customerA), path), fixtureA, fixtureB);
      }
    },
  );

  it("leaves account B's API key as it was after every probe", async () => {
    expect(await db.apiKey.findUniqueOrThrow({ where: { id: apiKeyOfB.id } })).toEqual(apiKeyOfB);
  });

  it("leaves account B's subscription and invoices exactly as they were after every probe", async () => {
    expect(await db.subscription.findMany({ where: { accountId: fixtureB.accountId } })).toEqual(
      subscriptionsOfB,
    );
    expect(await db.billingHistory.findMany({ where: { accountId: fixtureB.accountId } })).toEqual(
      invoicesOfB,
    );
  });

  it("leaves account B's agents, alerts and thresholds exactly as they were after every probe", async () => {
    expect(await meteringSnapshotOfB()).toEqual(meteringOfBBefore);
  });

  it("leaves account B's team and invitation as they were after every probe", async () => {
    expect(await db.accountInvitation.findUniqueOrThrow({ where: { id: invitationOfB.id } })).toEqual(
      invitationOfB,
    );
    expect(await db.accountMember.findMany({ where: { accountId: fixtureB.accountId } })).toMatchObject([
      { userId: fixtureB.userId, role: "owner" },
    ]);
  });

  it("leaves user B's session as it was after every probe", async () => {
    expect(await db.session.findUniqueOrThrow({ where: { id: sessionOfB.id } })).toEqual(sessionOfB);
  });

  it("auth.me shows each customer their own account only", async () => {
    const meA = (await call(appCaller(customerA), "auth.me")) as { account: { id: string } | null };
    const meB = (await call(appCaller(customerB), "auth.me")) as { account: { id: string } | null };
    expect(meA.account?.id).toBe(customerA.accountId);
    expect(meB.account?.id).toBe(customerB.accountId);
    expect(await call(appCaller(null), "auth.me")).toBeNull();
  });
});

// The role axis: every customer procedure is in the role table (permissions.ts), and a member of each role
// is refused exactly the procedures the table does not give that role. The probes send an input no
// procedure accepts, so a procedure the role may call answers BAD_REQUEST (it is never run).
const teamAccount = await db.account.create({ data: { name: "Role matrix" } });
const members = Object.fromEntries(
  await Promise.all(
    ACCOUNT_ROLES.map(async (role) => {
      const email = `role-${role}@example.com`;
      const user = await db.user.create({
        data: { email, name: email, memberships: { create: { accountId: teamAccount.id, role } } },
      });
      const viewer: Viewer = { userId: user.id, email, name: email, role: "user", accountId: teamAccount.id };
      return [role, viewer] as const;
    }),
  ),
) as Record<AccountRole, Viewer>;
const accountless = await db.user.create({ data: { email: "no-account@example.com", name: "No account" } });
const accountlessViewer: Viewer = {
  userId: accountless.id,
  email: accountless.email,
  name: accountless.name,
  role: "user",
  accountId: null,
};
const NO_INPUT_ACCEPTS_THIS = { roleMatrixProbe: true };

async function refusalOf(promise: Promise<unknown>): Promise<string> {
  try {
    const result = await promise;
    // A subscription answers an async iterable before its input is judged: read its first message.
    if (result && typeof result === "object" && Symbol.asyncIterator in result) {
      const iterator = (result as AsyncIterable<unknown>)[Symbol.asyncIterator]();
      await iterator.next();
      await iterator.return?.();
    }
    return "OK";
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error;
    return error.code === "FORBIDDEN" ? `FORBIDDEN: ${error.message}` : error.code;
  }
}

describe("authorization matrix: roles", () => {
  const appPaths = procedurePaths(appRouter);

  it("has every customer procedure in the role table, and nothing else", () => {
    const missing = appPaths.filter((p) => !Object.hasOwn(PROCEDURE_ACCESS, p));
    const stale = Object.keys(PROCEDURE_ACCESS).filter((p) => !appPaths.includes(p));
    expect({ missing, stale }).toEqual({ missing: [], stale: [] });
  });

  it("public procedures are the table's public ones", () => {
    const publicInTable = Object.entries(PROCEDURE_ACCESS)
      .filter(([, access]) => access === "public")
      .map(([path]) => path);
    expect(publicInTable.sort()).toEqual([...PUBLIC_PROCEDURES].sort());
  });

  const userPaths = Object.entries(PROCEDURE_ACCESS)
    .filter(([, access]) => access === "user")
    .map(([path]) => path);
  it.each(userPaths)("user %s: any signed-in user, also one without an account", async (path) => {
    const code = await refusalOf(call(appCaller(accountlessViewer), path, NO_INPUT_ACCEPTS_THIS));
    expect(code).toBe("BAD_REQUEST");
  });

  const cells = Object.entries(PROCEDURE_ACCESS).flatMap(([path, access]) =>
    Array.isArray(access)
      ? ACCOUNT_ROLES.map((role) => [path, role, (access as readonly AccountRole[]).includes(role)] as const)
      : [],
  );
  it.each(cells)("%s as %s: allowed %s", async (path, role, allowed) => {
    const code = await refusalOf(call(appCaller(members[role]), path, NO_INPUT_ACCEPTS_THIS));
    if (allowed) expect(code).toBe("BAD_REQUEST");
    else
      expect(code).toBe(
        `FORBIDDEN: Your role in this account (${role}) does not allow this. Ask the account owner or an admin.`,
      );
  });

  it("refuses account procedures to a user with no account, and to one no longer a member", async () => {
    expect(await refusalOf(call(appCaller(accountlessViewer), "dashboard.get"))).toBe(
      "FORBIDDEN: This user has no customer account.",
    );
    const former: Viewer = { ...accountlessViewer, accountId: teamAccount.id };
    expect(await refusalOf(call(appCaller(former), "dashboard.get"))).toBe(
      "FORBIDDEN: You are not a member of this account.",
    );
  });
});
