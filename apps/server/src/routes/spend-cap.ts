// The customer's overage budget (spend cap) over REST, session-authenticated, thin over the same services as
// the tRPC procedures spendCap.get / spendCap.set. Money is integer minor units with its currency.
import {
  AppError,
  type Auth,
  type Ports,
  runIdempotently,
  type SpendCapView,
  setSpendCap,
  spendCapView,
  ZRequestKeySchema,
} from "@minutely/api";
import { CURRENCIES, MAX_SPEND_CAP_CENTS, MIN_SPEND_CAP_CENTS } from "@minutely/domain";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { RestError } from "../rest.ts";
import { requireCustomer } from "../session.ts";
import { defineRoute } from "./define-route.ts";
import { errorResponses, sessionSecurity } from "./openapi-schemas.ts";

const TAG = "Spend cap";
const IDEMPOTENCY_HEADER = "Idempotency-Key";

const ZCurrencySchema = z.enum(CURRENCIES, { error: "must be usd, eur or gbp (lowercase)" });

const ZSpendCapRequestSchema = z.strictObject({
  amount_cents: z
    .number({ error: "must be a whole number of minor units (cents), or null for no budget" })
    // The bounds first: an absurdly large number (1e308, 2^53 + 1) is above the maximum before it is not a
    // safe whole number, and the first issue is the one answered.
    .max(MAX_SPEND_CAP_CENTS, `must be at most ${MAX_SPEND_CAP_CENTS}`)
    .min(MIN_SPEND_CAP_CENTS, "must not be negative")
    .int("must be a whole number of minor units (cents)")
    .nullable()
    .meta({
      description:
        "The most the overage of one billing period may cost, in integer minor units of `currency`; null removes the budget.",
      examples: [5000],
    }),
  currency: ZCurrencySchema.meta({ description: "The account's billing currency", examples: ["usd"] }),
});

const ZSpendCapSchema = z.object({ amount_cents: z.number().int(), currency: ZCurrencySchema });

const ZSpendCapResponseSchema = z.object({
  spend_cap: ZSpendCapSchema.nullable().meta({ description: "The budget set, or null for none" }),
  available: z
    .boolean()
    .meta({ description: "Whether the package bills overage (only then can a budget be set)" }),
  currency: ZCurrencySchema.nullable().meta({ description: "The billing currency; null before subscribing" }),
  status: z
    .object({
      spent_cents: z
        .number()
        .int()
        .meta({
          description:
            "Overage of this period billed or billable so far, in minor units: at most the budget, unless the " +
            "budget was lowered below what was already billed (nothing billed is reversed; that amount is shown)",
        }),
      percentage: z.number().int(),
      reached: z.boolean().meta({ description: "The budget is used up: outbound calls are denied" }),
    })
    .nullable(),
  period_start: z.iso.datetime().nullable(),
  period_end: z.iso.datetime().nullable(),
  min_cents: z.number().int(),
  max_cents: z.number().int(),
});

function toJson(view: SpendCapView): z.input<typeof ZSpendCapResponseSchema> {
  return {
    spend_cap: view.cap ? { amount_cents: view.cap.amountCents, currency: view.cap.currency } : null,
    available: view.available,
    currency: view.currency,
    status: view.status
      ? {
          spent_cents: view.status.spentCents,
          percentage: view.status.percentage,
          reached: view.status.reached,
        }
      : null,
    period_start: view.period?.start.toISOString() ?? null,
    period_end: view.period?.end.toISOString() ?? null,
    min_cents: view.minCents,
    max_cents: view.maxCents,
  };
}

function idempotencyKeyOf(req: FastifyRequest): string | undefined {
  const value = req.headers["idempotency-key"];
  if (value === undefined) return undefined;
  const parsed = ZRequestKeySchema.safeParse(value);
  if (!parsed.success || parsed.data === undefined) {
    throw new RestError(400, {
      error: "validation_error",
      message: `Invalid header: ${IDEMPOTENCY_HEADER} must be 8 to 64 letters, digits, _ or -`,
      fields: { [IDEMPOTENCY_HEADER]: "must be 8 to 64 letters, digits, _ or -" },
    });
  }
  return parsed.data;
}

export async function registerSpendCapRoutes(
  app: FastifyInstance,
  deps: Ports & { auth: Auth },
): Promise<void> {
  defineRoute(app, {
    method: "GET",
    url: "/api/billing/spend-cap",
    tags: [TAG],
    summary: "The overage budget and the current period's overage against it",
    security: sessionSecurity,
    response: { 200: ZSpendCapResponseSchema, 401: errorResponses[401], 403: errorResponses[403] },
    authorize: (req) => requireCustomer(deps.auth, req),
    handler: async ({ viewer }) => toJson(await spendCapView(deps, viewer.accountId)),
  });

  defineRoute(app, {
    method: "POST",
    url: "/api/billing/spend-cap",
    tags: [TAG],
    summary: "Set, change or remove the monthly overage budget (spend cap)",
    description:
      "Only for packages with an overage price. Once the period's overage reaches the budget, outbound calls " +
      "are denied (spend_cap_reached) until the next period or a higher budget; overage is never billed " +
      "beyond the budget in force. Lowering it reverses nothing already billed. Setting the same value " +
      "changes nothing; an optional Idempotency-Key header replays the first answer of a retried request " +
      "(the same key with another body is a 409 naming the header). Every change is in the account's audit log.",
    security: sessionSecurity,
    body: ZSpendCapRequestSchema,
    response: { 200: ZSpendCapResponseSchema, ...errorResponses },
    authorize: (req) => requireCustomer(deps.auth, req),
    handler: async ({ req, viewer, body }) => {
      const key = idempotencyKeyOf(req);
      // A removal names the currency too: it must be the billing currency, as for a budget.
      const cap = { amountCents: body.amount_cents, currency: body.currency };
      const answer = await runIdempotently(
        { db: deps.db, settings: deps.settings, viewer },
        "spendCap.set",
        key,
        { amountCents: body.amount_cents, currency: body.currency },
        async () => ({ ok: true, data: await setSpendCap(deps, viewer, viewer.accountId, cap) }),
        { keyName: IDEMPOTENCY_HEADER },
      ).catch((error: unknown) => {
        // The key's refusal names the header as sent (the error handler would snake_case a field name).
        if (error instanceof AppError && error.field === IDEMPOTENCY_HEADER) {
          throw new RestError(409, {
            error: "idempotency_key_conflict",
            message: error.message,
            fields: { [IDEMPOTENCY_HEADER]: error.message },
          });
        }
        throw error;
      });
      const view = ("ran" in answer ? answer.ran.data : answer.replayed) as SpendCapView;
      return toJson(view);
    },
  });
}
