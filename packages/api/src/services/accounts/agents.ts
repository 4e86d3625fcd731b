// Voice agents of an account. Active agents never exceed the package's agents_allowed: creating or
// activating one checks the limit under a per-account lock (two concurrent creates cannot both pass), and a
// downgrade calls enforceAgentLimit to deactivate the agents beyond the new limit.
import { type Agent, type Database, transactionLock } from "@minutely/db";
import type { Ports } from "../../context.ts";
import type { Db } from "../../db.ts";
import { AppError } from "../../errors.ts";
import { lockLiveAccount } from "../live-account.ts";
import {
  loadMeteringSubscription,
  METERING_TX_OPTIONS,
  type MeteringSubscription,
} from "../metering/index.ts";

export const MAX_AGENT_NAME_LENGTH = 80;

export interface AgentView {
  id: string;
  name: string;
  active: boolean;
  deactivatedAt: Date | null;
  createdAt: Date;
}

export interface AgentsView {
  agents: AgentView[];
  activeCount: number;
  /** Active agents the package allows (0 without an access-granting subscription). */
  allowed: number;
  plan: { id: string; name: string } | null;
  accessGranted: boolean;
}

function toView(agent: Agent): AgentView {
  return {
    id: agent.id,
    name: agent.name,
    active: agent.active,
    deactivatedAt: agent.deactivatedAt,
    createdAt: agent.createdAt,
  };
}

/** Active agents the subscription allows: the package's agents_allowed while it grants access, else 0. */
export function agentsAllowed(subscription: MeteringSubscription | null): number {
  return subscription?.accessGranted ? subscription.plan.agentsAllowed : 0;
}

function cleanName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0) throw new AppError("BAD_REQUEST", "Enter a name for the agent.", "name");
  if (trimmed.length > MAX_AGENT_NAME_LENGTH) {
    throw new AppError("BAD_REQUEST", `Use at most ${MAX_AGENT_NAME_LENGTH} characters.`, "name");
  }
  return trimmed;
}

function limitMessage(subscription: MeteringSubscription | null, allowed: number, active: number): AppError {
  if (!subscription) {
    return new AppError("PRECONDITION_FAILED", "Choose a package before adding agents.");
  }
  if (!subscription.accessGranted) {
    return new AppError(
      "PRECONDITION_FAILED",
      "Your subscription is not active, so no agents can be active. Renew or choose a package first.",
    );
  }
  return new AppError(
    "CONFLICT",
    `Your ${subscription.plan.name} package allows ${allowed} active ${allowed === 1 ? "agent" : "agents"} and you have ${active}. Deactivate an agent or upgrade your package to add another.`,
  );
}

export async function listAgents({ db }: Pick<Ports, "db">, accountId: string): Promise<AgentsView> {
  const [agents, subscription] = await Promise.all([
    db.agent.findMany({ where: { accountId }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] }),
    loadMeteringSubscription(db, accountId),
  ]);
  return agentsViewOf(agents, subscription);
}

/** The agents view from the account's agents (oldest first) and its metered subscription. */
export function agentsViewOf(
  agents: readonly Agent[],
  subscription: MeteringSubscription | null,
): AgentsView {
  return {
    agents: agents.map(toView),
    activeCount: agents.filter((a) => a.active).length,
    allowed: agentsAllowed(subscription),
    plan: subscription ? { id: subscription.plan.id, name: subscription.plan.name } : null,
    accessGranted: subscription?.accessGranted ?? false,
  };
}

/** Creates an active agent, if the package allows one more. */
export async function createAgent(
  { db, clock }: Pick<Ports, "db" | "clock">,
  accountId: string,
  input: { name: string },
): Promise<AgentView> {
  const name = cleanName(input.name);
  return await db.$transaction(async (tx) => {
    await tx.$executeRaw(transactionLock("agents", accountId));
    await lockLiveAccount(tx, accountId);
    const subscription = await loadMeteringSubscription(tx, accountId);
    const allowed = agentsAllowed(subscription);
    const active = await tx.agent.count({ where: { accountId, active: true } });
    if (active + 1 > allowed) throw limitMessage(subscription, allowed, active);
    const now = clock.now();
    const agent = await tx.agent.create({ data: { accountId, name, active: true, createdAt: now } });
    return toView(agent);
  }, METERING_TX_OPTIONS);
}

