// The seed contract's subscription routes, session-authenticated, thin over the same services as the tRPC
// procedures (subscription.*, catalog.*): each action calls the service function its procedure calls.
import {
  AppError,
  type Auth,
  listPackagesForAdmin,
  type Ports,
  packageSelection,
  pauseSubscription,
  resumePausedSubscription,
  subscriptions,
} from "@minutely/api";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { requireAdmin, requireCustomer } from "../session.ts";
import { defineRoute } from "./define-route.ts";
import { toSeedContractInvoice, ZSeedContractInvoiceSchema } from "./invoice-json.ts";
import { errorResponses, sessionSecurity } from "./openapi-schemas.ts";
import {
  toSeedContractAdminPackage,
  toSeedContractSubscription,
  toSeedContractUserPackages,
  ZSeedContractAdminPackageSchema,
  ZSeedContractSubscriptionSchema,
  ZSeedContractUserPackagesSchema,
} from "./seed-contract.ts";

const TAG = "Subscriptions (seed contract)";

/** Unix seconds of 9999-12-31: the latest time a Date (and PostgreSQL) holds that the API accepts. */
const MAX_UNIX_SECONDS = 253_402_300_799;

const ACTIONS = [
  "subscribe",
  "upgrade",
  "downgrade",
  "cancel",
  "resume",
  "pause",
  "resume_pause",
  "billing_history",
] as const;

const ZActionRequestSchema = z.strictObject({
  action: z.enum(ACTIONS, { error: `must be one of ${ACTIONS.join(", ")}` }),
  package_id: z.uuid("must be a package id").optional(),
  payment_method_id: z
    .string()
    .regex(/^pm_\w+$/, "must be a Stripe payment method id such as pm_card_visa")
    // Stripe's ids are about 27 characters; the id is part of Stripe idempotency keys (at most 255).
    .max(64, "must be a Stripe payment method id (at most 64 characters)")
    .optional()
    .meta({ examples: ["pm_card_visa"] }),
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
    .optional()
    .meta({
      description:
        "Upgrade: the Unix time (seconds) of the preview being confirmed; now when omitted. Must be " +
        "within the current billing period, not in the future and at most 30 minutes old (400 otherwise).",
    }),
  expected_total_cents: z
    .number()
    .int("must be a whole number of minor units")
    .min(0, "must be at least 0")
    .max(Number.MAX_SAFE_INTEGER, "is too large")
    .optional()
    .meta({
      description:
        "Upgrade: the previewed total due now (minor units) being confirmed; when the upgrade would now " +
        "charge another (the tax changed with the billing address), it is a 409 naming expected_total_cents " +
        "and nothing changes.",
    }),
  /** Subscribe: a promotion code (any case); refused with a 400 naming promotion_code and why. */
  promotion_code: z
    .string()
    .trim()
    .min(1, "must be a promotion code")
    .max(100, "must be at most 100 characters")
    .optional()
    .meta({ examples: ["SPRING-25"] }),
  /** Subscribe: the currency to buy in; the account's (else the package's own) when omitted. */
  currency: z
    .enum(["usd", "eur", "gbp"], { error: "must be one of usd, eur, gbp" })
    .optional()
    .meta({
      description:
        "Subscribe: the currency to buy in (usd, eur, gbp); when omitted, the account's billing currency, " +
        "else the package's own. An account's currency is fixed at its first purchase: another is refused " +
        "(409 naming currency), as is one the package is not sold in.",
    }),
  /** Downgrade: the agents to keep active when the package allows fewer than are active. */
  keep_agent_ids: z.array(z.uuid()).max(1000).optional(),
  /** Pause: how many billing periods (1-3), or null until resumed. Required for pause. */
  pause_periods: z
    .union([z.literal(1), z.literal(2), z.literal(3)], {
      error: "must be 1, 2 or 3 billing periods, or null",
    })
    .nullable()
    .optional()
    .meta({
      description:
        "Pause (required): 1, 2 or 3 billing periods from the end of the period paid, or null for until resumed.",
    }),
});

/** The subscription in an action's answer: the seed contract's subscription, its core fields. */
const ZActionSubscriptionSchema = ZSeedContractSubscriptionSchema.pick({
  status: true,
  status_label: true,
  package_id: true,
  package_name: true,
  current_period_start: true,
  current_period_end: true,
  cancel_at_period_end: true,
  scheduled_change: true,
  pause: true,
});

const ZActionResponseSchema = z.object({
  action: z.enum(ACTIONS),
  result: z.enum(["checkout", "subscribed", "updated", "invoices"]),
  checkout_url: z.string().optional().meta({
    description:
      "subscribe without payment_method_id: Stripe Checkout (not for a trial without a card: it starts at once)",
  }),
  subscription: ZActionSubscriptionSchema.optional(),
  invoices: z.array(ZSeedContractInvoiceSchema).optional().meta({ description: "billing_history" }),
});

type ActionRequest = z.output<typeof ZActionRequestSchema>;
type ActionAnswer = Omit<z.input<typeof ZActionResponseSchema>, "action">;
type Account = { accountId: string; email: string; name: string; emailVerified?: boolean | undefined };

const updated = (overview: subscriptions.SubscriptionOverview): ActionAnswer => ({
  result: "updated",
  subscription: toSeedContractSubscription(overview),
});

