// The seed's REST contract, session-authenticated, thin over the same services as the tRPC procedures.
import { type Auth, legacyAdminPackages, legacyUserPackages, type Ports } from "@minutely/api";
import type { FastifyInstance } from "fastify";
import { requireAdmin, requireCustomer } from "../session.ts";
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
          currency: { type: "string" },
          current: { type: "boolean" },
          subscribers: { type: "integer" },
        },
      },
    },
  },
} as const;

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
}
