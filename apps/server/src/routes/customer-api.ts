// The customer REST API (packages with API access): Authorization: Bearer <API key>, scoped to the key's
// account, rate-limited per key with the standard X-RateLimit-* and Retry-After headers.
import { createHash } from "node:crypto";
import {
  authenticateApiKey,
  currentUsage,
  dailyUsage,
  listAgents,
  type Ports,
  subscriptions,
} from "@minutely/api";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { RestError } from "../rest.ts";
import { defineRoute } from "./define-route.ts";
import { toInvoiceJson, ZInvoiceSchema } from "./invoice-json.ts";
import { errorResponses } from "./openapi-schemas.ts";

/** Requests per key per minute. */
export const API_KEY_RATE_LIMIT = 120;

declare module "fastify" {
  interface FastifyRequest {
    apiAccountId?: string;
  }
}

function bearer(req: FastifyRequest): string | null {
  const header = req.headers.authorization;
  const match = typeof header === "string" ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1] ?? null;
}

const TAG = "Customer API";
const security = [{ apiKey: [] }];
const responses = { 401: errorResponses[401], 403: errorResponses[403], 429: errorResponses[429] };
const ZDateTimeSchema = z.iso.datetime();

/** The customer API's subscription (its own shape: the package nested, its price in cents). */
const ZSubscriptionSchema = z.object({
  status: z.string(),
  package: z
    .object({
      id: z.string(),
      name: z.string(),
      monthly_price_cents: z.number().int(),
      currency: z.string(),
    })
    .nullable(),
  current_period_start: ZDateTimeSchema.nullable(),
  current_period_end: ZDateTimeSchema.nullable(),
  cancel_at_period_end: z.boolean(),
  scheduled_change: z.object({ package_name: z.string(), effective_at: ZDateTimeSchema }).nullable(),
});

function toSubscriptionJson(o: subscriptions.SubscriptionOverview): z.input<typeof ZSubscriptionSchema> {
  return {
    status: o.status,
    package: o.package
      ? {
          id: o.package.id,
          name: o.package.name,
          monthly_price_cents: o.package.monthlyPrice.amount,
          currency: o.package.monthlyPrice.currency,
        }
      : null,
    current_period_start: o.currentPeriodStart?.toISOString() ?? null,
    current_period_end: o.currentPeriodEnd?.toISOString() ?? null,
    cancel_at_period_end: o.cancelAtPeriodEnd,
    scheduled_change: o.scheduledChange
      ? {
          package_name: o.scheduledChange.packageName,
          effective_at: o.scheduledChange.effectiveAt.toISOString(),
        }
      : null,
  };
}

const ZUsageSchema = z.object({
  period_start: ZDateTimeSchema,
  period_end: ZDateTimeSchema,
  usage: z.object({
    minutes_used: z.number().int(),
    minutes_limit: z.number().int(),
    minutes_remaining: z.number().int(),
    usage_percentage: z.number(),
    over_cap_minutes: z.number().int().meta({
      description: "Minutes beyond a hard cap (calls the cap did not stop): recorded, never billed",
    }),
  }),
});

const ZUsageHistorySchema = z.object({
  periods: z.array(
    z.object({
      period_start: ZDateTimeSchema,
      period_end: ZDateTimeSchema,
      minutes: z.number().int(),
      calls: z.number().int(),
    }),
  ),
  days: z.array(z.object({ day: z.iso.date(), minutes: z.number().int(), calls: z.number().int() })),
});

const ZAgentsSchema = z.object({
  allowed: z.number().int(),
  active: z.number().int(),
  agents: z.array(
    z.object({ id: z.string(), name: z.string(), active: z.boolean(), created_at: ZDateTimeSchema }),
  ),
});

