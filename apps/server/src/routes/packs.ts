// Prepaid minute packs over REST, session-authenticated, thin over the same services as the tRPC procedures
// packs.*: the packs on offer, the balance and ledger, buying one (Checkout in payment mode, or the saved
// card off-session) and the auto top-up settings. Money is integer minor units with its currency; every
// number has its range; wrong JSON types are refused, never coerced.
import {
  AppError,
  type Auth,
  type AutoTopUpView,
  assertMayBuyPacks,
  autoTopUpView,
  buyPackWithCheckout,
  buyPackWithSavedCard,
  httpStatusOf,
  listOfferedPacks,
  type MinutePackView,
  type PackLedgerView,
  type Ports,
  packLedgerView,
  setAutoTopUp,
  ZRequestKeySchema,
} from "@minutely/api";
import { CURRENCIES, MAX_AUTO_TOP_UP_THRESHOLD_MINUTES, MAX_AUTO_TOP_UPS_PER_MONTH } from "@minutely/domain";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { RestError } from "../rest.ts";
import { requireCustomer } from "../session.ts";
import { defineRoute } from "./define-route.ts";
import { documented, errorResponses, sessionSecurity } from "./openapi-schemas.ts";

const TAG = "Minute packs";
const IDEMPOTENCY_HEADER = "Idempotency-Key";
const ZCurrencySchema = z.enum(CURRENCIES);

const ZPackSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  minutes: z.number().int().meta({ description: "Minutes the pack grants" }),
  price_cents: z.number().int().meta({ description: "One-time price in integer minor units of currency" }),
  currency: ZCurrencySchema,
  validity_months: z.number().int().meta({ description: "Months the minutes stay usable after purchase" }),
});

const packJson = (p: MinutePackView): z.input<typeof ZPackSchema> => ({
  id: p.id,
  name: p.name,
  minutes: p.minutes,
  price_cents: p.priceCents,
  currency: p.currency,
  validity_months: p.validityMonths,
});

const ZLedgerSchema = z.object({
  balance_minutes: z.number().int().meta({ description: "Pack minutes usable now" }),
  next_expiry: z.object({ at: z.iso.datetime(), minutes: z.number().int() }).nullable(),
  totals: z
    .object({
      bought: z.number().int(),
      used: z.number().int(),
      expired: z.number().int(),
      remaining: z.number().int(),
    })
    .meta({ description: "bought = used + expired + remaining" }),
  packs: z.array(
    z.object({
      id: z.uuid(),
      name: z.string().nullable(),
      minutes: z.number().int(),
      used: z.number().int(),
      remaining: z.number().int(),
      expired: z.number().int(),
      price_cents: z.number().int(),
      currency: ZCurrencySchema,
      bought_at: z.iso.datetime(),
      expires_at: z.iso.datetime(),
      state: z.enum(["active", "used_up", "expired"]),
    }),
  ),
  used_per_period: z.array(z.object({ period_start: z.iso.datetime(), minutes: z.number().int() })),
});

function ledgerJson(view: PackLedgerView): z.input<typeof ZLedgerSchema> {
  return {
    balance_minutes: view.balance.minutes,
    next_expiry: view.balance.nextExpiry
      ? { at: view.balance.nextExpiry.at.toISOString(), minutes: view.balance.nextExpiry.minutes }
      : null,
    totals: view.totals,
    packs: view.grants.map((g) => ({
      id: g.id,
      name: g.packName,
      minutes: g.minutes,
      used: g.used,
      remaining: g.remaining,
      expired: g.expired,
      price_cents: g.priceCents,
      currency: g.currency,
      bought_at: g.grantedAt.toISOString(),
      expires_at: g.expiresAt.toISOString(),
      state: g.state,
    })),
    used_per_period: view.periods.map((p) => ({
      period_start: p.periodStart.toISOString(),
      minutes: p.minutes,
    })),
  };
}

const ZPurchaseRequestSchema = z.strictObject({
  pack_id: z.uuid("must be a pack id"),
  method: z
    .enum(["checkout", "saved_card"], { error: "must be checkout or saved_card" })
    .meta({ description: "checkout: a hosted payment page (answers its url); saved_card: charged at once" }),
});

