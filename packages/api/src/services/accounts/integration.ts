// What the calling platform needs to report a customer's calls, for the customer app's Integration page:
// the account's id, its agents' ids, where the metering API is and the account's now (so the example
// request the page builds with `meteringExample` of the domain lies in the current period).
import type { Ports } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { loadMeteringSubscription, nowFor } from "../metering/index.ts";
import { listAgents } from "./agents.ts";

export interface IntegrationView {
  account: { id: string; name: string };
  /** Oldest first, active and inactive (an inactive agent's calls are refused at authorization). */
  agents: { id: string; name: string; active: boolean }[];
  /** Where the calling platform reaches Minutely's API (PUBLIC_URL): the metering routes are under it. */
  apiBaseUrl: string;
  /** The account's now (its Stripe test clock's, when ahead of Minutely's clock). */
  now: Date;
  /** Whether the account ever subscribed: calls of an account that never did are rejected (no_subscription). */
  subscribed: boolean;
  /** When its first subscription began (null if never): calls dated before it are rejected. */
  subscribedSince: Date | null;
}

export async function integrationView(
  ports: Pick<Ports, "db" | "clock" | "settings">,
  accountId: string,
): Promise<IntegrationView> {
  const [account, agents, subscription] = await Promise.all([
    ports.db.account.findUnique({ where: { id: accountId }, select: { id: true, name: true } }),
    listAgents(ports, accountId),
    loadMeteringSubscription(ports.db, accountId),
  ]);
  if (!account) throw new AppError("NOT_FOUND", "This account does not exist.");
  return {
    account,
    agents: agents.agents.map((a) => ({ id: a.id, name: a.name, active: a.active })),
    apiBaseUrl: ports.settings.publicUrl,
    now: nowFor(subscription, ports.clock.now()),
    subscribed: subscription !== null,
    subscribedSince: subscription?.firstStartedAt ?? null,
  };
}
