// The metering procedures through the routers, as the SPAs call them: validation, the caller's account,
// error codes and messages, and the admin views.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";
import type { Context, Viewer } from "../context.ts";
import { adminRouter, appRouter } from "../root.ts";
import {
  callEvent,
  createAccount,
  createAgentRows,
  runQueuedJobs,
  subscribe,
} from "../services/metering/metering.fixtures.ts";
import { ingestUsageEvents } from "../services/metering/usage-ingest.ts";
import { testPorts } from "../testing.ts";
import { createCallerFactory } from "../trpc.ts";

const { db, url } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });

function context(viewer: Viewer): Context {
  return { ...ports, viewer, requestId: "test" };
}

async function customer(plan: "Starter" | "Pro" | null = "Pro") {
  const { accountId, ownerEmail, userId } = await createAccount(db);
  if (plan) await subscribe(db, accountId, { plan });
  const viewer: Viewer = { userId, email: ownerEmail, name: "Owner", role: "user", accountId };
  return { accountId, ownerEmail, caller: createCallerFactory(appRouter)(context(viewer)) };
}

async function trpcError(promise: Promise<unknown>): Promise<TRPCError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TRPCError) return error;
    throw error;
  }
  throw new Error("expected a TRPCError");
}

describe("usage procedures", () => {
  it("show the current period in the seed's usage shape, with series and breakdowns", async () => {
    const { accountId, caller } = await customer("Pro");
    const [agent] = await createAgentRows(db, accountId, 1);
    await ingestUsageEvents(ports, [
      callEvent(accountId, 1400 * 60, { agentId: agent?.id, direction: "inbound" }),
      callEvent(accountId, 1000 * 60, { startedAt: new Date("2026-11-26T23:59:00Z") }),
      callEvent(accountId, 600 * 60, { startedAt: new Date("2026-11-26T08:00:00Z") }),
    ]);
    const current = await caller.usage.current();
    expect(current).toMatchObject({
      minutesUsed: 3000,
      minutesLimit: 3000,
      minutesRemaining: 0,
      usagePercentage: 100,
      period: { start: new Date("2026-11-01T00:00:00Z"), end: new Date("2026-12-01T00:00:00Z") },
      plan: { name: "Pro" },
      overage: { policy: "billed", minutes: 0, pricePerMinute: { amount: 3, currency: "usd" } },
    });
    const daily = await caller.usage.daily();
    expect(daily.days).toHaveLength(30);
    expect(daily.days.find((d) => d.day === "2026-11-10")).toMatchObject({
      minutes: 1400,
      inboundMinutes: 1400,
    });
    expect(daily.days.find((d) => d.day === "2026-11-26")).toMatchObject({
      minutes: 1600,
      outboundMinutes: 1600,
    });
    expect((await caller.usage.byAgent()).agents).toEqual([
      { agentId: null, name: "No agent", active: null, minutes: 1600, calls: 2 },
      { agentId: agent?.id, name: "Agent 1", active: true, minutes: 1400, calls: 1 },
    ]);
    expect(await caller.usage.byDirection()).toMatchObject({
      inbound: { minutes: 1400, calls: 1 },
      outbound: { minutes: 1600, calls: 2 },
    });
  });

  it("count only the calls inside a period that starts and ends mid-day", async () => {
    const { accountId } = await createAccount(db);
    await subscribe(db, accountId, {
      periodStart: new Date("2026-11-15T14:00:00Z"),
      periodEnd: new Date("2026-12-15T14:00:00Z"),
    });
    await ingestUsageEvents(ports, [
      callEvent(accountId, 600, { startedAt: new Date("2026-11-15T13:00:00Z") }),
      callEvent(accountId, 120, { startedAt: new Date("2026-11-15T15:00:00Z") }),
      callEvent(accountId, 60, { startedAt: new Date("2026-11-20T15:00:00Z") }),
    ]);
    const caller = createCallerFactory(appRouter)(context(viewerOf(accountId)));
    const daily = await caller.usage.daily();
    expect(daily.days[0]).toMatchObject({ day: "2026-11-15", minutes: 2, calls: 1 });
    expect(daily.days).toHaveLength(31);
    expect(daily.days.reduce((s, d) => s + d.minutes, 0)).toBe(3);
    expect((await caller.usage.byDirection()).outbound).toEqual({ minutes: 3, calls: 2 });
    expect((await caller.usage.current())?.minutesUsed).toBe(3);
  });

  it("refuse series without a subscription and any input that names an account", async () => {
    const { caller, accountId } = await customer(null);
    expect(await caller.usage.current()).toBeNull();
    expect((await trpcError(caller.usage.daily())).code).toBe("PRECONDITION_FAILED");
    const error = await trpcError(caller.usage.byAgent({ accountId } as never));
    expect(error.code).toBe("BAD_REQUEST");
  });
});

function viewerOf(accountId: string): Viewer {
  return {
    userId: accountId,
    email: "x@example.com",
    name: "X",
    role: "user",
    accountId,
    accountRole: "owner",
  };
}

