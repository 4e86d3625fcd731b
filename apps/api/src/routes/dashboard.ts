// GET /api/dashboard/comprehensive/ (the seed's REST contract): the customer dashboard in one response,
// session-authenticated, snake_case, thin over the same service as the tRPC query dashboard.get.
import { type Auth, type Dashboard, dashboard, type Ports } from "@minutely/api";
import { type Money, toMajorUnits } from "@minutely/domain";
import type { FastifyInstance } from "fastify";
import { requireCustomer } from "../session.ts";
import { invoiceDetailProperties, seedInvoiceJson } from "./invoice-json.ts";
import { errorResponses, sessionSecurity } from "./openapi-schemas.ts";

const MAJOR_UNITS = "In major units (dollars), as in the seed's contract";

const nullableDate = { type: ["string", "null"], format: "date-time" } as const;

const subscriptionSchema = {
  type: "object",
  required: ["status", "status_label", "package_id", "package_name", "cancel_at_period_end"],
  properties: {
    status: {
      type: "string",
      description: "Stripe's subscription status, or none when the account never subscribed",
    },
    status_label: { type: "string" },
    grants_access: { type: "boolean" },
    needs_payment_attention: { type: "boolean", description: "past_due, unpaid or incomplete" },
    package_id: { type: ["string", "null"] },
    package_name: { type: ["string", "null"] },
    monthly_price: { type: ["number", "null"], description: MAJOR_UNITS },
    currency: { type: ["string", "null"] },
    current_period_start: nullableDate,
    current_period_end: nullableDate,
    cancel_at_period_end: { type: "boolean" },
    scheduled_change: {
      type: ["object", "null"],
      description: "A downgrade scheduled for the end of the period",
      properties: {
        package_id: { type: "string" },
        package_name: { type: "string" },
        effective_at: { type: "string", format: "date-time" },
      },
    },
  },
} as const;

const usageSchema = {
  type: "object",
  required: ["minutes_used", "minutes_limit", "minutes_remaining", "usage_percentage"],
  description: "The current billing period (all zero, period null, when the account never subscribed)",
  properties: {
    minutes_used: { type: "integer" },
    minutes_limit: { type: "integer" },
    minutes_remaining: { type: "integer" },
    usage_percentage: { type: "number", description: "One decimal, may exceed 100" },
    minutes_reserved: { type: "integer", description: "Held by authorized calls not reported yet" },
    calls: { type: "integer" },
    period_start: nullableDate,
    period_end: nullableDate,
    overage_policy: { type: ["string", "null"], enum: ["billed", "hard_cap", null] },
    overage_minutes: { type: "integer" },
    over_cap_minutes: {
      type: "integer",
      description: "Minutes beyond a hard cap (calls the cap did not stop): recorded, never billed",
    },
    overage_cost: { type: "number", description: MAJOR_UNITS },
  },
} as const;