async function ownAgent(db: Db, accountId: string, agentId: string): Promise<Agent> {
  const agent = await db.agent.findFirst({ where: { id: agentId, accountId } });
  if (!agent) throw new AppError("NOT_FOUND", "This agent does not exist.", "id");
  return agent;
}

export async function renameAgent(
  { db }: Pick<Ports, "db">,
  accountId: string,
  input: { id: string; name: string },
): Promise<AgentView> {
  const name = cleanName(input.name);
  const agent = await ownAgent(db, accountId, input.id);
  const updated = await db.agent.update({ where: { id: agent.id }, data: { name } });
  return toView(updated);
}

export async function deactivateAgent(
  { db, clock }: Pick<Ports, "db" | "clock">,
  accountId: string,
  input: { id: string },
): Promise<AgentView> {
  const agent = await ownAgent(db, accountId, input.id);
  if (!agent.active) return toView(agent);
  const updated = await db.agent.update({
    where: { id: agent.id },
    data: { active: false, deactivatedAt: clock.now() },
  });
  return toView(updated);
}

/** Activates an agent again, if the package allows one more active agent. */
export async function activateAgent(
  { db }: Pick<Ports, "db">,
  accountId: string,
  input: { id: string },
): Promise<AgentView> {
  return await db.$transaction(async (tx) => {
    await tx.$executeRaw(transactionLock("agents", accountId));
    await lockLiveAccount(tx, accountId);
    const agent = await ownAgent(tx, accountId, input.id);
    if (agent.active) return toView(agent);
    const subscription = await loadMeteringSubscription(tx, accountId);
    const allowed = agentsAllowed(subscription);
    const active = await tx.agent.count({ where: { accountId, active: true } });
    if (active + 1 > allowed) throw limitMessage(subscription, allowed, active);
    const updated = await tx.agent.update({
      where: { id: agent.id },
      data: { active: true, deactivatedAt: null },
    });
    return toView(updated);
  }, METERING_TX_OPTIONS);
}

/**
 * Deactivates the account's active agents beyond `allowed` (a downgrade taking effect, say): the agents in
 * `keepIds` stay first (in that order, when active), then the oldest. Returns the ids deactivated.
 * Pass a transaction to make it part of a larger change; it takes the account's agent lock either way.
 * `now` stamps deactivated_at (the caller's clock); without it the database's time is used.
 */
export async function enforceAgentLimit(
  db: Db,
  accountId: string,
  allowed: number,
  keepIds: readonly string[] = [],
  now?: Date,
): Promise<string[]> {
  if (!Number.isSafeInteger(allowed) || allowed < 0) {
    throw new RangeError(`allowed must be a non-negative integer, got ${allowed}`);
  }
  const run = async (tx: Db): Promise<string[]> => {
    await tx.$executeRaw(transactionLock("agents", accountId));
    const active = await tx.agent.findMany({
      where: { accountId, active: true },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      select: { id: true },
    });
    if (active.length <= allowed) return [];
    const activeIds = new Set(active.map((a) => a.id));
    const kept = [...new Set(keepIds)].filter((id) => activeIds.has(id));
    const order = [...kept, ...active.map((a) => a.id).filter((id) => !kept.includes(id))];
    const deactivate = order.slice(allowed);
    await tx.$executeRaw`
      UPDATE agent
      SET active = false, deactivated_at = COALESCE(${now ?? null}::timestamptz, CURRENT_TIMESTAMP),
        updated_at = CURRENT_TIMESTAMP
      WHERE account_id = ${accountId}::uuid AND id = ANY(${deactivate}::uuid[]) AND active`;
    return deactivate;
  };
  return isRootClient(db) ? await db.$transaction((tx) => run(tx), METERING_TX_OPTIONS) : await run(db);
}

/** The application's client (not an interactive transaction, which lacks $disconnect). */
function isRootClient(db: Db): db is Database {
  return typeof (db as Partial<Database>).$disconnect === "function";
}
