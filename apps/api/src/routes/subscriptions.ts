// The seed's REST contract, session-authenticated, thin over the same services as the tRPC procedures.
import { type Auth, legacyAdminPackages, legacyUserPackages, type Ports, subscriptions } from "@minutely/api";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { parse } from "../rest.ts";
import { requireAdmin, requireCustomer } from "../session.ts";
import { seedInvoiceJson } from "./invoice-json.ts";
import { errorResponses, sessionSecurity } from "./openapi-schemas.ts";

const featureComparisonSchema = {
  type: "object",
  required: ["features", "packages"],
  properties: {
    features: { type: "array", items: { type: "string" } },
    packages: { type: "object", additionalProperties: { type: "array", items: { type: "string" } } },
  },
} as const;

const userPackageSchema = {
  type: "object",
  required: [
    "id",
    "package_name",
    "monthly_price",
    "call_minutes_limit",
    "agents_allowed",
    "analytics_access",
    "api_access",
    "recommended",
  ],
  properties: {
    id: { type: "string", format: "uuid" },
    package_name: { type: "string" },
    description: { type: "string" },
    monthly_price: { type: "number", description: "In major units (dollars), as in the seed's contract" },
    currency: { type: "string" },
    call_minutes_limit: { type: "integer" },
    agents_allowed: { type: "integer" },
    analytics_access: { type: "boolean" },
    api_access: { type: "boolean" },
    overage_price_per_minute: { type: ["number", "null"] },
    recommended: { type: "boolean" },
  },
} as const;

const adminPackageSchema = {
  type: "object",
  properties: {
    ...userPackageSchema.properties,
    monthly_price_cents: { type: "integer" },
    overage_price_cents_per_minute: { type: ["integer", "null"] },
    active: { type: "boolean" },
    sort_order: { type: "integer" },
    stripe_product_id: { type: ["string", "null"] },
    stripe_price_id: { type: ["string", "null"] },
    subscribers: { type: "integer" },
    prices: {
      type: "array",
      items: {
        type: "object",
        properties: {
          stripe_price_id: { type: "string" },
          amount_cents: { type: "integer" },
          refunded_cents: {
            type: "integer",
            description: "Paid and refunded (a second subscription Minutely canceled); 0 otherwise",
          },
          currency: { type: "string" },
          current: { type: "boolean" },
          subscribers: { type: "integer" },
        },
      },
    },
  },
} as const;

/** Unix seconds of 9999-12-31: the latest time a Date (and PostgreSQL) holds that the API accepts. */
const MAX_UNIX_SECONDS = 253_402_300_799;

const ZActionRequestSchema = z.strictObject({
  action: z.enum(["subscribe", "upgrade", "downgrade", "cancel", "resume", "billing_history"], {
    error: "must be one of subscribe, upgrade, downgrade, cancel, resume, billing_history",
  }),
  package_id: z.uuid("must be a package id").optional(),
  payment_method_id: z
    .string()
    .regex(/^pm_\w+$/, "must be a Stripe payment method id such as pm_card_visa")
    .optional(),
  /**
   * Upgrade: the proration date (Unix seconds) of the preview being confirmed; now when omitted. The range
   * here is what can be a time at all; the service then requires it within the current period, at most 30
   * minutes old and not in the future.
   */
  proration_date: z
    .number()
    .int("must be a whole number of seconds (Unix time)")
    .min(1, "must be a Unix timestamp in seconds")
    .max(MAX_UNIX_SECONDS, "must be a Unix timestamp in seconds")
    .optional(),
  /** Downgrade: the agents to keep active when the package allows fewer than are active. */
  keep_agent_ids: z.array(z.uuid()).max(1000).optional(),
});

function subscriptionJson(overview: subscriptions.SubscriptionOverview) {
  return {
    status: overview.status,
    status_label: overview.statusLabel,
    package_id: overview.package?.id ?? null,
    package_name: overview.package?.name ?? null,
    current_period_start: overview.currentPeriodStart?.toISOString() ?? null,
    current_period_end: overview.currentPeriodEnd?.toISOString() ?? null,
    cancel_at_period_end: overview.cancelAtPeriodEnd,
    scheduled_change: overview.scheduledChange
      ? {
          package_id: overview.scheduledChange.packageId,
          package_name: overview.scheduledChange.packageName,
          effective_at: overview.scheduledChange.effectiveAt.toISOString(),
        }
      : null,
  };
}

