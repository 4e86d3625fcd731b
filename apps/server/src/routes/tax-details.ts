// The customer's billing address and tax ID over REST, session-authenticated, thin over the same services as
// the tRPC procedures subscription.taxDetails / subscription.updateTaxDetails. Stripe holds them (the system
// of record) and Stripe Tax computes the tax on every invoice from them.
import {
  AppError,
  type Auth,
  type Ports,
  runIdempotently,
  type TaxDetailsView,
  taxDetailsOf,
  updateTaxDetails,
  ZRequestKeySchema,
} from "@minutely/api";
import { TAX_ID_TYPES } from "@minutely/domain";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { RestError } from "../rest.ts";
import { requireCustomer } from "../session.ts";
import { defineRoute } from "./define-route.ts";
import { errorResponses, sessionSecurity } from "./openapi-schemas.ts";

const TAG = "Billing address and tax";
const IDEMPOTENCY_HEADER = "Idempotency-Key";

const line = (max: number, description: string) =>
  z.string().max(max, `must be at most ${max} characters`).nullable().meta({ description });

const ZAddressSchema = z.strictObject({
  country: z
    .string()
    .max(2, "must be the two-letter country code (ISO 3166-1 alpha-2)")
    .meta({ description: "ISO 3166-1 alpha-2 country code", examples: ["DE", "US", "GB"] }),
  line1: line(200, "Street address"),
  line2: line(200, "Second address line"),
  city: line(100, "City"),
  state: line(100, "State or province: required (two letters) in the US and Canada"),
  postal_code: line(20, "Postal code: required in the US (ZIP) and Canada"),
});

const ZTaxIdSchema = z.strictObject({
  type: z.enum(TAX_ID_TYPES, { error: `must be one of ${TAX_ID_TYPES.join(", ")}` }),
  value: z
    .string()
    .max(40, "must be at most 40 characters")
    .meta({ examples: ["DE123456789", "GB123456789", "12-3456789"] }),
});

const ZTaxDetailsRequestSchema = z.strictObject({
  address: ZAddressSchema,
  tax_id: ZTaxIdSchema.nullable().meta({ description: "The tax ID printed on invoices; null removes it" }),
});

const ZTaxDetailsResponseSchema = z.object({
  address: ZAddressSchema.nullable().meta({
    description: "null until entered (here, in the app or in Checkout)",
  }),
  tax_id: z
    .object({
      type: z.enum(TAX_ID_TYPES),
      value: z.string(),
      verification: z
        .string()
        .meta({ description: "Stripe's: verified, unverified, pending or unavailable" }),
    })
    .nullable(),
  reverse_charge: z.boolean().meta({
    description: "Invoices carry no VAT: a verified EU VAT ID of an EU country other than Ireland's",
  }),
  tax_location_known: z
    .boolean()
    .meta({ description: "Stripe Tax can compute tax (a country; in the US and Canada also the state)" }),
});

function toJson(view: TaxDetailsView): z.input<typeof ZTaxDetailsResponseSchema> {
  const a = view.address;
  return {
    address: a
      ? {
          country: a.country,
          line1: a.line1,
          line2: a.line2,
          city: a.city,
          state: a.state,
          postal_code: a.postalCode,
        }
      : null,
    tax_id: view.taxId,
    reverse_charge: view.reverseCharge,
    tax_location_known: view.taxLocationKnown,
  };
}

/** The Idempotency-Key header: required, it is the base of the Stripe idempotency keys of the change. */
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

export async function registerTaxDetailsRoutes(
  app: FastifyInstance,
  deps: Ports & { auth: Auth },
): Promise<void> {
  defineRoute(app, {
    method: "GET",
    url: "/api/billing/tax-details",
    tags: [TAG],
    summary: "The billing address and tax ID on the account's invoices",
    security: sessionSecurity,
    response: { 200: ZTaxDetailsResponseSchema, 401: errorResponses[401], 403: errorResponses[403] },
    authorize: (req) => requireCustomer(deps.auth, req),
    handler: async ({ viewer }) => toJson(await taxDetailsOf(deps, viewer.accountId)),
  });

  defineRoute(app, {
    method: "POST",
    url: "/api/billing/tax-details",
    tags: [TAG],
    summary: "Set the billing address and tax ID",
    description:
      "Stored on the Stripe customer; Stripe Tax (automatic tax) computes the tax of every invoice, Checkout and " +
      "upgrade from it. Prices are exclusive of tax. The country is required; in the US and Canada the state " +
      "and postal code too. Tax IDs are checked by format (eu_vat per country prefix, gb_vat, us_ein, ca_bn, " +
      "au_abn, ch_vat): a bad one is a 400 naming `tax_id.value`. A verified EU VAT ID of an EU country other " +
      "than the seller's (Ireland) makes invoices reverse charged. The Idempotency-Key header is required.",
    security: sessionSecurity,
    body: ZTaxDetailsRequestSchema,
    response: { 200: ZTaxDetailsResponseSchema, ...errorResponses },
    authorize: (req) => requireCustomer(deps.auth, req),
    handler: async ({ req, viewer, body }) => {
      const requestKey = requiredKey(req);
      const input = {
        address: {
          country: body.address.country,
          line1: body.address.line1,
          line2: body.address.line2,
          city: body.address.city,
          state: body.address.state,
          postalCode: body.address.postal_code,
        },
        taxId: body.tax_id,
      };
      // A retry with the same key replays the first answer; the same key with another body is a 409.
      const answer = await runIdempotently(
        { db: deps.db, settings: deps.settings, viewer },
        "subscription.updateTaxDetails",
        requestKey,
        input,
        async () => ({
          ok: true,
          data: await updateTaxDetails(
            deps,
            { accountId: viewer.accountId, email: viewer.email, name: viewer.name },
            { ...input, requestKey },
          ),
        }),
        { keyName: IDEMPOTENCY_HEADER },
      ).catch((error: unknown) => {
        if (error instanceof AppError && error.field === IDEMPOTENCY_HEADER) {
          throw new RestError(409, {
            error: "idempotency_key_conflict",
            message: error.message,
            fields: { [IDEMPOTENCY_HEADER]: error.message },
          });
        }
        throw error;
      });
      const view = ("ran" in answer ? answer.ran.data : answer.replayed) as TaxDetailsView;
      return toJson(view);
    },
  });
}
