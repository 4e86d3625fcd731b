// The analytics page in one read: minutes by agent, by direction and by day of the current period, for
// packages that include analytics (FORBIDDEN otherwise, see requireAnalytics).
import type { BillingPeriod } from "@minutely/domain";
import type { Ports } from "../../context.ts";
import {
  type AgentUsage,
  type DailyUsagePoint,
  dailyUsage,
  usageByAgent,
  usageByDirection,
} from "../metering/index.ts";
import { requireAnalytics } from "./entitlements.ts";

export interface UsageAnalytics {
  period: BillingPeriod;
  /** The account's now (its test clock's time, if ahead): charts mark "today" by it. */
  asOf: Date;
  totals: { minutes: number; calls: number };
  byAgent: AgentUsage[];
  byDirection: { inbound: { minutes: number; calls: number }; outbound: { minutes: number; calls: number } };
  daily: DailyUsagePoint[];
}

export async function usageAnalytics(
  ports: Pick<Ports, "db" | "clock">,
  accountId: string,
): Promise<UsageAnalytics> {
  await requireAnalytics(ports, accountId);
  const [daily, byAgent, byDirection] = await Promise.all([
    dailyUsage(ports, accountId),
    usageByAgent(ports, accountId),
    usageByDirection(ports, accountId),
  ]);
  const { inbound, outbound } = byDirection;
  return {
    period: daily.period,
    asOf: daily.asOf,
    totals: { minutes: inbound.minutes + outbound.minutes, calls: inbound.calls + outbound.calls },
    byAgent: byAgent.agents,
    byDirection: { inbound, outbound },
    daily: daily.days,
  };
}
