import { createPrismaClient, type Database } from "@minutely/db";
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { afterAll, describe, expect, it } from "vitest";
import { AppError } from "../../errors.ts";
import { testPorts } from "../../testing.ts";
import { createAccount, createAgentRows, subscribe } from "../metering/metering.fixtures.ts";
import {
  activateAgent,
  createAgent,
  deactivateAgent,
  enforceAgentLimit,
  listAgents,
  renameAgent,
} from "./agents.ts";

const { db, url } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });

const extraClients: Database[] = [];
afterAll(async () => {
  await Promise.all(extraClients.map((c) => c.$disconnect()));
});

async function failure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error("expected an AppError");
}

describe("agents", () => {
  it("are created, renamed, deactivated and activated within the package's allowance", async () => {
    const { accountId } = await createAccount(db);
    await subscribe(db, accountId, { plan: "Pro" });
    const created = [];
    for (let i = 1; i <= 5; i++) created.push(await createAgent(ports, accountId, { name: ` Agent ${i} ` }));
    expect(created[0]).toMatchObject({ name: "Agent 1", active: true, deactivatedAt: null });

    const refused = await failure(createAgent(ports, accountId, { name: "Sixth" }));
    expect(refused.code).toBe("CONFLICT");
    expect(refused.message).toMatch(/Pro package allows 5 active agents and you have 5/);

    const first = created[0]?.id ?? "";
    expect(await renameAgent(ports, accountId, { id: first, name: "Front desk" })).toMatchObject({
      name: "Front desk",
    });
    expect(await deactivateAgent(ports, accountId, { id: first })).toMatchObject({
      active: false,
      deactivatedAt: clock.now(),
    });
    const sixth = await createAgent(ports, accountId, { name: "Sixth" });
    expect((await failure(activateAgent(ports, accountId, { id: first }))).code).toBe("CONFLICT");
    await deactivateAgent(ports, accountId, { id: sixth.id });
    expect(await activateAgent(ports, accountId, { id: first })).toMatchObject({
      active: true,
      deactivatedAt: null,
    });

    const view = await listAgents(ports, accountId);
    expect(view).toMatchObject({ activeCount: 5, allowed: 5, plan: { name: "Pro" }, accessGranted: true });
    expect(view.agents).toHaveLength(6);
  });

  it("need a package that grants access", async () => {
    const never = await createAccount(db);
    expect((await failure(createAgent(ports, never.accountId, { name: "A" }))).code).toBe(
      "PRECONDITION_FAILED",
    );
    const canceled = await createAccount(db);
    await subscribe(db, canceled.accountId, { status: "canceled" });
    const error = await failure(createAgent(ports, canceled.accountId, { name: "A" }));
    expect(error).toMatchObject({
      code: "PRECONDITION_FAILED",
      message: expect.stringMatching(/not active/),
    });
    expect(await listAgents(ports, canceled.accountId)).toMatchObject({ allowed: 0, accessGranted: false });
  });

  it("refuse blank names and cannot be reached from another account", async () => {
    const mine = await createAccount(db);
    await subscribe(db, mine.accountId);
    const theirs = await createAccount(db);
    await subscribe(db, theirs.accountId);
    const [theirAgent] = await createAgentRows(db, theirs.accountId, 1);
    expect(await failure(createAgent(ports, mine.accountId, { name: "   " }))).toMatchObject({
      code: "BAD_REQUEST",
      field: "name",
    });
    const id = theirAgent?.id ?? "";
    // One at a time: promises made together would reject while an earlier one is awaited, unhandled.
    for (const attempt of [
      () => renameAgent(ports, mine.accountId, { id, name: "Mine now" }),
      () => deactivateAgent(ports, mine.accountId, { id }),
      () => activateAgent(ports, mine.accountId, { id }),
    ]) {
      expect((await failure(attempt())).code).toBe("NOT_FOUND");
    }
    expect(await db.agent.findUniqueOrThrow({ where: { id } })).toMatchObject({
      name: "Agent 1",
      active: true,
    });
  });

  it("never exceed the allowance under concurrent creates", async () => {
    const { accountId } = await createAccount(db);
    await subscribe(db, accountId, { plan: "Starter" });
    const replicas = Array.from({ length: 5 }, () => {
      const c = createPrismaClient(url, { poolSize: 4 });
      extraClients.push(c);
      return { ...ports, db: c };
    });
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        createAgent(replicas[i % replicas.length] ?? ports, accountId, { name: `Racer ${i}` }),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results) {
      if (r.status === "rejected") expect(r.reason).toMatchObject({ code: "CONFLICT" });
    }
    expect(await db.agent.count({ where: { accountId, active: true } })).toBe(1);
  });
});

describe("enforceAgentLimit (a downgrade taking effect)", () => {
  it("keeps the chosen agents first, then the oldest, and deactivates the rest", async () => {
    const { accountId } = await createAccount(db);
    await subscribe(db, accountId, { plan: "Pro" });
    const agents = await createAgentRows(db, accountId, 5);
    const ids = agents.map((a) => a.id);
    const deactivated = await enforceAgentLimit(
      db,
      accountId,
      2,
      [ids[4] ?? "", "not-an-agent"],
      clock.now(),
    );
    expect(deactivated.sort()).toEqual([ids[1], ids[2], ids[3]].sort());
    const active = await db.agent.findMany({ where: { accountId, active: true }, select: { id: true } });
    expect(active.map((a) => a.id).sort()).toEqual([ids[0], ids[4]].sort());
    expect(await db.agent.findUniqueOrThrow({ where: { id: ids[1] ?? "" } })).toMatchObject({
      deactivatedAt: clock.now(),
    });
    expect(await enforceAgentLimit(db, accountId, 2)).toEqual([]);
  });

  it("joins the caller's transaction", async () => {
    const { accountId } = await createAccount(db);
    await subscribe(db, accountId, { plan: "Pro" });
    await createAgentRows(db, accountId, 3);
    await expect(
      db.$transaction(async (tx) => {
        expect(await enforceAgentLimit(tx, accountId, 1)).toHaveLength(2);
        throw new Error("the downgrade failed");
      }),
    ).rejects.toThrow("the downgrade failed");
    expect(await db.agent.count({ where: { accountId, active: true } })).toBe(3);
    expect(await enforceAgentLimit(db, accountId, 0)).toHaveLength(3);
  });
});
