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
import { RestError } from "../rest.ts";
import { invoiceDetailProperties, invoiceJson } from "./invoice-json.ts";
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

const security = [{ apiKey: [] }];
const responses = { 401: errorResponses[401], 403: errorResponses[403], 429: errorResponses[429] };
const isoDate = { type: "string", format: "date-time" } as const;
const nullableDate = { type: ["string", "null"], format: "date-time" } as const;

export async function registerCustomerApiRoutes(app: FastifyInstance, deps: Ports): Promise<void> {
  await app.register(async (scope) => {
    scope.addHook("onRequest", async (req) => {
      const check = await authenticateApiKey(deps, bearer(req));
      if (!check.ok) throw new RestError(check.status, { error: check.error, message: check.message });
      req.apiAccountId = check.accountId;
    });
    const routeConfig = {
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

    scope.get(
      "/api/v1/subscription",
      {
        config: routeConfig,
        schema: {
          tags: ["Customer API"],
          summary: "The account's subscription",
          security,
          response: {
            200: {
              type: "object",
              required: ["status", "cancel_at_period_end"],
              properties: {
                status: { type: "string" },
                package: {
                  type: ["object", "null"],
                  properties: {
                    id: { type: "string" },
                    name: { type: "string" },
                    monthly_price_cents: { type: "integer" },
                    currency: { type: "string" },
                  },
                },
                current_period_start: nullableDate,
                current_period_end: nullableDate,
                cancel_at_period_end: { type: "boolean" },
                scheduled_change: {
                  type: ["object", "null"],
                  properties: { package_name: { type: "string" }, effective_at: isoDate },
                },
              },
            },
            ...responses,
          },
        },
      },
      async (req) => {
        const o = await subscriptions.subscriptionOverview(deps, accountOf(req));
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
      },
    );

    scope.get(
      "/api/v1/usage",
      {
        config: routeConfig,
        schema: {
          tags: ["Customer API"],
          summary: "Call minutes of the current billing period (the seed's usage shape)",
          security,
          response: {
            200: {
              type: "object",
              required: ["usage"],
              properties: {
                period_start: isoDate,
                period_end: isoDate,
                usage: {
                  type: "object",
                  required: ["minutes_used", "minutes_limit", "minutes_remaining", "usage_percentage"],
                  properties: {
                    minutes_used: { type: "integer" },
                    minutes_limit: { type: "integer" },
                    minutes_remaining: { type: "integer" },
                    usage_percentage: { type: "number" },
                    over_cap_minutes: {
                      type: "integer",
                      description:
                        "Minutes beyond a hard cap (calls the cap did not stop): recorded, never billed",
                    },
                  },
                },
              },
            },
            ...responses,
          },
        },
      },
      async (req) => {
        const usage = await currentUsage(deps, accountOf(req));
        if (!usage)
          throw new RestError(404, { error: "not_found", message: "This account has no subscription yet." });
        return {
          period_start: usage.period.start.toISOString(),
          period_end: usage.period.end.toISOString(),
          usage: {
            minutes_used: usage.minutes_used,
            minutes_limit: usage.minutes_limit,
            minutes_remaining: usage.minutes_remaining,
            usage_percentage: usage.usage_percentage,
            over_cap_minutes: usage.overage.overCapMinutes,
          },
        };
      },
    );

    scope.get(
      "/api/v1/usage/history",
      {
        config: routeConfig,
        schema: {
          tags: ["Customer API"],
          summary: "Minutes per billing period (newest first) and per day of the current period",
          security,
          response: {
            200: {
              type: "object",
              properties: {
                periods: {
                  type: "array",
                  items: {
                    type: "object",
                    properties: {
                      period_start: isoDate,
                      period_end: isoDate,
                      minutes: { type: "integer" },
                      calls: { type: "integer" },
                    },
                  },
                },
                days: {
                  type: "array",
                  items: {
                    type: "object",
                    properties: {
                      day: { type: "string" },
                      minutes: { type: "integer" },
                      calls: { type: "integer" },
                    },
                  },
                },
              },
            },
            ...responses,
          },
        },
      },
      async (req) => {
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
    );

    scope.get(
      "/api/v1/invoices",
      {
        config: routeConfig,
        schema: {
          tags: ["Customer API"],
          summary: "The account's invoices, newest first",
          security,
          response: {
            200: {
              type: "object",
              properties: {
                invoices: {
                  type: "array",
                  items: {
                    type: "object",
                    properties: {
                      id: { type: "string" },
                      number: { type: ["string", "null"] },
                      date: isoDate,
                      amount_cents: { type: "integer" },
                      refunded_cents: {
                        type: "integer",
                        description:
                          "Paid and refunded (a second subscription Minutely canceled); 0 otherwise",
                      },
                      currency: { type: "string" },
                      status: { type: "string" },
                      hosted_invoice_url: { type: ["string", "null"] },
                      invoice_pdf: { type: ["string", "null"] },
                      ...invoiceDetailProperties,
                    },
                  },
                },
              },
            },
            ...responses,
          },
        },
      },
      async (req) => {
        const invoices = await subscriptions.billingHistory(deps, accountOf(req));
        return {
          invoices: invoices.map(invoiceJson),
        };
      },
    );

    scope.get(
      "/api/v1/agents",
      {
        config: routeConfig,
        schema: {
          tags: ["Customer API"],
          summary: "The account's agents and how many its package allows",
          security,
          response: {
            200: {
              type: "object",
              properties: {
                allowed: { type: "integer" },
                active: { type: "integer" },
                agents: {
                  type: "array",
                  items: {
                    type: "object",
                    properties: {
                      id: { type: "string" },
                      name: { type: "string" },
                      active: { type: "boolean" },
                      created_at: isoDate,
                    },
                  },
                },
              },
            },
            ...responses,
          },
        },
      },
      async (req) => {
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
    );
  });
}
