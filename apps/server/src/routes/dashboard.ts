// GET /api/dashboard/comprehensive/ (the seed contract): the customer dashboard in one response,
// session-authenticated, snake_case, thin over the same service as the tRPC query dashboard.get.
import { type Auth, type Dashboard, dashboard, type Ports } from "@minutely/api";
import { type Money, toMajorUnits } from "@minutely/domain";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { requireCustomer } from "../session.ts";
import { defineRoute } from "./define-route.ts";
import { toSeedContractInvoice, ZSeedContractInvoiceSchema } from "./invoice-json.ts";
import { errorResponses, sessionSecurity } from "./openapi-schemas.ts";
import { MAJOR_UNITS, toSeedContractSubscription, ZSeedContractSubscriptionSchema } from "./seed-contract.ts";

const ZDateTimeSchema = z.iso.datetime();
const ZMajorUnitsSchema = z.number().meta({ description: MAJOR_UNITS });

const ZUsageSchema = z
  .object({
    minutes_used: z.number().int(),
    minutes_limit: z.number().int(),
    minutes_remaining: z.number().int(),
    usage_percentage: z.number().meta({ description: "One decimal, may exceed 100" }),
    minutes_reserved: z.number().int().meta({ description: "Held by authorized calls not reported yet" }),
    calls: z.number().int(),
    period_start: ZDateTimeSchema.nullable(),
    period_end: ZDateTimeSchema.nullable(),
    overage_policy: z.enum(["billed", "hard_cap"]).nullable(),
    overage_minutes: z.number().int(),
    over_cap_minutes: z.number().int().meta({
      description: "Minutes beyond a hard cap (calls the cap did not stop): recorded, never billed",
    }),
    overage_cost: ZMajorUnitsSchema,
  })
  .meta({
    description: "The current billing period (all zero, period null, when the account never subscribed)",
  });

const ZDashboardSchema = z.object({
  user: z.object({ id: z.string(), email: z.string(), name: z.string() }),
  account: z.object({ id: z.string(), name: z.string() }),
  subscription: ZSeedContractSubscriptionSchema,
  user_needs_package_selection: z.boolean(),
  usage: ZUsageSchema,
  daily_usage: z
    .array(
      z.object({
        date: z.iso.date(),
        minutes: z.number().int(),
        calls: z.number().int(),
        inbound_minutes: z.number().int(),
        outbound_minutes: z.number().int(),
      }),
    )
    .meta({ description: "One entry per UTC day of the current period, zero-filled" }),
  agents: z.object({
    used: z.number().int().meta({ description: "Active agents" }),
    allowed: z.number().int().meta({ description: "Active agents the package allows (0 without access)" }),
    total: z.number().int().meta({ description: "Active and inactive agents" }),
  }),
  active_alerts: z
    .array(
      z.object({
        id: z.string(),
        kind: z.enum(["threshold", "overage", "limit_reached", "spend_cap"]),
        threshold_percent: z.number().int(),
        minutes_used: z.number().int(),
        minutes_limit: z.number().int(),
        message: z.string(),
        period_start: ZDateTimeSchema,
        created_at: ZDateTimeSchema,
      }),
    )
    .meta({
      description:
        "Active usage alerts, newest first: undismissed, of the current period and measured against the current package's included minutes",
    }),
  billing_history: z
    .array(ZSeedContractInvoiceSchema)
    .meta({ description: "The 5 most recent invoices, newest first" }),
  quick_actions: z.array(
    z.object({
      id: z.string(),
      label: z.string().meta({ examples: ["Subscription & Packages"] }),
      description: z.string(),
      url: z.string().meta({ description: "A page of the customer app" }),
      urgent: z.boolean(),
    }),
  ),
  entitlements: z.object({
    has_access: z.boolean(),
    analytics_access: z.boolean(),
    api_access: z.boolean(),
    call_minutes_limit: z.number().int(),
    agents_allowed: z.number().int(),
    overage: z.enum(["billed", "hard_cap"]),
  }),
  forecast: z
    .object({
      projected_minutes: z.number().int(),
      extrapolated: z.boolean().meta({
        description: "False during the first hour of the period: the projection is the usage so far",
      }),
      elapsed_fraction: z.number(),
      too_early: z.boolean().meta({
        description: "The period is too young to extrapolate; the advice then only ever suggests upgrades",
      }),
      minutes_limit: z.number().int(),
      projected_minutes_over: z.number().int(),
      projected_overage_cost: ZMajorUnitsSchema,
      projected_monthly_cost: ZMajorUnitsSchema,
      projected_to_hit_cap: z.boolean(),
      cap_reached: z.boolean().meta({
        description:
          "Hard-cap packages only: the included minutes are used up, so outbound calls are paused until " +
          "the period ends (known from the usage so far, so also in the period's first hour)",
      }),
      currency: z.string(),
      advice: z.object({
        kind: z.enum(["stay", "upgrade", "downgrade"]),
        suggested_package_name: z.string(),
        monthly_savings: ZMajorUnitsSchema,
        message: z.string().meta({
          examples: ["At this pace you will use 1,450 of 1,000 minutes; Pro would save $20.00 a month."],
        }),
      }),
    })
    .nullable()
    .meta({
      description: "The period at the current pace and plan advice (null without an active subscription)",
    }),
});