const ZPurchaseResponseSchema = z.object({
  checkout_url: z.string().nullable().meta({ description: "Send the customer here (method checkout)" }),
  ledger: ZLedgerSchema.nullable().meta({ description: "The balance after a saved-card purchase" }),
});

const ZAutoTopUpRequestSchema = z.strictObject({
  auto_top_up: z
    .strictObject({
      pack_id: z.uuid("must be a pack id"),
      threshold_minutes: z
        .number({ error: "must be a whole number of minutes" })
        .int("must be a whole number of minutes")
        .min(1, "must be at least 1")
        .max(MAX_AUTO_TOP_UP_THRESHOLD_MINUTES, `must be at most ${MAX_AUTO_TOP_UP_THRESHOLD_MINUTES}`),
      max_per_month: z
        .number({ error: "must be a whole number" })
        .int("must be a whole number")
        .min(1, "must be at least 1")
        .max(MAX_AUTO_TOP_UPS_PER_MONTH, `must be at most ${MAX_AUTO_TOP_UPS_PER_MONTH}`),
    })
    .nullable()
    .meta({ description: "Buy pack_id when the balance falls below threshold_minutes; null turns it off" }),
});

const ZAutoTopUpResponseSchema = z.object({
  auto_top_up: z
    .object({ pack_id: z.uuid(), threshold_minutes: z.number().int(), max_per_month: z.number().int() })
    .nullable(),
  stopped: z
    .object({ at: z.iso.datetime(), message: z.string().nullable() })
    .nullable()
    .meta({ description: "A declined or 3-D Secure top-up stopped it until the settings are saved again" }),
  this_month: z.array(
    z.object({
      id: z.uuid(),
      status: z.enum(["pending", "succeeded", "declined", "requires_action"]),
      message: z.string().nullable(),
      created_at: z.iso.datetime(),
    }),
  ),
});

function autoTopUpJson(view: AutoTopUpView): z.input<typeof ZAutoTopUpResponseSchema> {
  return {
    auto_top_up: view.settings
      ? {
          pack_id: view.settings.packId,
          threshold_minutes: view.settings.thresholdMinutes,
          max_per_month: view.settings.maxPerMonth,
        }
      : null,
    stopped: view.stopped ? { at: view.stopped.at.toISOString(), message: view.stopped.message } : null,
    this_month: view.thisMonth.map((t) => ({
      id: t.id,
      status: t.status as "pending",
      message: t.message,
      created_at: t.createdAt.toISOString(),
    })),
  };
}

/** The Idempotency-Key header: required for a purchase (a retry must not buy twice). */
function requiredKey(req: FastifyRequest): string {
  const parsed = ZRequestKeySchema.safeParse(req.headers["idempotency-key"]);
  if (!parsed.success || parsed.data === undefined) {
    throw new RestError(400, {
      error: "validation_error",
      message: `Invalid header: ${IDEMPOTENCY_HEADER} is required, 8 to 64 letters, digits, _ or -`,
      fields: { [IDEMPOTENCY_HEADER]: "required: 8 to 64 letters, digits, _ or -" },
    });
  }
  return parsed.data;
}