const dashboardSchema = {
  type: "object",
  required: [
    "user",
    "account",
    "subscription",
    "user_needs_package_selection",
    "usage",
    "daily_usage",
    "agents",
    "active_alerts",
    "billing_history",
    "quick_actions",
    "entitlements",
    "forecast",
  ],
  properties: {
    user: {
      type: "object",
      properties: { id: { type: "string" }, email: { type: "string" }, name: { type: "string" } },
    },
    account: { type: "object", properties: { id: { type: "string" }, name: { type: "string" } } },
    subscription: subscriptionSchema,
    user_needs_package_selection: { type: "boolean" },
    usage: usageSchema,
    daily_usage: {
      type: "array",
      description: "One entry per UTC day of the current period, zero-filled",
      items: {
        type: "object",
        properties: {
          date: { type: "string", format: "date" },
          minutes: { type: "integer" },
          calls: { type: "integer" },
          inbound_minutes: { type: "integer" },
          outbound_minutes: { type: "integer" },
        },
      },
    },
    agents: {
      type: "object",
      required: ["used", "allowed"],
      properties: {
        used: { type: "integer", description: "Active agents" },
        allowed: { type: "integer", description: "Active agents the package allows (0 without access)" },
        total: { type: "integer", description: "Active and inactive agents" },
      },
    },
    active_alerts: {
      type: "array",
      description:
        "Active usage alerts, newest first: undismissed, of the current period and measured against the current package's included minutes",
      items: {
        type: "object",
        properties: {
          id: { type: "string" },
          kind: { type: "string", enum: ["threshold", "overage", "limit_reached"] },
          threshold_percent: { type: "integer" },
          minutes_used: { type: "integer" },
          minutes_limit: { type: "integer" },
          message: { type: "string" },
          period_start: { type: "string", format: "date-time" },
          created_at: { type: "string", format: "date-time" },
        },
      },
    },
    billing_history: {
      type: "array",
      description: "The 5 most recent invoices, newest first",
      items: {
        type: "object",
        properties: {
          id: { type: "string" },
          number: { type: ["string", "null"] },
          date: { type: "string", format: "date-time" },
          amount: { type: "number", description: MAJOR_UNITS },
          amount_cents: { type: "integer" },
          refunded_cents: {
            type: "integer",
            description: "Paid and refunded (a second subscription Minutely canceled); 0 otherwise",
          },
          currency: { type: "string" },
          status: { type: "string" },
          hosted_invoice_url: { type: ["string", "null"] },
          invoice_pdf: { type: ["string", "null"] },
          ...invoiceDetailProperties,
        },
      },
    },
    quick_actions: {
      type: "array",
      items: {
        type: "object",
        properties: {
          id: { type: "string" },
          label: { type: "string", examples: ["Subscription & Packages"] },
          description: { type: "string" },
          url: { type: "string", description: "A page of the customer app" },
          urgent: { type: "boolean" },
        },
      },
    },
    entitlements: {
      type: "object",
      properties: {
        has_access: { type: "boolean" },
        analytics_access: { type: "boolean" },
        api_access: { type: "boolean" },
        call_minutes_limit: { type: "integer" },
        agents_allowed: { type: "integer" },
        overage: { type: "string", enum: ["billed", "hard_cap"] },
      },
    },
    forecast: {
      type: ["object", "null"],
      description: "The period at the current pace and plan advice (null without an active subscription)",
      properties: {
        projected_minutes: { type: "integer" },
        extrapolated: {
          type: "boolean",
          description: "False during the first hour of the period: the projection is the usage so far",
        },
        elapsed_fraction: { type: "number" },
        too_early: {
          type: "boolean",
          description: "The period is too young to extrapolate; the advice then only ever suggests upgrades",
        },
        minutes_limit: { type: "integer" },
        projected_minutes_over: { type: "integer" },
        projected_overage_cost: { type: "number", description: MAJOR_UNITS },
        projected_monthly_cost: { type: "number", description: MAJOR_UNITS },
        projected_to_hit_cap: { type: "boolean" },
        cap_reached: {
          type: "boolean",
          description:
            "Hard-cap packages only: the included minutes are used up, so outbound calls are paused until " +
            "the period ends (known from the usage so far, so also in the period's first hour)",
        },
        currency: { type: "string" },
        advice: {
          type: "object",
          properties: {
            kind: { type: "string", enum: ["stay", "upgrade", "downgrade"] },
            suggested_package_name: { type: "string" },
            monthly_savings: { type: "number", description: MAJOR_UNITS },
            message: {
              type: "string",
              examples: ["At this pace you will use 1,450 of 1,000 minutes; Pro would save $20.00 a month."],
            },
          },
        },
      },
    },
  },
} as const;

const major = (m: Money) => toMajorUnits(m);

/** The service's dashboard in the seed's snake_case names (money in major units). */
export function dashboardJson(view: Dashboard) {
  const { subscription: sub, usage, forecast } = view;
  return {
    user: view.user,
    account: view.account,
    subscription: {
      status: sub.status,
      status_label: sub.statusLabel,
      grants_access: sub.grantsAccess,
      needs_payment_attention: sub.needsPaymentAttention,
      package_id: sub.package?.id ?? null,
      package_name: sub.package?.name ?? null,
      monthly_price: sub.package ? major(sub.package.monthlyPrice) : null,
      currency: sub.package?.monthlyPrice.currency ?? null,
      current_period_start: sub.currentPeriodStart?.toISOString() ?? null,
      current_period_end: sub.currentPeriodEnd?.toISOString() ?? null,
      cancel_at_period_end: sub.cancelAtPeriodEnd,
      scheduled_change: sub.scheduledChange
        ? {
            package_id: sub.scheduledChange.packageId,
            package_name: sub.scheduledChange.packageName,
            effective_at: sub.scheduledChange.effectiveAt.toISOString(),
          }
        : null,
    },
    user_needs_package_selection: view.needsPackageSelection,
    usage: {
      minutes_used: usage?.minutes_used ?? 0,
      minutes_limit: usage?.minutes_limit ?? 0,
      minutes_remaining: usage?.minutes_remaining ?? 0,
      usage_percentage: usage?.usage_percentage ?? 0,
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
    billing_history: view.invoices.map(seedInvoiceJson),
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
  app.get(
    "/api/dashboard/comprehensive/",
    {
      schema: {
        tags: ["Dashboard (seed contract)"],
        summary: "Everything the customer dashboard shows, in one response",
        description:
          "The signed-in customer's user and account, subscription, current usage (the seed's usage shape), " +
          "daily usage, agents used and allowed, active alerts, recent billing history, quick actions, " +
          "entitlements and the forecast with plan advice. The same data as the tRPC query dashboard.get.",
        security: sessionSecurity,
        response: {
          200: dashboardSchema,
          401: errorResponses[401],
          403: errorResponses[403],
        },
      },
    },
    async (req) => {
      const viewer = await requireCustomer(deps.auth, req);
      return dashboardJson(await dashboard(deps, viewer));
    },
  );
}