const major = (m: Money) => toMajorUnits(m);

/** The service's dashboard in the seed contract (snake_case, money in major units). */
export function toSeedContractDashboard(view: Dashboard): z.input<typeof ZDashboardSchema> {
  const { subscription: sub, usage, forecast } = view;
  return {
    user: view.user,
    account: view.account,
    subscription: toSeedContractSubscription(sub),
    user_needs_package_selection: view.needsPackageSelection,
    usage: {
      minutes_used: usage?.minutesUsed ?? 0,
      minutes_limit: usage?.minutesLimit ?? 0,
      minutes_remaining: usage?.minutesRemaining ?? 0,
      usage_percentage: usage?.usagePercentage ?? 0,
      minutes_reserved: usage?.minutesReserved ?? 0,
      calls: usage?.calls ?? 0,
      period_start: usage?.period.start.toISOString() ?? null,
      period_end: usage?.period.end.toISOString() ?? null,
      overage_policy: usage?.overage.policy ?? null,
      overage_minutes: usage?.overage.minutes ?? 0,
      over_cap_minutes: usage?.overage.overCapMinutes ?? 0,
      overage_cost: usage ? major(usage.overage.cost) : 0,
    },
    daily_usage: view.daily.map((d) => ({
      date: d.day,
      minutes: d.minutes,
      calls: d.calls,
      inbound_minutes: d.inboundMinutes,
      outbound_minutes: d.outboundMinutes,
    })),
    agents: { used: view.agents.active, allowed: view.agents.allowed, total: view.agents.total },
    active_alerts: view.alerts.map((a) => ({
      id: a.id,
      kind: a.kind,
      threshold_percent: a.thresholdPercent,
      minutes_used: a.minutesUsed,
      minutes_limit: a.minutesLimit,
      message: a.message,
      period_start: a.periodStart.toISOString(),
      created_at: a.createdAt.toISOString(),
    })),
    billing_history: view.invoices.map(toSeedContractInvoice),
    quick_actions: view.quickActions.map((a) => ({
      id: a.id,
      label: a.label,
      description: a.description,
      url: a.path,
      urgent: a.urgent,
    })),
    entitlements: {
      has_access: view.entitlements.hasAccess,
      analytics_access: view.entitlements.analytics,
      api_access: view.entitlements.apiAccess,
      call_minutes_limit: view.entitlements.callMinutesLimit,
      agents_allowed: view.entitlements.agentsAllowed,
      overage: view.entitlements.overage,
    },
    forecast: forecast
      ? {
          projected_minutes: forecast.projectedMinutes,
          extrapolated: forecast.extrapolated,
          elapsed_fraction: forecast.elapsedFraction,
          too_early: forecast.tooEarly,
          minutes_limit: forecast.minutesLimit,
          projected_minutes_over: forecast.projectedMinutesOver,
          projected_overage_cost: major(forecast.projectedOverageCost),
          projected_monthly_cost: major(forecast.projectedMonthlyCost),
          projected_to_hit_cap: forecast.projectedToHitCap,
          cap_reached: forecast.capReached,
          currency: forecast.projectedMonthlyCost.currency,
          advice: {
            kind: forecast.advice.kind,
            suggested_package_name: forecast.advice.suggestedPlanName,
            monthly_savings: major(forecast.advice.monthlySavings),
            message: forecast.advice.message,
          },
        }
      : null,
  };
}

export async function registerDashboardRoutes(
  app: FastifyInstance,
  deps: Ports & { auth: Auth },
): Promise<void> {
  defineRoute(app, {
    method: "GET",
    url: "/api/dashboard/comprehensive/",
    tags: ["Dashboard (seed contract)"],
    summary: "Everything the customer dashboard shows, in one response",
    description:
      "The signed-in customer's user and account, subscription, current usage (the seed's usage shape), " +
      "daily usage, agents used and allowed, active alerts, recent billing history, quick actions, " +
      "entitlements and the forecast with plan advice. The same data as the tRPC query dashboard.get.",
    security: sessionSecurity,
    response: {
      200: ZDashboardSchema,
      401: errorResponses[401],
      403: errorResponses[403],
    },
    authorize: (req) => requireCustomer(deps.auth, req),
    handler: async ({ viewer }) => toSeedContractDashboard(await dashboard(deps, viewer)),
  });
}