export async function registerPackRoutes(app: FastifyInstance, deps: Ports & { auth: Auth }): Promise<void> {
  defineRoute(app, {
    method: "GET",
    url: "/api/packs",
    tags: [TAG],
    summary: "The minute packs on offer (in the currency of the account's subscription)",
    security: sessionSecurity,
    response: {
      200: z.object({ packs: z.array(ZPackSchema) }),
      401: errorResponses[401],
      403: errorResponses[403],
    },
    authorize: (req) => requireCustomer(deps.auth, req),
    handler: async ({ viewer }) => ({
      packs: (await listOfferedPacks(deps, viewer.accountId)).map(packJson),
    }),
  });

  defineRoute(app, {
    method: "GET",
    url: "/api/packs/balance",
    tags: [TAG],
    summary: "The pack balance with expiry dates and the ledger of pack minutes",
    description:
      "Minutes beyond the package's included ones are drawn from packs (oldest-expiring first) before any is " +
      "overage or the hard cap applies. bought = used + expired + remaining.",
    security: sessionSecurity,
    response: { 200: ZLedgerSchema, 401: errorResponses[401], 403: errorResponses[403] },
    authorize: (req) => requireCustomer(deps.auth, req),
    handler: async ({ viewer }) => ledgerJson(await packLedgerView(deps, viewer.accountId)),
  });

  defineRoute(app, {
    method: "POST",
    url: "/api/packs/purchase",
    tags: [TAG],
    summary: "Buy a pack: a hosted Checkout page, or the saved card at once",
    description:
      "The Idempotency-Key header is required: the same key is the same payment (a key already used for " +
      "another pack is a 409 naming Idempotency-Key). A checkout purchase is " +
      "granted when its payment completes (webhook); a saved-card purchase at once, or a 402 saying the card " +
      "was declined or the bank asks for 3-D Secure (nothing granted, nothing retried).",
    security: sessionSecurity,
    body: ZPurchaseRequestSchema,
    response: {
      200: ZPurchaseResponseSchema,
      ...errorResponses,
      402: documented("The card was declined or the bank asks for authentication; nothing was granted"),
    },
    authorize: (req) => requireCustomer(deps.auth, req),
    handler: async ({ req, viewer, body }) =>
      await purchase(req, viewer, body).catch((error: unknown) => {
        // The services name the key as tRPC does (requestKey): here it is the header.
        if (error instanceof AppError && error.field === "requestKey") {
          throw new RestError(httpStatusOf(error.code), {
            error: error.code.toLowerCase(),
            message: error.message.replace("request key", IDEMPOTENCY_HEADER),
            fields: {
              [IDEMPOTENCY_HEADER]:
                "already used for a purchase on other terms: check your packs, then send a new key",
            },
          });
        }
        throw error;
      }),
  });

  async function purchase(
    req: FastifyRequest,
    viewer: { accountId: string; email: string; name: string; emailVerified?: boolean | undefined },
    body: z.output<typeof ZPurchaseRequestSchema>,
  ): Promise<z.input<typeof ZPurchaseResponseSchema>> {
    const accountId = viewer.accountId;
    assertMayBuyPacks(deps, viewer);
    const requestKey = requiredKey(req);
    if (body.method === "checkout") {
      const base = deps.settings.appUrl;
      const session = await buyPackWithCheckout(deps, accountId, {
        packId: body.pack_id,
        requestKey,
        successUrl: `${base}/usage?pack=bought`,
        cancelUrl: `${base}/usage?pack=cancelled`,
      });
      return { checkout_url: session.url, ledger: null };
    }
    const ledger = await buyPackWithSavedCard(deps, accountId, { packId: body.pack_id, requestKey });
    return { checkout_url: null, ledger: ledgerJson(ledger) };
  }

  defineRoute(app, {
    method: "GET",
    url: "/api/packs/auto-top-up",
    tags: [TAG],
    summary: "The auto top-up settings and this month's top-ups",
    security: sessionSecurity,
    response: { 200: ZAutoTopUpResponseSchema, 401: errorResponses[401], 403: errorResponses[403] },
    authorize: (req) => requireCustomer(deps.auth, req),
    handler: async ({ viewer }) => autoTopUpJson(await autoTopUpView(deps, viewer.accountId)),
  });

  defineRoute(app, {
    method: "POST",
    url: "/api/packs/auto-top-up",
    tags: [TAG],
    summary: "Set or turn off auto top-up",
    description:
      "When the pack balance falls below threshold_minutes, pack_id is bought with the saved card, at most " +
      "max_per_month times a calendar month (UTC). A declined or 3-D Secure top-up is shown and emailed and " +
      "stops auto top-up until the settings are saved again. Audited.",
    security: sessionSecurity,
    body: ZAutoTopUpRequestSchema,
    response: { 200: ZAutoTopUpResponseSchema, ...errorResponses },
    authorize: (req) => requireCustomer(deps.auth, req),
    handler: async ({ viewer, body }) => {
      const s = body.auto_top_up;
      const view = await setAutoTopUp(
        deps,
        viewer,
        viewer.accountId,
        s ? { packId: s.pack_id, thresholdMinutes: s.threshold_minutes, maxPerMonth: s.max_per_month } : null,
      );
      return autoTopUpJson(view);
    },
  });
}
