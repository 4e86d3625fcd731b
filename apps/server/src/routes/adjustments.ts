// Refunds and credits over REST: an admin gives money back on a customer's invoice (a refund of its payment,
// a credit note) or credits the customer's balance; the customer reads one invoice with its documents. Thin
// over the same services as the tRPC procedures admin customers.adjust and subscription.invoice. Money is
// integer minor units with its currency; wrong JSON types are refused, never coerced.
import {
  ADJUSTMENT_KINDS,
  type AdjustmentView,
  AppError,
  type Auth,
  adjustAccount,
  MAX_ADJUSTMENT_REASON_LENGTH,
  MAX_BALANCE_CREDIT_CENTS,
  type Ports,
  runIdempotently,
  subscriptions,
  ZRequestKeySchema,
} from "@minutely/api";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { RestError } from "../rest.ts";
import { requireAdmin, requireCustomer } from "../session.ts";
import { defineRoute } from "./define-route.ts";
import { toInvoiceJson, ZInvoiceSchema } from "./invoice-json.ts";
import { errorResponses, sessionSecurity } from "./openapi-schemas.ts";

const TAG = "Refunds and credits";
const IDEMPOTENCY_HEADER = "Idempotency-Key";

const ZAdjustmentRequestSchema = z.strictObject({
  type: z.enum(ADJUSTMENT_KINDS, { error: "must be refund, credit_note or balance_credit" }).meta({
    description:
      "refund: back to the card that paid the invoice; credit_note: a credit note on the paid invoice, its amount " +
      "to the customer's balance; balance_credit: to the customer's balance, on no invoice",
  }),
  invoice_id: z
    .uuid("must be an invoice id (a UUID)")
    .optional()
    .meta({ description: "The invoice (refund and credit_note only), one of this customer's" }),
  amount_cents: z
    .number({ error: "must be a whole number of minor units (cents)" })
    .max(MAX_BALANCE_CREDIT_CENTS, `must be at most ${MAX_BALANCE_CREDIT_CENTS}`)
    .min(1, "must be at least 1")
    .int("must be a whole number of minor units (cents)")
    .nullable()
    .meta({
      description:
        "In integer minor units of the invoice's currency; at most what the invoice collected less what was already " +
        "refunded or credited. null: all that is left (refund and credit_note only)",
      examples: [2500],
    }),
  currency: z
    .enum(["usd", "eur", "gbp"], { error: "must be one of usd, eur, gbp (lowercase)" })
    .optional()
    .meta({ description: "balance_credit only: the account's billing currency", examples: ["usd"] }),
  reason: z
    .string({ error: "must be a string" })
    .trim()
    .min(1, "must say why (the customer sees it)")
    .max(MAX_ADJUSTMENT_REASON_LENGTH, `must be at most ${MAX_ADJUSTMENT_REASON_LENGTH} characters`),
});

const ZAdjustmentSchema = z.object({
  id: z.string(),
  type: z.enum(ADJUSTMENT_KINDS),
  status: z.enum(["pending", "succeeded", "failed"]).meta({
    description: "pending: Stripe's answer is not known yet (retry with the same Idempotency-Key)",
  }),
  amount_cents: z.number().int(),
  currency: z.string(),
  reason: z.string(),
  invoice_id: z.string().nullable(),
  stripe_id: z.string().nullable().meta({ description: "re_..., cn_... or cbtxn_..." }),
  created_at: z.iso.datetime(),
});

const ZAccountParamsSchema = z.strictObject({ accountId: z.uuid("must be a customer id (a UUID)") });
const ZInvoiceParamsSchema = z.strictObject({ id: z.uuid("must be an invoice id (a UUID)") });

const ZInvoiceWithAdjustmentsSchema = ZInvoiceSchema.extend({
  credited_cents: z
    .number()
    .int()
    .meta({ description: "What credit notes gave back other than by a refund" }),
  adjustments: z.array(
    z.object({
      type: z.enum(ADJUSTMENT_KINDS),
      amount_cents: z.number().int(),
      currency: z.string(),
      reason: z.string(),
      created_at: z.iso.datetime(),
    }),
  ),
});

function toAdjustmentJson(a: AdjustmentView): z.input<typeof ZAdjustmentSchema> {
  return {
    id: a.id,
    type: a.kind,
    status: a.status,
    amount_cents: a.amountCents,
    currency: a.currency,
    reason: a.reason,
    invoice_id: a.invoiceId,
    stripe_id: a.stripeObjectId,
    created_at: a.createdAt.toISOString(),
  };
}

