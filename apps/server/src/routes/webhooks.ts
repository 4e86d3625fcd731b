import { type Ports, StripeWebhookInbox } from "@minutely/api";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { jsonNumberProblem, jsonTextProblem, parse, RestError, utf8Text } from "../rest.ts";
import { defineRoute } from "./define-route.ts";
import { errorResponses } from "./openapi-schemas.ts";

/** Unix seconds of 9999-12-31: anything later is no date PostgreSQL stores. */
const MAX_UNIX_SECONDS = 253_402_300_799;

/**
 * What every Stripe event has. A body that is not one (even a correctly signed one) is refused here with a
 * 400 naming the field, instead of failing in the database and being retried by Stripe forever.
 */
const ZStripeEventEnvelopeSchema = z.object(
  {
    // stripe_event.id is varchar(255).
    id: z
      .string({ error: "is required" })
      .min(1, "is required")
      .max(255, "is too long (at most 255 characters)")
      // Stripe's ids (evt_...) have no spaces; an id of spaces would be stored as an event no one can name.
      .regex(/^\S+$/, "must not contain spaces"),
    // stripe_event.type is varchar(120) (Stripe's longest type is under 60 characters).
    type: z
      .string({ error: "is required" })
      .min(1, "is required")
      .max(120, "is too long (at most 120 characters)")
      .regex(/^\S+$/, "must not contain spaces"),
    created: z
      .number({ error: "must be a Unix timestamp" })
      .int("must be a Unix timestamp")
      .min(0, "must be a Unix timestamp")
      .max(MAX_UNIX_SECONDS, "must be a Unix timestamp"),
    data: z.object(
      { object: z.record(z.string(), z.unknown()) },
      { error: "must contain the event's object" },
    ),
  },
  { error: "must be a Stripe event (a JSON object)" },
);

/**
 * Refuses a body that is not a Stripe event, so not even a signed one reaches the database. Run once the
 * signature holds (a forged body costs a hash, never this parse).
 */
function checkEvent(rawBody: Buffer): void {
  // Not leniently: the SDK checks the signature over the body decoded with U+FFFD for each invalid byte, so
  // any invalid byte would pass for a signed U+FFFD (bytes Stripe never signed, recorded as if it had).
  const text = utf8Text(rawBody);
  if (text === null)
    throw new RestError(400, {
      error: "invalid_body",
      message: "The event is not valid UTF-8 text; Stripe sends events as UTF-8 JSON.",
    });
  const problem = jsonTextProblem(text);
  if (problem) throw new RestError(400, { error: "invalid_body", message: `The event ${problem}.` });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new RestError(400, {
      error: "invalid_json",
      message: "The body is not JSON; Stripe sends events as JSON.",
    });
  }
  const numberProblem = jsonNumberProblem(text);
  if (numberProblem)
    throw new RestError(400, { error: "invalid_body", message: `The event ${numberProblem}.` });
  parse(ZStripeEventEnvelopeSchema, json, "event");
}

/**
 * POST /api/webhooks/stripe. Its own scope with a raw-body parser, because the signature covers the exact
 * bytes Stripe sent; there is no unsigned path. The event is recorded and queued, then acknowledged.
 */
export async function registerWebhookRoutes(app: FastifyInstance, deps: Ports & { webhookSecret: string }) {
  // Deliveries that arrive together are recorded together (group commit), each acknowledged once committed.
  const inbox = new StripeWebhookInbox(deps);
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: 1024 * 1024 }, (_req, body, done) => {
      done(null, body);
    });
    defineRoute(scope, {
      method: "POST",
      url: "/api/webhooks/stripe",
      tags: ["Webhooks"],
      summary: "Stripe webhook endpoint (signed with STRIPE_WEBHOOK_SECRET)",
      description:
        "400 when the Stripe-Signature header is missing or wrong, its t is not plain digits, or its timestamp is more than 300 s " +
        "from the request's arrival (past or future), or when the body is not a Stripe event PostgreSQL can " +
        "store (not UTF-8, not JSON, a NUL or unpaired surrogate, an id or type that is blank or holds spaces, a type over 120 characters, a customer id over 112, " +
        "a number outside numeric's range); nothing is recorded then.",
      response: {
        200: z.object({ received: z.literal(true), duplicate: z.boolean() }),
        400: errorResponses[400],
      },
      handler: async ({ req }) => {
        // The wall-clock arrival time: Stripe signs with real time (see receiveStripeWebhook).
        const receivedAt = new Date();
        const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.from("");
        const signature = req.headers["stripe-signature"];
        const result = await inbox.receive({
          rawBody,
          signature: typeof signature === "string" ? signature : undefined,
          secret: deps.webhookSecret,
          receivedAt,
          checkBody: checkEvent,
        });
        return { received: true as const, duplicate: result.duplicate };
      },
    });
  });
}