export async function registerSubscriptionRoutes(
  app: FastifyInstance,
  deps: Ports & { auth: Auth },
): Promise<void> {
  app.get(
    "/api/subscriptions/user/packages/",
    {
      schema: {
        tags: ["Subscriptions (seed contract)"],
        summary: "Packages to choose from, the feature comparison, and whether the account must pick one",
        security: sessionSecurity,
        response: {
          200: {
            type: "object",
            required: [
              "available_packages",
              "feature_comparison",
              "user_needs_package_selection",
              "current_package_id",
            ],
            properties: {
              available_packages: { type: "array", items: userPackageSchema },
              feature_comparison: featureComparisonSchema,
              user_needs_package_selection: { type: "boolean" },
              current_package_id: { type: ["string", "null"] },
            },
          },
          401: errorResponses[401],
          403: errorResponses[403],
        },
      },
    },
    async (req) => {
      const viewer = await requireCustomer(deps.auth, req);
      return await legacyUserPackages(deps, viewer.accountId);
    },
  );

  app.get(
    "/api/subscriptions/admin/packages/",
    {
      schema: {
        tags: ["Subscriptions (seed contract)"],
        summary: "Every package with every field (admins only)",
        security: sessionSecurity,
        response: {
          200: {
            type: "object",
            required: ["packages"],
            properties: { packages: { type: "array", items: adminPackageSchema } },
          },
          401: errorResponses[401],
          403: errorResponses[403],
        },
      },
    },
    async (req) => {
      await requireAdmin(deps.auth, req);
      return { packages: await legacyAdminPackages(deps) };
    },
  );

  app.post(
    "/api/subscriptions/user/actions/",
    {
      schema: {
        tags: ["Subscriptions (seed contract)"],
        summary:
          "Subscribe, upgrade (prorated now), downgrade (next cycle), cancel, resume, or list invoices",
        description:
          "Without payment_method_id, subscribe returns a Stripe Checkout URL to send the customer to. " +
          "Every action is idempotent: repeating a request that already took effect changes nothing.",
        security: sessionSecurity,
        body: {
          type: "object",
          required: ["action"],
          properties: {
            action: {
              type: "string",
              enum: ["subscribe", "upgrade", "downgrade", "cancel", "resume", "billing_history"],
            },
            package_id: { type: "string", format: "uuid" },
            payment_method_id: { type: "string", examples: ["pm_card_visa"] },
            proration_date: {
              type: "integer",
              minimum: 1,
              maximum: 253_402_300_799,
              description:
                "Upgrade: the Unix time (seconds) of the preview being confirmed; now when omitted. Must be " +
                "within the current billing period, not in the future and at most 30 minutes old (400 otherwise).",
            },
            keep_agent_ids: { type: "array", items: { type: "string", format: "uuid" } },
          },
        },
        response: {
          200: {
            type: "object",
            properties: {
              action: { type: "string" },
              result: { type: "string", enum: ["checkout", "subscribed", "updated", "invoices"] },
              checkout_url: { type: "string" },
              subscription: { type: "object", additionalProperties: true },
              invoices: { type: "array", items: { type: "object", additionalProperties: true } },
            },
          },
          ...errorResponses,
          402: { ...errorResponses[400], description: "Card declined or authentication required" },
        },
      },
      // Validation is done by zod below, so the error names the field the way every other route does.
      attachValidation: true,
    },
    async (req) => {
      const viewer = await requireCustomer(deps.auth, req);
      const body = parse(ZActionRequestSchema, req.body);
      const account = { accountId: viewer.accountId, email: viewer.email, name: viewer.name };
      switch (body.action) {
        case "subscribe": {
          const result = await subscriptions.subscribe(deps, account, {
            packageId: body.package_id,
            paymentMethodId: body.payment_method_id,
          });
          return result.kind === "checkout"
            ? { action: body.action, result: "checkout", checkout_url: result.url }
            : {
                action: body.action,
                result: "subscribed",
                subscription: subscriptionJson(result.subscription),
              };
        }
        case "upgrade": {
          const overview = await subscriptions.upgrade(deps, account, {
            packageId: body.package_id,
            prorationDate:
              body.proration_date === undefined ? undefined : new Date(body.proration_date * 1000),
          });
          return { action: body.action, result: "updated", subscription: subscriptionJson(overview) };
        }
        case "downgrade": {
          const overview = await subscriptions.downgrade(deps, account, {
            packageId: body.package_id,
            keepAgentIds: body.keep_agent_ids,
          });
          return { action: body.action, result: "updated", subscription: subscriptionJson(overview) };
        }
        case "cancel":
          return {
            action: body.action,
            result: "updated",
            subscription: subscriptionJson(await subscriptions.cancel(deps, account)),
          };
        case "resume":
          return {
            action: body.action,
            result: "updated",
            subscription: subscriptionJson(await subscriptions.resume(deps, account)),
          };
        case "billing_history": {
          const invoices = await subscriptions.billingHistory(deps, viewer.accountId);
          return {
            action: body.action,
            result: "invoices",
            invoices: invoices.map(seedInvoiceJson),
          };
        }
        default: {
          const unreachable: never = body.action;
          return unreachable;
        }
      }
    },
  );
}