function idempotencyKeyOf(req: FastifyRequest): string {
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

function refuse(field: string, message: string): never {
  throw new RestError(400, {
    error: "validation_error",
    message: `Invalid ${field}: ${message}`,
    fields: { [field]: message },
  });
}

export async function registerAdjustmentRoutes(
  app: FastifyInstance,
  deps: Ports & { auth: Auth },
): Promise<void> {
  defineRoute(app, {
    method: "POST",
    url: "/api/admin/customers/:accountId/adjustments",
    tags: [TAG],
    summary: "Refund an invoice (all or part), issue a credit note on it, or credit the customer's balance",
    description:
      "Admins only. Never more than the invoice collected less what was already refunded or credited (400 naming " +
      "amount_cents); another customer's invoice or an unknown one is a 404 naming invoice_id. The " +
      `${IDEMPOTENCY_HEADER} header is required: the same key answers the same adjustment (a double click gives ` +
      "back once). The customer sees it on the invoice and in the billing history; the audit log records it. A " +
      "deleted account's invoices can still be refunded; a credit_note or balance_credit for it is a 409 naming type.",
    security: sessionSecurity,
    params: ZAccountParamsSchema,
    body: ZAdjustmentRequestSchema,
    response: { 200: ZAdjustmentSchema, ...errorResponses },
    authorize: (req) => requireAdmin(deps.auth, req),
    handler: async ({ req, viewer, params, body }) => {
      const key = idempotencyKeyOf(req);
      if (body.type === "balance_credit") {
        if (body.invoice_id !== undefined) refuse("invoice_id", "a balance credit is on no invoice");
        if (body.amount_cents === null) refuse("amount_cents", "say how much");
        if (body.currency === undefined) refuse("currency", "required for a balance credit");
      } else if (body.invoice_id === undefined) {
        refuse("invoice_id", "required for a refund or a credit note");
      }
      const input =
        body.type === "balance_credit"
          ? {
              kind: body.type,
              amountCents: body.amount_cents ?? 0,
              currency: body.currency ?? "",
              reason: body.reason,
            }
          : {
              kind: body.type,
              invoiceId: body.invoice_id ?? "",
              amountCents: body.amount_cents,
              reason: body.reason,
            };
      const answer = await runIdempotently(
        { db: deps.db, settings: deps.settings, viewer },
        "admin.customers.adjust",
        key,
        { accountId: params.accountId, ...body },
        async () => ({ ok: true, data: await adjustAccount(deps, viewer, params.accountId, input, key) }),
        { keyName: IDEMPOTENCY_HEADER },
      ).catch((error: unknown) => {
        // The header's reuse with another body, found by the request store or (once that forgot it) the service.
        if (
          error instanceof AppError &&
          (error.field === IDEMPOTENCY_HEADER || (error.code === "CONFLICT" && error.field === "requestKey"))
        ) {
          throw new RestError(409, {
            error: "idempotency_key_conflict",
            message: error.message.replaceAll("requestKey", IDEMPOTENCY_HEADER),
            fields: { [IDEMPOTENCY_HEADER]: error.message.replaceAll("requestKey", IDEMPOTENCY_HEADER) },
          });
        }
        // The service names the kind of adjustment as tRPC does (`kind`); the REST body calls it `type`.
        if (error instanceof AppError && error.field === "kind") {
          throw new AppError(error.code, error.message, "type");
        }
        throw error;
      });
      const made = ("ran" in answer ? answer.ran.data : answer.replayed) as AdjustmentView;
      // A replayed answer went through JSON: its date is a string again.
      return toAdjustmentJson({ ...made, createdAt: new Date(made.createdAt) });
    },
  });

  defineRoute(app, {
    method: "GET",
    url: "/api/billing/invoices/:id",
    tags: [TAG],
    summary:
      "One of the account's invoices with its hosted page, PDF and what was refunded or credited on it",
    description:
      "Only the account's own invoices: another account's id is answered like an unknown one (404 naming id).",
    security: sessionSecurity,
    params: ZInvoiceParamsSchema,
    response: {
      200: ZInvoiceWithAdjustmentsSchema,
      400: errorResponses[400],
      401: errorResponses[401],
      403: errorResponses[403],
      404: errorResponses[404],
    },
    authorize: (req) => requireCustomer(deps.auth, req),
    handler: async ({ viewer, params }) => {
      const invoice = await subscriptions
        .invoiceOf(deps, viewer.accountId, params.id)
        .catch((error: unknown) => {
          if (error instanceof AppError && error.code === "NOT_FOUND") {
            throw new RestError(404, {
              error: "not_found",
              message: error.message,
              fields: { id: error.message },
            });
          }
          throw error;
        });
      return {
        ...toInvoiceJson(invoice),
        credited_cents: invoice.creditedCents,
        adjustments: invoice.adjustments.map((a) => ({
          type: a.kind,
          amount_cents: a.amountCents,
          currency: a.currency,
          reason: a.reason,
          created_at: a.createdAt.toISOString(),
        })),
      };
    },
  });
}