export async function registerCustomerApiRoutes(app: FastifyInstance, deps: Ports): Promise<void> {
  await app.register(async (scope) => {
    scope.addHook("onRequest", async (req) => {
      const check = await authenticateApiKey(deps, bearer(req));
      if (!check.ok) throw new RestError(check.status, { error: check.error, message: check.message });
      req.apiAccountId = check.accountId;
    });
    const config = {
      rateLimit: {
        max: API_KEY_RATE_LIMIT,
        timeWindow: "1 minute",
        // One budget per key across every endpoint of the API, not per endpoint.
        groupId: "customer-api",
        keyGenerator: (req: FastifyRequest) =>
          `api-key:${createHash("sha256")
            .update(bearer(req) ?? req.ip)
            .digest("hex")}`,
      },
    };
    const accountOf = (req: FastifyRequest) => req.apiAccountId ?? "";

    defineRoute(scope, {
      method: "GET",
      url: "/api/v1/subscription",
      config,
      tags: [TAG],
      summary: "The account's subscription",
      security,
      response: { 200: ZSubscriptionSchema, ...responses },
      handler: async ({ req }) =>
        toSubscriptionJson(await subscriptions.subscriptionOverview(deps, accountOf(req))),
    });

    defineRoute(scope, {
      method: "GET",
      url: "/api/v1/usage",
      config,
      tags: [TAG],
      summary: "Call minutes of the current billing period (the seed's usage shape)",
      security,
      response: { 200: ZUsageSchema, ...responses },
      handler: async ({ req }) => {
        const usage = await currentUsage(deps, accountOf(req));
        if (!usage)
          throw new RestError(404, { error: "not_found", message: "This account has no subscription yet." });
        return {
          period_start: usage.period.start.toISOString(),
          period_end: usage.period.end.toISOString(),
          usage: {
            minutes_used: usage.minutesUsed,
            minutes_limit: usage.minutesLimit,
            minutes_remaining: usage.minutesRemaining,
            usage_percentage: usage.usagePercentage,
            over_cap_minutes: usage.overage.overCapMinutes,
          },
        };
      },
    });

    defineRoute(scope, {
      method: "GET",
      url: "/api/v1/usage/history",
      config,
      tags: [TAG],
      summary: "Minutes per billing period (newest first) and per day of the current period",
      security,
      response: { 200: ZUsageHistorySchema, ...responses },
      handler: async ({ req }) => {
        const accountId = accountOf(req);
        const periods = await deps.db.usagePeriodRollup.findMany({
          where: { accountId },
          orderBy: { periodStart: "desc" },
          take: 24,
        });
        const daily = (await currentUsage(deps, accountId)) ? await dailyUsage(deps, accountId) : null;
        return {
          periods: periods.map((p) => ({
            period_start: p.periodStart.toISOString(),
            period_end: p.periodEnd.toISOString(),
            minutes: p.minutes,
            calls: p.calls,
          })),
          days: (daily?.days ?? []).map((d) => ({ day: d.day, minutes: d.minutes, calls: d.calls })),
        };
      },
    });

    defineRoute(scope, {
      method: "GET",
      url: "/api/v1/invoices",
      config,
      tags: [TAG],
      summary: "The account's invoices, newest first",
      security,
      response: { 200: z.object({ invoices: z.array(ZInvoiceSchema) }), ...responses },
      handler: async ({ req }) => ({
        invoices: (await subscriptions.billingHistory(deps, accountOf(req))).map(toInvoiceJson),
      }),
    });

    defineRoute(scope, {
      method: "GET",
      url: "/api/v1/agents",
      config,
      tags: [TAG],
      summary: "The account's agents and how many its package allows",
      security,
      response: { 200: ZAgentsSchema, ...responses },
      handler: async ({ req }) => {
        const agents = await listAgents(deps, accountOf(req));
        return {
          allowed: agents.allowed,
          active: agents.activeCount,
          agents: agents.agents.map((a) => ({
            id: a.id,
            name: a.name,
            active: a.active,
            created_at: a.createdAt.toISOString(),
          })),
        };
      },
    });
  });
}