/** Each action: the seed's body to the service's input, the service's answer to the seed's. */
const ACTION_HANDLERS: Record<
  ActionRequest["action"],
  (deps: Ports, account: Account, body: ActionRequest) => Promise<ActionAnswer>
> = {
  subscribe: async (deps, account, body) => {
    const result = await subscriptions.subscribe(deps, account, {
      packageId: body.package_id,
      paymentMethodId: body.payment_method_id,
      promotionCode: body.promotion_code,
      currency: body.currency,
    });
    return result.kind === "checkout"
      ? { result: "checkout", checkout_url: result.url }
      : { result: "subscribed", subscription: toSeedContractSubscription(result.subscription) };
  },
  upgrade: async (deps, account, body) =>
    updated(
      await subscriptions.upgrade(deps, account, {
        packageId: body.package_id,
        prorationDate: body.proration_date === undefined ? undefined : new Date(body.proration_date * 1000),
        expectedTotalCents: body.expected_total_cents,
      }),
    ),
  downgrade: async (deps, account, body) =>
    updated(
      await subscriptions.downgrade(deps, account, {
        packageId: body.package_id,
        keepAgentIds: body.keep_agent_ids,
      }),
    ),
  cancel: async (deps, account) => updated(await subscriptions.cancel(deps, account)),
  resume: async (deps, account) => updated(await subscriptions.resume(deps, account)),
  pause: async (deps, account, body) => {
    if (body.pause_periods === undefined) {
      throw new AppError(
        "BAD_REQUEST",
        "pause_periods is required: 1, 2 or 3 billing periods, or null for until resumed.",
        "pause_periods",
      );
    }
    return updated(await pauseSubscription(deps, account.accountId, body.pause_periods));
  },
  resume_pause: async (deps, account) => updated(await resumePausedSubscription(deps, account.accountId)),
  billing_history: async (deps, account) => ({
    result: "invoices",
    invoices: (await subscriptions.billingHistory(deps, account.accountId)).map(toSeedContractInvoice),
  }),
};

export async function registerSubscriptionRoutes(
  app: FastifyInstance,
  deps: Ports & { auth: Auth },
): Promise<void> {
  defineRoute(app, {
    method: "GET",
    url: "/api/subscriptions/user/packages/",
    tags: [TAG],
    summary: "Packages to choose from, the feature comparison, and whether the account must pick one",
    description:
      "Prices are in the account's billing currency once it has one (fixed at its first purchase), else in " +
      "`currency` when given, else each package's own. A package without a price in that currency is listed " +
      "in its own and marked unavailable.",
    security: sessionSecurity,
    query: z.strictObject({
      currency: z
        .enum(["usd", "eur", "gbp"], { error: "must be one of usd, eur, gbp" })
        .optional()
        .meta({ description: "The currency to show prices in until the account has a billing currency." }),
    }),
    response: {
      200: ZSeedContractUserPackagesSchema,
      400: errorResponses[400],
      401: errorResponses[401],
      403: errorResponses[403],
    },
    authorize: (req) => requireCustomer(deps.auth, req),
    handler: async ({ viewer, query }) =>
      toSeedContractUserPackages(
        await packageSelection(deps, viewer.accountId, query.currency as "usd" | "eur" | "gbp" | undefined),
      ),
  });

  defineRoute(app, {
    method: "GET",
    url: "/api/subscriptions/admin/packages/",
    tags: [TAG],
    summary: "Every package with every field (admins only)",
    security: sessionSecurity,
    response: {
      200: z.object({ packages: z.array(ZSeedContractAdminPackageSchema) }),
      401: errorResponses[401],
      403: errorResponses[403],
    },
    authorize: (req) => requireAdmin(deps.auth, req),
    handler: async () => ({ packages: (await listPackagesForAdmin(deps)).map(toSeedContractAdminPackage) }),
  });

  defineRoute(app, {
    method: "POST",
    url: "/api/subscriptions/user/actions/",
    tags: [TAG],
    summary:
      "Subscribe, upgrade (prorated now), downgrade (next cycle), cancel, resume, pause, resume_pause, or list invoices",
    description:
      "Without payment_method_id, subscribe returns a Stripe Checkout URL to send the customer to. " +
      "A package with a free trial (the package list's trial) starts it when the account never had one and " +
      "the card never started another account's trial: a trial without a card starts at once (result " +
      "subscribed, status trialing, no Checkout); one that needs a card goes through Checkout (or the " +
      "payment_method_id given), nothing charged until the trial ends. During a trial an upgrade is free and " +
      "at once (no proration); a downgrade takes effect at the trial's end. " +
      "Every action is idempotent: repeating a request that already took effect changes nothing.",
    security: sessionSecurity,
    body: ZActionRequestSchema,
    response: {
      200: ZActionResponseSchema,
      ...errorResponses,
      402: { ...errorResponses[400], description: "Card declined or authentication required" },
    },
    authorize: (req) => requireCustomer(deps.auth, req),
    handler: async ({ viewer, body }) => {
      const account = {
        accountId: viewer.accountId,
        email: viewer.email,
        name: viewer.name,
        emailVerified: viewer.emailVerified,
      };
      return { action: body.action, ...(await ACTION_HANDLERS[body.action](deps, account, body)) };
    },
  });
}