describe("alerts procedures", () => {
  it("list and dismiss the caller's alerts", async () => {
    const { accountId, caller } = await customer("Starter");
    await ingestUsageEvents(ports, [callEvent(accountId, 850 * 60)]);
    const [alert, ...rest] = await caller.alerts.list();
    expect(rest).toEqual([]);
    expect(alert).toMatchObject({ thresholdPercent: 80, kind: "threshold", minutesUsed: 850 });
    await caller.alerts.dismiss({ id: alert?.id ?? "" });
    expect(await caller.alerts.list()).toEqual([]);
    const missing = await trpcError(caller.alerts.dismiss({ id: "3b241101-e2bb-4255-8caf-4136c566a962" }));
    expect(missing.code).toBe("NOT_FOUND");
  });

  it("manage custom thresholds: 1 to 200 percent, at most five, defaults always on", async () => {
    const { caller } = await customer("Pro");
    for (const percent of [10, 20, 30, 40, 50]) await caller.alerts.thresholds.set({ percent });
    await caller.alerts.thresholds.set({ percent: 50 });
    expect(await caller.alerts.thresholds.list()).toEqual({
      defaults: [80, 100],
      custom: [10, 20, 30, 40, 50],
      max: 5,
    });
    const sixth = await trpcError(caller.alerts.thresholds.set({ percent: 60 }));
    expect(sixth).toMatchObject({ code: "CONFLICT", message: expect.stringMatching(/at most 5/) });
    expect((await trpcError(caller.alerts.thresholds.set({ percent: 201 }))).code).toBe("BAD_REQUEST");
    expect((await trpcError(caller.alerts.thresholds.set({ percent: 80 }))).message).toMatch(/always on/);
    expect((await caller.alerts.thresholds.remove({ percent: 10 })).custom).toEqual([20, 30, 40, 50]);
    expect((await trpcError(caller.alerts.thresholds.remove({ percent: 10 }))).code).toBe("NOT_FOUND");
  });
});

describe("agents procedures", () => {
  it("validate names and refuse an agent beyond the package with a clear message", async () => {
    const { caller } = await customer("Starter");
    const invalid = await trpcError(caller.agents.create({ name: "  " }));
    expect(invalid.code).toBe("BAD_REQUEST");
    const agent = await caller.agents.create({ name: "Reception" });
    const refused = await trpcError(caller.agents.create({ name: "Sales" }));
    expect(refused.code).toBe("CONFLICT");
    expect(refused.message).toMatch(/Starter package allows 1 active agent and you have 1/);
    await caller.agents.rename({ id: agent.id, name: "Front desk" });
    await caller.agents.deactivate({ id: agent.id });
    expect(await caller.agents.list()).toMatchObject({
      activeCount: 0,
      allowed: 1,
      agents: [{ name: "Front desk", active: false }],
    });
    await caller.agents.activate({ id: agent.id });
    expect((await caller.agents.list()).activeCount).toBe(1);
  });
});

describe("admin metering views", () => {
  it("list accounts near or over their limits, most urgent first, page by page", async () => {
    const admin = createCallerFactory(adminRouter)(
      context({ ...viewerOf(""), role: "admin", accountId: null }),
    );
    const before = await admin.usage.nearLimit({ page: 1, pageSize: 100, minPercent: 80 });
    const over = await customer("Starter");
    await ingestUsageEvents(ports, [callEvent(over.accountId, 1100 * 60, { direction: "inbound" })]);
    const near = await customer("Pro");
    await ingestUsageEvents(ports, [
      callEvent(near.accountId, 1300 * 60),
      callEvent(near.accountId, 1300 * 60),
    ]);
    const fine = await customer("Pro");
    await ingestUsageEvents(ports, [callEvent(fine.accountId, 60)]);
    const agents = await customer("Starter");
    await createAgentRows(db, agents.accountId, 2);

    const all = await admin.usage.nearLimit({ page: 1, pageSize: 100, minPercent: 80 });
    const mine = all.items.filter((i) => [over, near, fine, agents].some((c) => c.accountId === i.accountId));
    expect(mine.map((i) => [i.accountId, i.usagePercentage])).toEqual([
      [over.accountId, 110],
      [near.accountId, 86.7],
      [agents.accountId, 0],
    ]);
    expect(mine[0]).toMatchObject({
      ownerEmail: over.ownerEmail,
      planName: "Starter",
      overagePolicy: "hard_cap",
    });
    expect(mine[2]).toMatchObject({ activeAgents: 2, agentsAllowed: 1 });
    expect(all.total).toBe(before.total + 3);

    const page2 = await admin.usage.nearLimit({ page: 2, pageSize: 1, minPercent: 80 });
    expect(page2.items).toHaveLength(1);
    expect(page2.items[0]?.accountId).toBe(all.items[1]?.accountId);
  });

  it("show the mail outbox, newest first", async () => {
    const admin = createCallerFactory(adminRouter)(
      context({ ...viewerOf(""), role: "admin", accountId: null }),
    );
    const { accountId, ownerEmail } = await customer("Starter");
    await ingestUsageEvents(ports, [callEvent(accountId, 900 * 60)]);
    await runQueuedJobs(url, ports);
    const outbox = await admin.mail.list();
    expect(outbox.items.find((m) => m.to === ownerEmail)).toMatchObject({
      subject: "Minutely: 80% of your call minutes used",
      text: expect.stringMatching(
        /You have reached 80% of your included call minutes \(900 of 1,000 minutes used\)/,
      ),
    });
    expect((await admin.mail.list({ page: 1, pageSize: 1 })).items).toHaveLength(1);
  });
});
